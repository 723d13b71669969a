"""Incremental, batched ingestion: files -> papers (deduped) -> chunks -> Chroma + BM25.

Unchanged files are skipped by fingerprint, so re-ingesting embeds nothing. A file is only
allowed to remove what it used to hold once it was read without errors: a broken file never
loses what is already indexed.

Each batch is all or nothing across the manifest and the vector store: everything is computed
(chunks, vectors) before anything is written; the chunk ids the batch will touch in the store are
journaled; the manifest rows and the store writes then commit in one manifest transaction that also
clears the journal. A batch that fails is rolled back and its store writes undone from the journal;
a process killed mid-batch leaves the journal for the next ingest to repair. Progress inside a
big file is durable per batch: a re-run matches the papers already written and embeds only the
rest. Each batch also notes, in its own transaction, the papers the BM25 index has to catch up with; after
the files, the BM25 index catches up by increments (`sync_bm25`: a delta segment for the new and changed
chunks, tombstones for the gone ones, segments merged past a size ratio). It is rebuilt from scratch only when
there is none yet, its parameters changed, or it cannot be read.

The acronyms each paper defines ("long short-term memory (LSTM)") are harvested when its batch is written and
stored in the same manifest transaction (a paper re-read or removed takes its own out); each BM25 generation
saves the map they make (`acronyms.json`), so readers see it change with the index, atomically. An increment
that only adds papers merges their definitions into the map; one that removes or changes papers makes it again.

A full disk stops the ingest with one `DiskFullError` line: free space is checked before each
batch, and a write that fails for want of space is rolled back like any failed batch (what the
store could not undo stays in the journal for the next run). Each vector-store write is bounded
in time (`store_write_timeout`), so a store that hangs cannot hold the writer lock forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm.auto import tqdm

from rag.acronyms import harvest
from rag.config import Settings
from rag.corpus.load import DEFAULT_LIMITS, expand_paths, file_digest, read_file
from rag.corpus.records import RawPaper
from rag.corpus.stream import ReadLimits
from rag.errors import DiskFullError, StoreWriteTimeout
from rag.index.bm25 import BM25Index
from rag.index.bounded import BoundedWrites
from rag.index.chunking import Chunker
from rag.index.embedders import Embedder
from rag.index.lexical import LexicalUpkeep, one_line
from rag.index.manifest import BM25_DIRTY, BM25_PARAMS, FileRecord, Manifest
from rag.index.plan import Batch, BatchPlanner, Run
from rag.index.space import DiskSpace
from rag.index.store import VectorStore
from rag.types import Chunk, FileError, IngestReport, Paper

log = logging.getLogger(__name__)
BATCH_PAPERS = 256
STORE_WRITE_TIMEOUT = 300.0
ACRONYMS_HARVESTED = "acronyms_harvested"
"""Manifest meta key set to `HARVEST_RULES` once every stored paper's acronyms are in the manifest as the current
rules harvest them (new batches keep it so)."""
HARVEST_RULES = "2"
"""The version of `rag.acronyms.harvest`'s rules (2: letters inside compound words, "hyperspectral image (HSI)"):
an index harvested by other rules is harvested again on its next ingest."""
INGEST_STARTED = "ingest_started"
"""Manifest meta key set when an ingest first starts in a data dir (before it commits anything)."""


def ingest_started(manifest: Manifest) -> bool:
    """Whether any ingest ever started on this manifest (even one that committed nothing)."""
    return bool(manifest.get_meta(INGEST_STARTED) or manifest.count_papers() or manifest.files() or manifest.journal())


def _defined(paper: Paper) -> set[tuple[str, str]]:
    """The acronyms a paper's title and abstract define, with their long forms."""
    title = "" if paper.title_derived else f"{paper.title}. "
    return harvest(title + paper.abstract)


