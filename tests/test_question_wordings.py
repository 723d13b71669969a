"""A which-question asks for the same kind of named thing however it is worded (a typo in the kind word,
"collections"), a verb before a metric word asks for a cause, not a number, and a method's name or an
acronym spelled out as a network names no data set. Cases from a fresh paraphrase set
(rag/data/qa/paraphrase_dev2.jsonl) whose wordings got different verdicts."""

from __future__ import annotations

import pytest

from rag.acronyms import AcronymMap
from rag.generation.extractive import answer_bonus
from rag.kinds import names_of_kind
from rag.names import names_a_method
from rag.quantities import measure_matches, measured_quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from rag.words import terms
from tests.fakes import TermCounts
from tests.test_named_kind import extractive


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("which datsets does the compositional scene survey benchmark on", "datasets"),  # a typo of the kind word
        ("what network architecure did the outliers paper train in its experiments", "architecture"),
        ("which benchmark collections does the neural ranking survey compare the models on", "collections"),
        ("Which material properties are reported for the film?", ""),  # a noun follows: properties are asked
        ("What loss function does GRPO optimize?", ""),  # a verb's form, not a typo of "optimizer"
        ("Which method solves the routing problem?", ""),
        ("Which loss is optimized in the second stage?", ""),
        ("Which model trained on the benchmark released in 2021 performs best?", ""),  # a model is asked
        ("Which model trained on the datasets did best?", ""),  # the kind word qualifies the model
        ("Which collections of neurons encode reward prediction errors?", ""),
        ("which in the wild expresion datasets did fdrl test on", "datasets"),
        ("Which residual networks are wider?", ""),
        # the object of an imperative is what is asked, whatever participle follows it
        ("Name the network architecture trained in the experiments of the paper.", "architecture"),
        ("Name the two optimizers compared in the case study.", "optimizers"),
        ("Name the model trained on the benchmark released in 2021.", ""),
    ],
)
def test_every_wording_reads_the_kind_of_named_thing(question: str, kind: str) -> None:
    assert analyze(question).kind == kind


def test_a_typo_is_fixed_only_in_a_kind_word_the_vocabulary_does_not_know() -> None:
    assert analyze("which datsets were used").kind == "datasets"
    assert analyze("which maternal factors were studied").kind == ""  # an English word one edit from "material"


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("in the wide cnn paper what controls the error decay when the target depends on few inputs", "description"),
        ("what limits the accuracy of the model", "name"),
        ("what mainly limits the accuracy of the model", "name"),  # an adverb before the verb
        ("what strongly influences the resistivity of graphene between 150 K and room temperature?", "name"),
        ("what most strongly affects the error rate of the decoder?", "name"),
        ("what accuracy does the model reach?", "number"),
        ("Tell me what daily doses the median patient tolerated.", "number"),  # "daily" is no adverb (helper-89)
        ("What family sizes the mean household had?", "number"),
        ("What is the error rate of X?", "number"),  # "is" is no verb of cause
        ("what parameters the model has", "number"),  # a metric word, not a verb
        ("What fraction of the images are labelled?", "number"),
    ],
)
def test_a_verb_and_its_article_before_a_metric_word_ask_for_a_cause(question: str, asks: str) -> None:
    assert analyze(question).asks == asks


@pytest.mark.parametrize(
    ("question", "asks", "phrase"),
    [
        # a relative clause's "which" after a noun and its preposition asks for nothing
        ("Name the model used to illustrate the scheme in which precision improves as the gap grows.", "name", ""),
        ("Name the dataset on which accuracy improves the most.", "name", ""),
        ("Which is the layer after which the accuracy drops?", "name", ""),
        # a question's own cue still asks, after a leading preposition or a conjunction
        ("On which substrate, and with what thickness, was the film grown?", "number", "thickness"),
        ("In which year, and by what margin, did it win?", "number", "margin"),
        ("For GPT-3, what accuracy does the probe reach?", "number", "accuracy"),
        ("In the regime of strong coupling, at what temperature does the gap close?", "number", "temperature"),
        ("Grown on sapphire at what temperature?", "number", "temperature"),
        ("And, at what dose did toxicity occur?", "number", "dose"),
        # a threshold something reaches is a quantity; a threshold decoder, theorem or type is a thing
        ("what threshold do tile codes reach under circuit-level noise", "number", "threshold"),
        ("What threshold decoder do they use?", "name", ""),
        ("What type of threshold is used?", "name", ""),
        ("otsu threshold", "description", ""),
    ],
)
def test_a_relative_clause_asks_nothing_and_a_threshold_reached_is_a_quantity(
    question: str, asks: str, phrase: str
) -> None:
    asked = analyze(question)
    assert (asked.asks, asked.measure_phrase) == (asks, phrase)


