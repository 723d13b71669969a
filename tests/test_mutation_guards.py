"""Guards for breaks a code review made on purpose and no test noticed (issue 17, item 11).

Each test here fails when its break is put back (see `eval/mutants.py`, which does that for every test named
there): the bearer token compared by prefix, case or without its scheme; the upload path checked by string
prefix; paper-level fusion switched off inside `Retriever.search`; coverage without its IDF weights; the
embedding half of the citation support check; the in-process undo of a failed batch; and the journal write that
lets the next process undo a batch this one could not. All fast: fakes, the hash embedder, no server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from rag import Assistant, Settings
from rag.api import create_app
from rag.api.auth import BearerAuthMiddleware, require_token, token_matches
from rag.citations import UNSUPPORTED, CitationChecker
from rag.fusion import convex
from rag.generation.context import Source
from rag.index.chunking import Chunker
from rag.index.embedders import Embedder, HashEmbedder
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.support import SentenceEmbeddings
from rag.types import Hit, Paper
from rag.ui.uploads import UploadRefused, check_upload, received_upload, store_upload
from tests.fakes import fake_assistant, write_jsonl

# --- the bearer token -------------------------------------------------------------------------------------------
TOKEN = "Tok3n-MiXed-case-0123456789"
GOOD = [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}", f"Bearer {TOKEN} "]  # the scheme has no case
BAD = [
    None,
    "",
    "Bearer",
    "Bearer ",
    f"Bearer {TOKEN[:-1]}",  # truncated
    f"Bearer {TOKEN[:4]}",
    f"Bearer {TOKEN}0",  # longer
    f"Bearer {TOKEN.swapcase()}",  # the token has case
    f"Bearer {TOKEN.lower()}",
    f"Basic {TOKEN}",  # another scheme
    TOKEN,  # no scheme at all
    f"Token {TOKEN}",
    f"Bearer{TOKEN}",
]
LOOPBACK = "http://127.0.0.1"  # the Host a local client sends
BAD_OVER_HTTP = [h for h in BAD if h is not None and h.strip() == h]  # what an HTTP client sends unchanged


@pytest.mark.parametrize("header", GOOD)
def test_the_whole_token_with_a_bearer_scheme_matches(header: str) -> None:
    assert token_matches(header, TOKEN)


@pytest.mark.parametrize("header", BAD)
def test_an_empty_truncated_longer_recased_or_unschemed_token_does_not_match(header: str | None) -> None:
    assert not token_matches(header, TOKEN)


def guarded_app(*, middleware: bool, dependency: bool) -> FastAPI:
    """A FastAPI app guarded by the middleware, the route dependency, or both (as `create_app` does)."""
    app = FastAPI()
    app.state.api_token = TOKEN if dependency else None  # require_token lets everything through without one
    guarded = APIRouter(dependencies=[Depends(require_token)])

    @guarded.get("/data")
    def data() -> dict[str, bool]:
        return {"secret": True}

    app.include_router(guarded)
    for path in ("/ui/page", "/uix", "/ui-admin", "/docsx"):  # routes the middleware alone guards
        app.add_api_route(path, lambda: {"secret": True}, methods=["GET"])
    if middleware:
        app.add_middleware(BearerAuthMiddleware, token=TOKEN, open_prefixes=("/docs", "/ui"))
    return app


@pytest.mark.parametrize("guard", ["middleware", "dependency"])
def test_each_guard_alone_refuses_every_wrong_token(guard: str) -> None:
    app = guarded_app(middleware=guard == "middleware", dependency=guard == "dependency")
    client = TestClient(app, base_url=LOOPBACK)
    assert client.get("/data").status_code == 401  # no header at all
    for header in BAD_OVER_HTTP:
        response = client.get("/data", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "secret" not in response.text
    for header in GOOD:
        assert client.get("/data", headers={"Authorization": header.strip()}).json() == {"secret": True}


def test_the_middleware_leaves_open_only_the_open_folders_not_names_that_start_alike() -> None:
    client = TestClient(guarded_app(middleware=True, dependency=False), base_url=LOOPBACK)
    assert client.get("/ui/page").status_code == 200
    for path in ("/uix", "/ui-admin", "/docsx"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_the_rest_api_refuses_an_empty_truncated_or_recased_token(tmp_path: Path) -> None:
    assistant = fake_assistant(tmp_path / "data", api_token=TOKEN)
    client = TestClient(create_app(assistant), base_url=LOOPBACK)
    for header in BAD_OVER_HTTP:
        assert client.get("/health", headers={"Authorization": header}).status_code == 401, header
    assert client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# --- the upload path --------------------------------------------------------------------------------------------
@pytest.fixture()
def upload_root(tmp_path: Path) -> Path:
    """gradio's upload folder holding one genuine upload, `abc/papers.jsonl`."""
    root = tmp_path / "gradio"
    (root / "abc").mkdir(parents=True)
    (root / "abc" / "papers.jsonl").write_text("{}\n")
    return root


