"""Lexical index benchmark at 118k: a full rebuild against adding 1,000 papers as a delta segment.

    python eval/bench_lexical.py [--corpus /work/shared/corpora/arxiv-118k.jsonl.gz] [--limit N] [--add 1000]
                                 [--out eval/results/lexical.md]
    python eval/bench_lexical.py --ingest-only --ingest 20000   # adds the figures through a real ingest

The lexical part only (no manifest, no vectors): every paper is one chunk, its text the title twice and the abstract
(as `bm25_title_weight=2` indexes it), its year and one source file for the filter masks; acronyms are harvested
beforehand (an ingest does that per batch) and only the map's making is timed. Measured:

- full rebuild: `build` of every paper + the acronym map + `save` (what `rebuild_bm25` does after reading the
  manifest), and, for reference, what the bm25s-based index took (tokenize + index + save);
- adding `--add` papers to the index of the others: `load` (memory-mapped) + `add` + merged acronyms + `save`;
- scores equal: the incremental index against the full one, every chunk, a set of queries;
- query latency (p50 and p90 of `scores()`): the main segment alone, main + delta, and after a merge;
- the merge itself (`merge` + `save`);
- with `--ingest N`: the same through a real ingest (hash embeddings) of N papers, then `--add` more.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.acronyms import AcronymMap, harvest
from rag.index.bm25 import BM25Index
from rag.index.tokenizing import bm25s_module, stemmer

CORPUS = Path("/work/shared/corpora/arxiv-118k.jsonl.gz")


def papers(path: Path, limit: int | None) -> list[tuple[str, str, int, set]]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            text = (r["title"] + "\n") * 2 + r["text"]
            out.append(
                (f"{r['_id']}:0", text, int(r["metadata"].get("year") or 0), harvest(f"{r['title']}. {r['text']}"))
            )
            if limit and len(out) >= limit:
                break
    return out


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def columns(rows, source: str):
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], {source: list(range(len(rows)))}


def latency(index: BM25Index, queries: list[str]) -> tuple[float, float]:
    times = []
    for q in queries:
        started = time.perf_counter()
        index.scores(q)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.9)] * 1000


def through_ingest(path: Path, papers_n: int, add: int) -> dict[str, float]:
    """The same at the ingest level (manifest reads included, hash embeddings): `sync_bm25` after ingesting `add`
    more papers into an index of `papers_n`, against `rebuild_bm25` of the same index."""
    from rag import Assistant, Settings
    from rag.index import ingest

    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / "one.jsonl", Path(tmp) / "two.jsonl"]
        with gzip.open(path, "rt", encoding="utf-8") as fh, files[0].open("w") as one, files[1].open("w") as two:
            for i, line in enumerate(fh):
                if i >= papers_n + add:
                    break
                r = json.loads(line)
                row = {"id": r["_id"], "title": r["title"], "abstract": r["text"], "year": r["metadata"].get("year")}
                (one if i < papers_n else two).write(json.dumps(row) + "\n")
        a = Assistant(Settings(data_dir=Path(tmp) / "data", embed="hash"))
        a.ingest([files[0]], progress=False)
        spent: list[float] = []
        sync = ingest.Ingestor.sync_bm25

        def timed_sync(self):
            started = time.perf_counter()
            try:
                return sync(self)
            finally:
                spent.append(time.perf_counter() - started)

        ingest.Ingestor.sync_bm25 = timed_sync
        try:
            a.ingest([files[1]], progress=False)
        finally:
            ingest.Ingestor.sync_bm25 = sync
        rebuild_s = timed(a._ingestor().rebuild_bm25)[0]
        a.close()
    return {"papers": papers_n, "added": add, "sync_s": round(spent[0], 3), "rebuild_s": round(rebuild_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--add", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("eval/results/lexical.md"))
    parser.add_argument("--ingest", type=int, default=0, help="also through a real ingest of this many papers")
    parser.add_argument("--ingest-only", action="store_true", help="add the ingest figures to the saved results")
    args = parser.parse_args()
    if args.ingest_only:
        res = json.loads(args.out.with_suffix(".json").read_text())
        res["through_ingest"] = through_ingest(args.corpus, args.ingest, args.add)
        res["through_ingest"]["load_avg"] = round(os.getloadavg()[0], 1)
        args.out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
        args.out.write_text(report(res))
        print(json.dumps(res["through_ingest"]))
        return

    load_s, rows = timed(papers, args.corpus, args.limit)
    main_rows, new_rows = rows[: -args.add], rows[-args.add :]
    rng = np.random.default_rng(0)
    queries = [rows[i][1].split("\n")[0] for i in rng.choice(len(rows), args.queries, replace=False)]
    all_pairs = sorted({p for r in rows for p in r[3]})
    main_pairs = sorted({p for r in main_rows for p in r[3]})
    new_pairs = sorted({p for r in new_rows for p in r[3]})
    res: dict[str, object] = {
        "papers": len(rows),
        "added": args.add,
        "queries": args.queries,
        "read_s": round(load_s, 1),
    }

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # full rebuild of everything
        full = BM25Index()
        ids, texts, years, _ = columns(rows, "corpus")
        sources = {"corpus": list(range(len(main_rows))), "new": list(range(len(main_rows), len(rows)))}
        build_s, _ = timed(full.build, ids, texts, years, sources)
        acr_s, acronyms = timed(lambda: AcronymMap(all_pairs).to_json())
        full.acronyms = acronyms
        save_s, _ = timed(full.save, tmp_path / "full", "g1")
        res["full_rebuild_s"] = round(build_s + acr_s + save_s, 2)
        res["full_rebuild_parts_s"] = {
            "build": round(build_s, 2),
            "acronyms": round(acr_s, 2),
            "save": round(save_s, 2),
        }
        bm25s, snowball = bm25s_module(), stemmer()

        def old_rebuild() -> None:
            retriever = bm25s.BM25(k1=0.9, b=0.4)
            retriever.index(
                bm25s.tokenize(texts, stopwords="en", stemmer=snowball, show_progress=False), show_progress=False
            )
            retriever.save(str(tmp_path / "old"))

        res["bm25s_rebuild_s"] = round(timed(old_rebuild)[0], 2)
        del full

        # the index of all but the last papers, saved; then the increment, timed from loading it
        main_index = BM25Index()
        main_index.build(*columns(main_rows, "corpus"))
        main_index.acronyms = AcronymMap(main_pairs).to_json()
        main_index.save(tmp_path / "inc", "g1")
        del main_index

        def increment() -> BM25Index:
            index = BM25Index.load(tmp_path / "inc")
            index.add(*columns(new_rows, "new"))
            index.acronyms = AcronymMap.merge_json(index.acronyms, new_pairs)
            index.save(tmp_path / "inc", "g2")
            return index

        base = BM25Index.load(tmp_path / "inc")
        res["main_only_query_ms"] = [round(v, 2) for v in latency(base, queries)]
        del base
        inc_s, inc = timed(increment)
        res["add_s"] = round(inc_s, 3)
        res["add_share_of_full_rebuild"] = round(inc_s / res["full_rebuild_s"], 4)
        inc = BM25Index.load(tmp_path / "inc")
        res["main_plus_delta_query_ms"] = [round(v, 2) for v in latency(inc, queries)]

        full = BM25Index.load(tmp_path / "full")
        worst = 0.0
        for q in queries[:30]:
            a = dict(zip(inc.ids, inc.scores(q).tolist(), strict=True))
            b = dict(zip(full.ids, full.scores(q).tolist(), strict=True))
            assert a.keys() == b.keys()
            worst = max(worst, max(abs(a[k] - b[k]) for k in b))
        res["max_score_difference"] = worst
        res["acronyms_equal"] = inc.acronyms == full.acronyms
        del full
        merge_s, _ = timed(lambda: (inc.merge(), inc.save(tmp_path / "inc", "g3")))
        res["merge_s"] = round(merge_s, 2)
        res["merged_query_ms"] = [round(v, 2) for v in latency(BM25Index.load(tmp_path / "inc"), queries)]

    if args.ingest:
        res["through_ingest"] = through_ingest(args.corpus, args.ingest, args.add)
    res["load_avg_during_run"] = round(os.getloadavg()[0], 1)
    res["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    print(json.dumps(res, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    args.out.write_text(report(res))


def ingest_line(r: dict) -> str:
    if "through_ingest" not in r:
        return ""
    t = r["through_ingest"]
    return (
        f"Through a real ingest (`--ingest {t['papers']}`: manifest reads included, hash embeddings): bringing BM25 up"
        f" to date after {t['added']:,} more papers took {t['sync_s']} s (`sync_bm25`), a full `rebuild_bm25` of the"
        f" same {t['papers'] + t['added']:,} papers {t['rebuild_s']} s.\n\n"
    )


def report(r: dict) -> str:
    share = f"**{r['add_share_of_full_rebuild']:.1%}**"
    return f"""# Lexical index: a full rebuild against adding {r["added"]:,} papers

