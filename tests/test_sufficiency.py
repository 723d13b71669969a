"""Sufficiency rules and question analysis, with small hand-made papers and a fake term index (no model)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from rag.acronyms import AcronymMap
from rag.coverage import MAX_VOCABULARY
from rag.generation.context import Source
from rag.generation.extractive import ExtractiveAnswerer, holds_fact
from rag.index.embedders import Embedder, HashEmbedder
from rag.names import name_in, names_in
from rag.quantities import measured_quantities, quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.support import SentenceEmbeddings, sentences_of
from rag.types import Hit, Paper
from rag.words import terms

SEQ2SEQ = Paper(
    id="p1",
    title="Sequence to Sequence Learning with Neural Networks",
    abstract="We present a general end-to-end approach to sequence learning with a multilayered LSTM. "
    "On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8. "
    "The LSTM also learned sensible phrase and sentence representations.",
)
UNET = Paper(
    id="p2",
    title="U-Net: Convolutional Networks for Biomedical Image Segmentation",
    abstract="We present a network trained end-to-end from very few images. "
    "Segmentation of a 512x512 image takes less than a second on a recent GPU.",
)
DIARIZATION = Paper(
    id="p3",
    title="End-to-End Speaker Diarization with Attractors",
    abstract="We propose an end-to-end speaker diarization method with encoder-decoder attractors, "
    "which handles an unknown number of speakers, and report a 15.29 % DER on CALLHOME.",
)


class FakeTerms:
    """Document counts from a fixed word list (stands in for the BM25 index)."""

    def __init__(self, known: dict[str, int], size: int = 400) -> None:
        self.known, self.size = known, size

    def count(self, text: str) -> int:
        return max((n for w, n in self.known.items() if w in text.lower()), default=0)


CORPUS = FakeTerms(
    {"gpu": 12, "lstm": 30, "bleu": 9, "imagenet": 40, "translat": 20, "wmt": 3, "tokeniz": 2, "prun": 4}
)


def checker(**kw: float) -> SufficiencyChecker:
    return SufficiencyChecker(CORPUS, partial_coverage=kw.get("partial", 0.0), abstain_coverage=kw.get("abstain", 0.0))


# --- question analysis ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How many GPUs were used to train the LSTM?", "number"),
        ("Which BLEU score did the LSTM reach on WMT'14?", "number"),
        ("What top-5 error does the ensemble reach?", "number"),
        ("How long does U-Net take to segment an image?", "number"),
        ("Which papers study speaker diarization?", "list"),
        ("What is the feature matching network built on graph neural networks called?", "name"),
        ("Does the LSTM reverse the source sentences?", "yesno"),
        ("Explain how sparse attention reduces memory.", "description"),
    ],
)
def test_question_kind(question: str, asks: str) -> None:
    assert analyze(question).asks == asks


def test_number_question_knows_what_it_measures() -> None:
    q = analyze("How many GPUs were used to train the sequence-to-sequence LSTM?")
    assert "gpu" in q.measure and q.measure_phrase == "GPUs" and not q.duration
    assert analyze("How long did training take?").duration


def test_names_are_acronyms_mixed_tokens_and_inner_capitals_not_the_first_word() -> None:
    assert names_in("What F1 does the Audio Spectrogram Transformer reach on UrbanSound8K?") == [
        "Audio",
        "Spectrogram",
        "Transformer",
        "UrbanSound8K",
    ]
    assert names_in("Which model does BERT's team use?") == ["BERT"]


def test_quantities_skip_years_list_markers_and_digits_inside_names() -> None:
    text = "In 2015 we trained (1) a 3D ResNet-50 on CIFAR-10 to 34.8 BLEU with 1.2M tracks, 19ms and 47.1%."
    assert quantities(text) == ["34.8", "1.2M", "19ms", "47.1%"]
    # names with a Greek letter or a bracketed index: a grain boundary, a crystal facet, a subunit (numbers_cm dev)
    sample = "A Σ5(210) grain boundary under tensile (+4%) strain, a Cu(111) surface at 4 K and an α2 subunit."
    assert quantities(sample) == ["4%", "4 K"]
    # a figure in brackets after a name stays one (helper-49)
    figures = (
        "Cifar10-DVS(82.40%), LLaMA2(90B), a dataset(10,000 samples), 3x(5x) faster and MIKU-EmoBench(131.2 hours)"
    )
    assert quantities(figures) == ["82.40%", "90B", "10,000", "3x", "5x", "131.2"]


# --- sufficiency rules ----------------------------------------------------------------------


def test_quantity_question_answered_by_a_sentence_with_the_measured_number() -> None:
    q = analyze("Which BLEU score did the LSTM reach on English to French translation?")
    sentence = "On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."
    assert checker().check(q, [sentence], [SEQ2SEQ]).status == "answered"


def test_quantity_question_without_the_measured_number_is_partial_and_says_what_is_missing() -> None:
    q = analyze("How many layers does the LSTM translator stack?")
    sentence = "On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."
    verdict = checker().check(q, [sentence], [SEQ2SEQ])
    assert verdict.status == "partial" and verdict.missing == "give the number of layers"
    assert verdict.reasons == ("no-quantity",)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("LSTM translator English to French delay range ms", "give the figure in ms"),  # the unit alone
        ("LSTM translator English to French decoding latency ms", "report the latency in ms"),
        ("LSTM translator English to French frames per second", "report the frames per second"),
    ],
)
def test_a_keyword_query_for_a_figure_the_answer_lacks_says_which_figure(question: str, missing: str) -> None:
    sentence = "On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."
    verdict = checker().check(analyze(question), [sentence], [SEQ2SEQ])
    assert verdict.status == "partial" and verdict.missing == missing


def test_a_number_phrase_counts_only_what_follows_number_of() -> None:
    q = analyze("What accuracy does the LSTM reach with a reduced number of layers?")
    sentence = "On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."
    assert checker().check(q, [sentence], [SEQ2SEQ]).missing == "report the accuracy"  # not "the number of accuracy"


def test_a_number_the_sources_do_not_hold_does_not_count() -> None:
    q = analyze("What BLEU score does the LSTM reach?")
    invented = "The LSTM reaches a BLEU score of 41.2."
    assert checker().check(q, [invented], [SEQ2SEQ]).status == "partial"


def test_a_number_counts_only_from_a_claim_citing_a_paper_that_names_what_was_asked() -> None:
    other = Paper(
        id="p9",
        title="Convolutional Sequence to Sequence Learning",
        abstract="Our ConvS2S model reaches a BLEU score of 40.5 on WMT'14 English to French translation.",
    )
    q = analyze("Which BLEU score does the LSTM reach on English to French translation?")
    theirs, ours = other.abstract, "The LSTM also learned sensible phrase and sentence representations."
    both = checker().check(q, [theirs, ours], [other, SEQ2SEQ], by_claim=[[other], [SEQ2SEQ]])
    assert both.status == "partial" and both.reasons == ("no-quantity",)  # 40.5 is ConvS2S's, not the LSTM's
    assert checker().check(q, [theirs, ours], [other, SEQ2SEQ]).status == "answered"  # who cites what unknown
    own = SEQ2SEQ.abstract.split(". ")[1]
    assert checker().check(q, [own], [SEQ2SEQ], by_claim=[[SEQ2SEQ]]).status == "answered"


def test_how_long_needs_a_time() -> None:
    q = analyze("How long does U-Net take to segment a 512x512 image?")
    assert checker().check(q, ["Segmentation of a 512x512 image takes less than a second on a recent GPU."], [UNET])
    assert checker().check(q, [UNET.abstract.split(". ")[1]], [UNET]).status == "answered"
    verdict = checker().check(q, ["We present a network trained end-to-end from very few images."], [UNET])
    assert verdict.status == "partial" and "how long" in verdict.missing


def test_name_missing_from_the_cited_abstract_but_indexed_elsewhere_is_partial() -> None:
    q = analyze("How many GPUs were used to train the LSTM translator?")
    verdict = checker().check(q, [SEQ2SEQ.abstract], [SEQ2SEQ])
    assert verdict.status == "partial" and verdict.missing == "mention GPUs"


def test_name_that_no_indexed_abstract_mentions_means_abstain() -> None:
    q = analyze("What F1 does the LSTM reach on UrbanSound8K?")
    verdict = checker().check(q, [SEQ2SEQ.abstract], [SEQ2SEQ])
    assert verdict.status == "abstained" and verdict.missing == "mention UrbanSound8K"
    without_index = SufficiencyChecker(None).check(q, [SEQ2SEQ.abstract], [SEQ2SEQ])
    assert without_index.status == "partial"  # without term statistics it cannot tell "absent everywhere"


def test_list_question_with_cited_papers_is_answered() -> None:
    q = analyze("Which papers work on end-to-end speaker diarization?")
    assert checker().check(q, [DIARIZATION.abstract], [DIARIZATION]).status == "answered"


def test_nothing_cited_is_an_abstention() -> None:
    assert checker().check(analyze("Which papers study diarization?"), [], []).status == "abstained"


def test_low_word_coverage_gives_partial_then_abstain_by_threshold() -> None:
    q = analyze("Explain the tokenizer vocabulary pruning schedule of the LSTM.")
    coverage, absent = checker().coverage(q, SEQ2SEQ.abstract.lower())
    assert 0 < coverage < 0.5 and "tokenizer" in absent
    assert checker(partial=0.5).check(q, [SEQ2SEQ.abstract], [SEQ2SEQ]).status == "partial"
    assert checker(partial=0.9, abstain=0.5).check(q, [SEQ2SEQ.abstract], [SEQ2SEQ]).status == "abstained"
    assert checker().check(q, [SEQ2SEQ.abstract], [SEQ2SEQ]).status == "answered"


class WordVectors(Embedder):
    """Fixed unit vectors per word: 'wider' lies close to 'wide' (cosine 0.64), every other word is orthogonal."""

    dim = 64

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, zlib.crc32(text.encode()) % (self.dim - 1) + 1] = 1.0
            if text in ("wider", "wide"):
                out[row] = 0.0
                out[row, 0], out[row, 1 + (text == "wide")] = 0.8, 0.6
        return out


WIDE = Paper(
    id="p4",
    title="Wide Residual Networks",
    abstract="We decrease depth and increase the wide residual networks' width; they train much faster.",
)


def paraphrase_checker(word_match: float) -> SufficiencyChecker:
    return SufficiencyChecker(
        FakeTerms({"residu": 5, "wider": 2}),  # an indexed word: not taken for a typo of 'wide'
        partial_coverage=0.9,
        embeddings=SentenceEmbeddings(WordVectors()),
        word_match=word_match,
    )


def test_a_paraphrased_question_word_counts_as_covered_when_its_word_vector_is_close() -> None:
    q = analyze("Which residual networks are wider?")
    text = WIDE.abstract.lower()
    exact, absent = paraphrase_checker(2.0).coverage(q, text)
    assert absent == ["wider"] and exact < 0.9
    assert paraphrase_checker(2.0).check(q, [WIDE.abstract], [WIDE]).status == "partial"
    soft, absent = paraphrase_checker(0.6).coverage(q, text)  # 'wide' covers 'wider' at cosine 0.64
    assert soft == 1.0 and absent == []
    assert paraphrase_checker(0.6).check(q, [WIDE.abstract], [WIDE]).status == "answered"
    assert paraphrase_checker(0.7).coverage(q, text)[1] == ["wider"]  # not close enough at 0.7


def test_a_word_close_to_nothing_in_the_sources_stays_missing() -> None:
    q = analyze("Which residual networks are wider on TPUs?")
    coverage, absent = paraphrase_checker(0.6).coverage(q, WIDE.abstract.lower())
    assert absent == ["TPUs"] and coverage < 1.0


def test_word_matching_embeds_a_bounded_vocabulary_for_a_huge_abstract() -> None:
    embedded: list[int] = []

    class Counting(WordVectors):
        def _embed_batch(self, texts: list[str]) -> np.ndarray:
            embedded.append(len(texts))
            return super()._embed_batch(texts)

    junk = " ".join("q" + "".join(chr(97 + int(d)) for d in f"{i:05d}") for i in range(20000))  # 20,000 words
    huge = Paper(id="p5", title="Wide Residual Networks", abstract=f"{junk} Networks can be made wide.")
    check = SufficiencyChecker(FakeTerms({"residu": 5}), embeddings=SentenceEmbeddings(Counting()), word_match=0.6)
    coverage, absent = check.coverage(analyze("Which residual networks are wider?"), huge.abstract.lower())
    assert MAX_VOCABULARY <= sum(embedded) <= MAX_VOCABULARY + 5 and 0 < coverage <= 1.0 and len(absent) <= 1


# --- extractive key facts -------------------------------------------------------------------


def sources(*papers: Paper) -> list[Source]:
    return [
        Source(number=i, hit=Hit(paper=p, score=1.0 - i / 10, passage=p.abstract), text=p.abstract)
        for i, p in enumerate(papers, start=1)
    ]


def test_holds_fact_wants_the_measured_quantity() -> None:
    q = analyze("Which BLEU score did the LSTM reach?")
    assert holds_fact(q, "the LSTM achieves a BLEU score of 34.8.")
    assert not holds_fact(q, "The LSTM also learned sensible phrase and sentence representations.")


def test_extractive_answer_prefers_the_sentence_with_the_asked_number() -> None:
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), fact_weight=0.3)
    text = answerer.answer("What BLEU score does the multilayered LSTM reach?", sources(SEQ2SEQ))
    assert "34.8" in text and "[1]" in text


TTS = Paper(
    id="p6",
    title="Neural Speech Synthesis with Transformer Network",
    abstract="Although end-to-end TTS methods such as Tacotron2 achieve good quality, they still suffer from two "
    "problems in training speed and long dependencies. Our Transformer TTS network trains about 4.25 times faster "
    "than Tacotron2. Listeners rate it close to human quality with 4.39 MOS on 200 sentences.",
)


def test_a_number_answer_states_the_asked_quantity_without_the_background_sentence() -> None:
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), second_sentence=0.0)
    text = answerer.answer("How much faster does the Transformer TTS network train than Tacotron2?", sources(TTS))
    assert "4.25 times faster" in text and "[1]" in text
    assert "two problems" not in text and "4.39" not in text  # quantities, but not of what is asked


def test_a_two_part_question_keeps_the_sentences_for_its_second_part() -> None:
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), second_sentence=0.0)
    question = "How much faster does the Transformer TTS network train than Tacotron2, and what MOS does it get?"
    text = answerer.answer(question, sources(TTS))
    assert "4.25 times faster" in text and "4.39" in text


def test_list_answer_gives_one_short_cited_clause_per_paper() -> None:
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), clause_words=10, other_paper=0.1)
    text = answerer.answer("Which papers present end-to-end networks?", sources(SEQ2SEQ, UNET))
    assert text.count("[1]") == 1 and text.count("[2]") == 1
    for paper in (SEQ2SEQ, UNET):
        clause = text.split(f"{paper.title}: ", 1)[1].split("[", 1)[0]
        assert 0 < len(clause.split()) <= 10


# --- paraphrase-proof reading (found by a held-out red-team set) ----------------------------


def test_a_number_glued_to_times_and_a_compound_written_apart_are_read() -> None:
    assert quantities("it speeds the search up by at least 180times") == ["180times"]
    assert "dataset" in terms("evaluated on 32 data sets") and "dataset" in terms("on 32 datasets")
    q = analyze("On how many data sets was the anomaly detector evaluated?")
    sentence = "We evaluate it on 32 datasets from three collections."
    paper = Paper(id="p7", title="Anomaly detection", abstract=sentence)
    assert checker().check(q, [sentence], [paper]).status == "answered"


def test_a_lower_case_tail_does_not_make_a_hyphenated_word_a_name() -> None:
    assert names_in("How fast is training when LLM-generated explanations are used?") == ["LLM"]
    assert names_in("Does Wave-U-Net beat ResNet-50 and BERT-base?") == ["Wave-U-Net", "ResNet-50", "BERT"]


def test_a_metric_named_by_its_acronym_makes_a_number_question() -> None:
    q = analyze("What SDR in decibels does Wave-U-Net obtain for singing voice separation?")
    assert q.wants_number and q.measure == ("sdr",)
    assert not analyze("Which CNN reached the best result?").wants_number  # no "does ... score": a name
    assert not analyze("What GAN architecture does StyleGAN use?").wants_number


CSP = Paper(
    id="p8",
    title="CSPNet",
    abstract="CSPNet reduces computations by 20% while it outperforms the state of the art on MS COCO object "
    "detection in terms of AP50. A larger CSPNet reaches an AP50 of 64.2 on MS COCO.",
)


def test_the_quantity_must_stand_near_the_word_naming_what_is_measured() -> None:
    q = analyze("What AP50 does CSPNet score on MS COCO?")
    far = "CSPNet cuts computations to 80% while it outperforms the state of the art on MS COCO object detection in "
    far += "terms of AP50."  # (not "by 20%": a change states no AP50 at any window)
    cut = Paper(id="p8", title="CSPNet", abstract=far)
    window = SufficiencyChecker(CORPUS, measure_window=8)
    assert window.check(q, [far], [cut]).status == "partial"  # 80% is about computation, not AP50
    assert SufficiencyChecker(CORPUS, measure_window=1000).check(q, [far], [cut]).status == "answered"
    assert window.check(q, ["A larger CSPNet reaches an AP50 of 64.2 on MS COCO."], [CSP]).status == "answered"
    assert measured_quantities(("faster",), "achieving a 2.88 times improvement in training speed", 8) == ["2.88 times"]


def test_a_comparative_question_says_how_much_is_missing() -> None:
    q = analyze("How much faster does the multilayered LSTM translate?")
    verdict = checker().check(q, [SEQ2SEQ.abstract], [SEQ2SEQ])
    assert verdict.status == "partial" and verdict.missing == "say how much faster"


MEMNET = Paper(
    id="p9",
    title="End-To-End Memory Networks",
    abstract="We introduce a recurrent attention model over a memory for language modeling. "
    "On the Penn Treebank it performs comparably to LSTMs.",
)
NAS = Paper(
    id="p10",
    title="Neural Architecture Search",
    abstract="Our searched cell reaches a test perplexity of 62.4 on the Penn Treebank.",
)


def test_a_question_about_the_clearly_top_paper_is_answered_from_it_alone() -> None:
    """A neighbour's sentence with the asked kind of number would answer about another system."""
    question = "What perplexity does the memory network reach on the Penn Treebank?"
    ranked = [
        Source(number=1, hit=Hit(paper=MEMNET, score=0.9, passage=MEMNET.abstract), text=MEMNET.abstract),
        Source(number=2, hit=Hit(paper=NAS, score=0.6, passage=NAS.abstract), text=NAS.abstract),
    ]
    embeddings = SentenceEmbeddings(HashEmbedder())
    anchored = ExtractiveAnswerer(embeddings, anchor_margin=1.1).answer(question, ranked)
    assert "[1]" in anchored and "[2]" not in anchored and "62.4" not in anchored
    free = ExtractiveAnswerer(embeddings, anchor_margin=100.0, fact_weight=0.5).answer(question, ranked)
    assert "62.4 [2]" in free or "62.4 on the Penn Treebank [2]" in free
    near_tie = [ranked[0], Source(number=2, hit=Hit(paper=NAS, score=0.85, passage=NAS.abstract), text=NAS.abstract)]
    assert "[2]" in ExtractiveAnswerer(embeddings, anchor_margin=1.1, fact_weight=0.5).answer(question, near_tie)


