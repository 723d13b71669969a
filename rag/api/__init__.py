"""The REST API door (`rag serve`): FastAPI over `rag.Assistant`; nothing below the façade imports it."""

from rag.api.app import create_app
from rag.api.server import serve, server_app

__all__ = ["create_app", "serve", "server_app"]
