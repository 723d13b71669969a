"""Incremental, batched ingestion: files -> papers (deduped) -> chunks -> Chroma + BM25.

Unchanged files are skipped by fingerprint, so re-ingesting embeds nothing. A file is only
allowed to remove what it used to hold once it was read without errors: a broken file never
loses what is already indexed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from rag.corpus.load import expand_paths, file_digest, read_file
from rag.corpus.records import RawPaper, arxiv_id, content_hash, normalize
from rag.index.bm25 import BM25Index
from rag.index.chunking import Chunker
from rag.index.embedders import Embedder
from rag.index.manifest import FileRecord, Manifest
from rag.index.store import VectorStore
from rag.types import FileError, IngestReport, Paper

log = logging.getLogger(__name__)
BATCH_PAPERS = 256


def _key(text: str) -> str:
    return hashlib.sha1(normalize(text).encode()).hexdigest()


@dataclass
class _Run:
    """Bookkeeping for one ingest call."""

    report: IngestReport
    added: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)
    changed_index: bool = False


class Ingestor:
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
    ) -> None:
        self.manifest = manifest
        self.store = store
        self.chunker = chunker
        self._embedder = embedder
        self.bm25_dir = bm25_dir
        self.bm25_k1, self.bm25_b, self.bm25_title_weight = bm25_k1, bm25_b, bm25_title_weight

    def ingest(self, paths: Iterable[str | Path], *, prune: bool = False, progress: bool = True) -> IngestReport:
        """Ingest files and directories; returns what was added, updated, skipped and wrong."""
        started = time.perf_counter()
        run = _Run(IngestReport())
        found = expand_paths(paths)
        run.report.errors.extend(found.errors)
        run.report.files = len(found.files)
        bar = tqdm(desc="ingest", unit="paper", disable=not progress, leave=False)
        try:
            for path in found.files:
                bar.set_postfix_str(path.name)
                self._ingest_file(path, run, bar)
            if prune:
                self._prune(run)
        finally:
            bar.close()
        if run.changed_index or self.manifest.get_meta("bm25_params") != self._bm25_params():
            self.rebuild_bm25()
        report = run.report
        report.papers_added = len(run.added)
        report.papers_updated = len(run.updated - run.added)
        report.papers_unchanged = len(run.unchanged - run.added - run.updated)
        report.seconds = time.perf_counter() - started
        return report

    # --- files ---------------------------------------------------------------------------
    def _ingest_file(self, path: Path, run: _Run, bar: tqdm) -> None:
        source = str(path)
        stat = path.stat()
        known = self.manifest.file(source)
        if known and known.size == stat.st_size and known.mtime == stat.st_mtime:
            run.report.files_skipped_unchanged += 1
            run.unchanged |= self.manifest.papers_of(source)
            return
        digest = file_digest(path)
        if known and known.sha256 == digest:
            self.manifest.set_file(FileRecord(source, digest, stat.st_size, stat.st_mtime))
            self.manifest.commit()
            run.report.files_skipped_unchanged += 1
            run.unchanged |= self.manifest.papers_of(source)
            return

        errors_before = len(run.report.errors)
        seen: set[tuple[str, int]] = set()
        batch: list[RawPaper] = []
        for item in read_file(path):
            if isinstance(item, FileError):
                log.info("%s", item)
                run.report.errors.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH_PAPERS:
                self._process(batch, run, seen)
                bar.update(len(batch))
                batch = []
        self._process(batch, run, seen)
        bar.update(len(batch))

        if len(run.report.errors) == errors_before:
            self._drop_stale_links(source, seen, run)
            self.manifest.set_file(FileRecord(source, digest, stat.st_size, stat.st_mtime))
        self.manifest.commit()

    def _drop_stale_links(self, source: str, seen: set[tuple[str, int]], run: _Run) -> None:
        rows = self.manifest.db.execute("SELECT paper_id, line FROM links WHERE source=?", (source,)).fetchall()
        for pid, line in rows:
            if (pid, line) in seen:
                continue
            self.manifest.db.execute("DELETE FROM links WHERE paper_id=? AND source=? AND line=?", (pid, source, line))
            if self.manifest.db.execute("SELECT 1 FROM links WHERE paper_id=?", (pid,)).fetchone() is None:
                self._remove_paper(pid, run)

    def _remove_paper(self, pid: str, run: _Run) -> None:
        self.store.delete(self.manifest.chunk_ids_of(pid))
        self.manifest.delete_paper(pid)
        run.report.papers_removed += 1
        run.changed_index = True

    def _prune(self, run: _Run) -> None:
        """Remove papers whose every source file is gone from disk."""
        gone = {s for s in set(self.manifest.sources()) | set(self.manifest.files()) if not Path(s).exists()}
        for source in sorted(gone):
            for pid in self.manifest.papers_of(source):
                if self.manifest.unlink(pid, source):
                    self._remove_paper(pid, run)
            self.manifest.forget_file(source)
        self.manifest.commit()

    # --- papers --------------------------------------------------------------------------
    def _new_id(self, raw: RawPaper) -> str:
        pid = arxiv_id(raw.given_id) or raw.given_id or content_hash(raw.title, raw.abstract)
        if raw.given_id and self.manifest.get(pid) is not None:
            pid = f"{pid}-{content_hash(raw.title, raw.abstract)[:8]}"
        return pid

    def _match(self, raw: RawPaper, abstract_key: str, title_key: str | None) -> str | None:
        if raw.given_id:
            given = arxiv_id(raw.given_id) or raw.given_id
            if self.manifest.get(given) is not None:
                return given
            return self.manifest.find(abstract_key, None)  # distinct ids: only identical text merges
        return self.manifest.find(abstract_key, title_key)

    def _process(self, batch: list[RawPaper], run: _Run, seen: set[tuple[str, int]]) -> None:
        to_embed: dict[str, tuple[Paper, str | None, str]] = {}
        for raw in batch:
            akey = _key(raw.abstract)
            tkey = None if raw.title_derived else _key(raw.title)
            pid = self._match(raw, akey, tkey)
            if pid is None:
                paper = self._paper_from(raw, self._new_id(raw))
                run.added.add(paper.id)
                to_embed[paper.id] = (paper, tkey, akey)
            else:
                paper = self._merge(pid, raw, run, to_embed)
            self.manifest.link(paper.id, raw.source, raw.line)
            seen.add((paper.id, raw.line))
            run.touched.add(paper.id)
        if to_embed:
            self._embed_and_store(list(to_embed.values()), run)

    def _merge(
        self,
        pid: str,
        raw: RawPaper,
        run: _Run,
        to_embed: dict[str, tuple[Paper, str | None, str]],
    ) -> Paper:
        existing = to_embed[pid][0] if pid in to_embed else self.manifest.get(pid)
        assert existing is not None
        if pid in run.touched:
            run.report.duplicates_merged += 1
        update: dict[str, object] = {}
        same_file = any(s.rsplit(":", 1)[0] == raw.source for s in existing.sources)
        revised = same_file and pid not in run.touched  # the file that holds it was edited
        if revised and normalize(existing.abstract) != normalize(raw.abstract):
            update["abstract"] = raw.abstract
        if not raw.title_derived and (existing.title_derived or (revised and raw.title != existing.title)):
            update |= {"title": raw.title, "title_derived": False}
        for name in ("date", "author_count", "url"):
            if getattr(existing, name) is None and getattr(raw, name) is not None:
                update[name] = getattr(raw, name)
        if not existing.authors and raw.authors:
            update["authors"] = raw.authors
        if not update:
            run.unchanged.add(pid)
            return existing
        paper = existing.model_copy(update=update)
        run.updated.add(pid)
        title_key = None if paper.title_derived else _key(paper.title)
        to_embed[pid] = (paper, title_key, _key(paper.abstract))
        return paper

    @staticmethod
    def _paper_from(raw: RawPaper, pid: str) -> Paper:
        return Paper(
            id=pid,
            title=raw.title,
            abstract=raw.abstract,
            authors=raw.authors,
            author_count=raw.author_count if raw.author_count is not None else (len(raw.authors) or None),
            date=raw.date,
            source=raw.source,
            line=raw.line,
            url=raw.url,
            title_derived=raw.title_derived,
            categories=raw.categories,
        )

    def _embed_and_store(self, items: list[tuple[Paper, str | None, str]], run: _Run) -> None:
        papers = {p.id: p for p, _, _ in items}
        chunks = []
        for paper, tkey, akey in items:
            self.store.delete(self.manifest.chunk_ids_of(paper.id))
            self.manifest.delete_chunks_of(paper.id)
            self.manifest.put(paper, tkey, akey)
            chunks.extend(self.chunker.chunk(paper))
        started = time.perf_counter()
        embedder = self._embedder()
        vectors = embedder.embed([c.embed_text for c in chunks])
        run.report.embed_seconds += time.perf_counter() - started
        self.store.upsert(chunks, vectors, papers)
        self.manifest.put_chunks(chunks)
        if self.manifest.get_meta("embed_model") is None:
            self.manifest.set_meta("embed_model", embedder.name)
            self.store.record_model(embedder.name)
        run.report.chunks_added += len(chunks)
        run.changed_index = True
        self.manifest.commit()

    # --- BM25 ----------------------------------------------------------------------------
    def rebuild_bm25(self) -> BM25Index:
        """Rebuild the BM25 index from every stored chunk and persist it.

        The title counts `bm25_title_weight` times in a chunk's text (field weighting).
        """
        ids, texts = [], []
        rows = self.manifest.db.execute(
            "SELECT c.id, c.text, p.data FROM chunks c JOIN papers p ON p.id = c.paper_id ORDER BY c.rowid"
        )
        for cid, text, data in rows:
            paper = Paper.model_validate_json(data)
            title = "" if paper.title_derived else (paper.title + "\n") * self.bm25_title_weight
            ids.append(cid)
            texts.append(title + text)
        index = BM25Index(self.bm25_k1, self.bm25_b)
        index.build(ids, texts)
        index.save(self.bm25_dir)
        self.manifest.set_meta("bm25_params", self._bm25_params())
        self.manifest.commit()
        return index

    def _bm25_params(self) -> str:
        return f"k1={self.bm25_k1},b={self.bm25_b},title={self.bm25_title_weight}"
