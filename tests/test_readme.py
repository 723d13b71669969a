"""README.md is true from top to bottom: its example commands and snippets are taken from the README itself, run
against an index of the bundled corpus (the real MiniLM for the slow ones), and must return what the README's
comments say they return. The fast tests check what needs no model: the Quick start, the venv note, the extras a
snippet needs, the dated-paper figures, and LaTeX unwrapping on the bundled corpus's own strings."""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag import Assistant, Settings
from rag.api import create_app
from rag.cli import app
from rag.corpus.load import read_file
from rag.corpus.records import RawPaper, clean_text
from rag.types import Answer
from tests.conftest import CORPUS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TOKEN = "readme-token-0123456789"


@dataclass
class Block:
    lang: str
    text: str
    start: int  # offset of the opening fence in README.md

    def lines(self) -> list[str]:
        return self.text.splitlines()


def blocks() -> list[Block]:
    return [
        Block(m.group(1), m.group(2), m.start()) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", README, re.M | re.S)
    ]


def section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert m, f"README has no section {title!r}"
    return m.group(1)


def commands(prefix: str) -> list[tuple[list[str], str]]:
    """Every README line in a bash block that starts with `prefix`: its arguments and its trailing comment."""
    found = []
    for block in blocks():
        if block.lang != "bash":
            continue
        for line in block.lines():
            if line.startswith(prefix + " "):
                comment = re.search(r"\s#\s+(.*)$", line)
                found.append((shlex.split(line, comments=True), comment.group(1).strip() if comment else ""))
    assert found, f"README shows no `{prefix}` example"
    return found


def claimed_fragments(comment: str) -> list[str]:
    """The text a comment quotes ("... a ... b [1]."), as the fragments that must appear in order."""
    quoted = re.search(r'"(.+)"', comment)
    assert quoted, f"comment quotes nothing: {comment!r}"
    return [part.strip() for part in quoted.group(1).split("...") if part.strip()]


def assert_in_order(fragments: list[str], text: str) -> None:
    at = 0
    for fragment in fragments:
        found = text.find(fragment, at)
        assert found >= 0, f"{fragment!r} not in {text[at:]!r}"
        at = found + len(fragment)


# --- fast: what needs no model --------------------------------------------------------------------------


def test_quick_start_is_two_command_lines_and_the_venv_is_activated_before_any_bare_command() -> None:
    quick = section("Quick start")
    quick_blocks = [b for b in blocks() if README.find(quick) <= b.start < README.find(quick) + len(quick)]
    commands_ = [line for line in quick_blocks[0].lines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands_) == 2 and commands_[0].startswith("python3 -m venv .venv")
    activate = README.find("source .venv/bin/activate")
    assert activate > quick_blocks[0].start
    bare = re.compile(r"^(rag|python|pip) ", re.M)
    first_bare = min(b.start + m.start() for b in blocks() for m in [bare.search(b.text)] if m)
    assert activate < first_bare, "a bare `rag`/`python` command comes before the README says to activate .venv"


def test_the_readme_is_read_in_two_minutes_and_links_the_rest() -> None:
    """Under 200 lines; the reference pages it links exist (how it works, measured figures, security, ...)."""
    assert README.count("\n") < 200
    linked = re.findall(r"\]\((docs/[\w\-]+\.md)\)", README)
    assert {"docs/how-it-works.md", "docs/measured.md", "docs/security.md", "docs/configuration.md"} <= set(linked)
    assert all((ROOT / page).is_file() for page in linked)


def _base_distributions() -> set[str]:
    return {re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0].lower() for d in PYPROJECT["project"]["dependencies"]}


def _extras_holding(dist: str) -> list[str]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    return [name for name, deps in extras.items() if any(re.split(r"[<>=!\[ ;]", d)[0].lower() == dist for d in deps)]


