"""The gradio chat app over `Assistant`: Chat, Search and Library tabs; no business logic here."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gradio as gr
from starlette.middleware import Middleware

from rag.answering import offered_models
from rag.assistant import Assistant
from rag.corpus.load import SUPPORTED, bundled_corpus_dir
from rag.errors import RagError
from rag.followup import history_turn
from rag.references import escape_markdown, to_bibtex, to_markdown
from rag.runtime import configure_threads
from rag.types import Answer
from rag.ui.auth import LoginThrottle
from rag.ui.render import (
    HITS_HEADERS,
    HITS_TYPES,
    HITS_WIDTHS,
    answer_markdown,
    api_markdown,
    hits_columns,
    hits_table,
    sources_html,
)
from rag.ui.uploads import (
    UploadRefused,
    UploadsMode,
    check_upload,
    discard_upload,
    received_upload,
    store_upload,
    upload_label,
    uploads_allowed,
)
from rag.web_guard import WebGuard, allowed_hosts

if TYPE_CHECKING:
    from rag.retrieval import Mode

log = logging.getLogger(__name__)

BUNDLED_EXAMPLES = [
    "How much faster does the Transformer-based text-to-speech model train than Tacotron2?",
    "Which papers propose post-training quantization methods?",
    "What problem stops graph neural networks from benefiting from more layers?",
    "Which model fixes gaze in video calls without needing the redirection angle?",
]
CSS = """
.cite { font-weight: 600; text-decoration: none; }
.sources .ref { border-left: 3px solid var(--color-accent); padding: 4px 10px; margin-bottom: 10px; }
.sources .quote { margin: 6px 0; font-style: italic; opacity: .9; }
.sources mark { background: #fff3a0; color: inherit; }
.searched-for { opacity: .75; }
"""


def example_questions(assistant: Assistant) -> list[str]:
    """Curated questions for the bundled corpus, else questions about the first indexed titles."""
    sources = assistant.manifest.sources()
    if any(Path(s).parent == bundled_corpus_dir().resolve() for s in sources):
        return BUNDLED_EXAMPLES
    titles = [p.title for p in assistant.manifest.iter_papers() if not p.title_derived][:3]
    return [f"What does the paper '{t}' propose?" for t in titles]


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


def year_box(label: str, elem_id: str) -> gr.Textbox:
    """A year filter box, empty until a year is typed (gradio 6's Number box shows 0 when empty, whatever its
    placeholder says); empty means no filter (`_year_range`)."""
    return gr.Textbox(label=label, placeholder="any year", max_lines=1, elem_id=elem_id)


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


READ_ONLY_NOTE = (
    "Uploads are off on this server: by default (`RAG_UI_UPLOADS=auto`) they are on only behind a login "
    "(`RAG_UI_AUTH=user:password`) or on a loopback address; `RAG_UI_UPLOADS=on` allows them anyway."
)


def build_app(assistant: Assistant, *, max_upload_mb: int = 50, uploads_enabled: bool = True) -> gr.Blocks:
    """The Blocks app; the caller launches it. Without `uploads_enabled` nothing in it changes the index."""
    settings = assistant.settings
    exports = Path(tempfile.mkdtemp(prefix="rag-exports-"))
    uploads = settings.data_dir / "uploads"

    def respond(
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
            stream = assistant.stream(
                message,
                history=recent_turns(turns, settings.max_history_turns),
                k=int(top_k),
                year=_year_range(year_from, year_to),
                backend=None if backend == "auto" else backend,
                model=model or None,
            )
            for item in stream:
                if isinstance(item, Answer):
                    chat[-1] = {"role": "assistant", "content": answer_markdown(item)}
                    reply = history_turn(item, settings.max_turn_chars)  # the next question's history, capped
                    turns = [*turns, {"role": "user", "content": message}, {"role": "assistant", "content": reply}]
                    n = len(turns) // 2
                    bib = to_bibtex(item)
                    yield (
                        chat,
                        turns,
                        sources_html(item),
                        bib,
                        _write(exports, f"answer-{n}.bib", bib),
                        _write(exports, f"answer-{n}.md", to_markdown(item)),
                        "",
                    )
                else:
                    partial += item
                    chat[-1] = {"role": "assistant", "content": escape_markdown(partial)}
                    yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        except RagError as exc:
            chat[-1] = {"role": "assistant", "content": f"> ⚠️ {escape_markdown(str(exc))}"}
            yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""

    def clear():
        return [], [], sources_html(None), "", None, None, ""

    def search(
        query: str, mode: str, k: int, year_from: str | None, year_to: str | None, source_names: list[str] | None
    ) -> list[list[object]]:
        if not query.strip():
            return []
        try:
            hits = assistant.search(
                query,
                int(k),
                mode=cast("Mode", mode),
                year=_year_range(year_from, year_to),
                sources=source_names or None,
            )
        except RagError as exc:
            raise gr.Error(str(exc)) from None
        return hits_table(hits)

    def search_columns(width: float | None):
        return gr.update(column_widths=hits_columns(width))

    def library():
        s = assistant.stats()
        text = (
            f"**{s.papers}** papers · **{s.chunks}** chunks · **{len(s.sources)}** source files · "
            f"embedding model `{s.embedding_model}` · index {s.index_bytes / 1e6:.1f} MB in `{s.data_dir}`\n\n"
            + "\n".join(f"- {escape_markdown(upload_label(src, uploads)[0])}" for src in s.sources)
        )
        import pandas as pd

        years = pd.DataFrame({"year": [str(y) for y in s.years], "papers": list(s.years.values())})
        choices = gr.update(choices=[upload_label(src, uploads) for src in s.sources])
        return text, years, no_year_line(s.papers, s.years), choices

    def ingest_files(files: list[str] | None, progress=gr.Progress(track_tqdm=True)) -> str:  # noqa: B008
        if not files:
            return "Choose one or more files first."
        kept, created, problems = [], [], []
        for f in files:
            name = Path(f).name
            try:
                path = received_upload(f, upload.GRADIO_CACHE)  # a client names the path: only uploads pass
                check_upload(path, name, max_upload_mb)
                stored, new = store_upload(path, name, uploads)
                kept.append(stored)
                if new:
                    created.append(stored)
            except UploadRefused as exc:
                problems.append(str(exc))
        try:
            report = assistant.ingest(kept, progress=True) if kept else None
        except RagError as exc:  # e.g. another process is updating the index: say so, no traceback
            return "**Not ingested:** " + escape_markdown(str(exc))
        finally:  # an upload nothing could be indexed from is not kept
            for path in created:
                if not assistant.manifest.papers_of(str(path.resolve())):
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

    def api_ask(question: str) -> str:
        """Answer a question; returns Markdown with [n] markers followed by the numbered references."""
        try:
            return api_markdown(assistant.ask(question))
        except RagError as exc:
            return f"Error: {exc}"

    with gr.Blocks(title="Paper QA — cited answers from abstracts") as demo:
        gr.Markdown(
            "## Paper QA\nAsk about the indexed abstracts; every claim is cited as [n] to the paper it comes from."
        )
        turns = gr.State([])
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Answers", height=480, sanitize_html=False, elem_id="chat")
                    question = gr.Textbox(
                        placeholder="Ask a question about the papers…",
                        show_label=False,
                        elem_id="question",
                        submit_btn=True,
                    )
                    with gr.Row():
                        clear_btn = gr.Button("Clear", variant="secondary", elem_id="clear")
                    gr.Examples(example_questions(assistant), inputs=question, label="Examples")
                    with gr.Accordion("Settings", open=False):
                        backend = gr.Dropdown(
                            ["auto", "extractive", "local", "openai"], value=settings.llm, label="Backend"
                        )
                        model = gr.Dropdown(  # only configured models: a name is never taken from the client
                            offered_models(settings), value=settings.openai_model, label="OpenAI(-compatible) model"
                        )
                        top_k = gr.Slider(1, 20, value=settings.answer_k, step=1, label="Papers given to the answerer")
                        with gr.Row():
                            year_from = year_box("Year from", "chat-year-from")
                            year_to = year_box("Year to", "chat-year-to")
                with gr.Column(scale=2):
                    sources = gr.HTML(sources_html(None), elem_id="sources")
                    with gr.Accordion("References out", open=False):
                        bibtex = gr.Code(label="BibTeX (copy)", language=None, interactive=False)
                        with gr.Row():
                            bib_file = gr.DownloadButton("Download .bib", value=None)
                            md_file = gr.DownloadButton("Download .md", value=None)
            outputs = [chatbot, turns, sources, bibtex, bib_file, md_file, question]
            question.submit(respond, [question, chatbot, turns, backend, model, top_k, year_from, year_to], outputs)
            clear_btn.click(clear, None, outputs)
        with gr.Tab("Search"):
            with gr.Row():
                query = gr.Textbox(label="Query", elem_id="search-query", scale=3)
                mode = gr.Radio(["hybrid", "dense", "bm25"], value="hybrid", label="Mode", scale=2)
            with gr.Row():
                k = gr.Slider(1, 50, value=settings.top_k, step=1, label="Results")
                s_from = year_box("Year from", "search-year-from")
                s_to = year_box("Year to", "search-year-to")
                source_filter = gr.Dropdown([], multiselect=True, label="Source files")
            search_btn = gr.Button("Search", variant="primary", elem_id="search-btn")
            results = gr.Dataframe(
                headers=HITS_HEADERS,
                datatype=HITS_TYPES,
                column_widths=HITS_WIDTHS,
                wrap=True,
                elem_id="search-results",
                interactive=False,
            )
            search_btn.click(search, [query, mode, k, s_from, s_to, source_filter], results, api_name="search")
            query.submit(search, [query, mode, k, s_from, s_to, source_filter], results)
            screen_width = gr.Number(visible=False)  # the browser window's width, for `search_columns`
        with gr.Tab("Library") as library_tab:
            stats_md = gr.Markdown(elem_id="library-stats")
            years_plot = gr.BarPlot(
                x="year", y="papers", title="Papers per year", height=260, y_lim=[0, None], elem_id="years-plot"
            )
            no_year_md = gr.Markdown(elem_id="library-no-year")
            library_outputs = [stats_md, years_plot, no_year_md, source_filter]
            if uploads_enabled:
                upload = gr.File(
                    label="Add papers (JSONL, JSON, CSV, TSV or TXT)",
                    file_count="multiple",
                    file_types=sorted(SUPPORTED),
                    elem_id="upload",
                )
                ingest_btn = gr.Button("Ingest", variant="primary", elem_id="ingest-btn")
                ingest_out = gr.Markdown(elem_id="ingest-report")
                ingest_btn.click(ingest_files, upload, ingest_out).then(library, None, library_outputs)
            else:  # read-only: no upload component, so no endpoint that could change the index
                gr.Markdown(READ_ONLY_NOTE, elem_id="uploads-off")
        library_tab.select(library, None, library_outputs)
        demo.load(library, None, library_outputs)
        demo.load(search_columns, screen_width, results, js="() => window.innerWidth", api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return demo


def recent_turns(turns: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """The latest `limit` turns of a chat (what the answerer is given; RAG_MAX_HISTORY_TURNS)."""
    return turns[len(turns) - limit :] if limit > 0 else []


def warm_up(assistant: Assistant) -> None:
    """Load the embedding model, Chroma and BM25 before serving, so the first users do not wait for them."""
    start = time.monotonic()
    try:
        assistant.search("warm up", k=1)
    except RagError as exc:  # an empty or mismatched index: the UI still starts and says so when used
        log.warning("warm-up search failed: %s", exc)
    log.info("warmed up in %.1f s", time.monotonic() - start)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'user:password' -> (user, password)."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise RagError("RAG_UI_AUTH must look like user:password")
    return user, password


@dataclass
class Served:
    """A chat app ready to serve, and the gradio options both ways of serving it take (`launch`, mounting)."""

    demo: gr.Blocks
    options: dict[str, Any]


def prepare(
    assistant: Assistant,
    *,
    host: str = "127.0.0.1",
    share: bool = False,
    auth: str | None = None,
    max_upload_mb: int = 50,
    concurrency: int = 4,
    uploads: UploadsMode = "auto",
    login_max_failures: int = 5,
    login_lockout_s: float = 30.0,
) -> Served:
    """The queued app and its serving options, under one set of rules for `rag chat` and `rag serve --ui`: a
    throttled login (`LoginThrottle`), uploads as `uploads_allowed` decides, the upload size cap and the style."""
    credentials = parse_auth(auth)
    throttle = (
        LoginThrottle(*credentials, max_failures=login_max_failures, lockout_s=login_lockout_s) if credentials else None
    )
    enabled = uploads_allowed(uploads, host=host, share=share, auth=credentials is not None)
    if not enabled:
        log.warning("uploads are off: %s is reachable from other machines without a login", host)
    demo = build_app(assistant, max_upload_mb=max_upload_mb, uploads_enabled=enabled)
    demo.queue(default_concurrency_limit=concurrency, max_size=64)
    options = {
        "auth": throttle.login if throttle else None,
        "max_file_size": f"{max_upload_mb}mb",
        "css": CSS,
        "theme": gr.themes.Soft(),
        "show_error": True,
    }
    return Served(demo, options)


def guarded_app_kwargs(host: str, extra_hosts: Sequence[str] = (), *, share: bool = False) -> dict[str, Any]:
    """gradio's `app_kwargs` that put `WebGuard` before every route of the app it builds (inside gradio's own CORS
    middleware): Host names `host`, loopback names and `extra_hosts` (plus share links with `share`); no cross-origin
    state change."""
    hosts = allowed_hosts(host, extra_hosts, share=share)
    return {"middleware": [Middleware(WebGuard, hosts=hosts)]}


def launch(
    assistant: Assistant,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: str | None = None,
    max_upload_mb: int = 50,
    concurrency: int = 4,
    uploads: UploadsMode = "auto",
    login_max_failures: int = 5,
    login_lockout_s: float = 30.0,
) -> None:
    """Serve the app (blocking); several users chat at once up to `concurrency` running events (rules: `prepare`).
    Queries (and uploads ingesting here) run on RAG_QUERY_THREADS CPU threads (`rag.runtime`)."""
    configure_threads("serve", assistant.settings)
    served = prepare(
        assistant,
        host=host,
        share=share,
        auth=auth,
        max_upload_mb=max_upload_mb,
        concurrency=concurrency,
        uploads=uploads,
        login_max_failures=login_max_failures,
        login_lockout_s=login_lockout_s,
    )
    warm_up(assistant)
    guard = guarded_app_kwargs(host, assistant.settings.allowed_hosts, share=share)
    served.demo.launch(server_name=host, server_port=port, share=share, app_kwargs=guard, **served.options)
