"""Readers that turn files of abstracts into `Paper` records."""

from rag.corpus.load import bundled_corpus_dir, expand_paths, read_file

__all__ = ["bundled_corpus_dir", "expand_paths", "read_file"]
