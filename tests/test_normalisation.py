"""One thing said two ways: acronyms harvested from the abstracts at ingest, numbers and units in any spelling,
compounds written apart; the sufficiency rules (and the index-wide absent-name rule) read through all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.index.ingest as ingest_module
from rag import Assistant
from rag.acronyms import AcronymMap, harvest
from rag.chemistry import isotopes
from rag.corpus.records import normalize, spell_greek
from rag.greek import greek_in
from rag.index.bm25 import BM25Index
from rag.index.manifest import Manifest
from rag.index.terms import CorpusTerms
from rag.names import named_in, names_in
from rag.normalise import (
    hyphen_prefixed,
    initials_in,
    number_forms,
    numerals,
    prefixed_acronyms,
    spelled_out,
    spelled_settings,
    unit_of,
    variant_in,
)
from rag.quantities import measured_quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from tests.fakes import TermCounts, fake_assistant, write_jsonl

# --- the harvester --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("We train a convolutional neural network (CNN) on images.", {("CNN", "convolutional neural network")}),
        ("Long short-term memory networks (LSTMs) read text.", {("LSTM", "Long short-term memory")}),
        ("We stack recurrent neural networks (RNNs).", {("RNN", "recurrent neural networks")}),
        ("It reports mAP (mean average precision) on COCO.", {("mAP", "mean average precision")}),
        ("the Vision Transformer (ViT) and a residual network (ResNet)", {("ViT", "Vision Transformer"),
                                                                          ("ResNet", "residual network")}),
        ("Bidirectional Encoder Representations from Transformers (BERT)",
         {("BERT", "Bidirectional Encoder Representations from Transformers")}),
        ("the word error rate (WER, lower is better)", {("WER", "word error rate")}),
        ("as shown earlier (2019)", set()),
        ("the loss falls quickly (see Fig. 2)", set()),
        ("our method (OURS) beats the baseline transformer (TF)", set()),
        ("a graph network (CNN) and a neural network (GAN)", set()),
        ("We trained it. Convolutional layers help (CNN)", set()),
        ("End-to-end speech large language models ((LLMs)) extend text models.", set()),  # crashed: arXiv 118k
        # a compound word gives the initial of its second part too, when initials alone spell nothing
        ("make hyperspectral image (HSI) classification hard", {("HSI", "hyperspectral image")}),
        ("we measure quasiparticle interference (QPI) maps", {("QPI", "quasiparticle interference")}),
        ("neural radiance fields (NeRF) render views", {("NeRF", "neural radiance fields")}),  # initials first
        ("the ImageNet (IN) and the data (DATA) we train on", {("DATA", "data")}),  # not one word's inner letters
        ("hyperspectral image (HSPIM) and magnetic resonance (MRSI)", set()),  # one inner letter a word, no more
    ],
)  # fmt: skip
def test_harvest_keeps_only_acronyms_spelled_by_the_initials_of_their_long_form(
    text: str, pairs: set[tuple[str, str]]
) -> None:
    assert harvest(text) == pairs


def test_a_stored_map_merged_with_new_pairs_equals_the_map_made_from_all_pairs() -> None:
    old = [
        ("LSTM", "Long short-term memory"),
        ("CNN", "convolutional neural network"),
        ("mAP", "mean average precision"),
    ]
    new = [
        ("LSTM", "long short term memories"),
        ("MAP", "maximum a posteriori"),  # another written form of the key 'map': both get every long form
        ("GRU", "gated recurrent unit"),
        ("CNNs", "convolutional neural networks"),
        ("XY", "xy"),  # no long form of its own: ignored both ways
    ]
    merged = AcronymMap.merge_json(AcronymMap(old).to_json(), new)
    assert merged == AcronymMap(old + new).to_json()
    assert merged["mAP"] == merged["MAP"] == ["maximum a posteriori", "mean average precision"]
    assert AcronymMap.merge_json(AcronymMap(old).to_json(), []) == AcronymMap(old).to_json()


def test_the_map_gives_each_name_its_other_names_and_expands_a_text_both_ways() -> None:
    acronyms = AcronymMap([("LSTM", "Long short-term memory"), ("mAP", "mean average precision")])
    assert acronyms.aliases("LSTMs") == {"long short term memory"}
    assert acronyms.aliases("Mean Average Precision") == {"map"}
    assert acronyms.aliases("GPU") == set()
    plural = AcronymMap([("DGP", "Deep Gaussian Processes"), ("GNN", "graph neural networks"), ("PCA", "principal "
                         "component analysis")])  # fmt: skip
    assert plural.to_json() == {"DGP": ["deep gaussian process"], "GNN": ["graph neural network"],
                                "PCA": ["principal component analysis"]}  # fmt: skip
    assert plural.aliases("Graph Neural Network") == plural.aliases("graph neural networks") == {"gnn"}
    assert "long short term memory" in acronyms.expand("Two stacked LSTMs translate.")
    assert acronyms.expand("A Mean Average Precision of 40").endswith(" map")
    assert acronyms.expand("Nothing to see; the feature map is wide.") == "nothing to see the feature map is wide"


def test_an_acronym_no_abstract_defines_still_matches_its_spelled_out_form_word_by_word() -> None:
    assert spelled_out("What mean average precision does it reach?", "It reaches 40 mAP on COCO.") == [
        "mean average precision"
    ]
    assert spelled_out("Do recurrent networks beat it?", "It beats RNNs.") == []  # 'rn' is not 'rnn'
    assert spelled_out("What mean average precision does it reach?", "It reaches 40 map points.") == []
    assert initials_in("mAP", "a mean average precision of 40") and initials_in("BoW", "a bag of words model")
    assert not initials_in("GPU", "a graphics unit") and not initials_in("Mamba", "many animals")
    no_map = Terms({"yolo": 2, "coco": 3}, AcronymMap())
    assert verdict("What Mean Average Precision does YOLO reach on COCO?", DETECTOR, no_map) == ("answered", "")


# --- numbers, units, compounds --------------------------------------------------------------------


def test_numbers_in_words_digits_separators_and_scales_have_one_value() -> None:
    assert number_forms("1.2k") & number_forms("1,200") == {"1200"}
    assert "3000000" in number_forms("3M") and "2000000000" in number_forms("2B")
    assert number_forms("three") == {"3"} and number_forms("12.50%") == {"12.5"}
    assert number_forms("3m") == {"3"}  # metres, not millions
    assert number_forms("half") == set()
    assert numerals("three milliseconds, twenty-five per cent, two hundred GPUs, 1.2 million and a thousand") == (
        "3 milliseconds, 25 %, 200 GPUs, 1200000 and 1000"
    )
    assert spelled_settings("Does it need three milliseconds for two images?") == ["3"]


def test_units_have_one_name_and_compounds_match_their_parts() -> None:
    assert unit_of("milliseconds") == unit_of("ms") == "ms"
    assert unit_of("per cent") == unit_of("percent") == "%"
    assert unit_of("fold") == unit_of("times") == "x"
    assert unit_of("network") is None
    assert measured_quantities(("ms",), "Inference takes 3 milliseconds per image.", 3) == ["3"]
    assert variant_in("seq2seq", "a sequence to sequence model")
    assert variant_in("Sequence-to-Sequence", "a seq2seq model")
    assert variant_in("data set", "a new dataset") and variant_in("datasets", "two data sets")
    assert not variant_in("seq2seq", "a sequence model") and not variant_in("dataset", "data and sets")
    assert variant_in("WMT14", normalize("on WMT'14 English to French")) and variant_in("GPT4", normalize("GPT-4"))
    assert not variant_in("WMT14", normalize("on WMT'15 English to French"))
    assert not variant_in("GPT3", normalize("GPT-3.5")) and not variant_in("A100", normalize("a 100-layer network"))
    assert not variant_in("T5", normalize("at T = 5")) and not variant_in("GPT4", normalize("GPT-45"))


# --- the sufficiency rules read through the map and the normaliser --------------------------------


Terms = TermCounts  # counts from a word list, with an acronym map


MAP = AcronymMap([("mAP", "mean average precision"), ("LSTM", "long short-term memory")])
TERMS = Terms({"map": 5, "lstm": 8, "yolo": 2, "coco": 3}, MAP)
DETECTOR = Paper(id="d", title="YOLO", abstract="YOLO reaches 57.9 mAP on COCO at 22 ms per image with 1.2k anchors.")
TAGGER = Paper(id="t", title="Taggers", abstract="Our tagger uses long short-term memory layers and a 3 ms budget.")


def verdict(question: str, paper: Paper, terms: Terms = TERMS) -> tuple[str, str]:
    checker = SufficiencyChecker(terms, partial_coverage=0.5, abstain_coverage=0.2)
    v = checker.check(analyze(question), [paper.abstract], [paper])
    return v.status, v.missing


def test_an_expansion_in_the_question_is_covered_by_the_acronym_in_the_abstract() -> None:
    assert verdict("What Mean Average Precision does YOLO reach on COCO?", DETECTOR) == ("answered", "")
    assert verdict("What mean average precision does YOLO reach on COCO?", DETECTOR) == ("answered", "")
    # capitalisation alone makes no name: title case and lower case get the same verdict
    assert verdict("What Mean Precision Score does YOLO reach on COCO?", DETECTOR) == verdict(
        "What mean precision score does YOLO reach on COCO?", DETECTOR
    )


def test_an_acronym_in_the_question_is_covered_by_the_expansion_in_the_abstract() -> None:
    assert verdict("Which tagger uses LSTMs?", TAGGER) == ("answered", "")
    assert verdict("Which tagger uses LSTMs?", TAGGER, Terms({}, AcronymMap()))[0] != "answered"


def test_an_acronym_written_after_a_lower_case_prefix_mentions_the_acronym() -> None:
    text = "Loss of mtDNA, siRNAs, qPCR, scRNA-seq; tACS, tRNA, cAMP, vLLM, an organ, a GAN, iOS, mAP."
    assert prefixed_acronyms("Do cells that lose mitochondrial DNA die?", text) == ["mitochondrial dna"]
    assert prefixed_acronyms("Which single-cell RNA atlas?", text) == ["single cell rna"]
    assert prefixed_acronyms("Which small interfering RNAs were used?", text) == ["small interfering rna"]
    # another thing whose spelling ends in the acronym: the prefix spells none of the question's words, or a
    # function word, or is one letter ("the RNA", "total RNA" and "transfer RNA" all fit "tRNA")
    for question in (
        "How many ACS patients?",
        "How effective is the ACS treatment?",
        "How are modifications in the RNA detected?",
        "Does metformin damage DNA?",
        "What does AMP do?",
        "Which LLM serves it?",
        "Which GAN is used?",
        "by quantitative PCR",
    ):
        assert prefixed_acronyms(question, text) == [], question
    yeast = Paper(id="y", title="Yeast", abstract="In yeast, loss of mtDNA leads to nuclear genome instability.")
    question = "In yeast that lose their mitochondrial DNA, does nuclear genome instability follow?"
    assert verdict(question, yeast)[1] != "mention DNA"
    unrelated = Paper(id="u", title="Yeast", abstract="In yeast, loss of respiration leads to genome instability.")
    assert verdict(question, unrelated)[1] == "mention DNA"


def test_an_acronym_written_after_a_hyphenated_prefix_mentions_the_words_it_stands_for() -> None:
    text = "Switching revealed by C-AFM and TR-ARPES; the AFM tip and DFT-D3."
    assert hyphen_prefixed("In the conductive-AFM study, up to what voltage?", text) == ["conductive afm"]
    assert hyphen_prefixed("What did time-resolved ARPES show?", text) == ["time resolved arpes"]
    for question in ("What did the AFM show?", "to resolved ARPES", "the TR-ARPES data", "in the C-AFM"):
        assert hyphen_prefixed(question, text) == [], question
    paper = Paper(id="k", title="K-ion memristors", abstract="Intercalation memristors are revealed by C-AFM.")
    assert verdict("What did the conductive-AFM study of memristors reveal?", paper)[1] != "mention conductive-AFM"


@pytest.mark.timeout(20)  # linear in the question: a regex over it per acronym took minutes on this input
def test_a_question_at_the_length_cap_against_many_prefixed_acronyms_is_read_in_one_pass() -> None:
    acronyms = [a + b + c for a in "ABCDEFGHIJ" for b in "KLMNOPQRST" for c in "UVWXYZ"]  # 600 distinct
    text = " ".join(f"mt{a}" for a in acronyms)
    assert prefixed_acronyms("a" * 2000, text) == []
    assert prefixed_acronyms("x" * 1990 + " mitochondrial AKU", text) == ["mitochondrial aku"]
    hyphened = " ".join(f"C-{a}" for a in acronyms)
    assert hyphen_prefixed("c" * 1990 + " AKU", hyphened) == []
    assert hyphen_prefixed(" ".join(f"c{a}" for a in acronyms)[:2000], hyphened) == []


def test_the_index_wide_absent_name_rule_considers_the_other_name_first() -> None:
    checker = SufficiencyChecker(Terms({"long": 4, "short": 4, "term": 4, "memory": 4}, MAP))
    assert checker.unknown_names(analyze("How deep are the LSTMs in the tagger?")) == []
    without_map = SufficiencyChecker(Terms({"long": 4, "short": 4, "term": 4, "memory": 4}, AcronymMap()))
    assert without_map.unknown_names(analyze("How deep are the LSTMs in the tagger?")) == ["LSTMs"]
    # a name whose other name is unknown too stays unknown
    assert checker.unknown_names(analyze("How deep are the GRUs in the tagger?")) == ["GRUs"]


def test_a_number_written_in_words_or_with_a_scale_matches_the_abstracts_digits() -> None:
    assert verdict("Does the tagger keep a budget of three milliseconds?", TAGGER)[0] == "answered"
    assert verdict("Does the tagger keep a budget of five milliseconds?", TAGGER) == ("partial", "mention 5")
    assert verdict("Does YOLO on COCO use 1,200 anchors?", DETECTOR)[0] == "answered"
    assert verdict("Does YOLO on COCO use 1,300 anchors?", DETECTOR) == ("partial", "mention 1300")


CODEC = Paper(id="c", title="A codec", abstract="At a bitrate of 3kbps our codec beats a rival at 12kbps.")


def test_a_unit_the_abstract_writes_onto_its_number_is_no_unknown_name() -> None:
    terms = Terms({"codec": 3, "rival": 1}, AcronymMap())  # the index holds "3kbps", never "kbps" alone
    assert verdict("At what bitrate does the codec beat a rival at 12 kbps?", CODEC, terms)[0] == "answered"
    assert verdict("At what bitrate does the codec beat a rival at 12 zkbps?", CODEC, terms)[0] == "abstained"


def test_a_greek_letter_matches_its_spelled_name() -> None:
    text = AcronymMap().expand("IFNγ protects against EAE; cleaved α-MnTe shows stripes; TNF-α rises.")
    assert "ifn gamma" in text and "alpha mnte" in text and "tnf alpha" in text
    assert named_in("IFN-gamma", text) and named_in("alpha-MnTe", text) and named_in("IFN-γ", text)
    assert not named_in("IFN-beta", text) and named_in("TNF-α", "tnf α drives sepsis")  # as normalize reads it
    film = Paper(id="f", title="Stripes", abstract="STM maps of cleaved α-MnTe show incommensurate stripes.")
    assert verdict("In STM maps of cleaved alpha-MnTe, what stripes appear?", film)[0] == "answered"
    latex = Paper(id="l", title="Stripes", abstract="STM maps of cleaved altermagnetic $α$-MnTe show stripes.")
    assert verdict("In STM maps of cleaved alpha-MnTe, what stripes appear?", latex)[0] == "answered"


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("IL-1beta", "IL-1β"),
        ("IL-1β", "IL-1beta"),
        ("NF-kappaB", "NF-κB"),
        ("NF-κB", "NF-kappaB"),
        ("Abeta42", "Aβ42"),
        ("Aβ42", "Abeta42"),
        ("TGF-beta1", "TGF-β1"),
        ("HIF-1α", "HIF-1alpha"),
        ("PPARγ", "PPARgamma"),
        ("IFN-γ", "IFNgamma"),
    ],
)
def test_a_name_holding_a_greek_letter_matches_it_spelled_attached_or_apart(name: str, written: str) -> None:
    text = AcronymMap().expand(f"Serum {written} rose after the injury in mice.")
    assert named_in(name, text)
    paper = Paper(id="g", title="Injury", abstract=f"Serum {written} rose after the injury in mice.")
    assert verdict(f"How did {name} change after the injury in mice?", paper)[0] == "answered"


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("IL-1β", "IL-1α"),
        ("IL-1beta", "IL-10 beta"),
        ("TGF-β2", "TGF-beta1"),
        ("HIF-2α", "HIF-1alpha"),
        ("ERβ", "ERalpha"),
        ("Aβ40", "Abeta42"),
        ("PKCδ", "PKCε"),
        ("PPARα", "PPAR-gamma"),
        ("PKCη", "PKC-theta"),  # a letter of three letters or more besides the common ones (helper-85)
        ("IFN-beta", "IFN-γ"),
    ],
)
def test_a_name_with_another_greek_letter_or_number_is_another_name(name: str, written: str) -> None:
    text = AcronymMap().expand(f"Serum {written} rose after the injury in mice.")
    assert not named_in(name, text)  # before, the letter was dropped: "IL-1β" read as "IL 1", found in "IL-1α"
    paper = Paper(id="g", title="Injury", abstract=f"Serum {written} rose after the injury in mice.")
    assert verdict(f"How did {name} change after the injury in mice?", paper)[0] != "answered"


def test_a_name_without_a_greek_letter_is_matched_as_before() -> None:
    assert greek_in("beta", "beta") is None and greek_in("Betaine", "betaine") is None
    assert greek_in("μ-opioid", "mu opioid") is None  # μ is spelled nowhere: "5 μm" is a unit
    for written in ("TNF α", "IL-1ß", "TNF-𝛼", "TNF"):  # no letter left by the name once normalised: as before
        name = "IL-1β" if "IL" in written else "TNF-α"
        assert greek_in(name, AcronymMap().expand(f"Serum {written} rose.")) is None
        assert named_in(name, AcronymMap().expand(f"Serum {written} rose."))
    assert named_in("β-blockers", AcronymMap().expand("Long-term beta-blocker therapy lowered mortality."))


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What does IFN-gamma do in relapses?", ["IFN-gamma"]),
        ("How does NF-kappaB act in sepsis?", ["NF-kappaB"]),
        ("Which LLM-generated texts fool the detector?", ["LLM"]),
        ("What was the κ-statistic for agreement?", []),  # a Greek-sign term is no name by its sign
    ],
)
def test_a_spelled_greek_letter_after_a_hyphen_stays_part_of_the_name(question: str, names: list[str]) -> None:
    assert names_in(question) == names


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("IL-1β", "IL-1α/β"),
        ("IFN-β", "IFN-α and -β"),
        ("IL-1β", "IL-1 alpha and beta"),
        ("ERβ", "ERα and β"),
        ("PI3Kδ", "PI3Kα, β and δ"),
        ("beta-CD", "α-, β- and γ-CD"),
        ("IL-1β", "IL-1α as well as -β"),
    ],
)
def test_a_name_in_a_list_of_letters_is_named(name: str, written: str) -> None:
    assert named_in(name, AcronymMap().expand(f"Serum {written} levels were elevated."))


@pytest.mark.parametrize(
    ("name", "written", "named"),
    [
        ("TNF-alpha", "TNF", True),  # spelled after a coded name's hyphen: matched without it, as "TNF-α" is
        ("PKC-delta", "protein kinase C delta", True),
        ("Beta-VAE", "the vanilla VAE", False),  # not a coded name with a letter after it
        ("Meta-Llama-3", "Meta's Llama 3", True),  # "eta" inside a word is no Greek letter
    ],
)
def test_a_spelled_letter_is_read_only_where_it_is_one(name: str, written: str, named: bool) -> None:
    assert named_in(name, AcronymMap().expand(f"Serum {written} levels were elevated.")) is named


def test_a_greek_letter_standing_alone_or_meaning_micro_spells_no_name() -> None:
    text = AcronymMap().expand("Stiffness fell (Spearman ρ = 0.41, φ = 0.9) at 10 μm and 5 µM.")
    assert not named_in("Rho", text) and not named_in("PHI", text) and not named_in("MU-MIMO", text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("cold 87Rb atoms", [("Rb", "87")]),
        ("cold ⁸⁷Rb atoms and ⁸⁵ Rb", [("Rb", "87"), ("Rb", "85")]),  # as ingest writes ${}^{87}$Rb
        ("the D2 line of ${}^{87}$Rb and <sup>133</sup>Cs", [("Rb", "87"), ("Cs", "133")]),
        ("We cool atoms of Rb-87. Then Cs133.", [("Rb", "87"), ("Cs", "133")]),  # at a sentence's end
        ("rubidium-87, Helium-3 and 13C NMR", [("C", "13"), ("Rb", "87"), ("He", "3")]),
        ("rb87 cold atoms, rb-87, Rb–87", [("Rb", "87")]),
        ("99mTc and Tc-99m scans, 18F-FDG", [("Tc", "99m"), ("F", "18")]),
        ("a ⁶Li-⁴⁰K mixture and $^{11}$B NMR", [("Li", "6"), ("K", "40"), ("B", "11")]),  # a superscript mass
        # counts, units, markers, ordinals, doses, hours, polytypes and formulas are no isotopes
        ("a 7B model beats LLaMA-13B and llama 7b on 40K images and 32k tokens", []),
        ("30S ribosomes at 48V and 100W, 4K video, 5G, C60, H2, Ti-6Al-4V, 3D", []),
        ("the 95th percentile, 40mg daily, 20mg/kg, 3h later, CD80 and CD133, RB-87", []),
        ("2H-MoS2 and 4H-SiC flakes, H3K27me3, C57BL/6 mice, P53, A100 GPUs, zinc 50 mg", []),
    ],
)
def test_an_isotope_is_read_however_it_is_written(text: str, found: list[tuple[str, str]]) -> None:
    assert sorted(isotopes(text)) == sorted(found)


def test_an_isotope_in_the_question_matches_its_other_spelling_in_the_abstract() -> None:
    text = AcronymMap().expand("The D2 line of ⁸⁷Rb atoms has a magic frequency.")
    assert all(named_in(n, text) for n in ("rubidium-87", "Rb-87", "rb87", "87Rb"))
    assert not named_in("rubidium-85", text) and not named_in("Rb-85", text)
    atoms = Paper(id="a", title="Magic frequency", abstract="Scattering from ⁸⁷Rb atoms vanishes at 185 MHz.")
    terms = Terms({"87rb": 1, "scattering": 9}, AcronymMap())  # the index holds "87rb", never "rb87"
    assert verdict("At what frequency does scattering from rubidium-87 atoms vanish?", atoms, terms)[0] == "answered"
    assert verdict("at what frequency does scattering from rb87 atoms vanish", atoms, terms)[0] == "answered"
    assert SufficiencyChecker(terms).unknown_names(analyze("Does rb87 scatter?")) == []
    # an isotope the index holds under no spelling stays unknown (not known by its mass number alone)
    assert SufficiencyChecker(terms).unknown_names(analyze("Does rb85 scatter?")) == ["rb85"]
    assert verdict("At what frequency does scattering from Rb-85 atoms vanish?", atoms, terms)[0] != "answered"


# --- the map is harvested at ingest, kept with the index, updated per ingest ----------------------


def paper(pid: str, abstract: str, title: str = "") -> dict[str, str]:
    return {"id": pid, "title": title or f"Paper {pid}", "abstract": abstract}


@pytest.fixture()
def harvested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the ingest harvests acronyms from (the real harvester runs)."""
    texts: list[str] = []
    real = ingest_module.harvest

    def spy(text: str) -> set[tuple[str, str]]:
        texts.append(text)
        return real(text)

    monkeypatch.setattr(ingest_module, "harvest", spy)
    return texts


