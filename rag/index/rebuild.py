"""Re-indexing beside the live index (`rag ingest --reindex`). The new index is built in a staging folder (its own
manifest and BM25 index) and in a new vector-store collection while the old index goes on answering; then it takes
the old one's place: the BM25 index as a new generation of the live folder, the manifest by an atomic rename (what
readers in other processes follow: `Database.replaced`), the old collection dropped. A re-index that fails or is
killed before the rename leaves the old index whole; what it left behind is cleared by the next writer
(`clear_leftovers`)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from rag.config import Settings
from rag.index.bm25 import BM25Index
from rag.index.manifest import COLLECTION, Manifest, collection_in
from rag.index.store import VectorStore

R = TypeVar("R")
RETIRED = "retired_collection"
"""The collection a re-index replaced, noted in the new manifest until it is dropped (a writer killed in between
leaves it to the next one)."""
BM25_PARAMS = "bm25_params"  # without it the next ingest rebuilds the BM25 index from the manifest


def staging_dir(data_dir: Path) -> Path:
    """Where a re-index builds its manifest and BM25 index."""
    return data_dir / "reindex"


def clear_leftovers(manifest: Manifest, store: VectorStore) -> None:
    """Drop what a killed re-index left (its staging folder and collection, or the collection it replaced) and the
    files of collections no longer in the store."""
    staging = staging_dir(manifest.path.parent)
    if staging.exists():
        name = collection_in(staging / manifest.path.name)
        if name and name != store.name:
            store.drop(name)
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
    build: Callable[[Manifest, VectorStore, Path], tuple[R, BM25Index | None]],
) -> tuple[Manifest, R, BM25Index | None]:
    """Build a new index with `build(manifest, store, bm25_dir)` (an ingest into the staging ones, returning its
    result and the BM25 index it saved) and put it in place of `live` and `store`'s collection. Returns the new live
    manifest, `build`'s result and the BM25 index. Any failure of `build` removes what it built and is raised."""
    staging = staging_dir(live.path.parent)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    name = f"{base_name}-{time.time_ns():x}"
    new = Manifest(staging / live.path.name)
    new.set_meta(COLLECTION, name)  # first: the collection of a re-index killed from here on is found by it
    try:
        result, index = build(new, store.sibling(name), staging / "bm25")
        new.checkpoint()  # everything in the database file itself, which alone is moved
    except BaseException:
        new.close()
        with suppress(Exception):
            store.drop(name)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = store.name
    live.set_meta(BM25_PARAMS, None)  # killed before the manifest moves: its BM25 index is rebuilt, not trusted
    if index is not None:
        index.save(bm25_dir, f"g{time.time_ns()}")
    else:
        shutil.rmtree(bm25_dir, ignore_errors=True)
    new.set_meta(RETIRED, old)
    new.checkpoint()
    new.close()
    live.close()
    for suffix in ("-wal", "-shm"):  # the old database's log must never meet the new one
        Path(f"{live.path}{suffix}").unlink(missing_ok=True)
    os.replace(new.path, live.path)
    current = Manifest(live.path)
    store.use(name)
    store.drop(old)
    current.set_meta(RETIRED, None)
    shutil.rmtree(staging, ignore_errors=True)
    return current, result, index


def wipe(live: Manifest, store: VectorStore, settings: Settings) -> Manifest:
    """Delete everything indexed (`Assistant.reset`): the collection, the manifest and the BM25 index; returns the
    new, empty manifest."""
    store.reset(settings)
    live.close()
    for suffix in ("", "-wal", "-shm"):  # a stale write-ahead log must never meet the new database
        Path(f"{live.path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(settings.bm25_dir, ignore_errors=True)
    return Manifest(live.path)