`python eval/bench_lexical.py` on {r["papers"]:,} arXiv abstracts (`arxiv-118k.jsonl.gz`), {r["machine"]}, load
average {r["load_avg_during_run"]} when it finished (a shared machine: timings are noisy, sizes exact). The lexical
part only: one chunk a paper (title twice + abstract), no manifest reads and no vectors.

| | seconds |
| --- | --- |
| full rebuild (build + acronym map + save) | {r["full_rebuild_s"]} ({r["full_rebuild_parts_s"]}) |
| the bm25s-based rebuild it replaces (tokenize + index + save) | {r["bm25s_rebuild_s"]} |
| adding {r["added"]:,} papers (load, delta, merged acronyms, save) | **{r["add_s"]}** ({share} of the rebuild) |
| merging main + delta into one segment (merge + save) | {r["merge_s"]} |

Scores: the incremental index against the full rebuild, every chunk, 30 queries: largest difference
{r["max_score_difference"]:.1e}; acronym maps equal: {r["acronyms_equal"]}.

{ingest_line(r)}Query latency of `scores()` (p50 / p90 ms, {r["queries"]} paper titles as queries):
main only {r["main_only_query_ms"][0]} / {r["main_only_query_ms"][1]};
main + delta {r["main_plus_delta_query_ms"][0]} / {r["main_plus_delta_query_ms"][1]};
after the merge {r["merged_query_ms"][0]} / {r["merged_query_ms"][1]}.
"""


if __name__ == "__main__":
    main()
