"""All settings in one place: environment variables (prefix ``RAG_``) and ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("rag-abstracts", appauthor=False))


class Settings(BaseSettings):
    """Settings for the assistant; every field can be set as ``RAG_<NAME>`` or in ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the index lives (Chroma, BM25, the paper manifest).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset = embedded Chroma.",
    )
    collection: str = Field(default="abstracts", description="Chroma collection name.")

    # --- embedding -----------------------------------------------------------------------
    embed: Literal["local", "openai"] = Field(
        default="local",
        description="local = bundled all-MiniLM-L6-v2 (offline); openai = OpenAI embeddings API.",
    )
    openai_embed_model: str = Field(
        default="text-embedding-3-small", description="Embedding model used when embed=openai."
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Texts embedded per batch.")

    # --- chunking ------------------------------------------------------------------------
    chunk_size: int = Field(default=512, ge=32, description="Max tokens (tiktoken) per chunk.")
    chunk_overlap: int = Field(default=32, ge=0, description="Tokens shared by adjacent chunks.")
    embed_title: bool = Field(default=True, description="Prepend the title to each chunk's embedded text.")

    # --- generation ----------------------------------------------------------------------
    llm: Literal["auto", "openai", "local", "extractive"] = Field(
        default="auto",
        description="auto = openai when a key or base URL is set, else the best offline backend.",
    )
    openai_model: str = Field(default="gpt-4.1-mini", description="Chat model for llm=openai.")
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "RAG_OPENAI_API_KEY"),
        description="OpenAI API key (read from OPENAI_API_KEY); never logged.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "RAG_OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp server).",
    )
    request_timeout: float = Field(default=60.0, gt=0, description="Seconds before an LLM call gives up.")

    # --- retrieval -----------------------------------------------------------------------
    top_k: int = Field(default=10, ge=1, description="Papers returned by search.")

    @property
    def chroma_dir(self) -> Path:
        """The embedded Chroma's folder."""
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        """The SQLite manifest of papers, chunks and source files."""
        return self.data_dir / "manifest.sqlite3"

    @property
    def bm25_dir(self) -> Path:
        """The persisted BM25 index."""
        return self.data_dir / "bm25"
