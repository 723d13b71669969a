"""The `rag` command: ingest, stats, search (ask, chat and eval build on these).

`search`, `ask` and `stats` ask a `rag serve` or `rag chat` running on the same data dir when there is one
(`rag.remote`), so only light modules are imported at the top: the index and the models load when a command does
the work itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rag.cli_support import err, final_answer, friendly, out, parse_years, share, show_draft
from rag.config import Settings
from rag.errors import DiskFullError, IndexBusyError
from rag.remote import NotServed, Server, find_server
from rag.runtime import configure_threads
from rag.types import Answer, Hit, IndexStats, IngestReport, QueryOptions

if TYPE_CHECKING:
    from rag.assistant import Assistant

app = typer.Typer(
    help="Question answering over research-paper abstracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


LOCAL_HELP = "Work in this process even when a `rag serve` or `rag chat` runs on the data dir."


def _server(local: bool) -> Server | None:
    """The server running on the data dir, unless `local` or there is none."""
    return None if local else find_server(Settings())


def _not_served(exc: NotServed) -> None:
    """The command is done here after all; say why when it is worth knowing (not for a stale socket)."""
    if exc.notice:
        err.print(f"[yellow]notice:[/yellow] {escape(exc.notice)}")


@app.command()
@friendly
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or directories (default: the bundled corpus)."),
    ] = None,
    prune: Annotated[bool, typer.Option(help="Remove papers whose source files are gone.")] = False,
    reindex: Annotated[bool, typer.Option(help="Build a new index beside the old one, then replace it.")] = False,
) -> None:
    """Index abstracts from listing-page dumps, JSONL, CSV or an arXiv metadata snapshot."""
    configure_threads("ingest")
    report = _ingest(paths or None, prune=prune, reindex=reindex)
    for e in report.errors:
        err.print(f"[yellow]skipped[/yellow] {escape(str(e))}", highlight=False)
    for conflict in report.conflicts:
        err.print(f"[yellow]updated[/yellow] {escape(conflict)}", highlight=False)
    if report.repaired:
        err.print(f"repaired an interrupted ingest: {report.repaired} vectors written again")
    embed_share = report.embed_seconds / report.seconds if report.seconds else 0.0
    out.print(
        f"{report.files} files ({report.files_skipped_unchanged} unchanged): "
        f"{report.papers_added} papers added, {report.papers_updated} updated, "
        f"{report.papers_unchanged} unchanged, {report.papers_removed} removed, "
        f"{report.duplicates_merged} duplicates merged; {report.chunks_added} chunks; "
        f"{len(report.errors)} errors; {report.seconds:.1f} s (embedding {embed_share:.0%})"
    )
    if report.skipped_unsupported:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.skipped_unsupported.items()))
        out.print(f"not read (unsupported type): {escape(kinds)}")
    if report.errors:
        raise typer.Exit(1)


def _ingest(paths: list[Path] | None, *, prune: bool, reindex: bool) -> IngestReport:
    """`Assistant.ingest`, with a full disk met anywhere on the way (opening the index too) as one line."""
    from rag.assistant import Assistant
    from rag.index.space import DiskSpace

    settings = Settings()
    space = DiskSpace(settings.data_dir, settings.min_free_mb)
    try:
        return Assistant(settings).ingest(paths, prune=prune, reindex=reindex, progress=sys.stderr.isatty())
    except DiskFullError:
        raise
    except Exception as exc:
        if space.explains(exc):
            raise space.full_error() from None
        raise


@app.command()
@friendly
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    local: Annotated[bool, typer.Option("--local", help=LOCAL_HELP)] = False,
) -> None:
    """What the index holds."""
    s = _stats(local)
    if as_json:
        out.print_json(s.model_dump_json())
        return
    out.print(
        f"papers: {s.papers}\nchunks: {s.chunks}\nvectors: {s.vectors}\nBM25 entries: {s.bm25_entries}\n"
        f"embedding model: {s.embedding_model}\n"
        f"index size: {s.index_bytes / 1e6:.1f} MB in {s.data_dir}\nsources ({len(s.sources)}):"
    )
    for source in s.sources:
        out.print(f"  {source}")


def _stats(local: bool) -> IndexStats:
    if server := _server(local):
        try:
            return server.stats()
        except NotServed as exc:
            _not_served(exc)
    from rag.assistant import Assistant

    return Assistant().stats()


@app.command()
@friendly
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many papers.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid | dense | bm25")] = "hybrid",
    year: Annotated[str | None, typer.Option(help="Year or range, e.g. 2020-2023.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only papers from this file (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    local: Annotated[bool, typer.Option("--local", help=LOCAL_HELP)] = False,
) -> None:
    """Ranked papers for a query."""
    configure_threads("cli")
    if mode not in ("hybrid", "dense", "bm25"):
        raise typer.BadParameter("mode must be hybrid, dense or bm25")
    hits = _search(query, k, mode=mode, year=parse_years(year), sources=source, local=local)
    if as_json:
        print(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
        return
    table = Table("#", "score", "year", "title", "source")
    for i, h in enumerate(hits, 1):
        table.add_row(
            str(i),
            f"{h.score:.3f}",
            str(h.paper.year or ""),
            h.paper.title,
            Path(h.paper.source).name,
        )
    out.print(table)


def _search(
    query: str, k: int, *, mode: str, year: tuple[int, int] | None, sources: list[str] | None, local: bool
) -> list[Hit]:
    if server := _server(local):
        try:
            return server.search(query, k, mode=mode, year=year, sources=sources)
        except NotServed as exc:
            _not_served(exc)
    return _ready_assistant().search(query, k, mode=mode, year=year, sources=sources)  # type: ignore[arg-type]


@app.command()
@friendly
def ask(
    question: Annotated[str, typer.Argument(help="A question about the indexed papers.")],
    k: Annotated[int | None, typer.Option("-k", min=1, help="Papers given to the answerer.")] = None,
    year: Annotated[str | None, typer.Option(help="Year or range, e.g. 2020-2023.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only papers from this file (repeatable).")] = None,
    backend: Annotated[str | None, typer.Option(help="openai | local | extractive (default: RAG_LLM).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole Answer as JSON.")] = False,
    local: Annotated[bool, typer.Option("--local", help=LOCAL_HELP)] = False,
) -> None:
    """Answer a question with numbered citations, then the references. In a terminal the draft streams in and is
    replaced by the checked answer; piped, only the checked answer is printed."""
    configure_threads("cli")
    from rag.generation.backends import check_settings, resolve_backend, unreachable

    settings = Settings()
    kind = backend or resolve_backend(settings)
    check_settings(kind, settings)  # a missing key: said before indexing or loading a model
    early = unreachable(settings) if kind == "openai" else None  # a server that is not there: said now, too
    if early:
        early = f"{early}; showing an extractive answer from the retrieved papers instead."
        err.print(f"[yellow]notice:[/yellow] {escape(early)}")
        backend = "extractive"
    read = show_draft if out.is_terminal and not as_json else final_answer
    answer = _answer(read, question, k=k, year=parse_years(year), sources=source, backend=backend, local=local)
    if early:
        answer = answer.model_copy(update={"notice": early})
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    if answer.notice and answer.notice != early:
        err.print(f"[yellow]notice:[/yellow] {escape(answer.notice)}")
    out.print(answer.text, markup=False, highlight=False)
    missing = f" (the abstracts do not {answer.missing})" if answer.missing else ""
    out.print(f"\nStatus: {answer.status}{missing}", markup=False, highlight=False)
    if answer.citations:
        out.print("\nReferences:")
        for c in answer.citations:
            p = c.paper
            year_text = f" ({p.year})" if p.year else ""
            out.print(f"  [{c.number}] {p.title}{year_text} — {Path(p.source).name}", markup=False, highlight=False)


def _answer(
    read: Callable[[Iterator[str | Answer]], Answer],
    question: str,
    *,
    k: int | None,
    year: tuple[int, int] | None,
    sources: list[str] | None,
    backend: str | None,
    local: bool,
) -> Answer:
    """The answer as `read` takes it from the stream: the server's when one runs on the data dir, else this
    process's."""
    if server := _server(local):
        try:
            return read(server.stream(question, k=k, year=year, sources=sources, backend=backend))
        except NotServed as exc:  # a draft shown so far is cleared (transient)
            _not_served(exc)
    assistant = _ready_assistant()
    return read(assistant.stream(question, QueryOptions(k=k, year=year, sources=sources, backend=backend)))


