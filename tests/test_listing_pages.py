"""The four listing-page shapes of the bundled corpus, parsed without a model."""

from __future__ import annotations

import pytest

from rag.corpus.listing_pages import classify, detect_shape, parse_listing
from rag.corpus.records import RawPaper
from tests.conftest import CORPUS


def papers(prefix: str) -> list[RawPaper]:
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    return list(parse_listing(path.read_text(encoding="utf-8"), str(path)))


@pytest.mark.parametrize(
    ("prefix", "shape", "count"),
    [
        ("000", "one-per-line", 11),
        ("001", "pairs", 320),
        ("002", "blocks-with-metadata", 29),
        ("003", "blocks", 71),
    ],
)
def test_each_file_is_detected_and_counted(prefix: str, shape: str, count: int) -> None:
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    assert detect_shape(path.read_text(encoding="utf-8").splitlines()) == shape
    assert len(papers(prefix)) == count


def test_untitled_abstracts_get_a_derived_title_from_the_first_sentence() -> None:
    first = papers("000")[0]
    assert first.title_derived
    assert first.title.startswith("We show the effectiveness of automatic differentiation")
    assert first.abstract.endswith("//github.com/Ali-E/FastClip.")
    assert all(p.title_derived for p in papers("000"))
    assert all(len(p.title.split()) <= 13 for p in papers("000"))


def test_junk_glued_to_the_first_title_is_stripped() -> None:
    first = papers("001")[0]
    assert first.title == "Neural Speech Synthesis with Transformer Network"
    assert first.abstract.startswith("Although end-to-end neural text-to-speech (TTS) methods")
    assert first.line == 3
    assert not first.title_derived


def test_a_question_mark_title_is_not_taken_for_an_abstract() -> None:
    titled = {p.title: p for p in papers("001")}
    title = next(t for t in titled if t.startswith("Attention is All You Need? Good Embeddings"))
    assert titled[title].abstract.startswith("This paper presents a way of doing large scale audio")
    assert not any(p.title_derived for p in papers("001"))


def test_blocks_with_metadata_carry_authors_count_and_date() -> None:
    by_title = {p.title: p for p in papers("002")}
    alexnet = by_title["The History Began from AlexNet: A Comprehensive Survey on Deep Learning Approaches"]
    assert (alexnet.author_count, alexnet.date) == (9, "2018-03-03")
    prior = by_title["All You Need is a Good Functional Prior for Bayesian Deep Learning"]
    assert (prior.author_count, prior.date) == (4, "2020-11-25")
    # the upvote count after a date ("Oct 10, 2024 2") is not part of the date
    kernels = next(p for p in papers("002") if p.abstract.startswith("This paper proposes the paradigm of large"))
    assert kernels.title.startswith("Scaling Up Your Kernels")
    assert kernels.date == "2024-10-10"
    assert all(p.date and p.author_count for p in papers("002"))


def test_blocks_without_metadata_and_a_title_with_no_abstract() -> None:
    found = papers("003")
    assert found[0].title == "N2N Learning: Network to Network Compression via Policy Gradient Reinforcement Learning"
    assert found[0].date is None and found[0].author_count is None
    titles = [p.title for p in found]
    assert "Vector representations of text data in deep learning" in titles  # its abstract follows a blank
    assert all(len(p.abstract) > 200 for p in found)


def test_junk_lines_never_become_papers_or_text() -> None:
    junk = ("Get trending papers", "Subscribe", "byAK", "Daily Papers", "authors", "·")
    for prefix in ("000", "001", "002", "003"):
        for p in papers(prefix):
            assert not p.title.startswith(junk), p.title
            assert "Get trending papers" not in p.abstract
            assert p.title != "new"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("new", "junk"),
        ("Dec 15", "junk"),
        ("  • 9 authors", "authors"),
        ("·", "separator"),
        ("Oct 10, 2024 2", "date"),
        ("Wide Residual Networks", "title"),
    ],
)
def test_line_classification(line: str, kind: str) -> None:
    assert classify(line.strip())[0] == kind
