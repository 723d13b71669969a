"""Load on the real web UI: many `/ask` calls with an upload ingesting, and a chat during a big ingest.

Starts `rag chat` (a subprocess on 127.0.0.1, a free port) over a fresh index of the bundled corpus,
then measures through `gradio_client`, as a script would:

1. `--requests` `/ask` calls from `--threads` threads (one client each), with one upload of
   `--upload-papers` new papers ingesting in the middle: errors, p50/p95/max latency, overall and
   for the calls that overlapped the ingest.
2. An upload of `--big-papers` papers (the first lines of the arXiv snapshot `--arxiv`); once it
   is ingesting, `--probes` chats (`/ask`, one after another): each one's latency, and whether
   the ingest was still running when it came back.

    python eval/bench_load.py                      # the figures in eval/results/load.md
    python eval/bench_load.py --requests 20 --threads 4 --big-papers 300   # a quick look
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gradio_client import Client, handle_file

ROOT = Path(__file__).resolve().parents[1]
ARXIV = Path("/work/shared/corpora/arxiv-118k.jsonl.gz")
QA_FILES = [ROOT / "rag" / "data" / "qa" / "bundled.jsonl", ROOT / "rag" / "data" / "qa" / "sufficiency.jsonl"]


def distinct_questions() -> list[str]:
    """Every question of the bundled QA sets, once each: no answer is served from a warm cache of an earlier one."""
    seen: dict[str, None] = {}
    for path in QA_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                seen.setdefault(json.loads(line)["question"], None)
    return list(seen)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chat(data: Path, log: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    """`rag chat` over `data` (indexing the bundled corpus when empty); (process, url, seconds to serve)."""
    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data), **env_extra}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_UI_AUTH"):
        env.pop(var, None)
    start = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "chat", "--port", str(port)], env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # loopback only
            return proc, url, time.monotonic() - start
        except OSError:
            if proc.poll() is not None or time.monotonic() - start > 900:
                proc.terminate()
                raise SystemExit(f"rag chat did not start; see {log}:\n{log.read_text()[-2000:]}") from None
            time.sleep(0.5)


def arxiv_papers(path: Path, start: int, count: int, out: Path) -> Path:
    """Lines `start`..`start+count` of the arXiv snapshot as a .jsonl file to upload."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, start, start + count))
    return out


def reply_kind(reply: object) -> str:
    """cited | abstained | error: what one `/ask` reply was."""
    if not isinstance(reply, str) or not reply.strip() or reply.startswith("Error:"):
        return "error"
    return "cited" if "References:" in reply else "abstained"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"n": 0}
    return {
        "n": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "max": max(latencies),
    }


def many_asks(url: str, questions: list[str], threads: int, upload: Path) -> dict[str, object]:
    """One /ask call per question from `threads` clients; one upload ingests once half of them are done."""
    requests = len(questions)
    clients = [Client(url, verbose=False) for _ in range(threads)]
    results: list[tuple[float, float, str | None, int]] = []  # (start, seconds, error, call number)
    lock = threading.Lock()
    window: dict[str, float] = {}
    half = threading.Event()

    def ask(i: int) -> None:
        client = clients[i % threads]
        start = time.monotonic()
        error = None
        try:
            reply = client.predict(questions[i], api_name="/ask")
            if reply_kind(reply) == "error":
                error = f"bad reply: {str(reply)[:200]}"
        except Exception as exc:  # any failure counts as an error of the run
            error = f"{type(exc).__name__}: {exc}"[:300]
        with lock:
            results.append((start, time.monotonic() - start, error, i))
            if len(results) >= requests // 2:
                half.set()

    def ingest() -> None:
        half.wait()
        window["start"] = time.monotonic()
        window["report"] = Client(url, verbose=False).predict([handle_file(upload)], api_name="/ingest_files")
        window["end"] = time.monotonic()

    began = time.monotonic()
    uploader = threading.Thread(target=ingest)
    uploader.start()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(ask, range(requests)))
    uploader.join()
    wall = time.monotonic() - began
    latencies = [s for _, s, e, _ in results if e is None]
    during = [s for t, s, e, _ in results if e is None and t < window["end"] and t + s > window["start"]]
    first = [s for _, s, e, i in results if e is None and i < threads]
    errors = [e for _, _, e, _ in results if e]
    return {
        "requests": requests,
        "threads": threads,
        "errors": len(errors),
        "error_examples": errors[:3],
        "wall_s": wall,
        "throughput_per_s": len(results) / wall,
        "all": summary(latencies),
        "first_round": summary(first),
        "during_ingest": summary(during),
        "ingest_s": window["end"] - window["start"],
        "ingest_report": str(window["report"]).split("\n")[0],
    }


