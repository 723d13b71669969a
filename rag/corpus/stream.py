"""Opening input files safely and reading them as numbered text lines, bounded in memory.

Only regular files are opened (a FIFO or a device would block or never end). Text is decoded
incrementally, so a multi-byte character is never split at a buffer boundary; bytes that are not
UTF-8 are kept as surrogate escapes for the readers to reject per line (`line_problem`), so one bad
byte costs one line, not the file. A line longer than `ReadLimits.max_line_chars` is skipped
without ever being held in memory. Gzip input is decompressed as a stream; damage stops the file
with an error, keeping what was read before it.

Bombs are bounded: a gzip is refused before any of it is read when it inflates past
`ReadLimits.max_inflated_bytes` or more than `ReadLimits.max_inflation_ratio` times its packed size,
and a file is cut after `ReadLimits.max_records` lines (or JSON items), blank ones included.
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
from typing import TYPE_CHECKING, BinaryIO

from rag.errors import InputError
from rag.types import FileError

if TYPE_CHECKING:
    from rag.config import Settings

_UNDECODABLE = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x7f]")
_NUL_RUN = re.compile(rb"\x00{8,}")
_CONTAINERS = (b"SQLite format 3\x00", b"PK\x03\x04", b"\x7fELF", b"\x89PNG", b"%PDF-")
DAMAGED = (gzip.BadGzipFile, EOFError, zlib.error)
"""What a gzip stream raises on corrupt or truncated data."""
REST_NOT_READ = "the rest of the file is not read"
"""How an error that ends a file ends: such an error is always listed, however many came before it."""
MB = 1 << 20
BUFFER = 1 << 16
"""Read buffer: larger than any head a reader peeks at."""


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
    max_records: int = 5_000_000
    """Lines (JSONL, CSV, text) or items (a JSON list) read per file, blank and unreadable ones included."""
    max_skipped_in_a_row: int = 100_000
    """Lines or items in a row that hold no paper (blank, unreadable, without an abstract) before a file is cut."""
    max_json_containers: int = 10_000_000
    """Objects and lists a .json document may hold (it is parsed whole: this bounds memory)."""
    max_inflated_bytes: int = 8192 * MB
    """Most bytes a compressed file may inflate to."""
    max_inflation_ratio: float = 100.0
    """Past its first MB, a compressed file may inflate to at most this many times the packed bytes read."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        """The caps the settings ask for (RAG_MAX_RECORDS_PER_FILE, RAG_MAX_SKIPPED_IN_A_ROW, RAG_MAX_INFLATED_MB,
        RAG_MAX_INFLATION_RATIO); a .json document may hold twice as many objects and lists as records."""
        return cls(
            max_records=settings.max_records_per_file,
            max_skipped_in_a_row=settings.max_skipped_in_a_row,
            max_json_containers=2 * settings.max_records_per_file,
            max_inflated_bytes=settings.max_inflated_mb * MB,
            max_inflation_ratio=settings.max_inflation_ratio,
        )

    def records_cut(self, source: str, line: int | None, unit: str = "lines") -> FileError:
        """The error that ends a file at the record cap."""
        return FileError(
            path=source,
            line=line or None,
            message=f"more than {self.max_records:,} {unit} (RAG_MAX_RECORDS_PER_FILE); {REST_NOT_READ}",
        )

    def skipped_cut(self, source: str, line: int | None, unit: str = "lines") -> FileError:
        """The error that ends a file after too many records in a row without a paper."""
        return FileError(
            path=source,
            line=line or None,
            message=f"{self.max_skipped_in_a_row:,} {unit} in a row without a paper (blank, unreadable or no "
            f"abstract; RAG_MAX_SKIPPED_IN_A_ROW); {REST_NOT_READ}",
        )


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
def open_binary(path: Path, *, compressed: bool = False, limits: ReadLimits | None = None) -> Iterator[BinaryIO]:
    """A binary stream over a regular file (decompressed when `compressed`); never blocks on a FIFO.

    The file is opened non-blocking and checked with fstat before anything is read, so a FIFO
    or device that replaced the file after it was listed is refused too. A compressed file is
    inflated once first: a corrupt one or a bomb (past the byte or ratio cap) is refused whole.
    """
    limits = limits or ReadLimits()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{describe_mode(mode)}, not a regular file; refused", path=str(path))
        os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb", buffering=BUFFER)
    except BaseException:
        os.close(fd)
        raise
    with raw:
        if not compressed:
            yield raw
            return
        if damage := gzip_damage(raw, str(path), limits):
            raise InputError(f"compressed data is corrupt ({damage}); nothing of it is read", path=str(path))
        with Inflating(raw, str(path), limits) as inflating, io.BufferedReader(inflating, BUFFER) as unzipped:
            yield unzipped


class Inflating(io.RawIOBase):
    """A gzip stream that stops with an InputError when it inflates past the byte cap or the ratio cap."""

    def __init__(self, raw: BinaryIO, source: str, limits: ReadLimits) -> None:
        self._raw, self._source, self._limits = raw, source, limits
        self._unzipped = gzip.GzipFile(fileobj=raw, mode="rb")
        self._damage: BaseException | None = None
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill `buffer` (short only at the end of the data), so a peek sees a whole head; damage is raised
        after the sound bytes before it were returned."""
        if self._damage is not None:
            raise self._damage
        view = memoryview(buffer).cast("B")
        filled = 0
        try:
            # read1, not read: a read that meets damage loses what it inflated before it
            while filled < len(view) and (data := self._unzipped.read1(len(view) - filled)):
                view[filled : filled + len(data)] = data
                filled += len(data)
                self.inflated += len(data)
                self._check()
        except DAMAGED as exc:
            if not filled:
                raise
            self._damage = exc
        return filled

    def close(self) -> None:
        self._unzipped.close()
        super().close()

    def _check(self) -> None:
        limits = self._limits
        if self.inflated > limits.max_inflated_bytes:
            raise InputError(
                f"compressed data inflates to more than {limits.max_inflated_bytes / MB:,.0f} MB "
                "(RAG_MAX_INFLATED_MB); refused, nothing of it is read",
                path=self._source,
            )
        if self.inflated > MB and self.inflated > limits.max_inflation_ratio * max(self._raw.tell(), 1):
            raise InputError(
                f"compressed data inflates more than {limits.max_inflation_ratio:g} times its size "
                "(RAG_MAX_INFLATION_RATIO): a decompression bomb; refused, nothing of it is read",
                path=self._source,
            )


