"""Keeping the BM25 index in step with the manifest: increments after each ingest (a delta segment for new and
changed chunks, tombstones for gone ones, segments merged past a size ratio), or a rebuild from every stored chunk
when there is no usable index. A mixin of `rag.index.ingest.Ingestor`, which sets the manifest, the BM25 folder,
its parameters and the disk-space check."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from rag.acronyms import AcronymMap
from rag.index.bm25 import FORMAT as BM25_FORMAT
from rag.index.bm25 import BM25Index
from rag.index.manifest import BM25_PARAMS, Manifest
from rag.index.space import DiskSpace
from rag.types import Paper

log = logging.getLogger(__name__)


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its first line, at most 300 characters."""
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]


class LexicalUpkeep:
    """BM25 upkeep over `manifest` into `bm25_dir` (k1, b and the title weight set by the class mixing this in)."""

    manifest: Manifest
    space: DiskSpace
    bm25_dir: Path
    bm25_k1: float
    bm25_b: float
    bm25_title_weight: int
    bm25: BM25Index | None

    def _lexical_text(self, text: str, paper: Paper) -> str:
        """What BM25 indexes for one chunk: the title counts `bm25_title_weight` times (field weighting)."""
        return ("" if paper.title_derived else (paper.title + "\n") * self.bm25_title_weight) + text

    def _current_bm25(self) -> BM25Index | None:
        """The saved index, when increments can start from it (built with today's parameters and format)."""
        if self.manifest.get_meta(BM25_PARAMS) != self._bm25_params():
            return None
        try:
            index = BM25Index.load(self.bm25_dir)
        except Exception as exc:  # unreadable: rebuilt from the manifest
            if self.space.explains(exc):
                raise
            log.warning("the BM25 index in %s cannot be read (%s); rebuilding it", self.bm25_dir, one_line(exc))
            return None
        # as its own files say: a writer of an older version killed before it noted its parameters leaves them stale
        return index if index.generation and index.segmented and index.plain_digits else None

    def sync_bm25(self) -> BM25Index:
        """Bring the BM25 index up to date by increments: the chunks of the papers noted as pending (and of any
        the index lacks) go into a new delta segment, the chunks they replace and those the manifest no longer
        holds become tombstones, segments are merged once the deltas outgrow `MERGE_RATIO` of the main one; then
        a new generation is saved and the pending marks cleared. Rebuilds from scratch when there is no usable
        index."""
        index = self._current_bm25()
        if index is None:
            return self.rebuild_bm25()
        dirty, pending = self.manifest.lexical_dirty(), self.manifest.lexical_pending()
        stored = self.manifest.chunk_ids()
        live = set(index.ids)
        papers = set(pending) | {cid.rsplit(":", 1)[0] for cid in stored if cid not in live}
        stored_set = set(stored)
        stale = [cid for cid in index.ids if cid not in stored_set or cid.rsplit(":", 1)[0] in papers]
        index.delete(stale)
        ids: list[str] = []
        texts: list[str] = []
        years: list[int] = []
        sources: dict[str, list[int]] = {}
        links: dict[str, set[str]] = {}
        for cid, text, paper in self.manifest.chunk_texts_of(papers):
            if paper.id not in links:
                links[paper.id] = self.manifest.sources_of(paper.id)
            for source in links[paper.id]:
                sources.setdefault(source, []).append(len(ids))
            ids.append(cid)
            texts.append(self._lexical_text(text, paper))
            years.append(paper.year or 0)
        index.add(ids, texts, years, sources)
        if stale or (dirty and not pending):  # definitions may be gone (or were never merged): make the map again
            index.acronyms = AcronymMap(self.manifest.acronym_pairs()).to_json()
        elif papers:
            index.acronyms = AcronymMap.merge_json(index.acronyms, self.manifest.acronym_pairs_of(papers))
        if stale or ids or dirty:
            merge = index.needs_merge()
            if merge:
                index.merge()
            index.save(self.bm25_dir, f"g{time.time_ns()}")
            if merge:  # served memory-mapped, as the rebuilt segment would be after a reload
                index = BM25Index.load(self.bm25_dir)
        self.manifest.clear_lexical(pending)
        self.bm25 = index
        return index

    def rebuild_bm25(self) -> BM25Index:
        """Rebuild the BM25 index (with its year and source filter masks) from every stored chunk as one segment,
        persist it, and clear the pending marks."""
        ids: list[str] = []
        texts: list[str] = []
        years: list[int] = []
        positions: dict[str, list[int]] = {}
        for i, (cid, text, paper) in enumerate(self.manifest.iter_chunk_texts()):
            ids.append(cid)
            texts.append(self._lexical_text(text, paper))
            years.append(paper.year or 0)
            positions.setdefault(paper.id, []).append(i)
        sources: dict[str, list[int]] = {}
        for source, pid in self.manifest.source_papers():
            sources.setdefault(source, []).extend(positions.get(pid, []))
        index = BM25Index(self.bm25_k1, self.bm25_b)
        index.build(ids, texts, years, sources)
        index.acronyms = AcronymMap(self.manifest.acronym_pairs()).to_json()
        index.save(self.bm25_dir, f"g{time.time_ns()}")
        with self.manifest.transaction():
            self.manifest.set_meta(BM25_PARAMS, self._bm25_params())
            self.manifest.clear_lexical()
        self.bm25 = index
        return index

    def _bm25_params(self) -> str:
        return f"k1={self.bm25_k1},b={self.bm25_b},title={self.bm25_title_weight},lexical={BM25_FORMAT}"
