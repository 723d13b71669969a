"""The segmented BM25 index: scores as bm25s on one segment, as a full rebuild after increments, deletions and
merges; filters across segments; a writer killed during a merge leaves the previous or the next generation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, Settings
from rag.corpus.load import bundled_corpus_dir, expand_paths, read_file
from rag.index import ingest
from rag.index.bm25 import BM25Index
from rag.index.tokenizing import bm25s_module, stemmer
from rag.types import FileError

QUERIES = ["graph neural network", "speech robot", "quantum quantum kernel", "the of and", "zzzunknown", "market"]
WORDS = (
    "graph neural network vision speech robot protein quantum language reward sparse kernel tensor market "
    "learning model data method result study attention transformer diffusion policy agent"
).split()


def random_docs(rng: np.random.Generator, start: int, count: int) -> list[tuple[str, str, int, str]]:
    """(id, text, year, source) for made-up chunks; Zipf-like word use so document frequencies vary."""
    weights = 1 / np.arange(1, len(WORDS) + 1)
    docs = []
    for i in range(start, start + count):
        words = rng.choice(WORDS, size=int(rng.integers(0, 40)), p=weights / weights.sum())
        docs.append((f"p{i}:0", " ".join(words), 2015 + int(rng.integers(0, 8)), f"src{i % 3}.jsonl"))
    return docs


def build(index: BM25Index, docs: list[tuple[str, str, int, str]], method: str = "build") -> None:
    sources: dict[str, list[int]] = {}
    for i, (_, _, _, source) in enumerate(docs):
        sources.setdefault(source, []).append(i)
    getattr(index, method)([d[0] for d in docs], [d[1] for d in docs], [d[2] for d in docs], sources)


def by_id(index: BM25Index, values: np.ndarray) -> dict[str, float]:
    assert len(values) == len(index.ids)
    return dict(zip(index.ids, values.tolist(), strict=True))


def assert_same_index(got: BM25Index, want: BM25Index) -> None:
    """Same live chunks, the same score for each to 1e-6, the same filter masks."""
    assert sorted(got.ids) == sorted(want.ids) and len(set(got.ids)) == len(got.ids)
    for query in QUERIES:
        a, b = by_id(got, got.scores(query)), by_id(want, want.scores(query))
        assert all(abs(a[cid] - b[cid]) <= 1e-6 for cid in b), query
        assert query in ("the of and", "zzzunknown") or max(b.values()) > 0
    for kwargs in (
        {"year": (2017, 2019)},
        {"sources": ["src1.jsonl"]},
        {"year": (2020, 2022), "sources": ["src0.jsonl", "src2.jsonl"]},
    ):
        assert by_id(got, got.mask(**kwargs)) == by_id(want, want.mask(**kwargs)), kwargs
    for cid in want.ids[:20]:
        assert got.ids[got.position_of(cid)] == cid
        assert [got.ids[i] for i in got.positions(cid.rsplit(":", 1)[0])] == [cid]


def from_scratch(live: dict[str, tuple[str, str, int, str]]) -> BM25Index:
    index = BM25Index()
    build(index, sorted(live.values()))
    return index


def test_one_segment_scores_as_bm25s_on_the_bundled_corpus() -> None:
    texts = []
    for path in expand_paths([bundled_corpus_dir()]).files:
        texts += [f"{r.title}\n{r.title}\n{r.abstract}" for r in read_file(path) if not isinstance(r, FileError)]
    assert len(texts) > 400
    index = BM25Index(0.9, 0.4)
    index.build([f"d{i}:0" for i in range(len(texts))], texts)
    bm25s, snowball = bm25s_module(), stemmer()
    reference = bm25s.BM25(k1=0.9, b=0.4)  # bm25s defaults to the lucene variant, as the index scores
    reference.index(bm25s.tokenize(texts, stopwords="en", stemmer=snowball, show_progress=False), show_progress=False)
    for query in ["graph neural networks", "speech recognition speech", "large language models reasoning", "protein"]:
        want = reference.get_scores(index.query_terms(query))
        got = index.scores(query)
        assert want.max() > 0
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * want.max())


def test_increments_deletions_and_a_merge_score_as_a_full_rebuild(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    docs = random_docs(rng, 0, 300)
    live = {d[0]: d for d in docs}
    index = BM25Index()
    build(index, docs)
    for step in range(4):
        new = random_docs(rng, 1000 + 100 * step, 40)
        gone = [cid for cid in rng.choice(sorted(live), 15, replace=False)]
        changed = [(cid, text + " quantum", year, source) for cid, text, year, source in random_docs(rng, 0, 5)]
        changed = [(live[c[0]][0], *c[1:]) for c in changed if c[0] in live]
        assert index.delete(gone + [c[0] for c in changed] + ["never-indexed:0"]) == len(
            set(gone) | {c[0] for c in changed}
        )
        for cid in gone:
            del live[cid]
        build(index, new + changed, "add")
        live |= {d[0]: d for d in new + changed}
        assert len(index.segments) == step + 2
        assert_same_index(index, from_scratch(live))
        index.save(tmp_path / "bm25", f"g{step}")
        index = BM25Index.load(tmp_path / "bm25")  # tombstones and segments survive a reload
        assert_same_index(index, from_scratch(live))
    assert index.needs_merge()
    index.merge()
    assert len(index.segments) == 1 and not index.dead
    assert_same_index(index, from_scratch(live))
    index.save(tmp_path / "bm25", "g9")
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == sorted(["CURRENT", "g9", index.segments[0].name])
    assert_same_index(BM25Index.load(tmp_path / "bm25"), from_scratch(live))


def test_filters_work_across_segments() -> None:
    index = BM25Index()
    index.build(["a:0", "b:0", "c:0"], ["graph one", "graph two", "graph three"], [2019, 2019, 2020], {"s1": [0, 1, 2]})
    index.add(["d:0", "e:0"], ["graph four", "graph five"], [2021, 2019], {"s2": [0], "s1": [1]})
    index.delete(["b:0", "d:0"])
    index.add(["d:0"], ["graph four again"], [2022], {"s1": [0]})

    def kept(**kwargs: object) -> set[str]:
        return {cid for cid, keep in zip(index.ids, index.mask(**kwargs), strict=True) if keep}

    assert kept(year=(2019, 2019)) == {"a:0", "e:0"}
    assert kept(year=(2021, 2022)) == {"d:0"}
    assert kept(sources=["s1"]) == {"a:0", "c:0", "e:0", "d:0"}
    assert kept(sources=["s2"]) == set()  # its only chunk was deleted (and re-added from s1)
    assert kept(year=(2019, 2020), sources=["s1"]) == {"a:0", "c:0", "e:0"}
    assert by_id(index, index.scores("four"))["d:0"] > 0 and "b:0" not in index.ids
    index.add(["a:0"], ["graph one replaced"], [2023], {"s2": [0]})  # an indexed chunk added again replaces it
    assert index.ids.count("a:0") == 1 and kept(sources=["s2"]) == {"a:0"} and kept(year=(2019, 2019)) == {"e:0"}


CHILD = """
import json, os, signal, sys
import numpy as np
from rag.index import bm25, segment
spec = json.loads(open(sys.argv[1]).read())
folder = __import__("pathlib").Path(sys.argv[2])
def docs(rows):
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], {"src0.jsonl": list(range(len(rows)))}
index = bm25.BM25Index()
index.build(*docs(spec["before"]))
index.add(*docs(spec["delta"]))
index.save(folder, "gbefore")
point, nth, calls = spec["kill_at"], spec["nth"], [0]
def killing(fn):
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if point.startswith("after") and calls[0] == nth:
            out = fn(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return wrapper
if point.endswith("write"):
    bm25.np.save = segment.np.save = killing(np.save)
else:  # the pointer flip (os.replace: the segment's own rename is call 1)
    bm25.os.replace = segment.os.replace = killing(os.replace)
index.delete(spec["gone"])
index.add(*docs(spec["after"]))
index.merge()
index.save(folder, "gafter")
print("not killed")
"""


@pytest.mark.parametrize(
    ("kill_at", "nth", "expect"),
    [("write", 2, "before"), ("write", 5, "before"), ("rename", 2, "before"), ("after-rename", 2, "after")],
    ids=["mid-segment", "segment-written", "before-pointer-flip", "after-pointer-flip"],
)
def test_sigkill_during_a_merge_leaves_the_previous_or_the_next_generation(
    kill_at: str, nth: int, expect: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(11)
    before, delta, after = random_docs(rng, 0, 200), random_docs(rng, 200, 30), random_docs(rng, 500, 40)
    gone = [d[0] for d in before[:25]]
    spec = {"before": before, "delta": delta, "after": after, "gone": gone, "kill_at": kill_at, "nth": nth}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(tmp_path / "spec.json"), str(tmp_path / "bm25")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stdout + child.stderr  # really killed at that point
    loaded = BM25Index.load(tmp_path / "bm25")
    src = [(cid, text, year, "src0.jsonl") for cid, text, year, _ in before + delta]
    if expect == "before":
        assert loaded.generation == "gbefore" and len(loaded.segments) == 2
        live = {d[0]: d for d in src}
    else:
        assert loaded.generation == "gafter" and len(loaded.segments) == 1
        live = {d[0]: d for d in src if d[0] not in gone}
        live |= {d[0]: (d[0], d[1], d[2], "src0.jsonl") for d in after}
    want = from_scratch(live)
    assert sorted(loaded.ids) == sorted(want.ids)
    for query in QUERIES:
        a, b = by_id(loaded, loaded.scores(query)), by_id(want, want.scores(query))
        assert all(abs(a[cid] - b[cid]) <= 1e-6 for cid in b)
    loaded.add(["z:0"], ["graph"], [2020], {})  # the next writer saves over what the killed one left
    loaded.save(tmp_path / "bm25", "gnext")
    left = {p.name for p in (tmp_path / "bm25").iterdir()}
    assert left == {"CURRENT", "gnext", *(s.name for s in loaded.segments)}


def papers(path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "title": t, "abstract": a, "year": y}) + "\n" for i, t, a, y in rows))
    return path


def test_ingests_add_delta_segments_merge_past_the_ratio_and_score_as_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)

    def rows(prefix: str, n: int) -> list[tuple[str, str, str, int]]:
        return [
            (f"{prefix}{i}", f"Study of {rng.choice(WORDS)} {i}", " ".join(rng.choice(WORDS, 30)) + ".", 2016 + i % 8)
            for i in range(n)
        ]

    def assert_as_rebuilt(incremental: BM25Index) -> None:
        scratch = a._ingestor()
        scratch.bm25_dir = tmp_path / "scratch"  # a full rebuild beside the live index
        rebuilt = scratch.rebuild_bm25()
        assert sorted(incremental.ids) == sorted(rebuilt.ids)
        for query in ["gated recurrent units", "long short-term memory", "speech graph", "study"]:
            x, y = by_id(incremental, incremental.scores(query)), by_id(rebuilt, rebuilt.scores(query))
            assert all(abs(x[cid] - y[cid]) <= 1e-6 for cid in y), query
        for kwargs in ({"year": (2019, 2021)}, {"sources": [str(tmp_path / "two.jsonl")]}):
            assert by_id(incremental, incremental.mask(**kwargs)) == by_id(rebuilt, rebuilt.mask(**kwargs))
        assert incremental.acronyms == rebuilt.acronyms

    first, second, third = rows("a", 300), rows("b", 20), rows("c", 25)
    first[0] = (first[0][0], first[0][1], "We use long short-term memory (LSTM) networks for speech.", 2020)
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    a.ingest([papers(tmp_path / "one.jsonl", first)], progress=False)
    main = a._get_bm25().segments[0].name

    def no_rebuild(self: ingest.Ingestor) -> None:
        raise AssertionError("an increment rebuilt the whole BM25 index")

    monkeypatch.setattr(ingest.Ingestor, "rebuild_bm25", no_rebuild)
    a.ingest([papers(tmp_path / "two.jsonl", second)], progress=False)
    index = BM25Index.load(a.settings.bm25_dir)
    assert index.segments[0].name == main and len(index.segments) == 2 and len(index.ids) == 320
    # the first file edited: one paper's text changed (and its acronym with it), one paper gone
    first[0] = (first[0][0], first[0][1], "We use gated recurrent units (GRU) for speech.", 2020)
    papers(tmp_path / "one.jsonl", first[:-1])
    a.ingest([tmp_path / "one.jsonl"], progress=False)
    assert not a.manifest.lexical_dirty() and a.manifest.lexical_pending() == []
    incremental = BM25Index.load(a.settings.bm25_dir)
    assert incremental.dead and len(incremental.ids) == 319 and incremental.segments[0].name == main
    assert len(incremental.segments) == 3 and by_id(incremental, incremental.mask(year=(2020, 2020)))["a0:0"]
    assert "GRU" in incremental.acronyms and "LSTM" not in incremental.acronyms
    monkeypatch.undo()
    assert_as_rebuilt(incremental)
    monkeypatch.setattr(ingest.Ingestor, "rebuild_bm25", no_rebuild)
    a.ingest([papers(tmp_path / "three.jsonl", third)], progress=False)  # deltas and tombstones pass 10% of 300
    merged = BM25Index.load(a.settings.bm25_dir)
    assert len(merged.segments) == 1 and not merged.dead and len(merged.ids) == 344
    monkeypatch.undo()
    assert_as_rebuilt(merged)
    a.close()


def test_an_index_saved_by_bm25s_is_read_then_rebuilt_by_the_next_ingest(tmp_path: Path) -> None:
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    a.ingest(
        [papers(tmp_path / "one.jsonl", [("x1", "Quantum kernels", "We study quantum kernels.", 2020)])], progress=False
    )
    folder = a.settings.bm25_dir
    bm25s = bm25s_module()
    legacy = bm25s.BM25(k1=0.9, b=0.4)  # the layout the bm25s-based versions saved
    legacy.index(
        bm25s.tokenize(
            ["Quantum kernels\nQuantum kernels\nWe study quantum kernels."],
            stopwords="en",
            stemmer=stemmer(),
            show_progress=False,
        ),
        show_progress=False,
    )
    (folder / "gold").mkdir()
    legacy.save(str(folder / "gold" / "index"))
    (folder / "gold" / "ids.json").write_text(json.dumps(["x1:0"]))
    (folder / "CURRENT").write_text("gold")
    a.manifest.set_meta("bm25_params", "k1=0.9,b=0.4,title=2")
    old = BM25Index.load(folder)
    assert not old.segmented and old.ids == ["x1:0"] and old.scores("quantum")[0] > 0
    assert not old.plain_digits  # queried as bm25s wrote it: "gdyh₅", not "gdyh5"
    a.ingest([], progress=False)
    new = BM25Index.load(folder)
    assert new.segmented and new.generation != "gold" and new.ids == ["x1:0"]
    assert new.scores("quantum")[0] == pytest.approx(old.scores("quantum")[0], rel=1e-5)
    a.close()


def test_an_increment_saved_but_not_marked_done_is_redone_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    rows = [
        (f"q{i}", f"Paper {i} on {WORDS[i % 9]}", f"We study {WORDS[i % 7]} and {WORDS[i % 5]} in setting {i}.", 2020)
        for i in range(60)
    ]
    a.ingest([papers(tmp_path / "one.jsonl", rows)], progress=False)
    cleared = a.manifest.clear_lexical

    def crash(*args: object) -> None:  # the new generation is saved; the process dies before the marks go
        raise OSError("killed")

    monkeypatch.setattr(a.manifest, "clear_lexical", crash)
    a.ingest(
        [papers(tmp_path / "two.jsonl", [("r1", "Graph kernels", "We study graph kernels.", 2021)])], progress=False
    )
    assert a.manifest.lexical_pending() == ["r1"] and "r1:0" in BM25Index.load(a.settings.bm25_dir).ids
    monkeypatch.setattr(a.manifest, "clear_lexical", cleared)
    a.ingest([], progress=False)  # redoes the pending paper: tombstone + delta, no second copy
    index = BM25Index.load(a.settings.bm25_dir)
    assert a.manifest.lexical_pending() == [] and sorted(index.ids) == sorted(set(index.ids)) and len(index.ids) == 61
    assert index.ids[int(np.argmax(index.scores("graph kernels")))] == "r1:0"
    a.close()


def test_the_vocabulary_answers_prefix_questions_across_segments(tmp_path: Path) -> None:
    """`has_prefix` (an abbreviation such as "params" of a word the index holds) sees every segment's terms."""
    index = BM25Index()
    index.build(["a:0"], ["Counting model parameters in transformers"])
    index.add(["b:0"], ["Criteria for evaluation"])
    assert index.has_prefix("param") and index.has_prefix("criteria"[:6])
    assert not index.has_prefix("criteo") and not index.has_prefix("psnr")
    index.save(tmp_path, "g1")
    assert BM25Index.load(tmp_path).has_prefix("param")


def test_the_vocabulary_knows_a_one_edit_typo_of_an_indexed_word_across_segments(tmp_path: Path) -> None:
    """`has_typo_of`: one edit of the word as written makes a word whose stem some segment holds ("pretrainig" for
    "pretraining", indexed as "pretrain"); a made-up name two edits from an indexed stem is no typo."""
    index = BM25Index()
    index.build(["a:0"], ["Large-scale pretraining of vision models"])
    index.add(["b:0"], ["A halogen lamp controller trained by policy gradients"])
    assert index.has_typo_of("pretrainig") and index.has_typo_of("gradeints") and index.has_typo_of("controler")
    assert not index.has_typo_of("halonex")  # two edits from the indexed "halogen"
    assert not index.has_typo_of("criteo") and not index.has_typo_of("okwugbe")
    index.save(tmp_path, "g1")
    assert BM25Index.load(tmp_path).has_typo_of("pretrainig")


def test_subscript_digits_are_indexed_and_queried_as_plain_digits_and_superscripts_are_not() -> None:
    """An abstract's "GdYH₅" is found by "GdYH5" as typed, and the other way round; a power is no digit of a name:
    "10⁵ cycles" is not found by "105", "in m²" not by "m2" (a muscarinic receptor)."""
    index = BM25Index()
    texts = ["Superconductivity of GdYH₅ at 157 GPa", "Films of La3Ni2O7", "After 10⁵ cycles in m²", "Apartment 105"]
    index.build(["a:0", "b:0", "c:0", "d:0"], texts)
    for query, hit in (("GdYH5", "a:0"), ("gdyh₅", "a:0"), ("La₃Ni₂O₇", "b:0"), ("105", "d:0")):
        scores = index.scores(query)
        assert index.ids[int(scores.argmax())] == hit and scores.max() > 0, query
        assert sorted(scores)[-2] == 0, query  # no other text holds it
    assert index.scores("GdYH7").max() == 0 and index.scores("m2").max() == 0


def test_an_index_saved_before_plain_digits_is_rebuilt_by_the_next_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index saved by format 2 (which kept "gdyh₅" as its own term) is queried as it was written, then rebuilt
    from the stored chunks by the next ingest, with no file named, and finds the formula typed with plain digits."""
    import rag.index.bm25 as bm25_module
    import rag.index.lexical as lexical_module
    import rag.index.tokenizing as tokenizing_module

    monkeypatch.setattr(tokenizing_module, "plain", list)
    monkeypatch.setattr(bm25_module, "FORMAT", 2)
    monkeypatch.setattr(lexical_module, "BM25_FORMAT", 2)
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    a.ingest([papers(tmp_path / "one.jsonl", [("h1", "Hydrides", "Tc of GdYH₅ at 157 GPa.", 2025)])], progress=False)
    monkeypatch.undo()
    old = BM25Index.load(a.settings.bm25_dir)  # read by today's code: queried as it was written until rebuilt
    assert old.scores("GdYH₅").max() > 0 and old.scores("GdYH5").max() == 0
    a.ingest([], progress=False)
    new = BM25Index.load(a.settings.bm25_dir)
    assert new.generation != old.generation
    assert new.scores("GdYH5").max() > 0 and new.scores("GdYH₅").max() > 0
    a.close()


def test_an_older_index_under_today_s_parameters_is_rebuilt_not_extended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer of the older format killed after publishing its index but before noting its parameters leaves
    today's parameters beside format-2 files: the next ingest rebuilds them (as the files say), rather than adding
    plain-digit segments to them (helper-90)."""
    import rag.index.bm25 as bm25_module
    import rag.index.lexical as lexical_module
    import rag.index.tokenizing as tokenizing_module

    monkeypatch.setattr(tokenizing_module, "plain", list)
    monkeypatch.setattr(bm25_module, "FORMAT", 2)
    monkeypatch.setattr(lexical_module, "BM25_FORMAT", 2)
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    a.ingest([papers(tmp_path / "one.jsonl", [("h1", "Hydrides", "Tc of GdYH₅ at 157 GPa.", 2025)])], progress=False)
    params = a.manifest.get_meta("bm25_params")
    monkeypatch.undo()
    a.manifest.set_meta("bm25_params", params.replace("lexical=2", "lexical=3"))
    a.ingest([papers(tmp_path / "two.jsonl", [("k1", "Kernels", "Kernels for La₂CuO₄.", 2025)])], progress=False)
    index = BM25Index.load(a.settings.bm25_dir)
    assert index.plain_digits and index.scores("GdYH5").max() > 0 and index.scores("La2CuO4").max() > 0
    a.close()
