"""Re-indexing beside the live index (`rag ingest --reindex`). The new index is built in a staging folder (its own
manifest and BM25 index) and in a new vector-store collection while the old index goes on answering; then it takes
the old one's place: its BM25 generation is written into the live folder unpublished, the manifest replaces the live
one by an atomic rename (the commit point, which readers in other processes follow: `Database.replaced`), the BM25
generation is published, the old collection dropped. A re-index that fails, reads no paper, or is killed before the
rename leaves the old index whole; one killed after it leaves the new index, its BM25 index marked for a rebuild.
What either left behind is cleared by the next writer (`clear_leftovers`)."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from pathlib import Path

from rag.config import Settings
from rag.errors import InputError
from rag.index.bm25 import BM25Index
from rag.index.lexical import one_line
from rag.index.manifest import BM25_PARAMS, COLLECTION, Manifest, collection_in
from rag.index.store import VectorStore
from rag.types import IngestReport

log = logging.getLogger(__name__)
RETIRED = "retired_collection"
"""The collection a re-index replaced, noted in the new manifest until it is dropped (a writer killed in between
leaves it to the next one)."""


def staging_dir(data_dir: Path) -> Path:
    """Where a re-index builds its manifest and BM25 index."""
    return data_dir / "reindex"


def clear_leftovers(manifest: Manifest, store: VectorStore, *, always: bool = False) -> None:
    """Drop what a killed re-index left (its staging folder and the collection its staging manifest names, or the
    collection it replaced), by exact name only (a Chroma server may hold other indexes' collections), and the files
    of collections no longer in the store. Unless `always`, only when a re-index left a mark (the store is not even
    asked otherwise: a plain ingest's first store call is its first batch)."""
    staging = staging_dir(manifest.path.parent)
    if not always and not staging.exists() and not manifest.get_meta(RETIRED):
        return
    if staging.exists():
        if built := collection_in(staging / manifest.path.name, ""):
            store.drop(built)  # never the live one
        shutil.rmtree(staging, ignore_errors=True)
    retired = manifest.get_meta(RETIRED)
    if retired:
        store.drop(retired)
        manifest.set_meta(RETIRED, None)
    store.sweep()  # what a reader that held the old collection wrote back when it let go of it


def rebuild(
    live: Manifest,
    store: VectorStore,
    bm25_dir: Path,
    base_name: str,
    build: Callable[[Manifest, VectorStore, Path], tuple[IngestReport, BM25Index | None]],
    swapping: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> tuple[Manifest, IngestReport, BM25Index | None]:
    """Build a new index with `build(manifest, store, bm25_dir)` (an ingest into the staging ones, returning its
    result and the BM25 index it saved) and put it in place of `live` and `store`'s collection. Returns the new live
    manifest, `build`'s result and the BM25 index. Any failure of `build` removes what it built and is raised. The
    manifest files are swapped inside `swapping()` (reads of this process that fail then are tried again after it)."""
    staging = staging_dir(live.path.parent)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    name = f"{base_name}-{time.time_ns():x}"
    new = Manifest(staging / live.path.name)
    new.set_meta(COLLECTION, name)  # first: the collection of a re-index killed from here on is found by it
    try:
        result, index = build(new, store.sibling(name), staging / "bm25")
        if not new.count_papers():
            raise InputError(f"the re-index read no paper{_first_error(result)}; the index is unchanged")
        if index is not None:  # beside the live generations; readers load it once published
            index.save(bm25_dir, f"g{time.time_ns()}", publish=False)
        params = new.get_meta(BM25_PARAMS) if index is not None else None
        with new.transaction():
            new.set_meta(BM25_PARAMS, None)  # killed between the rename and the publishing: BM25 is rebuilt
            new.set_meta(RETIRED, store.name)
        new.checkpoint()  # everything in the database file itself, which alone is moved
    except BaseException:
        new.close()
        with suppress(Exception):
            store.drop(name)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with swapping(), live.closed():
        new.close()
        _remove(live.path, "-wal", "-shm")  # the old database's log must never meet the new one
        os.replace(new.path, live.path)
        current = Manifest(live.path)
    try:  # the new index is in place: what is left is upkeep, and a failure of it is not the re-index's
        if index is not None:
            index.publish(bm25_dir)
        with current.transaction():
            current.set_meta(BM25_PARAMS, params)
    except Exception as exc:
        log.warning(
            "the new index is in place, but its BM25 index could not be published (%s): keyword search "
            "lags until the next `rag ingest` rebuilds it",
            one_line(exc),
        )
    try:
        store.use(name)
        clear_leftovers(current, store, always=True)  # the old collection among them
    except Exception as exc:
        log.warning("the new index is in place; the old collection is dropped by the next writer (%s)", one_line(exc))
    return current, result, index


def _remove(database: Path, *suffixes: str) -> None:
    """Remove an SQLite database's files: the database itself ("") and its "-wal" and "-shm" logs."""
    for suffix in suffixes:
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _first_error(report: IngestReport) -> str:
    """ " (N errors; the first: PATH: MESSAGE)" for an ingest report with errors, else ""."""
    if not report.errors:
        return ""
    first = report.errors[0]
    count = f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}"
    return f" ({count}; the first: {first.path}: {first.message})"


def wipe(live: Manifest, store: VectorStore, settings: Settings) -> Manifest:
    """Delete everything indexed (`Assistant.reset`): the collection, the manifest and the BM25 index; returns the
    new, empty manifest."""
    store.reset()
    with live.closed():
        _remove(live.path, "", "-wal", "-shm")  # a stale write-ahead log must never meet the new database
        folder = settings.bm25_dir
        if folder.exists():  # moved away whole first: a reader loading it finds it gone, not half-deleted
            os.replace(folder, folder.with_name(f"{folder.name}.removed-{time.time_ns()}"))
        for gone in folder.parent.glob(f"{folder.name}.removed-*"):  # with what a killed reset left
            shutil.rmtree(gone, ignore_errors=True)
        return Manifest(live.path)
