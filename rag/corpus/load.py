"""Paths and directories -> papers (or per-file errors), dispatched by file type.

Every problem with a file becomes a `FileError` naming the file (and the line where there is
one); the readers never raise for bad input, so one hostile file cannot stop an ingest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rag.corpus.listing_pages import looks_like_listing, parse_listing_lines
from rag.corpus.records import RawPaper
from rag.corpus.stream import (
    DAMAGED,
    REST_NOT_READ,
    ReadLimits,
    check_regular,
    damage_message,
    line_problem,
    looks_binary,
    numbered_lines,
    open_binary,
    peek,
    read_whole,
    text_stream,
)
from rag.corpus.tabular import read_csv, read_json_document, read_jsonl
from rag.errors import InputError
from rag.types import FileError

log = logging.getLogger(__name__)

READERS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
}
COMPRESSED = ".gz"
SUPPORTED = set(READERS) | {COMPRESSED}
"""File name endings accepted (``.gz`` for gzip-compressed JSONL, JSON, CSV, TSV or text)."""
DEFAULT_LIMITS = ReadLimits()
HEAD_BYTES = 8192


def file_type(path: Path) -> str:
    """A file's type as its name says it: ``.jsonl``, ``.jsonl.gz``, ``.pdf``, ``(no extension)``."""
    suffixes = [s.lower() for s in Path(path.name).suffixes]
    if not suffixes:
        return "(no extension)"
    if suffixes[-1] == COMPRESSED and len(suffixes) > 1:
        return "".join(suffixes[-2:])
    return suffixes[-1]


def reader_for(path: Path) -> tuple[str, bool] | None:
    """The reader for a file (text, jsonl, json, csv or tsv) and whether it is gzipped; None if unsupported."""
    name = file_type(path)
    compressed = name.endswith(COMPRESSED)
    kind = READERS.get(name.removesuffix(COMPRESSED) if compressed else name)
    return (kind, compressed) if kind else None


def bundled_corpus_dir() -> Path:
    """The sample corpus shipped inside the package (four listing-page dumps)."""
    return Path(str(resources.files("rag") / "data" / "corpus"))


