"""A tired person's typo ("netwoks") is read as the word the index holds, for both retrievers; a name no abstract
holds is left as written (so the sufficiency check can still say no abstract mentions it)."""

from __future__ import annotations

from pathlib import Path

from rag.index.bm25 import BM25Index
from rag.retrieval import spelled
from tests.fakes import fake_assistant, write_jsonl


def index_of(*texts: str) -> BM25Index:
    index = BM25Index()
    index.build([f"p{i}:0" for i in range(len(texts))], list(texts))
    return index


def test_a_one_edit_typo_of_an_indexed_ordinary_word_is_read_as_that_word() -> None:
    index = index_of("End-to-end memory networks answer questions over passages", "Bird songs from recordings")
    assert spelled("what datasets did end to end memory netwoks use", index).endswith("memory networks use")
    assert spelled("how many pasages were pruned", index) == "how many passages were pruned"


def test_names_words_the_index_holds_and_typos_of_words_it_lacks_are_left_as_written() -> None:
    index = index_of("End-to-end memory networks answer questions over passages")
    assert spelled("auc of autoint on criteo", index) == "auc of autoint on criteo"  # no such ordinary word
    assert spelled("memory networks", index) == "memory networks"
    assert spelled("tiny birdz", index) == "tiny birdz"  # "birds" is not indexed: nothing to read it as
    assert spelled("anything", BM25Index()) == "anything"  # an empty index changes nothing


def test_search_finds_the_paper_a_typo_names(tmp_path: Path) -> None:
    papers = [
        {"id": "mem", "title": "Memory networks", "abstract": "Recurrent attention over a large external memory."},
        {"id": "seq", "title": "Sequence learning", "abstract": "Sequence to sequence learning with deep networks."},
    ]
    a = fake_assistant(tmp_path / "data")
    a.ingest([write_jsonl(tmp_path / "p.jsonl", papers)], progress=False)
    hits = a.search("extrnal", k=2, mode="bm25")  # no indexed word without the fix
    assert hits and hits[0].paper.id == "mem"
    a.close()