def test_an_acronym_is_found_by_its_expansion() -> None:
    text = "we train message-passing graph neural networks on relational tables"
    assert name_in("GNNs", text) and name_in("GNN", text)
    assert not name_in("FFN", "feed forward layers hold most parameters")
    assert not name_in("BERT", "a bidirectional encoder")  # four letters, two words: no expansion


def test_a_setting_number_the_abstract_does_not_hold_makes_the_answer_partial() -> None:
    diffusion = Paper(
        id="p11",
        title="Multi-Resolution Diffusion",
        abstract="Our models set new state-of-the-art FID scores of 1.70 on ImageNet 256 x 256 and 2.89 on "
        "ImageNet 512 x 512.",
    )
    q = analyze("What FID does the multi-resolution diffusion model reach on ImageNet at 128 x 128?")
    verdict = SufficiencyChecker(CORPUS).check(q, [diffusion.abstract], [diffusion])
    assert verdict.status == "partial" and verdict.missing == "mention 128"
    q = analyze("What FID does the multi-resolution diffusion model reach on ImageNet at 256 x 256?")
    assert SufficiencyChecker(CORPUS).check(q, [diffusion.abstract], [diffusion]).status == "answered"


def test_ratios_answer_comparatives_and_punctuation_or_spacing_do_not_hide_a_quantity() -> None:
    assert measured_quantities(("bigger",), "it generalizes to graphs up to 500% larger than training ones.", 8) == [
        "500%"
    ]
    assert measured_quantities(("factor",), "reducing the viewed training samples up to 195x.", 8) == ["195x"]
    assert measured_quantities(("dataset",), "We tested the method on 18 different data sets.", 8) == ["18"]
    assert measured_quantities(("bigger",), "It uses 12 layers and a larger vocabulary.", 8) == []


