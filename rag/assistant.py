"""The façade the UI, the CLI and the eval harness use: ingest, stats, search (and ask)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answering import Answerer, offered_models, resolve_backend
from rag.caps import check_history, check_query, check_question, query_options
from rag.config import Settings
from rag.corpus.load import bundled_corpus_dir
from rag.errors import ConfigError, IndexMismatchError, InputError
from rag.followup import own_question
from rag.generation.backends import check_settings
from rag.generation.chat import ChatBackend
from rag.generation.extractive import is_list_question
from rag.index.bm25 import BM25Index
from rag.index.embedders import Embedder, embedder_name, make_embedder
from rag.index.ingest import Ingestor
from rag.index.lock import WriterLock
from rag.index.manifest import Manifest, collection_in
from rag.index.rebuild import clear_leftovers, rebuild, wipe
from rag.index.space import bytes_used
from rag.index.store import VectorStore
from rag.index.swaps import Swaps, retried_across_swaps
from rag.query import analyze
from rag.retrieval import Mode, RetrievalConfig, Retriever
from rag.topicless import names_nothing
from rag.types import Answer, Hit, IndexStats, IngestReport, Paper, QueryOptions

if TYPE_CHECKING:
    from rag.integrations.llama_index import AssistantQueryEngine, AssistantRetriever

log = logging.getLogger(__name__)

MAX_ANSWERERS = 8
"""Answerers (one per backend and model) an `Assistant` keeps; each holds its own sentence-embedding cache."""


class Assistant:
    """Question answering over an index of paper abstracts.

    >>> a = Assistant()                 # settings from the environment and .env
    >>> a.ingest()                      # the bundled corpus
    >>> a.search("speech synthesis with transformers", k=5)
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        chat: ChatBackend | None = None,
        llm: Any = None,
        **overrides: Any,
    ) -> None:
        """`embedder`, `store` and `chat` replace the components the settings would build (tests inject
        fakes here: `HashEmbedder`, `VectorStore.in_memory`, a scripted `ChatBackend`). `llm` is any llama-index
        LLM to answer with (the settings form: `RAG_LLM_CLASS` and `RAG_LLM_KWARGS`)."""
        base = settings or Settings()
        self.settings = base.updated(**overrides) if overrides else base
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(self.settings.manifest_path)
        self._bm25: BM25Index | None = None
        self._answerers: OrderedDict[tuple[str, str | None], Answerer] = OrderedDict()  # LRU, MAX_ANSWERERS
        self._answerers_mu = threading.Lock()
        self._chat = chat
        if llm is not None or (chat is None and self.settings.llm_class):
            self._chat = self._llama_index_chat(llm, chat)
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if store is not None:
            self.__dict__["store"] = store
        self._writer = WriterLock(self.settings.data_dir, self.settings.write_lock_timeout)
        self._bm25_mu = threading.Lock()
        self._follow_mu = threading.Lock()
        self.swaps = Swaps()  # this process's own resets and re-indexes, which a failed read waits out
        self._store_generation = self.manifest.store_generation()

    # --- components (built on first use) -------------------------------------------------
    @cached_property
    def store(self) -> VectorStore:
        """The Chroma collection."""
        s = self.settings
        return VectorStore(s, name_source=lambda: collection_in(s.manifest_path, s.collection))

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        return make_embedder(self.settings)

    def _embedder_name(self) -> str:
        return self.__dict__["embedder"].name if "embedder" in self.__dict__ else embedder_name(self.settings)

    def _get_bm25(self) -> BM25Index:
        """The current BM25 index; reloaded when another process (or an ingest) saved a newer one."""
        current = BM25Index.current_generation(self.settings.bm25_dir)
        with self._bm25_mu:
            if self._bm25 is None or self._bm25.generation != current:
                self._bm25 = BM25Index.load(self.settings.bm25_dir)
            return self._bm25

    @cached_property
    def retriever(self) -> Retriever:
        """Hybrid dense + BM25 retrieval over the index."""
        s = self.settings
        config = RetrievalConfig(s.fusion, s.dense_weight, s.fusion_depth, s.rrf_k, s.mmr_lambda)
        return Retriever(self.manifest, self.store, self._get_bm25, lambda: self.embedder, config)

    def follow_writer(self) -> None:
        """See what another process committed since the last call: a re-created manifest is re-opened, and the
        vector store is looked at afresh when its generation moved on (BM25 follows its own `CURRENT` pointer).
        Every read of the public API calls this first; it costs one SQLite read when nothing changed."""
        with self._follow_mu:
            replaced = self.manifest.replaced()
            if replaced:  # another process re-indexed: the old file is gone
                log.info("the index in %s was re-created by another process; re-opening it", self.settings.data_dir)
                self.manifest = Manifest(self.settings.manifest_path)
                self.__dict__.pop("retriever", None)
            generation = self.manifest.store_generation()
            if generation != self._store_generation or replaced:
                if "store" in self.__dict__:
                    self.store.refresh()
                self._store_generation = generation

    @retried_across_swaps  # `stream`'s first read of the manifest (its search is retried on its own)
    def _check_model(self) -> None:
        built_with = self.manifest.get_meta("embed_model")
        configured = self._embedder_name()
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
        wait: bool = True,
    ) -> IngestReport:
        """Index files and directories (default: the bundled corpus); unchanged files are skipped.

        `prune` removes papers whose source files are gone; `reindex` builds a new index from `paths` beside the
        live one, which answers until the new one replaces it (needed after changing the embedding model). Another
        writer at work is waited for (`RAG_WRITE_LOCK_TIMEOUT`), or with `wait=False` an `IndexBusyError` at once.
        """
        with self._writer if wait else WriterLock(self.settings.data_dir, 0):
            self.follow_writer()  # opened before another process re-indexed: not into the old files
            clear_leftovers(self.manifest, self.store)
            found: list[str | Path] = list(paths) if paths is not None else [bundled_corpus_dir()]
            if reindex:
                return self._rebuild(found, prune=prune, progress=progress)
            self._check_model()
            ingestor = self._ingestor()
            try:
                return ingestor.ingest(found, prune=prune, progress=progress)
            finally:
                self._wrote(ingestor.bm25)

    def _rebuild(self, paths: list[str | Path], *, prune: bool, progress: bool) -> IngestReport:
        """A new index built beside the live one, which answers until the new one takes its place."""

        def build(manifest: Manifest, store: VectorStore, bm25_dir: Path) -> tuple[IngestReport, BM25Index | None]:
            ingestor = self._ingestor((manifest, store, bm25_dir))
            return ingestor.ingest(paths, prune=prune, progress=progress), ingestor.bm25

        self.manifest, report, index = rebuild(
            self.manifest, self.store, self.settings.bm25_dir, self.settings.collection, build, self.swaps.swapping
        )
        self.__dict__.pop("retriever", None)
        self._wrote(index)
        return report

    def _wrote(self, index: BM25Index | None) -> None:
        """After this process's own writes: their BM25 index served, their store generation seen."""
        if index is not None:
            with self._bm25_mu:
                self._bm25 = index
        with self._follow_mu:  # this process's own writes: its store client has seen them
            self._store_generation = self.manifest.store_generation()

    def _ingestor(self, into: tuple[Manifest, VectorStore, Path] | None = None) -> Ingestor:
        """An ingestor into the live index, or `into` another manifest, store and BM25 folder."""
        manifest, store, bm25_dir = into or (self.manifest, self.store, self.settings.bm25_dir)
        return Ingestor.configured(self.settings, manifest, store, lambda: self.embedder, bm25_dir)

    def reset(self) -> None:
        """Delete everything indexed."""
        with self._writer:
            self.follow_writer()
            clear_leftovers(self.manifest, self.store, always=True)
            with self.swaps.swapping():
                self.manifest = wipe(self.manifest, self.store, self.settings)
                self._bm25 = None
                self._store_generation = self.manifest.store_generation()
                self.__dict__.pop("retriever", None)

    @retried_across_swaps
    def is_empty(self) -> bool:
        """Whether nothing has been indexed yet."""
        self.follow_writer()
        return self.manifest.count_papers() == 0

    @retried_across_swaps
    def stats(self) -> IndexStats:
        """Papers, chunks, sources, embedding model and index size."""
        self.follow_writer()
        return IndexStats(
            papers=self.manifest.count_papers(),
            chunks=self.manifest.count_chunks(),
            vectors=self.store.count(),
            bm25_entries=len(self._get_bm25().ids),
            sources=self.manifest.sources(),
            embedding_model=self.manifest.get_meta("embed_model"),
            index_bytes=bytes_used(self.settings.data_dir),
            data_dir=str(self.settings.data_dir),
            years=self.manifest.years(),
        )

    @retried_across_swaps
    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        mmr: bool = False,
    ) -> list[Hit]:
        """The best papers for `query`, best first.

        `mode` picks hybrid, dense or bm25 (default: `search_mode`); `year=(from, to)` and `sources` (file paths or
        names) filter in both retrievers; `mmr` diversifies the list (for "which papers ..." questions).
        """
        check_query(query, self.settings, k)
        self.follow_writer()
        self._check_model()
        if not query.strip():
            return []
        k = k or self.settings.top_k
        mode = mode or self.settings.search_mode
        return self.retriever.search(query, k, mode=mode, year=year, sources=sources, mmr=mmr)

    def wants_mmr(self, question: str) -> bool:
        """Whether answer retrieval diversifies with MMR (`RAG_MMR`: always, never, auto = list-style questions)."""
        if self.settings.mmr == "auto":
            return is_list_question(question)
        return self.settings.mmr == "always"

    # --- answers -------------------------------------------------------------------------
    def answerer(self, backend: str | None = None, model: str | None = None) -> Answerer:
        """The answerer for a backend (default: `RAG_LLM`, `auto` resolved) and an optional OpenAI model name, one
        of `offered_models` (else `InputError`); the most recently used few are kept."""
        offered = offered_models(self.settings)
        if model and model not in offered:  # a client-sent name: never a cache key, never echoed whole
            raise InputError(
                f"model {model[:60]!r} is not offered here; choose one of {', '.join(offered)} "
                "(RAG_OPENAI_MODEL, RAG_ALLOWED_MODELS)"
            )
        chat = self._chat if backend in (None, "auto") else None
        kind = chat.name if chat is not None else backend or resolve_backend(self.settings)
        if chat is None:
            check_settings(kind, self.settings)  # a missing key is said before any retrieval or model loading
        model = model or self.settings.openai_model
        key = (kind, model if kind == "openai" else None)  # only the openai backend uses the model name
        with self._answerers_mu:
            answerer = self._answerers.get(key)
            if answerer is not None:
                self._answerers.move_to_end(key)
        if answerer is None:
            settings = self.settings.model_copy(update={"openai_model": model}) if key[1] else self.settings
            answerer = Answerer(settings, self.embedder, kind, chat=chat)
            with self._answerers_mu:
                self._answerers[key] = answerer
                while len(self._answerers) > MAX_ANSWERERS:
                    self._answerers.popitem(last=False)  # the least recently used
        return answerer

    def stream(
        self,
        question: str,
        options: QueryOptions | None = None,
        *,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        backend: str | None = None,
        model: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer's text deltas as they are written, then the final checked `Answer`.

        The options come as one `QueryOptions` or as keywords (not both). `history` is a list of
        {"role": "user"|"assistant", "content": ...} turns; a follow-up is condensed into a standalone question
        before retrieval.
        """
        opts = query_options(options, history=history, k=k, year=year, sources=sources, backend=backend, model=model)
        history, k, year, sources = opts.history, opts.k, opts.year, opts.sources
        check_question(question, self.settings, k)  # the one door of the UI, the API, MCP and the CLI
        check_history(history, self.settings)
        self._check_model()
        answerer = self.answerer(opts.backend, opts.model)
        started = time.perf_counter()
        deadline = time.monotonic() + self.settings.answer_deadline  # one deadline for condensing and answering
        standalone = answerer.condense(question, history or [], deadline=deadline)
        analysing = time.perf_counter()
        asked = analyze(standalone)  # the one analysis of this question: it travels with the request
        started += time.perf_counter() - analysing  # retrieve_s times condensing and searching, not the analysis
        hits = (
            []  # "Which paper?": the answerer asks what to look for, so nothing is searched
            if names_nothing(asked)
            else self.search(
                standalone, k or self.settings.answer_k, year=year, sources=sources, mmr=self.wants_mmr(standalone)
            )
        )
        retrieve_s = time.perf_counter() - started
        scope = " and ".join(
            p for p in (f"from {year[0]}-{year[1]}" if year else "", "in the chosen sources" if sources else "") if p
        )
        asked = replace(asked, own_words=own_question(question)) if standalone != question else asked
        for item in answerer.stream(asked, hits, retrieve_s=retrieve_s, deadline=deadline, scope=scope or None):
            if isinstance(item, Answer):
                item = item.model_copy(
                    update={"question": question, "standalone_question": standalone if standalone != question else None}
                )
            yield item

    def ask(
        self,
        question: str,
        options: QueryOptions | None = None,
        *,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        backend: str | None = None,
        model: str | None = None,
    ) -> Answer:
        """Answer a question from the indexed abstracts, every claim cited as [n]; options as in `stream`."""
        opts = query_options(options, history=history, k=k, year=year, sources=sources, backend=backend, model=model)
        answer = None
        for item in self.stream(question, opts):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    @retried_across_swaps
    def paper(self, paper_id: str) -> Paper | None:
        """One indexed paper by id, or None."""
        self.follow_writer()
        return self.manifest.get(paper_id)

    # --- other doors (llama-index) ---------------------------------------------------------
    def _llama_index_chat(self, llm: Any, chat: ChatBackend | None) -> ChatBackend:
        from rag.integrations.llama_index import LlamaIndexChat, llm_from_settings

        if chat is not None:
            raise ConfigError("pass either chat= or llm=, not both")
        return LlamaIndexChat(llm if llm is not None else llm_from_settings(self.settings))

    def as_retriever(
        self,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
    ) -> AssistantRetriever:
        """This index as a llama-index `BaseRetriever`: nodes hold the passage, the paper's metadata (paper_id,
        title, year, authors, source, url) and the fused score."""
        from rag.integrations.llama_index import AssistantRetriever

        return AssistantRetriever(self, k=k, mode=mode, year=year, sources=sources)

    def as_query_engine(
        self,
        *,
        k: int | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        backend: str | None = None,
    ) -> AssistantQueryEngine:
        """The answering pipeline as a llama-index query engine: `Response.response` is the checked, cited
        answer and `source_nodes` are the cited papers."""
        from rag.integrations.llama_index import AssistantQueryEngine

        return AssistantQueryEngine(self, k=k, year=year, sources=sources, backend=backend)

    def close(self) -> None:
        """Release the manifest database and an embedded vector store's files (used again, it opens them anew)."""
        self.manifest.close()
        if "store" in self.__dict__ and self.store.close():
            self.__dict__.pop("store"), self.__dict__.pop("retriever", None)