@pytest.mark.parametrize("sibling", ["gradio-x", "gradiox", "gradio.old"])
def test_a_sibling_folder_whose_name_starts_like_the_upload_folder_is_refused(upload_root: Path, sibling: str) -> None:
    outside = upload_root.parent / sibling / "abc" / "papers.jsonl"
    outside.parent.mkdir(parents=True)
    outside.write_text("{}\n")
    with pytest.raises(UploadRefused, match="not a file uploaded to this server"):
        received_upload(str(outside), upload_root)
    with pytest.raises(UploadRefused, match="not a file uploaded to this server"):  # reached through `..`
        received_upload(str(upload_root / ".." / sibling / "abc" / "papers.jsonl"), upload_root)


def test_a_symlink_or_dotdot_out_of_the_folder_is_refused(upload_root: Path) -> None:
    secret = upload_root.parent / "secret.jsonl"
    secret.write_text("{}\n")
    (upload_root / "abc" / "link.jsonl").symlink_to(secret)
    (upload_root / "abc" / "dir-link").symlink_to(upload_root.parent, target_is_directory=True)
    for path in (
        upload_root / "abc" / "link.jsonl",
        upload_root / "abc" / "dir-link" / "secret.jsonl",
        upload_root / "abc" / ".." / ".." / "secret.jsonl",
    ):
        with pytest.raises(UploadRefused, match="not a file uploaded to this server"):
            received_upload(str(path), upload_root)


def test_an_upload_folder_named_through_a_symlink_still_accepts_its_uploads(upload_root: Path) -> None:
    alias = upload_root.parent / "alias"  # e.g. gradio's temp folder under a symlinked /tmp
    alias.symlink_to(upload_root, target_is_directory=True)
    real = (upload_root / "abc" / "papers.jsonl").resolve()
    assert received_upload(str(upload_root / "abc" / "papers.jsonl"), alias) == real
    assert received_upload(str(alias / "abc" / "papers.jsonl"), upload_root) == real
    assert received_upload(str(upload_root / "abc" / ".." / "abc" / "papers.jsonl"), upload_root) == real


def test_a_fifo_in_the_folder_is_refused_and_a_vanished_upload_is_one_line(upload_root: Path) -> None:
    fifo = upload_root / "abc" / "pipe.jsonl"
    os.mkfifo(fifo)  # reading it would block the server
    with pytest.raises(UploadRefused, match="not a regular file"):
        received_upload(str(fifo), upload_root)
    with pytest.raises(UploadRefused, match="gone; upload it again"):
        received_upload(str(upload_root / "abc" / "vanished.jsonl"), upload_root)


def test_the_type_check_ignores_case_and_the_size_cap_is_inclusive(tmp_path: Path) -> None:
    exact = tmp_path / "exact"
    with exact.open("wb") as fh:
        fh.truncate(1_000_000)
    check_upload(exact, "PAPERS.JSONL", 1)  # upper case, exactly 1 MB: accepted
    with exact.open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(UploadRefused, match="larger than 1 MB"):
        check_upload(exact, "papers.jsonl", 1)
    with pytest.raises(UploadRefused, match="unsupported file type"):
        check_upload(exact, "papers.exe", 1)


def test_a_stored_upload_keeps_only_the_file_name_of_what_the_client_called_it(tmp_path: Path) -> None:
    upload = tmp_path / "in" / "papers.jsonl"
    upload.parent.mkdir()
    upload.write_text("{}\n")
    uploads = tmp_path / "data" / "uploads"
    dest, _ = store_upload(upload, "../../../escaped.jsonl", uploads)
    assert dest.name == "escaped.jsonl" and dest.resolve().is_relative_to(uploads.resolve())
    assert list(tmp_path.rglob("escaped.jsonl")) == [dest]  # nothing written above the uploads folder


