"""An optional LLM judge (any OpenAI-compatible model, `RAG_JUDGE_*`): faithfulness and answer correctness.

Faithfulness is the share of an answer's claims that the sources they cite support: one judge
call per cited sentence (a sentence the citation checker left uncited counts as unsupported,
without a call). Correctness is the judge's agreement of the answer with the reference answer.
Every raw reply is kept; a reply that does not parse is recorded as unparsed and left out of the
means, never guessed. Without a judge these metrics are reported as not measured, never faked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.config import Settings
from rag.errors import BackendUnavailableError
from rag.generation.prompts import load_prompt
from rag.types import Answer

_WORDS = {"yes": 1.0, "supported": 1.0, "correct": 1.0, "partly": 0.5, "partially": 0.5, "partial": 0.5}
_WORDS |= {"no": 0.0, "unsupported": 0.0, "incorrect": 0.0}
_LEADING_WORD = re.compile(r"[a-z]+")
# a leading score, optionally labelled ("score: 0.8"), as a share, a percentage or a fraction; "1. The ..." is a list
_NUMBER = re.compile(r"(?:[a-z ]{0,20}[:=]\s*)?(\d+(?:\.\d+)?|\.\d+)\s*(%|/\s*(\d+(?:\.\d+)?))?(?!\d|\.\d|\.\s*\S)")


def parse_verdict(reply: str) -> float | None:
    """The score a judge's reply gives, from its first non-empty line: yes / partly / no -> 1 / 0.5 / 0, or a
    number in [0, 1] (also "80%" or "4/5"). None when the line says neither (the reply did not parse)."""
    line = next((ln for ln in reply.splitlines() if ln.strip(" *#>`\"'")), "")
    line = line.strip(" *#>`\"'").lower()
    word = _LEADING_WORD.match(line)
    if word and word.group(0) in _WORDS:
        return _WORDS[word.group(0)]
    number = _NUMBER.match(line)
    if not number:
        return None
    value = float(number.group(1))
    if number.group(2) == "%":
        value /= 100
    elif number.group(3):
        value = value / float(number.group(3)) if float(number.group(3)) else -1.0
    return value if 0.0 <= value <= 1.0 else None


@dataclass
class Verdict:
    """One judge call: what it judged, the raw reply and the parsed score (None = unparsed)."""

    kind: str
    score: float | None
    raw: str | None
    claim: str = ""
    citations: list[int] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        """Whether the score counts (an uncited claim, scored 0 without a call, counts too)."""
        return self.score is not None


@dataclass
class Judgement:
    """The judge's scores of one answer, with every verdict behind them."""

    faithfulness: float | None = None
    correctness: float | None = None
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def unparsed(self) -> int:
        """Judge replies that did not parse."""
        return sum(not v.parsed for v in self.verdicts)

    def records(self) -> list[dict[str, Any]]:
        """The verdicts as JSON-ready dicts (for predictions.jsonl)."""
        return [{**asdict(v), "parsed": v.parsed} for v in self.verdicts]


_BEES = (
    "[1] Foraging routes of bumblebees\nBumblebees learn short foraging routes between flowers over repeated visits."
)
_EXAMPLES: dict[str, list[tuple[dict[str, str], str]]] = {
    # one supported and one unsupported case per prompt, shown as earlier turns: small models then answer in
    # the asked format (a one-word verdict) instead of restating the claim
    "judge_faithfulness": [
        ({"claim": "Bumblebees learn short routes between flowers.", "sources": _BEES}, "yes"),
        ({"claim": "Bumblebees prefer red flowers.", "sources": _BEES}, "no"),
    ],
    "judge_correctness": [
        (
            {
                "question": "What do bumblebees learn over repeated visits?",
                "reference": "Short foraging routes between flowers.",
                "answer": "They learn short routes between the flowers they visit [1].",
            },
            "yes",
        ),
        (
            {
                "question": "What do bumblebees learn over repeated visits?",
                "reference": "Short foraging routes between flowers.",
                "answer": "They learn to recognise red flowers [1].",
            },
            "no",
        ),
    ],
}


