"""Time-to-error: how long a user waits to learn that the OpenAI backend has no key, or that the OpenAI-compatible
server in OPENAI_BASE_URL is not there (connection refused). Target: under 2 s, one line naming the setting.

    python eval/bench_errors.py [--runs 5] [--out eval/results/errors.md]

Measured, each the median of `--runs`:
- `rag ask --backend openai` as a process, from its start to its first `error:` / `notice:` line and to its exit:
  without a key on an empty data dir (where the bundled corpus used to be indexed first) and on an indexed one, and
  with a refused OPENAI_BASE_URL; and `python -c "import rag.cli"`, the floor of any command;
- in a warm process (a server's case: REST, UI, MCP): `Assistant.ask` to the `ConfigError` of a missing key, and to
  the answer carrying the notice of a refused server, and the LLM call alone until it gives up.
The index is the fixture papers with the hash embedder (the LLM error is what is timed, not the embedding model).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant, Settings  # noqa: E402
from rag.errors import BackendUnavailableError, ConfigError  # noqa: E402
from rag.generation.backends import OpenAIBackend  # noqa: E402

QUESTION = "How does the sparse mixture router change the compute of protein folding models?"


def refused_url() -> str:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def median_s(fn, runs: int) -> tuple[float, object]:
    times, last = [], None
    for _ in range(runs):
        started = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), last


def cli(args: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """Run `python args`: seconds from the start to its first `error:` / `notice:` line on stderr (to its exit
    when there is none), that line, and the exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    said, when = "", None
    assert proc.stderr is not None
    for line in proc.stderr:
        if not said and line.startswith(("error:", "notice:")):
            said, when = line.strip(), time.perf_counter() - started
    code = proc.wait(600)
    return (when if when is not None else time.perf_counter() - started), said, code


def median_cli(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float, str, int]:
    """Median seconds to the first error/notice line and to the exit, the line, the exit code."""
    first, total, said, code = [], [], "", 0
    for _ in range(runs):
        started = time.perf_counter()
        seconds, said, code = cli(args, env)
        first.append(seconds)
        total.append(time.perf_counter() - started)
    return statistics.median(first), statistics.median(total), said, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "errors.md")
    args = parser.parse_args()
    rows: list[tuple[str, float, float, str]] = []  # case, seconds to the error / notice, seconds in all, the line
    with tempfile.TemporaryDirectory() as tmp:
        indexed, empty = Path(tmp) / "indexed", Path(tmp) / "empty"
        builder = Assistant(Settings(data_dir=indexed, embed="hash"))
        builder.ingest([ROOT / "tests" / "fixtures" / "papers.jsonl"], progress=False)
        builder.ask(QUESTION, backend="extractive")
        builder.close()

        base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
        env = {**base, "PYTHONPATH": str(ROOT), "RAG_EMBED": "hash", "COLUMNS": "400"}
        ask = ["-m", "rag.cli", "ask", "--backend", "openai", QUESTION]
        _, seconds, _, _ = median_cli(["-c", "import rag.cli"], env, args.runs)
        rows.append(("`python -c 'import rag.cli'` (the floor of any command)", seconds, seconds, ""))
        for name, data in (("empty", empty), ("indexed", indexed)):
            first, total, line, code = median_cli(ask, {**env, "RAG_DATA_DIR": str(data)}, args.runs)
            rows.append((f"`rag ask --backend openai`, no key, {name} data dir (exit {code})", first, total, line))
        url = refused_url()
        first, total, line, code = median_cli(
            ask, {**env, "RAG_DATA_DIR": str(indexed), "OPENAI_BASE_URL": url}, args.runs
        )
        rows.append((f"`rag ask --backend openai`, refused server, indexed data dir (exit {code})", first, total, line))

        warm = Assistant(Settings(data_dir=indexed, embed="hash", abstain_threshold=-1.0))
        warm.ask(QUESTION, backend="extractive")

        def missing_key() -> str:
            try:
                warm.ask(QUESTION, backend="openai")
            except ConfigError as exc:
                return str(exc)
            return "(no error)"

        seconds, text = median_s(missing_key, args.runs)
        rows.append(("warm `Assistant.ask`, no key", seconds, seconds, f"error: {text}"))
        refused = Assistant(Settings(data_dir=indexed, embed="hash", abstain_threshold=-1.0, openai_base_url=url))
        refused.ask(QUESTION, backend="extractive")
        seconds, answer = median_s(lambda: refused.ask(QUESTION, backend="openai"), args.runs)
        rows.append(
            (
                "warm `Assistant.ask`, refused server (to the answer carrying the notice)",
                seconds,
                seconds,
                answer.notice,
            )
        )
        backend = OpenAIBackend(Settings(data_dir=indexed, openai_base_url=url))

        def llm_call() -> str:
            try:
                backend.complete([{"role": "user", "content": QUESTION}], max_tokens=16)
            except BackendUnavailableError as exc:
                return str(exc)
            return "(no error)"

        seconds, text = median_s(llm_call, args.runs)
        rows.append(("the LLM call alone, refused server (to `BackendUnavailableError`)", seconds, seconds, text))
        warm.close()
        refused.close()

    load = os.getloadavg()[0]
    lines = [
        "# Time to error: missing key, unreachable server",
        "",
        f"`python eval/bench_errors.py --runs {args.runs}`; median of {args.runs} runs; {os.cpu_count()} cores, "
        f"load {load:.1f} at the end. Target: under 2 s, one line naming the setting.",
        "",
        "| case | s to the error / notice | s in all | what the user sees |",
        "| --- | ---: | ---: | --- |",
        *(f"| {case} | {first:.2f} | {total:.2f} | {said} |" for case, first, total, said in rows),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
