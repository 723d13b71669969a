"""The vector store: a Chroma collection (embedded or a server); the only chromadb import.

Our own embeddings are always passed in: Chroma's default embedding function would download
a model.
"""

from __future__ import annotations

import atexit
import copy
import gc
import logging
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
from pydantic import SecretStr

from rag.config import Settings
from rag.errors import BackendUnavailableError, ConfigError, RagError
from rag.index.lock import StoreLock
from rag.index.space import remove_orphan_segments
from rag.types import Chunk, Paper

log = logging.getLogger(__name__)
T = TypeVar("T")
_SOURCE_KEY = re.compile(r"^s\d+$")
_MAX_BATCH = 4000  # under Chroma's largest batch and SQLite's variable limit
_HNSW = {"hnsw:space": "cosine", "hnsw:search_ef": 100}  # Chroma's default search_ef (10) loses recall at scale
_TOKEN_CHARS = re.compile(r"[!-~]+")  # what Chroma's token auth client accepts


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A store call that fails (a Chroma server died, the network dropped, the local store failed) is one line,
    never a traceback."""

    @wraps(method)
    def wrapper(self: VectorStore, *args: Any, **kwargs: Any) -> T:
        with self._errors():
            self._reopen_if_closed()
            return method(self, *args, **kwargs)

    return wrapper


def _read(method: Callable[..., T]) -> Callable[..., T]:
    """A read that fails is tried once more on a freshly opened store: an embedded client that missed another
    process's writes can fail on ids it has not loaded ("Error finding id"). A second failure is one line."""

    @wraps(method)
    def wrapper(self: VectorStore, *args: Any, **kwargs: Any) -> T:
        try:
            with self._errors():
                self._reopen_if_closed()
                return method(self, *args, **kwargs)
        except BackendUnavailableError:
            log.info("a vector-store read failed; re-opening the store and trying once more", exc_info=True)
        self.refresh()
        with self._errors():
            return method(self, *args, **kwargs)

    return wrapper