def test_every_python_snippet_names_the_extra_its_imports_need() -> None:
    """A snippet importing a package the base install lacks must be introduced by text naming that package and an
    extra that installs it (the newcomer's llama-index snippet failed on `llama_index.llms.openai_like`)."""
    provided = packages_distributions()
    base = _base_distributions()
    checked = 0
    for block in blocks():
        if block.lang != "python":
            continue
        for node in ast.walk(ast.parse(block.text)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            modules += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for module in modules:
                if module.split(".")[0] == "rag":
                    continue
                dists = {d.lower() for d in provided.get(module.split(".")[0], [])}
                assert dists, f"{module} is not installed here"
                # a namespace package (llama_index) is shared: the longest dotted prefix names the distribution
                parts = module.lower().replace("_", "-").split(".")
                prefixes = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
                dist = next((d for d in prefixes if d in dists), None) or (dists.pop() if len(dists) == 1 else None)
                assert dist, f"cannot tell which of {sorted(dists)} provides {module}"
                if dist in base:
                    continue
                checked += 1
                extras = _extras_holding(dist)
                assert extras, f"{dist} is in no extra of pyproject.toml"
                intro = README[README.rfind("\n\n**", 0, block.start) : block.start]
                assert dist in intro, f"the text before the snippet importing {module} does not name {dist}"
                assert any(f"'.[{e}]'" in intro or f"`{e}` extra" in intro for e in extras), (module, extras)
    assert checked >= 1  # the llama-index snippet's OpenAILike


def test_the_dated_paper_figures_are_the_bundled_corpus_s(hash_bundled_dir: Path) -> None:
    m = re.search(
        r"only (\d+) of the (\d+) bundled papers have one\*\* \((\d{4}) to\s+(\d{4});.*?the other (\d+)", README, re.S
    )
    assert m, "README no longer says how many bundled papers carry a date"
    dated, total, first, last, undated = map(int, m.groups())
    a = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash"))
    try:
        stats = a.stats()
        assert stats.papers == total == dated + undated
        assert sum(stats.years.values()) == dated and (min(stats.years), max(stats.years)) == (first, last)
        # "speech synthesis with --year 2019-2023 finds no speech paper, because none of them is dated"
        speech = [h.paper for h in a.search("speech synthesis", k=20, mode="bm25") if "speech" in h.paper.title.lower()]
        assert speech and all(p.year is None for p in speech)
        filtered = a.search("speech synthesis", k=10, year=(2019, 2023))
        assert filtered and all(2019 <= (h.paper.year or 0) <= 2023 for h in filtered)
        assert not any("speech" in h.paper.title.lower() for h in filtered)
    finally:
        a.close()


def bundled_papers() -> list[RawPaper]:
    papers = [p for f in sorted(CORPUS.glob("*.txt")) for p in read_file(f) if isinstance(p, RawPaper)]
    assert len(papers) > 400
    return papers


def test_latex_is_unwrapped_in_every_bundled_title_abstract_and_author() -> None:
    papers = bundled_papers()
    raw = "".join(f.read_text(encoding="utf-8") for f in CORPUS.glob("*.txt"))
    assert "360{\\deg}" in raw and "{\\Psi}" in raw and "$\\frac{\\ell_1}{\\ell_2}$" in raw  # the files still hold it
    for p in papers:
        for text in (p.title, p.abstract, *p.authors):
            assert "\\" not in text, text[:200]
    abstracts = " ".join(p.abstract for p in papers)
    titles = {p.title for p in papers}
    for shown in (
        "However, 360° images captured under equirectangular projection",
        "is a quantity Ψ to analyze",
        "Spearman's ρ and Kendall's Tau",
        "The resulting Padé Activation Units (PAUs)",
        "91.3% recall and 86.5% precision",
        "under {mono, cross and multi} lingual scenarios",  # escaped braces stay braces
        "a Communicative Message Passing neural network for Inductive reLation rEasoning, CoMPILE,",
        "dubbed as inerflong, or inerf.",  # an author's own macro keeps its name
        "Compared to mlco2, carb significantly enhances",  # a tie (~) is a space
    ):
        assert shown in abstracts, shown
    assert "End-to-End Neural Network Compression via ℓ₁/ℓ₂ Regularized Latency Surrogates" in titles


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("2.6$\\times$ faster", "2.6× faster"),
        ("$O(n^2)$ time and $x^{-1}$", "O(n²) time and x⁻¹"),
        ("a $90^\\circ$ turn on $\\mathbb{R}^d$", "a 90° turn on ℝ^d"),
        ("G\\\"{o}del, {\\'\\i}, \\c{c}a, \\v{S}ekli", "Gödel, í, ça, Šekli"),
        ("\\emph{deep} {\\bf wide} \\textit{nets}", "deep wide nets"),
        ("costs $5 and $10, or \\$3", "costs $5 and $10, or $3"),  # prices are not math
        ("code at github.com/a/Instance_NeRF and ~40%", "code at github.com/a/Instance_NeRF and ~40%"),
    ],
)
def test_latex_is_unwrapped_like_a_reader_does(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown


# --- slow: the README's examples on the bundled corpus with the real MiniLM ----------------------------


@pytest.fixture()
def index_copy(bundled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the session's bundled index (the Python snippet runs `a.ingest()`)."""
    data = tmp_path / "index"
    shutil.copytree(bundled_dir, data)
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    return data


@pytest.mark.slow
def test_bundled_index_shows_no_latex(bundled: Assistant) -> None:
    papers = list(bundled.manifest.iter_papers())
    assert len(papers) == 410 and not [p.title for p in papers if "\\" in p.title + p.abstract]
    hit = bundled.search("stereo depth estimation for 360 degree images", k=1)[0]
    assert "360° stereo" in hit.passage and "360°" in hit.paper.abstract
    answer = bundled.ask("What does GradSign use to analyze the optimization landscape?")
    assert "Ψ" in answer.text and "{\\" not in answer.text
    assert answer.citations and all("\\" not in c.quote + c.paper.title for c in answer.citations)


@pytest.mark.slow
def test_readme_cli_examples_return_what_their_comments_say(bundled_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(bundled_dir))
    runner = CliRunner()
    for args, comment in commands("rag search"):
        result = runner.invoke(app, [*args[1:], "--json"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.output)
        year = args[args.index("--year") + 1] if "--year" in args else None
        if year:
            low, high = map(int, year.split("-"))
            assert all(low <= int(h["paper"]["date"][:4]) <= high for h in hits)
        first = re.fullmatch(r"1\. (.+) \((\d{4})\)", comment)
        assert first, f"a `rag search` example should say what comes first: {comment!r}"
        assert hits[0]["paper"]["title"].startswith(first.group(1))
        assert hits[0]["paper"]["date"].startswith(first.group(2))
    for args, comment in commands("rag ask"):
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, result.output
        answer_line = result.output.split("\n\nStatus:")[0]
        assert_in_order(claimed_fragments(comment), answer_line)
        assert "Status: answered" in result.output and "References:\n  [1] " in result.output


def _python_snippet(first_line: str) -> str:
    found = [b.text for b in blocks() if b.lang == "python" and b.text.startswith(first_line)]
    assert len(found) == 1, first_line
    return found[0]


def run_statements(source: str, namespace: dict) -> dict[int, object]:
    """Execute a snippet statement by statement; the value of each bare expression, by its line number."""
    values: dict[int, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr):
            values[node.lineno] = eval(compile(ast.Expression(node.value), "README.md", "eval"), namespace)
        else:
            exec(compile(ast.Module([node], []), "README.md", "exec"), namespace)
    return values


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), start=1) if text in line)