def stored_map(data_dir: Path) -> dict[str, list[str]]:
    return BM25Index.load(data_dir / "bm25").acronyms


def test_each_ingest_harvests_its_own_papers_and_the_map_survives_a_reopen(
    tmp_path: Path, harvested: list[str]
) -> None:
    data = tmp_path / "data"
    first = write_jsonl(tmp_path / "a.jsonl", [paper("a", "A convolutional neural network (CNN) labels images.")])
    second = write_jsonl(tmp_path / "b.jsonl", [paper("b", "Long short-term memory (LSTM) cells tag words.")])
    a = fake_assistant(data, llm="extractive")
    a.ingest([first], progress=False)
    assert stored_map(data) == {"CNN": ["convolutional neural network"]}
    harvested.clear()
    a.ingest([first, second], progress=False)
    assert len(harvested) == 1 and "LSTM" in harvested[0]  # only the new paper was read
    a.close()
    assert stored_map(data) == {"CNN": ["convolutional neural network"], "LSTM": ["long short term memory"]}
    assert CorpusTerms(data / "bm25").acronyms.aliases("LSTMs") == {"long short term memory"}
    reopened = fake_assistant(data, llm="extractive")  # a new process on the same data dir
    reopened.ingest([first, second], progress=False)
    assert stored_map(data)["LSTM"] == ["long short term memory"]
    # an edited paper that no longer defines its acronym takes it out of the map
    write_jsonl(second, [paper("b", "Gated cells tag words.")])
    reopened.ingest([second], progress=False)
    reopened.close()
    assert stored_map(data) == {"CNN": ["convolutional neural network"]}


