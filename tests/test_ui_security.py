"""The web UI off the happy path: upload paths, links and markup from papers, login throttling, shared names.

The unit tests pin down each guard; the slow ones attack a real `rag chat` (hash embeddings, so the
index builds in seconds) over HTTP, through gradio_client and in Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import HTTPException

from rag import Assistant, Settings
from rag.references import escape_markdown, references_markdown, safe_url, to_bibtex, to_markdown
from rag.types import Answer, Citation, Hit, Paper
from rag.ui.auth import LoginThrottle
from rag.ui.render import answer_markdown, api_markdown, link_markers, sources_html
from rag.ui.uploads import UploadRefused, received_upload, store_upload, uploads_allowed
from tests.conftest import free_port, running

HOSTILE_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https://ok.example/\"onmouseover='alert(1)'",
    "http://",
]
SCRIPT_TITLE = 'Squid <img src=x onerror="window.__xss=1"> camouflage <script>window.__xss=2</script>'
SCRIPT_QUOTE = (
    'The glowing squid network <img src=x onerror="window.__xss=4"> reaches 93% accuracy [x](javascript:alert(3)).'
)


def hostile_answer(url: str | None = "javascript:alert(1)", abstained: bool = False) -> Answer:
    paper = Paper(
        id="evil-1",
        title=SCRIPT_TITLE,
        abstract="We study squid camouflage. " + SCRIPT_QUOTE,
        year=2024,
        url=url,
        source="/data/evil.jsonl",
    )
    return Answer(
        question="q",
        text=f"<b>bold</b> {SCRIPT_QUOTE} [1]",
        citations=[Citation(number=1, paper=paper, quote=SCRIPT_QUOTE)],
        sources=[Hit(paper=paper, score=1.0, passage=SCRIPT_QUOTE)],
        abstained=abstained,
        notice="LLM said <img src=x onerror=alert(5)>",
    )


# --- links: only http(s) ---------------------------------------------------------------------
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_safe_url_refuses_everything_but_plain_http_links(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["https://arxiv.org/abs/2101.00001", "http://example.org/a?b=1#c", "HTTPS://X.ORG/"])
def test_safe_url_keeps_http_links(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_no_hostile_url_reaches_the_sources_panel_or_the_exports(url: str) -> None:
    paper = Paper(id="p1", title="Squid camouflage", abstract="We study squid camouflage.", url=url, source="s.jsonl")
    answer = Answer(
        question="q", text="Squids hide [1].", citations=[Citation(number=1, paper=paper, quote="We study squid.")]
    )
    assert "href" not in sources_html(answer)
    for out in (to_markdown(answer), to_bibtex(answer), references_markdown(answer), api_markdown(answer)):
        assert "Squid camouflage" in out
        assert not any(bad in out.lower() for bad in ("script:", "data:", "file:", "//evil", "url =", "<h", "onmouse"))


def test_markdown_export_keeps_text_from_papers_as_text() -> None:
    out = to_markdown(hostile_answer())
    assert not re.search(r"\]\(|<(img|script)", out)  # no link syntax or tag left unescaped
    assert "&lt;img src=x onerror=" in out and "[1]" in out  # escaped, still readable; markers kept


def test_a_safe_url_is_still_a_link_everywhere() -> None:
    answer = hostile_answer("https://arxiv.org/abs/2101.00001")
    assert "href='https://arxiv.org/abs/2101.00001'" in sources_html(answer)
    assert "<https://arxiv.org/abs/2101.00001>" in to_markdown(answer)
    assert "url = {https://arxiv.org/abs/2101.00001}" in to_bibtex(answer)


# --- markup from papers is text ----------------------------------------------------------------
@pytest.mark.parametrize("abstained", [False, True])
def test_chat_message_escapes_html_and_markdown_from_papers(abstained: bool) -> None:
    message = answer_markdown(hostile_answer(abstained=abstained))
    for raw in ("<img", "<script", "<b>", "](javascript", "[x]"):
        assert raw not in message
    assert "&lt;img src=x onerror=" in message  # shown as text, not dropped
    if not abstained:
        assert '<a href="#ref-1" class="cite">[1]</a>' in message


def test_sources_panel_escapes_titles_abstracts_and_quotes() -> None:
    panel = sources_html(hostile_answer())
    assert "<img" not in panel and "<script" not in panel
    assert panel.count("&lt;img src=x onerror=") >= 3  # title, quote, abstract


def test_escaped_text_stays_readable() -> None:
    assert escape_markdown("a < b & 'c' [d](e) *f*") == "a &lt; b &amp; 'c' &#91;d&#93;(e) &#42;f&#42;"
    assert link_markers("x [2] y [10]").count('class="cite"') == 2


# --- upload paths ------------------------------------------------------------------------------
def test_only_regular_files_inside_the_upload_folder_are_accepted(tmp_path: Path) -> None:
    root = tmp_path / "gradio"
    (root / "abc").mkdir(parents=True)
    upload = root / "abc" / "papers.jsonl"
    upload.write_text("{}\n")
    secret = tmp_path / "secret.jsonl"
    secret.write_text("{}\n")
    (root / "abc" / "link.jsonl").symlink_to(secret)
    assert received_upload(str(upload), root) == upload.resolve()
    refused = [
        secret,  # outside
        root / "abc" / "link.jsonl",  # a symlink inside pointing outside
        root / "abc" / ".." / ".." / "secret.jsonl",  # .. out of the folder
        root / "abc",  # a directory
        root,
    ]
    for path in refused:
        with pytest.raises(UploadRefused, match="refused"):
            received_upload(str(path), root)


def test_uploads_are_off_by_default_only_on_an_open_network_address_without_login() -> None:
    assert uploads_allowed("auto", host="127.0.0.1", share=False, auth=False)
    assert uploads_allowed("auto", host="localhost", share=False, auth=False)
    assert not uploads_allowed("auto", host="0.0.0.0", share=False, auth=False)
    assert not uploads_allowed("auto", host="192.168.1.5", share=False, auth=False)
    assert not uploads_allowed("auto", host="127.0.0.1", share=True, auth=False)
    assert uploads_allowed("auto", host="0.0.0.0", share=True, auth=True)
    assert uploads_allowed("on", host="0.0.0.0", share=True, auth=False)
    assert not uploads_allowed("off", host="127.0.0.1", share=False, auth=True)


def _paper_line(i: int, topic: str) -> str:
    abstract = f"We study {topic} in setting {i} and report that the {topic} method improves accuracy on benchmarks."
    return json.dumps({"id": f"{topic}-{i}", "title": f"{topic.title()} paper {i}", "abstract": abstract}) + "\n"


def test_uploads_with_the_same_name_keep_each_others_papers(tmp_path: Path) -> None:
    """Two users' different `papers.jsonl`: both stay; the same content twice is one stored file."""
    inbox_a, inbox_b, uploads = tmp_path / "a", tmp_path / "b", tmp_path / "data" / "uploads"
    inbox_a.mkdir()
    inbox_b.mkdir()
    (inbox_a / "papers.jsonl").write_text("".join(_paper_line(i, "quokka") for i in range(3)))
    (inbox_b / "papers.jsonl").write_text("".join(_paper_line(i, "axolotl") for i in range(2)))
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    try:
        first, _ = store_upload(inbox_a / "papers.jsonl", "papers.jsonl", uploads)
        assistant.ingest([first], progress=False)
        second, _ = store_upload(inbox_b / "papers.jsonl", "papers.jsonl", uploads)
        assistant.ingest([second], progress=False)
        again, new = store_upload(inbox_a / "papers.jsonl", "papers.jsonl", uploads)
        report = assistant.ingest([again], progress=False)
        assert first != second and again == first and not new and first.name == second.name == "papers.jsonl"
        assert sorted(p.name for p in uploads.rglob("*") if p.is_file()) == ["papers.jsonl", "papers.jsonl"]
        assert report.papers_removed == 0
        assert assistant.stats().papers == 5
        assert {h.paper.id for h in assistant.search("quokka axolotl", k=10, mode="bm25")} == {
            "quokka-0", "quokka-1", "quokka-2", "axolotl-0", "axolotl-1"
        }  # fmt: skip
    finally:
        assistant.close()