def test_a_measure_phrase_leaves_out_a_rate_denominator_and_answers_to_its_initials() -> None:
    per_class = analyze("How many training examples per class are needed?").measure
    assert {"exampl", "train"} <= set(per_class) and not {"class", "per"} & set(per_class)
    q = analyze("What word error rate does the recogniser get on LibriSpeech?")
    assert "wer" in q.measure
    assert measured_quantities(q.measure, "It reaches 2.1% WER on the clean test set.", 8) == ["2.1%"]
    hazard = analyze("What hazard ratio for cardiovascular events was linked to higher TMAO?")  # two words: HR
    stated = "TMAO raised the risk of CVEs (HR = 1.23, 95% CI 1.07-1.42)."
    assert measured_quantities(hazard.measure, stated, 4)[0] == "1.23"
    assert "or" not in analyze("What odds ratio was found?").measure  # initials that make a word: not a measure
    counted = analyze("How many training examples are needed?").measure  # counted, no initials
    assert {"exampl", "train"} <= set(counted) and "te" not in counted and "TE" not in counted


def test_a_share_in_words_answers_a_what_fraction_question() -> None:
    assert quantities("it wins on three out of four benchmarks and 3 out of 5 tasks") == [
        "three out of four",
        "3 out of 5",
    ]
    q = analyze("On what fraction of the benchmarks does the skip-gram variant beat the state of the art?")
    paper = Paper(
        id="p12", title="Skip-gram", abstract="It outperforms state-of-the-art models on three out of four benchmarks."
    )
    assert SufficiencyChecker(CORPUS, measure_window=8).check(q, [paper.abstract], [paper]).status == "answered"


