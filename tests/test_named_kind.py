"""A which-question asking for a named thing ("Which datasets ...", "What solver ...") is answered only by a sentence
that names one: a relevant sentence that names nothing of the kind makes the answer partial, saying what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.acronyms import AcronymMap, harvest
from rag.evaluation.datasets import GoldResolver
from rag.generation.context import Source
from rag.generation.extractive import ExtractiveAnswerer
from rag.index.embedders import HashEmbedder
from rag.kinds import names_of_kind
from rag.names import kind_heads, named_in, named_kind, new_names, with_written_names
from rag.query import analyze
from rag.question import Question
from rag.sufficiency import SufficiencyChecker
from rag.support import SentenceEmbeddings, sentences_of
from rag.types import Hit, Paper
from tests.fakes import TermCounts, fake_assistant, sentence_status, write_jsonl

Terms = TermCounts  # counts from a word list, with an acronym map


MAP = AcronymMap([("GCNs", "graph convolutional networks"), ("SOTA", "state of the art")])
TERMS = Terms({"rlsac": 1, "kitti": 3, "gcns": 9, "sota": 12}, MAP)
RLSAC = Paper(
    id="r",
    title="RLSAC: Reinforcement Learning enhanced Sample Consensus",
    abstract="We propose RLSAC, a novel Reinforcement Learning enhanced SAmple Consensus framework for robust "
    "estimation. Experiments show that RLSAC outperforms prior methods on several benchmark datasets. "
    "Graph convolutional networks (GCNs) reach SOTA results on such data.",
)


def extractive(question: str | Question, paper: Paper, **options: float) -> str:
    """The extractive answer from one paper's abstract (hash sentence embeddings)."""
    source = Source(number=1, hit=Hit(paper=paper, score=0.9, passage=paper.abstract), text=paper.abstract)
    return ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder(64)), **options).answer(question, [source])


def judge(question: str, sentences: list[str], paper: Paper = RLSAC) -> tuple[str, str]:
    checker = SufficiencyChecker(TERMS, partial_coverage=0.0, abstain_coverage=0.0)
    verdict = checker.check(analyze(question), sentences, [paper])
    return verdict.status, verdict.missing


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which datasets were used to evaluate RLSAC?", "datasets"),
        ("What benchmark datasets were used to evaluate RLSAC?", "datasets"),
        ("which real-world graph datasets did they use?", "datasets"),
        ("List the data sets RLSAC is evaluated on", "data sets"),
        ("RLSAC: what benchmarks does it report?", "benchmarks"),
        ("Which optimization solver is used for the routing stage?", "solver"),
        ("Which popular GNN architectures get generalization bounds?", "architectures"),
        ("What network structures does the chain graph view cover?", ""),  # the head is "structures"
        ("Which paper proposes RLSAC?", ""),
        ("What magnetic material forms the islands in the Rashba proposal?", "material"),  # a verb follows
        ("Which material properties are reported for the film?", ""),  # a noun follows: properties are asked
        ("Which residual networks are wider?", ""),  # networks and models are as often described as named
        ("How many datasets were used?", ""),  # a number question
        # a kind noun after a word and a preposition is in a phrase of the clause, not the asked thing
        ("Which serotonergic drugs act on 5-HT2C receptors in dopamine neurons to curb binge eating?", ""),
        ("Which compounds bind to kinases in the assay?", ""),
        ("Which in the wild expression datasets were used?", "datasets"),  # a preposition opening the phrase
        # a preposition inside the modifier (helper-89)
        ("Which text to SQL benchmarks were used?", "benchmarks"),
        ("Which human in the loop simulators were used for validation?", "simulators"),
        ("Which up to date datasets are used for evaluation?", "datasets"),
        ("Which cross lingual in context benchmarks were used?", "benchmarks"),
        ("Which physics in the loop simulators were used?", "simulators"),  # "-ics" and "news" are no plurals
        ("Which news to text datasets were used?", "datasets"),
        ("Which policies generalize across robot simulators?", ""),  # "across" is a preposition too
    ],
)
def test_the_kind_of_named_thing_a_which_question_asks_for(question: str, kind: str) -> None:
    assert analyze(question).kind == kind


def test_named_kind_reads_the_plain_question() -> None:
    assert named_kind("On which benchmarks was it tested?") == "benchmarks"
    assert named_kind("Why were these datasets chosen?") == ""


