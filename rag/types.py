"""Small frozen data types that flow through the pipeline: Paper, Chunk, Hit, reports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_YEAR = re.compile(r"(19|20)\d\d")


class Paper(BaseModel):
    """One paper: an abstract with whatever metadata its source file carried."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id: the arXiv id when known, else a hash of title+abstract.")
    title: str
    abstract: str
    authors: tuple[str, ...] = Field(default=(), description="Author names, when the source lists them.")
    author_count: int | None = Field(default=None, description="Number of authors, when known.")
    date: str | None = Field(default=None, description="ISO date (YYYY-MM-DD, YYYY-MM or YYYY).")
    source: str = Field(default="", description="The file the paper was first read from.")
    line: int = Field(default=0, description="1-based line in `source` where the paper starts.")
    url: str | None = None
    title_derived: bool = Field(
        default=False,
        description="True when the source had no title and it was made from the abstract.",
    )
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(default=(), description="Every `file:line` the paper was found at.")

    @property
    def year(self) -> int | None:
        """The publication year, when the date is known."""
        m = _YEAR.match(self.date or "")
        return int(m.group(0)) if m else None


class Chunk(BaseModel):
    """A piece of a paper's abstract, the unit that is embedded and indexed."""

    model_config = ConfigDict(frozen=True)

    id: str
    paper_id: str
    text: str = Field(description="The passage itself (a slice of the abstract).")
    embed_text: str = Field(
        default="", description="What gets embedded: title + passage (not stored; rebuilt by the chunker)."
    )
    position: int = 0


class Hit(BaseModel):
    """One retrieved paper with its best passage."""

    model_config = ConfigDict(frozen=True)

    paper: Paper
    score: float
    passage: str = ""
    chunk_id: str = ""
    scores: dict[str, float] = Field(default_factory=dict, description="Per-retriever scores.")


class FileError(BaseModel):
    """A problem with one input file (or one line of it); the rest still ingests."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int | None = None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class IngestReport(BaseModel):
    """What one `Assistant.ingest` call did."""

    files: int = 0
    files_skipped_unchanged: int = 0
    papers_added: int = 0
    papers_updated: int = 0
    papers_unchanged: int = 0
    papers_removed: int = 0
    duplicates_merged: int = 0
    conflicts: list[str] = Field(
        default_factory=list, description="Records whose id was known with other text; the newer text was kept."
    )
    repaired: int = Field(default=0, description="Chunk vectors re-written to repair an interrupted ingest.")
    chunks_added: int = 0
    errors: list[FileError] = Field(default_factory=list)
    skipped_unsupported: dict[str, int] = Field(
        default_factory=dict, description="Files of unsupported types a directory walk passed over, by type."
    )
    seconds: float = 0.0
    embed_seconds: float = 0.0


class IndexStats(BaseModel):
    """A summary of what the index holds."""

    papers: int
    chunks: int
    vectors: int = Field(default=0, description="Chunk vectors in the vector store (equals `chunks` when healthy).")
    bm25_entries: int = Field(default=0, description="Chunks in the BM25 index (equals `chunks` when healthy).")
    sources: list[str]
    embedding_model: str | None
    index_bytes: int
    data_dir: str
    years: dict[int, int] = Field(default_factory=dict, description="Papers per year, where known.")


@dataclass(frozen=True)
class QueryOptions:
    """How one question is answered, the same through every door (`Assistant.ask` and `stream`, REST `POST /ask`,
    MCP, the UI, the CLI): earlier turns, how many papers the answerer is given, the filters, the backend and model.
    None everywhere means the settings' defaults. Nothing is checked here: `Assistant.stream` checks each option
    (caps, roles, allowed models) and refuses a bad one in one line, whichever door it came through."""

    history: list[dict[str, str]] | None = None
    """Earlier turns, oldest first ({"role": "user"|"assistant", "content": ...}); a follow-up is condensed."""
    k: int | None = None
    """Papers given to the answerer (default `answer_k`)."""
    year: tuple[int, int] | None = None
    """Only papers dated in this range, both ends included."""
    sources: Sequence[str] | None = None
    """Only papers read from these files (paths or names)."""
    backend: str | None = None
    """Answering backend: "openai", "local" or "extractive" (default `llm`)."""
    model: str | None = None
    """Chat model of the openai backend: `openai_model` or one of `allowed_models`."""


class Citation(BaseModel):
    """A numbered reference of an answer: the paper and the source sentence that supports it."""

    model_config = ConfigDict(frozen=True)

    number: int
    paper: Paper
    quote: str = Field(default="", description="The source sentence that best supports the citing claims.")


class SentenceCheck(BaseModel):
    """How one answer sentence fared in citation checking."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The sentence without its markers.")
    citations: list[int] = Field(default_factory=list, description="Final citation numbers.")
    supported: bool = Field(default=True, description="A cited source supports it; never true of a non-claim.")
    claim: bool = Field(
        default=True,
        description="It states something to check; an uncited fragment ('The source:', 'Short.') or the no-answer "
        "sentence does not, and is neither supported nor marked.",
    )
    reattributed: bool = Field(default=False, description="Its citation was moved to the source that supports it.")
    support: float = Field(default=0.0, description="Support score of the best cited source (0-1).")


class Answer(BaseModel):
    """A grounded answer: text with [n] markers, the papers cited, and how it was made."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    sources: list[Hit] = Field(default_factory=list, description="Every passage given to the model, in order.")
    abstained: bool = Field(default=False, description="True only for a full abstention (status 'abstained').")
    status: Literal["answered", "partial", "abstained"] = Field(
        default="answered",
        description="answered; partial = the cited abstracts do not state the asked fact (see `missing`); abstained.",
    )
    missing: str | None = Field(default=None, description="What the sources do not state, for partial answers.")
    backend: str = ""
    model: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
    sentences: list[SentenceCheck] = Field(default_factory=list)
    notice: str | None = Field(default=None, description="A one-line notice, e.g. the LLM was unreachable.")
    standalone_question: str | None = Field(default=None, description="The follow-up rewritten for retrieval.")
    signals: dict[str, float] | None = Field(
        default=None,
        exclude=True,
        description="The sufficiency signals the verdict was decided on (for calibration; not serialised).",
    )