def test_a_misspelt_question_word_is_covered_by_the_source_word_one_edit_away() -> None:
    q = analyze("what attractrs does the diarizaton method use for speakers")
    coverage, absent = checker().coverage(q, DIARIZATION.abstract.lower())
    assert coverage == 1.0 and absent == []  # 'attractrs' -> attractors, 'diarizaton' -> diarization
    assert checker(partial=0.9).check(q, [DIARIZATION.abstract], [DIARIZATION]).status == "answered"


def test_a_real_word_one_edit_from_a_source_word_is_not_a_typo() -> None:
    """A word the index knows stays missing however close it is to a source word ('lines' is not 'lanes')."""
    q = analyze("How many lines does the diarization method detect?")
    text = "the diarization method detects lanes."
    knows_lines = SufficiencyChecker(FakeTerms({"lines": 3}), partial_coverage=0.0, abstain_coverage=0.0)
    assert "lines" in knows_lines.coverage(q, text)[1]
    assert "lines" not in checker().coverage(q, text)[1]  # a word no indexed abstract has: taken for a typo


def test_the_checker_and_the_extractive_answerer_default_to_the_settings_defaults() -> None:
    from rag.config import Settings
    from rag.generation.extractive import ExtractiveAnswerer

    s, bare = Settings(), SufficiencyChecker()
    assert (bare.partial_coverage, bare.abstain_coverage, bare.word_match, bare.measure_window) == (
        s.partial_coverage,
        s.abstain_coverage,
        s.word_match,
        s.measure_window,
    )
    extractive = ExtractiveAnswerer(SentenceEmbeddings(WordVectors()))
    assert (extractive.fact_weight, extractive.anchor_margin) == (s.fact_weight, s.anchor_margin)


