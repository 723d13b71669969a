"""Soak: one process ingests batches of the arXiv corpus while REST, UI and MCP clients query the same data dir.

The documented way of working: `rag serve`, `rag chat` and `rag mcp` run on a data dir while the user runs
`rag ingest` beside them. This starts the three servers (subprocesses on 127.0.0.1) over an index seeded with
the first batch, keeps clients querying all three (REST `/search` and `/ask`, streamed and not; the UI's `/ask`
and `/search` through `gradio_client`; MCP `search_papers` and `ask_papers` through the official client), and in
the foreground runs `rag ingest` on one new batch after another. After each ingest returns, every paper of the
batch is looked up through REST by its title (hybrid search, top 5) and a sample through the UI and MCP, and
`/stats` must show papers, vectors and BM25 entries agreeing. Counted: errors in any door (non-200, an error
event, a failed tool call, an "Error:" answer) and missed papers (committed but not found by the next search).

    python eval/bench_soak.py                                  # ~10 minutes: eval/results/soak.md
    python eval/bench_soak.py --minutes 2 --embed hash         # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARXIV = Path("/work/shared/corpora/arxiv-118k.jsonl.gz")
QUERIES = [
    "graph neural networks for molecules",
    "speech recognition with transformers",
    "reinforcement learning from human feedback",
    "quantization of large language models",
    "diffusion models for image generation",
    "contrastive self-supervised learning",
]
QUESTIONS = [
    "Which papers propose methods for unsupervised domain adaptation?",
    "How is contrastive learning used for sentence embeddings?",
    "What methods reduce the memory of transformer training?",
]
sys.path.insert(0, str(ROOT / "eval"))
from bench_load import free_port  # noqa: E402


@dataclass
class Log:
    """Every call any client made: (door, operation, ok, seconds, detail)."""

    calls: list[tuple[str, str, bool, float, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    mu: threading.Lock = field(default_factory=threading.Lock)

    def add(self, door: str, op: str, ok: bool, seconds: float, detail: str = "") -> None:
        with self.mu:
            self.calls.append((door, op, ok, seconds, detail[:300]))


def batches_from_arxiv(path: Path, count: int, size: int, skip: int) -> list[list[dict]]:
    """`count` batches of `size` records with distinct titles and abstracts (so no paper merges into another)."""
    seen: set[str] = set()
    out: list[dict] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n < skip:
                continue
            rec = json.loads(line)
            keys = {" ".join(rec["title"].lower().split()), " ".join(rec["text"].lower().split())[:500]}
            if keys & seen or len(rec["text"]) < 200:
                continue
            seen |= keys
            out.append(rec)
            if len(out) == count * size:
                break
    return [out[i : i + size] for i in range(0, len(out), size)]


def http(url: str, body: dict | None = None, timeout: float = 300) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback only
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(url: str, proc: subprocess.Popen, what: str, log: Path) -> None:
    start = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # loopback only
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() - start > 600:
                raise SystemExit(f"{what} did not start; see {log}:\n{log.read_text()[-2000:]}") from None
            time.sleep(0.5)


PAUSE = 0.1  # seconds each client waits between calls (set by --pause)


def rest_worker(base: str, log: Log, stop: threading.Event, titles: list[str], asking: bool) -> None:
    rng = random.Random(1 if asking else 2)
    n = 0
    while not stop.wait(PAUSE):
        n += 1
        start = time.monotonic()
        if asking:
            body = {"question": rng.choice(QUESTIONS), "stream": n % 3 == 0}
            status, raw = http(f"{base}/ask", body)
            text = raw.decode("utf-8", "replace")
            ok = status == 200 and ("event: error" not in text if body["stream"] else '"text"' in text)
            log.add("rest", "ask-stream" if body["stream"] else "ask", ok, time.monotonic() - start, text[:200])
        else:
            q = rng.choice(QUERIES + titles[-50:]) if titles else rng.choice(QUERIES)
            mode = rng.choice(["hybrid", "hybrid", "dense", "bm25"])
            status, raw = http(f"{base}/search?" + urllib.parse.urlencode({"q": q, "k": 10, "mode": mode}))
            log.add(
                "rest", f"search-{mode}", status == 200, time.monotonic() - start, raw[:200].decode("utf-8", "replace")
            )


def ui_worker(url: str, log: Log, stop: threading.Event) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    rng = random.Random(3)
    while not stop.wait(PAUSE):
        start = time.monotonic()
        try:
            text = client.predict(rng.choice(QUESTIONS), api_name="/ask")
            log.add("ui", "ask", not str(text).startswith("Error:"), time.monotonic() - start, str(text)[:200])
        except Exception as exc:  # any failure of the door counts
            log.add("ui", "ask", False, time.monotonic() - start, repr(exc))


def ui_titles_found(url: str, titles: list[str]) -> list[bool]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    out = []
    for title in titles:
        table = client.predict(title, "hybrid", 5, None, None, [], api_name="/search")
        rows = table.get("data", []) if isinstance(table, dict) else table
        out.append(any(title in " ".join(map(str, row)) for row in rows))
    return out


def mcp_thread(
    data: Path, env: dict[str, str], log: Log, stop: threading.Event, checks: queue.Queue, found: queue.Queue
):
    """The MCP client: background `search_papers`/`ask_papers` calls; between them, title checks asked by main."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    async def run() -> None:
        server = StdioServerParameters(command=sys.executable, args=["-m", "rag.cli", "mcp"], env=env)
        rng = random.Random(4)
        async with Client(server, read_timeout_seconds=300) as client:
            while not stop.is_set():
                try:
                    titles = checks.get_nowait()
                except queue.Empty:
                    titles = None
                if titles is None:
                    await asyncio.sleep(PAUSE)
                else:
                    hits = []
                    for title in titles:
                        res = await client.call_tool("search_papers", {"query": title, "k": 5})
                        got = json.dumps(res.structured_content or {})
                        hits.append(not res.is_error and json.dumps(title)[1:-1] in got)
                    found.put(hits)
                    continue
                start = time.monotonic()
                if rng.random() < 0.5:
                    res = await client.call_tool("search_papers", {"query": rng.choice(QUERIES), "k": 5})
                    op = "search"
                else:
                    res = await client.call_tool("ask_papers", {"question": rng.choice(QUESTIONS)})
                    op = "ask"
                detail = str(res.content[0].text if res.content else "")[:200]
                log.add("mcp", op, not res.is_error, time.monotonic() - start, detail)

    try:
        asyncio.run(run())
    except Exception as exc:
        log.add("mcp", "session", False, 0.0, repr(exc))
        found.put([])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="stop starting new batches after this long")
    ap.add_argument("--batch", type=int, default=100, help="papers per ingested batch")
    ap.add_argument("--max-batches", type=int, default=60)
    ap.add_argument("--embed", default="local", choices=["local", "hash"], help="the embedder of every process")
    ap.add_argument("--sample", type=int, default=5, help="titles per batch checked through the UI and MCP")
    ap.add_argument("--pause", type=float, default=0.1, help="seconds each client waits between its calls")
    ap.add_argument("--arxiv", type=Path, default=ARXIV)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "soak")
    args = ap.parse_args()
    global PAUSE
    PAUSE = args.pause

    work = Path(tempfile.mkdtemp(prefix="rag-soak-"))
    data = work / "data"
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": args.embed, "RAG_LLM": "extractive"}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_UI_AUTH", "RAG_API_TOKEN"):
        env.pop(var, None)
    batches = batches_from_arxiv(args.arxiv, args.max_batches, args.batch, skip=50_000)
    files = []
    for i, batch in enumerate(batches):
        path = work / f"batch{i:03d}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in batch))
        files.append(path)

    def ingest(path: Path) -> float:
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(path)], env=env, capture_output=True)
        if run.returncode != 0:
            raise SystemExit(f"rag ingest {path} failed:\n{run.stderr.decode()[-2000:]}")
        return time.monotonic() - start

    print(f"seeding {data} with {args.batch} papers", flush=True)
    ingest(files[0])
    log = Log()
    procs: list[subprocess.Popen] = []
    rest_port, ui_port = free_port(), free_port()
    rest, ui = f"http://127.0.0.1:{rest_port}", f"http://127.0.0.1:{ui_port}/"
    for cmd, url, name in (
        (["serve", "--port", str(rest_port)], f"{rest}/health", "rest"),
        (["chat", "--port", str(ui_port)], ui, "ui"),
    ):
        out = work / f"{name}.log"
        with out.open("w") as fh:
            procs.append(subprocess.Popen([sys.executable, "-m", "rag.cli", *cmd], env=env, stdout=fh, stderr=fh))
        wait_ready(url, procs[-1], f"rag {cmd[0]}", out)
    print("servers up; soaking", flush=True)

    stop = threading.Event()
    committed: list[str] = [r["title"] for r in batches[0]]
    checks: queue.Queue = queue.Queue()
    found_q: queue.Queue = queue.Queue()
    mcp_env = {k: v for k, v in env.items() if k.startswith(("RAG_", "PATH", "HOME", "PYTHON"))}
    threads = [
        threading.Thread(target=rest_worker, args=(rest, log, stop, committed, False), daemon=True),
        threading.Thread(target=rest_worker, args=(rest, log, stop, committed, True), daemon=True),
        threading.Thread(target=ui_worker, args=(ui, log, stop), daemon=True),
        threading.Thread(target=mcp_thread, args=(data, mcp_env, log, stop, checks, found_q), daemon=True),
    ]
    for t in threads:
        t.start()

    started = time.monotonic()
    rounds: list[dict] = []
    rng = random.Random(5)
    for i in range(1, len(files)):
        if time.monotonic() - started > args.minutes * 60:
            break
        seconds = ingest(files[i])
        titles = [r["title"] for r in batches[i]]
        ids = [r["_id"].removeprefix("arXiv:") for r in batches[i]]
        # the next search after the commit, through every door
        missed_rest = []
        for pid, title in zip(ids, titles, strict=True):
            status, raw = http(f"{rest}/search?" + urllib.parse.urlencode({"q": title, "k": 5, "mode": "hybrid"}))
            got = [h["paper"]["id"] for h in json.loads(raw)] if status == 200 else []
            log.add("rest", "check", status == 200, 0.0, raw[:200].decode("utf-8", "replace"))
            if pid not in got:
                missed_rest.append(pid)
        sample = rng.sample(titles, min(args.sample, len(titles)))
        checks.put(sample)
        try:
            mcp_found = found_q.get(timeout=600)
        except queue.Empty:
            mcp_found = []
        ui_found = ui_titles_found(ui, sample)
        status, raw = http(f"{rest}/stats")
        stats = json.loads(raw) if status == 200 else {}
        agree = stats.get("vectors") == stats.get("chunks") == stats.get("bm25_entries")
        missed = missed_rest + [f"mcp:{t}" for t, f in zip(sample, mcp_found, strict=False) if not f]
        missed += [f"ui:{t}" for t, f in zip(sample, ui_found, strict=True) if not f]
        if len(mcp_found) != len(sample):
            missed.append("mcp: no answer to the check")
        if not agree:
            missed.append(f"stats disagree: {stats}")
        log.missed += missed
        committed += titles
        rounds.append({"batch": i, "ingest_s": round(seconds, 2), "papers": stats.get("papers"), "missed": len(missed)})
        print(f"batch {i}: ingest {seconds:.1f} s, papers {stats.get('papers')}, missed {len(missed)}", flush=True)

    stop.set()
    for t in threads:
        t.join(timeout=600)
    rss = {name: rss_mb(proc.pid) for name, proc in zip(("rest", "ui"), procs, strict=True)}
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=60)
    write_results(args, log, rounds, time.monotonic() - started, rss)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux), to see that re-opening the store leaks nothing."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_results(
    args: argparse.Namespace, log: Log, rounds: list[dict], seconds: float, rss: dict[str, float]
) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    by: dict[tuple[str, str], list[tuple[bool, float]]] = {}
    for door, op, ok, secs, _ in log.calls:
        by.setdefault((door, op), []).append((ok, secs))
    errors = [c for c in log.calls if not c[2]]
    load = os.getloadavg()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    final = rounds[-1]["papers"] if rounds else "-"
    ingest_p50 = statistics.median([r["ingest_s"] for r in rounds]) if rounds else 0.0
    lines = [
        "# Soak: readers follow the writer",
        "",
        f"`python eval/bench_soak.py --minutes {args.minutes:g} --batch {args.batch} --embed {args.embed}` on "
        f"{platform.node() or 'this machine'} ({os.cpu_count()} cores), {when}, load average at the end {load[0]:.1f}.",
        "",
        f"- batches ingested by `rag ingest` in another process while the servers ran: **{len(rounds)}** "
        f"({len(rounds) * args.batch:,} papers; the index grew from {args.batch} to {final} papers)",
        f"- calls from REST, UI and MCP clients: **{len(log.calls):,}**, errors: **{len(errors)}**",
        f"- committed papers not found by the next search: **{len(log.missed)}**",
        f"- soak length {seconds / 60:.1f} min; `rag ingest` per batch median {ingest_p50:.1f} s",
        f"- resident memory at the end: `rag serve` {rss.get('rest', 0):.0f} MB, `rag chat` {rss.get('ui', 0):.0f} MB",
        "",
        "| door | operation | calls | errors | p50 s | p95 s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for (door, op), items in sorted(by.items()):
        secs = sorted(s for _, s in items)
        p95 = secs[min(len(secs) - 1, int(0.95 * len(secs)))]
        bad = sum(1 for ok, _ in items if not ok)
        lines.append(f"| {door} | {op} | {len(items)} | {bad} | {statistics.median(secs):.2f} | {p95:.2f} |")
    if errors:
        lines += ["", "Errors (first 10):", ""] + [f"- {d} {o}: {detail}" for d, o, _, _, detail in errors[:10]]
    if log.missed:
        lines += ["", "Missed (first 10):", ""] + [f"- {m}" for m in log.missed[:10]]
    kinds = Counter(f"{d}:{o}" for d, o, ok, _, _ in log.calls if not ok)
    (args.out / "soak.md").write_text("\n".join(lines) + "\n")
    (args.out / "soak.json").write_text(
        json.dumps({"rounds": rounds, "errors": len(errors), "error_kinds": kinds, "missed": log.missed}, indent=1)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
