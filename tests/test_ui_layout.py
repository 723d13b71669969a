"""The web UI reads well: the search table's columns at 1280x800 and at phone width (390x844), year boxes empty
until typed, the Library chart counting from 0 with a line for the papers without a year, and the "searched for"
line under a rewritten follow-up. The browser tests (Playwright driving Debian's chromium) save docs/ui-chat.png,
docs/ui-search.png and docs/ui-library.png at 1280x800: what they show is what the tests assert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.errors import RagError
from rag.types import Hit, Paper
from rag.ui.handlers import _year_range, no_year_line
from rag.ui.render import HITS_HEADERS, HITS_WIDTHS, HITS_WIDTHS_NARROW, hits_columns, hits_table
from tests.conftest import open_page, rag_chat_over

DOCS = Path(__file__).resolve().parent.parent / "docs"
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
FIRST = "Which paper learns activation functions as flexible rational functions?"
FOLLOW_UP = "What are they called for short?"


# --- the pieces, without a browser ------------------------------------------------------------------------------


def test_empty_year_boxes_mean_no_filter_and_one_box_is_one_year() -> None:
    assert _year_range("", "") is None and _year_range(None, None) is None and _year_range(" ", "0") is None
    assert _year_range("2019", "") == (2019, 2019) and _year_range("", "2021") == (2021, 2021)
    assert _year_range("2023", " 2019 ") == (2019, 2023)  # either order
    assert _year_range(2020.0, None) == (2020, 2020)  # an API client that still sends numbers


@pytest.mark.parametrize("typed", ["20x1", "-5", "1e3", "99999"])
def test_a_year_box_that_holds_no_year_is_one_line_naming_the_box(typed: str) -> None:
    with pytest.raises(RagError, match=r"^Year to: .* is not a year") as err:
        _year_range("2020", typed)
    assert "\n" not in str(err.value)


def test_no_year_line_counts_the_papers_left_out_of_the_chart() -> None:
    assert no_year_line(410, {2016: 1, 2021: 29}) == "**380** of 410 papers have no year and are not in the chart."
    assert no_year_line(3, {2020: 3}) == "All 3 papers have a year."


def test_search_table_columns_and_widths() -> None:
    paper = Paper(id="p", title="A title", abstract="x", date="2021-05", source="/d/papers.jsonl")
    rows = hits_table(
        [
            Hit(paper=paper, score=0.123456, passage="p" * 400),
            Hit(paper=paper.model_copy(update={"date": None}), score=0.1, passage="short"),
        ]
    )
    assert HITS_HEADERS == ["title", "year", "score", "passage"]
    assert rows[0][1:3] == ["2021", 0.123] and rows[1][1] == "—"  # an unknown year is a dash, not a blank
    assert rows[0][0].startswith("A title") and "papers.jsonl" in rows[0][0]  # the file under the title
    assert rows[0][3] == "p" * 300 + "…" and rows[1][3] == "short"
    assert hits_columns(1280) == HITS_WIDTHS and hits_columns(None) == HITS_WIDTHS
    assert hits_columns(390) == HITS_WIDTHS_NARROW  # a phone: fixed readable widths, the table scrolls sideways


# --- in a browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui_url(bundled_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag chat` on a free loopback port over a copy of the session's bundled index."""
    with rag_chat_over(bundled_dir, tmp_path_factory, "ui-layout") as url:
        yield url


# the table's shown rows (gradio draws them as a virtual list of `.virtual-row`s of gridcells); a cell is clipped when
# it or a box in it is narrower than its text; `lines` counts the lines its text takes
CELLS = """e => Array.from(e.querySelectorAll('.virtual-row')).filter(r => r.offsetHeight > 0).map(r =>
  Array.from(r.querySelectorAll('[role=gridcell]')).map(c => {
    const b = c.getBoundingClientRect(), tops = new Set(), walk = document.createTreeWalker(c, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    const lines = tops.size;
    return {text: c.innerText.trim(), left: b.left, right: b.right, height: b.height,
            clipped: [c, ...c.querySelectorAll('*')].some(x => x.clientWidth > 0 && x.scrollWidth > x.clientWidth + 1),
            lines};
  }))"""


def search_with_years(page: Any, width: int) -> tuple[dict[str, dict[str, float]], list[list[dict[str, Any]]]]:
    """Search with both year boxes filled (papers from 2014 to 2024), once the boxes were seen empty: the header
    boxes (name -> box) and the shown rows' cells, once the columns have their widths for a window `width` wide."""
    page.get_by_role("tab", name="Search").click()
    year_from, year_to = (page.locator(f"#search-year-{end} :is(input, textarea)") for end in ("from", "to"))
    for box in (year_from, year_to):  # empty, not 0, until a year is typed
        assert box.input_value() == "" and box.get_attribute("placeholder") == "any year"
    page.locator("#search-query textarea").fill("neural networks")
    year_from.fill("2014")
    year_to.fill("2024")
    page.locator("#search-btn").click()
    page.wait_for_function(
        "() => /\\b20(1[4-9]|2[0-4])\\b/.test(document.querySelector('#search-results')?.innerText || '')",
        timeout=60_000,
    )
    widths = HITS_WIDTHS_NARROW if width < 700 else None
    if widths:  # the phone's widths arrive with the page's load event
        page.wait_for_function(
            f"() => document.querySelector('#search-results .header-cell')?.getBoundingClientRect().width"
            f" === {float(widths[0].removesuffix('px'))}",
            timeout=30_000,
        )
    cells = page.locator("#search-results .header-cell")
    headers = {cells.nth(i).inner_text().strip(): cells.nth(i).bounding_box() for i in range(cells.count())}
    return headers, page.locator("#search-results").evaluate(CELLS)