def timed_asks(client: Client, questions: list[str], job: object = None) -> list[dict[str, object]]:
    """Ask one after another: seconds, the reply's kind, and whether `job` (an ingest) was still running."""
    rows = []
    for question in questions:
        start = time.monotonic()
        reply = client.predict(question, api_name="/ask")
        rows.append(
            {
                "seconds": time.monotonic() - start,
                "ingest_still_running": job is not None and not job.done(),  # type: ignore[attr-defined]
                "reply": reply_kind(reply),
            }
        )
    return rows


def chat_during_big_ingest(url: str, upload: Path, questions: list[str], data: Path) -> dict[str, object]:
    """Fresh chats with no ingest running (the baseline), then the same number while `upload` ingests."""
    client = Client(url, verbose=False)
    half = len(questions) // 2
    baseline = timed_asks(client, questions[:half])
    lock_file = data / "writer.lock"
    started = time.monotonic()
    ingest_job = Client(url, verbose=False).submit([handle_file(upload)], api_name="/ingest_files")
    while not _writer_busy(lock_file):  # the ingest holds the writer lock once it has begun
        if ingest_job.done() or time.monotonic() - started > 300:
            raise SystemExit("the big ingest never showed as running; nothing to measure")
        time.sleep(0.2)
    began_s = time.monotonic() - started
    rows = timed_asks(client, questions[half:], ingest_job)
    report = ingest_job.result(timeout=3600)
    return {
        "papers": sum(1 for _ in upload.open(encoding="utf-8")),
        "probes": rows,
        "baseline": baseline,
        "ingest_report": str(report).split("\n")[0],
        "ingest_total_s": time.monotonic() - started,
        "ingest_seen_after_s": began_s,
    }


