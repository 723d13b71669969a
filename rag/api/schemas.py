"""Request and response bodies of the REST API (`Answer`, `Hit`, `Paper` and the reports are reused as they are)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.types import IngestReport

YEARS_PATTERN = r"^\d{4}(-\d{4})?$"
_YEARS = re.compile(YEARS_PATTERN)


def parse_years(value: str | None) -> tuple[int, int] | None:
    """'2020-2023' or '2021' -> (from, to); raises ValueError for anything else or a backwards range."""
    if not value:
        return None
    if not _YEARS.match(value):
        raise ValueError(f"year must be YEAR or FROM-TO, e.g. 2020-2023 (got {value!r})")
    first, _, last = value.partition("-")
    years = (int(first), int(last or first))
    if years[0] > years[1]:
        raise ValueError(f"year range {value!r} runs backwards")
    return years


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    """A question, with optional history, filters and backend; `stream` switches to server-sent events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "Which papers propose post-training quantization?", "k": 5}]},
    )

    question: str = Field(min_length=1, description="The question, in plain English.")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first, for follow-ups.")
    k: int | None = Field(
        default=None, ge=1, le=50, description="Papers offered to the answerer (default RAG_ANSWER_K)."
    )
    year: str | None = Field(default=None, pattern=YEARS_PATTERN, description="YEAR or FROM-TO, e.g. 2020-2023.")
    sources: list[str] | None = Field(default=None, description="Only papers from these files (paths or names).")
    backend: Literal["openai", "local", "extractive"] | None = Field(
        default=None, description="Answering backend (default: the server's RAG_LLM, or its llama-index LLM)."
    )
    model: str | None = Field(
        default=None,
        max_length=200,
        description="Chat model of the openai backend: RAG_OPENAI_MODEL (default) or one of RAG_ALLOWED_MODELS; "
        "any other is refused (400).",
    )
    stream: bool = Field(
        default=False,
        description="Answer as server-sent events: `delta` events with text, then one `answer` event with the "
        "checked Answer (or one `error` event).",
    )


class Health(BaseModel):
    """The server is up."""

    status: Literal["ok"] = "ok"
    version: str
    papers: int = Field(description="Papers in the index.")


class StoredFile(BaseModel):
    """One uploaded file: the name the client gave, where the server keeps it (named by content hash) and how many
    indexed papers were read from it."""

    filename: str
    stored_as: str | None = Field(
        description="Path relative to the data dir: uploads/<sha256>.<type> (e.g. .jsonl.gz); null when no paper "
        "could be indexed from the file, which is then not kept (see report.errors)."
    )
    bytes: int
    papers: int = Field(description="Indexed papers read from this file (added, updated, unchanged or merged).")


class IngestResponse(BaseModel):
    """What POST /ingest stored and indexed."""

    files: list[StoredFile]
    report: IngestReport


class ErrorBody(BaseModel):
    """Every error response."""

    error: str = Field(description="What went wrong, in one line.")
