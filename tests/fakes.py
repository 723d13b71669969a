"""Small fakes for fast logic tests: a scripted chat backend and an Assistant on the hash embedder with an
in-memory Chroma. Nothing here is used by end-to-end tests, which run the real components."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from rag import Assistant, Settings
from rag.acronyms import AcronymMap
from rag.errors import BackendUnavailableError
from rag.generation.chat import ChatBackend, Message
from rag.index.embedders import HashEmbedder
from rag.index.store import VectorStore
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper


class ScriptedChat(ChatBackend):
    """A chat backend that answers from a script: a fixed reply, or a function of the messages.

    Replies stream in word-sized deltas; every request is recorded in `requests`. `fail=True` raises
    `BackendUnavailableError` like an unreachable server.
    """

    name = "openai"
    model = "scripted"

    def __init__(self, reply: str | Callable[[list[Message]], str] = "", *, fail: bool = False) -> None:
        super().__init__()
        self.script = reply
        self.fail = fail
        self.context_window = 4096
        self.requests: list[list[Message]] = []

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Iterator[str]:
        self.requests.append(messages)
        if self.fail:
            raise BackendUnavailableError("the LLM server cannot be reached")
        text = self.script(messages) if callable(self.script) else self.script
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "


def write_jsonl(path: Path, papers: list[dict]) -> Path:
    """A JSONL corpus file of paper dicts (id, title, abstract, year)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
    return path


def fake_assistant(data_dir: Path, chat: ChatBackend | None = None, **settings: object) -> Assistant:
    """An Assistant on the hash embedder and an in-memory Chroma (BM25 and the manifest in `data_dir`)."""
    # a collection of its own: in-memory Chroma clients of one process share their collections
    collection = "t" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]
    s = Settings(data_dir=data_dir, embed="hash", collection=collection, **settings)
    return Assistant(s, embedder=HashEmbedder(), store=VectorStore.in_memory(s), chat=chat)


class TermCounts:
    """Document counts from a fixed word list, with an acronym map (stands in for the BM25 index's term
    statistics in sufficiency tests): a text counts the documents of the listed words it holds as whole words."""

    def __init__(self, known: dict[str, int], acronyms: AcronymMap | None = None, size: int = 400) -> None:
        self.known, self.acronyms, self.size = known, acronyms or AcronymMap(), size

    def count(self, text: str) -> int:
        return max((n for w, n in self.known.items() if w in text.lower().split()), default=0)


def sentence_status(question: str, sentence: str) -> str:
    """The sufficiency status of an answer that is one paper's one-sentence abstract, every word of the question and
    the sentence known to the index (`TermCounts`)."""
    paper = Paper(id="p", title="A study", abstract=sentence)
    words = {w.strip(".,?").lower(): 5 for w in f"{question} {sentence}".split()}
    return SufficiencyChecker(TermCounts(words)).check(analyze(question), [sentence], [paper]).status