# --- one analysis whatever the wording ------------------------------------------------------------------------------
WORDINGS = [
    "What word error rate does OkwuGbé reach on Fon?",
    "Tell me the word error rate of OkwuGbé on Fon.",
    "what's the word error rate of OkwuGbé on Fon",
    "I'm working on speech recognition for low-resourced African languages; what word error rate does OkwuGbé "
    "reach on Fon?",
    "OkwuGbé Fon word error rate",
]


@pytest.mark.parametrize("question", WORDINGS)
def test_every_wording_of_a_number_question_is_typed_alike(question: str) -> None:
    q = analyze(question)
    assert q.asks == "number"
    assert {"error", "rate"} <= set(q.measure)
    assert "OkwuGbé" in q.names and "Fon" in q.names


def test_a_preamble_is_context_and_its_names_are_not_asked() -> None:
    q = analyze("I'm reading a CVPR paper about distillation without training; what speed-up does DisWOT claim?")
    assert q.asked == "what speed-up does DisWOT claim?"
    assert q.names == ("DisWOT",) and q.asks == "number"
    assert "CVPR" in q.text  # retrieval still reads the whole text
    # a sentence that merely contains an abbreviation is one clause
    assert analyze("What did Vaswani et al. propose in 2017?").asked == "What did Vaswani et al. propose in 2017?"


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("List the datasets EvolveGCN was evaluated on.", "name"),
        ("Name the benchmarks on which ViT reports results.", "name"),
        ("Tell me which operation SimSiam finds essential.", "name"),
        ("Tell me how many pages the book has.", "number"),
        ("Give me the PSNR NeMF achieves for relighting.", "number"),
        ("Tell me whether BERT uses masked language modelling.", "yesno"),
        ("List papers on speech synthesis.", "list"),
        ("largest ResNet-RS parameter count", "number"),
        ("TAS-Balanced MS MARCO MRR@10", "number"),
        ("EvolveGCN experiment dataset names", "name"),
        ("Wave-U-Net singing voice SDR dB", "number"),  # ending in a unit
        ("MADNet online adaptation frames per second", "number"),
        ("passage quality static pruning percent", "number"),
        ("angiomyolipoma cells rapamycin dose nM", "number"),  # a concentration's unit
        ("number of layers", "description"),  # no topic before it: too short to be a keyword query's tail
        ("interpretable deep learning healthcare ML", "description"),  # "ML", "MM", "MG" are no units
        ("bortezomib relapsed refractory MM", "description"),
        ("thymoma myasthenia gravis MG", "description"),
        ("explainable deep learning healthcare ml", "description"),  # a life-science unit after no measure word
        ("thymectomy outcomes ocular mg", "description"),
        ("semaglutide obesity weekly 2.4 mg", "description"),  # a number before the unit: a setting, not asked
        ("exosome classification review size range nm", "number"),
        ("opposing signals Adam SGD accuracy gap", "number"),  # a metric's change or gap
        ("knowledge distillation translation BLEU drop", "number"),
        ("compositional scene reconstruction advantages", "description"),  # no metric before it
        ("perovskite solar cell temperature effect", "description"),  # an effect is described, not a figure
        ("transformer learning rate change", "description"),
        ("speech synthesis with transformers papers", "description"),
        ("attention models for speech synthesis", "description"),
        ("Tell me the exact ImageNet top-1 accuracy of the best HaloNet model.", "number"),  # modifiers before it
        ("What is the reported final test BLEU of the model?", "number"),
        ("What is the model with the best accuracy?", "name"),  # a preposition: the metric is not what is asked
        ("What is the difference between precision and recall?", "name"),
        ("What is the best noise reduction method?", "name"),  # the metric modifies the noun that ends the phrase
        ("What are the three most common error types in ASR?", "name"),
    ],
)
def test_imperatives_and_keyword_queries_are_read_as_the_question_they_stand_for(question: str, asks: str) -> None:
    assert analyze(question).asks == asks


