"""Scale benchmark on real arXiv abstracts: ingest cost, memory, index size, filters and search latency.

    python eval/bench_scale.py --sizes 1000 10000 30000 117901 --embed hash [--server] [--out eval/results/scale]
    python eval/bench_scale.py --sizes 1000 10000 --embed local
    python eval/bench_scale.py --report eval/results/scale      # the table and the PNG from every run so far

Papers are the first N records of ../shared/corpora/arxiv-118k.jsonl.gz, flattened and spread over four
JSONL files (so a source filter keeps about a quarter). Each size is ingested by a child process (its peak
RSS is the ingest's), then searched by another child (peak RSS while serving): warm hybrid/dense/bm25 search
p50/p95 over 40 title queries, unfiltered, with a year filter, a source filter and both, checking that every
filtered hit passes the filter and that k hits come back. `--embed hash` measures everything but the model
(the MiniLM query embedding is timed separately and added in the report); `--server` puts the vectors in a
real `chroma run` server on 127.0.0.1. Results append to OUT/runs.jsonl.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "arxiv-118k.jsonl.gz"
FILES = 4
K = 10
YEAR = (2025, 2025)


def write_subset(n: int, folder: Path, corpus: Path = CORPUS) -> list[Path]:
    """The first `n` arXiv records as four JSONL files (record i goes to file i % 4)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"arxiv-{i}.jsonl" for i in range(FILES)]
    outs = [p.open("w") for p in paths]
    with gzip.open(corpus, "rt") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            r = json.loads(line)
            m = r.get("metadata") or {}
            rec = {
                "id": r["_id"],
                "title": r["title"],
                "abstract": r["text"],
                "authors": m.get("authors") or [],
                "year": m.get("year"),
                "categories": m.get("categories") or [],
                "url": m.get("url"),
            }
            outs[i % FILES].write(json.dumps(rec) + "\n")
    for o in outs:
        o.close()
    return paths


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def child_ingest(data: Path, files: list[Path]) -> dict:
    from rag import Assistant, Settings

    a = Assistant(Settings(data_dir=data))
    started = time.perf_counter()
    report = a.ingest(files, progress=False)
    seconds = time.perf_counter() - started
    rss = peak_rss_mb()
    stats = a.stats()
    started = time.perf_counter()
    a._ingestor().rebuild_bm25()
    rebuild = time.perf_counter() - started
    started = time.perf_counter()
    again = a.ingest(files, progress=False)
    reingest = time.perf_counter() - started
    assert again.chunks_added == 0
    sizes = {
        "manifest": dir_bytes(data)
        - dir_bytes(data / "bm25")
        - (dir_bytes(data / "chroma") if (data / "chroma").exists() else 0),
        "bm25": dir_bytes(data / "bm25"),
        "chroma_local": dir_bytes(data / "chroma") if (data / "chroma").exists() else 0,
    }
    return {
        "papers": stats.papers,
        "chunks": stats.chunks,
        "vectors": stats.vectors,
        "bm25_entries": stats.bm25_entries,
        "errors": len(report.errors),
        "ingest_s": round(seconds, 2),
        "embed_s": round(report.embed_seconds, 2),
        "papers_per_s": round(stats.papers / seconds, 1),
        "pipeline_share": round(1 - report.embed_seconds / seconds, 4),
        "ingest_peak_rss_mb": round(rss),
        "bm25_rebuild_s": round(rebuild, 2),
        "reingest_s": round(reingest, 3),
        "bytes": sizes,
    }


