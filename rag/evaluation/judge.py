"""An optional LLM judge (any OpenAI-compatible model, `RAG_JUDGE_*`): RAGAS-style faithfulness and
answer correctness. Without a judge these metrics are reported as not measured, never faked."""

from __future__ import annotations

import re

from rag.config import Settings
from rag.generation.prompts import load_prompt
from rag.types import Answer

_SCORE = re.compile(r"([01](?:\.\d+)?|\.\d+)")


class Judge:
    """Scores answers with a judge model through the openai client."""

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        key = settings.judge_api_key or settings.openai_api_key
        self.client = OpenAI(
            api_key=key.get_secret_value() if key else "not-needed",
            base_url=settings.judge_base_url or settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=settings.llm_max_retries,
        )
        self.model = settings.judge_model or settings.openai_model

    @staticmethod
    def configured(settings: Settings) -> bool:
        """Whether a judge model is set."""
        return bool(settings.judge_model)

    def _score(self, prompt: str) -> float | None:
        reply = (
            self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}], max_tokens=60, temperature=0.0
            )
            .choices[0]
            .message.content
            or ""
        )
        m = _SCORE.search(reply.strip().splitlines()[0] if reply.strip() else "")
        return min(max(float(m.group(1)), 0.0), 1.0) if m else None

    def faithfulness(self, answer: Answer) -> float | None:
        """Share of the answer's claims its sources support, per the judge."""
        sources = "\n\n".join(f"[{i}] {h.paper.title}\n{h.passage}" for i, h in enumerate(answer.sources, 1))
        return self._score(load_prompt("judge_faithfulness").format(answer=answer.text, sources=sources))

    def correctness(self, question: str, answer: Answer, reference: str) -> float | None:
        """Agreement of the answer with the reference answer, per the judge."""
        return self._score(
            load_prompt("judge_correctness").format(question=question, answer=answer.text, reference=reference)
        )