def test_what_a_rephrased_number_question_measures() -> None:
    assert analyze("Give me the PSNR NeMF achieves for relighting.").measure == ("psnr",)
    assert analyze("largest ResNet-RS parameter count").measure == ("paramet",)
    assert "layer" in analyze("What is the number of layers in BERT?").measure
    assert "gpu" in analyze("What is the minimum number of GPUs?").measure
    assert analyze("Wave-U-Net singing voice SDR dB").measure == ("db", "sdr")
    assert analyze("angiomyolipoma cells rapamycin dose nM").measure_phrase == "dose nM"
    exact = analyze("what is the exact imagenet top-1 accuracy of the best halonet")  # the head noun, not "exact"
    assert exact.measure_phrase == analyze("what is the imagenet top-1 accuracy of halonet").measure_phrase
    assert analyze("MADNet online adaptation frames per second").measure == ("fps", "frame")  # a rate's initials
    assert measured_quantities(("fps", "frame"), "MADNet runs at 40 FPS while adapting.", 4) == ["40 FPS"]


def test_a_headline_case_question_names_only_what_is_written_as_a_name() -> None:
    headline = "What Hazard Ratio For Cardiovascular Events Was Linked To Higher Circulating TMAO In Older Cohorts?"
    assert names_in(headline) == ["TMAO"]
    assert names_in("What Is The Effect Of SARS-CoV-2 On Cytokine Levels In A Meta-Analysis?") == ["SARS-CoV-2"]
    assert names_in("How Does The U-Net Segment Images In The Wave-U-Net Paper?") == ["U-Net", "Wave-U-Net"]
    # a question in sentence case keeps its title-case names, and so does a list of names
    assert names_in("What F1 does the Audio Spectrogram Transformer reach?") == ["Audio", "Spectrogram", "Transformer"]
    assert names_in("Which is faster: Llama, Mistral, Gemma or Qwen?") == ["Llama", "Mistral", "Gemma", "Qwen"]
    assert names_in("papers by Kaiming He, Ross Girshick, Piotr Dollar")[:2] == ["Kaiming", "Ross"]


def test_capitalisation_alone_makes_no_name() -> None:
    assert names_in("Tell me how many pages The Principles of Deep Learning Theory book runs to.") == []
    assert names_in("What does the abstract say about the Thing, the Concept and the Implications?") == []
    assert names_in("How many GPUs trained Mamba?") == ["GPUs", "Mamba"]  # not an ordinary word: a name


def test_a_preamble_neither_lowers_coverage_nor_adds_names_to_check() -> None:
    """The preamble's own words (a venue, the reader's plans) are not what the answer must hold."""
    plain = "What BLEU score does the LSTM achieve on WMT'14 English to French?"
    long = "I'm preparing a NeurIPS reading group and want to reuse results for my thesis; " + plain.lower()
    strict = SufficiencyChecker(CORPUS, partial_coverage=0.8, abstain_coverage=0.3)
    sentence = ["On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."]
    assert strict.check(analyze(plain), sentence, [SEQ2SEQ]).status == "answered"
    assert strict.check(analyze(long), sentence, [SEQ2SEQ]).status == "answered"
    # the same words asked in the question itself are checked
    asked = analyze("What BLEU score does the LSTM achieve on WMT'14 English to French at NeurIPS for my thesis?")
    assert strict.check(asked, sentence, [SEQ2SEQ]).status != "answered"