class VectorStore:
    """Chunk vectors with the metadata the filters need (paper id, year)."""

    def __init__(
        self, settings: Settings, client: Any = None, *, name_source: Callable[[], str | None] | None = None
    ) -> None:
        """`name_source` gives the live collection's name when the store opens or is looked at afresh (None: the
        configured one): a re-index moves the index to a new collection (`rag.index.rebuild`)."""
        server = settings.chroma_url if client is None else None
        self._server, self._token = server, settings.chroma_token
        self._path = settings.chroma_dir if client is None and not server else None
        self._name_source = name_source
        self._name = self._configured = settings.collection
        self._mu = threading.Lock()
        self._files: AbstractContextManager[Any] = nullcontext()
        if self._path is not None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._files = StoreLock(settings.data_dir / "chroma.lock", settings.store_write_timeout)
            _EMBEDDED.add(self)
        with self._errors():
            if client is not None:
                self.client = client
            elif server:
                self.client = _http_client(server, settings.chroma_token)
            else:
                settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                self.client = _persistent_client(settings.chroma_dir)
            self._follow_name()  # under the lock: a re-index drops the old collection under it, after the rename
            self.collection = self._open_followed()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A call into Chroma: one process at a time in an embedded store's files, failures as one line."""
        with _store_errors(self._server, self._token, self._path), self._files:
            yield

    def _open_collection(self) -> Any:
        return self.client.get_or_create_collection(self._name, embedding_function=None, metadata=dict(_HNSW))

    def _open_followed(self) -> Any:
        """The collection `name_source` named, never created: a manifest a reset is replacing may name one just
        dropped, which created again would take the next ingest's vectors unnamed. Gone, the configured one serves."""
        from chromadb.errors import NotFoundError

        if self._name != self._configured:
            with suppress(NotFoundError, ValueError):  # ValueError: older Chroma releases
                return self.client.get_collection(self._name, embedding_function=None)
            self._name = self._configured
        return self._open_collection()

    def refresh(self) -> None:
        """See what other processes wrote since this store was opened. An embedded Chroma client caches its
        segments per process (it would miss, or fail on, vectors another process added), so it is opened anew; a
        server's collection is looked up again (another process may have re-created it). Calls already under way
        finish on the old client. An old embedded client is freed once no call uses it: its Chroma bindings sit in
        reference cycles that hold about five open files each, and a process refreshing for every batch another one
        writes (a server beside `rag ingest`) would run out of descriptors before the collector got to them."""
        with self._mu, self._errors():
            self._follow_name()
            if self._path is not None:
                self.client = _persistent_client(self._path)
            self.collection = self._open_followed()
            if self._path is not None:
                gc.collect()  # a dropped client writes its index files: under the lock too

    def _follow_name(self) -> None:
        """Take the live collection's name from `name_source`; kept when the source cannot tell."""
        if self._name_source is not None:
            self._name = self._name_source() or self._name

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._name

    def sibling(self, name: str) -> VectorStore:
        """A store on another collection of the same client, sharing this one's file lock (a re-index builds the
        new index there while this one serves)."""
        with self._errors():
            self._reopen_if_closed()
        twin = copy.copy(self)
        twin._name, twin._name_source, twin._mu = name, None, threading.Lock()
        with twin._errors():
            twin.collection = twin._open_collection()
        return twin

    @_guarded
    def use(self, name: str) -> None:
        """Serve the collection `name` from now on (one a sibling built); after a `refresh` under way."""
        with self._mu:
            self._name = name
            self.collection = self._open_collection()

    @_guarded
    def drop(self, name: str) -> None:
        """Delete the collection `name`, if there is one (never the one this store serves)."""
        if name != self._name:
            self._delete_collection(name)
            self.sweep()

    def _delete_collection(self, name: str) -> None:
        from chromadb.errors import NotFoundError

        with suppress(NotFoundError, ValueError):  # gone already (ValueError: older Chroma releases)
            self.client.delete_collection(name)

    def sweep(self) -> int:
        """Remove the vector-index folders of collections an embedded store no longer has, which Chroma leaves
        behind when a collection is deleted (chroma-core/chroma#5520: every re-index would leave the old index's
        files); how many. Nothing for a server's store, or when Chroma's own table of segments cannot be read."""
        if self._path is None:
            return 0
        with self._errors():
            return remove_orphan_segments(self._path)

    def _reopen_if_closed(self) -> None:
        """A store closed (`close`) and used again opens its files anew: a call another thread began after an
        `Assistant.close()` gets its answer, not an AttributeError."""
        if "collection" not in self.__dict__:
            with self._mu:
                if "collection" not in self.__dict__:
                    self._follow_name()
                    self.client = _persistent_client(self._path) if self._path is not None else self.client
                    self.collection = self._open_followed()

    def close(self, wait: float | None = None) -> bool:
        """Release an embedded store's files now (True), waiting `wait` seconds at most for the file lock (default
        `RAG_STORE_WRITE_TIMEOUT`); a server's or an injected client is left to its owner."""
        if self._path is None:
            return False
        if "client" not in self.__dict__:
            return True  # closed already
        files = self._files if wait is None or not isinstance(self._files, StoreLock) else self._files.held(wait)
        with self._mu, files:
            self.__dict__.pop("client", None), self.__dict__.pop("collection", None)
            gc.collect()  # a dropped client may write its index files: under the lock
        return True

    @classmethod
    def in_memory(cls, settings: Settings) -> VectorStore:
        """A store on an in-memory Chroma (nothing written to disk): for tests and throwaway indexes."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))
        return cls(settings, client=client)

    @property
    @_read
    def embedding_model(self) -> str | None:
        """The embedding model recorded on the collection, if any."""
        return (self.collection.metadata or {}).get("embed_model")

    @_guarded
    def record_model(self, name: str) -> None:
        """Record which embedding model built this collection."""
        meta = dict(self.collection.metadata or {})
        for key in _HNSW:  # fixed when the collection was made; Chroma refuses them in modify()
            meta.pop(key, None)
        meta["embed_model"] = name
        self.collection.modify(metadata=meta)

    @staticmethod
    def metadata(chunk: Chunk, paper: Paper, source_ids: Iterable[int]) -> dict[str, Any]:
        """What the filters need: paper id, year, and one `s<n>: True` key per source file of the paper."""
        meta: dict[str, Any] = {"paper_id": chunk.paper_id, "position": chunk.position}
        if paper.year is not None:
            meta["year"] = paper.year
        for sid in source_ids:
            meta[f"s{sid}"] = True
        return meta

    def _drop_stale_keys(self, ids: list[str], metadatas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Chroma merges metadata on upsert and update: source keys the chunk no longer has are set to None
        (which removes them)."""
        got = self.collection.get(ids=ids, include=["metadatas"])
        old = {cid: meta or {} for cid, meta in zip(got["ids"], got["metadatas"], strict=True)}
        out = []
        for cid, meta in zip(ids, metadatas, strict=True):
            stale = {k: None for k in old.get(cid, {}) if k not in meta and _SOURCE_KEY.match(k)}
            out.append({**meta, **stale})
        return out

    @_guarded
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> None:
        """Add or replace chunk vectors. No documents are stored: the manifest holds every text once."""
        for start in range(0, len(chunks), _MAX_BATCH):
            ids = [c.id for c in chunks[start : start + _MAX_BATCH]]
            self.collection.upsert(
                ids=ids,
                embeddings=vectors[start : start + _MAX_BATCH].tolist(),
                metadatas=self._drop_stale_keys(ids, list(metadatas[start : start + _MAX_BATCH])),
            )

    @_guarded
    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Replace the metadata of stored chunk vectors (e.g. a paper found in one more source file)."""
        for start in range(0, len(ids), _MAX_BATCH):
            part = list(ids[start : start + _MAX_BATCH])
            self.collection.update(
                ids=part, metadatas=self._drop_stale_keys(part, list(metadatas[start : start + _MAX_BATCH]))
            )

    @_read
    def ids(self) -> set[str]:
        """Every stored chunk id."""
        return set(self.collection.get(include=[])["ids"])

    @_guarded
    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunk vectors by id."""
        for start in range(0, len(ids), _MAX_BATCH):
            self.collection.delete(ids=list(ids[start : start + _MAX_BATCH]))

    @_read
    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The `n` nearest chunks as (chunk id, cosine similarity), best first."""
        count = self.collection.count()
        if count == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, count),
            where=where,
            include=["distances"],
        )
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    @_read
    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of some chunks."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"], strict=True)}

    @_read
    def count(self) -> int:
        """How many chunk vectors are stored."""
        return self.collection.count()

    @_guarded
    def reset(self) -> None:
        """Drop the collection and start an empty one, under the configured name; after a `refresh` under way."""
        with self._mu:
            self._delete_collection(self._name)
            self._name = self._configured
            self.collection = self._open_collection()
        self.sweep()


_EMBEDDED: weakref.WeakSet[VectorStore] = weakref.WeakSet()


@atexit.register
def _close_embedded() -> None:
    """At exit, embedded stores let go of their index files under the lock, not during the interpreter's teardown."""
    for store in list(_EMBEDDED):
        with suppress(Exception):  # another process holding the lock for long: exit anyway
            store.close(wait=2.0)


