"""The SQLite manifest: every paper, its chunks, where it was read from, and file fingerprints.

It is the dedup index (normalised title and abstract keys), the source of truth for BM25
rebuilds and statistics, and what makes re-ingestion incremental.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
    id TEXT PRIMARY KEY, paper_id TEXT NOT NULL, position INTEGER, text TEXT, embed_text TEXT);
CREATE INDEX IF NOT EXISTS chunks_paper ON chunks(paper_id);
"""


@dataclass(frozen=True)
class FileRecord:
    """A source file's fingerprint when it was last ingested."""

    path: str
    sha256: str
    size: int
    mtime: float


class Manifest:
    """Papers, chunks, links to source files, and index metadata, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def commit(self) -> None:
        """Make everything written so far durable."""
        self.db.commit()

    # --- metadata ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored metadata value."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- papers --------------------------------------------------------------------------
    def _paper(self, pid: str, data: str) -> Paper:
        links = self.db.execute("SELECT source, line FROM links WHERE paper_id=? ORDER BY rowid", (pid,)).fetchall()
        return Paper.model_validate_json(data).model_copy(update={"sources": tuple(f"{s}:{ln}" for s, ln in links)})

    def get(self, pid: str) -> Paper | None:
        """The paper with this id, its sources filled in."""
        row = self.db.execute("SELECT data FROM papers WHERE id=?", (pid,)).fetchone()
        return self._paper(pid, row[0]) if row else None

    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Papers by id (missing ids are left out)."""
        return {pid: p for pid in ids if (p := self.get(pid)) is not None}

    def find(self, abstract_key: str, title_key: str | None) -> str | None:
        """The id of a stored copy of a paper, matched on abstract first, then title."""
        row = self.db.execute("SELECT id FROM papers WHERE abstract_key=?", (abstract_key,)).fetchone()
        if row is None and title_key:
            row = self.db.execute("SELECT id FROM papers WHERE title_key=?", (title_key,)).fetchone()
        return row[0] if row else None

    def put(self, paper: Paper, title_key: str | None, abstract_key: str) -> None:
        """Insert or replace a paper (its links are kept separately)."""
        data = paper.model_dump_json(exclude={"sources"})
        self.db.execute(
            "INSERT OR REPLACE INTO papers VALUES (?, ?, ?, ?, ?)",
            (paper.id, data, title_key, abstract_key, paper.year),
        )

    def delete_paper(self, pid: str) -> None:
        """Remove a paper with its links and chunks."""
        for table, col in (("papers", "id"), ("links", "paper_id"), ("chunks", "paper_id")):
            self.db.execute(f"DELETE FROM {table} WHERE {col}=?", (pid,))

    def iter_papers(self) -> Iterator[Paper]:
        """Every paper, in insertion order."""
        for pid, data in self.db.execute("SELECT id, data FROM papers ORDER BY rowid").fetchall():
            yield self._paper(pid, data)

    def count_papers(self) -> int:
        """How many papers are stored."""
        return self.db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]

    def years(self) -> dict[int, int]:
        """Papers per known year."""
        rows = self.db.execute("SELECT year, COUNT(*) FROM papers WHERE year IS NOT NULL GROUP BY year ORDER BY year")
        return dict(rows.fetchall())

    # --- links to source files -----------------------------------------------------------
    def link(self, pid: str, source: str, line: int) -> None:
        """Record that a paper was read from `source` at `line`."""
        self.db.execute("INSERT OR IGNORE INTO links VALUES (?, ?, ?)", (pid, source, line))

    def papers_of(self, source: str) -> set[str]:
        """Ids of the papers read from one source file."""
        rows = self.db.execute("SELECT DISTINCT paper_id FROM links WHERE source=?", (source,))
        return {r[0] for r in rows.fetchall()}

    def unlink(self, pid: str, source: str) -> bool:
        """Forget that a paper came from `source`; True when the paper has no source left."""
        self.db.execute("DELETE FROM links WHERE paper_id=? AND source=?", (pid, source))
        left = self.db.execute("SELECT 1 FROM links WHERE paper_id=? LIMIT 1", (pid,)).fetchone()
        return left is None

    def sources(self) -> list[str]:
        """Every source file that papers were read from."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT source FROM links ORDER BY source")]

    # --- files ---------------------------------------------------------------------------
    def file(self, path: str) -> FileRecord | None:
        """The fingerprint of a file when last ingested."""
        row = self.db.execute("SELECT * FROM files WHERE path=?", (path,)).fetchone()
        return FileRecord(*row) if row else None

    def set_file(self, record: FileRecord) -> None:
        """Store a file's fingerprint after a successful ingest."""
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
            (record.path, record.sha256, record.size, record.mtime),
        )

    def forget_file(self, path: str) -> None:
        """Drop a file's fingerprint."""
        self.db.execute("DELETE FROM files WHERE path=?", (path,))

    def files(self) -> list[str]:
        """Every file ingested so far."""
        return [r[0] for r in self.db.execute("SELECT path FROM files ORDER BY path")]

    # --- chunks --------------------------------------------------------------------------
    def put_chunks(self, chunks: Iterable[Chunk]) -> None:
        """Store chunks (replacing same ids)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(c.id, c.paper_id, c.position, c.text, c.embed_text) for c in chunks],
        )

    def chunk_ids_of(self, pid: str) -> list[str]:
        """The ids of one paper's chunks."""
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE paper_id=?", (pid,))]

    def delete_chunks_of(self, pid: str) -> None:
        """Remove one paper's chunks."""
        self.db.execute("DELETE FROM chunks WHERE paper_id=?", (pid,))

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every chunk, in a stable order."""
        rows = self.db.execute("SELECT id, paper_id, position, text, embed_text FROM chunks ORDER BY rowid")
        for cid, pid, pos, text, embed_text in rows:
            yield Chunk(id=cid, paper_id=pid, position=pos, text=text, embed_text=embed_text)

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """Chunks by id."""
        out: dict[str, Chunk] = {}
        for cid in ids:
            row = self.db.execute(
                "SELECT id, paper_id, position, text, embed_text FROM chunks WHERE id=?", (cid,)
            ).fetchone()
            if row:
                out[cid] = Chunk(id=row[0], paper_id=row[1], position=row[2], text=row[3], embed_text=row[4])
        return out

    def count_chunks(self) -> int:
        """How many chunks are stored."""
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
