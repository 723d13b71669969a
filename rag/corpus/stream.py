"""Opening input files safely and reading them as numbered text lines, bounded in memory.

Only regular files are opened (a FIFO or a device would block or never end). Text is decoded
incrementally, so a multi-byte character is never split at a buffer boundary; bytes that are not
UTF-8 are kept as surrogate escapes for the readers to reject per line (`line_problem`), so one bad
byte costs one line, not the file. A line longer than `ReadLimits.max_line_chars` is skipped
without ever being held in memory. Gzip input is decompressed as a stream; damage stops the file
with an error, keeping what was read before it.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rag.errors import InputError
from rag.types import FileError

_UNDECODABLE = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x7f]")
DAMAGED = (gzip.BadGzipFile, EOFError, zlib.error)
"""What a gzip stream raises on corrupt or truncated data."""


@dataclass(frozen=True)
class ReadLimits:
    """Caps that keep one hostile file from exhausting memory or time."""

    max_line_chars: int = 1_000_000
    """Longest line (and CSV field) read; a longer one is reported and skipped."""
    max_field_chars: int = 100_000
    """Longest title or abstract; a longer record is reported and skipped."""
    max_whole_file_chars: int = 256_000_000
    """Largest file read whole (.json documents, .txt listing dumps); JSONL and CSV stream at any size."""
    max_errors_per_file: int = 20
    """Errors listed one by one per file; the rest are counted in one last message."""


def describe_mode(mode: int) -> str:
    """What kind of file system object a stat mode is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: Path) -> os.stat_result:
    """The stat of `path` when it is a regular file (symlinks followed); else an InputError."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file or directory", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{describe_mode(st.st_mode)}, not a regular file; refused", path=str(path))
    return st


@contextmanager
def open_binary(path: Path, *, compressed: bool = False) -> Iterator[BinaryIO]:
    """A binary stream over a regular file (decompressed when `compressed`); never blocks on a FIFO.

    The file is opened non-blocking and checked with fstat before anything is read, so a FIFO
    or device that replaced the file after it was listed is refused too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{describe_mode(mode)}, not a regular file; refused", path=str(path))
        os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with raw:
        if not compressed:
            yield raw
            return
        if damage := gzip_damage(raw):
            raise InputError(f"compressed data is corrupt ({damage}); nothing of it is read", path=str(path))
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped  # type: ignore[misc]


def gzip_damage(raw: BinaryIO) -> BaseException | None:
    """Decompress all of `raw` once, keeping nothing: the error if the data is corrupt, else None.

    Corruption (a bad CRC, invalid deflate data) is often only detected after garbage has been
    decompressed, so no record of a corrupt file can be trusted. A truncated file is not corrupt:
    everything before the cut is sound and is read (the readers then report the cut).
    """
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            while unzipped.read(1 << 20):
                pass
    except EOFError:
        return None
    except (gzip.BadGzipFile, zlib.error) as exc:
        return exc
    finally:
        raw.seek(0)
    return None


def peek(stream: BinaryIO, size: int = 8192) -> bytes:
    """Up to `size` bytes from the start of `stream` without consuming them."""
    return stream.peek(size)[:size]  # type: ignore[attr-defined]


def encoding_of(head: bytes) -> str:
    """The text encoding a byte-order mark announces (UTF-8 without one)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes are not text: control bytes in 1 of 20, or undecodable in 1 of 3.

    A few bad bytes in text (or a Latin-1 file) do not count: those are rejected line by line.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False)
    control = len(_CONTROL.findall(text))
    return control * 20 > len(text) or (control + text.count("\ufffd")) * 3 > len(text)


def text_stream(stream: BinaryIO, head: bytes) -> io.TextIOWrapper:
    """`stream` decoded incrementally; undecodable bytes become surrogate escapes, newlines are kept."""
    return io.TextIOWrapper(stream, encoding=encoding_of(head), errors="surrogateescape", newline="")  # type: ignore[type-var]


def line_problem(text: str) -> str | None:
    """Why a decoded line cannot be used (bytes that are not UTF-8, or NUL bytes), or None."""
    if not text.isascii() and (m := _UNDECODABLE.search(text)):
        return f"not UTF-8 text (byte 0x{ord(m.group()) - 0xDC00:02x}); skipped"
    if "\x00" in text:
        return "binary data (a NUL byte), not text; skipped"
    return None


def damage_message(exc: BaseException) -> str:
    """A one-line description of a read failure in the middle of a file."""
    if isinstance(exc, DAMAGED):
        return f"compressed data is damaged or truncated ({exc}); the rest of the file is not read"
    if isinstance(exc, UnicodeDecodeError):
        return f"not {exc.encoding.upper()} text ({exc.reason}); the rest of the file is not read"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}; the rest of the file is not read"
    return f"{exc}; the rest of the file is not read"


def numbered_lines(text: io.TextIOBase, source: str, limits: ReadLimits) -> Iterator[tuple[int, str] | FileError]:
    """Each line with its 1-based number (newline kept); an overlong line or a read failure as an error.

    A read failure (damaged gzip data, an I/O error) ends the iteration after its error.
    """
    limit = limits.max_line_chars
    number = 0
    try:
        while line := text.readline(limit + 2):
            number += 1
            content = line.rstrip("\r\n")
            if len(content) <= limit:
                yield number, line
                continue
            length = len(content)
            if len(content) == len(line):  # no newline read yet: skip the rest unread
                while part := text.readline(limit):
                    stripped = part.rstrip("\r\n")
                    length += len(stripped)
                    if len(stripped) != len(part):
                        break
            yield FileError(
                path=source,
                line=number,
                message=f"line of {length:,} characters (limit {limit:,}); skipped",
            )
    except (*DAMAGED, UnicodeDecodeError, OSError) as exc:
        yield FileError(path=source, line=number + 1, message=damage_message(exc))


def read_whole(text: io.TextIOBase, source: str, limits: ReadLimits) -> str:
    """All of a text stream, refused (InputError) when it is larger than the whole-file cap."""
    limit = limits.max_whole_file_chars
    try:
        data = text.read(limit + 1)
    except (*DAMAGED, UnicodeDecodeError, OSError) as exc:
        raise InputError(damage_message(exc).split(";")[0], path=source) from None
    if len(data) > limit:
        raise InputError(
            f"larger than {limit:,} characters, the most read whole for this file type "
            "(JSONL and CSV are streamed at any size)",
            path=source,
        )
    return data
