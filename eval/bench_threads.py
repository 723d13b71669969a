"""Query latency against thread settings, quiet and while other processes burn the CPUs.

Each configuration runs in a fresh process (OMP_NUM_THREADS and the like only count when set before torch is
imported): it loads MiniLM and an index of the bundled corpus, then times `embed_query`, a hybrid search and an
extractive ask, each over distinct questions. Every configuration is measured quiet and with `--burners`
`yes > /dev/null` processes running, side by side in one run (configurations interleaved, `--rounds` times).

    python eval/bench_threads.py                     # the figures in eval/results/threads.md
    python eval/bench_threads.py --queries 20 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name -> (environment set before torch is imported, torch intra-op threads, torch inter-op threads)
CONFIGS: dict[str, tuple[dict[str, str], int | None, int | None]] = {
    "default (torch 2 threads, nothing set)": ({}, None, None),
    "OMP_WAIT_POLICY=PASSIVE, 2 threads": ({"OMP_WAIT_POLICY": "PASSIVE"}, None, None),
    "torch.set_num_threads(1)": ({}, 1, None),
    "OMP_NUM_THREADS=1": ({"OMP_NUM_THREADS": "1"}, None, None),
    "1 thread + interop 1 + TOKENIZERS_PARALLELISM=false": ({"TOKENIZERS_PARALLELISM": "false"}, 1, 1),
}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def questions() -> list[str]:
    """Distinct questions of the bundled QA sets (no warm cache of an earlier one)."""
    seen: dict[str, None] = {}
    for name in ("bundled.jsonl", "sufficiency.jsonl"):
        for line in (ROOT / "rag" / "data" / "qa" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                seen.setdefault(json.loads(line)["question"], None)
    return list(seen)


def worker(spec: dict) -> None:
    """Runs in the child: set torch threads, warm up, time the three operations; print JSON."""
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    if spec["interop"]:
        torch.set_num_interop_threads(spec["interop"])
    from rag.assistant import Assistant

    assistant = Assistant()
    qs = questions()
    offset = spec["offset"]
    n = spec["queries"]
    assistant.ask(qs[-1], backend="extractive")  # load the model, the index, the answerer
    timings: dict[str, list[float]] = {"embed_query": [], "hybrid search": [], "ask (extractive)": []}
    for i in range(n):
        q = qs[(offset + i) % len(qs)]
        start = time.perf_counter()
        assistant.embedder.embed_query(q + " ?")
        timings["embed_query"].append(time.perf_counter() - start)
        start = time.perf_counter()
        assistant.search(q, 10, mode="hybrid")
        timings["hybrid search"].append(time.perf_counter() - start)
        start = time.perf_counter()
        assistant.ask(qs[(offset + n + i) % len(qs)], backend="extractive")
        timings["ask (extractive)"].append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "torch_threads": torch.get_num_threads(),
                "interop": torch.get_num_interop_threads(),
                **{k: [round(v * 1000, 2) for v in vs] for k, vs in timings.items()},
            }
        )
    )


def run_config(name: str, data: Path, queries: int, offset: int) -> dict:
    env_extra, threads, interop = CONFIGS[name]
    unset = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_extra)
    env.update({"RAG_DATA_DIR": str(data), "RAG_EMBED": "local", "RAG_LLM": "extractive", "PYTHONPATH": str(ROOT)})
    spec = {"threads": threads, "interop": interop, "queries": queries, "offset": offset}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f"{name}: the worker failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def burn(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help="a data dir holding the bundled corpus (default: index it anew)")
    parser.add_argument("--queries", type=int, default=30, help="timed calls of each operation per process")
    parser.add_argument("--rounds", type=int, default=2, help="times each configuration runs per condition")
    parser.add_argument("--burners", type=int, default=2, help="`yes` processes for the loaded condition")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "threads.md")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    work = Path(tempfile.mkdtemp(prefix="rag-threads-"))
    data = args.data or work / "data"
    if not args.data:
        env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "local", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=env, check=True, capture_output=True)
    load_before = os.getloadavg()[0]
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    for round_no in range(args.rounds):
        for condition in ("quiet", f"{args.burners} x `yes` burning"):
            burners = burn(args.burners) if condition != "quiet" else []
            try:
                for name in CONFIGS:
                    got = run_config(name, data, args.queries, round_no * 2 * args.queries)
                    print(
                        condition,
                        "|",
                        name,
                        "|",
                        {k: statistics.median(v) for k, v in got.items() if isinstance(v, list)},
                    )
                    slot = results.setdefault((condition, name), {})
                    for key, values in got.items():
                        if isinstance(values, list):
                            slot.setdefault(key, []).extend(values)
                    slot["threads"] = [got["torch_threads"]]
            finally:
                for proc in burners:
                    proc.terminate()
                    proc.wait()
    ops = ("embed_query", "hybrid search", "ask (extractive)")
    lines = [
        "# Query latency against thread settings (`eval/bench_threads.py`)",
        "",
        f"Command: `python eval/{Path(__file__).name} {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; bundled corpus "
        f"(MiniLM, extractive answers); {args.queries} calls of each operation per process, {args.rounds} processes "
        f"per cell, configurations interleaved; measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"(1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: the machine is shared, "
        "other sessions' work comes on top of the `yes` burners).",
        "",
        "p50 / p95 in ms:",
        "",
        "| condition | configuration | torch threads | " + " | ".join(ops) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in ops) + " |",
    ]
    for (condition, name), slot in results.items():
        cells = " | ".join(f"{statistics.median(slot[o]):.1f} / {percentile(slot[o], 95):.1f}" for o in ops)
        lines.append(f"| {condition} | {name} | {slot['threads'][0]} | {cells} |")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