def child_serve(data: Path, files: list[Path]) -> dict:
    import numpy as np

    from rag import Assistant, Settings

    a = Assistant(Settings(data_dir=data))
    total = a.manifest.count_papers()
    rng = np.random.default_rng(0)
    picks = sorted(int(i) for i in rng.choice(total, size=min(40, total), replace=False))
    queries = [p.title for p in a.manifest.papers_at(picks)]
    source = files[1].name
    filters = {
        "none": {},
        "year": {"year": YEAR},
        "source": {"sources": [source]},
        "year+source": {"year": YEAR, "sources": [source]},
    }
    out: dict[str, dict] = {}
    a.search(queries[0], K)  # warm: BM25 loaded, HNSW loaded
    for mode in ("hybrid", "dense", "bm25"):
        for fname, kwargs in filters.items():
            times, short, wrong = [], 0, 0
            for q in queries:
                started = time.perf_counter()
                hits = a.search(q, K, mode=mode, **kwargs)
                times.append((time.perf_counter() - started) * 1000)
                short += len(hits) < K
                for h in hits:
                    if "year" in kwargs and not (h.paper.year and YEAR[0] <= h.paper.year <= YEAR[1]):
                        wrong += 1
                    if "sources" in kwargs and not any(s.rsplit(":", 1)[0].endswith(source) for s in h.paper.sources):
                        wrong += 1
            times.sort()
            out[f"{mode}/{fname}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "short_results": short,
                "wrong_results": wrong,
            }
    return {"search": out, "serve_peak_rss_mb": round(peak_rss_mb())}


def minilm_query_ms() -> float:
    from rag.index.embedders import LocalEmbedder

    e = LocalEmbedder()
    e.embed_query("warm up")
    times = []
    for i in range(50):
        started = time.perf_counter()
        e.embed_query(f"graph neural networks for molecule property prediction {i}")
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("chroma server did not start")


