"""Ask latency of two versions of the code, side by side in one run (this machine is shared and noisy).

Each version runs in its own worker process (`PYTHONPATH` = its source tree) over the same data dir, with the
offline default (extractive answerer, MiniLM). The questions go to the two workers in turn, one at a time, so both
see the same load. Each worker first answers one question outside the set (the model loads), then each question of
the set once: every timed answer embeds its sources' sentences afresh, as a first answer does.

    python eval/bench_side_by_side.py --base /path/to/old/checkout --data /tmp/idx --limit 40
    python eval/bench_side_by_side.py --base OLD --base-data /tmp/idx-old-format --data /tmp/idx --limit 40
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "rag" / "data" / "qa" / "sufficiency.jsonl"

WORKER = r"""
import sys, time
from rag.assistant import Assistant
from rag.config import Settings
assistant = Assistant(Settings(llm="extractive"))
print("ready", flush=True)
for line in sys.stdin:
    question = line.rstrip("\n")
    start = time.perf_counter()
    answer = assistant.ask(question)
    print(f"{time.perf_counter() - start:.6f}\t{answer.status}", flush=True)
"""


def worker(source: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(source), "RAG_DATA_DIR": str(data), "RAG_LLM": "extractive"}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=source, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def ask(proc: subprocess.Popen, question: str) -> tuple[float, str]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(question.replace("\n", " ") + "\n")
    proc.stdin.flush()
    seconds, status = proc.stdout.readline().rstrip("\n").split("\t")
    return float(seconds), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="the other version's source tree")
    parser.add_argument("--new", type=Path, default=ROOT, help="this version's source tree (default: this one)")
    parser.add_argument("--data", type=Path, required=True, help="a data dir holding the bundled corpus index")
    parser.add_argument(
        "--base-data", type=Path, default=None, help="the base version's copy of it, when its index format differs"
    )
    parser.add_argument("--qa", type=Path, default=QA)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here (markdown)")
    args = parser.parse_args()
    lines = args.qa.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]
    questions = [r["question"] for r in rows][: args.limit]
    sides = {"base": worker(args.base, args.base_data or args.data), "new": worker(args.new, args.data)}
    for proc in sides.values():  # the model loads outside the timed round
        ask(proc, "What is this index about?")
    times: dict[str, list[float]] = {name: [] for name in sides}
    started = time.time()
    for i, question in enumerate(questions):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            times[name].append(ask(sides[name], question)[0])
    for proc in sides.values():
        proc.terminate()
    load = os.getloadavg()[0]
    lines = [
        f"Ask latency side by side (`python eval/bench_side_by_side.py --limit {len(questions)}`), extractive, MiniLM,"
        f" {len(questions)} questions of `{args.qa.name}` asked in turn by both versions, each once (cold caches);"
        f" load average {load:.1f} at the end, {time.time() - started:.0f} s.",
        "",
        "| version | p50 ms | p95 ms |",
        "| --- | --- | --- |",
    ]
    for name, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        lines.append(f"| {name} | {statistics.median(values) * 1000:.0f} | {p95 * 1000:.0f} |")
    ratio = statistics.median(times["new"]) / statistics.median(times["base"])
    lines += ["", f"p50 new / base: **{ratio:.2f}x**"]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