def test_a_method_or_task_name_and_its_words_name_no_data_set() -> None:
    question = analyze("which image dataset were the experiments run on")
    sentence = "We also highlight connections to grokking, simplicity bias, and Sharpness-Aware Minimization."
    assert names_of_kind(question, sentence, AcronymMap()) == []
    assert names_a_method("Sharpness-Aware Minimization") and names_a_method("Image Classification")
    assert not names_a_method("Penn Treebank") and not names_a_method("Beijing")
    assert not names_a_method("Something-Something V2") and not names_a_method("Bank Marketing")
    assert names_of_kind(question, "The experiments run on CIFAR-10 with Sharpness-Aware Minimization.", AcronymMap())
    # for a question asking for a method, the same name answers
    method = analyze("Which optimizer does the case study use?")
    assert names_of_kind(method, "The case study uses Sharpness-Aware Minimization.", AcronymMap())


def test_an_acronym_spelled_out_as_a_network_names_no_data_set() -> None:
    acronyms = AcronymMap(
        [("MLP", "multi layer perceptrons"), ("CNN", "convolutional neural networks"), ("PTB", "Penn Treebank")]
    )
    question = analyze("Which dataset does the image and text matching paper evaluate on?")
    sentence = "We combine convolutional neural networks (CNN) and multi layer perceptrons (MLP) on PTB."
    assert names_of_kind(question, sentence, acronyms) == ["PTB"]
    paper = Paper(id="m", title="Matching", abstract=sentence.replace(" on PTB", ""))
    terms = TermCounts({w: 5 for w in "dataset image text matching paper evaluate".split()}, acronyms)
    checker = SufficiencyChecker(terms, partial_coverage=0.0, abstain_coverage=0.0)
    verdict = checker.check(question, [paper.abstract], [paper])
    assert (verdict.status, verdict.missing) == ("partial", "name the dataset")
    assert checker.check(question, [sentence], [paper]).status == "answered"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("how big was the adam vs sgd acuracy gap in the case study", "sgd accuracy gap"),
        ("How large is the inference speed-up of the code generator?", "inference speed-up"),
        ("How high is the transition temperature of the film?", "transition temperature"),
        # no metric word, or a word for a change, that an answer need not repeat ("outperforms BERT by 4.5 points")
        ("How small are the winning tickets compared to the full network?", ""),
        ("How large is the improvement over BERT?", ""),
        ("How much was the drop in accuracy without attention?", ""),
        ("How large were the tumors?", ""),
        # a comparison's measure after "in", and a name inside the counted noun phrase
        ("how far ahead in accuracy is the plain prototypical network?", "accuracy"),
        ("How much better in the BLEU score is X than Y?", "BLEU score"),
        ("How much faster is X than Y?", "faster"),
        ("On how many chest CT scans was the segmentation tested?", "chest CT scans"),
        ("how many brain MRI volumes were segmented", "brain MRI volumes"),
        ("What PSNR NeMF achieves on Vimeo?", "PSNR"),  # the name is the subject, not part of the measure
    ],
)
def test_how_big_is_the_thing_measures_the_thing(question: str, phrase: str) -> None:
    assert analyze(question).measure_phrase == phrase


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        # "(by) how much" with a verb of change measures its object, the metric after a named object, or a metric
        # subject; not a possessive compared with ("the baseline's") nor a participle before the verb
        ("By how much does annealing increase the average crystallite size in NbRe films?", "average crystallite size"),
        ("how much did it raise tgf-beta1 release from pbmcs", ""),  # a process, not a metric
        ("By how much does the CNN beat Swin in ImageNet-1k top-1 accuracy?", "ImageNet-1k top-1 accuracy"),
        ("by how much did Adam's test accuracy beat SGD's?", "test accuracy"),
        ("By how much does the new model's accuracy exceed the baseline's?", "accuracy"),
        ("how much did the Neel temperature of the film drop in a magnetic field?", "Neel temperature"),
        ("How much did perplexity go down after pruning?", "perplexity"),
        (
            "how much further did telmisartan lower systolic blood pressure than ramipril alone?",
            "systolic blood pressure",
        ),
        ("how much did the reduced model lower latency?", "latency"),
        ("how much higher is the F1 of BERT than that of ELMo?", "F1"),
        ("How much did ResNet improve?", ""),
        # the object, when there is one, not a metric word of the subject; the last verb, not an adjective
        ("how much did temperature scaling lower the ece", ""),
        ("How much did the dose increase change the response rate?", "response rate"),
        ("How much did a lower temperature improve the yield?", "yield"),
        ("How much faster is the new sampler than DDPM?", "faster"),
        # an owner of the object, and a subordinate clause's verb, are not the measure
        ("How much does BN improve the network's accuracy?", "accuracy"),
        ("How much does accuracy drop if we reduce the batch size?", "accuracy"),
        ("by how much does it reduce the word error rate relative to the baseline?", "word error rate"),
    ],
)
def test_how_much_a_thing_changed_measures_the_changed_quantity(question: str, phrase: str) -> None:
    assert analyze(question).measure_phrase == phrase


