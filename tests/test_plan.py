"""The batch planner on its own, over a fake manifest: which records are new papers, which merge, what changes."""

from __future__ import annotations

from rag.corpus.records import RawPaper
from rag.index.plan import Batch, BatchPlanner, Run, text_key
from rag.types import IngestReport, Paper


class FakeManifest:
    """The three lookups the planner makes, over papers already stored (with their title and abstract keys)."""

    def __init__(self, *papers: Paper) -> None:
        self.papers = {p.id: p for p in papers}

    def get(self, pid: str) -> Paper | None:
        return self.papers.get(pid)

    def find(self, abstract_key: str, title_key: str | None) -> str | None:
        for p in self.papers.values():
            if text_key(p.abstract) == abstract_key or (title_key and text_key(p.title) == title_key):
                return p.id
        return None

    def sources_of(self, pid: str) -> set[str]:
        return {self.papers[pid].source} if pid in self.papers else set()


def raw(title: str, abstract: str, line: int = 1, source: str = "a.jsonl", **extra: object) -> RawPaper:
    return RawPaper(title=title, abstract=abstract, source=source, line=line, **extra)  # type: ignore[arg-type]


def plan(manifest: FakeManifest, *raws: RawPaper) -> tuple[Run, Batch]:
    run = Run(IngestReport())
    batch = BatchPlanner(manifest).plan(list(raws), run, set())  # type: ignore[arg-type]  # a fake manifest
    return run, batch


def test_new_records_get_their_arxiv_id_and_copies_in_one_batch_merge() -> None:
    run, batch = plan(
        FakeManifest(),
        raw("Mamba", "Linear-time sequence modeling.", 1, given_id="arXiv:2312.00752"),
        raw("Mamba (preprint)", "Linear-time  sequence MODELING.", 2, source="b.jsonl"),  # the same abstract
        raw("Other", "Something else entirely.", 3),
    )
    assert set(batch.papers) == run.added and len(run.added) == 2
    assert "2312.00752" in run.added
    assert run.report.duplicates_merged == 1 and not run.updated
    assert [link[1:] for link in batch.links if link[0] == "2312.00752"] == [("a.jsonl", 1), ("b.jsonl", 2)]


def test_a_record_naming_a_stored_id_with_other_text_updates_it_and_is_reported() -> None:
    stored = Paper(id="p1", title="Old title", abstract="Old abstract.", source="a.jsonl", line=4)
    run, batch = plan(FakeManifest(stored), raw("New title", "New abstract.", 9, source="b.jsonl", given_id="p1"))
    paper = batch.papers["p1"][0]
    assert (paper.abstract, paper.title) == ("New abstract.", "New title") and run.updated == {"p1"}
    assert run.report.conflicts and "id p1 was read before with other text (a.jsonl:4)" in run.report.conflicts[0]


def test_a_record_equal_to_a_stored_paper_changes_nothing_and_only_links_the_source() -> None:
    stored = Paper(id="p1", title="A title", abstract="An abstract.", source="a.jsonl", line=1)
    run, batch = plan(FakeManifest(stored), raw("A title", "An abstract.", 7, source="b.jsonl"))
    assert run.unchanged == {"p1"} and not batch.papers and not run.added
    assert batch.links == [("p1", "b.jsonl", 7)] and batch.relinked == {"p1"}


def test_a_missing_field_is_filled_from_a_later_copy_without_a_conflict() -> None:
    stored = Paper(id="p1", title="A title", abstract="An abstract.", source="a.jsonl", line=1)
    run, batch = plan(FakeManifest(stored), raw("A title", "An abstract.", 2, source="b.jsonl", date="2021-05"))
    assert batch.papers["p1"][0].date == "2021-05" and run.updated == {"p1"} and not run.report.conflicts
