"""The REST API: a thin FastAPI layer over `rag.Assistant` (no business logic here).

Blocking assistant calls run in the threadpool (plain `def` routes, `run_in_threadpool`, or a sync stream that
Starlette iterates in a thread), so one slow answer never blocks the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

import rag
from rag.api.auth import BearerAuthMiddleware, require_token
from rag.api.limits import BodyCapMiddleware, body_caps
from rag.api.schemas import AskRequest, ErrorBody, Health, IngestResponse, StoredFile, parse_years
from rag.api.uploads import UploadTooLarge, store_upload, upload_suffix
from rag.assistant import Assistant
from rag.errors import BackendUnavailableError, IndexBusyError, IndexMismatchError, InputError, RagError
from rag.types import Answer, Hit, IndexStats, Paper, QueryOptions
from rag.web_guard import WebGuard, allowed_hosts

log = logging.getLogger(__name__)

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
UI_PATH = "/ui"
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad input (validation errors included)",
        401: "Missing or wrong bearer token",
        503: "The index or a model it needs is unavailable",
    }.items()
}


def status_of(exc: RagError) -> int:
    """The HTTP status of an expected failure: the client's input (400) or the server's state (503)."""
    if isinstance(exc, BackendUnavailableError | IndexMismatchError | IndexBusyError):
        return 503
    return 400  # InputError, ConfigError (a backend this server cannot use), any other RagError


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape: {"error": message}."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RagError)
    async def _rag(request: Request, exc: RagError) -> JSONResponse:
        return error(status_of(exc), str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error(500, "internal server error (see the server log)")


def _sse(event: str, data: str) -> bytes:
    return format_sse_event(event=event, data_str=data)


def answer_events(first: str | Answer | None, rest: Iterator[str | Answer]) -> Generator[bytes, None, None]:
    """Server-sent events for an answer stream: `delta` {"text"} events, then one `answer` event with the checked
    `Answer`; a failure mid-stream ends it with one `error` event {"error", "status"}. Closing it closes `rest`
    (and with it the answer's LLM stream)."""
    item = first
    try:
        while item is not None:
            if isinstance(item, Answer):
                yield _sse("answer", item.model_dump_json())
            else:
                yield _sse("delta", json.dumps({"text": item}))
            item = next(rest, None)
    except RagError as exc:
        yield _sse("error", json.dumps({"error": str(exc), "status": status_of(exc)}))
    except Exception:
        log.exception("unexpected error while streaming an answer")
        yield _sse("error", json.dumps({"error": "internal server error (see the server log)", "status": 500}))
    finally:
        if isinstance(rest, Generator):
            rest.close()


class AnswerStream(EventSourceResponse):
    """The SSE response of a streamed answer; its events are closed when the response ends, also when the client
    leaves mid-answer, so the answer and its upstream LLM stream stop then, not whenever the garbage collector
    reaches the abandoned generators (minutes later)."""

    def __init__(self, events: Generator[bytes, None, None], **kwargs: Any) -> None:
        super().__init__(events, **kwargs)
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # starlette waits for a read in progress before it gives up on the stream: no thread is inside it
            try:
                self._events.close()
            except ValueError:  # "generator already executing": it ends at its next event
                log.debug("the answer stream was still being read when its client left")


def _years(value: str | None) -> tuple[int, int] | None:
    try:
        return parse_years(value)
    except ValueError as exc:
        raise InputError(str(exc)) from None


@dataclass
class Stored:
    """An upload kept under the data dir while it is indexed."""

    path: FilePath
    created: bool  # this request wrote it (the same content was not there already)
    filename: str
    size: int


def build_router(assistant: Assistant) -> APIRouter:
    """The API's routes over one `Assistant`."""
    router = APIRouter(dependencies=[Depends(require_token)], responses=_ERRORS)

    @router.get("/health", response_model=Health, tags=["index"])
    def health() -> Health:
        """The server is up; how many papers the index holds."""
        return Health(version=rag.__version__, papers=assistant.manifest.count_papers())

    @router.get("/stats", response_model=IndexStats, tags=["index"])
    def stats() -> IndexStats:
        """Papers, chunks, sources, embedding model, size and papers per year."""
        return assistant.stats()

    @router.get("/search", response_model=list[Hit], tags=["index"])
    def search(
        q: Annotated[str, Query(min_length=1, description="What to look for.")],
        k: Annotated[int | None, Query(ge=1, le=100, description="How many papers (default RAG_TOP_K).")] = None,
        mode: Annotated[Literal["hybrid", "dense", "bm25"] | None, Query(description="Retrieval mode.")] = None,
        year: Annotated[str | None, Query(description="YEAR or FROM-TO, e.g. 2020-2023.")] = None,
        source: Annotated[list[str] | None, Query(description="Only papers from this file (repeatable).")] = None,
    ) -> list[Hit]:
        """The best papers for a query, best first, each with its best passage and scores."""
        return assistant.search(q, k, mode=mode, year=_years(year), sources=source)

    @router.get("/papers/{paper_id:path}", response_model=Paper, tags=["index"], responses={404: {"model": ErrorBody}})
    def paper(paper_id: Annotated[str, Path(description="The paper's id (as in search hits).")]) -> Paper:
        """One indexed paper."""
        found = assistant.paper(paper_id)
        if found is None:
            raise HTTPException(404, f"no paper with id {paper_id!r}")
        return found

    @router.post(
        "/ask",
        response_model=Answer,
        tags=["answers"],
        responses={
            413: {"model": ErrorBody},
            200: {
                "description": "The checked Answer as JSON, or with `stream: true` server-sent events: `delta` "
                '{"text"}..., then `answer` (the Answer as JSON) or `error` {"error", "status"}.',
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
        },
    )
    async def ask(body: AskRequest) -> Any:
        """Answer a question from the indexed abstracts, every claim cited as [n] and checked."""
        options = QueryOptions(
            history=[t.model_dump() for t in body.history],
            k=body.k,
            year=_years(body.year),
            sources=body.sources,
            backend=body.backend,
            model=body.model,
        )
        if not body.stream:
            return await run_in_threadpool(assistant.ask, body.question, options)
        items = assistant.stream(body.question, options)
        first = await run_in_threadpool(next, items, None)  # a failure before any text still gets its status
        return AnswerStream(
            answer_events(first, items), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    _ingest_route(router, assistant)

    return router


def _ingest_route(router: APIRouter, assistant: Assistant) -> None:
    """`POST /ingest` on `router`: uploads stored by content hash under the data dir and indexed (with a token)."""
    settings = assistant.settings
    max_upload = settings.api_max_upload_mb * 1_000_000
    too_large = body_caps(settings)["/ingest"][1]

    @router.post(
        "/ingest",
        response_model=IngestResponse,
        tags=["index"],
        responses={403: {"model": ErrorBody}, 413: {"model": ErrorBody}},
    )
    def ingest(
        files: Annotated[
            list[UploadFile], File(description="JSONL, JSON, CSV, TSV or TXT files of abstracts, each maybe gzipped.")
        ],
    ) -> IngestResponse:
        """Store and index uploaded files (only when the server has RAG_API_TOKEN; stored by content hash). A file
        from which no paper could be indexed is not kept; when that is every file, the answer is 400."""
        if settings.api_token is None:
            raise HTTPException(403, "POST /ingest is disabled: start the server with RAG_API_TOKEN set")
        suffixes = [upload_suffix(f.filename) for f in files]  # refuse a bad type before storing anything
        folder, stored = settings.data_dir / "uploads", []
        try:
            for upload, suffix in zip(files, suffixes, strict=True):
                try:
                    path, size, created = store_upload(upload.file, suffix, folder, max_bytes=max_upload)
                except UploadTooLarge:
                    raise HTTPException(413, too_large) from None
                except InputError as exc:
                    raise InputError(exc.message, path=upload.filename or "upload") from None
                stored.append(Stored(path.resolve(), created, upload.filename or "upload", size))
            # an upload never waits in a worker thread for another writer: fifty of them once held every thread,
            # /health included, for the whole ingest
            report = assistant.ingest([s.path for s in stored], progress=False, wait=False)
        finally:  # also when storing or indexing failed: what this request added and nothing uses goes again
            papers = {s.path: len(assistant.manifest.papers_of(str(s.path))) for s in stored}
            for s in stored:
                if s.created and not papers[s.path]:
                    s.path.unlink(missing_ok=True)
        names = {str(s.path): s.filename for s in stored}  # errors name the client's file, not the server's path
        report.errors = [e.model_copy(update={"path": names.get(e.path, e.path)}) for e in report.errors]
        results = [
            StoredFile(
                filename=s.filename,
                stored_as=s.path.relative_to(settings.data_dir.resolve()).as_posix() if papers[s.path] else None,
                bytes=s.size,
                papers=papers[s.path],
            )
            for s in stored
        ]
        if not any(papers.values()):
            first = str(report.errors[0]) if report.errors else "no papers found"
            more = f" (and {len(report.errors) - 1} more errors)" if len(report.errors) > 1 else ""
            raise InputError(f"nothing in the upload could be indexed: {first}{more}")
        return IngestResponse(files=results, report=report)


def create_app(assistant: Assistant, *, host: str = "127.0.0.1") -> FastAPI:
    """The FastAPI app over `assistant` (its settings give the token, the body caps and the extra host names);
    docs at /docs. It answers only to loopback names, `host` (the address it is served on) and RAG_ALLOWED_HOSTS,
    and refuses cross-origin state changes (`rag.web_guard`)."""
    app = FastAPI(
        title="rag-abstracts",
        version=rag.__version__,
        description="Cited answers and search over research-paper abstracts. With RAG_API_TOKEN set, every "
        "endpoint wants `Authorization: Bearer <token>` (use Authorize).",
    )
    token = assistant.settings.api_token
    app.state.api_token = token.get_secret_value() if token else None
    app.state.assistant = assistant
    _install_error_handlers(app)
    app.include_router(build_router(assistant))
    if app.state.api_token:
        app.add_middleware(BearerAuthMiddleware, token=app.state.api_token, open_prefixes=(*DOCS_PATHS, UI_PATH))
    app.add_middleware(BodyCapMiddleware, caps=body_caps(assistant.settings))  # /ask, /ingest: 413 unparsed
    hosts = allowed_hosts(host, assistant.settings.allowed_hosts)
    app.add_middleware(WebGuard, hosts=hosts)  # added last, so it runs first: before the token, before a body

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return JSONResponse({"docs": "/docs", "openapi": "/openapi.json"})

    return app
