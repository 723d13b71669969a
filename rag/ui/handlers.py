"""What the web UI's controls do: a chat turn, a search, the library's figures, ingesting uploads, the named
`/ask` endpoint. Methods over one `Assistant`; the layout that wires them to components is `rag.ui.app`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gradio as gr

from rag.assistant import Assistant
from rag.errors import RagError
from rag.followup import history_turn
from rag.references import escape_markdown, to_bibtex, to_markdown
from rag.types import Answer, QueryOptions
from rag.ui.render import answer_markdown, api_markdown, hits_columns, hits_table, sources_html
from rag.ui.uploads import (
    UploadRefused,
    check_upload,
    discard_upload,
    received_upload,
    store_upload,
    upload_label,
)

if TYPE_CHECKING:
    from rag.retrieval import Mode


def _year(label: str, value: str | float | None) -> int | None:
    """A year filter box's value: empty (or 0, as API clients of the old number boxes send) means no filter."""
    text = str(value if value is not None else "").strip().removesuffix(".0")
    if not text or text == "0":
        return None
    if not text.isdigit() or not 1 <= int(text) <= 9999:
        raise RagError(f"{label}: {text[:20]!r} is not a year; type one like 2021, or leave the box empty")
    return int(text)


def _year_range(year_from: str | float | None, year_to: str | float | None) -> tuple[int, int] | None:
    """The year filter two boxes set: None when both are empty; one box alone is that single year."""
    lo, hi = _year("Year from", year_from), _year("Year to", year_to)
    if lo is None and hi is None:
        return None
    first = lo if lo is not None else hi
    last = hi if hi is not None else lo
    if first is None or last is None:
        return None
    return (min(first, last), max(first, last))


def no_year_line(papers: int, years: dict[int, int]) -> str:
    """The Library's line under the chart: how many papers the chart leaves out for want of a year."""
    missing = papers - sum(years.values())
    if not missing:
        return f"All {papers} papers have a year."
    return f"**{missing}** of {papers} papers have no year and are not in the chart."


def _write(folder: Path, name: str, text: str) -> str:
    path = Path(tempfile.mkdtemp(dir=folder)) / name  # a folder per answer: users never share an export
    path.write_text(text, encoding="utf-8")
    return str(path)