@pytest.mark.parametrize(
    ("abstract", "mark", "expected"),
    [  # an index an older version left: no acronyms and no mark, or the first rules' mark (initials only: no HSI)
        ("A convolutional neural network (CNN) labels images.", None, {"CNN": ["convolutional neural network"]}),
        ("A hyperspectral image (HSI) classifier is proposed.", "1", {"HSI": ["hyperspectral image"]}),
    ],
)
def test_an_index_harvested_before_or_by_older_rules_is_harvested_once(
    tmp_path: Path, harvested: list[str], abstract: str, mark: str | None, expected: dict[str, list[str]]
) -> None:
    data = tmp_path / "data"
    file = write_jsonl(tmp_path / "a.jsonl", [paper("a", abstract)])
    a = fake_assistant(data, llm="extractive")
    a.ingest([file], progress=False)
    a.close()
    manifest = Manifest(data / "manifest.sqlite3")
    with manifest.transaction():
        manifest.db.execute("DELETE FROM acronyms")
        manifest.set_meta(ingest_module.ACRONYMS_HARVESTED, mark)
    manifest.close()
    harvested.clear()
    b = fake_assistant(data, llm="extractive")
    b.ingest([file], progress=False)  # nothing changed on disk
    assert stored_map(data) == expected and len(harvested) == 1
    harvested.clear()
    b.ingest([file], progress=False)
    b.close()
    assert harvested == []