def test_how_much_a_metric_changed_is_answered_only_by_a_figure_of_that_metric() -> None:
    question = analyze("By how much did Adam's test accuracy beat SGD's in the case study?")
    case = "A case study compares Adam and SGD, with 12 random seeds."
    paper = Paper(id="o", title="Outliers", abstract=f"We study outliers. {case}")
    terms = TermCounts({w: 5 for w in "test accuracy adam sgd case study".split()})
    checker = SufficiencyChecker(terms, partial_coverage=0.0, abstain_coverage=0.0)
    assert checker.check(question, [case], [paper]).status == "partial"
    stated = "In the case study, Adam's test accuracy exceeds SGD's by 3%."
    reported = Paper(id="r", title="Outliers", abstract=f"We study outliers. {stated}")
    assert checker.check(question, [stated], [reported]).status == "answered"


def test_a_comparison_in_a_metric_is_answered_by_the_metric_s_gain() -> None:
    question = analyze("After 600 Omniglot classes, how far ahead in accuracy is the prototypical network?")
    gain = "A prototypical network increases the accuracy by over 22% after learning 600 Omniglot classes."
    paper = Paper(id="f", title="Federated learning", abstract=f"A prototypical network outperforms others. {gain}")
    terms = TermCounts({w: 5 for w in "omniglot classes prototypical network accuracy".split()})
    checker = SufficiencyChecker(terms, partial_coverage=0.0, abstain_coverage=0.0)
    assert checker.check(question, [gain], [paper]).status == "answered"
    assert checker.check(question, ["A prototypical network outperforms others."], [paper]).status == "partial"


def test_a_how_big_question_is_answered_only_by_a_quantity_of_what_it_measures() -> None:
    question = analyze("how big was the accuracy gap between adam and sgd in the case study")
    paper = Paper(
        id="o",
        title="Outliers",
        abstract="We study a two-layer linear network. A case study compares Adam and SGD on outliers.",
    )
    terms = TermCounts({w: 5 for w in "accuracy gap adam sgd case study".split()})
    checker = SufficiencyChecker(terms, partial_coverage=0.0, abstain_coverage=0.0)
    assert checker.check(question, [paper.abstract], [paper]).status == "partial"
    stated = "In the case study Adam beats SGD with an accuracy gap of 3 points."
    reported = Paper(id="r", title="Outliers", abstract=f"{paper.abstract} {stated}")
    assert checker.check(question, [stated], [reported]).status == "answered"


def test_a_yes_no_answer_quotes_the_sentence_stating_the_finding() -> None:
    question = analyze("Are graph neural networks with random node initialization universal?")
    finding = "In this work, we analyze GNNs with RNI, and prove that these models are universal."
    unstated = finding.replace("prove that", "study whether")
    assert answer_bonus(question, finding) - answer_bonus(question, unstated) > 0.1
    assert answer_bonus(analyze("Which models are universal?"), finding) < answer_bonus(question, finding)
    prior = "Recent reports have suggested that these models are universal."  # prior work's finding, not this paper's
    assert answer_bonus(question, prior) == answer_bonus(question, prior.replace("suggested that", "asked whether"))
    paper = Paper(
        id="g",
        title="On Expressive Power Beyond the Weisfeiler-Leman Test",
        abstract="Graph neural networks are effective models for representation learning on relational data. "
        f"{finding} These networks are enhanced with random node initialization.",
    )
    answer = extractive(question, paper)
    assert "prove that these models are universal" in answer
    assert answer.index("prove that") < answer.index("are enhanced")  # the sentences keep the abstract's order


def test_an_answer_holds_the_sentence_with_what_the_question_asks_beyond_the_title() -> None:
    paper = Paper(
        id="a",
        title="Auto-GNN: Neural Architecture Search of Graph Neural Networks",
        abstract="Neural architecture search has shown its potential in discovering effective deep architectures. "
        "Graph neural network architecture search is hard. "
        "A reinforcement learning based controller is designed to greedily validate architectures via small steps.",
    )
    answer = extractive("Auto-GNN architecture search controller type", paper)
    assert "reinforcement learning based controller" in answer
    # a question in words gets the sentences that answer it, not one more that only restates it
    posenet = Paper(
        id="p",
        title="PoseNet",
        abstract="Our system trains a convolutional network to regress the 6-DOF camera pose from a single RGB image. "
        "It obtains approximately 2m accuracy outdoors, taking 5ms per frame.",
    )
    timed = extractive("How long does the convnet that regresses 6-DOF camera pose take per frame?", posenet)
    assert "5ms per frame" in timed and "trains a convolutional network" not in timed


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which Dsn1 residues does Aurora B phosphorylate?", "residues"),
        ("which receptor does resolvin e1 signal through", "receptor"),
        ("which transcription factors does the review name as inducing ips cells", "transcription factors"),
        ("What genes were upregulated in the tumours?", "genes"),
        ("Which gene expression changes were seen?", ""),  # a noun follows: changes are asked
    ],
)
def test_a_biomedical_thing_named_by_a_symbol_is_a_kind(question: str, kind: str) -> None:
    assert analyze(question).kind == kind


