"""From retrieved papers to a checked answer: pick the backend, pack sources, generate, cite. Deltas are streamed
as the backend writes them; the final `Answer` carries the checked, renumbered text."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from functools import cached_property

from rag.citations import CheckedAnswer, CitationChecker, is_no_answer
from rag.config import Settings
from rag.errors import BackendUnavailableError, ConfigError
from rag.followup import needs_context, standalone
from rag.generation.backends import OFFLINE_DEFAULT, make_backend, resolve_backend
from rag.generation.chat import ChatBackend
from rag.generation.context import Source, pack_sources, render_sources
from rag.generation.extractive import ExtractiveAnswerer
from rag.generation.prompts import GREETED, NAMES_NOTHING, NO_ANSWER, load_prompt, parts_prompt
from rag.index.embedders import Embedder
from rag.index.terms import CorpusTerms
from rag.metadata import WORDS, Field, record_field, stated, without_field_words
from rag.names import with_written_names
from rag.query import as_question, is_list_question
from rag.question import Question
from rag.sufficiency import Status, SufficiencyChecker, Verdict
from rag.support import SentenceEmbeddings, sentences_of
from rag.tokens import count_tokens
from rag.topicless import greeting, names_nothing
from rag.types import Answer, Citation, Hit, SentenceCheck
from rag.verdict import shipped_model

log = logging.getLogger(__name__)
RELEVANCE_HITS = 3  # the top hits whose sentences count towards relevance

__all__ = ["OFFLINE_DEFAULT", "Answerer", "offered_models", "resolve_backend"]


def offered_models(settings: Settings) -> list[str]:
    """The chat models a caller may pick: `openai_model` (the default), then `allowed_models`."""
    return list(dict.fromkeys([settings.openai_model, *settings.allowed_models]))


class Answerer:
    """Turns a question and its retrieved papers into a checked `Answer`."""

    def __init__(
        self, settings: Settings, embedder: Embedder, backend: str | None = None, *, chat: ChatBackend | None = None
    ) -> None:
        self.settings = settings
        self.kind = chat.name if chat is not None else backend or resolve_backend(settings)
        if chat is not None:
            self.__dict__["llm"] = chat  # an injected chat backend (a scripted fake, any wrapped LLM)
        elif self.kind not in ("openai", "local", "extractive"):
            raise ConfigError(f"unknown backend {self.kind!r} (use openai, local or extractive)")
        self.embeddings = SentenceEmbeddings(embedder)
        self.checker = CitationChecker(self.embeddings)
        self.extractive = ExtractiveAnswerer(
            self.embeddings, fact_weight=settings.fact_weight, anchor_margin=settings.anchor_margin
        )
        self.sufficiency = SufficiencyChecker(
            CorpusTerms(settings.bm25_dir),
            partial_coverage=settings.partial_coverage,
            abstain_coverage=settings.abstain_coverage,
            embeddings=self.embeddings,
            word_match=settings.word_match,
            measure_window=settings.measure_window,
            model=shipped_model() if settings.verdict == "model" else None,
        )

    @cached_property
    def llm(self) -> ChatBackend:
        """The chat backend (loaded on first use)."""
        return make_backend(self.kind, self.settings)

    def condense(self, question: str, history: list[dict[str, str]], *, deadline: float | None = None) -> str:
        """A follow-up rewritten as a standalone question (LLM when there is one, else a heuristic); the LLM
        call shares the answer's `deadline` (a `time.monotonic()` value)."""
        if not history or not needs_context(question):
            return question  # a self-contained question is never rewritten
        if self.kind == "extractive":
            return standalone(question, history)
        turns = "\n".join(f"{t['role']}: {t['content']}" for t in history[-6:])
        prompt = load_prompt("condense").format(history=turns, question=question)
        try:
            text = self.llm.complete([{"role": "user", "content": prompt}], max_tokens=80, deadline=deadline).strip()
        except BackendUnavailableError:
            return standalone(question, history)
        return text.splitlines()[0].strip() if text else standalone(question, history)

    def relevance(self, question: str, hits: list[Hit]) -> float:
        """The best cosine similarity between the question and a retrieved passage or one of its sentences: a fact
        stated in one sentence of a long abstract is close to the question although the whole abstract is not. The
        sentences are the ones the answerer embeds anyway (the embeddings are cached)."""
        scores = [h.scores["dense"] for h in hits if "dense" in h.scores]
        texts = [h.passage for h in hits if "dense" not in h.scores]  # BM25-only retrieval: embed the passages here
        texts += [s for h in hits[:RELEVANCE_HITS] for s in sentences_of(h.passage)]
        vectors = self.embeddings.embed([question, *texts]) if texts else None
        scores += [] if vectors is None else list(vectors[1:] @ vectors[0])
        return float(max(scores, default=-1.0))

    def on_topic(self, question: str | Question, hits: list[Hit]) -> list[Hit]:
        """The hits whose paper alone is about what `question` asks (its names, and enough of its words: the
        sufficiency coverage a one-paper answer needs)."""
        asked = as_question(question)
        return [h for h in hits if self.sufficiency.about(asked, h.paper)]

    def naming(self, asked: Question, sources: list[Source]) -> list[Source]:
        """The sources the extractive answerer quotes from: the top retrieved paper alone when it holds more of what
        the question names than any other source (rag.sufficiency's `sole_namer`), else all of them."""
        top = max(range(len(sources)), key=lambda i: sources[i].hit.score, default=0)
        alone = asked.names and self.sufficiency.sole_namer(asked, [s.hit.paper for s in sources]) == top
        return [sources[top]] if alone else sources

    def _record_answer(self, asked: Question, field: Field, hits: list[Hit]) -> Answer | None:
        """A question about a paper's record (authors, year, venue, code link), answered from the record of the
        first retrieved paper the rest of the question is about; None when no retrieved paper is."""
        topic = replace(asked, text=without_field_words(asked.text), asks="description")
        hit = next((h for h in hits if self.sufficiency.about(topic, h.paper)), None)
        if hit is None:
            return None
        paper, said = hit.paper, stated(field, hit.paper)
        status: Status
        if said is None:
            text = f"The record of [1] ({paper.title}) does not give the {WORDS[field]}."
            status, missing = "partial", f"give the {WORDS[field]}"
        else:
            text = f"{paper.title}: {said.rstrip('. ')} [1]."
            status, missing = "answered", None
        return Answer(
            question=asked.text,
            text=text,
            citations=[Citation(number=1, paper=paper, quote=said or "")],
            sources=[hit],
            status=status,
            missing=missing,
            backend="record",
            model="",
            sentences=[SentenceCheck(text=text.replace(" [1]", ""), citations=[1], support=1.0 if said else 0.0)],
        )

    def should_abstain(self, question: str, hits: list[Hit]) -> bool:
        """Whether retrieval found nothing relevant enough to answer from."""
        return self.relevance(question, hits) < self.settings.abstain_threshold

    def _budget(self, llm: ChatBackend | None, question: str) -> int:
        """Tokens left for sources once the prompts, the question, the answer and the chat template fit; a model's
        own tokenizer counts up to 15% more than tiktoken (SmolLM2 on the bundled abstracts: mean 1.03, max 1.14)."""
        window = llm.context_window if llm else 10**6
        prompts = count_tokens(load_prompt("system").template + load_prompt("answer").template + question)
        left = (window - self.settings.max_answer_tokens - 200) / 1.15 - prompts
        return max(min(int(left), 6000), 300)

    def _draft(
        self, llm: ChatBackend, sources: list[Source], prompted: str, deadline: float | None
    ) -> Generator[str, None, tuple[str, dict[str, int], str | None]]:
        """The model's answer, delta by delta; returns its text, its token usage and, when the model failed or ran
        out of time (`deadline`, default `answer_deadline` from now), the notice to show (the text so far stays)."""
        messages = [
            {"role": "system", "content": load_prompt("system").format(no_answer=NO_ANSWER)},
            {
                "role": "user",
                "content": load_prompt("answer").format(sources=render_sources(sources), question=prompted),
            },
        ]
        raw = ""
        try:  # the reply gives way at the deadline, however the server behaves
            if deadline is None:
                deadline = time.monotonic() + self.settings.answer_deadline
            reply = llm.reply(messages, max_tokens=self.settings.max_answer_tokens, deadline=deadline)
            with closing(iter(reply)) as deltas:  # closed with this generator: the LLM stream stops too
                for delta in deltas:
                    raw += delta
                    yield delta
            usage = reply.usage or {  # the server's count for this request, else a labelled estimate
                "prompt_tokens": sum(count_tokens(m["content"]) for m in messages),
                "completion_tokens": count_tokens(raw),
                "estimated": 1,
            }
        except BackendUnavailableError as exc:
            return raw, {}, f"{exc}; showing an extractive answer from the retrieved papers instead."
        return raw, usage, None

    def stream(
        self,
        question: str | Question,
        hits: list[Hit],
        *,
        retrieve_s: float = 0.0,
        deadline: float | None = None,
        scope: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas, then the final `Answer`; an LLM that cannot be loaded or reached, or that has not
        finished by `deadline` (default: `answer_deadline` from now), gives way to the extractive answerer with
        a one-line notice. `scope` names the filter the hits passed ("from 2019-2023") for an abstention. A
        `Question` is analysed once by the caller and travels with the request; a string is analysed here, once."""
        asked = as_question(question)
        if names_nothing(asked):  # "Which paper?": no paper answers it better than another, so none is chosen
            text = GREETED if greeting(asked.text) else NAMES_NOTHING  # "hi", "thanks!": nothing was asked
            yield self._abstain(asked, [], retrieve_s).model_copy(update={"text": text})
            return
        question = asked.text
        relevance = self.relevance(question, hits) if hits else -1.0  # once: the judge reads it too
        if not hits or relevance < self.settings.abstain_threshold:
            yield self._abstain(asked, hits, retrieve_s)
            return
        if is_list_question(question):  # each listed paper must be about what was asked, as a one-paper answer
            relevant = self.on_topic(asked, hits)
            if not relevant:
                topic = self.sufficiency.topic(asked)
                missing = f"be about {topic}" if topic else None
                yield self._abstain(asked, hits, retrieve_s, missing=missing, corpus_wide=True, scope=scope)
                return
            relevance = self.relevance(question, relevant) if relevant != hits else relevance
            hits = relevant
        elif (field := record_field(question, asked.asked, asked.asks)) is not None and (
            record := self._record_answer(asked, field, hits)
        ):
            yield record.model_copy(update={"timings": {"retrieve_s": retrieve_s}})
            return
        asked = with_written_names(asked, [f"{h.paper.title}. {h.passage}" for h in hits])  # "halonet": HaloNet
        started = time.perf_counter()
        notice, llm, raw = None, None, ""
        usage: dict[str, int] = {}
        if self.kind != "extractive":
            try:
                llm = self.llm
            except BackendUnavailableError as exc:
                notice = f"{exc}; showing an extractive answer from the retrieved papers instead."
        prompted = question + parts_prompt(asked)  # a multi-part question lists its parts for the model
        sources = pack_sources(hits, self._budget(llm, prompted), 300 if self.kind == "local" else 450)
        if llm is not None:
            raw, usage, failed = yield from self._draft(llm, sources, prompted, deadline)
            if failed:
                notice, llm = failed, None
        checked, check_s = None, 0.0
        if llm is not None and not is_no_answer(raw):
            check_started = time.perf_counter()
            checked = self.checker.check(raw, sources, asked)
            check_s = time.perf_counter() - check_started
            if not checked.citations:  # a model that grounds nothing gives way, as one that fails does
                notice = (
                    f"the model ({llm.model}) cited none of the retrieved papers; "
                    "showing an extractive answer from them instead."
                )
                llm, checked = None, None
        if llm is None:
            if notice:  # info, not warning: the notice reaches the user on the Answer (once, not twice in the CLI)
                log.info("%s", notice)
            drafted = bool(raw)
            raw = self.extractive.answer(asked, self.naming(asked, sources), self.sufficiency.acronyms())
            if not drafted:  # after a model's draft, the final answer replaces it
                yield raw
        backend, model = (self.kind, llm.model) if llm else ("extractive", self.extractive.model)
        generate_s = time.perf_counter() - started - check_s
        yield self._finish(
            asked,
            raw,
            sources,
            hits,
            backend,
            model,
            usage,
            notice,
            {"retrieve_s": retrieve_s, "generate_s": generate_s} | ({"check_s": check_s} if checked else {}),
            relevance,
            checked,
        )

    def _finish(
        self,
        asked: Question,
        raw: str,
        sources: list[Source],
        hits: list[Hit],
        backend: str,
        model: str,
        usage: dict[str, int],
        notice: str | None,
        timings: dict[str, float],
        relevance: float | None = None,
        checked: CheckedAnswer | None = None,
    ) -> Answer:
        started = time.perf_counter()
        if checked is None:
            checked = self.checker.check(raw, sources, asked)
            timings["check_s"] = time.perf_counter() - started
        abstained = is_no_answer(raw) and not checked.citations
        verdict = self.judge(asked, raw, checked, hits, relevance=relevance)
        signals = verdict.signals.features() if verdict.signals else None
        if abstained or verdict.status == "abstained":
            return self._abstain(
                asked,
                hits,
                timings["retrieve_s"],
                backend=backend,
                model=model,
                sources=[s.hit for s in sources],
                missing=verdict.missing if not abstained else None,
                corpus_wide=any(r.startswith("unknown-name:") for r in verdict.reasons),
            ).model_copy(update={"usage": usage, "notice": notice, "signals": signals})  # the LLM call still cost
        return Answer(
            question=asked.text,
            text=self._partial_text(verdict, checked, raw) if verdict.status == "partial" else checked.text,
            citations=checked.citations,
            sources=[s.hit for s in sources],
            abstained=False,
            status=verdict.status,
            missing=verdict.missing or None,
            backend=backend,
            model=model,
            timings=timings,
            usage=usage,
            sentences=checked.sentences,
            notice=notice,
            signals=signals,
        )

    def judge(
        self,
        question: str | Question,
        raw: str,
        checked: CheckedAnswer,
        hits: Sequence[Hit] = (),
        *,
        relevance: float | None = None,
    ) -> Verdict:
        """Whether the checked answer states the asked fact (rag.sufficiency, given what retrieval found in `hits`,
        whose `relevance` the caller may already know); a model that itself says the sources do not state it, while
        citing them, gives a partial answer."""
        asked = as_question(question)
        cited = [s for s in checked.sentences if s.citations]
        claims = [claim for s, claim in zip(checked.sentences, checked.claims, strict=True) if s.citations]
        scores = sorted((h.score for h in hits), reverse=True)
        if relevance is None:
            relevance = self.relevance(asked.text, list(hits)) if hits else 0.0
        papers = {c.number: c.paper for c in checked.citations}
        verdict = self.sufficiency.check(
            asked,
            claims,
            list(papers.values()),
            by_claim=[[papers[n] for n in s.citations if n in papers] for s in cited],
            relevance=relevance,
            margin=scores[0] / max(scores[1], 1e-9) if len(scores) > 1 else 10.0,
            support=sum(s.support for s in cited) / len(cited) if cited else 0.0,
        )
        if verdict.status == "answered" and checked.citations and is_no_answer(raw):
            return Verdict("partial", "state what the question asks", ("model-says-not-stated",), verdict.signals)
        return verdict

    @staticmethod
    def _partial_text(verdict: Verdict, checked: CheckedAnswer, raw: str = "") -> str:
        """'The abstract of [1] does not give the number of GPUs; it reports: ... [1].'"""
        if verdict.reasons == ("model-says-not-stated",):
            return checked.text  # the model already says what is not stated
        if is_no_answer(raw) and verdict.reasons and all(r.startswith("missing-part:") for r in verdict.reasons):
            named = [r.rsplit(" ", 1)[-1].lower() for r in verdict.reasons]  # "missing-part:report the latency"
            if all(word in raw.lower() for word in named):
                return checked.text  # the model already names the part the sources do not state
        refs = [f"[{c.number}]" for c in checked.citations]
        many = len(refs) > 1
        listed = refs[0] if not many else ", ".join(refs[:-1]) + " and " + refs[-1]
        lead = f"The abstract{'s' if many else ''} of {listed} {'do' if many else 'does'} not {verdict.missing}"
        return f"{lead}; {'they report' if many else 'it reports'}: {checked.text}"

    def _abstain(
        self,
        asked: Question,
        hits: list[Hit],
        retrieve_s: float,
        *,
        backend: str | None = None,
        model: str | None = None,
        sources: list[Hit] | None = None,
        missing: str | None = None,
        corpus_wide: bool = False,
        scope: str | None = None,
    ) -> Answer:
        """The abstention; `missing` says what the cited abstracts lack, or with `corpus_wide` what no indexed
        abstract (`scope`: of those the filter let through) does."""
        closest = "; ".join(f'"{h.paper.title}"' for h in hits[:3])
        unknown = self.sufficiency.unknown_names(asked) if missing is None else []
        if unknown:
            missing, corpus_wide = f"mention {' or '.join(unknown)}", True
        subject = "The closest abstracts do not"
        if corpus_wide:
            subject = f"No paper {scope} in the index seems to" if scope else "No indexed abstract seems to"
        text = NO_ANSWER + (f" {subject} {missing}." if missing else "")
        text += f" The closest papers are: {closest}." if closest else ""
        return Answer(
            question=asked.text,
            text=text,
            sources=sources if sources is not None else hits[:3],
            abstained=True,
            status="abstained",
            missing=missing,
            backend=backend or self.kind,
            model=model or "",
            timings={"retrieve_s": retrieve_s},
        )