def test_a_topic_before_a_colon_keeps_its_names() -> None:
    q = analyze("RLSAC: what benchmark datasets were used?")
    assert q.names == ("RLSAC",) and q.kind == "datasets"


def test_new_names_leave_out_the_question_s_names_and_the_ordinary_words_of_a_title_run() -> None:
    sentence = "RLSAC, a Reinforcement Learning enhanced SAmple Consensus framework, is tested on KITTI and Omniglot."
    found = new_names("Which datasets were used to evaluate RLSAC?", sentence)
    assert {"KITTI", "Omniglot"} <= set(found) and not {"RLSAC", "Consensus", "SAmple"} & set(found)


def test_a_relevant_sentence_naming_no_dataset_makes_a_which_datasets_answer_partial() -> None:
    sentence = "Experiments show that RLSAC outperforms prior methods on several benchmark datasets."
    assert judge("Which datasets were used to evaluate RLSAC?", [sentence]) == ("partial", "name the datasets")
    named = "Experiments show that RLSAC outperforms prior methods on KITTI."
    assert judge("Which datasets were used to evaluate RLSAC?", [named]) == ("answered", "")


def test_an_acronym_the_corpus_spells_out_as_another_kind_of_thing_does_not_name_a_dataset() -> None:
    sentence = "Graph convolutional networks (GCNs) reach SOTA results on such data."
    assert judge("Which datasets were used to evaluate RLSAC?", [sentence])[0] == "partial"
    # for a question asking for architectures the same acronym is an answer
    assert judge("Which architectures reach good results on such data?", [sentence]) == ("answered", "")
    assert "network" in kind_heads("architectures") and "benchmark" in kind_heads("data sets")


def test_a_metric_names_no_dataset() -> None:
    question = analyze("On which datasets were the attention networks compared?")
    assert names_of_kind(question, "These networks are compared by the mIoU of SOTA networks.", MAP) == []
    assert names_of_kind(question, "They are compared by mIoU on Cityscapes.", MAP) == ["Cityscapes"]
    # a data set whose name is a metric word, where the sentence calls it one
    assert names_of_kind(question, "We evaluate on the POWER dataset.", MAP) == ["POWER"]


def test_an_acronym_whose_long_form_is_itself_a_name_still_names_a_dataset() -> None:
    question = analyze("Which datasets were used?")
    spelled = AcronymMap([("PTB", "Penn Treebank"), ("PTB", "preterm birth"), ("HSI", "hyperspectral image")])
    assert names_of_kind(question, "Perplexity on PTB improves.", spelled) == ["PTB"]
    assert names_of_kind(question, "We test HSI classification.", spelled) == []  # spelled out as ordinary words


def test_an_acronym_a_compound_word_spells_is_the_question_s_own_words_not_a_dataset() -> None:
    abstract = "Few labels make hyperspectral image (HSI) classification hard. We tested it on two datasets, Pavia."
    paper = Paper(id="h", title="A GAN for hyperspectral images", abstract=abstract)
    terms = Terms({"hsi": 5}, AcronymMap(harvest(abstract)))
    checker = SufficiencyChecker(terms, partial_coverage=0, abstain_coverage=0)
    question = analyze("Name the two hyperspectral image datasets the GAN was tested on.")
    first, second = sentences_of(abstract)
    assert checker.check(question, [first], [paper]).missing == "name the datasets"
    assert checker.check(question, [second], [paper]).status == "answered"


@pytest.mark.parametrize(
    ("evaluation", "status"),
    [
        ("We test the module on several image classification datasets and improve accuracy.", "partial"),
        ("We test the module on the ImageNet-1K and CUB-200 datasets and improve accuracy.", "answered"),
    ],
)
def test_the_title_the_answer_puts_before_a_sentence_names_the_paper_not_the_asked_thing(
    tmp_path: Path, evaluation: str, status: str
) -> None:
    # end to end: the extractive answer reads "PGN-2: Ultra-Lightweight ...: We test ... [1]."; the title's PGN-2
    # is not a data set (the citation checker hands the verdict claims without the titles they name)
    paper = {
        "id": "u",
        "title": "PGN-2: Ultra-Lightweight Subspace Attention Module",
        "abstract": "We propose an ultra-lightweight subspace attention module for compact networks. " + evaluation,
    }
    assistant = fake_assistant(tmp_path / "data")
    assistant.ingest([write_jsonl(tmp_path / "papers.jsonl", [paper])], progress=False)
    answer = assistant.ask("Which datasets was the ultra-lightweight subspace attention module tested on?")
    assert answer.status == status, answer.text
    assert new_names("which datasets", f"{paper['title']}: {evaluation}")  # the title would pass for a name
    if status == "partial":
        assert "name the datasets" in answer.text or answer.missing == "name the datasets"


