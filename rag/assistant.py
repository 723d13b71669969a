"""The façade the UI, the CLI and the eval harness use: ingest, stats, search (and ask)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.corpus.load import bundled_corpus_dir
from rag.errors import IndexMismatchError
from rag.index.bm25 import BM25Index
from rag.index.chunking import Chunker
from rag.index.embedders import Embedder, embedder_name, make_embedder
from rag.index.ingest import Ingestor
from rag.index.manifest import Manifest
from rag.index.store import VectorStore
from rag.retrieval import Mode, Retriever
from rag.types import Hit, IndexStats, IngestReport

log = logging.getLogger(__name__)


class Assistant:
    """Question answering over an index of paper abstracts.

    >>> a = Assistant()                 # settings from the environment and .env
    >>> a.ingest()                      # the bundled corpus
    >>> a.search("speech synthesis with transformers", k=5)
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.settings.manifest_path)
        self._bm25: BM25Index | None = None

    # --- components (built on first use) -------------------------------------------------
    @cached_property
    def store(self) -> VectorStore:
        """The Chroma collection."""
        return VectorStore(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        return make_embedder(self.settings)

    def _get_embedder(self) -> Embedder:
        return self.embedder

    def _get_bm25(self) -> BM25Index:
        if self._bm25 is None:
            self._bm25 = BM25Index.load(self.settings.bm25_dir)
        return self._bm25

    @cached_property
    def retriever(self) -> Retriever:
        """Hybrid dense + BM25 retrieval over the index."""
        return Retriever(self.manifest, self.store, self._get_bm25, self._get_embedder)

    def _check_model(self) -> None:
        built_with = self.manifest.get_meta("embed_model")
        configured = embedder_name(self.settings)
        if built_with and built_with != configured:
            raise IndexMismatchError(
                f"the index in {self.settings.data_dir} was built with {built_with}, but {configured} is "
                "configured; re-index with `rag ingest --reindex` (or point RAG_DATA_DIR elsewhere)"
            )

    # --- public API ----------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path] | None = None,
        *,
        prune: bool = False,
        reindex: bool = False,
        progress: bool = True,
    ) -> IngestReport:
        """Index files and directories (default: the bundled corpus); unchanged files are skipped.

        `prune` removes papers whose source files are gone; `reindex` wipes the index first
        (needed after changing the embedding model).
        """
        if reindex:
            self.reset()
        self._check_model()
        ingestor = Ingestor(
            self.manifest,
            self.store,
            Chunker(self.settings.chunk_size, self.settings.chunk_overlap, self.settings.embed_title),
            self._get_embedder,
            self.settings.bm25_dir,
        )
        report = ingestor.ingest(
            list(paths) if paths is not None else [bundled_corpus_dir()],
            prune=prune,
            progress=progress,
        )
        self._bm25 = None  # reload the rebuilt index on next search
        return report

    def reset(self) -> None:
        """Delete everything indexed."""
        self.store.reset(self.settings)
        self.manifest.close()
        self.settings.manifest_path.unlink(missing_ok=True)
        shutil.rmtree(self.settings.bm25_dir, ignore_errors=True)
        self.manifest = Manifest(self.settings.manifest_path)
        self._bm25 = None
        self.__dict__.pop("retriever", None)

    def is_empty(self) -> bool:
        """Whether nothing has been indexed yet."""
        return self.manifest.count_papers() == 0

    def stats(self) -> IndexStats:
        """Papers, chunks, sources, embedding model and index size."""
        size = sum(f.stat().st_size for f in self.settings.data_dir.rglob("*") if f.is_file())
        return IndexStats(
            papers=self.manifest.count_papers(),
            chunks=self.manifest.count_chunks(),
            sources=self.manifest.sources(),
            embedding_model=self.manifest.get_meta("embed_model"),
            index_bytes=size,
            data_dir=str(self.settings.data_dir),
            years=self.manifest.years(),
        )

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: Mode = "hybrid",
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The best papers for `query`, best first; `year=(from, to)` and `sources` filter."""
        self._check_model()
        if not query.strip():
            return []
        return self.retriever.search(query, k or self.settings.top_k, mode=mode, year=year, sources=sources)

    def close(self) -> None:
        """Release the manifest database."""
        self.manifest.close()