# --- end to end -----------------------------------------------------------------------------------

CORPUS = [
    paper(
        "def",
        "We study long short-term memory (LSTM) networks for speech and show that gated cells forget slowly.",
        "Gated recurrent cells for speech",
    ),
    paper(
        "fact",
        "Our LSTM translator stacks 4 layers and reads Basque news; it beats phrase tables on Basque news.",
        "A Basque news translator",
    ),
    paper("other", "Convolutional filters classify bird songs from field recordings.", "Bird song filters"),
]


@pytest.fixture()
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    a = fake_assistant(tmp_path / "data", llm="extractive", abstain_threshold=0.0)
    a.ingest([write_jsonl(tmp_path / "papers.jsonl", CORPUS)], progress=False)
    yield a
    a.close()


def test_a_question_naming_the_expansion_is_answered_from_an_abstract_that_has_the_acronym(
    assistant: Assistant,
) -> None:
    answer = assistant.ask("How many layers does the Long Short-Term Memory translator for Basque news stack?")
    assert answer.status == "answered", (answer.status, answer.missing, answer.text)
    assert "4 layers" in answer.text and "fact" in [s.paper.id for s in answer.sources]
    assert "do not mention" not in answer.text


def test_a_name_no_abstract_holds_under_any_name_still_abstains(assistant: Assistant) -> None:
    answer = assistant.ask("How many layers does the Gated Recurrent Unit translator for Basque news stack?")
    assert answer.status != "answered"


