"""The chat UI in a real browser (Playwright driving Debian's chromium) and through gradio_client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import open_page, rag_chat_over

pytestmark = pytest.mark.slow
QUESTION = "How much faster does the Transformer-based text-to-speech model train than Tacotron2?"
TITLE = "Neural Speech Synthesis with Transformer Network"


@pytest.fixture(scope="module")
def chat_url(bundled_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag chat` on a free loopback port over a copy of the session's bundled index."""
    with rag_chat_over(bundled_dir, tmp_path_factory, "ui") as url:
        yield url


@pytest.fixture()
def page(chat_url: str) -> Iterator[object]:
    with open_page(chat_url, {"width": 1400, "height": 1000}) as page:
        yield page


def test_chat_streams_a_cited_answer_with_the_paper_in_the_sources_panel(page, tmp_path: Path) -> None:
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    page.locator("#sources .ref").first.wait_for(timeout=90_000)
    answer = page.locator("#chat .message").last.inner_text()
    assert "[1]" in answer and "4.25" in answer
    sources = page.locator("#sources").inner_text()
    assert "[1]" in sources and TITLE in sources
    cite = page.locator("#chat a.cite").first  # markers link to their entry in the sources panel
    assert cite.get_attribute("href") == "#ref-1" and page.locator("#sources #ref-1").count() == 1
    assert "4.25" in (page.locator("#sources mark").first.text_content() or "")  # the supporting sentence, highlighted


def test_upload_in_library_makes_the_paper_searchable(page, tmp_path: Path) -> None:
    paper = {
        "id": "ui-test-1",
        "title": "Bioluminescent Squid Camouflage Networks",
        "abstract": "We model counter-illumination camouflage in bioluminescent squid with a tiny recurrent "
        "network that matches downwelling light in real time.",
        "year": 2024,
    }
    upload = tmp_path / "squid.jsonl"
    upload.write_text(json.dumps(paper) + "\n")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#ingest-btn").click()
    page.get_by_text("papers added").wait_for(timeout=60_000)
    report = page.locator("#ingest-report").inner_text()
    assert report.startswith("1 papers added, 0 updated") and "Problems" not in report
    page.get_by_role("tab", name="Search").click()
    page.locator("#search-query textarea").fill("squid counter-illumination camouflage")
    page.locator("#search-btn").click()
    page.locator("#search-results").get_by_text("Bioluminescent Squid Camouflage Networks").wait_for(timeout=30_000)


def test_gradio_client_calls_the_ask_endpoint(chat_url: str) -> None:
    from gradio_client import Client

    reply = Client(chat_url, verbose=False).predict(QUESTION, api_name="/ask")
    assert "[1]" in reply and "References:" in reply and TITLE in reply