# --- paper-level fusion inside Retriever.search -----------------------------------------------------------------
SPLIT = {  # three chunks at chunk_size=32: the best cosine is in chunk 0, the best BM25 (rare 'quorvex') in chunk 2
    "id": "split",
    "title": "Notes",
    "abstract": "Zorblat kernels on graphs. The remaining sections of this long abstract discuss unrelated gardening, "
    "pottery, weather, cooking and travel at great length so that the text needs several chunks. Later we also "
    "mention quorvex among many other words about soil, rain, clay, ovens and trains.",
}
FUSION_PAPERS = [
    SPLIT,
    {"id": "both", "title": "Kernels", "abstract": "Zorblat kernels on graphs with a little quorvex, in one sentence."},
    *(
        {"id": f"f{i}", "title": f"Filler {i}", "abstract": f"Zorblat kernels on graphs, variant {i}."}
        for i in range(6)
    ),
]


def test_hybrid_search_scores_a_paper_by_its_best_cosine_and_its_best_bm25_over_all_its_chunks(
    tmp_path: Path,
) -> None:
    assistant = fake_assistant(tmp_path / "data", chunk_size=32, fusion="convex", dense_weight=0.7)
    assert assistant.ingest([write_jsonl(tmp_path / "c.jsonl", FUSION_PAPERS)], progress=False).chunks_added == 10
    query = "zorblat kernels quorvex graphs"
    dense = {h.paper.id: h for h in assistant.search(query, k=10, mode="dense")}  # each paper's best cosine
    bm25 = {h.paper.id: h for h in assistant.search(query, k=10, mode="bm25")}  # and best BM25 score
    assert dense["split"].chunk_id == "split:0" and bm25["split"].chunk_id == "split:2"  # peaks in different chunks
    top = max(h.score for h in bm25.values())
    hybrid = {h.paper.id: h for h in assistant.search(query, k=10, mode="hybrid")}
    for pid, hit in hybrid.items():
        expected = convex(dense[pid].score, bm25[pid].score if pid in bm25 else 0.0, top, 0.7)
        assert hit.score == pytest.approx(expected, abs=1e-6), pid
    # fusing chunk by chunk instead would score 'split' by chunk 0 alone, about 0.06 lower
    chunk0 = convex(dense["split"].score, hybrid["split"].scores["bm25"], top, 0.7)
    assert hybrid["split"].chunk_id == "split:0" and hybrid["split"].score > chunk0 + 0.05
    assistant.close()


# --- coverage weighted by IDF -----------------------------------------------------------------------------------
class FakeTerms:
    """Chunk counts for a 1,000-chunk index: 'learning', 'improve', 'results' everywhere, 'tardigrade' rare."""

    size = 1000

    def count(self, text: str) -> int:
        known = {"learn": 600, "method": 700, "improv": 500, "result": 650, "tardigrad": 2, "locomot": 3}
        return max((n for w, n in known.items() if w in text.lower()), default=0)


def test_coverage_weighs_rare_question_words_over_common_ones() -> None:
    question = analyze("Which learning methods improve results on tardigrade locomotion?")
    common = Paper(id="a", title="Learning methods", abstract="Learning methods improve results on many benchmarks.")
    rare = Paper(id="b", title="Tardigrade locomotion", abstract="We film tardigrade locomotion on moss.")
    checker = SufficiencyChecker(FakeTerms(), partial_coverage=0.5, abstain_coverage=0.2)  # type: ignore[arg-type]
    # three of five words, all common: about a fifth of the weight; unweighted it would be 0.6 and 'answered'
    coverage, absent = checker.coverage(question, f"{common.title}. {common.abstract}".lower())
    assert coverage < 0.3 and absent[:2] == ["tardigrade", "locomotion"]
    assert checker.check(question, [common.abstract], [common]).status == "partial"
    # the two rare words: most of the weight; unweighted it would be 0.4 and 'partial'
    coverage, _ = checker.coverage(question, f"{rare.title}. {rare.abstract}".lower())
    assert coverage > 0.7
    assert checker.check(question, [rare.abstract], [rare]).status == "answered"


def test_coverage_exactly_at_the_abstain_threshold_is_partial() -> None:
    question = analyze("Which tardigrade gait studies filmed lichen?")  # five content words, no statistics
    checker = SufficiencyChecker(None, partial_coverage=0.5, abstain_coverage=0.2)
    paper = Paper(id="m", title="Lichen", abstract="Lichen grows on stones.")
    assert checker.coverage(question, f"{paper.title}. {paper.abstract}".lower())[0] == 0.2
    assert checker.check(question, [paper.abstract], [paper]).status == "partial"


# --- the embedding half of the citation support check -----------------------------------------------------------
SOURCE_SENTENCE = "Our network speeds up training 4.25 times compared with Tacotron2."
PARAPHRASE = "Learning runs far quicker than before"  # one word in common, the same meaning
LOOKALIKE = "Tacotron2 training speeds on moss and lichen"  # the source's words, another meaning