def test_a_name_written_in_lower_case_that_no_abstract_holds_is_unknown_as_when_capitalised() -> None:
    """Capitalisation does not decide: "criteo" is as unknown to the index as "Criteo"."""
    corpus = FakeTerms({"lstm": 30, "bleu": 9, "translat": 20, "wmt": 3, "sequenc": 40})
    strict = SufficiencyChecker(corpus, partial_coverage=0.2, abstain_coverage=0.1)
    sentence = ["On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."]
    capital = strict.check(analyze("What BLEU score does the LSTM get on Criteo?"), sentence, [SEQ2SEQ])
    lower = strict.check(analyze("what bleu score does the lstm get on criteo"), sentence, [SEQ2SEQ])
    assert capital.status == lower.status == "abstained"
    assert "criteo" in lower.missing.lower()
    # a typo, an abbreviation or an ordinary word is not a name
    for question in (
        "what bleu scroe does the lstm get on english to french",  # a typo of a source word
        "what bleu does the lstm get on the english to french translation",
        "what bleu does the lstm get for english to french transl",  # an abbreviation of a source word
    ):
        assert strict.check(analyze(question), sentence, [SEQ2SEQ]).status == "answered", question


def test_an_ordinary_compound_no_abstract_holds_is_no_unknown_name() -> None:
    """ "overwriting" joins "over" to "writing": an ordinary word in another form, not a name the index lacks."""
    corpus = FakeTerms({"bottleneck": 4, "forget": 9, "task": 40, "key": 20, "valu": 30, "discret": 5})
    checker = SufficiencyChecker(corpus, partial_coverage=0.0, abstain_coverage=0.0)
    paper = Paper(id="k", title="Bottleneck", abstract="A discrete key-value bottleneck stops a new task forgetting.")
    for word in ("overwriting", "finetuning", "underfitting"):
        question = analyze(f"how does the discrete key-value bottleneck stop a new task from {word} the old one")
        assert checker.check(question, [paper.abstract], [paper]).status != "abstained", word
    for name in ("criteo", "catboost", "autoformer", "superglue"):  # names, "-former" models included
        unknown = analyze(f"how does the discrete key-value bottleneck do on {name}")
        assert checker.check(unknown, [paper.abstract], [paper]).status == "abstained", name


class PrefixTerms(FakeTerms):
    """A fake term index that also knows its vocabulary's prefixes."""

    def has_prefix(self, prefix: str) -> bool:
        return any(word.startswith(prefix) for word in self.known)


def test_an_abbreviation_of_an_indexed_word_is_not_an_unknown_name() -> None:
    """'params' abbreviates 'parameters', which the index holds though the cited abstract does not."""
    corpus = PrefixTerms({"lstm": 30, "bleu": 9, "paramet": 12})
    strict = SufficiencyChecker(corpus, partial_coverage=0.0, abstain_coverage=0.0)
    sentence = ["On the WMT'14 English to French translation task the LSTM achieves a BLEU score of 34.8."]
    verdict = strict.check(analyze("how many params does the lstm have"), sentence, [SEQ2SEQ])
    assert verdict.status == "partial" and "params" not in verdict.signals.names_unknown
    unknown = SufficiencyChecker(FakeTerms({"lstm": 30}), partial_coverage=0.0, abstain_coverage=0.0)
    assert unknown.check(analyze("how many params does the lstm have"), sentence, [SEQ2SEQ]).status == "abstained"


USC = Paper(
    id="usc",
    title="An Open-Source Uzbek Speech Corpus",
    abstract="We present an Uzbek speech corpus. Specifically, 18.1% and 17.4% word error rates were achieved on the "
    "validation and test sets, respectively. The best model reaches 93.1% top-5 accuracy on the intent task.",
)


@pytest.mark.parametrize(
    ("question", "status"),
    [
        ("What character error rate did the Uzbek speech recognizer reach?", "partial"),  # a word error rate only
        ("What word error rate did the Uzbek speech recognizer reach?", "answered"),
        ("What top-1 accuracy does the best Uzbek model reach on the intent task?", "partial"),  # top-5 only
        ("What top-5 accuracy does the best Uzbek model reach on the intent task?", "answered"),
    ],
)
def test_another_measure_of_the_same_name_does_not_answer(question: str, status: str) -> None:
    """A sibling measure (word vs character error rate, top-5 vs top-1 accuracy) states another quantity."""
    assert checker().check(analyze(question), sentences_of(USC.abstract), [USC]).status == status


def test_a_rival_measure_is_known_from_the_corpus_acronyms() -> None:
    """For a two-word measure the rivals come from the harvested long forms ("validation error" beside "test
    error"); an adjective before the measure ("a low test error") is no rival, and stating both answers."""
    acronyms = AcronymMap([("VE", "validation error"), ("TE", "test error")])
    rivals = acronyms.rivals("test error")
    assert rivals == {"validation"}
    acronyms.add("TRE", "training errors")  # a pair added later is a rival too (the tail index is made again)
    assert acronyms.rivals("test error") == {"validation", "training"}
    assert measured_quantities(("test", "error"), "It reaches a validation error of 3.1%.", 6, "test", rivals) == []
    assert measured_quantities(("error",), "It reaches a low error of 3.1%.", 6, "test", rivals) == ["3.1%"]
    both = "It reaches a validation error of 3.1% and a test error of 3.4%."
    assert measured_quantities(("test", "error"), both, 6, "test", rivals) == ["3.1%", "3.4%"]


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # no named metric: a degree word or a clause before the measure is no rival measure
        (
            "Give me the minimum training acceleration DisWOT reports for its student architecture search.",
            "DisWOT improves the model in the distillation stage with at least 180times training acceleration.",
        ),
        (
            "Tell me how much CSPNet reduces computation on ImageNet while keeping accuracy.",
            "CSPNet, in our experiments, reduces computations by 20% with equivalent accuracy on ImageNet.",
        ),
        (
            "What mean word error rate did the Uzbek speech recognizer reach?",
            "The Uzbek speech recognizer reached a word error rate of 17.4% on the test set.",
        ),
    ],
)
def test_only_a_named_rival_metric_makes_a_quantity_another_measures(question: str, sentence: str) -> None:
    assert one_sentence_status(question, sentence) == "answered"


