"""Search and ask latency three ways in one run: quiet, while another process ingests, and with 4 clients at once.

Two `rag serve` processes (127.0.0.1, free ports) over copies of one index of the bundled corpus (MiniLM,
extractive answers), side by side:

- old: the thread behaviour before `rag/runtime.py` (torch's defaults: one OpenMP thread per core, idle threads
  spinning), reproduced by setting OMP_NUM_THREADS to the core count (a set OMP_NUM_THREADS makes
  `configure_threads` change nothing), for the server and for the ingest beside it;
- new: the defaults (`RAG_QUERY_THREADS=1` for the server, `RAG_INGEST_THREADS=0` = one per core and sleeping idle
  threads for `rag ingest`).

Each condition runs on freshly started servers over fresh copies of the index (the answerer caches sentence and
word embeddings, so every condition starts from the same empty cache), each call a question not asked before in
the run; conditions outer, modes inner, so both modes see about the same background load:

1. quiet: `--searches` GET /search (hybrid, k=10) and `--asks` POST /ask (extractive) mixed, one client;
2. while `rag ingest` of `--ingest-papers` arXiv papers runs as another process on the same data dir (the
   documented workflow): as many calls, one client; only calls that ended while it still held the writer lock
   count (the rest of the ingest is waited for);
3. `--clients` clients at once: as many calls, spread over `--clients` threads.

    python eval/bench_contention.py                 # the figures in eval/results/contention.md
    python eval/bench_contention.py --searches 10 --asks 4 --ingest-papers 100   # a quick look
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.bench_load import distinct_questions, free_port, percentile  # noqa: E402

ARXIV = Path("/work/shared/corpora/arxiv-118k.jsonl.gz")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM")
CORES = len(os.sched_getaffinity(0))
MODES = {
    "old": {"OMP_NUM_THREADS": str(CORES)},  # torch's own default on this machine, and nothing else changed
    "new": {},
}

Op = tuple[str, str]  # ("search" | "ask", text)


def mode_env(mode: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS and not k.startswith("RAG_")}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    env.update({"RAG_DATA_DIR": str(data), "RAG_EMBED": "local", "RAG_LLM": "extractive", "PYTHONPATH": str(ROOT)})
    env.update(MODES[mode])
    return env


def call(url: str, op: Op) -> float:
    """Seconds one call took; an error stops the run."""
    kind, text = op
    start = time.perf_counter()
    if kind == "search":
        request = urllib.request.Request(f"{url}/search?" + urllib.parse.urlencode({"q": text, "k": 10}))
    else:
        body = json.dumps({"question": text, "backend": "extractive"}).encode()
        request = urllib.request.Request(f"{url}/ask", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:  # loopback only
        payload = json.loads(response.read())
    seconds = time.perf_counter() - start
    if kind == "ask" and not payload.get("status"):
        raise SystemExit(f"bad /ask reply: {str(payload)[:300]}")
    return seconds


def start_server(mode: str, data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            env=mode_env(mode, data),
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    started = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() - started > 600:
                proc.terminate()
                raise SystemExit(f"rag serve ({mode}) did not start; see {log}") from None
            time.sleep(0.5)


def writer_busy(data: Path) -> bool:
    lock_file = data / "writer.lock"
    if not lock_file.exists():
        return False
    with lock_file.open("rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def quiet(url: str, ops: list[Op]) -> list[tuple[str, float]]:
    return [(op[0], call(url, op)) for op in ops]


def during_ingest(url: str, ops: list[Op], mode: str, data: Path, papers: Path) -> dict[str, object]:
    """The calls while `rag ingest papers` runs as another process on `data`, until it ends (or `ops` do)."""
    env = mode_env(mode, data)
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(papers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    while not writer_busy(data):
        if proc.poll() is not None:
            raise SystemExit(f"the ingest ended before it was seen running: {proc.stdout.read()[-1000:]}")
        time.sleep(0.05)
    rows: list[tuple[str, float]] = []
    for op in ops:
        seconds = call(url, op)
        if proc.poll() is not None or not writer_busy(data):
            break  # this call may have outlived the ingest: not counted
        rows.append((op[0], seconds))
    output = proc.communicate()[0]
    return {"rows": rows, "ingest_s": time.monotonic() - began, "ingest_line": output.strip().splitlines()[-1]}


def concurrent(url: str, ops: list[Op], clients: int) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    lock = threading.Lock()

    def one(op: Op) -> None:
        seconds = call(url, op)
        with lock:
            rows.append((op[0], seconds))

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, ops))
    return rows


def stats(rows: list[tuple[str, float]], kind: str) -> dict[str, float]:
    values = [s * 1000 for k, s in rows if k == kind]
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": statistics.median(values), "p95": percentile(values, 95)}


def interleave(searches: list[str], asks: list[str]) -> list[Op]:
    """Searches and asks mixed evenly, in one list."""
    ops: list[Op] = []
    per_ask = max(1, len(searches) // max(1, len(asks)))
    s_iter, a_iter = iter(searches), iter(asks)
    for i in range(len(searches) + len(asks)):
        pick = "ask" if (i + 1) % (per_ask + 1) == 0 else "search"
        text = next(a_iter if pick == "ask" else s_iter, None)
        if text is None:
            pick = "search" if pick == "ask" else "ask"
            text = next(a_iter if pick == "ask" else s_iter)
        ops.append((pick, text))
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="a data dir holding the bundled corpus (MiniLM); default: index it")
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--asks", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--ingest-papers", type=int, default=300)
    parser.add_argument("--arxiv", type=Path, default=ARXIV)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "contention.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rag-contention-"))
    base = args.data
    if base is None:
        base = work / "base"
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=mode_env("new", base), check=True)
    papers = work / "arxiv.jsonl"
    with gzip.open(args.arxiv, "rt", encoding="utf-8") as src, papers.open("w", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, args.ingest_papers))
    questions = distinct_questions()
    n = args.searches + args.asks
    if len(questions) < 3 * n:
        raise SystemExit(f"only {len(questions)} distinct questions")
    phase_ops = [  # quiet, ingest, 4 clients: the same mix, different questions
        interleave(questions[i * n : i * n + args.searches], questions[i * n + args.searches : (i + 1) * n])
        for i in range(3)
    ]
    load_before = os.getloadavg()[0]
    results: dict[str, dict[str, object]] = {mode: {} for mode in args.modes}
    for number, condition in enumerate(("quiet", "ingest", "clients")):
        for mode in args.modes:
            data = work / f"data-{condition}-{mode}"
            shutil.copytree(base, data)
            proc, url = start_server(mode, data, work / f"serve-{condition}-{mode}.log")
            try:
                for op in (("search", "warm up"), ("ask", "What is a residual network?")):
                    call(url, op)
                ops = phase_ops[number]
                if condition == "quiet":
                    results[mode]["quiet"] = quiet(url, ops)
                elif condition == "clients":
                    results[mode]["clients"] = concurrent(url, ops, args.clients)
                else:
                    got = during_ingest(url, ops, mode, data, papers)
                    results[mode]["ingest"] = got["rows"]
                    results[mode]["ingest_s"] = got["ingest_s"]
                    results[mode]["ingest_line"] = got["ingest_line"]
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            print(mode, condition, {k: stats(results[mode][condition], k) for k in ("search", "ask")}, flush=True)
    load_after = os.getloadavg()[0]
    write_report(args, results, load_before, load_after)
    shutil.rmtree(work, ignore_errors=True)


def write_report(args: argparse.Namespace, results: dict, load_before: float, load_after: float) -> None:
    def cell(s: dict[str, float]) -> str:
        return f"{s['p50']:.0f} / {s['p95']:.0f} ({s['n']})" if s.get("n") else "- (0)"

    def ratio(a: dict[str, float], b: dict[str, float]) -> str:
        return f"{a['p95'] / b['p95']:.1f}x" if a.get("n") and b.get("n") else "-"

    lines = [
        "# Search and ask under contention (`eval/bench_contention.py`)",
        "",
        f"Command: `python eval/{Path(__file__).name} {' '.join(sys.argv[1:])}`  ",
        f"Machine: {platform.machine()}, {CORES} CPUs, Python {platform.python_version()}; two `rag serve` over "
        f"copies of the bundled corpus's index (MiniLM, extractive answers); measured "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (1-minute load average {load_before:.1f} before, "
        f"{load_after:.1f} after: the machine is shared with other sessions' work).  ",
        f"old = torch's defaults ({CORES} OpenMP threads per process, idle threads spinning; OMP_NUM_THREADS={CORES} "
        "set, so `configure_threads` changes nothing); new = the defaults of `rag/runtime.py` (RAG_QUERY_THREADS=1 "
        "for the server; `rag ingest` one thread per core, idle threads sleeping).",
        "",
        f"Latency in ms, p50 / p95 (calls). Quiet: {args.searches} searches and {args.asks} asks, one client. "
        f"Ingest: `rag ingest` of {args.ingest_papers} arXiv papers as another process on the same data dir, the "
        f"same number of calls made (one client) while it ran. {args.clients} clients: as many calls from "
        f"{args.clients} threads at once. Each condition on freshly started servers (the same empty embedding "
        "caches). Ratios are p95 over the quiet p95 of the same mode and operation (acceptance: ingest <= 3x, "
        "4 clients <= 4x).",
        "",
        "| mode | operation | quiet | while ingesting | 4 clients | ingest ratio | 4-client ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, r in results.items():
        for kind in ("search", "ask"):
            q, i, c = (stats(r[phase], kind) for phase in ("quiet", "ingest", "clients"))
            lines.append(f"| {mode} | {kind} | {cell(q)} | {cell(i)} | {cell(c)} | {ratio(i, q)} | {ratio(c, q)} |")
    lines += ["", "The ingest beside each server:", ""]
    for mode, r in results.items():
        lines.append(f"- {mode}: {r['ingest_s']:.0f} s in all (model load included): {r['ingest_line']}")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