class Ingestor(LexicalUpkeep):
    """Brings files into the manifest, the vector store and the BM25 index."""

    def __init__(
        self,
        manifest: Manifest,
        store: VectorStore,
        chunker: Chunker,
        embedder: Callable[[], Embedder],
        bm25_dir: Path,
        *,
        bm25_k1: float = 0.9,
        bm25_b: float = 0.4,
        bm25_title_weight: int = 2,
        batch_papers: int = BATCH_PAPERS,
        limits: ReadLimits = DEFAULT_LIMITS,
        space: DiskSpace | None = None,
        store_write_timeout: float = STORE_WRITE_TIMEOUT,
    ) -> None:
        self.manifest = manifest
        self.planner = BatchPlanner(manifest)
        self.space = space or DiskSpace(bm25_dir.parent, 0)
        self.store = BoundedWrites(store, store_write_timeout, self.space.data_dir)
        self.limits = limits
        self.chunker = chunker
        self._embedder = embedder
        self.bm25_dir = bm25_dir
        self.bm25_k1, self.bm25_b, self.bm25_title_weight = bm25_k1, bm25_b, bm25_title_weight
        self.batch_papers = batch_papers
        self.bm25: BM25Index | None = None  # the index this ingest brought up to date, if it did

    @classmethod
    def configured(
        cls,
        settings: Settings,
        manifest: Manifest,
        store: VectorStore,
        embedder: Callable[[], Embedder],
        bm25_dir: Path,
    ) -> Ingestor:
        """An ingestor into `manifest`, `store` and `bm25_dir` with the chunking, BM25 parameters, read limits,
        disk-space floor and store-write timeout of `settings`."""
        return cls(
            manifest,
            store,
            Chunker(settings.chunk_size, settings.chunk_overlap, settings.embed_title),
            embedder,
            bm25_dir,
            bm25_k1=settings.bm25_k1,
            bm25_b=settings.bm25_b,
            bm25_title_weight=settings.bm25_title_weight,
            limits=ReadLimits.from_settings(settings),
            space=DiskSpace(settings.data_dir, settings.min_free_mb),
            store_write_timeout=settings.store_write_timeout,
        )

    def ingest(self, paths: Iterable[str | Path], *, prune: bool = False, progress: bool = True) -> IngestReport:
        """Ingest files and directories; returns what was added, updated, skipped and wrong.

        Raises `DiskFullError` (one line, nothing indexed lost) when the disk holding the index fills up.
        """
        started = time.perf_counter()
        run = Run(IngestReport())
        bar = tqdm(desc="ingest", unit="paper", disable=not progress, leave=False)
        try:
            self.space.check()
            if self.manifest.get_meta(INGEST_STARTED) is None:
                self.manifest.set_meta(INGEST_STARTED, time.strftime("%Y-%m-%dT%H:%M:%S"))
            run.report.repaired = self.repair()
            self._harvest_existing()
            found = expand_paths(paths)
            run.report.errors.extend(found.errors)
            run.report.skipped_unsupported = dict(found.skipped)
            run.report.files = len(found.files)
            for path in found.files:
                bar.set_postfix_str(path.name)
                self._ingest_file(path, run, bar)
            if prune:
                self._prune(run)
        except BaseException as exc:
            bar.close()
            full = self.space.explains(exc)
            try:
                self._finish(rebuild=not full)
            except Exception:  # the ingest's own failure is the one to report
                log.debug("finishing a failed ingest failed too", exc_info=True)
            if full and not isinstance(exc, DiskFullError):
                raise self.space.full_error() from exc
            raise
        bar.close()
        self._finish(rebuild=True)
        report = run.report
        report.papers_added = len(run.added)
        report.papers_updated = len(run.updated - run.added)
        report.papers_unchanged = len(run.unchanged - run.added - run.updated)
        report.seconds = time.perf_counter() - started
        return report

    def _finish(self, *, rebuild: bool) -> None:
        """Bring BM25 up to date and tidy the manifest's log; a failure here never hides the ingest's outcome."""
        if rebuild:
            self._rebuild_if_needed()
        try:
            self.manifest.checkpoint()
        except Exception as exc:  # the write-ahead log stays; SQLite folds it back later
            log.debug("manifest checkpoint failed: %s", exc)

    def _rebuild_if_needed(self) -> None:
        try:
            if self.manifest.lexical_dirty() or self.manifest.get_meta(BM25_PARAMS) != self._bm25_params():
                self.sync_bm25()
        except Exception as exc:  # the dirty mark stays: the next ingest or search retries
            log.debug("updating the BM25 index failed", exc_info=True)
            if self.space.explains(exc):
                raise self.space.full_error() from exc
            log.warning("updating the BM25 index failed (%s); the next ingest retries", one_line(exc))

    def _harvest_existing(self) -> None:
        """Once per index made before acronyms were harvested, or harvested by older rules: harvest the papers it
        holds (later ingests harvest only the papers of their own batches)."""
        if self.manifest.get_meta(ACRONYMS_HARVESTED) == HARVEST_RULES:
            return
        with self.manifest.transaction():
            for paper in self.manifest.iter_papers():
                self.manifest.put_acronyms(paper.id, _defined(paper))
            self.manifest.set_meta(ACRONYMS_HARVESTED, HARVEST_RULES)
            if self.manifest.count_papers():
                self.manifest.set_meta(BM25_DIRTY, "1")

    # --- repair --------------------------------------------------------------------------
    def repair(self) -> int:
        """Undo a vector-store write that did not commit (a crash or a failed batch): chunk ids in the
        journal that the manifest does not hold are deleted from the store; those it holds are embedded
        again from the manifest's text. Returns how many vectors were re-written."""
        ids = self.manifest.journal()
        if not ids:
            return 0
        present = self.manifest.existing_chunks(ids)
        self.store.delete([cid for cid in ids if cid not in present])
        pids = sorted({cid.rsplit(":", 1)[0] for cid in present})
        papers = self.manifest.get_many(pids)
        chunks = [c for pid in pids if pid in papers for c in self.chunker.chunk(papers[pid])]
        if chunks:
            vectors = self._embedder().embed([c.embed_text for c in chunks])
            self.store.upsert(chunks, vectors, self._metadatas(chunks, papers))
        self.manifest.journal_clear()
        log.warning(
            "repaired an interrupted ingest: %d vectors removed, %d re-written", len(ids) - len(present), len(chunks)
        )
        return len(chunks)

    # --- files ---------------------------------------------------------------------------
    def _ingest_file(self, path: Path, run: Run, bar: tqdm) -> None:
        source = str(path)
        try:  # the file may be gone or unreadable by now
            stat = path.stat()
            known = self.manifest.file(source)
            if known and known.size == stat.st_size and known.mtime == stat.st_mtime:
                run.report.files_skipped_unchanged += 1
                run.unchanged |= self.manifest.papers_of(source)
                return
            digest = file_digest(path)
        except OSError as exc:
            run.report.errors.append(FileError(path=source, message=f"cannot read: {exc.strerror or exc}"))
            return
        if known and known.sha256 == digest:
            self.manifest.set_file(FileRecord(source, digest, stat.st_size, stat.st_mtime))
            run.report.files_skipped_unchanged += 1
            run.unchanged |= self.manifest.papers_of(source)
            return

        errors_before = len(run.report.errors)
        seen: set[tuple[str, int]] = set()
        raws: list[RawPaper] = []
        for item in read_file(path, self.limits):
            if isinstance(item, FileError):
                log.info("%s", item)
                run.report.errors.append(item)
                continue
            raws.append(item)
            if len(raws) >= self.batch_papers:
                self._process(raws, run, seen)
                bar.update(len(raws))
                raws = []
        self._process(raws, run, seen)
        bar.update(len(raws))

        if len(run.report.errors) == errors_before:
            self._drop_stale_links(source, seen, run)
            self.manifest.set_file(FileRecord(source, digest, stat.st_size, stat.st_mtime))

    def _drop_stale_links(self, source: str, seen: set[tuple[str, int]], run: Run) -> None:
        batch = Batch()
        for pid, line in self.manifest.links_of_source(source):
            if (pid, line) not in seen:
                batch.dropped_links.append((pid, source, line))
        self._settle_removals(batch, run)
        self._commit(batch, [], None)

    def _settle_removals(self, batch: Batch, run: Run) -> None:
        """Papers left with no link at all are removed; others just lose a source."""
        gone = {(pid, s, ln) for pid, s, ln in batch.dropped_links}
        for pid in {pid for pid, _, _ in batch.dropped_links}:
            if any((pid, s, ln) not in gone for s, ln in self.manifest.links_of(pid)):
                batch.relinked.add(pid)
            else:
                batch.removed.add(pid)
                run.report.papers_removed += 1

    def _prune(self, run: Run) -> None:
        """Remove papers whose every source file is gone from disk."""
        gone = {s for s in set(self.manifest.sources()) | set(self.manifest.files()) if not Path(s).exists()}
        batch = Batch()
        for source in sorted(gone):
            batch.dropped_links += [(pid, source, line) for pid, line in self.manifest.links_of_source(source)]
        self._settle_removals(batch, run)
        self._commit(batch, [], None)
        for source in sorted(gone):
            self.manifest.forget_file(source)

    def _process(self, raws: list[RawPaper], run: Run, seen: set[tuple[str, int]]) -> None:
        if not raws:
            return
        batch = self.planner.plan(raws, run, seen)
        chunks = self._chunk(batch, run)
        vectors = None
        if chunks:
            started = time.perf_counter()
            embedder = self._embedder()
            vectors = embedder.embed([c.embed_text for c in chunks])
            run.report.embed_seconds += time.perf_counter() - started
            if self.manifest.get_meta("embed_model") is None:
                self.manifest.set_meta("embed_model", embedder.name)
                self.store.record_model(embedder.name)
        self._commit(batch, chunks, vectors)
        run.report.chunks_added += len(chunks)

    def _chunk(self, batch: Batch, run: Run) -> list[Chunk]:
        chunks: list[Chunk] = []
        for pid, (paper, _, _) in list(batch.papers.items()):
            try:
                chunks.extend(self.chunker.chunk(paper))
            except Exception as exc:  # one bad paper never sinks its batch
                run.report.errors.append(
                    FileError(path=paper.source, line=paper.line or None, message=f"cannot split into chunks: {exc}")
                )
                del batch.papers[pid]
                batch.links = [link for link in batch.links if link[0] != pid]
                run.added.discard(pid)
                run.updated.discard(pid)
        return chunks

    # --- one all-or-nothing write --------------------------------------------------------
    def _metadatas(self, chunks: list[Chunk], papers: dict[str, Paper]) -> list[dict[str, object]]:
        sources = {pid: self.manifest.sources_of(pid) for pid in {c.paper_id for c in chunks}}
        ids = self.manifest.source_ids(set().union(*sources.values()) if sources else set())
        return [
            VectorStore.metadata(c, papers[c.paper_id], sorted(ids[s] for s in sources[c.paper_id] if s in ids))
            for c in chunks
        ]

    def _commit(self, batch: Batch, chunks: list[Chunk], vectors) -> None:
        if batch.empty():
            return
        self.space.check()
        reembedded = set(batch.papers)
        new_ids = {c.id for c in chunks}
        stale = [cid for pid in reembedded | batch.removed for cid in self.manifest.chunk_ids_of(pid)]
        stale = [cid for cid in stale if cid not in new_ids]
        relinked = sorted(batch.relinked - reembedded - batch.removed)
        relinked_ids = [cid for pid in relinked for cid in self.manifest.chunk_ids_of(pid)]
        acronyms = {pid: _defined(paper) for pid, (paper, _, _) in batch.papers.items()}
        self.manifest.journal_add([*new_ids, *stale, *relinked_ids])
        try:
            with self.manifest.transaction():
                for pid in batch.removed:
                    self.manifest.delete_paper(pid)
                for pid, source, line in batch.dropped_links:
                    self.manifest.drop_link(pid, source, line)
                for pid in reembedded:
                    self.manifest.delete_chunks_of(pid)
                for paper, tkey, akey in batch.papers.values():
                    self.manifest.put(paper, tkey, akey)
                for pid, source, line in batch.links:
                    self.manifest.link(pid, source, line)
                self.manifest.put_chunks(chunks, {pid: p.abstract for pid, (p, _, _) in batch.papers.items()})
                for pid, pairs in acronyms.items():
                    self.manifest.put_acronyms(pid, pairs)
                self.manifest.mark_lexical_pending(reembedded | batch.removed | set(relinked))
                papers = {pid: p for pid, (p, _, _) in batch.papers.items()}
                self.store.delete(stale)
                if chunks:
                    self.store.upsert(chunks, vectors, self._metadatas(chunks, papers))
                if relinked_ids:
                    moved = self.manifest.chunks(relinked_ids)
                    kept = [moved[cid] for cid in relinked_ids if cid in moved]
                    self.store.update_metadata(
                        [c.id for c in kept], self._metadatas(kept, self.manifest.get_many(relinked))
                    )
                self.manifest.journal_clear()
        except BaseException as exc:
            self._undo_failed_batch(exc)
            raise

    def _undo_failed_batch(self, failure: BaseException) -> None:
        """Undo a failed batch's store writes now, or leave them in the journal for the next ingest to undo.

        After a full disk the undo waits for the next run: Chroma's SQLite can keep the lock of the write that met
        the full disk, and a delete behind it then waits for ever while holding the GIL, which no time bound
        (`BoundedWrites`) can end."""
        if self.space.explains(failure):
            log.debug("the disk is full: the failed batch stays in the journal for the next ingest to undo")
            return
        try:
            self.repair()
        except Exception as exc:
            log.debug("could not undo the failed batch yet", exc_info=True)
            if not isinstance(exc, StoreWriteTimeout) and not self.space.explains(exc):
                log.warning("could not undo the failed batch yet (%s); the next ingest will", one_line(exc))

    # --- BM25 ----------------------------------------------------------------------------