class MeaningVectors(Embedder):
    """Texts of the same meaning share a vector; every other text gets its own axis."""

    name = "test:meaning"
    dim = 64

    def __init__(self) -> None:
        super().__init__()
        self.axes: dict[str, int] = {}

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            key = SOURCE_SENTENCE if text.rstrip(".") == PARAPHRASE else text
            out[row, self.axes.setdefault(key, len(self.axes) + 1)] = 1.0
        return out


def tts_source() -> list[Source]:
    paper = Paper(id="tts", title="Speech synthesis", abstract=f"{SOURCE_SENTENCE} Quality is near human.")
    return [Source(1, Hit(paper=paper, score=1.0, passage=paper.abstract), paper.abstract)]


def test_an_embedding_close_paraphrase_is_supported_and_a_lookalike_is_not() -> None:
    checker = CitationChecker(SentenceEmbeddings(MeaningVectors()), threshold=0.5, lexical_only=0.7)
    paraphrase = checker.check(f"{PARAPHRASE} [1].", tts_source())
    assert paraphrase.sentences[0].supported and paraphrase.text == f"{PARAPHRASE} [1]."
    assert paraphrase.citations[0].quote == SOURCE_SENTENCE
    lookalike = checker.check(f"{LOOKALIKE} [1].", tts_source())  # 3 of 5 words (0.6), cosine 0: score 0.3
    assert not lookalike.sentences[0].supported and UNSUPPORTED in lookalike.text
    # the same two claims by words alone: the other way round
    lexical = CitationChecker(None, threshold=0.5, lexical_only=0.7)
    assert not lexical.check(f"{PARAPHRASE} [1].", tts_source()).sentences[0].supported
    assert lexical.check(f"{LOOKALIKE} [1].", tts_source()).sentences[0].supported


def test_an_uncited_claim_of_exactly_the_minimum_length_is_still_checked() -> None:
    checker = CitationChecker(None, min_claim_words=3)
    checked = checker.check("Tacotron2 training speeds.", tts_source())  # three content words, no marker
    assert checked.sentences[0].supported and checked.text == "Tacotron2 training speeds [1]."
    short = checker.check("Training speeds.", tts_source())  # two: a remark, left alone
    assert short.text == "Training speeds." and short.citations == []


# --- a batch that fails in the store ----------------------------------------------------------------------------
LONG = (  # three chunks at chunk_size=32
    "We measure gait in tardigrades walking on moss. The remaining sections of this long abstract discuss pottery, "
    "weather, cooking and travel at great length so that the text needs several chunks. Finally we compare "
    "their stride with insects on soil, clay and sand."
)
FIRST = [
    {"id": "long", "title": "Tardigrade gait", "abstract": LONG},
    {"id": "keep", "title": "Bumblebee routes", "abstract": "Bumblebees learn short routes between flowers."},
]
SECOND = [  # 'long' shrinks to one chunk (its chunks 1 and 2 are stale); 'new' is added
    {"id": "long", "title": "Tardigrade gait", "abstract": "We measure gait in tardigrades walking on moss."},
    FIRST[1],
    {"id": "new", "title": "Qwertase kinetics", "abstract": "Qwertase turns over forty substrates per second."},
]


class StoreFull(RuntimeError):
    """The vector store stopped accepting writes half-way through a batch."""


def break_store_after_upsert(assistant: Assistant, monkeypatch: pytest.MonkeyPatch, *, undo_fails: bool) -> None:
    """The store's next upsert writes its vectors, then fails; with `undo_fails`, later store writes fail too
    (the process cannot undo anything: the journal is all the next process has)."""
    store, broken = assistant.store, []
    real_upsert, real_delete = store.upsert, store.delete

    def upsert(*args, **kwargs):
        if broken and not undo_fails:
            return real_upsert(*args, **kwargs)
        if broken:
            raise StoreFull("the store is full")
        real_upsert(*args, **kwargs)
        broken.append(True)
        raise StoreFull("the store filled up during the write")

    def delete(*args, **kwargs):
        if broken and undo_fails:
            raise StoreFull("the store is full")
        return real_delete(*args, **kwargs)

    monkeypatch.setattr(store, "upsert", upsert)
    monkeypatch.setattr(store, "delete", delete)