def test_an_isotope_asked_in_another_spelling_is_answered_end_to_end(tmp_path: Path) -> None:
    """The real ingest (which writes ${}^{87}$Rb as ⁸⁷Rb), BM25 index and checks: "rb87" and "rubidium-87" find the
    abstract's isotope, and one no abstract holds under any spelling is still held back."""
    atoms = paper("rb", "Scattering from cold ${}^{87}$Rb atoms into the cavity vanishes at 185 MHz.", "Magic cavity")
    assistant = fake_assistant(tmp_path / "data", llm="extractive", abstain_threshold=0.0)
    try:
        assistant.ingest([write_jsonl(tmp_path / "atoms.jsonl", [atoms, *CORPUS])], progress=False)
        for question in (
            "At what frequency does scattering from rubidium-87 atoms into the cavity vanish?",
            "at what frequency does scattering from rb87 atoms into the cavity vanish",
        ):
            answer = assistant.ask(question)
            assert answer.status == "answered" and "185 MHz" in answer.text, (question, answer.status, answer.missing)
        held = assistant.ask("At what frequency does scattering from rb85 atoms into the cavity vanish?")
        assert held.status != "answered" and "rb85" in (held.missing or held.text).lower()
    finally:
        assistant.close()


def test_a_formula_written_with_subscripts_is_found_and_answered_when_typed_with_plain_digits(tmp_path: Path) -> None:
    """The reader stores "GdYH$_5$" as "GdYH₅": a question typing "GdYH5" (or "gdyh5") finds that abstract among
    others about the same transition (the lexical index reads "₅" as "5"), and is answered from it; a formula no
    abstract holds under any spelling is still held back."""
    hydrides = [
        paper("h", "We predict a superconducting transition temperature of 223 K for GdYH$_5$.", "Hydride A"),
        paper("y", "We predict a superconducting transition temperature of 243 K for YH$_9$.", "Hydride B"),
        paper("l", "We predict a superconducting transition temperature of 250 K for LaH$_{10}$.", "Hydride C"),
    ]
    assistant = fake_assistant(tmp_path / "data", llm="extractive", abstain_threshold=0.0)
    try:
        assistant.ingest([write_jsonl(tmp_path / "h.jsonl", [*hydrides, *CORPUS])], progress=False)
        assert "GdYH₅" in assistant.paper("h").abstract
        for question in (
            "What superconducting transition temperature is predicted for GdYH5?",
            "gdyh5 transition temperature",
        ):
            answer = assistant.ask(question)
            assert answer.status == "answered" and "223 K" in answer.text, (question, answer.status, answer.missing)
            assert answer.sources[0].paper.id == "h" and "[1]" in answer.text
        held = assistant.ask("What superconducting transition temperature is predicted for GdYH7?")
        assert held.status == "abstained" and "GdYH7" in (held.missing or held.text)
    finally:
        assistant.close()


@pytest.mark.parametrize(
    "text",
    [
        "\ud800 lone surrogate IFNγ",  # what a broken client may send
        "ﬁnetuning Aβ\u0301 with ϵ and 𝛼-helix",  # ligature, combining mark, symbol forms
        "\u200bα\u200b-MnTe zero-width",
        "ααααα" * 400,
        "$$$α$$$" * 200,
    ],
)
def test_odd_unicode_in_a_question_or_an_abstract_is_read_without_failing(text: str) -> None:
    assert isinstance(AcronymMap().expand(text), str)
    asked = analyze(f"In the {text[:300]} study, which datasets were used?")
    assert asked.asks == "name"
    assert spell_greek("Spearman ρ = 0.41 at 10 μm") == "Spearman ρ = 0.41 at 10 μm"
