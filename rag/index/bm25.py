"""The lexical index: BM25 over segments (a main one and small deltas), persisted beside Chroma as generations.

Each segment keeps raw term frequencies (`rag.index.segment`); deleted chunks are tombstones. A query combines the
document frequencies and the average length over the live documents of every segment and scores with the variant
bm25s uses by default ("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl / avgdl))),
so an index grown by increments scores as one built from scratch, and as bm25s would.

On disk: one folder per segment (`s<ns>/`, written once), one per generation (`g<ns>/`: the segments it lists, their
tombstones, the acronyms) and `CURRENT`, naming the generation, replaced atomically. A segment the current
generation lists is never removed; what no generation needs is removed after the pointer moved, so a writer killed
at any point leaves the previous generation (or the next one) loadable.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.index.segment import Segment
from rag.index.tokenizing import bm25s_module, query_terms, stemmer, tokenize

log = logging.getLogger(__name__)
FORMAT = 3
"""Bumped when what is indexed changes (3: subscript digits read as plain ones), so that the next ingest rebuilds an
index saved by an earlier version (its parameters, format included, no longer match); until then it is queried as it
was written."""
MERGE_RATIO = 0.1
"""Merge every segment into one when the deltas and tombstones exceed this share of the main segment."""
MAX_SEGMENTS = 8


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class BM25Index:
    """Sparse lexical index: tokenize (English stopwords, Snowball stemming), index, add, delete, score, save.

    `ids` are the live chunks (every segment's, in order); `scores`, `mask`, `positions` and `position_of` speak of
    positions in `ids`."""

    def __init__(self, k1: float = 0.9, b: float = 0.4) -> None:
        self.k1, self.b = k1, b
        self.segments: list[Segment] = []
        self.dead: dict[str, np.ndarray] = {}  # segment name -> its tombstoned documents (sorted)
        self.generation = ""
        self.acronyms: dict[str, list[str]] = {}  # acronym -> long forms the indexed abstracts define
        self._stem = stemmer()
        self._legacy: Any = None  # a bm25s index saved before segments existed (read-only)
        self.plain_digits = True
        """Whether queries are read with subscript digits as plain ones, as this index was written (format 3 on)."""
        self._refresh()

    # --- derived state ---------------------------------------------------------------------
    def _refresh(self) -> None:
        """Recompute what the segments and tombstones imply: live ids, years, statistics, position maps."""
        self._offsets = np.cumsum([0, *(len(s) for s in self.segments)])
        self._live: list[np.ndarray | None] = []
        ids: list[str] = []
        years, live_at, length_sum = [], [], 0
        for seg, offset in zip(self.segments, self._offsets[:-1], strict=True):
            dead = self.dead.get(seg.name)
            live = None
            if dead is not None and len(dead):
                live = np.ones(len(seg), dtype=bool)
                live[dead] = False
            self._live.append(live)
            if live is None:
                ids += seg.ids
                years.append(np.asarray(seg.years))
                live_at.append(np.arange(offset, offset + len(seg)))
                length_sum += int(np.asarray(seg.lengths, dtype=np.int64).sum())
            else:
                ids += [cid for cid, keep in zip(seg.ids, live, strict=True) if keep]
                years.append(np.asarray(seg.years)[live])
                live_at.append(offset + np.flatnonzero(live))
                length_sum += int(np.asarray(seg.lengths, dtype=np.int64)[live].sum())
        self.ids = ids
        self.years = np.concatenate(years).astype(np.int16) if years else np.zeros(0, dtype=np.int16)
        self._span = int(self._offsets[-1])
        at = np.concatenate(live_at) if live_at else np.zeros(0, dtype=np.int64)
        self._live_at = None if len(at) == self._span else at  # None: every document is live
        self._length_sum = length_sum
        self._positions: dict[str, list[int]] | None = None
        self._index_of: dict[str, int] | None = None
        self._sources: dict[str, np.ndarray] | None = None
        self._where: dict[str, tuple[int, int]] | None = None
        self._vocabulary: list[str] | None = None

    @property
    def source_positions(self) -> dict[str, np.ndarray]:
        """Source file -> positions (in `ids`) of its papers' chunks."""
        if self._sources is None:
            to_live = None
            if self._live_at is not None:
                to_live = np.full(self._span, -1, dtype=np.int64)
                to_live[self._live_at] = np.arange(len(self._live_at))
            parts: dict[str, list[np.ndarray]] = {}
            for seg, offset in zip(self.segments, self._offsets[:-1], strict=True):
                for source, docs in seg.sources.items():
                    at = offset + np.asarray(docs, dtype=np.int64)
                    if to_live is not None:
                        at = to_live[at]
                        at = at[at >= 0]
                    parts.setdefault(source, []).append(at)
            self._sources = {s: np.concatenate(v) for s, v in parts.items()}
        return self._sources

    # --- writing -----------------------------------------------------------------------------
    def _segment(self, ids, texts, years, sources) -> Segment:
        tokens = tokenize(texts, self._stem)
        years = years if years is not None else [0] * len(ids)
        return Segment.build(ids, tokens.ids, tokens.vocab, years, sources or {})

    def build(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        years: Sequence[int] | None = None,
        sources: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        """Index `texts` (one per id), replacing whatever was indexed; `years` (0 = unknown) and `sources`
        (file -> chunk indices) make the filter masks."""
        self._legacy = None
        self.plain_digits = True  # every segment is written by today's code
        self.segments = [self._segment(ids, texts, years, sources)] if len(ids) else []
        self.dead = {}
        self._refresh()

    def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        years: Sequence[int] | None = None,
        sources: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        """Index more chunks as a new delta segment; a chunk already indexed is replaced (its old copy becomes a
        tombstone)."""
        if len(ids):
            self.delete(ids)
            self.segments.append(self._segment(ids, texts, years, sources))
            self._refresh()

    def delete(self, chunk_ids: Iterable[str]) -> int:
        """Tombstone these chunks (those not indexed are ignored); returns how many were live."""
        if self._where is None:
            self._where = {}
            for k, seg in enumerate(self.segments):
                dead = set(self.dead.get(seg.name, np.zeros(0, dtype=np.int64)).tolist())
                self._where.update((cid, (k, i)) for i, cid in enumerate(seg.ids) if i not in dead)
        where = self._where
        doomed: dict[int, list[int]] = {}
        for cid in set(chunk_ids):
            if cid in where:
                k, i = where.pop(cid)
                doomed.setdefault(k, []).append(i)
        for k, docs in doomed.items():
            name = self.segments[k].name
            before = self.dead.get(name, np.zeros(0, dtype=np.int64))
            self.dead[name] = np.union1d(before, np.asarray(docs, dtype=np.int64))
        if doomed:
            self._refresh()
            self._where = where
        return sum(len(v) for v in doomed.values())

    def needs_merge(self, ratio: float = MERGE_RATIO) -> bool:
        """Whether the deltas and tombstones outgrew `ratio` of the main segment (or there are too many segments)."""
        if not self.segments:
            return False
        small = sum(len(s) for s in self.segments[1:]) + sum(len(d) for d in self.dead.values())
        return len(self.segments) > MAX_SEGMENTS or small > ratio * len(self.segments[0])

    def merge(self) -> None:
        """Fold every segment's live documents into one segment (no tombstones left); scores do not change."""
        if len(self.segments) > 1 or self.dead:
            merged = Segment.merged(list(zip(self.segments, self._live, strict=True)))
            self.segments = [merged] if len(merged) else []
            self.dead = {}
            self._refresh()

    # --- reading -----------------------------------------------------------------------------
    def query_terms(self, query: str) -> list[str]:
        """The query's stemmed terms, stopwords removed, repeats kept (a repeated word counts again)."""
        if not query.strip():
            return []
        return query_terms(query, self._stem, self.plain_digits)  # an index saved before format 3 holds "gdyh₅"

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every indexed chunk for `query` (aligned with `ids`)."""
        n = len(self.ids)
        terms = self.query_terms(query) if n else []
        if not terms:
            return np.zeros(n, dtype=np.float32)
        if self._legacy is not None:
            return self._legacy_scores(terms)
        avgdl = self._length_sum / n
        total = np.zeros(self._span, dtype=np.float64)
        for term, repeats in Counter(terms).items():
            found, df = [], 0
            for seg, offset, live in zip(self.segments, self._offsets[:-1], self._live, strict=True):
                postings = seg.postings(term)
                if postings is None:
                    continue
                rows, tfs = postings
                df += len(rows) if live is None else int(np.count_nonzero(live[rows]))
                found.append((seg, int(offset), rows, tfs))
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for seg, offset, rows, tfs in found:
                tf = np.asarray(tfs, dtype=np.float64)
                norm = self.k1 * (1 - self.b + self.b * np.asarray(seg.lengths)[rows] / avgdl)
                total[offset + np.asarray(rows)] += repeats * idf * tf / (tf + norm)
        live = total if self._live_at is None else total[self._live_at]
        return live.astype(np.float32)

    def _legacy_scores(self, terms: list[str]) -> np.ndarray:
        return np.asarray(self._legacy.get_scores(terms), dtype=np.float32)

    def position_of(self, chunk_id: str) -> int | None:
        """The index (into `ids`) of one chunk, None when it is not indexed."""
        if self._index_of is None:
            self._index_of = {cid: i for i, cid in enumerate(self.ids)}
        return self._index_of.get(chunk_id)

    def positions(self, paper_id: str) -> list[int]:
        """Indices (into `ids`) of one paper's chunks."""
        if self._positions is None:
            self._positions = {}
            for i, cid in enumerate(self.ids):
                self._positions.setdefault(cid.rsplit(":", 1)[0], []).append(i)
        return self._positions.get(paper_id, [])

    def mask(self, year: tuple[int, int] | None = None, sources: Sequence[str] | None = None) -> np.ndarray | None:
        """A boolean mask over `ids` keeping the chunks in the year range and from any of the source files
        (None when there is no filter). Vectorised: no per-chunk Python loop."""
        if year is None and sources is None:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if year is not None:
            keep &= (self.years >= min(year)) & (self.years <= max(year))
        if sources is not None:
            by_source = np.zeros(len(self.ids), dtype=bool)
            for source in sources:
                if source in self.source_positions:
                    by_source[self.source_positions[source]] = True
            keep &= by_source
        return keep

    # --- persistence -------------------------------------------------------------------------
    def save(self, folder: Path, generation: str, *, publish: bool = True) -> None:
        """Persist the index as a new generation: segments not saved yet, then the generation's own folder, then
        (with `publish`) `CURRENT` pointed at it, so a reader never sees a half-written index (`publish`)."""
        folder.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            if not (folder / seg.name).is_dir():
                seg.save(folder)
        target = folder / generation
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        names = [s.name for s in self.segments]
        meta = {"format": FORMAT, "segments": names, "k1": self.k1, "b": self.b}
        dead: dict[str, Any] = {name: d for name, d in self.dead.items() if name in names}
        np.savez(target / "dead.npz", **dead)
        (target / "acronyms.json").write_text(json.dumps(self.acronyms))
        (target / "generation.json").write_text(json.dumps(meta))
        self.generation = generation
        if publish:
            self.publish(folder)

    def publish(self, folder: Path) -> None:
        """Point `CURRENT` in `folder` at this index's saved generation (an atomic rename: readers load it from then
        on) and remove what it no longer needs."""
        pointer = folder / f"CURRENT.{os.getpid()}"
        pointer.write_text(self.generation)
        os.replace(pointer, folder / "CURRENT")
        keep = {self.generation, *(s.name for s in self.segments)}
        for old in folder.iterdir():  # with what a killed writer left: partial segments, its pointer file
            if old.is_dir() and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
            elif old.name.startswith("CURRENT."):
                old.unlink(missing_ok=True)

    @staticmethod
    def current_generation(folder: Path) -> str:
        """The generation `CURRENT` points at ('' when none was saved)."""
        try:
            return (folder / "CURRENT").read_text().strip()
        except OSError:
            return ""

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Load the current persisted index (an empty one when nothing was saved). A writer that replaces the
        generation while it is being read (and removes the old one) makes the read start over on the new one."""
        for _ in range(10):
            generation = cls.current_generation(folder)
            try:
                return cls._load(folder, generation)
            except OSError:
                if cls.current_generation(folder) == generation:
                    raise
        return cls._load(folder, cls.current_generation(folder))

    def _terms(self) -> list[str]:
        if self._vocabulary is None:
            if self._legacy is not None:
                terms = set(getattr(self._legacy, "vocab_dict", {}) or {})
            else:
                terms = set().union(*(seg.terms for seg in self.segments)) if self.segments else set()
            self._vocabulary = sorted(t for t in terms if isinstance(t, str))
        return self._vocabulary

    def has_prefix(self, prefix: str) -> bool:
        """Whether some indexed term (stemmed, lower case) starts with `prefix` ("param": "paramet")."""
        vocabulary = self._terms()
        at = bisect.bisect_left(vocabulary, prefix)
        return at < len(vocabulary) and vocabulary[at].startswith(prefix)

    def has_term(self, term: str) -> bool:
        """Whether some indexed chunk holds the (stemmed, lower-case) term: a look-up in each segment's terms, so
        the query path never sorts the whole vocabulary."""
        if self._legacy is not None:
            return term in (getattr(self._legacy, "vocab_dict", {}) or {})
        return any(term in seg.terms for seg in self.segments)

    def has_typo_of(self, word: str) -> bool:
        """Whether one edit of `word` as written (a letter inserted, deleted, replaced, or two swapped) makes a word
        whose stem the index holds: "pretrainig" is a typo of "pretraining" (indexed as "pretrain"). One edit of
        the word, not of its stem: at 118k abstracts two edits of a stem reach an indexed term from 6 of 40
        made-up names, one edit of the word from none."""
        word = word.lower()
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        edits |= {a + c + b for a, b in splits for c in _LETTERS}
        edits.discard(word)
        return any(self.has_term(stem) for stem in self._stem.stemWords(sorted(edits)))

    @property
    def segmented(self) -> bool:
        """False for an index saved by the bm25s-based versions (read-only here; an ingest rebuilds it)."""
        return self._legacy is None

    @classmethod
    def _load(cls, folder: Path, generation: str) -> BM25Index:
        target = folder / generation if generation else folder
        meta_file = target / "generation.json"
        if not meta_file.exists():
            if (target / "ids.json").exists():
                return cls._load_legacy(target, generation)
            if generation:
                raise FileNotFoundError(meta_file)
            return cls()
        meta = json.loads(meta_file.read_text())
        index = cls(meta["k1"], meta["b"])
        index.plain_digits = meta.get("format", 0) >= 3
        index.segments = [Segment.load(folder, name) for name in meta["segments"]]
        with np.load(target / "dead.npz") as dead:
            index.dead = {name: dead[name] for name in dead.files}
        index.acronyms = json.loads((target / "acronyms.json").read_text())
        index.generation = generation
        index._refresh()
        return index

    @classmethod
    def _load_legacy(cls, target: Path, generation: str) -> BM25Index:
        """A generation saved by bm25s (ids.json, years.npy, sources, index/), scored by bm25s until rebuilt."""
        index = cls()
        index.plain_digits = False
        ids = json.loads((target / "ids.json").read_text())
        if (target / "years.npy").exists():
            years = np.load(target / "years.npy")
            names = json.loads((target / "sources.json").read_text())
            with np.load(target / "sources.npz") as arrays:
                sources = {name: arrays[f"arr_{i}"] for i, name in enumerate(names)}
        else:
            years, sources = np.zeros(len(ids), dtype=np.int16), {}
        legacy = Segment(
            "legacy", ids, {}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), years
        )
        legacy.sources = sources
        index.segments = [legacy]
        index._refresh()
        if (target / "acronyms.json").exists():
            index.acronyms = json.loads((target / "acronyms.json").read_text())
        if (target / "index").exists():
            index._legacy = bm25s_module().BM25.load(str(target / "index"), mmap=True)
            index.k1, index.b = index._legacy.k1, index._legacy.b
        else:
            index.segments = []
            index._refresh()
        index.generation = generation
        return index