def judge_messages(name: str, values: dict[str, str]) -> list[dict[str, str]]:
    """The chat messages of one judge call: the worked examples of prompt `name`, then the real case."""
    prompt = load_prompt(name)
    messages: list[dict[str, str]] = []
    for example, verdict in _EXAMPLES.get(name, []):
        messages += [{"role": "user", "content": prompt.format(**example)}, {"role": "assistant", "content": verdict}]
    return [*messages, {"role": "user", "content": prompt.format(**values)}]


class Judge:
    """Scores answers with a judge model through the openai client, or an injected `complete(messages) -> reply`."""

    def __init__(self, settings: Settings, complete: Callable[[list[dict[str, str]]], str] | None = None) -> None:
        self.model = settings.judge_model or settings.openai_model
        self.settings = settings
        self._complete = complete or self._openai_complete
        self._client: Any = None

    @staticmethod
    def configured(settings: Settings) -> bool:
        """Whether a judge model is set."""
        return bool(settings.judge_model)

    def _openai_complete(self, messages: list[dict[str, str]]) -> str:
        import openai

        s = self.settings
        if self._client is None:
            key = s.judge_api_key or s.openai_api_key
            self._client = openai.OpenAI(
                api_key=key.get_secret_value() if key else "not-needed",
                base_url=s.judge_base_url or s.openai_base_url,
                timeout=s.request_timeout,
                max_retries=s.llm_max_retries,
            )
        try:
            reply = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=60, temperature=0.0
            )
        except openai.OpenAIError as exc:
            where = s.judge_base_url or s.openai_base_url or "the OpenAI API"
            raise BackendUnavailableError(f"the judge at {where} failed: {exc.__class__.__name__}") from None
        return reply.choices[0].message.content or ""

    def verdict(
        self, kind: str, messages: list[dict[str, str]], claim: str = "", citations: list[int] | None = None
    ) -> Verdict:
        """Ask the judge once and parse its reply."""
        raw = self._complete(messages)
        return Verdict(kind, parse_verdict(raw), raw, claim, list(citations or []))

    def faithfulness(self, answer: Answer) -> tuple[float | None, list[Verdict]]:
        """Share of the answer's claims that their cited sources support (None for an abstention or when no
        verdict parsed), and the verdicts."""
        if answer.abstained:
            return None, []
        cited = {c.number: c.paper for c in answer.citations}
        passages = {h.paper.id: h.passage or h.paper.abstract for h in answer.sources}
        verdicts: list[Verdict] = []
        for sentence in answer.sentences:
            if not sentence.citations:
                if sentence.claim and not sentence.supported:  # marked [unsupported]: no cited source supports it
                    verdicts.append(Verdict("faithfulness", 0.0, None, sentence.text))
                continue  # no claim (the no-answer sentence, a short connective)
            sources = "\n\n".join(
                f"[{n}] {cited[n].title}\n{passages.get(cited[n].id, cited[n].abstract)}"
                for n in sentence.citations
                if n in cited
            )
            messages = judge_messages("judge_faithfulness", {"claim": sentence.text, "sources": sources})
            verdicts.append(self.verdict("faithfulness", messages, sentence.text, sentence.citations))
        scores = [v.score for v in verdicts if v.score is not None]
        return (sum(scores) / len(scores) if scores else None), verdicts

    def correctness(self, question: str, answer: Answer, reference: str) -> Verdict:
        """Agreement of the answer with the reference answer, per the judge."""
        values = {"question": question, "answer": answer.text, "reference": reference}
        return self.verdict("correctness", judge_messages("judge_correctness", values))

    def judge(self, question: str, answer: Answer, reference: str | None) -> Judgement:
        """Faithfulness of any non-abstaining answer; correctness when there is a reference answer."""
        faithfulness, verdicts = self.faithfulness(answer)
        correctness = None
        if reference:
            v = self.correctness(question, answer, reference)
            verdicts.append(v)
            correctness = v.score
        return Judgement(faithfulness, correctness, verdicts)