def test_a_gold_reference_with_an_arxiv_prefix_or_version_resolves_to_the_indexed_paper() -> None:
    resolver = GoldResolver([Paper(id="2506.02113", title="Spin liquids", abstract="Ising models.")])
    assert resolver.resolve("arXiv:2506.02113") == "2506.02113"
    assert resolver.resolve("arXiv:2506.02113v2") == "2506.02113"
    assert resolver.resolve("arXiv:2506.99999") is None


# --- other fields: physical quantities are numbers, materials are named ---------------------------------

NICKELATE = Paper(
    id="n",
    title="Bilayer nickelates",
    abstract="Superconductivity in La3Ni2O7 appears under high pressure. "
    "The film on SrLaAlO4 becomes superconducting at 14 GPa with an onset Tc of 40 K.",
)


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("What applied pressure makes La3Ni2O7 superconducting?", "pressur"),
        ("Which pump wavelength was used on La-Bi2201?", "wavelength"),
        ("What superconducting Tc does the calculation give for H3S?", "tc"),
        ("What decay exponent of the couplings was used?", "expon"),
        ("what film thickness did they grow", "thick"),
    ],
)
def test_a_physical_quantity_makes_a_number_question(question: str, measure: str) -> None:
    q = analyze(question)
    assert q.asks == "number" and any(m.startswith(measure) for m in q.measure)


def test_a_pressure_question_is_answered_only_by_a_sentence_stating_one() -> None:
    checker = SufficiencyChecker(Terms({"la3ni2o7": 4}, AcronymMap()), partial_coverage=0.0, abstain_coverage=0.0)
    q = analyze("What applied pressure makes La3Ni2O7 superconducting?")
    vague, stated = NICKELATE.abstract.split(". ")
    assert checker.check(q, [vague + "."], [NICKELATE]).status == "partial"
    assert checker.check(q, [stated], [NICKELATE]).status == "answered"


def test_a_which_material_answer_must_name_one() -> None:
    checker = SufficiencyChecker(Terms({"la3ni2o7": 4}, AcronymMap()), partial_coverage=0.0, abstain_coverage=0.0)
    q = analyze("On which substrate was the La3Ni2O7 film grown?")
    assert q.kind == "substrate"
    assert checker.check(q, ["Superconductivity in La3Ni2O7 appears under high pressure."], [NICKELATE]).status == (
        "partial"
    )
    assert checker.check(q, [NICKELATE.abstract.split(". ")[1]], [NICKELATE]).status == "answered"


def test_a_metric_word_inside_a_compound_does_not_make_a_number_question() -> None:
    assert analyze("For BaMn2Pn2, which mean-field method was combined with DFT?").asks == "name"
    assert analyze("Which time-dependent solver is used?").asks == "name"
    assert analyze("What mean accuracy does X reach?").asks == "number"


def test_a_number_written_in_subscripts_is_stated() -> None:
    paper = Paper(id="c", title="Cr frameworks", abstract="The framework Cr(tri)₂(CF₃SO₃)₀.33 orders at 242 K.")
    checker = SufficiencyChecker(Terms({"cr": 2}, AcronymMap()), partial_coverage=0.0, abstain_coverage=0.0)
    q = analyze("At what temperature does Cr(tri)2(CF3SO3)0.33 order?")
    verdict = checker.check(q, [paper.abstract], [paper])
    assert verdict.status == "answered", verdict


@pytest.mark.parametrize(
    "wording",
    [
        "List the datasets EvolveGCN was evaluated on.",
        "which datasets did evolvegcn use for the experimnts",
        "I'm building a benchmark for dynamic graphs; which datasets did EvolveGCN use?",
        "EvolveGCN experiment dataset names",
        "EvolveGCN evaluation datasets",
        "EvolveGCN evaluated on datasets",  # the kind after a preposition is still asked (helper-81)
        "what is the name of the dataset EvolveGCN used?",
        "what's the dataset EvolveGCN is evaluated on called?",
    ],
)
def test_every_wording_of_a_which_datasets_question_asks_for_a_named_dataset(wording: str) -> None:
    q = analyze(wording)
    assert q.asks == "name" and q.kind.rstrip("s") == "dataset"


