"""The pipeline's logic through fakes (hash embedder, in-memory Chroma, scripted chat): fusion, MMR, filters,
dedup, abstention, citation checking, context packing and follow-up condensing. No model, no server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import NO_ANSWER, Answer, Assistant, Hit, Paper, Settings
from rag.answering import Answerer
from rag.citations import UNSUPPORTED
from rag.followup import standalone
from rag.fusion import best_per_paper, convex, diversify, fuse, mmr, rrf
from rag.generation.context import NONCE_CHARS, Source, pack_sources
from rag.generation.prompts import NAMES_NOTHING
from rag.index.embedders import HashEmbedder
from rag.query import analyze
from rag.tokens import count_tokens
from tests.fakes import ScriptedChat, fake_assistant, write_jsonl

QUANT_A = {
    "id": "quant-a",
    "title": "Learnable rounding for post-training quantization",
    "abstract": "We propose a post-training quantization method that learns how to round the weights of neural "
    "networks element by element, keeping accuracy at four bits.",
    "year": 2022,
}
QUANT_A2 = {  # a near-copy of QUANT_A (another version of the same work): what MMR should push down
    "id": "quant-a2",
    "title": "Learnable rounding for post-training quantization of networks",
    "abstract": "We propose a post-training quantization method that learns how to round the weights of neural "
    "networks element by element, keeping accuracy at four bits and eight bits.",
    "year": 2023,
}
QUANT_B = {
    "id": "quant-b",
    "title": "Provable guarantees for post-training quantization",
    "abstract": "A post-training quantization algorithm for trained networks with provable error bounds that "
    "hold for greedy path following on every layer.",
    "year": 2020,
}
OTHERS = [
    {
        "id": "tts",
        "title": "Neural speech synthesis with transformer network",
        "abstract": "A transformer replaces the recurrent layers of Tacotron2; training is 4.25 times faster and "
        "the speech is close to human quality.",
        "year": 2019,
    },
    {
        "id": "gcn",
        "title": "Simplifying graph convolutional networks",
        "abstract": "Removing nonlinearities and collapsing weight matrices gives a linear model: a fixed "
        "low-pass filter followed by a linear classifier.",
        "year": 2019,
    },
    {
        "id": "bees",
        "title": "Foraging routes of bumblebees",
        "abstract": "Bumblebees learn short foraging routes between flowers over repeated visits in a meadow.",
        "year": 2021,
    },
]
LIST_QUESTION = "Which papers propose post-training quantization methods?"


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    """Two corpus files: the quantization papers, and the others."""
    return (
        write_jsonl(tmp_path / "corpus" / "quant.jsonl", [QUANT_A, QUANT_A2, QUANT_B]),
        write_jsonl(tmp_path / "corpus" / "other.jsonl", OTHERS),
    )


def indexed(tmp_path: Path, corpus: tuple[Path, Path], chat: ScriptedChat | None = None, **settings) -> Assistant:
    assistant = fake_assistant(tmp_path / "data", chat, **settings)
    report = assistant.ingest(list(corpus), progress=False)
    assert not report.errors and report.papers_added == 6
    return assistant


# --- fusion and MMR (pure functions) ------------------------------------------------------------------
def test_convex_fusion_weighs_cosine_and_normalised_bm25() -> None:
    assert convex(0.5, 4.0, 8.0, 0.7) == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)
    assert convex(0.5, 0.0, 0.0, 0.7) == pytest.approx(0.35)  # no BM25 match anywhere: no division by zero
    dense = {"p1:0": 0.9, "p2:0": 0.5}
    bm25 = {"p2:0": 10.0, "p3:0": 5.0}  # p3 is found by BM25 alone: its cosine counts as 0
    fused = fuse(dense, bm25, "hybrid", "convex", 0.7)
    assert fused == pytest.approx({"p1:0": 0.63, "p2:0": 0.35 + 0.3, "p3:0": 0.15})
    assert fuse(dense, bm25, "dense") == dense and fuse(dense, bm25, "bm25") == bm25


def test_weighted_reciprocal_rank_fusion() -> None:
    fused = rrf([["a", "b"], ["b", "c"]], [0.7, 0.3], k=10)
    assert fused == pytest.approx({"a": 0.7 / 11, "b": 0.7 / 12 + 0.3 / 11, "c": 0.3 / 12})
    by_rrf = fuse({"a:0": 0.9, "b:0": 0.8}, {"b:0": 3.0, "c:0": 2.0}, "hybrid", "rrf", 0.5, 60)
    assert max(by_rrf, key=by_rrf.get) == "b:0"  # in both lists: beats a list's single winner


def test_one_hit_per_paper_with_paper_level_convex_scores() -> None:
    dense = {"p1:0": 0.9, "p1:1": 0.2, "p2:0": 0.6}
    bm25 = {"p1:0": 0.0, "p1:1": 8.0, "p2:0": 4.0}
    chunk = fuse(dense, bm25, "hybrid", "convex", 0.7)
    per_chunk = best_per_paper(chunk, dense, bm25)
    assert [(pid, cid) for pid, cid, _ in per_chunk] == [("p1", "p1:0"), ("p2", "p2:0")]
    assert per_chunk[0][2] == pytest.approx(0.63)  # its best chunk's fused score
    per_paper = best_per_paper(chunk, dense, bm25, paper_level_convex=True, dense_weight=0.7)
    # p1 fuses its best cosine (chunk 0) with its best BM25 (chunk 1); the passage stays its best fused chunk
    assert per_paper[0][:2] == ("p1", "p1:0") and per_paper[0][2] == pytest.approx(0.7 * 0.9 + 0.3 * 1.0)
    assert per_paper[1][2] == pytest.approx(0.7 * 0.6 + 0.3 * 0.5)


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float64)
    return v / np.linalg.norm(v)


def test_mmr_trades_relevance_for_diversity() -> None:
    # 0 and 1 are near-duplicates; 3 is far off topic
    vectors = np.stack([unit(1, 0, 0, 0), unit(1, 0.05, 0, 0), unit(0, 1, 0.2, 0), unit(0, 0, 0, 1)])
    relevance = [0.9, 0.88, 0.85, 0.1]  # normalised: 1, 0.975, 0.9375, 0
    assert mmr(relevance, vectors, 4, lam=1.0) == [0, 1, 2, 3]  # pure relevance
    # after 0: item 1 gains 0.7 * 0.975 - 0.3 * cos(0, 1) = 0.38, item 2 gains 0.7 * 0.9375 - 0 = 0.66
    assert mmr(relevance, vectors, 4, lam=0.7) == [0, 2, 1, 3]
    assert mmr(relevance, vectors, 2, lam=0.7) == [0, 2]
    assert mmr([0.1, 0.9], vectors[:2], 2) == [1, 0]  # the most relevant first, whatever its position
    # each pick is penalised by its closest chosen item, not just the first: b2 duplicates b (picked second)
    a, b, b2, c, far = unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0.99, 0.14, 0), unit(0, 0, 1, 0), unit(0, 0, 0, 1)
    assert mmr([1.0, 0.9, 0.85, 0.5, 0.0], np.stack([a, b, b2, c, far]), 3, lam=0.5) == [0, 1, 3]
    assert mmr([], np.zeros((0, 3)), 5) == []


def test_diversify_keeps_the_ranking_when_a_vector_is_missing() -> None:
    ranked = [("a", "a:0", 0.9), ("b", "b:0", 0.8), ("c", "c:0", 0.5)]
    vectors = {"a:0": unit(1, 0), "b:0": unit(1, 0.01), "c:0": unit(0, 1)}
    assert [p for p, _, _ in diversify(ranked, vectors, 3, 0.5)] == ["a", "c", "b"]
    del vectors["c:0"]
    assert diversify(ranked, vectors, 3, 0.5) == ranked


# --- RAG_MMR through the façade --------------------------------------------------------------------
def source_ids(answer: Answer) -> list[str]:
    return [h.paper.id for h in answer.sources]


def test_rag_mmr_setting_changes_the_ranking_of_a_list_question(
    tmp_path: Path, corpus: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rankings = {}
    for value in ("never", "always", "auto"):
        monkeypatch.setenv("RAG_MMR", value)
        assert Settings().mmr == value
        assistant = indexed(tmp_path / value, corpus, mmr=Settings().mmr)
        rankings[value] = source_ids(assistant.ask(LIST_QUESTION, k=3))
        assistant.close()
    assert rankings["never"][:2] == ["quant-a", "quant-a2"]  # the near-copy ranks second on relevance alone
    assert rankings["always"][:2] == ["quant-a", "quant-b"]  # diversified: the other paper comes before it
    assert rankings["auto"] == rankings["always"]  # a list-style question


def test_auto_mmr_leaves_a_single_answer_question_alone(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    question = "How does learnable rounding keep accuracy in post-training quantization?"
    auto = indexed(tmp_path / "auto", corpus, mmr="auto")
    never = indexed(tmp_path / "never", corpus, mmr="never")
    assert not auto.wants_mmr(question) and auto.wants_mmr(LIST_QUESTION)
    assert source_ids(auto.ask(question, k=3)) == source_ids(never.ask(question, k=3))


# --- filters and dedup ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_year_and_source_filters_return_exactly_the_matching_papers(
    tmp_path: Path, corpus: tuple[Path, Path], mode: str
) -> None:
    assistant = indexed(tmp_path, corpus)
    query = "networks quantization speech graphs bumblebees"
    by_year = assistant.search(query, k=10, mode=mode, year=(2020, 2021))
    assert {h.paper.id for h in by_year} == {"quant-b", "bees"}
    by_source = assistant.search(query, k=10, mode=mode, sources=["other.jsonl"])
    assert {h.paper.id for h in by_source} == {"tts", "gcn", "bees"}
    both = assistant.search(query, k=10, mode=mode, year=(2019, 2020), sources=["quant.jsonl"])
    assert {h.paper.id for h in both} == {"quant-b"}
    assert assistant.search(query, k=10, mode=mode, year=(1990, 1995)) == []
    assert len(assistant.search(query, k=2, mode=mode, sources=["other.jsonl"])) == 2  # k still honoured


def test_the_same_paper_in_two_files_is_one_paper_with_both_sources(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [QUANT_A, OTHERS[0]])
    copy = {**QUANT_A, "id": "elsewhere", "title": QUANT_A["title"].upper(), "abstract": " " + QUANT_A["abstract"]}
    second = write_jsonl(tmp_path / "b.jsonl", [copy])
    assistant = fake_assistant(tmp_path / "data")
    report = assistant.ingest([first, second], progress=False)
    assert report.duplicates_merged == 1 and assistant.stats().papers == 2
    (hit,) = assistant.search("learnable rounding post-training quantization", k=1)
    assert {Path(s.split(":")[0]).name for s in hit.paper.sources} == {"a.jsonl", "b.jsonl"}


# --- abstention -------------------------------------------------------------------------------------
def hit(pid: str, passage: str, dense: float | None) -> Hit:
    scores = {"dense": dense} if dense is not None else {}
    return Hit(paper=Paper(id=pid, title=pid, abstract=passage), score=1.0, passage=passage, scores=scores)


def test_abstention_follows_the_best_cosine_and_the_threshold(tmp_path: Path) -> None:
    answerer = Answerer(Settings(data_dir=tmp_path, abstain_threshold=0.35), HashEmbedder(), "extractive")
    assert answerer.should_abstain("q", [hit("a", "x", 0.2), hit("b", "y", 0.34)])
    assert not answerer.should_abstain("q", [hit("a", "x", 0.2), hit("b", "y", 0.36)])
    # BM25-only hits carry no cosine: the passages are embedded here (same words: cosine 1)
    assert not answerer.should_abstain("bumblebee routes", [hit("a", "bumblebee routes", None)])
    assert answerer.should_abstain("bumblebee routes", [hit("a", "graph convolution filters", None)])


def test_an_off_topic_question_abstains_and_lists_the_closest_papers(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    chat = ScriptedChat("This must never be asked [1].")
    answer = indexed(tmp_path, corpus, chat).ask("Who won the football world cup in 1998?")
    assert answer.abstained and answer.citations == [] and answer.text.startswith(NO_ANSWER)
    assert "closest papers" in answer.text and chat.requests == []  # abstained before the LLM


def test_a_question_that_names_nothing_is_never_searched_nor_sent_to_the_model(
    tmp_path: Path, corpus: tuple[Path, Path]
) -> None:
    chat = ScriptedChat("This must never be asked [1].")
    assistant = indexed(tmp_path, corpus, chat)
    searched: list[str] = []
    search = assistant.search
    assistant.search = lambda query, *args, **kwargs: searched.append(query) or search(query, *args, **kwargs)  # type: ignore[method-assign]
    answer = assistant.ask("Which paper shows that?")
    assert answer.abstained and answer.text == NAMES_NOTHING and chat.requests == [] and searched == []
    assistant.ask("Which paper shows learnable rounding of weights?")
    assert searched == ["Which paper shows learnable rounding of weights?"]  # the spy sees a search


def test_the_model_saying_the_sources_do_not_answer_is_an_abstention(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    answer = indexed(tmp_path, corpus, ScriptedChat(NO_ANSWER)).ask(LIST_QUESTION)
    assert answer.abstained and answer.citations == [] and answer.text.startswith(NO_ANSWER)


# --- citation checking through the pipeline ------------------------------------------------------------
def test_llm_citations_are_checked_renumbered_and_marked(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        number = {title: n for n, title in numbered_titles(prompt)}
        b, a = number[QUANT_B["title"]], number[QUANT_A["title"]]
        return (
            f"A post-training quantization algorithm has provable error bounds for greedy path following [{a}]. "
            f"Learnable rounding of weights element by element keeps accuracy at four bits [{a}][9]. "
            f"Quantum computers factor large primes in seconds [{b}]."
        )

    chat = ScriptedChat(reply)
    items = list(indexed(tmp_path, corpus, chat).stream(LIST_QUESTION, k=3))
    answer = items[-1]
    assert isinstance(answer, Answer) and all(isinstance(i, str) for i in items[:-1]) and len(items) > 3
    assert "[9]" in "".join(items[:-1]) and "[9]" not in answer.text  # the draft had it; the checked text not
    first, second, third = answer.sentences
    assert first.reattributed and answer.citations[first.citations[0] - 1].paper.id == "quant-b"
    assert second.supported and answer.citations[second.citations[0] - 1].paper.id == "quant-a"
    assert not third.supported and third.citations == [] and f"seconds {UNSUPPORTED}." in answer.text
    assert [c.number for c in answer.citations] == [1, 2]  # renumbered by first use
    assert (
        answer.text.startswith("A post-training quantization algorithm") and "[1]." in answer.text.split(". ")[0] + "."
    )


def numbered_titles(prompt: str) -> Iterator[tuple[int, str]]:
    for line in prompt.splitlines():
        if line.startswith("[") and "]" in line:
            number, rest = line[1:].split("]", 1)
            yield int(number), rest.strip().rsplit(" (", 1)[0]


# --- context packing ----------------------------------------------------------------------------------
def test_sources_are_numbered_in_rank_order_and_packed_into_the_budget() -> None:
    long = " ".join(f"word{i}" for i in range(600))
    hits = [hit(f"p{i}", long, 0.9) for i in range(5)]
    sources = pack_sources(hits, budget_tokens=100_000, max_source_tokens=50)
    assert [s.number for s in sources] == [1, 2, 3, 4, 5] and [s.hit.paper.id for s in sources] == [
        f"p{i}" for i in range(5)
    ]
    assert all(count_tokens(s.text) <= 52 and s.text.endswith("…") for s in sources)  # cut to max_source_tokens
    one = count_tokens(sources[0].render("0" * NONCE_CHARS)) + 2  # what one whole source costs, fences included
    packed = pack_sources(hits, budget_tokens=2 * one + one // 2 + 30, max_source_tokens=50)
    assert len(packed) == 3 and len(packed[2].text) < len(packed[0].text)  # the third cut to the space left
    assert len(pack_sources(hits, budget_tokens=2 * one + 50, max_source_tokens=50)) == 2  # under 60 left: stop
    short = hit("s", "A short passage stays whole.", 0.9)
    assert pack_sources([short], budget_tokens=1000, max_source_tokens=50)[0].text == "A short passage stays whole."


# --- condensing follow-ups ------------------------------------------------------------------------------
HISTORY = [
    {"role": "user", "content": "Which paper learns rounding for post-training quantization?"},
    {"role": "assistant", "content": "Learnable rounding [1]."},
]


def test_heuristic_condensing_resolves_the_reference_only_when_needed() -> None:
    rewritten = standalone("How many bits does it keep?", HISTORY)
    assert rewritten != "How many bits does it keep?" and "rounding for post-training quantization" in rewritten
    assert HISTORY[0]["content"] not in rewritten  # the reference is resolved, the old question not glued in front
    independent = "Which transformer replaces recurrent layers in speech synthesis?"
    assert standalone(independent, HISTORY) == independent
    assert standalone("What about it?", []) == "What about it?"


def test_llm_condenses_a_follow_up_and_retrieval_uses_it(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    rewrite = "How many bits does learnable rounding for post-training quantization keep accuracy at?"

    def reply(messages: list[dict[str, str]]) -> str:
        if "Learnable rounding [1]." in messages[-1]["content"]:  # the condense prompt carries the history
            return rewrite + "\nThat is the standalone question."
        return "Learnable rounding keeps accuracy at four bits [1]."

    chat = ScriptedChat(reply)
    answer = indexed(tmp_path, corpus, chat).ask("And how many bits?", history=HISTORY)
    assert answer.standalone_question == rewrite and answer.question == "And how many bits?"
    assert answer.sources[0].paper.id in {"quant-a", "quant-a2"}
    assert rewrite in chat.requests[-1][-1]["content"]  # the answer prompt asks the rewritten question


def test_condensing_falls_back_to_the_heuristic_when_the_llm_is_unreachable(tmp_path: Path) -> None:
    chat = ScriptedChat(fail=True)
    answerer = Answerer(Settings(data_dir=tmp_path), HashEmbedder(), chat=chat)
    assert answerer.condense("How many bits does it keep?", HISTORY) == standalone(
        "How many bits does it keep?", HISTORY
    )
    assert len(chat.requests) == 1  # it did try the LLM first


# --- the paper the question names ------------------------------------------------------------------
def source(number: int, pid: str, abstract: str, score: float) -> Source:
    paper = Paper(id=pid, title=pid, abstract=abstract)
    return Source(number=number, hit=Hit(paper=paper, score=score, passage=abstract), text=abstract)


def test_the_top_paper_alone_answers_when_it_alone_names_what_the_question_names(tmp_path: Path) -> None:
    answerer = Answerer(Settings(data_dir=tmp_path), HashEmbedder(), "extractive")
    asked = analyze("DAGNN evaluation dataset types")
    dagnn = source(1, "deeper", "We propose DAGNN and test it on citation, co-authorship and co-purchase graphs.", 0.46)
    other = source(2, "airway", "We propose two types of node connectivity for evaluation datasets of airways.", 0.40)
    assert answerer.naming(asked, [dagnn, other]) == [dagnn]
    # the answer quotes the named paper, not the sentence closest to the question's words
    assert "[1]" in answerer.extractive.answer(asked, answerer.naming(asked, [dagnn, other]))
    # a top paper that does not hold the name, or a second paper that holds it too: every source stays
    lower = source(1, "deeper", dagnn.text, 0.3)
    assert answerer.naming(asked, [lower, other]) == [lower, other]
    both = source(2, "survey", "DAGNN and GCN are compared on evaluation datasets of many types.", 0.40)
    assert answerer.naming(asked, [dagnn, both]) == [dagnn, both]
    # a question naming nothing keeps every source
    assert answerer.naming(analyze("which dataset types were used"), [dagnn, other]) == [dagnn, other]


def test_a_title_restating_the_question_is_capped_unless_its_abstract_is_the_closest(tmp_path: Path) -> None:
    answerer = Answerer(Settings(data_dir=tmp_path), HashEmbedder(), "extractive")
    question = "Are graph neural networks with random node initialization universal?"
    title = "The Surprising Power of Graph Neural Networks with Random Node Initialization"
    genuine = "We prove that graph neural networks with random node initialization are universal approximators."
    other = source(2, "evolve", "Graph neural networks evolve over dynamic graphs.", 0.47)

    def titled(abstract: str) -> Source:
        paper = Paper(id="rni", title=title, abstract=abstract)
        return Source(number=1, hit=Hit(paper=paper, score=0.81, passage=abstract), text=abstract)

    # its abstract answers: the paper keeps the rank its retrieval gave it
    assert answerer.extractive._trusted_scores(question, [titled(genuine), other])[1] == 0.81
    # a copied title over an abstract about something else earns nothing: level with the best other paper
    assert answerer.extractive._trusted_scores(question, [titled("It is slower."), other])[1] == 0.47
