"""What kind of thing a name is, mined from many abstracts (eval/mine_name_kinds.py): a sentence naming only things
that papers call something else ("the Frank-Wolfe algorithm") does not answer "which solver ...?"."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rag.acronyms import AcronymMap
from rag.generation.context import Source
from rag.generation.extractive import ExtractiveAnswerer
from rag.index.embedders import HashEmbedder
from rag.kinds import names_of_kind, read_name_kinds, typed_otherwise, unnamed_kind
from rag.names import kind_heads, names_a_process
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.support import SentenceEmbeddings
from rag.types import Hit, Paper
from tests.fakes import TermCounts, sentence_status

ROOT = Path(__file__).resolve().parents[1]
SOLVER = kind_heads("solver")
DATASET = kind_heads("datasets")
NO_MAP = AcronymMap([])


def _miner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mine_name_kinds", ROOT / "eval" / "mine_name_kinds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "heads", "otherwise"),
    [
        ("Frank-Wolfe", SOLVER, True),  # a method or an algorithm in the abstracts, never a solver
        ("ImageNet", SOLVER, True),  # a data set
        ("Gurobi", SOLVER, False),  # "the Gurobi solver"
        ("ImageNet", DATASET, False),
        ("CIFAR-10", DATASET, False),
        ("Adam", kind_heads("optimizer"), False),
        ("SGD", DATASET, True),  # an algorithm or an optimizer; once or twice a "data set" by a parse slip
        ("MATLAB", SOLVER, False),  # "MATLAB code": software
        ("Zorblax-9", SOLVER, False),  # no abstract calls it anything: not known, so not ruled out
        ("ImageNet", kind_heads("cell lines"), False),  # the table knows too few nouns of cell lines to judge
        ("ImageNet", kind_heads("materials"), False),  # nor materials ("hBN" is a layer, a substrate, ...)
        ("Bloom", kind_heads("models"), True),  # "Bloom filter"; names are read as written
        ("BLOOM", kind_heads("models"), False),
    ],
)
def test_a_name_is_of_another_kind_only_when_many_abstracts_call_it_so(
    name: str, heads: frozenset[str], otherwise: bool
) -> None:
    assert typed_otherwise(name, heads) is otherwise


def test_a_prior_method_named_in_a_relevant_sentence_does_not_answer_which_solver() -> None:
    question = analyze("Which solver was used for the conic optimization of the key rates?")
    prior = "The problem has hitherto been tackled using the Frank-Wolfe algorithm, which is unstable."
    used = "We solve the conic program with Gurobi and report key rates for several protocols."
    assert question.kind == "solver"
    assert names_of_kind(question, prior, NO_MAP) == []
    assert unnamed_kind(question, [prior], NO_MAP) == "solver"
    assert names_of_kind(question, used, NO_MAP) == ["Gurobi"]
    assert unnamed_kind(question, [prior, used], NO_MAP) == ""
    # the sentence's own label wins over the abstracts' usual one
    assert names_of_kind(question, "We run the Frank-Wolfe solver of our toolbox.", NO_MAP) == ["Frank-Wolfe"]
    assert names_of_kind(question, "We compare with the solver Frank-Wolfe.", NO_MAP) == ["Frank-Wolfe"]


def test_a_process_names_no_architecture_but_may_be_an_optimizer_or_a_baseline() -> None:
    sentence = "We relate it to grokking, simplicity bias and Sharpness-Aware Minimization."
    assert names_of_kind(analyze("Name the network architecture trained in the experiments."), sentence, NO_MAP) == []
    assert "Sharpness-Aware Minimization" in names_of_kind(analyze("Which optimizer was used?"), sentence, NO_MAP)
    assert "Sharpness-Aware Minimization" in names_of_kind(analyze("Which baselines were compared?"), sentence, NO_MAP)
    # an architecture may be named like a method ("Deep Residual Learning", "Linear Attention"), not like a process
    assert not names_a_process("Deep Residual Learning") and not names_a_process("Linear Attention")
    assert names_a_process("Image Classification") and names_a_process("Layer-Wise Normalization")
    trained = "We train GPT-2 with MoE-Routing Learning and Layer-Wise Normalization."
    found = names_of_kind(analyze("Which architecture did they train?"), trained, NO_MAP)
    assert "GPT-2" in found and "MoE-Routing" in found and "Layer-Wise Normalization" not in found
    assert "Layer-Wise Normalization" not in names_of_kind(analyze("Which datasets did they use?"), trained, NO_MAP)


def test_the_verdict_on_an_answer_naming_only_another_kind_of_thing_says_what_is_missing() -> None:
    paper = Paper(
        id="q",
        title="Finite-size key rates from conic optimization",
        abstract="Computing finite-size key rates for conic optimization has hitherto been tackled using the "
        "Frank-Wolfe algorithm. We introduce a non-symmetric conic optimization method for key rates.",
    )
    checker = SufficiencyChecker(TermCounts({"frank-wolfe": 2}, NO_MAP), partial_coverage=0.0, abstain_coverage=0.0)
    question = analyze("Which solver was used for the conic optimization of the key rates?")
    verdict = checker.check(question, [paper.abstract.split(". ")[0]], [paper])
    assert (verdict.status, verdict.missing) == ("partial", "name the solver")


def test_the_shipped_table_was_mined_from_many_abstracts_and_knows_kind_nouns() -> None:
    found = json.loads((ROOT / "rag" / "data" / "name_kinds.json").read_text(encoding="utf-8"))
    assert {"dataset", "solver", "algorithm", "optimizer"} <= set(found["heads"])
    assert not {"and", "achieve", "paper"} & set(found["heads"])
    assert found["names"]["Frank-Wolfe"]["method"] >= 2
    assert len(found["names"]) > 5000


def test_the_miner_reads_kinds_from_the_noun_after_a_name_and_from_lists() -> None:
    miner = _miner()
    texts = [
        "We train with the PPO algorithm. It beats solvers such as Gurobi and CPLEX. Tools (e.g. Gurobi solver) help.",
        "The GPT-3.5 model and the ViT-B/16 backbone help. The solver SCIP wins. Solvers such as HiGHS fail.",
        "Gurobi and other solvers fail. We use the solver Gurobi and the RRT algorithm.",
        "The A2C algorithm and the DQN algorithm help. The SAT solver and the MIP solver run. And PPO achieves more.",
        "The BERT model and the Swin-T backbone run.",
    ]
    found = miner.mine(texts, min_names=2, min_named=0.0, min_det=0.0, max_of=1.0, min_count=1)
    assert {"algorithm", "solver"} <= set(found["heads"])
    assert "achieve" not in found["heads"]  # a verb follows a name, but no determiner comes before it
    assert found["names"]["Gurobi"]["solver"] == 4  # "such as", "and other", "the solver Gurobi", "e.g. Gurobi solver"
    assert found["names"]["GPT-3.5"] == {"model": 1} and found["names"]["ViT-B/16"] == {"backbone": 1}
    assert found["names"]["SCIP"] == {"solver": 1} and found["names"]["HiGHS"] == {"solver": 1}
    assert found["names"]["CPLEX"] == {"solver": 1}
    assert found["names"]["PPO"] == {"algorithm": 1}
    assert "And" not in found["names"]  # a capital opening a sentence names nothing: "And PPO"


def test_an_optimizer_is_not_an_architecture_nor_an_architecture_an_optimizer() -> None:
    sentence = "We train the network with SGD and study the loss spikes caused by outliers."
    architecture = analyze("Name the network architecture trained in the experiments on outliers.")
    optimizer = analyze("Which optimizer was the network trained with in the experiments on outliers?")
    assert architecture.kind and optimizer.kind
    assert names_of_kind(architecture, sentence, NO_MAP) == []
    assert names_of_kind(optimizer, sentence, NO_MAP) == ["SGD"]
    assert kind_heads("optimizers") != kind_heads("architectures")


def test_a_missing_or_damaged_table_rules_out_no_name(tmp_path: Path) -> None:
    assert read_name_kinds(tmp_path / "absent.json") == ({}, frozenset())
    broken = tmp_path / "broken.json"
    broken.write_text('{"heads": ["solver"], "names": {"Gurobi": {"solver": 3', encoding="utf-8")
    assert read_name_kinds(broken) == ({}, frozenset())
    odd = tmp_path / "odd.json"
    odd.write_text('{"heads": ["solver"], "names": {"Gurobi": {"solver": 3, "x": "6"}, "SCIP": [1]}}', "utf-8")
    assert read_name_kinds(odd) == ({"Gurobi": {"solver": 3}}, frozenset({"solver"}))


def test_software_is_a_kind_of_named_thing_and_its_answer_keeps_the_sentence_naming_it() -> None:
    question = analyze("Tell me which software was used for the logical-qubit resource estimates of the algorithms.")
    assert question.kind == "software"
    assert analyze("Which software package implemented the solver?").kind == "software package"
    assert kind_heads("software package") == kind_heads("software") == SOLVER
    abstract = (
        "Photodynamic therapy needs better photosensitizers. In this work, we show how fault-tolerant quantum "
        "algorithms can identify photosensitizer candidates. We estimate logical-qubit counts for the algorithms. "
        "Our resource estimates, obtained with PennyLane, suggest that 180 logical qubits suffice."
    )
    paper = Paper(id="p", title="Quantum algorithms for photosensitizers", abstract=abstract)
    source = Source(number=1, hit=Hit(paper=paper, score=0.9, passage=abstract), text=abstract)
    answer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder(64))).answer(question, [source])
    assert "PennyLane" in answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which quantum processor, by name, was used for the 72-qubit run?", "quantum processor"),
        ("what superconducting chip did they run the vqe on", "chip"),
        ("Which GPU was PIGEON benchmarked on?", "GPU"),
        ("which quantum computer were the wavepackets evolved on", "quantum computer"),
        # the kind inside a "for" phrase is not what is asked: a benchmark suite is
        ("Name the benchmark suite for pre-fault-tolerant quantum devices that combines Clifford circuits.", ""),
    ],
)
def test_hardware_is_a_kind_of_named_thing(question: str, kind: str) -> None:
    assert analyze(question).kind == kind


def test_a_processor_is_named_by_an_identifier_and_a_relevant_sentence_without_one_names_none() -> None:
    question = analyze("Which IBM processor was used for the real-time measurement of the two-plaquette model?")
    named = "We run the two-plaquette model on the 156-qubit ibm_fez processor."
    unnamed = "Using 72 superconducting qubits, we observe the two-plaquette dynamics on a quantum processor."
    assert names_of_kind(question, named, NO_MAP) == ["ibm_fez"]
    assert unnamed_kind(question, [unnamed], NO_MAP) == "processor"
    assert unnamed_kind(question, [named], NO_MAP) == ""


def test_an_ordinary_word_beside_a_name_is_a_name_where_the_sentence_calls_it_one_of_the_asked_kind() -> None:
    question = analyze("Which specific IBM processor did the Ising meson spectroscopy run on?")
    called = "We demonstrate the spectroscopy on the IBM Torino device, using native fractional gates."
    assert names_of_kind(question, called, NO_MAP) == ["Torino"]
    # not called a processor, or an ordinary capitalised word alone: no name (a first version took one alone where
    # a head noun was near, and helper-60 found "a Public dataset", "the benchmark in Table 2", "a Vanilla model")
    assert names_of_kind(question, "The IBM Torino team ran the circuits on a superconducting device.", NO_MAP) == []
    datasets = analyze("Which dataset was used to evaluate the summarisation model?")
    for sentence in ("It is evaluated on a Public dataset.", "It is evaluated on the benchmark in Table 2."):
        assert names_of_kind(datasets, sentence, NO_MAP) == []


@pytest.mark.xfail(
    strict=True,
    reason="kind_heads joins a multi-word kind into one word ('quantumhardware') and finds "
    "no group; reading its last word instead also types multi-word names in sentences, not yet measured",
)
def test_a_multi_word_hardware_kind_is_of_the_hardware_group() -> None:
    assert kind_heads("quantum hardware") == kind_heads("processor")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which RL algorithm was used to train the policy?", "algorithm"),
        # a tool is no kind: lower-case and ordinary-word names ("samtools", "Fiji") are common, and one held-out
        # paraphrase_fresh answer turned partial when it was (helper-81)
        ("Which tool was used to annotate the images?", ""),
        ("Which vision encoder does the assistant use?", "encoder"),
        ("job-shop GNN scheduler RL algorithm", "algorithm"),  # a keyword query ending in the kind
    ],
)
def test_a_which_question_asks_for_an_algorithm_or_an_encoder_by_name_but_not_for_a_tool(
    question: str, kind: str
) -> None:
    assert analyze(question).kind == kind


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [
        # helper-80: the asked kind only by its field or a generic word is a near miss
        ("Which RL algorithm trained the policy?", "The policy was trained with reinforcement learning.", "partial"),
        (
            "Which RL algorithm trained the policy?",
            "The policy was trained with a reinforcement learning algorithm.",
            "partial",
        ),
        ("Which algorithm schedules the jobs?", "Jobs are scheduled by the proposed algorithm.", "partial"),
        ("Which search algorithm finds the schedule?", "We frame scheduling as a tree search problem.", "partial"),
        ("Which vision encoder does it use?", "A vision encoder feeds a large language model.", "partial"),
        # a name, or a specific method written in lower case, answers
        ("Which RL algorithm trained the policy?", "The policy was trained with PPO in simulation.", "answered"),
        (
            "Which RL algorithm trained the policy?",
            "The policy was trained with a soft actor-critic algorithm.",
            "answered",
        ),
        (
            "Which algorithm places the cells?",
            "Cells are placed by simulated annealing with a cooling schedule.",
            "answered",
        ),
        (
            "Which algorithm tunes the antenna geometry?",
            "The geometry was optimised with a genetic algorithm.",
            "answered",
        ),
        (
            "Which tool was used to annotate the images?",
            "Images were annotated with CVAT by three experts.",
            "answered",
        ),
        ("Which vision encoder does it use?", "A CLIP ViT-L/14 encoder feeds the language model.", "answered"),
        # a description of the asked kind, people, a setting, a comparison, a possessive: no name (helper-68, -80, -82)
        ("Which optimizer trained the network?", "The network was trained with a learning rate of 0.001.", "partial"),
        ("Which algorithm ranks the pages?", "The pages are ranked by the company's algorithm.", "partial"),
        # a task before the head, or a noun after its acronym: no method (kinds_arxiv ka-010)
        (
            "Which algorithm schedules the jobs?",
            "A rule is defined for selecting algorithms to schedule the jobs.",
            "partial",
        ),
        (
            "Which search algorithm finds the schedule?",
            "We frame the schedule as a tree search (TS) problem.",
            "partial",
        ),
        (
            "Which algorithm places the cells?",
            "Cells are placed by simulated annealing (SA) with a schedule.",
            "answered",
        ),
        # an acronym the sentence spells out as a problem names what the algorithm solves, not the algorithm (p-047)
        (
            "Which RL algorithm solves the scheduling?",
            "We study the job-shop scheduling problem (JSSP) with a learned dispatcher.",
            "partial",
        ),
        (
            "Which RL algorithm solves the scheduling?",
            "We solve the job-shop scheduling problem (JSSP) with proximal policy optimization (PPO).",
            "answered",
        ),
    ],
)
def test_an_algorithm_or_an_encoder_is_answered_by_its_name_not_by_its_field_a_description_or_a_task(
    question: str, sentence: str, status: str
) -> None:
    assert sentence_status(question, sentence) == status


def test_an_algorithm_may_be_named_in_title_case_and_the_answer_reads_acronyms_as_the_index_does() -> None:
    question = analyze("Which search algorithm designs the ansatz circuits?")
    found = "The ansatz circuits are designed by a method based on Monte Carlo Tree Search to save gates."
    assert names_of_kind(question, found, NO_MAP) == ["monte carlo tree search"]
    assert names_of_kind(question, "The ansatz circuits are designed by a search over gates.", NO_MAP) == []
    # "JSSP" is spelled out as a problem by the index (not by this abstract, which writes "a job-shop problem
    # (JSSP)"): the answer must keep the sentence naming the algorithm, as the check reads JSSP as the index does
    asked = analyze("Name the reinforcement learning algorithm used to train the GNN scheduler for job-shop problems.")
    abstract = (
        "We learn to schedule a job-shop problem (JSSP) using a graph neural network (GNN) and reinforcement "
        "learning (RL). The GNN scheduler embeds the JSSP as a graph and learns a scheduling policy. We employ "
        "Proximal Policy Optimization (PPO) to train the modules end to end. The GNN scheduler generalizes to new "
        "JSSP instances."
    )
    paper = Paper(id="p", title="Learning to schedule job-shop problems", abstract=abstract)
    source = Source(number=1, hit=Hit(paper=paper, score=0.9, passage=abstract), text=abstract)
    index = AcronymMap([("JSSP", "job shop scheduling problem"), ("RL", "reinforcement learning")])
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder(64)))
    assert "PPO" in answerer.answer(asked, [source], index)


def test_an_algorithm_the_index_spells_out_as_a_method_or_a_network_still_names_an_algorithm() -> None:
    # helper-82: with a real index's acronyms "PPO" ends in "optimization" and "DQN" in "network"; for an
    # architecture or a data set that rules them out, for an algorithm it does not
    index = AcronymMap([("PPO", "proximal policy optimization"), ("DQN", "deep Q-network")])
    question = analyze("Which RL algorithm trained the policy?")
    assert names_of_kind(question, "The policy was trained with PPO in simulation.", index) == ["PPO"]
    assert names_of_kind(question, "The policy was trained with DQN in simulation.", index) == ["DQN"]
    datasets = analyze("Which dataset trained the policy?")
    assert names_of_kind(datasets, "The policy was trained with DQN in simulation.", index) == []


def test_a_method_phrase_keeps_at_most_three_words_before_its_head_however_long_the_hyphen_chain() -> None:
    # helper-81: normalising "w1-w2-...-wn algorithm" split one token into n words, and the initials test grew with
    # their square; the phrase is capped after normalising
    chain = "-".join(["alpha"] * 300)
    found = names_of_kind(analyze("Which algorithm was used?"), f"We used the {chain} algorithm.", NO_MAP)
    assert found == ["alpha alpha alpha algorithm"]