def assert_store_equals_manifest(assistant: Assistant) -> None:
    """Every stored vector is a committed chunk, embedded from the manifest's text, and every chunk has one."""
    s = assistant.settings
    chunker = Chunker(s.chunk_size, s.chunk_overlap, s.embed_title)
    papers = {paper.id: paper for _, _, paper in assistant.manifest.iter_chunk_texts()}
    chunks = {c.id: c for paper in papers.values() for c in chunker.chunk(paper)}
    assert assistant.store.ids() == set(chunks) == {cid for cid, _, _ in assistant.manifest.iter_chunk_texts()}
    ids = sorted(chunks)
    stored = assistant.store.vectors(ids)
    for cid, vector in zip(ids, HashEmbedder().embed([chunks[cid].embed_text for cid in ids]), strict=True):
        assert np.allclose(stored[cid], vector, atol=1e-5), cid  # embedded from the committed text
    assert assistant.manifest.journal() == []


def ingest_twice(tmp_path: Path, assistant: Assistant, monkeypatch: pytest.MonkeyPatch, *, undo_fails: bool) -> None:
    path = write_jsonl(tmp_path / "papers.jsonl", FIRST)
    assert assistant.ingest([path], progress=False).chunks_added == 4
    write_jsonl(path, SECOND)
    os.utime(path, (1, 1))  # a new mtime whatever the clock's resolution
    break_store_after_upsert(assistant, monkeypatch, undo_fails=undo_fails)
    with pytest.raises(Exception):  # noqa: B017 (StoreFull, or whatever one-line error it becomes)
        assistant.ingest([path], progress=False)


def test_a_batch_that_fails_in_the_store_is_undone_in_the_same_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash", chunk_size=32))
    ingest_twice(tmp_path, assistant, monkeypatch, undo_fails=False)
    monkeypatch.undo()
    # no further ingest: the failed batch's vectors are gone and the stale ones back, at once
    assert assistant.manifest.get("new") is None
    assert assistant.manifest.chunk_ids_of("long") == ["long:0", "long:1", "long:2"]
    assert_store_equals_manifest(assistant)
    assert "new" not in {h.paper.id for h in assistant.search("qwertase substrates", k=5, mode="dense")}
    assistant.close()


def test_a_batch_the_process_could_not_undo_is_repaired_from_the_journal_when_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "index", embed="hash", chunk_size=32)
    first = Assistant(settings)
    ingest_twice(tmp_path, first, monkeypatch, undo_fails=True)
    assert sorted(first.manifest.journal())  # left for the next writer
    monkeypatch.undo()
    first.close()
    reopened = Assistant(settings)
    assert reopened.ingest([], progress=False).repaired >= 3  # 'long' re-embedded from the manifest's text
    assert reopened.manifest.get("new") is None
    assert_store_equals_manifest(reopened)
    reopened.close()


def test_the_journal_names_every_chunk_a_batch_touches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash", chunk_size=32))
    journaled: list[list[str]] = []
    real = assistant.manifest.journal_add
    monkeypatch.setattr(assistant.manifest, "journal_add", lambda ids: (journaled.append(sorted(ids)), real(ids)))
    path = write_jsonl(tmp_path / "papers.jsonl", FIRST)
    assistant.ingest([path], progress=False)
    write_jsonl(path, SECOND)
    os.utime(path, (1, 1))
    assistant.ingest([path], progress=False)
    # new chunks, and the stale ones the batch deletes
    assert journaled[-1] == ["long:0", "long:1", "long:2", "new:0"]
    assert assistant.manifest.journal() == []  # cleared by the commit
    assert assistant.store.count() == 3
    assistant.close()


def test_a_file_read_with_an_error_keeps_the_papers_it_no_longer_shows(tmp_path: Path) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash"))
    path = write_jsonl(tmp_path / "papers.jsonl", FIRST)
    assistant.ingest([path], progress=False)
    path.write_text(json.dumps(FIRST[1]) + "\n{not json\n")  # 'long' is gone, but the file did not read cleanly
    os.utime(path, (1, 1))
    report = assistant.ingest([path], progress=False)
    assert report.errors and report.papers_removed == 0
    assert assistant.manifest.get("long") is not None and assistant.stats().papers == 2
    assistant.close()


def test_an_edit_that_keeps_the_file_size_is_read_again(tmp_path: Path) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash"))
    path = write_jsonl(tmp_path / "papers.jsonl", FIRST)
    assistant.ingest([path], progress=False)
    size = path.stat().st_size
    path.write_text(path.read_text().replace("Bumblebees learn", "Bumblebees dance"))
    os.utime(path, (1, 1))  # a new mtime even within one tick of the file system's clock
    assert path.stat().st_size == size
    report = assistant.ingest([path], progress=False)
    assert report.papers_updated == 1 and "dance" in assistant.manifest.get("keep").abstract
    assistant.close()