def test_a_one_edit_typo_of_a_metric_word_still_asks_for_a_number() -> None:
    for wording in ("what acuracy does the nmc baseline get", "what cifar-10 accuraccy does SiT get"):
        q = analyze(wording)
        assert q.asks == "number" and "accuraci" in q.measure
    assert analyze("what does the nmc baseline get").asks != "number"


def test_clinical_quantities_and_ages_ask_for_numbers_stated_by_their_units() -> None:
    assert analyze("How old were the patients?").measure == ("age",)
    assert analyze("What is the molecular weight in kDa of Megator?").asks == "number"
    assert analyze("What is the prevalence of ataxia telangiectasia?").asks == "number"
    paper = Paper(id="m", title="Megator", abstract="Megator is a 260 kDa coiled-coil protein of the spindle matrix.")
    checker = SufficiencyChecker(Terms({"megator": 2}, AcronymMap()), partial_coverage=0.0, abstain_coverage=0.0)
    q = analyze("What is the molecular weight of Megator?")
    assert checker.check(q, [paper.abstract], [paper]).status == "answered"
    vague = "Megator is a coiled-coil protein of the spindle matrix."
    assert checker.check(q, [vague], [paper]).status == "partial"


def test_a_quoted_name_or_a_capitalised_run_names_a_thing_and_a_method_run_names_no_dataset() -> None:
    assert new_names("which benchmark?", "We evaluate on our internal 'Ok Google' benchmark.") == ["Ok Google"]
    assert "Wall Street Journal" in new_names("which corpus?", "We test on the Wall Street Journal corpus.")
    paper = Paper(id="g", title="Graphs", abstract="We train Graph Neural Networks on several datasets.")
    assert judge("Which datasets were used?", [paper.abstract], paper)[0] == "partial"


def test_the_extractive_answer_to_a_which_datasets_question_keeps_the_sentence_naming_them() -> None:
    paper = Paper(
        id="f",
        title="Feature decomposition for facial expressions",
        abstract="We propose a feature decomposition and reconstruction method for facial expression recognition. "
        "The decomposition models expression similarities and the reconstruction models their differences. "
        "Results on RAF-DB and SFEW show the benefit.",
    )
    question = "Which expression datasets was the feature decomposition and reconstruction method evaluated on?"
    assert "RAF-DB" in extractive(question, paper, per_paper=1)


def test_an_acronym_of_the_question_s_own_words_is_not_a_new_name() -> None:
    sentence = "We define the concept of Sub-Pseudo Label (SPL) and fine-tune on HMDB-51."
    assert new_names("which datasets did the sub-pseudo label paper finetune on", sentence) == ["HMDB-51"]


def test_a_bare_percentage_is_the_asked_accuracy_only_when_the_sentence_names_no_other_measure() -> None:
    from rag.quantities import measured_quantities

    q = analyze("what acuracy does the nmc baseline get on 10-split cifar-100")
    assert measured_quantities(q.measure, "This baseline achieved 88.53% on 10-Split-CIFAR-100.", 8) == ["88.53%"]
    assert measured_quantities(q.measure, "It cuts the latency by 20% on 10-Split-CIFAR-100.", 8) == []


def test_the_kind_s_head_is_its_singular_and_corpus_stays_corpus() -> None:
    assert "dataset" in kind_heads("corpus") and "dataset" in kind_heads("corpora")
    assert "library" in kind_heads("libraries") and "dataset" in kind_heads("data sets")
    assert "network" in kind_heads("architectures") and kind_heads("games") == frozenset({"game"})


def test_a_web_address_names_nothing_and_a_run_of_plain_words_needs_the_kind_s_label() -> None:
    code = "The code is available at https://github.com/IBM/EvolveGCN."
    assert new_names("List the datasets EvolveGCN was evaluated on.", code, "datasets") == []
    concept = "PathCon predicts relations by considering the Relational Context of each entity."
    assert new_names("What is the new dataset of PathCon called?", concept, "dataset") == []
    assert new_names("Which corpus?", "We train on the Wall Street Journal corpus.", "corpus") == [
        "Wall Street Journal"
    ]
    assert new_names("Which corpus?", "We use the dataset Street View House Numbers.", "corpus") == [
        "Street View House Numbers"
    ]
    paper = Paper(id="e", title="EvolveGCN", abstract=f"We propose EvolveGCN for dynamic graphs. {code}")
    checker = SufficiencyChecker(Terms({"evolvegcn": 1, "datasets": 50}), partial_coverage=0.0, abstain_coverage=0.0)
    verdict = checker.check(analyze("List the datasets EvolveGCN was evaluated on."), [code], [paper])
    assert (verdict.status, verdict.missing) == ("partial", "name the datasets")