@dataclass
class FileSet:
    """The files found under the given paths, the paths that could not be used, and what was passed over."""

    files: list[Path] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Files of unsupported types a directory walk passed over, by type (``.pdf``: 3)."""


def _walk(top: Path, found: FileSet) -> list[Path]:
    """Supported regular files under `top` (hidden names skipped, symlinks followed once, loops cut)."""
    candidates: list[Path] = []
    visited: set[tuple[int, int]] = set()

    def enter(directory: str) -> bool:
        try:
            st = os.stat(directory)
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
        if key in visited:
            return False  # a symlink back into the tree
        visited.add(key)
        return True

    def walk_error(exc: OSError) -> None:
        found.errors.append(FileError(path=exc.filename or str(top), message=f"cannot read: {exc.strerror or exc}"))

    enter(str(top))
    for directory, dirnames, filenames in os.walk(top, followlinks=True, onerror=walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and enter(os.path.join(directory, d)))
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(directory, name)
            if reader_for(path) is None:
                found.skipped[file_type(path)] += 1
                continue
            try:
                check_regular(path)
            except InputError as exc:
                found.errors.append(FileError(path=str(path), message=exc.message))
                continue
            candidates.append(path)
    return sorted(candidates)


def expand_paths(paths: Iterable[str | Path]) -> FileSet:
    """Every supported regular file under `paths` (directories recursively, hidden files skipped).

    A path that is missing, unreadable or not a regular file (a FIFO, a device) is an error and is
    never opened; files of unsupported types inside directories are counted in `skipped`.
    """
    found = FileSet()
    seen: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            found.errors.append(FileError(path=str(given), message="no such file or directory"))
            continue
        except OSError as exc:
            found.errors.append(FileError(path=str(given), message=f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(mode):
            candidates = _walk(path, found)
            if not candidates:
                found.errors.append(FileError(path=str(given), message="no supported files in directory"))
        elif stat.S_ISREG(mode):
            candidates = [path]
        else:
            try:
                check_regular(path)
            except InputError as exc:
                found.errors.append(FileError(path=str(given), message=exc.message))
            continue
        for p in candidates:
            resolved = p.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.files.append(resolved)
    return found


def file_digest(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_text(
    lines: Iterable[tuple[int, str] | FileError], source: str, limits: ReadLimits
) -> Iterator[RawPaper | FileError]:
    """A listing-page dump: its lines are held (up to the whole-file cap) because the shape is detected on all of them.

    An unreadable line is reported and kept as None, so line numbers and block boundaries stay right;
    `limits.max_skipped_in_a_row` blank or unreadable lines in a row end the file.
    """
    kept: list[str | None] = []
    total = unreadable = barren = 0
    for item in lines:
        if barren >= limits.max_skipped_in_a_row:
            unreadable += 1
            yield limits.skipped_cut(source, item.line if isinstance(item, FileError) else item[0])
            break
        barren += 1
        if isinstance(item, tuple) and (problem := line_problem(item[1])):
            item = FileError(path=source, line=item[0], message=problem)
        if isinstance(item, FileError):
            unreadable += 1
            kept.append(None)
            yield item
            continue
        if not item[1].isspace():
            barren = 0
        total += len(item[1])
        if total > limits.max_whole_file_chars:
            unreadable += 1
            yield FileError(
                path=source,
                line=item[0],
                message=f"larger than {limits.max_whole_file_chars:,} characters, the most read for a "
                "listing dump; the rest of the file is not read",
            )
            break
        kept.append(item[1].rstrip("\r\n"))
    if looks_like_listing(kept):
        yield from parse_listing_lines(kept, source)
    elif not unreadable:
        yield FileError(path=source, message="no abstracts found (no line reads as an abstract)")


def _capped(paper: RawPaper, limits: ReadLimits) -> RawPaper | FileError:
    for name in ("abstract", "title"):
        size = len(getattr(paper, name))
        if size > limits.max_field_chars:
            return FileError(
                path=paper.source,
                line=paper.line or None,
                message=f"{name} of {size:,} characters (limit {limits.max_field_chars:,}); record skipped",
            )
    return paper


def _dispatch(path: Path, kind: str, compressed: bool, limits: ReadLimits) -> Iterator[RawPaper | FileError]:
    source = str(path)
    with open_binary(path, compressed=compressed, limits=limits) as stream:
        try:
            head = peek(stream, HEAD_BYTES)
        except DAMAGED as exc:
            yield FileError(path=source, message=damage_message(exc).split(";")[0])
            return
        if len(head) < HEAD_BYTES and not head.removeprefix(b"\xef\xbb\xbf").strip():
            yield FileError(path=source, message="empty file")
            return
        if looks_binary(head):
            yield FileError(path=source, message="binary file, not text (expected .txt, .jsonl, .json or .csv)")
            return
        text = text_stream(stream, head)
        if kind == "json":
            yield from read_json_document(read_whole(text, source, limits), source, limits)
            return
        lines = numbered_lines(text, source, limits)
        if kind == "jsonl":
            yield from read_jsonl(lines, source, limits)
        elif kind in ("csv", "tsv"):
            yield from read_csv(lines, source, tsv=kind == "tsv", field_limit=limits.max_line_chars, limits=limits)
        else:
            yield from _read_text(lines, source, limits)


def read_file(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[RawPaper | FileError]:
    """Yield the papers of one file, and an error for each part that could not be read.

    Never raises for bad input: a missing, special, binary, damaged or hostile file becomes
    errors (at most `limits.max_errors_per_file` listed, then one that counts the rest; the error
    that ends a file is always listed), and the good records of the same file are still yielded.
    """
    source = str(path)
    found = reader_for(path)
    if found is None:
        yield FileError(path=source, message=f"unsupported file type {file_type(path)}")
        return
    errors = papers = listed = 0
    try:
        for item in _dispatch(path, *found, limits):
            if isinstance(item, RawPaper):
                item = _capped(item, limits)
            if isinstance(item, RawPaper):
                papers += 1
                yield item
                continue
            errors += 1
            if errors <= limits.max_errors_per_file or item.message.endswith(REST_NOT_READ):
                listed += 1
                yield item
    except InputError as exc:
        errors, listed = errors + 1, listed + 1
        yield FileError(path=source, line=exc.line, message=exc.message)
    except (OSError, EOFError) as exc:
        errors, listed = errors + 1, listed + 1
        yield FileError(path=source, message=f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    except Exception as exc:  # a reader bug must cost one file, not the whole ingest
        log.debug("unexpected failure reading %s", source, exc_info=True)
        errors, listed = errors + 1, listed + 1
        yield FileError(path=source, message=f"could not be read ({exc.__class__.__name__}: {exc})")
    if errors > listed:
        yield FileError(path=source, message=f"{errors - listed:,} more errors not listed")
    elif not errors and not papers:
        yield FileError(path=source, message="no papers found")