def _writer_busy(lock_file: Path) -> bool:
    """Whether a process holds the index's writer lock (an exclusive flock); a free lock is let go at once."""
    import fcntl

    if not lock_file.exists():
        return False
    with lock_file.open("rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def write_report(out: Path, meta: dict[str, object], load: dict[str, object], big: dict[str, object]) -> None:
    def fmt(s: dict[str, float]) -> str:
        return f"{s['n']} | {s['p50']:.2f} | {s['p95']:.2f} | {s['max']:.2f}" if s.get("n") else "0 | - | - | -"

    probes = big["probes"]
    lines = [
        "# Load on the web UI (`eval/bench_load.py`)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; embeddings `{meta['embed']}`, answers `{meta['llm']}`, "
        f"RAG_UI_CONCURRENCY {meta['concurrency']}; measured {meta['when']} (1-minute load average "
        f"{meta['loadavg']}: the machine is shared).  ",
        f"Server: `rag chat` on 127.0.0.1 over a fresh index of the bundled corpus (indexed and serving after "
        f"{meta['startup_s']:.0f} s); every call through `gradio_client`.",
        "",
        f"## {load['requests']} `/ask` calls from {load['threads']} threads, one upload ingesting in the middle",
        "",
        f"Errors: **{load['errors']}** of {load['requests']}"
        + (f" (e.g. {load['error_examples'][0]})" if load["error_examples"] else "")
        + f". Wall time {load['wall_s']:.1f} s ({load['throughput_per_s']:.2f} answers/s). "
        f"The upload ({meta['upload_papers']} arXiv papers) ingested in {load['ingest_s']:.1f} s: "
        f"{load['ingest_report']}",
        "",
        "| calls | n | p50 s | p95 s | max s |",
        "| --- | --- | --- | --- | --- |",
        f"| all | {fmt(load['all'])} |",
        f"| overlapping the ingest | {fmt(load['during_ingest'])} |",
        f"| the first {load['threads']} (a cold server) | {fmt(load['first_round'])} |",
        "",
        "Latency is the client's: queueing behind the other threads (the queue serves "
        f"{meta['concurrency']} events at once) included.",
        "",
        f"## A chat during a {big['papers']:,}-paper ingest",
        "",
        f"The upload of the first {big['papers']:,} lines of the arXiv snapshot showed as ingesting (writer "
        f"lock held) {big['ingest_seen_after_s']:.1f} s after it was sent; the whole upload and ingest took "
        f"{big['ingest_total_s']:.0f} s: {big['ingest_report']}",
        "",
        "Each chat is a question not asked before in the run (no warm caches). First without an ingest "
        "(the baseline on this machine), then while the ingest runs:",
        "",
        "| chat | during the ingest | seconds | ingest still running when it answered | reply |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {i} | no | {p['seconds']:.2f} | - | {p['reply']} |" for i, p in enumerate(big["baseline"], 1)),
        *(
            f"| {i} | yes | {p['seconds']:.2f} | {'yes' if p['ingest_still_running'] else 'no'} | {p['reply']} |"
            for i, p in enumerate(probes, len(big["baseline"]) + 1)
        ),
        "",
        f"Slowest chat while the ingest ran: "
        f"{max((p['seconds'] for p in probes if p['ingest_still_running']), default=float('nan')):.2f} s "
        f"(target: under 3 s); slowest without an ingest: "
        f"{max((p['seconds'] for p in big['baseline']), default=float('nan')):.2f} s.",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="/ask calls, each a different question")
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--upload-papers", type=int, default=200, help="papers in the mid-run upload")
    parser.add_argument("--big-papers", type=int, default=2000, help="papers in the big ingest")
    parser.add_argument("--probes", type=int, default=5, help="chats timed during the big ingest (and before it)")
    parser.add_argument("--arxiv", type=Path, default=ARXIV, help="arXiv metadata snapshot (.jsonl.gz)")
    parser.add_argument("--embed", default="local", help="RAG_EMBED of the server (local = bundled MiniLM)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "load.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="rag-load-"))
    env = {"RAG_EMBED": args.embed, "RAG_LLM": "extractive", "GRADIO_TEMP_DIR": str(work / "gradio")}
    proc, url, startup = start_chat(work / "data", work / "chat.log", env)
    try:
        small = arxiv_papers(args.arxiv, args.big_papers, args.upload_papers, work / "upload" / "mid-run.jsonl")
        questions = distinct_questions()
        if len(questions) < args.requests + 2 * args.probes:
            raise SystemExit(f"only {len(questions)} distinct questions in the QA sets")
        load = many_asks(url, questions[: args.requests], args.threads, small)
        print(json.dumps(load, indent=1))
        big_file = arxiv_papers(args.arxiv, 0, args.big_papers, work / "upload" / "big.jsonl")
        probes = questions[args.requests : args.requests + 2 * args.probes]
        big = chat_during_big_ingest(url, big_file, probes, work / "data")
        print(json.dumps(big, indent=1))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    meta = {
        "command": "python " + " ".join([f"eval/{Path(__file__).name}", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "embed": args.embed,
        "llm": "extractive",
        "concurrency": os.environ.get("RAG_UI_CONCURRENCY", "4"),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "startup_s": startup,
        "upload_papers": args.upload_papers,
        "loadavg": f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
    }
    write_report(args.out, meta, load, big)
    shutil.rmtree(work, ignore_errors=True)
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
