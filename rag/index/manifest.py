"""The SQLite manifest: every paper, its chunks, where it was read from, and file fingerprints.

It is the dedup index (normalised title and abstract keys), the source of truth for BM25
rebuilds and statistics, and what makes re-ingestion incremental. It owns all the SQL.

Writes happen only inside `transaction()` (all or nothing); the database runs in WAL mode so
other processes keep reading while one writes. A *journal* of the chunk ids a batch is about to
touch in the vector store is committed before the store is written, so a crash between the two
can be repaired; the papers the BM25 index has not caught up with (and a *lexical index dirty* mark) are written
in the same transaction as the papers, and cleared only after the BM25 index was brought up to date.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.index.database import Database, read_only
from rag.types import Chunk, Paper

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS papers(
    id TEXT PRIMARY KEY, data TEXT NOT NULL, title_key TEXT, abstract_key TEXT NOT NULL,
    year INTEGER);
CREATE INDEX IF NOT EXISTS papers_title ON papers(title_key);
CREATE INDEX IF NOT EXISTS papers_abstract ON papers(abstract_key);
CREATE TABLE IF NOT EXISTS links(
    paper_id TEXT NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL,
    PRIMARY KEY(paper_id, source, line));
CREATE INDEX IF NOT EXISTS links_source ON links(source);
CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, sha256 TEXT, size INTEGER, mtime REAL);
CREATE TABLE IF NOT EXISTS chunks(
    id TEXT PRIMARY KEY, paper_id TEXT NOT NULL, position INTEGER, text TEXT);
CREATE INDEX IF NOT EXISTS chunks_paper ON chunks(paper_id);
CREATE TABLE IF NOT EXISTS source_ids(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS journal(chunk_id TEXT PRIMARY KEY);
"""
_ACRONYMS = """
CREATE TABLE IF NOT EXISTS acronyms(
    paper_id TEXT NOT NULL, acronym TEXT NOT NULL, long_form TEXT NOT NULL,
    PRIMARY KEY(paper_id, acronym, long_form));
"""
_LEXICAL = """
CREATE TABLE IF NOT EXISTS lexical_pending(paper_id TEXT PRIMARY KEY);
"""
BM25_DIRTY = "bm25_dirty"
BM25_PARAMS = "bm25_params"
"""The BM25 parameters the saved BM25 index was built with; without it the next ingest rebuilds it from the manifest."""
STORE_GENERATION = "store_generation"
COLLECTION = "collection"
"""The vector-store collection this manifest's chunks are in (absent: the configured `RAG_COLLECTION`); a re-index
builds a new one beside the live one (`rag.index.rebuild`)."""


def collection_in(path: Path, default: str) -> str | None:
    """The collection the manifest at `path` names, read afresh from the file: `default` when it names none (an
    index never re-indexed, or reset), None when it cannot be read. What a process that still holds an older manifest
    finds once another one re-indexed or reset the index."""
    try:
        with read_only(path) as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (COLLECTION,)).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row and row[0] else default


@dataclass(frozen=True)
class FileRecord:
    """A source file's fingerprint when it was last ingested."""

    path: str
    sha256: str
    size: int
    mtime: float


