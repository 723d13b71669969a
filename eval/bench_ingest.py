"""Ingest benchmark on the bundled corpus: throughput, embedding share, re-ingest ratio.

    python eval/bench_ingest.py [--runs 3] [--out eval/reports/ingest.json]

Each run indexes the bundled corpus into a fresh temporary data dir, then ingests it again.
The model is loaded once before timing (its load time is reported separately). Medians are
quoted because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rag import Assistant, Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    from rag.index.embedders import LocalEmbedder

    LocalEmbedder()
    model_load = time.perf_counter() - started

    first, second, share, papers = [], [], [], 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            assistant = Assistant(Settings(data_dir=Path(tmp)))
            r1 = assistant.ingest(progress=False)
            r2 = assistant.ingest(progress=False)
            assert r2.papers_added == 0 and r2.chunks_added == 0
            papers = r1.papers_added
            first.append(r1.seconds)
            second.append(r2.seconds)
            share.append(r1.embed_seconds / r1.seconds)
            assistant.close()

    result = {
        "papers": papers,
        "runs": args.runs,
        "model_load_s": round(model_load, 2),
        "first_ingest_s_median": round(statistics.median(first), 2),
        "papers_per_s_median": round(papers / statistics.median(first), 1),
        "embedding_share_median": round(statistics.median(share), 3),
        "reingest_s_median": round(statistics.median(second), 4),
        "reingest_ratio_median": round(statistics.median(b / a for a, b in zip(first, second, strict=True)), 5),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