def one_sentence_status(question: str, sentence: str) -> str:
    """The verdict on a one-sentence answer quoting a paper whose abstract is that sentence."""
    return checker().check(analyze(question), [sentence], [Paper(id="x", title="A study", abstract=sentence)]).status


VENTILATION = Paper(
    id="v",
    title="Hospital volume and the outcomes of mechanical ventilation",
    abstract="Death was less likely in the highest-volume hospitals (adjusted odds ratio, 0.66; 95 percent "
    "confidence interval, 0.52 to 0.83). Patients were followed for one year after ventilation with a test "
    "error of 3.1%.",
)


@pytest.mark.parametrize(
    ("question", "common", "status"),
    [
        ("What hazard ratio for death was reported for the highest-volume hospitals?", {}, "partial"),
        ("What adjusted odds ratio for death was reported for the highest-volume hospitals?", {}, "answered"),
        ("What odss ratio for death was reported for the highest-volume hospitals?", {}, "answered"),  # a typo
        # a word common in the index sets no metric apart ("test"), a word the abstract writes does
        ("What validation error did the ventilation outcome model reach?", {"validation": 40}, "answered"),
        ("What validation error did the ventilation outcome model reach?", {}, "partial"),
        ("How much lower was mortality in high-volume hospitals, as an odds ratio?", {}, "answered"),
    ],
)
def test_a_named_metric_the_abstract_never_writes_is_not_stated(question: str, common: dict, status: str) -> None:
    """An odds ratio does not state a hazard ratio: a metric's distinctive words must be in the cited abstract."""
    terms_ = FakeTerms({"ventilat": 30, "hospital": 40, "mortal": 30, **common})
    verdict = SufficiencyChecker(terms_).check(analyze(question), sentences_of(VENTILATION.abstract), [VENTILATION])
    assert verdict.status == status, verdict


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (  # the quantity carries its own unit, further than the window from the measure
            "What was the median distance between the RFID reader and the device when incidents occurred?",
            "The median distance between the RFID reader and the medical device in all EMI incidents was 30 cm "
            "(range, 0.1-600 cm).",
        ),
        (  # "hr" is a time unit
            "How long could the repair half-life of the Cas9-induced breaks get?",
            "The repair half-life of the Cas9-induced breaks was as long as 10 hr at some loci.",
        ),
        (  # a percentage states a proportion
            "What proportion of primary tumours carried KRAS mutations?",
            "KRAS mutations were found in 14.7% of primary tumours.",
        ),
        (  # and a change, when a percentage is asked
            "By what percentage does CSPNet reduce computation on ImageNet?",
            "CSPNet reduces computations by 20% with equivalent accuracy on ImageNet.",
        ),
    ],
)
def test_a_quantity_written_with_its_unit_or_as_a_percentage_states_the_measure(question: str, sentence: str) -> None:
    assert one_sentence_status(question, sentence) == "answered"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # a named metric written as its symbol or another form of its word is spoken of
        ("What glass transition temperature does the polymer have?", "The polymer has a Tg of 105 °C."),
        ("What open-circuit voltage does the perovskite cell reach?", "The perovskite cell reaches a Voc of 1.18 V."),
        ("What success rate does the grasping robot reach?", "The grasping robot succeeds in 85% of its trials."),
    ],
)
def test_a_named_metric_written_as_its_symbol_is_spoken_of(question: str, sentence: str) -> None:
    checker_ = SufficiencyChecker(FakeTerms({}), partial_coverage=0.0, abstain_coverage=0.0)
    assert not checker_.measure_unspoken(analyze(question), sentence.lower())


def test_a_change_by_a_percentage_is_no_proportion() -> None:
    sentence = "Pembrolizumab reduced tumour volume by 45% in responding patients."
    assert one_sentence_status("What proportion of patients responded to pembrolizumab?", sentence) == "partial"


def test_a_ratio_of_another_resource_does_not_say_how_much_faster() -> None:
    faster = analyze("How much faster is planning with the implicit model than with the mesh planner?").measure
    assert measured_quantities(faster, "It plans with up to 70x less memory than the mesh planner.", 8) == []
    assert measured_quantities(faster, "It uses 4 times fewer parameters and runs 3 times faster.", 8) == ["3 times"]
    assert measured_quantities(faster, "It needs 5x less time than the mesh planner.", 8) == ["5x"]
    assert measured_quantities(faster, "It is 12x faster and uses 70x less GPU memory.", 8) == ["12x"]
    speedup = analyze("What speedup does the kernel reach?").measure
    assert measured_quantities(speedup, "The kernel needs 3x less memory.", 8) == []
    smaller = analyze("How much smaller is the distilled model?").measure  # not a speed: a resource may answer
    assert measured_quantities(smaller, "The distilled model has 10x fewer parameters.", 8) == ["10x"]