@pytest.mark.slow
def test_readme_python_snippet_returns_what_it_says(index_copy: Path) -> None:
    source = _python_snippet("from rag import Assistant\na = Assistant()")
    ns: dict = {}
    values = run_statements(source, ns)
    try:
        # a.ingest() of the already indexed bundled corpus; search: dated papers only, the years asked for
        call = next(
            n
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "search"
        )
        low, high = ast.literal_eval(next(kw.value for kw in call.keywords if kw.arg == "year"))
        hits = ns["hits"]
        assert hits and all(low <= (h.paper.year or 0) <= high for h in hits)
        assert "Kernel" in hits[0].paper.title
        answer = ns["answer"]
        assert answer.status == "answered" and len(answer.citations) >= 2
        assert re.search(r"\[1\]\..*\[2\]\.", answer.text)
        numbers = [c.number for c in answer.citations]
        first_use = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", answer.text)))
        assert numbers == first_use == list(range(1, len(numbers) + 1))
        assert all("quantization" in (c.paper.title + c.quote).lower() for c in answer.citations)
        assert values[line_of(source, "answer.abstained, answer.backend")][1] == "extractive"
        final = ns["item"]  # the loop's last item: the final Answer, after str deltas
        assert isinstance(final, Answer) and "4.25 times faster" in final.text
        assert final.citations[0].paper.title == "Neural Speech Synthesis with Transformer Network"
        follow_up = values[line_of(source, 'a.ask("What are they called for short?"')]
        assert isinstance(follow_up, Answer) and "PAUs" in follow_up.text
        assert follow_up.citations[0].paper.title.startswith("Padé Activation Units")
        stream = list(ns["a"].stream("How much faster is Transformer TTS than Tacotron2?"))
        assert all(isinstance(x, str) for x in stream[:-1]) and len(stream) > 1 and stream[-1].text == final.text
    finally:
        ns["a"].close()


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