def test_the_extractive_answer_looks_past_an_acronym_its_abstract_spells_out_as_another_kind() -> None:
    paper = Paper(
        id="d",
        title="Feature decomposition and reconstruction learning",
        abstract="We propose feature decomposition and reconstruction learning for facial expressions. "
        "It has a Feature Decomposition Network (FDN) for the features of facial expression databases. "
        "In particular, FDN decomposes the basic features used to evaluate facial expression reconstruction. "
        "Scores on RAF-DB and SFEW are high.",
    )
    question = (
        "List the facial expression databases used to evaluate feature decomposition and reconstruction learning."
    )
    assert "RAF-DB" in extractive(question, paper, per_paper=2, second_sentence=0.0)


def test_a_quantity_after_its_measure_counts_across_a_long_subject_but_not_a_count_of_something_else() -> None:
    from rag.quantities import measured_quantities

    q = analyze("Tell me the ImageNet-1k top-1 accuracy ResNet50-D reaches after distillation.")
    long_subject = (
        "For example, the top-1 accuracy on ImageNet-1k validation set of MobileNetV3-large and ResNet50-D "
        "can be significantly improved from 75.2% to 79% and 79.1% to 83%, respectively."
    )
    assert "83%" in measured_quantities(q.measure, long_subject, 8)
    # the measure named by its first word alone ("what top-1 does ResNet50-D get"): its head word is no other measure
    assert "83%" in measured_quantities(analyze("what top-1 does resnet50-d get").measure, long_subject, 8)
    other = "We report the accuracy on several large benchmarks and train the whole model with only 8 GPUs."
    assert measured_quantities(("accuraci",), other, 8) == []
    broken = "We report the top-1 accuracy on ImageNet-1k for all of the models; training takes about 90 in total."
    assert measured_quantities(q.measure, broken, 8) == []


def test_a_typo_of_a_word_the_index_holds_is_not_an_unknown_name() -> None:
    from rag.index.bm25 import BM25Index

    lexical = BM25Index()
    lexical.build(["p:0"], ["Large-scale pretraining on ImageNet"])

    class Vocabulary(TermCounts):
        def has_typo_of(self, word: str) -> bool:
            return lexical.has_typo_of(word)

    paper = Paper(id="m", title="MLP-Mixer", abstract="MLP-Mixer reaches 87.9% top-1 on ImageNet.")
    q = analyze("what imagenet top-1 does mlp-mixer hit after big pretrainig")
    plain = SufficiencyChecker(Terms({"imagenet": 40}), partial_coverage=0.0, abstain_coverage=0.0)
    assert "pretrainig" in plain.signals(q, [paper.abstract], [paper]).names_unknown
    typo = SufficiencyChecker(Vocabulary({"imagenet": 40}), partial_coverage=0.0, abstain_coverage=0.0)
    assert typo.signals(q, [paper.abstract], [paper]).names_unknown == ()


def test_each_part_asking_for_a_named_thing_gets_a_sentence_naming_one() -> None:
    paper = Paper(
        id="r",
        title="A reproducibility concern about image-text retrieval",
        abstract="This article questions the reproducibility of image-text retrieval gains. "
        "We question which retrieval gains are reproducible and which article claims hold. "
        "Researchers train on MS-COCO and Flickr30k.",
    )
    q = analyze(
        "Which article questions the reproducibility of image-text retrieval gains, and which benchmarks does it name?"
    )
    assert [p.kind for p in q.parts] == ["", "benchmarks"]
    assert "Flickr30k" in extractive(q, paper, per_paper=2, second_sentence=0.0)


