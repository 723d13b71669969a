"""Uploaded files are stored under the data dir, named by their content hash: a client never names a server path."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from rag.corpus.load import READERS, file_type, reader_for
from rag.errors import InputError

_BLOCK = 1 << 20


class UploadTooLarge(Exception):
    """The upload exceeds the size cap."""


SUPPORTED_TYPES = ", ".join(sorted(READERS)) + " (each also gzipped, e.g. .jsonl.gz)"


def upload_suffix(filename: str | None) -> str:
    """The file type from the client's name, two-part for a gzipped file ('.jsonl.gz'); the name itself is never
    used. Refuses a type the loader cannot read (a bare '.gz' says nothing about what is inside)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if reader_for(Path(name)) is None:
        kind = file_type(Path(name)) if name else "(no name)"
        raise InputError(f"unsupported file type {kind} (use {SUPPORTED_TYPES})", path=filename or "upload")
    return file_type(Path(name))


def store_upload(stream: BinaryIO, suffix: str, folder: Path, *, max_bytes: int) -> tuple[Path, int, bool]:
    """Copy `stream` into `folder` as `<sha256><suffix>`; returns the path, its size and whether it is new (the same
    content was not stored already).

    Raises `UploadTooLarge` past `max_bytes` (nothing is kept) and `InputError` for an empty file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(_BLOCK):
                size += len(block)
                if size > max_bytes:
                    raise UploadTooLarge
                digest.update(block)
                out.write(block)
        if size == 0:
            raise InputError("the file is empty", path="upload")
        dest = folder / f"{digest.hexdigest()}{suffix}"
        created = not dest.exists()
        tmp.replace(dest)  # the same content lands on the same name: re-uploads are skipped by fingerprint
        return dest, size, created
    finally:
        tmp.unlink(missing_ok=True)
