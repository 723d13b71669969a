"""Fresh-process wall time of `rag search` with a `rag serve` running on the data dir (answered over its Unix socket)
against `rag search --local` (the index and the embedding model loaded in the process), median of N runs each.

    python eval/bench_cli.py [--embed local] [--runs 5] [--out eval/results/cli.md]

The bundled corpus is indexed into a temporary data dir first (with the default bundled MiniLM model unless --embed
says otherwise), then one `rag serve` is started on it; every timed run is `python -m rag.cli search QUERY` in a new
process, runs alternating between the two ways. The served and local outputs are checked equal (scores to 6
decimals). The machine's load average is recorded: wall times on a shared machine move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERY = "a transformer replaces the RNNs of Tacotron2 for faster speech synthesis training"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CPU: dict[str, list[float]] = {}


def timed(args: list[str], env: dict[str, str], name: str = "") -> tuple[float, str]:
    """Wall seconds and stdout of `rag ARGS` in a new process (in the data dir's parent: no stray .env); its CPU
    seconds (user + system) are kept under `name`."""
    cwd = Path(env["RAG_DATA_DIR"]).parent
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], env=env, capture_output=True, text=True, check=True, cwd=cwd
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(name, []).append(cpu)
    return wall, done.stdout


def comparable(output: str) -> object:
    def walk(value: object) -> object:
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(json.loads(output))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embed", default="local", choices=["local", "hash"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "cli.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": args.embed, "RAG_LLM": "extractive"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            env.pop(var, None)
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=env, check=True, capture_output=True, cwd=tmp)
        port = free_port()
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
        try:
            started = time.perf_counter()
            while not (data / "serve.sock").exists():
                if server.poll() is not None or time.perf_counter() - started > 600:
                    raise SystemExit(f"rag serve did not start:\n{(Path(tmp) / 'serve.log').read_text()}")
                time.sleep(0.2)
            search = ["search", QUERY, "-k", "10", "--json"]
            timed(search, env)  # the server's first search loads its retriever; not the CLI's cost
            served: list[float] = []
            local: list[float] = []
            for _ in range(args.runs):
                wall, out_served = timed(search, env, "served")
                served.append(wall)
                wall, out_local = timed([*search, "--local"], env, "local")
                local.append(wall)
                if comparable(out_served) != comparable(out_local):
                    raise SystemExit("served and local search printed different results")
            bare = [timed(["--help"], env, "bare")[0] for _ in range(args.runs)]
            os.environ.update(env)  # this process asks the server itself: the request alone, no process start
            from rag.config import Settings
            from rag.remote import find_server

            remote = find_server(Settings())
            assert remote is not None
            trips = []
            for _ in range(args.runs):
                start = time.perf_counter()
                remote.search(QUERY, 10, mode="hybrid", year=None, sources=None)
                trips.append(time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
        answered = Path(log.name).read_text().count("CLI request over the socket: GET /search 200")

    load = os.getloadavg()
    rows = [
        ("`rag search` with `rag serve` running (socket)", served, CPU["served"]),
        ("`rag search --local` (loads index and model)", local, CPU["local"]),
        ("`rag --help` (interpreter + CLI imports only)", bare, CPU["bare"]),
    ]
    lines = [
        "# CLI: fresh-process `rag search` with a server running vs in-process",
        "",
        f"Command: `python eval/bench_cli.py --embed {args.embed} --runs {args.runs}` on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.",
        f"Bundled corpus (410 papers) indexed with RAG_EMBED={args.embed}; query: `{QUERY}` (-k 10 --json). "
        f"Served and local outputs were equal in every run; the server's log shows {answered} searches answered "
        "over the socket (the warm-up and the request-alone runs included).",
        "",
        "Wall seconds move with the machine's load; the CLI process's own CPU seconds (user + system) much less: on an "
        "idle machine its wall time is about its CPU time plus the server's search.",
        "",
        f"The search request alone (this process asking the server over the socket, {args.runs} times): median "
        f"{statistics.median(trips):.3f} s (min {min(trips):.3f}, max {max(trips):.3f}); the server embeds the query.",
        "",
        "| run | median wall s | min | max | all runs (wall s) | median CPU s of the CLI process |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, walls, cpus in rows:
        all_runs = ", ".join(f"{w:.2f}" for w in walls)
        lines.append(
            f"| {name} | {statistics.median(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} | {all_runs} "
            f"| {statistics.median(cpus):.2f} |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