def recent_turns(turns: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """The latest `limit` turns of a chat (what the answerer is given; RAG_MAX_HISTORY_TURNS)."""
    return turns[len(turns) - limit :] if limit > 0 else []


class Handlers:
    """The UI's event handlers over one assistant: exports go to a private temporary folder, uploads under the
    data dir (`upload_cache` is where gradio received them: the only paths a client may name)."""

    def __init__(self, assistant: Assistant, *, max_upload_mb: int = 50) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.exports = Path(tempfile.mkdtemp(prefix="rag-exports-"))
        self.uploads = self.settings.data_dir / "uploads"
        self.max_upload_mb = max_upload_mb
        self.upload_cache = ""

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]],
        turns: list[dict[str, str]],
        backend: str,
        model: str,
        top_k: int,
        year_from: str | None,
        year_to: str | None,
    ):
        if not message.strip():
            yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
            return
        chat = [*chat, {"role": "user", "content": escape_markdown(message)}, {"role": "assistant", "content": "…"}]
        yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        partial = ""
        try:
            options = QueryOptions(
                history=recent_turns(turns, self.settings.max_history_turns),
                k=int(top_k),
                year=_year_range(year_from, year_to),
                backend=None if backend == "auto" else backend,
                model=model or None,
            )
            stream = self.assistant.stream(message, options)
            for item in stream:
                if isinstance(item, Answer):
                    chat[-1] = {"role": "assistant", "content": answer_markdown(item)}
                    reply = history_turn(item, self.settings.max_turn_chars)  # the next question's history, capped
                    turns = [*turns, {"role": "user", "content": message}, {"role": "assistant", "content": reply}]
                    n = len(turns) // 2
                    bib = to_bibtex(item)
                    yield (
                        chat,
                        turns,
                        sources_html(item),
                        bib,
                        _write(self.exports, f"answer-{n}.bib", bib),
                        _write(self.exports, f"answer-{n}.md", to_markdown(item)),
                        "",
                    )
                else:
                    partial += item
                    chat[-1] = {"role": "assistant", "content": escape_markdown(partial)}
                    yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        except RagError as exc:
            chat[-1] = {"role": "assistant", "content": f"> ⚠️ {escape_markdown(str(exc))}"}
            yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""

    @staticmethod
    def clear():
        return [], [], sources_html(None), "", None, None, ""

    def search(
        self, query: str, mode: str, k: int, year_from: str | None, year_to: str | None, source_names: list[str] | None
    ) -> list[list[object]]:
        if not query.strip():
            return []
        try:
            hits = self.assistant.search(
                query,
                int(k),
                mode=cast("Mode", mode),
                year=_year_range(year_from, year_to),
                sources=source_names or None,
            )
        except RagError as exc:
            raise gr.Error(str(exc)) from None
        return hits_table(hits)

    @staticmethod
    def search_columns(width: float | None):
        return gr.update(column_widths=hits_columns(width))

    def library(self):
        s = self.assistant.stats()
        text = (
            f"**{s.papers}** papers · **{s.chunks}** chunks · **{len(s.sources)}** source files · "
            f"embedding model `{s.embedding_model}` · index {s.index_bytes / 1e6:.1f} MB in `{s.data_dir}`\n\n"
            + "\n".join(f"- {escape_markdown(upload_label(src, self.uploads)[0])}" for src in s.sources)
        )
        import pandas as pd

        years = pd.DataFrame({"year": [str(y) for y in s.years], "papers": list(s.years.values())})
        choices = gr.update(choices=[upload_label(src, self.uploads) for src in s.sources])
        return text, years, no_year_line(s.papers, s.years), choices

    def ingest_files(self, files: list[str] | None, progress=gr.Progress(track_tqdm=True)) -> str:  # noqa: B008
        if not files:
            return "Choose one or more files first."
        kept, created, problems = [], [], []
        for f in files:
            name = Path(f).name
            try:
                path = received_upload(f, self.upload_cache)  # a client names the path: only uploads pass
                check_upload(path, name, self.max_upload_mb)
                stored, new = store_upload(path, name, self.uploads)
                kept.append(stored)
                if new:
                    created.append(stored)
            except UploadRefused as exc:
                problems.append(str(exc))
        try:
            report = self.assistant.ingest(kept, progress=True, wait=False) if kept else None
        except RagError as exc:  # e.g. another process is updating the index: say so, no traceback
            return "**Not ingested:** " + escape_markdown(str(exc))
        finally:  # an upload nothing could be indexed from is not kept
            for path in created:
                if not self.assistant.manifest.papers_of(str(path.resolve())):
                    discard_upload(path)
                    problems.append(f"{path.name}: not kept: no paper could be indexed from it")
        lines = (
            []
            if report is None
            else [
                f"**{report.papers_added}** papers added, {report.papers_updated} updated, "
                f"{report.papers_unchanged} unchanged, {report.chunks_added} chunks, {report.seconds:.1f} s."
            ]
        )
        # the name only: the server's folders are none of the uploader's business
        errors = (
            [str(e.model_copy(update={"path": Path(e.path).name})) for e in report.errors] + problems
            if report
            else problems
        )
        if errors:
            lines.append("**Problems:**\n" + "\n".join(f"- {escape_markdown(e)}" for e in errors))
        return "\n\n".join(lines)

    def api_ask(self, question: str) -> str:
        """Answer a question; returns Markdown with [n] markers followed by the numbered references."""
        try:
            return api_markdown(self.assistant.ask(question))
        except RagError as exc:
            return f"Error: {exc}"
