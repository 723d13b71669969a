"""The house in figures: module lengths, the most complex function, import circles, mypy, the README's length and
how long a bare `pytest` (the fast suite) takes, side by side with the machine's load.

    python eval/house.py [--time-tests] [--out eval/results/house.md]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_house import circles, import_graph  # noqa: E402  (the same graph the test checks)


def longest_modules(n: int = 5) -> list[tuple[str, int]]:
    sizes = [
        (str(p.relative_to(ROOT)), p.read_text(encoding="utf-8").count("\n")) for p in (ROOT / "rag").rglob("*.py")
    ]
    return sorted(sizes, key=lambda s: -s[1])[:n]


def most_complex() -> tuple[str, int]:
    """The function ruff's mccabe check rates highest in rag/ (threshold 0 lists every function)."""
    ruff = ROOT / ".venv" / "bin" / "ruff"
    out = subprocess.run(
        [str(ruff), "check", "rag", "--select", "C901", "--config", "lint.mccabe.max-complexity=0", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    found = re.findall(r"`([^`]+)` is too complex \((\d+) > 0\)", out)
    name, score = max(found, key=lambda f: int(f[1]))
    return name, int(score)


def mypy_clean() -> str:
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "mypy")], cwd=ROOT, capture_output=True, text=True)
    return run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip()[:200]


def fast_suite_seconds() -> tuple[float, float, str]:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True
    )
    return time.perf_counter() - started, load, run.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-tests", action="store_true", help="also time a bare `pytest` (the fast suite)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    name, score = most_complex()
    lines = [
        "# The house in figures",
        "",
        "`python eval/house.py --time-tests`",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| longest modules in rag/ | {', '.join(f'{m} ({n})' for m, n in longest_modules())} |",
        f"| most complex function (ruff C901; CI fails above 15) | `{name}` ({score}) |",
        f"| import circles (lazy and type-only imports counted) | {len(circles(import_graph(lazy=True)))} |",
        f"| mypy over rag/ | {mypy_clean()} |",
        f"| README lines | {(ROOT / 'README.md').read_text(encoding='utf-8').count(chr(10))} |",
    ]
    if args.time_tests:
        seconds, load, summary = fast_suite_seconds()
        lines.append(f"| bare `pytest` (fast suite), wall | {seconds:.1f} s at load {load:.1f}: {summary} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