# --- login throttling ---------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_logins_lock_out_after_repeated_failures_then_recover() -> None:
    clock = FakeClock()
    throttle = LoginThrottle("alice", "s3cret", max_failures=3, lockout_s=10, delay_s=0, clock=clock)
    assert [throttle.attempt("alice", "wrong")[0] for _ in range(3)] == [False] * 3
    with pytest.raises(HTTPException) as locked:
        throttle.attempt("alice", "s3cret")  # locked: even the right password waits
    assert locked.value.status_code == 429 and "try again in 10 s" in locked.value.detail
    clock.now += 10.5
    assert throttle.attempt("alice", "s3cret")[0]
    for _ in range(3):
        throttle.attempt("alice", "wrong")
    clock.now += 10.5  # the count was reset by the success, so this is a first lock-out again
    assert throttle.attempt("alice", "s3cret")[0]


def test_lockouts_double_and_wrong_user_names_share_one_counter() -> None:
    clock = FakeClock()
    throttle = LoginThrottle("alice", "s3cret", max_failures=2, lockout_s=10, delay_s=0, clock=clock)
    for name in ("bob", "carol"):
        throttle.attempt(name, "x")
    with pytest.raises(HTTPException):
        throttle.attempt("dave", "x")  # guessing other names gains nothing
    assert throttle.attempt("alice", "s3cret")[0]  # ... and does not lock the real user out
    for _ in range(2):
        throttle.attempt("alice", "x")
    clock.now += 10.5
    for _ in range(2):
        throttle.attempt("alice", "x")
    clock.now += 10.5
    with pytest.raises(HTTPException, match="try again in 10 s"):
        throttle.attempt("alice", "s3cret")  # the second lock-out lasts 20 s