def test_the_kind_itself_or_its_other_spelling_names_none_of_its_kind() -> None:
    question = analyze("which specific mirnas are given as examples in the review")
    acronyms = AcronymMap([("miRNAs", "microRNAs")])
    assert names_of_kind(question, "MicroRNAs (miRNAs) help to confer robustness.", acronyms) == []
    # the other spelling is the kind itself even where the index defines neither
    assert names_of_kind(question, "MicroRNAs help to confer robustness.", AcronymMap()) == []
    assert names_of_kind(analyze("Which microRNAs are given as examples?"), "miRNAs confer it.", AcronymMap()) == []
    assert names_of_kind(question, "For example, miR-7 and let-7 confer robustness.", acronyms) == ["miR-7", "let-7"]
    receptor = analyze("Which receptor does resolvin E1 signal through?")
    assert names_of_kind(receptor, "Resolvin E1 dampens inflammation in the lung.", AcronymMap()) == []
    assert names_of_kind(receptor, "Resolvin E1 signals through ChemR23 on leukocytes.", AcronymMap()) == ["ChemR23"]


def test_a_unit_written_onto_its_number_states_the_measure() -> None:
    question = analyze("What range of wedelolactone concentration was used as pretreatment?")
    assert question.measure_phrase == "wedelolactone concentration"  # not "of wedelolactone concentration"
    sentence = "The pretreatment WEL (2.5-20μM) protected the cells."
    assert measured_quantities(question.measure, sentence, 8) == ["2.5-20"]
    assert measured_quantities(question.measure, "WEL (2.5-20 days) protected the cells.", 8) == []
    # the sentence-level check reads the same unit written onto its number
    concentration = ("concentr",)
    assert measure_matches(concentration, terms(sentence), sentence)
    assert not measure_matches(concentration, terms("WEL (2.5-20 days) helped."), "WEL (2.5-20 days) helped.")


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("In the PLATO substudy, how many patients had pre-existing diabetes?", ("PLATO",)),
        ("For the DSen2 network, how many spectral bands does Sentinel-2 have?", ("DSen2", "Sentinel-2")),
        ("According to the ACCORD trial, what was the rate of stroke?", ("ACCORD",)),
        # the reader's own setting names nothing that must be answered
        ("For my thesis on ResNet, what accuracy does ViT reach?", ("ViT",)),
        ("I'm reading about ResNet; what accuracy does ViT reach?", ("ViT",)),
        ("For a literature review on BERT, which papers study knowledge distillation?", ()),
        ("Regarding your previous answer about BERT, what accuracy does ViT reach?", ("ViT",)),
        ("In PyTorch, how should label smoothing be implemented?", ()),
        ("In TensorFlow, which optimizer works best for transformers?", ()),
        ("On Kaggle, which gradient boosting libraries win tabular competitions?", ()),
        ("In a previous chat with GPT-4, how many layers does LLaMA have?", ("LLaMA",)),
        ("In the era of ChatGPT, which benchmarks are saturated?", ()),
        ("In the NeurIPS paper, what does the model reach?", ()),  # a venue the abstract need not name
        ("In the model I trained on ImageNet, which layer overfits?", ()),
    ],
)
def test_a_leading_phrase_that_sets_the_scene_keeps_its_names(question: str, names: tuple[str, ...]) -> None:
    assert analyze(question).names == names


def test_a_question_about_a_study_no_abstract_names_is_held_back() -> None:
    registry = Paper(id="g", title="GRACE registry", abstract="The study comprised 7638 women with ACS in GRACE.")
    checker = SufficiencyChecker(TermCounts({"grace": 3, "acs": 5, "women": 9}), partial_coverage=0.5)
    asked = analyze("In the PLATO substudy, how many women with ACS were studied?")
    assert checker.check(asked, [registry.abstract], [registry]).status == "abstained"
    asked = analyze("In the GRACE registry, how many women with ACS were studied?")
    assert checker.check(asked, [registry.abstract], [registry]).status == "answered"
