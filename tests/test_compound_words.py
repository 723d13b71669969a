"""A compound written apart, hyphenated or as one word is one term: abstracts write "band gap", "band-gap" and
"bandgap", "pre-trained" and "pretrained" (issue 18: hyphen and compound variants)."""

from __future__ import annotations

import pytest

from rag.coverage import question_words
from rag.measures import measure_of
from rag.parts import target_in
from rag.quantities import measure_matches
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.words import joined_pairs, terms


def test_two_words_written_apart_or_hyphenated_hold_the_word_written_as_one() -> None:
    assert terms("bandgap") <= terms("a band gap of 2 eV", join=True) <= terms("a band gap of 2 eV") | {"bandgap"}
    assert terms("bandgap") <= terms("the band-gap", join=True)
    assert terms("pretrained") <= terms("pre-trained models", join=True)
    assert terms("linewidth") <= terms("a line width", join=True)


def test_only_neighbouring_content_words_are_joined() -> None:
    assert [j for j, _, _ in joined_pairs("the band gap, larger than of it")] == ["bandgap"]
    assert joined_pairs("band, gap") == [] and joined_pairs("a 2 eV gap") == []  # punctuation and figures part words
    assert terms("infra red", join=True) - terms("infrared") == {"infra", "red"}  # the parts stay terms


def test_a_measure_asked_in_two_words_matches_a_sentence_writing_it_as_one_and_the_other_way() -> None:
    apart, _ = measure_of(["band", "gap"])
    one, _ = measure_of(["bandgap"])
    joined_sentence = "The monolayer has a bandgap of 2.1 eV."
    apart_sentence = "The monolayer has a band gap of 2.1 eV."
    assert measure_matches(apart, terms(joined_sentence), joined_sentence)
    assert measure_matches(one, terms(apart_sentence), apart_sentence)  # joined only to find it
    assert not measure_matches(one, terms("The monolayer has a gap of 2.1 eV."), "The monolayer has a gap of 2.1 eV.")


def test_question_words_written_apart_are_covered_by_the_source_writing_them_as_one() -> None:
    checker = SufficiencyChecker()
    source = "we report the bandgap of the zinc diselenide monolayer phase"
    coverage, absent = checker.coverage(analyze("What is the band gap of the zinc diselenide monolayer?"), source)
    assert coverage == 1.0 and absent == []
    coverage, absent = checker.coverage(analyze("What is the bandgap of the zinc diselenide monolayer?"), source)
    assert coverage == 1.0
    apart = "we report the band gap of the zinc diselenide monolayer phase"
    assert checker.coverage(analyze("What is the bandgap of the zinc diselenide monolayer?"), apart)[0] == 1.0
    coverage, absent = checker.coverage(analyze("What is the band gap of the zinc telluride monolayer?"), source)
    assert coverage < 1.0 and absent == ["telluride"]


def test_a_hyphenated_question_word_is_not_asked_twice() -> None:
    # the question's words are weighted by rarity: "shortterm", a form no abstract writes, would weigh the most
    assert "shortterm" not in question_words("What short-term stability was reported?")
    assert {"short", "term"} <= set(question_words("What short-term stability was reported?"))


@pytest.mark.parametrize(
    ("target", "sentence"),
    [
        ("for sleep stage classification", "We report accuracy of 85% for classification of sleep stages."),
        ("on image classification", "For classification of images, accuracy was 91%."),
        ("in lung cancer patients", "Among patients with lung cancer, survival was 40%."),
    ],
)
def test_a_part_target_stated_in_another_word_order_is_still_named(target: str, sentence: str) -> None:
    # helper-51: joining every phrase's words made "sleep stage classification" require "stageclassif", and a
    # correct two-part answer came back partial, denying what the abstract says
    assert target_in(target, sentence)
