"""The gradio chat app over `Assistant`: Chat, Search and Library tabs; no business logic here."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from rag.answering import offered_models
from rag.assistant import Assistant
from rag.corpus.load import SUPPORTED, bundled_corpus_dir
from rag.errors import RagError
from rag.runtime import configure_threads
from rag.ui.auth import LoginThrottle
from rag.ui.handlers import Handlers
from rag.ui.render import (
    HITS_HEADERS,
    HITS_TYPES,
    HITS_WIDTHS,
    sources_html,
)
from rag.ui.uploads import (
    UploadsMode,
    uploads_allowed,
)
from rag.web_guard import WebGuard, allowed_hosts

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


def year_box(label: str, elem_id: str) -> gr.Textbox:
    """A year filter box, empty until a year is typed (gradio 6's Number box shows 0 when empty, whatever its
    placeholder says); empty means no filter (`_year_range`)."""
    return gr.Textbox(label=label, placeholder="any year", max_lines=1, elem_id=elem_id)


READ_ONLY_NOTE = (
    "Uploads are off on this server: by default (`RAG_UI_UPLOADS=auto`) they are on only behind a login "
    "(`RAG_UI_AUTH=user:password`) or on a loopback address; `RAG_UI_UPLOADS=on` allows them anyway."
)


def build_app(assistant: Assistant, *, max_upload_mb: int = 50, uploads_enabled: bool = True) -> gr.Blocks:
    """The Blocks app; the caller launches it. Without `uploads_enabled` nothing in it changes the index."""
    handlers = Handlers(assistant, max_upload_mb=max_upload_mb)
    with gr.Blocks(title="Paper QA — cited answers from abstracts") as demo:
        gr.Markdown(
            "## Paper QA\nAsk about the indexed abstracts; every claim is cited as [n] to the paper it comes from."
        )
        _chat_tab(handlers)
        results, source_filter, screen_width = _search_tab(handlers)
        library_tab, library_outputs = _library_tab(handlers, source_filter, uploads_enabled)
        library_tab.select(handlers.library, None, library_outputs)
        demo.load(handlers.library, None, library_outputs)
        demo.load(
            handlers.search_columns, screen_width, results, js="() => window.innerWidth", api_visibility="private"
        )
        gr.api(handlers.api_ask, api_name="ask")
    return demo


def _chat_tab(handlers: Handlers) -> None:
    """The Chat tab: the conversation, its settings, the sources panel and the references out."""
    assistant, settings = handlers.assistant, handlers.settings
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
        inputs = [question, chatbot, turns, backend, model, top_k, year_from, year_to]
        question.submit(handlers.respond, inputs, outputs)
        clear_btn.click(handlers.clear, None, outputs)


def _search_tab(handlers: Handlers) -> tuple[gr.Dataframe, gr.Dropdown, gr.Number]:
    """The Search tab: the results table, the source filter (the Library fills its choices) and the hidden window
    width the table's columns follow."""
    with gr.Tab("Search"):
        with gr.Row():
            query = gr.Textbox(label="Query", elem_id="search-query", scale=3)
            mode = gr.Radio(["hybrid", "dense", "bm25"], value="hybrid", label="Mode", scale=2)
        with gr.Row():
            k = gr.Slider(1, 50, value=handlers.settings.top_k, step=1, label="Results")
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
        inputs = [query, mode, k, s_from, s_to, source_filter]
        search_btn.click(handlers.search, inputs, results, api_name="search")
        query.submit(handlers.search, inputs, results)
        screen_width = gr.Number(visible=False)  # the browser window's width, for `search_columns`
    return results, source_filter, screen_width


def _library_tab(
    handlers: Handlers, source_filter: gr.Dropdown, uploads_enabled: bool
) -> tuple[gr.Tab, list[gr.components.Component]]:
    """The Library tab: the corpus figures and, when uploads are on, the ingest form; its outputs (the Search tab's
    source filter among them)."""
    with gr.Tab("Library") as library_tab:
        stats_md = gr.Markdown(elem_id="library-stats")
        years_plot = gr.BarPlot(
            x="year", y="papers", title="Papers per year", height=260, y_lim=[0, None], elem_id="years-plot"
        )
        no_year_md = gr.Markdown(elem_id="library-no-year")
        library_outputs: list[gr.components.Component] = [stats_md, years_plot, no_year_md, source_filter]
        if uploads_enabled:
            upload = gr.File(
                label="Add papers (JSONL, JSON, CSV, TSV or TXT)",
                file_count="multiple",
                file_types=sorted(SUPPORTED),
                elem_id="upload",
            )
            handlers.upload_cache = upload.GRADIO_CACHE
            ingest_btn = gr.Button("Ingest", variant="primary", elem_id="ingest-btn")
            ingest_out = gr.Markdown(elem_id="ingest-report")
            ingest_btn.click(handlers.ingest_files, upload, ingest_out).then(handlers.library, None, library_outputs)
        else:  # read-only: no upload component, so no endpoint that could change the index
            gr.Markdown(READ_ONLY_NOTE, elem_id="uploads-off")
    return library_tab, library_outputs


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
