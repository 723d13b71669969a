"""One escaping for text from papers, in every door that renders or returns Markdown or HTML: the chat message, the
sources panel, the search table, the gradio `/ask` API, MCP's text and references, the Markdown export; BibTeX
gets LaTeX's. Outputs are rendered with a CommonMark renderer (raw HTML on, as in a chat client) and parsed: no
tag, link, image or handler from a paper survives, and the text still reads as the paper wrote it."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from rag.mcp import CitedAnswer
from rag.references import escape_cited, escape_markdown, references_markdown, to_bibtex, to_markdown
from rag.types import Answer, Citation, Hit, Paper
from rag.ui.render import HITS_TYPES, answer_markdown, api_markdown, hits_table, sources_html

PAYLOAD = (
    '<script>window.x=1</script> <img src=x onerror="window.x=2"> [click](https://evil.example/) '
    "![pixel](https://evil.example/p.png) <https://evil.example/auto> <a href='https://evil.example/'>a</a> "
    "&lt;b&gt; $$\\href{javascript:alert(1)}{x}$$"
)
TITLE = f"Squid camouflage {PAYLOAD}"
QUOTE = f"Squids glow to hide {PAYLOAD}."
FILE = "/data/evil[x](https:evil.example)<img src=x onerror=alert(1)>.jsonl"
RENDER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
DANGEROUS = {"script", "img", "iframe", "svg", "object", "embed", "style", "link", "meta", "form", "input"}


class Tags(HTMLParser):
    """The tags, attributes and visible text of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def assert_inert(html: str, *, shows: str = "") -> None:
    """No dangerous tag, no handler attribute, no link but the [n] anchors; `shows` is visible as text."""
    page = Tags(html)
    for tag, attrs in page.tags:
        assert tag not in DANGEROUS, (tag, html)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "a":
            assert (attrs.get("href") or "").startswith("#ref-"), attrs
        assert tag not in ("em", "code"), (tag, html)  # Markdown syntax from a paper stays text
    assert shows in " ".join(page.text.split()), page.text


def hostile_answer() -> Answer:
    paper = Paper(
        id="evil-1",
        title=TITLE,
        abstract=f"We study squids. {QUOTE}",
        authors=[f"Mallory {PAYLOAD}"],
        year=2024,
        source=FILE,
    )
    return Answer(
        question=f"How do squids hide? {PAYLOAD}",
        text=f"{QUOTE} [1] [1](https://evil.example/) [1]: https://evil.example/",
        citations=[Citation(number=1, paper=paper, quote=QUOTE)],
        sources=[Hit(paper=paper, score=1.0, passage=QUOTE)],
        notice=f"the LLM said {PAYLOAD}",
        missing=f"state {PAYLOAD}",
        status="partial",
    )


VISIBLE = '<img src=x onerror="window.x=2"> [click](https://evil.example/)'


def test_escape_markdown_makes_html_and_markdown_inert_and_keeps_the_text() -> None:
    out = escape_markdown(PAYLOAD)
    assert_inert(RENDER.render(out), shows=" ".join(PAYLOAD.split()))
    assert_inert(out, shows=" ".join(PAYLOAD.split()))  # as HTML too


def test_escape_cited_keeps_markers_and_never_lets_them_become_links() -> None:
    out = escape_cited("Glows [1](https://evil.example/) and [2]: https://evil.example/\n\n[2]: https://e.x/ [3]")
    assert (out.count("[1]"), out.count("[2]"), out.count("[3]")) == (1, 2, 1)
    assert_inert(RENDER.render(out), shows="Glows [1](https://evil.example/)")