def gzip_damage(raw: BinaryIO, source: str = "", limits: ReadLimits | None = None) -> BaseException | None:
    """Inflate all of `raw` once, keeping nothing: the error if the data is corrupt, else None.

    Corruption (a bad CRC, invalid deflate data) is often only detected after garbage has been
    decompressed, so no record of a corrupt file can be trusted. A truncated file is not corrupt:
    everything before the cut is sound and is read (the readers then report the cut). A bomb
    raises InputError here, before anything of it is read.
    """
    block = bytearray(MB)
    try:
        with Inflating(raw, source, limits or ReadLimits()) as unzipped:
            while unzipped.readinto(block):
                pass
    except EOFError:
        return None
    except (gzip.BadGzipFile, zlib.error) as exc:
        return exc
    finally:
        raw.seek(0)
    return None


def peek(stream: BinaryIO, size: int = 8192) -> bytes:
    """Up to `size` bytes from the start of `stream` without consuming them (all of them unless the stream is
    shorter: the streams of `open_binary` buffer more than that)."""
    return stream.peek(size)[:size]  # type: ignore[attr-defined]


def encoding_of(head: bytes) -> str:
    """The text encoding a byte-order mark announces (UTF-8 without one)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes are not text: control bytes in 1 of 20, or undecodable in 1 of 3.

    A few bad bytes in text (or a Latin-1 file) do not count: those are rejected line by line. Nor does a run of
    NUL bytes beside text (what a crash leaves in a file being written): its lines are rejected, the others read.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if head.startswith(_CONTAINERS) or head[257:262] == b"ustar":  # archives and databases may hold text
        return True
    if stripped := _NUL_RUN.sub(b"", head):  # a block of zeros (a crash's hole in a text file) is judged by the rest
        head = stripped
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False)
    control = len(_CONTROL.findall(text))
    return control * 20 > len(text) or (control + text.count("\ufffd")) * 3 > len(text)


def text_stream(stream: BinaryIO, head: bytes) -> io.TextIOWrapper:
    """`stream` decoded incrementally; undecodable bytes become surrogate escapes, newlines are kept."""
    return io.TextIOWrapper(stream, encoding=encoding_of(head), errors="surrogateescape", newline="")


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

    A read failure (damaged gzip data, an I/O error) ends the iteration after its error, and so
    does reaching `limits.max_records` lines (blank ones count too).
    """
    limit = limits.max_line_chars
    number = 0
    try:
        while line := text.readline(limit + 2):
            if number >= limits.max_records:
                yield limits.records_cut(source, number + 1)
                return
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