def test_a_typo_in_what_a_number_question_counts_is_read_as_the_sentence_s_word() -> None:
    paper = Paper(id="p", title="Static pruning", abstract="Our best methods can prune >25% of passages in a corpus.")
    checker = SufficiencyChecker(Terms({"passag": 30}), partial_coverage=0.0, abstain_coverage=0.0)
    typo = analyze("how many pasages can the quality estimators prune")
    assert typo.measure == ("pasag",)
    assert checker.check(typo, [paper.abstract], [paper]).status == "answered"
    # a measure the index holds is not respelled: the sentence counts something else
    other = analyze("how many queries can the quality estimators prune")
    assert checker.check(other, [paper.abstract], [paper]).status == "partial"


def test_the_paper_holding_the_question_s_rarest_names_is_the_one_it_asks_about() -> None:
    terms = Terms({"imagenet": 200, "top-1": 150, "halonet": 1})
    checker = SufficiencyChecker(terms)
    question = analyze("Tell me the ImageNet top-1 accuracy of the best HaloNet model.")
    halonet = Paper(id="h", title="HaloNets", abstract="HaloNets reach strong accuracy on ImageNet.")
    other = Paper(id="e", title="EfficientNet", abstract="EfficientNet-B7 reaches 84.3% top-1 accuracy on ImageNet.")
    assert checker.sole_namer(question, [halonet, other]) == 0  # two names each: HaloNet is the rare one
    assert checker.sole_namer(question, [other, halonet]) == 1
    assert checker.sole_namer(question, [other, other]) is None  # a tie
    assert checker.sole_namer(analyze("what accuracy do they reach"), [halonet, other]) is None  # no names


JUNCTIONS = Paper(
    id="j",
    title="Planar Josephson Junctions for Sensors and Electronics",
    abstract="Planar junctions are fabricated without overlap at the edge of two superconducting films. The planar "
    "geometry improves impedance matching for terahertz (THz) devices. Signatures of Abelian and Ising anyons "
    "are discussed.",
)


@pytest.mark.parametrize(
    ("sentence", "named"),
    [
        ("The planar geometry improves impedance matching for terahertz (THz) devices.", False),  # a unit
        ("Signatures of Abelian and Ising anyons are discussed.", False),  # capitalised, not a material
        ("The junctions are made of NbN films on sapphire.", True),  # a formula
        ("The junctions are made of niobium films.", True),  # an element, in lower case
        ("The bilayer (La,Pr)3Ni2O7 films are grown on SrLaAlO4.", True),
    ],
)
def test_a_material_is_named_by_a_formula_or_an_element_not_by_capitals_or_units(sentence: str, named: bool) -> None:
    question = analyze("From which superconducting material are the planar Josephson junctions fabricated?")
    assert question.kind == "material"
    assert bool(names_of_kind(question, sentence, AcronymMap())) is named


def test_a_which_material_answer_without_a_material_is_partial() -> None:
    question = "From which superconducting material are the planar Josephson junctions fabricated?"
    sentences = sentences_of(JUNCTIONS.abstract)
    assert judge(question, sentences, JUNCTIONS) == ("partial", "name the material")
    named = Paper(id="n", title=JUNCTIONS.title, abstract=f"{JUNCTIONS.abstract} The junctions are made of NbN.")
    assert judge(question, sentences_of(named.abstract), named)[0] == "answered"


def test_a_unit_names_no_data_set() -> None:
    question = analyze("Which datasets were used to evaluate the imaging model?")
    assert names_of_kind(question, "Imaging runs at 2 THz and 30 GHz on the ImageNet data.", AcronymMap()) == [
        "ImageNet"
    ]


# --- names the index writes as names, asked in lower case ----------------------------------------


def test_a_lower_case_word_the_sources_write_as_a_name_is_a_name() -> None:
    question = analyze("what top-1 accuracy does halonet get with an lstm on the imagenet clip cross-modal benchmark")
    texts = [
        "HaloNets reach 84.9% top-1 on ImageNet; HaloNet beats an LSTM and halonet-style models.",
        "imagenet pretraining helps; we clip gradients. CLIP is strong.",
        "Cross-Modal Fusion Benchmarks: a title in headline case.",
    ]
    names = with_written_names(question, texts).names
    assert "HaloNet" in names and "LSTM" in names  # written as names (HaloNet twice, halonet-style is another word)
    assert not {"ImageNet", "imagenet", "CLIP", "clip"} & set(names)  # as often lower case; a common word
    assert "Cross-Modal" not in names  # a title's capitals
    assert with_written_names(question, []) is question


