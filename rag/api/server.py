"""`rag serve`: the REST API under uvicorn, with the chat UI mounted at /ui on request."""

from __future__ import annotations

from fastapi import FastAPI

from rag.api.app import UI_PATH, create_app
from rag.assistant import Assistant
from rag.errors import ConfigError
from rag.runtime import configure_threads


def server_app(assistant: Assistant, *, ui: bool = False, host: str = "127.0.0.1") -> FastAPI:
    """The API app, and with `ui` the gradio chat app mounted at /ui, under the same rules as `rag chat`: its
    login (RAG_UI_AUTH, throttled) and its upload policy (RAG_UI_UPLOADS: off on an open address without a
    login). With RAG_API_TOKEN set the UI must have a login too: a browser cannot send the bearer token."""
    app = create_app(assistant, host=host)  # its host guard covers the UI mounted below too
    if not ui:
        return app
    s = assistant.settings
    if s.api_token and not s.ui_auth:
        raise ConfigError(
            "RAG_API_TOKEN protects the API but the UI at /ui would be open: set RAG_UI_AUTH=user:password too, "
            "or serve without --ui"
        )
    import gradio as gr

    from rag.ui.app import prepare

    served = prepare(
        assistant,
        host=host,
        auth=s.ui_auth.get_secret_value() if s.ui_auth else None,
        max_upload_mb=s.ui_max_upload_mb,
        concurrency=s.ui_concurrency,
        uploads=s.ui_uploads,
        login_max_failures=s.ui_login_max_failures,
        login_lockout_s=s.ui_login_lockout_s,
    )
    return gr.mount_gradio_app(app, served.demo, path=UI_PATH, **served.options)


def run_app(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `app` with uvicorn until interrupted (blocking)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info")


def serve(assistant: Assistant, *, host: str = "127.0.0.1", port: int = 8000, ui: bool = False) -> None:
    """Serve the API (and with `ui` the chat UI) over `assistant` until interrupted (blocking); queries (and uploads
    ingesting here) run on RAG_QUERY_THREADS CPU threads (`rag.runtime`)."""
    configure_threads("serve", assistant.settings)
    run_app(server_app(assistant, ui=ui, host=host), host=host, port=port)