@app.command(name="eval")
@friendly
def evaluate(
    qa: Annotated[
        Path | None, typer.Option(help="QA set (JSONL); default: the shipped set over the bundled corpus.")
    ] = None,
    beir: Annotated[Path | None, typer.Option(help="A BEIR-format folder (retrieval only, test split).")] = None,
    config: Annotated[list[str] | None, typer.Option(help="Config TOML file or preset name (repeatable).")] = None,
    backend: Annotated[str | None, typer.Option(help="openai | local | extractive (default: RAG_LLM).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default eval/reports/<time>/).")] = None,
) -> None:
    """Evaluate retrieval and answers; writes metrics.json, report.md, plots and predictions.jsonl."""
    configure_threads("ingest")
    from rag.evaluation.runner import run_eval

    folder, results = run_eval(
        qa=qa, beir=beir, configs=config, backend=backend, limit=limit, out=out_dir, progress=sys.stderr.isatty()
    )
    for name, entry in results.items():
        if "qa" in entry:
            r, a = entry["qa"]["retrieval"], entry["qa"]["answers"]
            some, none = a.get("answerable", 1), a.get("unanswerable", 1)
            out.print(
                f"{name}: R@5 {r['recall@5']:.3f}  MRR@10 {r['mrr@10']:.3f}  key facts "
                f"{share(a['key_fact_accuracy'], some, 'answerable')}  cit. P "
                f"{share(a['citation_precision'], some, 'answerable')} R "
                f"{share(a['citation_recall'], some, 'answerable')}  abstain "
                f"{share(a['abstention_recall'], none, 'unanswerable')}  "
                f"false refusals {share(a['false_refusal_rate'], some, 'answerable')}"
            )
        if "beir" in entry:
            b = entry["beir"]
            out.print(f"{name}: {b['name']} nDCG@10 {b['ndcg@10']:.3f}  R@100 {b['recall@100']:.3f}")
    out.print(f"report: {folder / 'report.md'}")


