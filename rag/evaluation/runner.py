"""`rag eval`: the shipped QA set (and/or a BEIR set) under one or more configurations, end to end."""

from __future__ import annotations

import hashlib
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rag.answering import resolve_backend
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import ConfigError
from rag.evaluation.answers import evaluate_answers
from rag.evaluation.datasets import GoldResolver, load_beir, load_qa
from rag.evaluation.judge import Judge
from rag.evaluation.report import write_report
from rag.evaluation.retrieval import evaluate_retrieval

log = logging.getLogger(__name__)
INDEX_KEYS = (
    "chunk_size",
    "chunk_overlap",
    "embed_title",
    "embed",
    "openai_embed_model",
    "bm25_k1",
    "bm25_b",
    "bm25_title_weight",
)


def shipped_qa() -> Path:
    """The QA set built from the bundled corpus."""
    return Path(str(resources.files("rag") / "data" / "qa" / "bundled.jsonl"))


def presets() -> dict[str, Path]:
    """Named configurations shipped with the package."""
    folder = Path(str(resources.files("rag") / "presets"))
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


@dataclass
class EvalConfig:
    """A named set of settings overrides."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


def load_config(spec: str) -> EvalConfig:
    """A config from a TOML file path or a preset name ('default' = the current settings)."""
    if spec == "default":
        return EvalConfig("default")
    path = Path(spec)
    if not path.exists():
        if spec not in presets():
            raise ConfigError(f"no config file or preset named {spec!r} (presets: {', '.join(presets())})")
        path = presets()[spec]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    unknown = set(data) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(unknown)}")
    return EvalConfig(path.stem, data)


def _settings_for(base: Settings, config: EvalConfig) -> Settings:
    settings = base.model_copy(update=config.overrides)
    if any(getattr(settings, k) != getattr(base, k) for k in INDEX_KEYS):
        settings = settings.model_copy(update={"data_dir": base.data_dir / "eval-indexes" / config.name})
    return settings


def _cost_per_1000(settings: Settings, backend: str, metrics: dict[str, Any]) -> float | None:
    if backend != "openai" or not metrics.get("questions"):
        return None
    prices = settings.price_per_million.get(settings.openai_model)
    if prices is None:
        return None
    per_q_in = metrics["prompt_tokens"] / metrics["questions"]
    per_q_out = metrics["completion_tokens"] / metrics["questions"]
    return round(1000 * (per_q_in * prices[0] + per_q_out * prices[1]) / 1e6, 4)


def run_eval(
    *,
    settings: Settings | None = None,
    qa: Path | None = None,
    beir: Path | None = None,
    configs: list[str] | None = None,
    backend: str | None = None,
    limit: int | None = None,
    out: Path | None = None,
    progress: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Evaluate each configuration; write metrics.json, report.md, plots and predictions.jsonl to `out`, and for a
    BEIR set one TREC run file per configuration (`run-<config>.trec`, the ranking the metrics were computed on)."""
    base = settings or Settings()
    out = out or Path("eval") / "reports" / datetime.now().strftime("%Y%m%d-%H%M%S")
    use_qa = qa is not None or beir is None
    results: dict[str, Any] = {}
    predictions: list[dict[str, Any]] = []
    runs: dict[str, dict[str, list[str]]] = {}
    for config in [load_config(c) for c in (configs or ["default"])]:
        s = _settings_for(base, config)
        assistant = Assistant(s)
        kind = backend or resolve_backend(s)
        entry: dict[str, Any] = {"overrides": config.overrides, "backend": kind, "search_mode": s.search_mode}
        if use_qa:
            if assistant.is_empty():
                assistant.ingest(progress=progress)
            items = load_qa(qa or shipped_qa())[:limit]
            resolver = GoldResolver(assistant.manifest.iter_papers())
            answerable = [i for i in items if i.answerable]
            queries = {i.id: i.question for i in answerable}
            qrels = {i.id: dict.fromkeys(resolver.resolve_all(i.gold)[0], 1.0) for i in answerable}
            retrieval = evaluate_retrieval(
                assistant,
                queries,
                qrels,
                modes=[s.search_mode],
                ks=(1, 5, 10),
                progress=progress,
                mmr=assistant.wants_mmr,
            )[s.search_mode]
            rankings = retrieval.pop("rankings")
            judge = Judge(s) if Judge.configured(s) else None
            metrics, preds = evaluate_answers(assistant, items, kind, progress=progress, judge=judge)
            metrics["cost_per_1000_questions_usd"] = _cost_per_1000(s, kind, metrics)
            metrics["judge"] = s.judge_model if judge else "not measured (no RAG_JUDGE_MODEL)"
            for p in preds:
                p["config"] = config.name
                p["retrieval_ranking"] = rankings.get(p["id"], [])[:10]
            entry["qa"] = {"file": str(qa or shipped_qa()), "retrieval": retrieval, "answers": metrics}
            predictions.extend(preds)
        if beir is not None:
            data = load_beir(beir, "test")
            key = hashlib.sha1("-".join(str(getattr(s, k)) for k in INDEX_KEYS).encode()).hexdigest()[:8]
            beir_assistant = Assistant(s.model_copy(update={"data_dir": base.data_dir / "beir" / f"{beir.name}-{key}"}))
            beir_assistant.ingest([data.corpus], progress=progress)
            queries = dict(list(data.queries.items())[:limit])
            res = evaluate_retrieval(
                beir_assistant,
                queries,
                data.qrels,
                modes=[s.search_mode],
                progress=progress,
                mmr=beir_assistant.wants_mmr,
            )
            runs[config.name] = res[s.search_mode].pop("rankings")
            entry["beir"] = {"name": beir.name, "split": "test", **res[s.search_mode]}
        results[config.name] = entry
    write_report(out, results, predictions, runs=runs)
    return out, results
