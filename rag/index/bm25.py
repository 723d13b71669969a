"""A bm25s index over chunk texts, persisted beside Chroma and rebuilt after each ingest."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
    return bm25s


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class BM25Index:
    """Sparse lexical index: tokenize (English stopwords, Snowball stemming), index, retrieve, save."""

    def __init__(self, k1: float = 0.9, b: float = 0.4) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self._retriever = None
        self._stem = _stemmer()
        self._positions: dict[str, list[int]] | None = None
        self._index_of: dict[str, int] | None = None
        self.years = np.zeros(0, dtype=np.int16)  # per chunk; 0 = unknown
        self.source_positions: dict[str, np.ndarray] = {}  # source file -> indices of its papers' chunks
        self.generation = ""
        self.acronyms: dict[str, list[str]] = {}  # acronym -> long forms the indexed abstracts define

    def _tokenize(self, texts: Sequence[str]):
        return _bm25s().tokenize(list(texts), stopwords="en", stemmer=self._stem, show_progress=False)

    def build(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        years: Sequence[int] | None = None,
        sources: dict[str, Sequence[int]] | None = None,
    ) -> None:
        """Index `texts` (one per id), replacing whatever was indexed; `years` (0 = unknown) and `sources`
        (file -> chunk indices) make the filter masks."""
        bm25s = _bm25s()
        self.ids = list(ids)
        self._positions = None
        self._index_of = None
        self.years = np.asarray(years if years is not None else [0] * len(self.ids), dtype=np.int16)
        self.source_positions = {s: np.asarray(v, dtype=np.int64) for s, v in (sources or {}).items()}
        if not self.ids:
            self._retriever = None
            return
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(self._tokenize(texts), show_progress=False)
        self._retriever = retriever

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every indexed chunk for `query` (aligned with `ids`)."""
        if self._retriever is None or not query.strip():
            return np.zeros(len(self.ids), dtype=np.float32)
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(self._query_tokens(tokens)), dtype=np.float32)

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

    @staticmethod
    def _query_tokens(tokens) -> list[str]:
        inverse = {v: k for k, v in tokens.vocab.items()}
        return [inverse[t] for t in tokens.ids[0]]

    def save(self, folder: Path, generation: str) -> None:
        """Persist the index as a new generation, then point `CURRENT` at it (an atomic rename), so a reader
        never sees a half-written index; older generations are removed."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / generation
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        (target / "ids.json").write_text(json.dumps(self.ids))
        np.save(target / "years.npy", self.years)
        np.savez(target / "sources.npz", *self.source_positions.values())
        (target / "sources.json").write_text(json.dumps(list(self.source_positions)))
        (target / "acronyms.json").write_text(json.dumps(self.acronyms))
        if self._retriever is not None:
            self._retriever.save(str(target / "index"))
        pointer = folder / f"CURRENT.{os.getpid()}"
        pointer.write_text(generation)
        os.replace(pointer, folder / "CURRENT")
        self.generation = generation
        for old in folder.iterdir():
            if old.is_dir() and old.name != generation:
                shutil.rmtree(old, ignore_errors=True)

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

    @classmethod
    def _load(cls, folder: Path, generation: str) -> BM25Index:
        bm25s = _bm25s()
        index = cls()
        target = folder / generation if generation else folder
        ids_file = target / "ids.json"
        if not ids_file.exists():
            if generation:
                raise FileNotFoundError(ids_file)
            return index
        index.ids = json.loads(ids_file.read_text())
        index.generation = generation
        if (target / "years.npy").exists():
            index.years = np.load(target / "years.npy")
            names = json.loads((target / "sources.json").read_text())
            with np.load(target / "sources.npz") as arrays:
                index.source_positions = {name: arrays[f"arr_{i}"] for i, name in enumerate(names)}
        else:
            index.years = np.zeros(len(index.ids), dtype=np.int16)
        if (target / "acronyms.json").exists():
            index.acronyms = json.loads((target / "acronyms.json").read_text())
        if (target / "index").exists():
            # memory-mapped: a query touches only its terms' postings, so serving a big index stays small
            index._retriever = bm25s.BM25.load(str(target / "index"), mmap=True)
            index.k1, index.b = index._retriever.k1, index._retriever.b
        return index