@app.command()
@friendly
def chat(
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1 keeps it on this machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    share: Annotated[bool, typer.Option(help="Also open a public gradio share link.")] = False,
) -> None:
    """Start the chat web UI (indexing the bundled corpus first into a new, empty data dir)."""
    configure_threads("serve")
    assistant = _ready_assistant(serving=True)
    from rag.api.unix_socket import exit_on_sigterm, serving_socket
    from rag.ui.app import launch

    s = assistant.settings
    auth = s.ui_auth.get_secret_value() if s.ui_auth else None
    err.print(f"serving on http://{host}:{port}")
    with exit_on_sigterm(), serving_socket(assistant):  # `rag search`, `ask`, `stats` use this process too
        launch(
            assistant,
            host=host,
            port=port,
            share=share,
            auth=auth,
            max_upload_mb=s.ui_max_upload_mb,
            concurrency=s.ui_concurrency,
            uploads=s.ui_uploads,
            login_max_failures=s.ui_login_max_failures,
            login_lockout_s=s.ui_login_lockout_s,
        )


def _ready_assistant(*, serving: bool = False) -> Assistant:
    """The assistant, with the bundled corpus indexed first into a data dir where no ingest ever started.

    While another process builds the index, a one-shot command (search, ask) says so in one line and stops, and a
    server (`serving`) starts on what that process has committed so far; an index the user's own ingest left empty
    stays theirs. The bundled ingest never waits for the writer lock: a writer that started in between wins.
    """
    from rag.assistant import Assistant
    from rag.index.ingest import ingest_started
    from rag.index.lock import WriterLock

    settings = Settings()
    assistant = Assistant(settings)
    if not assistant.is_empty():
        return assistant
    data_dir = settings.data_dir
    if (writer := WriterLock(data_dir).writer()) is not None:
        busy = f"the index in {data_dir} is being built by process {writer}"
        if not serving:
            raise IndexBusyError(f"{busy}; try again when it finishes")
        err.print(f"{busy}: answering from what it has committed so far")
        return assistant
    if ingest_started(assistant.manifest):
        err.print(f"the index in {data_dir} is empty: add papers with `rag ingest PATH`")
        return assistant
    err.print("the index is empty: indexing the bundled corpus first")
    builder = Assistant(settings, write_lock_timeout=0)
    try:
        report = builder.ingest(progress=sys.stderr.isatty())
    finally:
        builder.close()
    err.print(f"indexed {report.papers_added} papers in {report.seconds:.0f} s")
    assistant.close()
    return Assistant(settings, embedder=builder.embedder)  # the model the ingest loaded, not a second copy


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1 keeps it on this machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    ui: Annotated[bool, typer.Option(help="Also serve the chat UI at /ui (needs RAG_UI_AUTH with a token).")] = False,
) -> None:
    """Start the REST API (OpenAPI docs at /docs); RAG_API_TOKEN makes every endpoint want it as a bearer token."""
    configure_threads("serve")
    assistant = _ready_assistant()
    from rag.api.server import run_app, server_app
    from rag.api.unix_socket import exit_on_sigterm, serving_socket
    from rag.ui.uploads import is_loopback

    web = server_app(assistant, ui=ui, host=host)  # a configuration error stops here, before "serving"
    if not is_loopback(host) and assistant.settings.api_token is None:
        err.print("[yellow]warning:[/yellow] no RAG_API_TOKEN: anyone who can reach this address can use the API")
    err.print(f"serving the API on http://{host}:{port} (docs at /docs{', chat UI at /ui' if ui else ''})")
    with exit_on_sigterm(), serving_socket(assistant):  # `rag search`, `ask`, `stats` use this process too
        run_app(web, host=host, port=port)


@app.command(name="mcp")
@friendly
def mcp_server() -> None:
    """Serve the index to agent tools over MCP (stdio): tools search_papers and ask_papers."""
    configure_threads("serve")
    assistant = _ready_assistant()
    from rag.mcp import run

    run(assistant)


if __name__ == "__main__":
    app()
