"""The citation parser and checker on crafted answers over real bundled-corpus passages."""

from __future__ import annotations

import pytest

from rag.citations import UNSUPPORTED, CitationChecker, is_no_answer, parse_numbers, split_answer
from rag.generation.context import Source
from rag.generation.prompts import NO_ANSWER
from rag.types import Hit, Paper

TTS = Paper(
    id="tts",
    title="Neural Speech Synthesis with Transformer Network",
    abstract="We adapt multi-head attention to replace the RNN structures in Tacotron2. "
    "Our Transformer TTS network can speed up the training about 4.25 times faster compared with Tacotron2. "
    "Human tests show the model is very close to human quality (4.39 vs 4.44 in MOS).",
)
WRN = Paper(
    id="wrn",
    title="Wide Residual Networks",
    abstract="Training very deep residual networks has a problem of diminishing feature reuse. "
    "We propose a novel architecture where we decrease depth and increase width of residual networks. "
    "Even a simple 16-layer-deep wide residual network outperforms all previous deep residual networks.",
)
GCN = Paper(
    id="gcn",
    title="Simplifying Graph Convolutional Networks",
    abstract="We reduce excess complexity by removing nonlinearities and collapsing weight matrices. "
    "The resulting linear model corresponds to a fixed low-pass filter followed by a linear classifier.",
)


def sources() -> list[Source]:
    return [
        Source(i + 1, Hit(paper=p, score=1.0, passage=p.abstract), p.abstract) for i, p in enumerate([TTS, WRN, GCN])
    ]


@pytest.mark.parametrize(
    ("inner", "numbers"),
    [("1", [1]), ("1, 3", [1, 3]), ("2-4", [2, 3, 4]), ("1;2", [1, 2]), ("1 and 2", [1, 2])],
)
def test_parse_numbers(inner: str, numbers: list[int]) -> None:
    assert parse_numbers(inner) == numbers


def test_split_answer_handles_merged_and_trailing_markers() -> None:
    parts = split_answer("Widening helps [2][3]. It trains 4.25 times faster. [1] Nothing else [1, 2].")
    assert parts == [("Widening helps.", [2, 3]), ("It trains 4.25 times faster.", [1]), ("Nothing else.", [1, 2])]


def test_a_bare_list_marker_is_not_a_sentence() -> None:
    """A numbered list ("1. X [1]. 2. Y [2].") splits into "1." pieces: neither claims nor text."""
    parts = split_answer("The method has two parts. 1. A binary code selector [1]. 2. A relaxation of it [2].")
    assert [c for c, _ in parts] == ["The method has two parts.", "A binary code selector.", "A relaxation of it."]
    assert [n for _, n in parts] == [[], [1], [2]]


def test_invalid_numbers_are_dropped_and_the_claim_reattributed() -> None:
    checked = CitationChecker().check(
        "The Transformer TTS trains about 4.25 times faster than Tacotron2 [7].", sources()
    )
    assert checked.dropped_numbers == [7]
    assert [c.paper.id for c in checked.citations] == ["tts"]
    assert checked.text == "The Transformer TTS trains about 4.25 times faster than Tacotron2 [1]."
    assert checked.sentences[0].supported


def test_a_claim_cited_to_the_wrong_source_moves_to_the_right_one() -> None:
    answer = "Removing nonlinearities gives a fixed low-pass filter followed by a linear classifier [1]."
    checked = CitationChecker().check(answer, sources())
    assert [c.paper.id for c in checked.citations] == ["gcn"]
    assert checked.citations[0].number == 1  # renumbered by first use
    assert checked.sentences[0].reattributed
    assert "low-pass filter" in checked.citations[0].quote


def test_renumbering_by_first_use_and_only_cited_papers_listed() -> None:
    answer = (
        "Wide residual networks decrease depth and increase width [2]. "
        "The Transformer TTS speeds up training 4.25 times compared with Tacotron2 [1]."
    )
    checked = CitationChecker().check(answer, sources())
    assert [(c.number, c.paper.id) for c in checked.citations] == [(1, "wrn"), (2, "tts")]
    assert checked.text.endswith("compared with Tacotron2 [2].")
    assert "[1]." in checked.text.split(". ")[0] + "."


