"""All settings in one place: environment variables (prefix ``RAG_``) and ``.env``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from rag.errors import ConfigError


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

    def __init__(self, **values: Any) -> None:
        """Settings from `values`, the environment and `.env`. A bad value is one `ConfigError` line naming its
        variable (`RAG_TOP_K`), never echoing the value (a key may sit in any setting), not a traceback."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(map(str, first["loc"]))
            variable = name if name.upper().startswith(("RAG_", "OPENAI_")) else f"{name} (RAG_{name.upper()})"
            raise ConfigError(f"setting {variable}: {first['msg']} (docs/configuration.md)") from None
        except SettingsError as exc:  # a value that should be JSON and is not ("RAG_LLM_KWARGS={bad")
            field = re.search(r'field "(\w+)"', str(exc))
            variable = f"RAG_{field.group(1).upper()}" if field else "a setting"
            raise ConfigError(f"{variable}: cannot be read ({str(exc).split(':')[0]})") from None

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the index lives (Chroma, BM25, the paper manifest).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset = embedded Chroma.",
    )
    chroma_token: SecretStr | None = Field(
        default=None,
        description="Token sent to the Chroma server as `Authorization: Bearer <token>` (Chroma's token auth "
        "client), for a server or reverse proxy that requires one; never logged.",
    )
    collection: str = Field(
        default="abstracts",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,44}[A-Za-z0-9]$",
        description="Chroma collection name: 3 to 46 letters, digits, dots, dashes or underscores, starting and "
        "ending with a letter or digit (a re-index adds 17 characters to it; a Chroma server may take 63 at most).",
    )
    write_lock_timeout: float = Field(
        default=60.0, ge=0, description="Seconds a second writer waits for the one updating the index before giving up."
    )
    min_free_mb: int = Field(
        default=100,
        ge=0,
        description="Free space (MB) the disk holding the data dir must have before each ingest batch; below it the "
        "ingest stops with a one-line error, nothing indexed lost.",
    )
    store_write_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds one vector-store write of an ingest batch may take; a write still running then stops "
        "the ingest with a one-line error (and releases the writer lock), leaving the batch for the next run to "
        "repair. Also the longest any call waits while another process is in an embedded store's files "
        "(data_dir/chroma.lock).",
    )

    # --- input caps (decompression and parse bombs) ----------------------------------------
    max_records_per_file: int = Field(
        default=5_000_000,
        ge=1,
        description="Lines (JSONL, CSV, text) or items (a JSON list) read per file, blank and unreadable ones "
        "included; the rest of the file is cut with an error. A .json document may hold twice as many objects "
        "and lists in all.",
    )
    max_skipped_in_a_row: int = Field(
        default=100_000,
        ge=1,
        description="Lines, rows or items in a row that hold no paper (blank, unreadable, no abstract) before the "
        "rest of a file is cut with an error.",
    )
    max_inflated_mb: int = Field(
        default=8192, ge=1, description="Most MB a compressed (.gz) file may inflate to; a larger one is refused."
    )
    max_inflation_ratio: float = Field(
        default=100.0,
        gt=1,
        description="Past its first MB, a .gz file inflating to more than this many times its size is refused as "
        "a decompression bomb.",
    )

    # --- embedding -----------------------------------------------------------------------
    embed: Literal["local", "openai", "hash"] = Field(
        default="local",
        description="local = bundled all-MiniLM-L6-v2 (offline); openai = OpenAI(-compatible) embeddings API; "
        "hash = a hashed bag of words with no semantic quality, for tests and cost benchmarks.",
    )
    openai_embed_model: str = Field(
        default="text-embedding-3-small", description="Embedding model used when embed=openai."
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Texts embedded per batch.")
    embed_device: Literal["cpu", "cuda", "mps", "auto"] = Field(
        default="cpu",
        description="Where the bundled model runs (embed=local): cpu, cuda, mps, or auto (cuda, else mps, else "
        "cpu). A device torch cannot see is an error.",
    )
    embed_concurrency: int = Field(
        default=4,
        ge=1,
        description="Embedding requests in flight at once (embed=openai): batches go out from a small thread pool, "
        "vectors come back in input order.",
    )

    # --- CPU threads (rag/runtime.py; eval/results/threads.md) -----------------------------
    query_threads: int = Field(
        default=1,
        ge=0,
        description="CPU threads torch uses in a process that answers queries (rag serve, chat, mcp, search, ask; "
        "an upload ingesting in a server too): 1 keeps a query from waiting on pool threads other work holds, and "
        "lets concurrent requests use the cores side by side; 0 = one per core. A set OMP_NUM_THREADS wins.",
    )
    ingest_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads torch uses for `rag ingest` and `rag eval` (batch work): 0 = one per core. Idle "
        "threads sleep (OMP_WAIT_POLICY=PASSIVE) instead of spinning on cores a server beside it needs. A set "
        "OMP_NUM_THREADS wins.",
    )

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
    allowed_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Other chat models a UI user or a REST/Python caller may pick (comma-separated), besides "
        "openai_model; any other model name is refused in one line.",
    )
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
    request_timeout: float = Field(
        default=60.0, gt=0, description="Seconds one LLM request may wait for the server (capped by answer_deadline)."
    )
    llm_max_retries: int = Field(
        default=2, ge=0, description="Retries on rate limits (429) and server errors, only those that fit the deadline."
    )
    answer_deadline: float = Field(
        default=30.0,
        gt=0,
        description="Seconds an LLM call of an answer may take in all, retries included; after it the answer falls "
        "back to the extractive one with a notice.",
    )
    llm_context_window: int | None = Field(
        default=None, description="Model context in tokens (default: 2048 local, 4096 for a base URL, 128k OpenAI)."
    )
    max_answer_tokens: int = Field(default=300, ge=16, description="Longest answer the LLM may write.")
    max_question_chars: int = Field(
        default=2000,
        ge=10,
        description="Longest question or search query accepted (every door alike; also each earlier question in a "
        "chat history and a condensed follow-up), in characters.",
    )
    answer_k: int = Field(default=5, ge=1, description="Papers retrieved and offered to the answerer.")
    abstain_threshold: float = Field(
        default=0.2,
        description="Abstain when the best passage's cosine similarity to the question is below this "
        "(calibrated on the dev split by eval/calibrate.py).",
    )
    partial_coverage: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Answer 'partial' when the cited abstracts hold less than this IDF-weighted share of the "
        "question's words (calibrated on the dev split by eval/calibrate.py).",
    )
    abstain_coverage: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Abstain when the cited abstracts hold less than this IDF-weighted share of the question's words.",
    )
    word_match: float = Field(
        default=0.75,
        ge=0,
        description="Sufficiency coverage: a source word whose word-embedding cosine to a question word is at least "
        "this covers it ('width' for 'wider'); above 1 only the same stem does (calibrated by eval/calibrate.py).",
    )
    measure_window: int = Field(
        default=8,
        ge=0,
        description="Sufficiency: a number question's answer needs a quantity within this many words of the word "
        "naming what is measured (calibrated by eval/calibrate.py).",
    )
    anchor_margin: float = Field(
        default=1.1,
        gt=0,
        description="Extractive answers: a one-paper question is answered from the top retrieved paper alone when its "
        "retrieval score is at least this many times the runner-up's (calibrated by eval/calibrate.py).",
    )
    verdict: Literal["model", "rules"] = Field(
        default="rules",
        description="How the sufficiency verdict is decided: 'rules', the checks in order (names, numbers, quantity, "
        "partial_coverage, abstain_coverage); 'model', one logistic model over every signal (rag/data/verdict.json, "
        "fitted by eval/calibrate_verdict.py on the dev splits). The model is not better on the held-out splits yet "
        "(eval/results/calibration_verdict.md), so the rules stay the default.",
    )
    fact_weight: float = Field(
        default=0.1,
        ge=0,
        description="Extractive answers: score bonus for a sentence holding the asked kind of fact (a quantity of "
        "what a number question measures, a name for a which-question).",
    )
    max_history_turns: int = Field(
        default=20,
        ge=0,
        description="Most earlier turns a chat history may hold (UI, API, Python); the UI sends its latest ones.",
    )
    max_turn_chars: int = Field(
        default=8000,
        ge=10,
        description="Longest earlier answer a chat history may hold, in characters (earlier questions: "
        "max_question_chars).",
    )

    # --- evaluation --------------------------------------------------------------------------
    judge_base_url: str | None = Field(default=None, description="OpenAI-compatible server of the LLM judge.")
    judge_model: str | None = Field(default=None, description="Judge model; setting it turns the judge on.")
    judge_api_key: SecretStr | None = Field(default=None, description="API key for the judge (never logged).")
    price_per_million: dict[str, tuple[float, float]] = Field(
        default={
            "gpt-4.1-mini": (0.40, 1.60),
            "gpt-4.1-nano": (0.10, 0.40),
            "gpt-4o-mini": (0.15, 0.60),
            "gpt-4.1": (2.00, 8.00),
            "gpt-4o": (2.50, 10.00),
        },
        description="USD per million (prompt, completion) tokens, for cost estimates.",
    )

    # --- web UI ----------------------------------------------------------------------------
    ui_auth: SecretStr | None = Field(default=None, description="Optional login for `rag chat`, as user:password.")
    ui_max_upload_mb: int = Field(default=50, ge=1, description="Largest file the Library tab accepts.")
    ui_concurrency: int = Field(default=4, ge=1, description="Chat requests served at once.")
    ui_uploads: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Library uploads (the only way the UI changes the index): auto = only with RAG_UI_AUTH "
        "or when bound to a loopback address without --share; on; off (read-only).",
    )
    ui_login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords for a user name before its logins are locked out."
    )
    ui_login_lockout_s: float = Field(
        default=30.0, gt=0, description="First lock-out in seconds; each further one doubles (at most 15 min)."
    )

    # --- REST API (`rag serve`) and llama-index LLMs -----------------------------------------
    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every REST endpoint requires when set (and the only way to enable POST /ingest); "
        "never logged.",
    )
    api_max_upload_mb: int = Field(default=50, ge=1, description="Largest POST /ingest request body, in MB.")
    llm_class: str | None = Field(
        default=None,
        description="A llama-index LLM class to answer with, as llama_index.llms.<provider>.<Class> "
        "(e.g. llama_index.llms.ollama.Ollama); its package must be installed. Overrides `llm`.",
    )
    llm_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description='Keyword arguments for llm_class, as JSON (e.g. {"model": "llama3.2"}); keep keys in the '
        "provider's own environment variables.",
    )
    api_max_body_kb: int = Field(
        default=1024, ge=1, description="Largest POST /ask request body, in KB (a bigger one gets 413 unread)."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the REST API and the web UI answer to besides loopback names and the --host they "
        "bind to, comma-separated (e.g. papers.example.org,192.168.1.5); other Host headers get 400 (DNS "
        "rebinding).",
    )

    # --- retrieval (defaults tuned on SciFact train; see README) ---------------------------
    top_k: int = Field(default=10, ge=1, description="Papers returned by search.")
    search_mode: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="Retrieval used for answers (and the default of search)."
    )
    mmr: Literal["auto", "always", "never"] = Field(
        default="auto", description="Diversify answer retrieval with MMR: auto = for list-style questions."
    )
    fusion: Literal["convex", "rrf"] = Field(
        default="convex",
        description="Hybrid fusion: convex = w*cosine + (1-w)*bm25/max; rrf = weighted reciprocal rank fusion.",
    )
    dense_weight: float = Field(default=0.7, ge=0, le=1, description="Weight w of the dense side in fusion.")
    fusion_depth: int = Field(default=100, ge=1, description="Candidates taken from each retriever.")
    rrf_k: int = Field(default=60, ge=1, description="The k of reciprocal rank fusion (fusion=rrf).")
    mmr_lambda: float = Field(default=0.7, ge=0, le=1, description="Relevance vs diversity for MMR (mmr=True).")
    bm25_k1: float = Field(default=0.9, gt=0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(default=0.4, ge=0, le=1, description="BM25 length normalisation.")
    bm25_title_weight: int = Field(default=2, ge=0, description="How many times the title counts in BM25 text.")

    @field_validator("collection")
    @classmethod
    def _chroma_name(cls, value: str) -> str:
        """What Chroma refuses besides the pattern: two dots in a row, an IPv4 address."""
        if ".." in value or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value):
            raise ValueError("Chroma refuses two dots in a row and IPv4 addresses as collection names")
        return value

    @field_validator("allowed_hosts", "allowed_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """RAG_ALLOWED_HOSTS and RAG_ALLOWED_MODELS as comma-separated names (a list passes as it is)."""
        return [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else value

    def updated(self, **overrides: Any) -> Settings:
        """These settings with some replaced, each value checked as the environment's would be: an unknown name or a
        bad value is one `ConfigError` line (`Assistant(data_dir="...", top_k=5)`)."""
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ConfigError(f"unknown setting {', '.join(unknown)} (docs/configuration.md lists them)")
        return type(self).model_validate({**dict(self), **overrides})  # a bad value: `__init__`'s one line

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
