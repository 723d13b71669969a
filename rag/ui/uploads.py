"""Files users upload in the Library tab: who may upload, which paths are accepted, where they are kept."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Literal

from rag.corpus.load import READERS, file_type, reader_for
from rag.errors import RagError

log = logging.getLogger(__name__)

UploadsMode = Literal["auto", "on", "off"]


class UploadRefused(RagError):
    """An uploaded file that is not ingested: not received as an upload, wrong type, too big."""


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0: reachable from elsewhere as far as we know


def uploads_allowed(mode: UploadsMode, *, host: str, share: bool, auth: bool) -> bool:
    """Whether the Library tab may change the index: `auto` allows it behind a login or on loopback only.

    Without a login, anyone who can reach a server bound to a network address (or a share link)
    could add papers, so `auto` serves such a server read-only.
    """
    if mode != "auto":
        return mode == "on"
    return auth or (is_loopback(host) and not share)


def received_upload(path: str | Path, upload_root: str | Path) -> Path:
    """The real path of a file this server received as an upload, or `UploadRefused`.

    A client names the file path in its request; only regular files inside gradio's upload
    folder are accepted, after following symbolic links and `..`, so a request cannot make the
    server read its own files (the project's README, a memo in the home directory).
    """
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(upload_root))
    name = Path(path).name
    if not real.is_relative_to(root) or real == root:
        log.warning("refused an upload path outside the upload folder")
        raise UploadRefused(f"{name}: refused: not a file uploaded to this server")
    try:
        mode = real.stat().st_mode
    except OSError:
        raise UploadRefused(f"{name}: the uploaded file is gone; upload it again") from None
    if not stat.S_ISREG(mode):
        raise UploadRefused(f"{name}: refused: not a regular file")
    return real


SUPPORTED_TYPES = ", ".join(sorted(READERS)) + " (each also gzipped, e.g. .jsonl.gz)"


def check_upload(path: Path, name: str, max_mb: int) -> None:
    """Refuse types the loader cannot read (a bare `.gz` included) and files over `max_mb` megabytes."""
    if reader_for(Path(name)) is None:
        raise UploadRefused(f"{name}: unsupported file type {file_type(Path(name))} (use {SUPPORTED_TYPES})")
    if path.stat().st_size > max_mb * 1_000_000:
        raise UploadRefused(f"{name}: larger than {max_mb} MB")


def content_key(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256: the folder an upload is kept in."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def store_upload(path: Path, name: str, uploads: Path) -> tuple[Path, bool]:
    """Keep an upload as `uploads/<sha256[:16]>/<name>`; the same content uploaded again is the same file. Returns
    the path and whether this call wrote it.

    Keyed by content, not by name: two different files both called `papers.jsonl` are two
    sources, so ingesting one never drops the other's papers as stale.
    """
    dest = uploads / content_key(path) / Path(name).name
    if dest.exists():
        return dest, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=".part")
    os.close(fd)
    shutil.copyfile(path, partial)
    os.replace(partial, dest)  # never a half-copied file under the final name
    return dest, True


def discard_upload(path: Path) -> None:
    """Remove a stored upload nothing was indexed from (and its folder, once empty)."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: the same content under another name, or a partial copy
        path.parent.rmdir()


def upload_label(source: str, uploads: Path) -> tuple[str, str]:
    """(label, filter value) for a source file; uploads show their content key beside the name."""
    p = Path(source)
    if p.parent.parent == uploads.resolve() or p.parent.parent == uploads:
        return f"{p.name} (upload {p.parent.name[:8]})", f"{p.parent.name}/{p.name}"
    return p.name, p.name