def assert_rows_read_well(rows: list[list[dict[str, Any]]]) -> None:
    """Every year (4 digits, all within the filter) and score shows whole; the first passage wraps over several
    lines, none of it cut at the side."""
    assert rows, "no results"
    for title, year, score, passage in rows:
        assert re.fullmatch(r"20(1[4-9]|2[0-4])", year["text"]) and not year["clipped"] and year["lines"] == 1, year
        assert re.fullmatch(r"\d\.\d+", score["text"]) and not score["clipped"] and score["lines"] == 1, score
        assert title["text"] and not passage["clipped"], passage
    passage = rows[0][3]
    assert len(passage["text"]) > 150 and passage["lines"] >= 3, passage


@pytest.mark.slow
def test_search_table_at_1280_shows_every_column_with_the_passage_wrapped(ui_url: str) -> None:
    with open_page(ui_url, WIDE) as page:
        headers, rows = search_with_years(page, WIDE["width"])
        assert list(headers) == HITS_HEADERS
        table = page.locator("#search-results").bounding_box()
        passage = headers["passage"]
        assert passage["width"] >= 200 and headers["title"]["width"] >= 200
        assert passage["x"] + passage["width"] <= table["x"] + table["width"] <= WIDE["width"]  # on screen
        assert headers["year"]["width"] >= 48
        assert page.locator("#search-results .virtual-table-viewport").evaluate("e => e.scrollWidth <= e.clientWidth")
        assert_rows_read_well(rows)
        page.screenshot(path=str(DOCS / "ui-search.png"))


@pytest.mark.slow
def test_search_table_on_a_phone_keeps_readable_columns_and_scrolls_to_the_passage(ui_url: str) -> None:
    with open_page(ui_url, PHONE) as page:
        headers, rows = search_with_years(page, PHONE["width"])
        assert list(headers) == HITS_HEADERS
        title, year, passage = headers["title"], headers["year"], headers["passage"]
        assert title["width"] >= 120 and title["x"] >= 0 and title["x"] + title["width"] <= PHONE["width"]
        assert year["x"] + year["width"] <= PHONE["width"]  # title, year and score on screen at once
        assert passage["width"] >= 200 and passage["x"] < PHONE["width"] - 60  # the passage starts on screen...
        viewport = page.locator("#search-results .virtual-table-viewport")
        assert viewport.evaluate("e => e.scrollWidth > e.clientWidth")  # ...and the table scrolls sideways to it
        assert_rows_read_well(rows)
        viewport.evaluate("e => { e.scrollLeft = e.scrollWidth }")
        page.wait_for_function(  # scrolled, the whole passage column is on screen
            "() => { const h = [...document.querySelectorAll('#search-results .header-cell')].pop()"
            "?.getBoundingClientRect();"
            f" return h && h.left >= 0 && h.right <= {PHONE['width']}; }}",
            timeout=10_000,
        )


@pytest.mark.slow
def test_library_chart_counts_from_0_and_says_how_many_papers_have_no_year(ui_url: str) -> None:
    with open_page(ui_url, WIDE) as page:
        page.get_by_role("tab", name="Library").click()
        axis = page.locator("#years-plot [aria-label^='Y-axis']")
        axis.wait_for(timeout=30_000)
        assert re.search(r"values from 0 to \d+", axis.get_attribute("aria-label") or "")
        bars = page.locator("#years-plot path[aria-label^='year:']")
        counts = {}
        for i in range(bars.count()):
            label = bars.nth(i).get_attribute("aria-label") or ""
            year, papers = re.fullmatch(r"year: (\d{4}); papers: (\d+)", label).groups()
            counts[int(year)] = int(papers)
            height = bars.nth(i).evaluate("e => e.getBBox().height")
            assert height > 0, f"no bar for {year} ({papers} papers)"
        assert 1 in counts.values()  # a year with one paper, drawn
        page.locator("#library-no-year").get_by_text("have no year").wait_for(timeout=30_000)
        line = page.locator("#library-no-year").inner_text()
        total = int(re.search(r"(\d+) papers ·", page.locator("#library-stats").inner_text()).group(1))
        missing, of = map(
            int, re.fullmatch(r"(\d+) of (\d+) papers have no year and are not in the chart\.", line).groups()
        )
        assert of == total == 410 and missing == total - sum(counts.values()) > 0
        page.screenshot(path=str(DOCS / "ui-library.png"))


@pytest.mark.slow
def test_chat_says_what_a_follow_up_searched_for(ui_url: str) -> None:
    with open_page(ui_url, WIDE) as page:
        for i, question in enumerate((FIRST, FOLLOW_UP), 1):
            page.locator("#question textarea").fill(question)
            page.locator("#question textarea").press("Enter")
            page.wait_for_function(
                f"() => document.querySelectorAll('#chat .message').length >= {2 * i}"
                " && document.querySelector('#sources .ref') !== null"
                " && !/^\\s*…\\s*$/.test([...document.querySelectorAll('#chat .message')].pop().innerText)",
                timeout=120_000,
            )
        page.locator("#chat .searched-for").wait_for(timeout=120_000)
        first, follow_up = page.locator("#chat .message").nth(1), page.locator("#chat .message").last
        assert first.locator(".searched-for").count() == 0  # a first question is searched as asked
        searched = follow_up.locator(".searched-for").inner_text()
        # "they" resolved to the paper the first answer cited (its title is kept in the chat history)
        assert (
            searched.startswith("searched for: ") and "Padé Activation Units" in searched and " they " not in searched
        )
        assert "PAU" in follow_up.inner_text()
        page.screenshot(path=str(DOCS / "ui-chat.png"))