def test_parallel_wrong_passwords_cannot_slip_past_the_count() -> None:
    throttle = LoginThrottle("alice", "s3cret", max_failures=5, lockout_s=60, delay_s=0.01)

    async def thirty() -> list[object]:
        return await asyncio.gather(*(throttle.login("alice", f"guess{i}") for i in range(30)), return_exceptions=True)

    results = asyncio.run(thirty())
    assert results.count(False) == 5
    assert sum(isinstance(r, HTTPException) and r.status_code == 429 for r in results) == 25


# --- against a real `rag chat` -------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "alice", "correct-horse-battery"
SECRET_PHRASE = "plumbago velocipede zeugma"


@contextlib.contextmanager
def rag_chat(tmp: Path, **env: str) -> Iterator[tuple[str, Path, Path]]:
    """`rag chat` on a free loopback port with hash embeddings (it indexes the bundled corpus in seconds):
    yields (url, gradio's upload folder, data dir)."""
    uploads = tmp / "gradio-uploads"
    full_env = {
        **os.environ,
        "RAG_DATA_DIR": str(tmp / "data"),
        "RAG_EMBED": "hash",
        "RAG_LLM": "extractive",
        "RAG_ABSTAIN_THRESHOLD": "0",  # hash vectors score lower than MiniLM; answering is not under test here
        "GRADIO_TEMP_DIR": str(uploads),
        **env,
    }
    port = free_port()
    log = tmp / "chat.log"
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "rag.cli", "chat", "--port", str(port)]
    with running(cmd, url, "rag chat", timeout=180, log=log, stop_timeout=30, env=full_env):
        yield url, uploads, tmp / "data"