def test_unsupported_claims_are_marked_and_extra_citations_pruned() -> None:
    answer = (
        "Quantum annealers schedule school timetables better than simulated annealing [1]. "
        "Wide residual networks increase width and decrease depth [2][3]."
    )
    checked = CitationChecker().check(answer, sources())
    first, second = checked.sentences
    assert not first.supported and first.citations == [] and UNSUPPORTED in checked.text
    assert second.supported and [checked.citations[n - 1].paper.id for n in second.citations] == ["wrn"]
    assert checked.support_rate == 1.0  # of the sentences that keep a citation


def test_uncited_claim_gets_the_source_that_supports_it() -> None:
    checked = CitationChecker().check("The linear model is a low-pass filter with a linear classifier.", sources())
    assert [c.paper.id for c in checked.citations] == ["gcn"]
    assert checked.text.endswith("[1].")


def test_every_sentence_is_cited_and_supported_or_marked() -> None:
    answer = "Wide residual networks beat deep ones [2]. Also the moon is made of cheese [1]. Short. [9]"
    checked = CitationChecker().check(answer, sources())
    true_claim, false_claim, short = checked.sentences
    assert true_claim.supported and [checked.citations[n - 1].paper.id for n in true_claim.citations] == ["wrn"]
    assert not false_claim.supported and false_claim.citations == []  # its wrong [1] removed, not moved
    assert "cheese " + UNSUPPORTED + "." in checked.text
    assert short.text == "Short." and short.citations == []  # too short to be a claim: left alone, not marked
    assert not short.claim and not short.supported  # and not counted as a supported claim either
    assert checked.dropped_numbers == [9] and "[9]" not in checked.text  # no source 9: the marker is dropped
    assert (
        checked.text
        == f"Wide residual networks beat deep ones [1]. Also the moon is made of cheese {UNSUPPORTED}. Short."
    )


def test_no_answer_sentence_is_recognised() -> None:
    assert is_no_answer(NO_ANSWER)
    assert is_no_answer("Sorry, the sources do not answer this question.")
    assert not is_no_answer("Wide residual networks are wider [1].")
    assert CitationChecker().check(NO_ANSWER, sources()).citations == []


def test_the_quote_of_a_number_question_is_the_sentence_stating_that_quantity() -> None:
    # both claims copy a source sentence (equal support); the background one shares more words with the question
    answer = (
        "We adapt multi-head attention to replace the RNN structures in Tacotron2 [1]. "
        "Our Transformer TTS network can speed up the training about 4.25 times faster compared with Tacotron2 [1]. "
        "Human tests show the model is very close to human quality (4.39 vs 4.44 in MOS) [1]."
    )
    question = "How much faster is it when multi-head attention is adapted to replace the RNN structures in Tacotron2?"
    checked = CitationChecker(None).check(answer, sources(), question)
    assert [c.paper.id for c in checked.citations] == ["tts"]
    assert "4.25 times faster" in checked.citations[0].quote
    # a question that asks for no number keeps the closest sentence
    other = CitationChecker(None).check(
        answer, sources(), "Which structures in Tacotron2 does multi-head attention replace?"
    )
    assert other.citations[0].quote.startswith("We adapt multi-head attention")


def test_an_uncited_sentence_cut_off_at_the_end_is_dropped() -> None:
    answer = "Our Transformer TTS network can speed up the training about 4.25 times faster [1]. The CDFN algorithm was"
    checked = CitationChecker(None).check(answer, sources(), "How much faster is training?")
    assert "CDFN" not in checked.text
    assert [s.text for s in checked.sentences] == [
        "Our Transformer TTS network can speed up the training about 4.25 times faster."
    ]
    # a finished last sentence is kept (and checked) as before
    finished = CitationChecker(None).check(answer + " used by nobody.", sources(), "How much faster is training?")
    assert "CDFN" in finished.text


@pytest.mark.parametrize("fragment", ["The source:", "In summary:", NO_ANSWER])
def test_an_uncited_fragment_is_never_counted_as_a_supported_claim(fragment: str) -> None:
    """A model once wrote a heading line ('The source:') before its cited claim; the checker counted the heading as a
    supported sentence, so an answer's sentences said 'supported' of something no source was checked against."""
    checked = CitationChecker().check(
        f"{fragment}\nWide residual networks increase width and decrease depth [2].", sources()
    )
    heading, claim = checked.sentences
    assert heading.text == fragment and heading.citations == []
    assert not heading.supported and not heading.claim  # neither supported nor a claim to mark
    assert claim.supported and claim.claim and claim.citations == [1]
    assert checked.text.startswith(fragment) and UNSUPPORTED not in checked.text  # left as written, not marked
    assert [s.text for s in checked.sentences if s.supported] == [claim.text]
