"""One calibrated verdict: the sufficiency signals of an answer go into one logistic model that says whether the
cited abstracts answer the question; no chain of thresholds.

The model (feature means and scales, coefficients, intercept and the cut) is fitted on the dev splits of the QA sets
by `eval/calibrate_verdict.py` and read from `rag/data/verdict.json`; `eval/results/calibration_verdict.md` lists
its coefficients and how it fares on the test splits.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_PATH = Path(__file__).parent / "data" / "verdict.json"

FEATURES = (
    "names_missing",  # share of the question's names the cited abstracts do not hold
    "name_unknown",  # 1 when one of them is in no indexed abstract
    "number_unstated",  # 1 when a number the question holds is not in the cited abstracts
    "quantity_missing",  # 1 when a number question's answer states no quantity of what is measured
    "coverage",  # IDF-weighted share of the question's words the cited abstracts hold
    "relevance",  # best cosine of a retrieved passage to the question
    "margin",  # log of the top retrieval score over the runner-up's
    "support",  # mean support of the answer's cited sentences
    "asks_number",
    "asks_name",
    "asks_list",
    "asks_yesno",
)


@dataclass(frozen=True)
class Signals:
    """What the sufficiency checks found for one answer, before any decision."""

    asks: str
    names_missing: tuple[str, ...] = ()
    names_asked: int = 0
    names_unknown: tuple[str, ...] = ()
    numbers_unstated: tuple[str, ...] = ()
    quantity_missing: bool = False
    kind_unnamed: str = ""
    """For a which-question asking for a named thing ("Which datasets ..."): that kind, when no answer sentence
    names one; "" otherwise."""
    parts_missing: tuple[str, ...] = ()
    """For a multi-part question: what the cited abstracts lack for each part they do not answer ("report the
    latency"), as verb phrases."""
    coverage: float = 1.0
    absent: tuple[str, ...] = ()
    relevance: float = 0.0
    margin: float = 1.0
    support: float = 0.0

    def features(self) -> dict[str, float]:
        """The model's inputs."""
        return {
            "names_missing": len(self.names_missing) / self.names_asked if self.names_asked else 0.0,
            "name_unknown": float(bool(self.names_unknown)),
            "number_unstated": float(bool(self.numbers_unstated)),
            # the asked value is missing: a quantity, or a name of the asked kind (fitted on quantities only)
            "quantity_missing": float(self.quantity_missing or bool(self.kind_unnamed)),
            "coverage": self.coverage,
            "relevance": self.relevance,
            "margin": math.log(max(self.margin, 1e-6)),
            "support": self.support,
            "asks_number": float(self.asks == "number"),
            "asks_name": float(self.asks == "name"),
            "asks_list": float(self.asks == "list"),
            "asks_yesno": float(self.asks == "yesno"),
        }


@dataclass(frozen=True)
class VerdictModel:
    """A logistic model over standardised `FEATURES`: answered when its probability is at least `cut`."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    cut: float

    def probability(self, signals: Signals) -> float:
        """The probability that the cited abstracts answer the question."""
        x = signals.features()
        z = self.intercept + sum(
            c * (x[name] - m) / (s or 1.0)
            for name, m, s, c in zip(FEATURES, self.mean, self.scale, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def answers(self, signals: Signals) -> bool:
        """Whether the answer stands as answered."""
        return self.probability(signals) >= self.cut

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            **{k: getattr(self, k) for k in ("mean", "scale", "coef", "intercept", "cut")},
        }

    @classmethod
    def from_json(cls, data: dict) -> VerdictModel:
        """The model `to_json` wrote; fitted on other features, it is refused."""
        if list(data["features"]) != list(FEATURES):
            raise ValueError("the verdict model was fitted on other features: rerun eval/calibrate_verdict.py")
        return cls(
            tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), float(data["intercept"]), float(data["cut"])
        )


@cache
def shipped_model(path: Path = MODEL_PATH) -> VerdictModel | None:
    """The fitted model that ships with the package (None before one has been fitted)."""
    if not path.exists():
        return None
    return VerdictModel.from_json(json.loads(path.read_text(encoding="utf-8")))
