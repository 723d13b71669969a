"""One immutable segment of the lexical index: raw term frequencies, document lengths, years and sources.

BM25 statistics (document frequencies, the average length) are not stored: `BM25Index` combines them across
segments at query time, so an index grown by small segments scores exactly as one built from scratch.

A segment is written once, into a temporary folder renamed into place, and never changed afterwards; deleting a
document is a tombstone kept by the generation that lists the segment.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

MMAP_MIN_BYTES = 1 << 20
"""Arrays at least this big are memory-mapped on load (a query touches only its terms' postings)."""


def new_name(prefix: str) -> str:
    """A name no other segment or generation of this folder has."""
    return f"{prefix}{time.time_ns()}"


@dataclass
class Segment:
    """Documents with their term frequencies in CSC form: term `t`'s postings are `rows[indptr[t]:indptr[t+1]]`
    (document numbers, ascending) and `tfs` (their frequencies); `terms` maps a stemmed term to its column."""

    name: str
    ids: list[str]
    terms: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray  # tokens per document (stopwords removed), as bm25s counts them
    years: np.ndarray  # int16; 0 = unknown
    sources: dict[str, np.ndarray] = field(default_factory=dict)  # source file -> its documents

    def __len__(self) -> int:
        return len(self.ids)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(documents, term frequencies) of one term, None when no document here has it."""
        col = self.terms.get(term)
        if col is None:
            return None
        start, end = int(self.indptr[col]), int(self.indptr[col + 1])
        return self.rows[start:end], self.tfs[start:end]

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        token_ids: Sequence[Sequence[int]],
        vocab: Mapping[str, int],
        years: Sequence[int],
        sources: Mapping[str, Iterable[int]],
    ) -> Segment:
        """A segment from tokenized documents (`token_ids` index `vocab`, as `bm25s.tokenize` returns them)."""
        lengths = np.fromiter((len(doc) for doc in token_ids), dtype=np.int32, count=len(token_ids))
        total = int(lengths.sum())
        doc_of = np.repeat(np.arange(len(ids), dtype=np.int32), lengths)
        cols = np.fromiter(itertools.chain.from_iterable(token_ids), dtype=np.int32, count=total)
        counts = sp.csc_matrix(
            (np.ones(total, dtype=np.int32), (doc_of, cols)), shape=(len(ids), len(vocab)), dtype=np.int32
        )
        counts.sum_duplicates()  # also sorts each column's documents
        return cls(
            name=new_name("s"),
            ids=list(ids),
            terms=dict(vocab),
            indptr=counts.indptr.astype(np.int64),
            rows=counts.indices.astype(np.int32),
            tfs=counts.data.astype(np.int32),
            lengths=lengths,
            years=np.asarray(years, dtype=np.int16),
            sources={s: np.asarray(sorted(v), dtype=np.int64) for s, v in sources.items()},
        )

    @classmethod
    def merged(cls, parts: Sequence[tuple[Segment, np.ndarray | None]]) -> Segment:
        """One segment holding the live documents of `parts` ((segment, live mask or None), in order), without
        tokenizing anything again."""
        terms: dict[str, int] = {}
        cols, rows, tfs, ids, lengths, years = [], [], [], [], [], []
        sources: dict[str, list[np.ndarray]] = {}
        offset = 0
        for seg, live in parts:
            keep = np.ones(len(seg), dtype=bool) if live is None else np.asarray(live, dtype=bool)
            renumber = np.cumsum(keep, dtype=np.int64) - 1 + offset  # old document -> new one (where kept)
            col_map = np.empty(len(seg.terms), dtype=np.int32)
            for term, col in seg.terms.items():
                col_map[col] = terms.setdefault(term, len(terms))
            seg_cols = np.repeat(np.arange(len(seg.terms), dtype=np.int32), np.diff(seg.indptr))
            kept = keep[seg.rows]
            cols.append(col_map[seg_cols[kept]])
            rows.append(renumber[seg.rows[kept]].astype(np.int32))
            tfs.append(np.asarray(seg.tfs)[kept])
            ids += [cid for cid, k in zip(seg.ids, keep, strict=True) if k]
            lengths.append(np.asarray(seg.lengths)[keep])
            years.append(np.asarray(seg.years)[keep])
            for source, docs in seg.sources.items():
                docs = np.asarray(docs)
                sources.setdefault(source, []).append(renumber[docs[keep[docs]]])
            offset += int(keep.sum())
        shape = (offset, len(terms))
        matrix = sp.csc_matrix((np.concatenate(tfs), (np.concatenate(rows), np.concatenate(cols))), shape=shape)
        used = np.flatnonzero(np.diff(matrix.indptr))  # terms only deleted documents had are dropped
        if len(used) < len(terms):
            matrix = matrix[:, used]
            by_col = sorted(terms, key=terms.__getitem__)
            terms = {by_col[old]: new for new, old in enumerate(used.tolist())}
        matrix.sort_indices()
        return cls(
            name=new_name("s"),
            ids=ids,
            terms=terms,
            indptr=matrix.indptr.astype(np.int64),
            rows=matrix.indices.astype(np.int32),
            tfs=matrix.data.astype(np.int32),
            lengths=np.concatenate(lengths).astype(np.int32),
            years=np.concatenate(years).astype(np.int16),
            sources={s: np.concatenate(v) for s, v in sources.items() if sum(len(a) for a in v)},
        )

    def save(self, folder: Path) -> None:
        """Write the segment as `folder/<name>` (complete, or not there at all)."""
        target = folder / self.name
        partial = folder / f"{self.name}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        (partial / "ids.json").write_text(json.dumps(self.ids))
        (partial / "terms.json").write_text(json.dumps(sorted(self.terms, key=self.terms.__getitem__)))
        for name in ("indptr", "rows", "tfs", "lengths", "years"):
            np.save(partial / f"{name}.npy", getattr(self, name))
        np.savez(partial / "sources.npz", *self.sources.values())
        (partial / "sources.json").write_text(json.dumps(list(self.sources)))
        os.replace(partial, target)

    @classmethod
    def load(cls, folder: Path, name: str) -> Segment:
        """Read a saved segment; its big arrays are memory-mapped."""
        target = folder / name

        def array(stem: str) -> np.ndarray:
            path = target / f"{stem}.npy"
            return np.load(path, mmap_mode="r" if path.stat().st_size >= MMAP_MIN_BYTES else None)

        names = json.loads((target / "sources.json").read_text())
        with np.load(target / "sources.npz") as arrays:
            sources = {source: arrays[f"arr_{i}"] for i, source in enumerate(names)}
        return cls(
            name=name,
            ids=json.loads((target / "ids.json").read_text()),
            terms={term: i for i, term in enumerate(json.loads((target / "terms.json").read_text()))},
            indptr=array("indptr"),
            rows=array("rows"),
            tfs=array("tfs"),
            lengths=array("lengths"),
            years=array("years"),
            sources=sources,
        )