@pytest.fixture(scope="module")
def open_chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A server on loopback without a login: uploads on (the default there)."""
    with rag_chat(tmp_path_factory.mktemp("open-chat")) as server:
        yield server


def _raw_ingest(url: str, path: str) -> str:
    """Call the upload endpoint as an attacker would: a FileData naming a server path, no upload."""
    import httpx

    payload = {"data": [[{"path": path, "orig_name": "papers.jsonl", "meta": {"_type": "gradio.FileData"}}]]}
    event = httpx.post(f"{url}gradio_api/call/ingest_files", json=payload, timeout=30).json()["event_id"]
    return httpx.get(f"{url}gradio_api/call/ingest_files/{event}", timeout=120).text


def _search(client: object, query: str) -> list[list[object]]:
    return client.predict(query, "bm25", 10, None, None, [], api_name="/search")["data"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_request_naming_a_server_file_is_refused_and_the_file_stays_unreadable(
    open_chat: tuple[str, Path, Path], tmp_path: Path
) -> None:
    import httpx
    from gradio_client import Client

    url, upload_folder, _ = open_chat
    secret = tmp_path / "memo.jsonl"  # a file the server could read, in a format it would ingest
    secret.write_text(
        json.dumps({"title": "Private memo", "abstract": f"The {SECRET_PHRASE} project is confidential and private."})
        + "\n"
    )
    upload_folder.mkdir(parents=True, exist_ok=True)
    inside = upload_folder / "planted"
    inside.mkdir(exist_ok=True)
    (inside / "link.jsonl").symlink_to(secret)  # a link inside the upload folder pointing outside
    for path in (str(secret), str(inside / "link.jsonl"), f"{upload_folder}/../{tmp_path.name}/memo.jsonl"):
        reply = _raw_ingest(url, path)
        assert "papers added" not in reply
        assert "not uploaded by a user" in reply or "refused" in reply, reply
    client = Client(url, verbose=False)
    assert _search(client, SECRET_PHRASE) == []
    assert httpx.get(f"{url}gradio_api/file={secret}", timeout=30).status_code == 403  # nor served as a file
    assert SECRET_PHRASE not in client.predict(f"What is the {SECRET_PHRASE} project?", api_name="/ask")


@pytest.mark.slow
def test_same_named_uploads_from_two_users_keep_both(open_chat: tuple[str, Path, Path], tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    url, _, _ = open_chat
    for user, topic in (("a", "quokka"), ("b", "axolotl")):
        (tmp_path / user).mkdir()
        (tmp_path / user / "papers.jsonl").write_text("".join(_paper_line(i, topic) for i in range(3)))
    users = [Client(url, verbose=False), Client(url, verbose=False)]
    for client, user in zip(users, "ab", strict=True):
        assert "**3** papers added" in client.predict(
            [handle_file(tmp_path / user / "papers.jsonl")], api_name="/ingest_files"
        )
    again = users[0].predict([handle_file(tmp_path / "a" / "papers.jsonl")], api_name="/ingest_files")
    assert "**0** papers added" in again and "3 unchanged" in again
    # the title column: the title, then its file name in small type under it
    titles = {str(row[0]).split("<br>")[0] for row in _search(users[1], "quokka axolotl method improves accuracy")}
    assert {f"{t.title()} paper {i}" for t in ("quokka", "axolotl") for i in range(3)} <= titles


@pytest.mark.slow
def test_javascript_urls_and_markup_from_papers_are_inert_in_chromium(
    open_chat: tuple[str, Path, Path], tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file
    from playwright.sync_api import sync_playwright

    url, _, _ = open_chat
    evil = {
        "id": "evil-1",
        "title": SCRIPT_TITLE,
        "abstract": "We study counter-illumination camouflage in bioluminescent squid. " + SCRIPT_QUOTE,
        "year": 2024,
        "url": " JaVaScRiPt:window.__xss=5",
    }
    (tmp_path / "evil.jsonl").write_text(json.dumps(evil) + "\n")
    assert "**1** papers added" in Client(url, verbose=False).predict(
        [handle_file(tmp_path / "evil.jsonl")], api_name="/ingest_files"
    )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.locator("#question textarea").fill("What accuracy does the glowing squid network reach?")
        page.locator("#question textarea").press("Enter")
        page.locator("#sources .ref").first.wait_for(timeout=90_000)
        assert "glowing squid network" in page.locator("#chat .message").last.inner_text()
        assert "<img src=x onerror=" in page.locator("#sources").inner_text()  # shown as text
        hrefs = page.eval_on_selector_all("#sources a, #chat a", "els => els.map(e => e.getAttribute('href'))")
        assert hrefs and all(h.startswith("#ref-") for h in hrefs), hrefs  # only the [n] anchors
        assert page.locator("#sources img, #chat .message img, #sources script").count() == 0
        page.locator("#sources .ref").first.click()
        page.locator("#sources .ref summary").first.click()  # open the abstract
        for i in range(page.locator("#sources a, #chat a").count()):
            page.locator("#sources a, #chat a").nth(i).click()
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xss") is None and dialogs == []
        assert len(browser.contexts[0].pages) == 1  # no window opened by a click
        browser.close()


@pytest.mark.slow
def test_login_lockout_over_http_and_read_only_library(tmp_path: Path) -> None:
    import httpx
    from gradio_client import Client

    env = {"RAG_UI_AUTH": f"{USER}:{PASSWORD}", "RAG_UI_LOGIN_LOCKOUT_S": "3", "RAG_UI_UPLOADS": "off"}
    with rag_chat(tmp_path, **env) as (url, _, _):

        def login(password: str) -> httpx.Response:
            return httpx.post(f"{url}login", data={"username": USER, "password": password}, timeout=30)

        with ThreadPoolExecutor(10) as pool:
            codes = [r.status_code for r in pool.map(login, [f"guess-{i}" for i in range(30)])]
        assert codes.count(400) == 5 and codes.count(429) == 25, codes
        locked = login(PASSWORD)
        assert locked.status_code == 429 and "Too many failed logins" in locked.json()["detail"]
        deadline = time.monotonic() + 60
        while (reply := login(PASSWORD)).status_code == 429:  # the lockout ends after its window
            assert time.monotonic() < deadline, "the login lockout never ended"
            time.sleep(0.2)
        assert reply.json() == {"success": True}
        client = Client(url, auth=(USER, PASSWORD), verbose=False)
        endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert "/ask" in endpoints and "/search" in endpoints
        assert "/ingest_files" not in endpoints  # RAG_UI_UPLOADS=off: nothing can change the index


def _writer_busy(data: Path) -> bool:
    """Whether the server holds the index's writer lock, i.e. an ingest is running (a free lock is let go)."""
    with (data / "writer.lock").open("a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


@pytest.mark.slow
def test_asks_keep_answering_while_uploads_ingest(open_chat: tuple[str, Path, Path], tmp_path: Path) -> None:
    """A light `eval/bench_load.py`: 20 asks from 4 threads around an upload, then an ask during a bigger ingest."""
    from gradio_client import Client, handle_file

    url, _, data = open_chat
    question = "What problem stops graph neural networks from benefiting from more layers?"
    clients = [Client(url, verbose=False) for _ in range(4)]
    mid = tmp_path / "mid.jsonl"
    mid.write_text("".join(_paper_line(i, "pangolin") for i in range(100)))
    done: list[str] = []
    # one client per worker thread: a gradio_client Client reads all its jobs' updates from one stream and, under
    # load, loses a job submitted from another thread as that stream closes (CancelledError on the client side)
    own = threading.local()
    free = list(clients)

    def ask(i: int) -> str:
        if not hasattr(own, "client"):
            own.client = free.pop()
        if i == 8:  # an upload ingesting in the middle
            done.append(own.client.predict([handle_file(mid)], api_name="/ingest_files"))
        return own.client.predict(question, api_name="/ask")

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(ask, range(20)))
    # answered or abstained is the answerer's business (hash vectors); here every call must come back, no error
    assert all(r.strip() and not r.startswith("Error:") for r in replies), [r[:200] for r in replies]
    assert done and "**100** papers added" in done[0]

    big = tmp_path / "big.jsonl"
    # long enough that the answer comes back first even on a busy machine (both slow down; the ingest has more to do)
    big.write_text("".join(_paper_line(i, f"okapi{i % 7}") for i in range(1500)))
    job = clients[1].submit([handle_file(big)], api_name="/ingest_files")
    deadline = time.monotonic() + 120
    while not _writer_busy(data):
        assert not job.done() and time.monotonic() < deadline, "the ingest never showed as running"
        time.sleep(0.05)
    reply = clients[2].predict(question, api_name="/ask")
    # not blocked by the ingest: the answer came back while the ingest still held the writer lock (an order, not a
    # duration: a busy machine slows both alike)
    assert _writer_busy(data) and not job.done(), "the ingest ended before the answer: it may have waited for it"
    assert reply.strip() and not reply.startswith("Error:"), reply[:200]
    assert "**1500** papers added" in job.result(timeout=600)


def test_answer_references_markdown_links_only_http_urls() -> None:
    def refs(url: str) -> str:
        paper = Paper(id="x", title="T", abstract="A", url=url, date="2021")
        return references_markdown(Answer(question="q", text="t [1].", citations=[Citation(number=1, paper=paper)]))

    assert refs("javascript:alert(1)") == "[1] T (2021)"  # what MCP clients and scripts receive
    assert refs("https://arxiv.org/abs/2101.00001") == "[1] T (2021) <https://arxiv.org/abs/2101.00001>"
