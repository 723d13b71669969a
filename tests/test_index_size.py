"""`stats()` sums the data dir's files while another process may be removing some (helper-50: a Chroma journal
or an old BM25 generation vanished between listing and `stat`, and /stats answered 500)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.index.space import bytes_used


def test_the_index_size_is_the_sum_of_its_files(tmp_path: Path) -> None:
    (tmp_path / "bm25" / "s1").mkdir(parents=True)
    (tmp_path / "manifest.sqlite").write_bytes(b"x" * 100)
    (tmp_path / "bm25" / "s1" / "terms.json").write_bytes(b"y" * 20)
    assert bytes_used(tmp_path) == 120


def test_a_file_removed_during_the_walk_counts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kept").write_bytes(b"x" * 100)
    (tmp_path / "chroma.sqlite3-journal").write_bytes(b"y" * 20)
    real = os.lstat

    def vanishing(path: str | os.PathLike[str]) -> os.stat_result:
        if str(path).endswith("-journal"):
            raise FileNotFoundError(path)  # listed, then removed by the writer before it was measured
        return real(path)

    monkeypatch.setattr(os, "lstat", vanishing)
    assert bytes_used(tmp_path) == 100
    assert bytes_used(tmp_path / "gone") == 0  # a folder removed before the walk