class Manifest(Database):
    """Papers, chunks, links to source files, and index metadata, in one SQLite file.

    One connection shared by the threads of a process, each call under a lock; a transaction
    holds the lock until it ends, so readers in other threads wait for one batch at most.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        with self._mu:
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='journal'").fetchone() is None:
                self.db.executescript(_SCHEMA)  # a new index, or one made before source ids and the journal
                self.db.execute("INSERT OR IGNORE INTO source_ids(path) SELECT DISTINCT source FROM links")
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='acronyms'").fetchone() is None:
                self.db.executescript(_ACRONYMS)  # an index made before acronyms were harvested
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='lexical_pending'").fetchone() is None:
                self.db.executescript(_LEXICAL)  # an index made before the lexical index grew by increments

    # --- metadata ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored metadata value."""
        row = self._one("SELECT value FROM meta WHERE key=?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Store (or, with None, remove) a metadata value."""
        with self.transaction():
            if value is None:
                self._w("DELETE FROM meta WHERE key=?", (key,))
            else:
                self._w("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def mark_lexical_dirty(self) -> None:
        """Note that the BM25 index no longer matches the papers (cleared after a rebuild)."""
        self.set_meta(BM25_DIRTY, "1")

    def lexical_dirty(self) -> bool:
        """Whether the BM25 index must be brought up to date before it matches the papers."""
        return self.get_meta(BM25_DIRTY) is not None

    def mark_lexical_pending(self, paper_ids: Iterable[str]) -> None:
        """Note papers whose chunks, text, year or sources changed (or that are gone) since the BM25 index was
        last brought up to date; sets the dirty mark too."""
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO lexical_pending VALUES (?)", [(p,) for p in paper_ids])
            self.set_meta(BM25_DIRTY, "1")

    def lexical_pending(self) -> list[str]:
        """Papers the BM25 index has not caught up with."""
        return [r[0] for r in self._q("SELECT paper_id FROM lexical_pending")]

    def clear_lexical(self, paper_ids: Iterable[str] | None = None) -> None:
        """The BM25 index caught up with these papers (None: with every paper); the dirty mark goes when no paper
        is left pending."""
        with self.transaction():
            if paper_ids is None:
                self._w("DELETE FROM lexical_pending")
            else:
                self.db.executemany("DELETE FROM lexical_pending WHERE paper_id=?", [(p,) for p in paper_ids])
            if self._one("SELECT 1 FROM lexical_pending LIMIT 1") is None:
                self.set_meta(BM25_DIRTY, None)

    # --- papers --------------------------------------------------------------------------
    def _paper(self, pid: str, data: str) -> Paper:
        links = self._q("SELECT source, line FROM links WHERE paper_id=? ORDER BY rowid", (pid,))
        return Paper.model_validate_json(data).model_copy(update={"sources": tuple(f"{s}:{ln}" for s, ln in links)})

    def get(self, pid: str) -> Paper | None:
        """The paper with this id, its sources filled in."""
        row = self._one("SELECT data FROM papers WHERE id=?", (pid,))
        return self._paper(pid, row[0]) if row else None

    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Papers by id (missing ids are left out)."""
        return {pid: p for pid in ids if (p := self.get(pid)) is not None}

    def find(self, abstract_key: str, title_key: str | None) -> str | None:
        """The id of a stored copy of a paper, matched on abstract first, then title."""
        row = self._one("SELECT id FROM papers WHERE abstract_key=?", (abstract_key,))
        if row is None and title_key:
            row = self._one("SELECT id FROM papers WHERE title_key=?", (title_key,))
        return row[0] if row else None

    def put(self, paper: Paper, title_key: str | None, abstract_key: str) -> None:
        """Insert or replace a paper (its links are kept separately)."""
        data = paper.model_dump_json(exclude={"sources"}, exclude_defaults=True)
        with self.transaction():
            self._w(
                "INSERT OR REPLACE INTO papers VALUES (?, ?, ?, ?, ?)",
                (paper.id, data, title_key, abstract_key, paper.year),
            )

    def delete_paper(self, pid: str) -> None:
        """Remove a paper with its links and chunks."""
        with self.transaction():
            for table in ("links", "chunks", "acronyms"):
                self._w(f"DELETE FROM {table} WHERE paper_id=?", (pid,))
            self._w("DELETE FROM papers WHERE id=?", (pid,))

    def _pages(self, sql: str, size: int = 2048) -> Iterator[tuple]:
        """Rows of `sql` (which selects rowid first and has `WHERE rowid > ?` ... `LIMIT ?`) page by page: the
        lock is held per page, never across the whole table, so other threads' reads go on in between."""
        last = 0
        while rows := self._q(sql, (last, size)):
            yield from rows
            last = rows[-1][0]

    def iter_papers(self) -> Iterator[Paper]:
        """Every paper, in insertion order (read page by page)."""
        for _, pid, data in self._pages("SELECT rowid, id, data FROM papers WHERE rowid > ? ORDER BY rowid LIMIT ?"):
            yield self._paper(pid, data)

    def papers_at(self, positions: Iterable[int]) -> list[Paper]:
        """The papers at these 0-based positions in insertion order (for sampling without loading them all)."""
        wanted = sorted(set(positions))
        out = []
        for pos in wanted:
            row = self._one("SELECT id, data FROM papers ORDER BY rowid LIMIT 1 OFFSET ?", (pos,))
            if row:
                out.append(self._paper(row[0], row[1]))
        return out

    def count_papers(self) -> int:
        """How many papers are stored."""
        return self._count("SELECT COUNT(*) FROM papers")

    def years(self) -> dict[int, int]:
        """Papers per known year."""
        return dict(self._q("SELECT year, COUNT(*) FROM papers WHERE year IS NOT NULL GROUP BY year ORDER BY year"))

    # --- links to source files -----------------------------------------------------------
    def link(self, pid: str, source: str, line: int) -> None:
        """Record that a paper was read from `source` at `line`."""
        with self.transaction():
            self._w("INSERT OR IGNORE INTO source_ids(path) VALUES (?)", (source,))
            self._w("INSERT OR IGNORE INTO links VALUES (?, ?, ?)", (pid, source, line))

    def links_of_source(self, source: str) -> list[tuple[str, int]]:
        """(paper id, line) of every paper read from one source file."""
        return [(r[0], r[1]) for r in self._q("SELECT paper_id, line FROM links WHERE source=?", (source,))]

    def links_of(self, pid: str) -> list[tuple[str, int]]:
        """(source, line) of every place one paper was read at."""
        return [(r[0], r[1]) for r in self._q("SELECT source, line FROM links WHERE paper_id=?", (pid,))]

    def drop_link(self, pid: str, source: str, line: int) -> bool:
        """Forget one place a paper was read at; True when the paper has no source left."""
        with self.transaction():
            self._w("DELETE FROM links WHERE paper_id=? AND source=? AND line=?", (pid, source, line))
        return self._one("SELECT 1 FROM links WHERE paper_id=? LIMIT 1", (pid,)) is None

    def papers_of(self, source: str) -> set[str]:
        """Ids of the papers read from one source file."""
        return {r[0] for r in self._q("SELECT DISTINCT paper_id FROM links WHERE source=?", (source,))}

    def sources_of(self, pid: str) -> set[str]:
        """The source files one paper was read from."""
        return {r[0] for r in self._q("SELECT DISTINCT source FROM links WHERE paper_id=?", (pid,))}

    def sources(self) -> list[str]:
        """Every source file that papers were read from."""
        return [r[0] for r in self._q("SELECT DISTINCT source FROM links ORDER BY source")]

    def known_sources(self) -> list[str]:
        """Every source file ever linked (one row per file: cheap at any corpus size, unlike `sources()`)."""
        return [r[0] for r in self._q("SELECT path FROM source_ids ORDER BY path")]

    def source_ids(self, paths: Iterable[str]) -> dict[str, int]:
        """The small integer id of each source path (used as a vector-store metadata key)."""
        wanted = list(paths)
        out: dict[str, int] = {}
        for path in wanted:
            row = self._one("SELECT id FROM source_ids WHERE path=?", (path,))
            if row:
                out[path] = row[0]
        return out

    def source_papers(self) -> Iterator[tuple[str, str]]:
        """(source, paper id) for every link, for building filter masks."""
        yield from self._q("SELECT DISTINCT source, paper_id FROM links")

    # --- files ---------------------------------------------------------------------------
    def file(self, path: str) -> FileRecord | None:
        """The fingerprint of a file when last ingested."""
        row = self._one("SELECT * FROM files WHERE path=?", (path,))
        return FileRecord(*row) if row else None

    def set_file(self, record: FileRecord) -> None:
        """Store a file's fingerprint after a successful ingest."""
        with self.transaction():
            self._w(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                (record.path, record.sha256, record.size, record.mtime),
            )

    def forget_file(self, path: str) -> None:
        """Drop a file's fingerprint."""
        with self.transaction():
            self._w("DELETE FROM files WHERE path=?", (path,))

    def files(self) -> list[str]:
        """Every file ingested so far."""
        return [r[0] for r in self._q("SELECT path FROM files ORDER BY path")]

    # --- chunks --------------------------------------------------------------------------
    def put_chunks(self, chunks: Iterable[Chunk], abstracts: dict[str, str]) -> None:
        """Store chunks (replacing same ids). A chunk that is its paper's whole abstract stores no text of its
        own: each text is kept once."""
        rows = [(c.id, c.paper_id, c.position, None if abstracts.get(c.paper_id) == c.text else c.text) for c in chunks]
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO chunks(id, paper_id, position, text) VALUES (?, ?, ?, ?)", rows)

    def chunk_ids_of(self, pid: str) -> list[str]:
        """The ids of one paper's chunks."""
        return [r[0] for r in self._q("SELECT id FROM chunks WHERE paper_id=?", (pid,))]

    def delete_chunks_of(self, pid: str) -> None:
        """Remove one paper's chunks."""
        with self.transaction():
            self._w("DELETE FROM chunks WHERE paper_id=?", (pid,))

    def iter_chunk_texts(self) -> Iterator[tuple[str, str, Paper]]:
        """(chunk id, passage, paper) for every chunk, in a stable order (for BM25 rebuilds), page by page."""
        sql = (
            "SELECT c.rowid, c.id, c.text, p.data FROM chunks c JOIN papers p ON p.id = c.paper_id"
            " WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?"
        )
        for _, cid, text, data in self._pages(sql):
            paper = Paper.model_validate_json(data)
            yield cid, paper.abstract if text is None else text, paper

    def chunk_ids(self) -> list[str]:
        """Every chunk id (for comparing with the BM25 index's)."""
        return [r[0] for r in self._q("SELECT id FROM chunks")]

    def chunk_texts_of(self, paper_ids: Iterable[str]) -> list[tuple[str, str, Paper]]:
        """(chunk id, passage, paper) for every chunk of these papers, in a stable order."""
        wanted = sorted(set(paper_ids))
        out = []
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self._q(
                "SELECT c.id, c.text, p.data FROM chunks c JOIN papers p ON p.id = c.paper_id"
                f" WHERE c.paper_id IN ({','.join('?' * len(part))}) ORDER BY c.rowid",
                part,
            )
            for cid, text, data in rows:
                paper = Paper.model_validate_json(data)
                out.append((cid, paper.abstract if text is None else text, paper))
        return out

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every chunk (passage text, no embedded text), in a stable order."""
        for cid, text, paper in self.iter_chunk_texts():
            yield Chunk(id=cid, paper_id=paper.id, position=int(cid.rsplit(":", 1)[1]), text=text)

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """Chunks by id (passage text filled in from the abstract where it is the whole abstract)."""
        out: dict[str, Chunk] = {}
        for cid in ids:
            row = self._one(
                "SELECT c.id, c.paper_id, c.position, c.text, p.data FROM chunks c JOIN papers p ON p.id = c.paper_id"
                " WHERE c.id=?",
                (cid,),
            )
            if row:
                text = row[3] if row[3] is not None else Paper.model_validate_json(row[4]).abstract
                out[cid] = Chunk(id=row[0], paper_id=row[1], position=row[2], text=text)
        return out

    def count_chunks(self) -> int:
        """How many chunks are stored."""
        return self._count("SELECT COUNT(*) FROM chunks")

    def existing_chunks(self, ids: Iterable[str]) -> set[str]:
        """Which of these chunk ids the manifest holds."""
        return {cid for cid in ids if self._one("SELECT 1 FROM chunks WHERE id=?", (cid,))}

    # --- acronyms the abstracts define -----------------------------------------------------
    def put_acronyms(self, pid: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace the (acronym, long form) pairs one paper defines."""
        with self.transaction():
            self._w("DELETE FROM acronyms WHERE paper_id=?", (pid,))
            self.db.executemany("INSERT OR IGNORE INTO acronyms VALUES (?, ?, ?)", [(pid, a, f) for a, f in pairs])

    def acronym_pairs(self) -> list[tuple[str, str]]:
        """Every distinct (acronym, long form) pair some stored paper defines."""
        return [(r[0], r[1]) for r in self._q("SELECT DISTINCT acronym, long_form FROM acronyms ORDER BY 1, 2")]

    def acronym_pairs_of(self, paper_ids: Iterable[str]) -> list[tuple[str, str]]:
        """The distinct (acronym, long form) pairs these papers define."""
        wanted = sorted(set(paper_ids))
        out: set[tuple[str, str]] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            sql = f"SELECT acronym, long_form FROM acronyms WHERE paper_id IN ({','.join('?' * len(part))})"
            out.update((r[0], r[1]) for r in self._q(sql, part))
        return sorted(out)

    # --- the vector-store journal --------------------------------------------------------
    def journal_add(self, chunk_ids: Iterable[str]) -> None:
        """Durably note chunk ids whose vectors are about to be written or deleted."""
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO journal VALUES (?)", [(c,) for c in chunk_ids])

    def journal(self) -> list[str]:
        """Chunk ids of a vector-store write that may not have finished."""
        return [r[0] for r in self._q("SELECT chunk_id FROM journal")]

    def journal_clear(self) -> None:
        """The vector store and the manifest agree again: the journal is emptied and the store generation moves on
        in the same transaction, so readers in other processes know to look at the store afresh."""
        with self.transaction():
            self._w("DELETE FROM journal")
            self._w(
                "INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (STORE_GENERATION,),
            )

    def store_generation(self) -> int:
        """How many times a writer has changed the vector store (0 for an index never written)."""
        value = self.get_meta(STORE_GENERATION)
        return int(value) if value else 0
