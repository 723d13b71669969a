"""Paths and directories -> papers (or per-file errors), dispatched by file type."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rag.corpus.arxiv import read_jsonl_file
from rag.corpus.listing_pages import looks_like_listing, parse_listing
from rag.corpus.records import RawPaper
from rag.corpus.tabular import read_csv, read_json_array
from rag.types import FileError

TEXT_SUFFIXES = {".txt", ".text", ".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | JSONL_SUFFIXES | {".json", ".csv", ".tsv"}


def bundled_corpus_dir() -> Path:
    """The sample corpus shipped inside the package (four listing-page dumps)."""
    return Path(str(resources.files("rag") / "data" / "corpus"))


@dataclass
class FileSet:
    """The files found under the given paths, and the paths that could not be used."""

    files: list[Path] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def expand_paths(paths: Iterable[str | Path]) -> FileSet:
    """Every supported file under `paths` (directories recursively, hidden files skipped)."""
    found = FileSet()
    seen: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            found.errors.append(FileError(path=str(given), message="no such file or directory"))
            continue
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not candidates:
                found.errors.append(FileError(path=str(given), message="no supported files in directory"))
        else:
            candidates = [path]
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


def _check_text(data: bytes, source: str) -> FileError | str:
    if not data.strip():
        return FileError(path=source, message="empty file")
    if b"\x00" in data[:8192]:
        return FileError(path=source, message="binary file, not text (expected .txt, .jsonl, .json or .csv)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return FileError(path=source, line=line, message=f"not UTF-8 text (byte 0x{data[exc.start]:02x})")


def read_file(path: Path) -> Iterator[RawPaper | FileError]:
    """Yield the papers of one file, and an error for each part that could not be read."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        yield FileError(path=source, message=f"unsupported file type {suffix or '(none)'}")
        return
    try:
        if suffix in JSONL_SUFFIXES:
            with path.open("rb") as fh:
                head = fh.read(8192)
            checked = _check_text(head, source)
            if isinstance(checked, FileError):
                yield checked
                return
            yield from read_jsonl_file(path, source)
            return
        checked = _check_text(path.read_bytes(), source)
    except OSError as exc:
        yield FileError(path=source, message=f"cannot read: {exc.strerror or exc}")
        return
    if isinstance(checked, FileError):
        yield checked
        return
    if suffix == ".json":
        yield from read_json_array(checked, source)
    elif suffix in (".csv", ".tsv"):
        yield from read_csv(checked, source)
    elif looks_like_listing(checked):
        yield from parse_listing(checked, source)
    else:
        yield FileError(path=source, message="no abstracts found (no line reads as an abstract)")