def _http_client(url: str, token: SecretStr | None) -> Any:
    """A client of the Chroma server at `url`; a token goes out as `Authorization: Bearer` (Chroma's token auth)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    auth: dict[str, Any] = {}
    if token is not None:
        if not _TOKEN_CHARS.fullmatch(token.get_secret_value()):
            raise ConfigError("RAG_CHROMA_TOKEN may hold only ASCII letters, digits and punctuation")
        auth = {
            "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
            "chroma_client_auth_credentials": token.get_secret_value(),
        }
    parts = urlparse(url)
    return chromadb.HttpClient(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (443 if parts.scheme == "https" else 8000),
        ssl=parts.scheme == "https",
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True, **auth),
    )


def _persistent_client(path: Path) -> Any:
    """A new embedded Chroma client on `path`. Chroma caches one client system per path and process; that cache is
    bypassed so the new client reads the store as it is on disk now (the old one stays usable until dropped)."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    SharedSystemClient._identifier_to_system.pop(str(path), None)
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    )
    SharedSystemClient._identifier_to_system.pop(str(path), None)  # the client alone holds its system: freed with it
    return client


@contextmanager
def _store_errors(url: str | None, token: SecretStr | None, path: Path | None = None) -> Iterator[None]:
    """Failures of the store become one line, never a traceback: a Chroma server's names the server (and asks it
    what went wrong); an embedded store's names its folder."""
    from chromadb.errors import ChromaError

    try:
        yield
    except RagError:
        raise
    except Exception as exc:
        if url:
            log.debug("Chroma server error", exc_info=True)
            raise _diagnose(url, token, exc) from None
        if path is None or not isinstance(exc, ChromaError | sqlite3.Error | OSError):
            raise
        log.debug("Chroma error", exc_info=True)
        detail = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
        raise BackendUnavailableError(f"the vector store in {path} failed: {detail}") from exc


def _diagnose(url: str, token: SecretStr | None, exc: Exception) -> RagError:
    """Ask the server directly what went wrong: unreachable, a refused token, or something else."""
    import httpx

    parts = urlparse(url)
    shown = f"{parts.scheme or 'http'}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
    try:
        status = httpx.get(f"{shown}/api/v2/auth/identity", headers=headers, timeout=5).status_code
    except httpx.HTTPError as probe:
        return BackendUnavailableError(
            f"cannot reach the Chroma server at {shown} ({probe.__class__.__name__}): is it running? (RAG_CHROMA_URL)"
        )
    if status in (401, 403):
        hint = "RAG_CHROMA_TOKEN was not accepted" if token else "it needs a token: set RAG_CHROMA_TOKEN"
        return ConfigError(f"the Chroma server at {shown} refused the request (HTTP {status}): {hint}")
    detail = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
    return BackendUnavailableError(f"the Chroma server at {shown} failed: {detail}")
