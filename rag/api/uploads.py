"""Uploaded files are stored under the data dir, named by their content hash: a client never names a server path."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from rag.corpus.load import SUPPORTED
from rag.errors import InputError

_BLOCK = 1 << 20


class UploadTooLarge(Exception):
    """The upload exceeds the size cap."""


def upload_suffix(filename: str | None) -> str:
    """The file type from the client's name (one of the supported suffixes); the name itself is never used."""
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"unsupported file type (use {', '.join(sorted(SUPPORTED))})", path=filename or "upload")
    return suffix


def store_upload(stream: BinaryIO, suffix: str, folder: Path, *, max_bytes: int) -> tuple[Path, int]:
    """Copy `stream` into `folder` as `<sha256><suffix>`; returns the path and its size.

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
        tmp.replace(dest)  # the same content lands on the same name: re-uploads are skipped by fingerprint
        return dest, size
    finally:
        tmp.unlink(missing_ok=True)