def run_size(n: int, embed: str, server: bool, work: Path, corpus: Path) -> dict:
    files = write_subset(n, work / "files", corpus)
    data = work / "data"
    env = {**os.environ, "RAG_EMBED": embed, "RAG_DATA_DIR": str(data)}
    proc = None
    if server:
        proc, url = start_chroma(work / "chroma-server")
        env["RAG_CHROMA_URL"] = url
    try:
        result = {"size": n, "embed": embed, "mode": "server" if server else "embedded"}
        for role in ("ingest", "serve"):
            done = subprocess.run(
                [sys.executable, __file__, "--child", role, str(data), *map(str, files)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                raise RuntimeError(f"{role} child failed:\n{done.stderr[-3000:]}")
            result |= json.loads(done.stdout.strip().splitlines()[-1])
        if server:
            result["bytes"]["chroma_server"] = dir_bytes(work / "chroma-server")
        total = sum(result["bytes"].values())
        result["bytes_per_paper"] = round(total / result["papers"])
        return result
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)


def report(out: Path) -> None:
    """eval/results/scale.md and scale.png from every run in runs.jsonl (the latest per size/embed/mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs: dict[tuple, dict] = {}
    extra = {}
    for line in (out / "runs.jsonl").read_text().splitlines():
        r = json.loads(line)
        if "minilm_query_ms" in r:
            extra = r
            continue
        runs[(r["embed"], r["mode"], r["size"])] = r
    q = extra.get("minilm_query_ms", 0.0)
    lines = [
        "# Scale benchmark (arXiv abstracts, this 2-core machine)",
        "",
        "`python eval/bench_scale.py`; medians over 40 title queries, k=10, warm. With `hash` embeddings the",
        f"search latency excludes the model: the MiniLM query embedding (median {q} ms here) is added in the",
        "`+MiniLM` columns. Bytes per paper include vectors, manifest and BM25. The machine is shared: the `hash`",
        "ingest rows were measured while other work loaded it (load average 12-19), so their throughput is",
        "pessimistic; search latencies (`--serve` on the kept indexes), the `local` (MiniLM) rows and the 118k BM25",
        "rebuild (`rebuild_bm25()` on the kept index; 194 s under load) were measured on the quiet machine, the",
        "`server` rows (a real `chroma run` on 127.0.0.1, `--server`) at a load average of about 3.",
        "",
        "| embed | vectors | papers | chunks | ingest papers/s | pipeline share | ingest peak RSS MB | serve RSS MB"
        " | bytes/paper | BM25 rebuild s | re-ingest s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (embed, mode, _size), r in sorted(runs.items()):
        lines.append(
            f"| {embed} | {mode} | {r['papers']:,} | {r['chunks']:,} | {r['papers_per_s']} | {r['pipeline_share']:.1%}"
            f" | {r['ingest_peak_rss_mb']} | {r['serve_peak_rss_mb']} | {r['bytes_per_paper']:,}"
            f" | {r['bm25_rebuild_s']} | {r['reingest_s']} |"
        )
    lines += [
        "",
        "## Search latency (ms, p50 / p95; `+MiniLM` adds the measured query embedding to the p95)",
        "",
        "| embed | vectors | papers | mode | none | year | source | year+source | worst p95 +MiniLM | short/wrong |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (embed, mode, size), r in sorted(runs.items()):
        for m in ("hybrid", "dense", "bm25"):
            cells = [r["search"][f"{m}/{f}"] for f in ("none", "year", "source", "year+source")]
            worst = max(c["p95_ms"] for c in cells) + (q if embed == "hash" and m != "bm25" else 0)
            bad = sum(c["short_results"] for c in cells), sum(c["wrong_results"] for c in cells)
            lines.append(
                f"| {embed} | {mode} | {size:,} | {m} | "
                + " | ".join(f"{c['p50_ms']} / {c['p95_ms']}" for c in cells)
                + f" | {worst:.1f} | {bad[0]}/{bad[1]} |"
            )
    (out / "scale.md").write_text("\n".join(lines) + "\n")

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for embed, mode in sorted({(e, m) for e, m, _ in runs}):
        pts = sorted((s, r) for (e, m, s), r in runs.items() if (e, m) == (embed, mode))
        xs = [s for s, _ in pts]
        label = f"{embed}/{mode}"
        axes[0].plot(xs, [r["papers_per_s"] for _, r in pts], marker="o", label=label)
        axes[1].plot(xs, [r["bytes_per_paper"] / 1024 for _, r in pts], marker="o", label=label)
        axes[2].plot(xs, [r["search"]["hybrid/none"]["p95_ms"] for _, r in pts], marker="o", label=label)
    for ax, title in zip(
        axes, ("ingest papers/s", "KB per paper on disk", "hybrid search p95 ms (no model)"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("papers")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "scale.png", dpi=110)
    print((out / "scale.md").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--embed", default="hash", choices=["hash", "local"])
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "scale")
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--keep", type=Path, default=None, help="keep each size's files and index under KEEP/")
    parser.add_argument("--serve", type=Path, default=None, help="only search a kept KEEP/<embed>-<n> again")
    parser.add_argument("--child", nargs="+", default=None)
    args = parser.parse_args()
    if args.child:
        role, data, *files = args.child
        fn = child_ingest if role == "ingest" else child_serve
        print(json.dumps(fn(Path(data), [Path(f) for f in files])))
        return
    if args.report:
        report(args.report)
        return
    if args.serve:  # search a kept index again (e.g. on a quieter machine)
        files = sorted((args.serve / "files").glob("*.jsonl"))
        print(json.dumps(child_serve(args.serve / "data", files)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "runs.jsonl").open("a") as log:
        if args.embed == "hash":
            log.write(json.dumps({"minilm_query_ms": minilm_query_ms()}) + "\n")
        for n in args.sizes:
            work = args.keep / f"{args.embed}-{n}" if args.keep else Path(tempfile.mkdtemp(prefix=f"scale-{n}-"))
            try:
                result = run_size(n, args.embed, args.server, work, args.corpus)
            finally:
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
            print(json.dumps(result), flush=True)
            log.write(json.dumps(result) + "\n")
            log.flush()
    report(args.out)


if __name__ == "__main__":
    main()