@pytest.mark.parametrize(
    ("door", "render"),
    [
        ("chat message", lambda a: RENDER.render(answer_markdown(a))),
        ("gradio /ask API", lambda a: RENDER.render(api_markdown(a))),
        ("Markdown export", lambda a: RENDER.render(to_markdown(a))),
        ("references", lambda a: RENDER.render(references_markdown(a))),
        ("MCP text", lambda a: RENDER.render(CitedAnswer.of(a).text)),
        ("MCP references", lambda a: RENDER.render(CitedAnswer.of(a).references)),
        ("MCP notice", lambda a: RENDER.render(CitedAnswer.of(a).notice or "")),
        ("sources panel", sources_html),
    ],
)
def test_every_door_renders_text_from_papers_inert(door: str, render) -> None:
    assert_inert(render(hostile_answer()), shows=VISIBLE)


@pytest.mark.parametrize(
    ("door", "output"),
    [
        ("chat message", lambda a: answer_markdown(a)),
        ("gradio /ask API", lambda a: api_markdown(a)),
        ("Markdown export", lambda a: to_markdown(a)),
        ("MCP text", lambda a: CitedAnswer.of(a).text + CitedAnswer.of(a).references),
        ("sources panel", sources_html),
        ("search table", lambda a: " ".join(map(str, hits_table(a.sources)[0]))),
    ],
)
def test_every_door_uses_the_one_escaping(door: str, output) -> None:
    """The exact form `escape_markdown` writes: a door with an escaper of its own fails here."""
    assert escape_markdown(QUOTE) in output(hostile_answer())


def test_search_table_cells_are_inert_markdown() -> None:
    row = hits_table(hostile_answer().sources)[0]
    for cell, kind in zip(row, HITS_TYPES, strict=True):
        if kind == "markdown":
            assert_inert(RENDER.render(str(cell)))
    assert_inert(RENDER.render(str(row[0])), shows=VISIBLE)  # the title, its file name under it
    assert escape_markdown(Path(FILE).name) in str(row[0])


def test_chat_message_says_what_a_follow_up_searched_for_inert() -> None:
    answer = hostile_answer().model_copy(update={"standalone_question": f"How do squids hide {PAYLOAD}?"})
    message = answer_markdown(answer)
    assert f"searched for: {escape_markdown(answer.standalone_question)}" in message  # the one escaping
    assert_inert(RENDER.render(message), shows=f"searched for: How do squids hide {' '.join(PAYLOAD.split())}")
    assert "searched for" not in answer_markdown(hostile_answer())  # only a rewritten follow-up says it


def test_mcp_ask_papers_returns_inert_markdown(tmp_path: Path) -> None:
    from mcp import Client

    from rag.mcp import build_server
    from tests.fakes import fake_assistant

    assistant = fake_assistant(tmp_path / "data")
    assistant.ask = lambda *args, **kwargs: hostile_answer()  # type: ignore[method-assign]

    async def call() -> dict:
        async with Client(build_server(assistant)) as client:
            return (await client.call_tool("ask_papers", {"question": "How do squids hide?"})).structured_content

    body = asyncio.run(call())
    for field in ("text", "references", "notice", "missing"):
        assert_inert(RENDER.render(body[field]))
    assert "[1]" in body["text"]  # markers stay readable for the agent
    assert body["citations"][0]["paper"]["title"] == TITLE  # paper records stay data


def test_bibtex_escapes_every_latex_special() -> None:
    paper = Paper(
        id="2101.00001",
        title=r"\input{/etc/passwd} $\alpha$ 50% #1 snake_case x^2 ~a & b",
        authors=[r"Eve \write18{rm -rf ~}"],
        abstract="a",
        year=2021,
        source="/d/x_y.jsonl",
    )
    bib = to_bibtex(Answer(question="q", text="t [1]", citations=[Citation(number=1, paper=paper)]))
    assert (
        r"\textbackslash{}input\{/etc/passwd\} \$\textbackslash{}alpha\$ 50\% \#1 snake\_case x\^{}2 \~{}a \& b" in bib
    )
    assert r"Eve \textbackslash{}write18\{rm -rf \~{}\}" in bib
    assert r"Source: x\_y.jsonl" in bib
    assert "\\input" not in bib and "\\write" not in bib