@pytest.fixture()
def rest(bundled_dir: Path) -> Iterator[TestClient]:
    assistant = Assistant(Settings(data_dir=bundled_dir, api_token=TOKEN))
    client = TestClient(create_app(assistant), base_url="http://127.0.0.1:8000")
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    yield client
    assistant.close()


@pytest.mark.slow
def test_readme_curl_examples_return_what_their_comments_say(rest: TestClient) -> None:
    lines = commands("curl")
    searches = [(a, c) for a, c in lines if any("/search?" in x for x in a)]
    asks = [(a, c) for a, c in lines if "-d" in a]
    assert searches and len(asks) == 2
    for args, comment in searches:
        url = next(x for x in args if "/search?" in x).replace("$URL", "")
        hits = rest.get(url).json()
        low, high = map(int, re.search(r"year=(\d{4})-(\d{4})", url).groups())
        assert hits and all(low <= int(h["paper"]["date"][:4]) <= high for h in hits)
        title = re.fullmatch(r"(.+) first", comment).group(1)
        assert hits[0]["paper"]["title"].startswith(title)
    delta_claim = json.loads(re.search(r"#   event: delta    data: (\{.*\})", README).group(1))["text"]
    for args, _ in asks:
        body = json.loads(args[args.index("-d") + 1])
        response = rest.post("/ask", json=body)
        assert response.status_code == 200
        if body.get("stream"):
            events = sse_events(response.text)
            assert [k for k, _ in events][-1] == "answer" and {k for k, _ in events[:-1]} == {"delta"}
            draft = "".join(data["text"] for _, data in events[:-1])
            assert_in_order(claimed_fragments(f'"{delta_claim}"'), draft)
            assert events[-1][1]["citations"] and events[-1][1]["text"].endswith("[1].")
        else:
            answer = response.json()
            assert "4.25 times faster" in answer["text"]
            assert answer["citations"][0]["paper"]["title"] == "Neural Speech Synthesis with Transformer Network"


@pytest.mark.slow
def test_readme_llama_index_snippet_runs_against_a_real_openai_compatible_server(
    index_copy: Path, llama_server_url: str
) -> None:
    source = _python_snippet("from llama_index.core.query_engine import RetrieverQueryEngine")
    assert 'api_base="http://127.0.0.1:8080/v1"' in source
    ns: dict = {}
    run_statements(source.replace("http://127.0.0.1:8080/v1", llama_server_url), ns)  # the session's server
    try:
        nodes = ns["nodes"]
        assert len(nodes) == 5 and nodes[0].score is not None
        assert {"paper_id", "title", "year", "authors", "source", "url"} <= set(nodes[0].node.metadata)
        assert any("Speech" in n.node.metadata["title"] for n in nodes) and nodes[0].node.get_content()
        response = ns["response"]  # "cited text + source_nodes"
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", str(response))}
        assert response.source_nodes and cited == {n.node.metadata["citation"] for n in response.source_nodes}
        assert ns["engine"].retriever is not None
    finally:
        ns["a"].close()