def test_a_casual_question_about_a_name_the_cited_paper_lacks_is_held_back(tmp_path: Path) -> None:
    """End to end: "halonet" in lower case is the index's HaloNet; an answer from a paper that does not mention
    it says so instead of answering."""
    papers = [
        {
            "id": "h",
            "title": "Scaling local self-attention",
            "abstract": "HaloNet is a family of local self-attention models. HaloNets reach strong results on "
            "ImageNet classification benchmarks.",
        },
        {
            "id": "e",
            "title": "Efficient convolutional networks",
            "abstract": "We train efficient convolutional networks on ImageNet. They reach 84.1% top-1 accuracy "
            "with 8 GPUs.",
        },
    ]
    assistant = fake_assistant(tmp_path / "data")
    assistant.ingest([write_jsonl(tmp_path / "papers.jsonl", papers)], progress=False)
    answer = assistant.ask("what top-1 accuracy does halonet reach on imagenet")
    assert answer.status == "partial" and answer.missing == "mention HaloNet", answer.text


@pytest.mark.parametrize(
    ("sentence", "named"),
    [
        ("ROMK1 was expressed in HEK293 cells.", ["HEK293"]),
        ("COS-7 and HeLa cells were transfected.", ["COS-7", "HeLa"]),
        ("ROMK1 was expressed in Sf9 insect cells.", ["Sf9"]),
        ("The effect holds in cell lines such as MCF-7.", ["MCF-7"]),
        ("We used RNA from human cells with IRK channels.", []),  # names, but no cell line
        ("ROMK1 was expressed in MCF-7 breast cancer cells and Jurkat T cells.", ["MCF-7", "Jurkat"]),
        ("ROMK1 was expressed in human embryonic kidney cells (HEK293).", ["HEK293"]),
        ("ROMK1 carries a single N-glycosylation site (N117).", []),
    ],
)
def test_a_cell_line_is_a_name_the_sentence_calls_a_cell_line(sentence: str, named: list[str]) -> None:
    question = analyze("Which mammalian cell line was used to express the ROMK1 mutant?")
    assert question.kind == "cell line"
    assert names_of_kind(question, sentence, AcronymMap()) == named


def test_a_strain_is_no_kind_of_named_thing() -> None:
    """A strain may be a quantity ("which strain was applied to the VO2 film?": 1.5%), so it asks for no name."""
    assert analyze("Which strain was applied to the VO2 film?").kind == ""


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # things of the asked kind that are no formula: acronyms, codes and mixed case still name them
        ("Which compound was used to inhibit PI3K in macrophages?", "PI3K was inhibited with LY294002."),
        ("Which material was used as the hole transport layer?", "Spiro-OMeTAD was used as the hole layer."),
        ("Which material was used as the electrode?", "Ti3C2Tx MXene was used as the electrode."),
        ("Which substrate were the graphene films grown on?", "The graphene films were grown on h-BN."),
        ("Which material was used as the anode?", "Graphite was used as the anode."),
        ("Which substrate does the kinase phosphorylate in neurons?", "The kinase phosphorylates Tau at Ser262."),
    ],
)
def test_a_material_may_be_named_by_an_acronym_a_code_or_an_element(question: str, sentence: str) -> None:
    assert names_of_kind(analyze(question), sentence, AcronymMap())


@pytest.mark.parametrize(
    "sentence",
    ["Defects in the electrodes lead to a drift of the sensor.", "The gold standard response was recorded."],
)
def test_an_element_word_used_otherwise_names_no_material(sentence: str) -> None:
    assert names_of_kind(analyze("Which material are the sensor electrodes made of?"), sentence, AcronymMap()) == []


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        ("AutoDiff", "we use automatic differentiation to compute the spectrum", True),
        ("BatchNorm", "batch normalization layers follow each convolution", True),
        ("HaloNet", "we train efficient networks with local attention", False),
        ("EvolveGCN", "we evolve the gcn parameters", False),  # a part in capitals is no word's start
    ],
)
def test_a_camel_case_name_is_named_by_the_words_it_shortens(name: str, text: str, named: bool) -> None:
    assert named_in(name, text) is named


def test_a_word_of_an_acronym_spelled_out_in_the_sentence_names_nothing_alone() -> None:
    question = analyze("What superconducting chip did they run the contextual subspace VQE on?")
    acronyms = AcronymMap([("NISQ", "Noisy Intermediate-Scale Quantum")])
    spelled = "We use a superconducting Noisy Intermediate-Scale Quantum (NISQ) device for the simulation."
    assert names_of_kind(question, spelled, acronyms) == []
    assert "Intermediate-Scale" not in names_of_kind(question, spelled, AcronymMap())  # spelled out in the sentence
    named = "We run it on ibm_torino, a Noisy Intermediate-Scale Quantum (NISQ) device."
    assert "ibm_torino" in names_of_kind(question, named, acronyms)


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # a maker or a product asked by name: any name answers it, none is a description of the thing
        (
            "Which company built the quadruped robot?",
            "We deploy a quadruped robot built by Boston Dynamics.",
            "answered",
        ),
        (
            "Who made the drone used for the bridge survey?",
            "For the bridge survey we flew a drone made by DJI.",
            "answered",
        ),
        (
            "Which IMU model tracked the shared object?",
            "The object was tracked with a VectorNav VN-100 IMU.",
            "answered",
        ),
        ("Which camera model recorded the lessons?", "Lessons were recorded with a consumer action camera.", "partial"),
        ("Name the manufacturer of the collaborative robot.", "Welders guide a commercial 6-DoF robot.", "partial"),
        ("Which IMU model tracked the shared object?", "The object was tracked with a low-cost IMU.", "partial"),
        (
            "Which laptop model ran the wallet?",
            "Transfers complete within seconds on a consumer-grade laptop.",
            "partial",
        ),
        # a model of a method is as often described as named
        ("What error model was used?", "We assume a circuit-level depolarizing error model.", "answered"),
        ("Which regression model was fitted?", "We fitted a mixed-effects logistic regression model.", "answered"),
        ("What R2 does the model achieve?", "The model achieves an R² of 0.87.", "answered"),
    ],
)
def test_a_maker_or_a_product_asked_by_name_needs_a_name(question: str, sentence: str, status: str) -> None:
    assert sentence_status(question, sentence) == status


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # helper-70: no maker or product asked by these, so no name is needed
        ("Who makes the final decision on discharge?", "The attending nurse makes the final decision on discharge."),
        ("Who produced the annotations?", "The annotations were produced by two trained annotators."),
        ("Which brand attributes drive loyalty?", "Perceived quality and trust drive brand loyalty."),
        ("Which LSTM model performed best?", "The bidirectional LSTM model performed best."),
        (
            "What vehicle model does the controller use?",
            "The controller uses a kinematic bicycle model of the vehicle.",
        ),
    ],
)
def test_a_question_asking_no_maker_or_product_needs_no_name(question: str, sentence: str) -> None:
    assert sentence_status(question, sentence) == "answered"


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # helper-68: a measure, a unit's letter or a name abstracts call another thing is no product model
        (
            "Which camera model recorded the lessons?",
            "Lessons were recorded with a consumer action camera; the model reached an F1 of 0.82.",
            "partial",
        ),
        (
            "Which microscope model imaged the grain boundaries?",
            "Boundaries were imaged by electron microscopy and grain growth fell by 40% at 600 C.",
            "partial",
        ),
        (
            "Which GPU model trained the classifier?",
            "ResNet-50 was trained on ImageNet on a single data-center GPU using PyTorch and CUDA.",
            "partial",
        ),
        (
            "Which GPU model trained the classifier?",
            "ResNet-50 was trained on ImageNet on a single NVIDIA A100 GPU.",
            "answered",
        ),
        (
            "Which camera model photographed the artifacts?",
            "Artifacts were photographed with a Sony A7 III camera and meshed in COLMAP.",
            "answered",
        ),
        # a maker asked with its model, or a make
        (
            "Name the manufacturer and model of the photodiodes.",
            "We calibrate the most efficient commercially available photodiodes at 1550 nm.",
            "partial",
        ),
        ("What make and model of camera was used?", "Images were taken with a consumer camera.", "partial"),
        ("What make and model of camera was used?", "Images were taken with a Canon EOS 5D camera.", "answered"),
        ("Which brand of treadmill was used?", "Walking tests were run on a motorised treadmill.", "partial"),
        # a maker needs no hardware name: a company abstracts call other things still answers
        ("Which company built the assistant?", "The assistant was built by Google.", "answered"),
    ],
)
def test_a_product_model_is_not_named_by_a_measure_or_another_kind_of_thing(
    question: str, sentence: str, status: str
) -> None:
    assert sentence_status(question, sentence) == status
