"""The batch planner: which of a batch's records are new papers, which merge into a paper already read (in this
batch or stored), and what each changes, decided before anything is written. Pure apart from lookups in the
manifest; `rag.index.ingest.Ingestor` chunks, embeds and commits what it plans."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from rag.corpus.records import RawPaper, arxiv_id, content_hash, normalize
from rag.index.manifest import Manifest
from rag.types import IngestReport, Paper


def text_key(text: str) -> str:
    """The key records are matched by: the SHA-1 of the normalised text."""
    return hashlib.sha1(normalize(text).encode()).hexdigest()


@dataclass
class Run:
    """Bookkeeping for one ingest call."""

    report: IngestReport
    added: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)


@dataclass
class Batch:
    """Everything one batch writes, computed before anything is written."""

    papers: dict[str, tuple[Paper, str | None, str]] = field(default_factory=dict)  # to (re)embed
    links: list[tuple[str, str, int]] = field(default_factory=list)
    dropped_links: list[tuple[str, str, int]] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)  # papers deleted
    relinked: set[str] = field(default_factory=set)  # existing papers whose sources change
    by_abstract: dict[str, str] = field(default_factory=dict)
    by_title: dict[str, str] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.papers or self.links or self.dropped_links or self.removed)


class BatchPlanner:
    """Plans one batch of records against what the manifest holds: new papers get an id (arXiv id, given id, or
    a content hash); a record matching a paper (by id, abstract or title) merges into it, and a record that names
    a known id with other text updates that paper and is reported as a conflict."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    def plan(self, raws: list[RawPaper], run: Run, seen: set[tuple[str, int]]) -> Batch:
        """The batch `raws` make; `run` records what was added, updated, unchanged or merged, `seen` the
        (paper, line) pairs read."""
        batch = Batch()
        for raw in raws:
            akey = text_key(raw.abstract)
            tkey = None if raw.title_derived else text_key(raw.title)
            pid = self._match(raw, akey, tkey, batch)
            if pid is None:
                paper = self._paper_from(raw, self._new_id(raw))
                run.added.add(paper.id)
                batch.papers[paper.id] = (paper, tkey, akey)
            else:
                paper = self._merge(pid, raw, run, batch)
            batch.by_abstract.setdefault(akey, paper.id)
            if tkey:
                batch.by_title.setdefault(tkey, paper.id)
            if (paper.id, raw.source, raw.line) not in batch.links:
                batch.links.append((paper.id, raw.source, raw.line))
                if paper.id not in batch.papers and raw.source not in self.manifest.sources_of(paper.id):
                    batch.relinked.add(paper.id)
            seen.add((paper.id, raw.line))
            run.touched.add(paper.id)
        return batch

    # --- papers --------------------------------------------------------------------------
    def _new_id(self, raw: RawPaper) -> str:
        return arxiv_id(raw.given_id) or raw.given_id or content_hash(raw.title, raw.abstract)

    def _lookup(self, pid: str, batch: Batch) -> Paper | None:
        return batch.papers[pid][0] if pid in batch.papers else self.manifest.get(pid)

    def _match(self, raw: RawPaper, akey: str, tkey: str | None, batch: Batch) -> str | None:
        if raw.given_id:
            given = arxiv_id(raw.given_id) or raw.given_id
            if given in batch.papers or self.manifest.get(given) is not None:
                return given
            # distinct ids: only identical text merges
            return batch.by_abstract.get(akey) or self.manifest.find(akey, None)
        found = batch.by_abstract.get(akey) or (batch.by_title.get(tkey) if tkey else None)
        return found or self.manifest.find(akey, tkey)

    def _merge(self, pid: str, raw: RawPaper, run: Run, batch: Batch) -> Paper:
        existing = self._lookup(pid, batch)
        assert existing is not None
        if pid in run.touched:
            run.report.duplicates_merged += 1
        update: dict[str, object] = {}
        text_differs = normalize(existing.abstract) != normalize(raw.abstract)
        title_differs = not raw.title_derived and normalize(raw.title) != normalize(existing.title)
        named = bool(raw.given_id) and pid == (arxiv_id(raw.given_id) or raw.given_id)
        if named and (text_differs or (title_differs and not existing.title_derived)):
            # a record that names a known id with other text updates the paper: the newest read wins
            first = f"{existing.source}:{existing.line}" if existing.line else existing.source
            run.report.conflicts.append(
                f"{raw.source}:{raw.line}: id {pid} was read before with other text ({first}); this record's text"
                " is kept"
            )
            update["abstract"] = raw.abstract
            if not raw.title_derived:
                update |= {"title": raw.title, "title_derived": False}
        else:
            same_file = existing.source == raw.source or any(
                s.rsplit(":", 1)[0] == raw.source for s in existing.sources
            )
            revised = same_file and pid not in run.touched  # the file that holds it was edited
            if revised and text_differs:
                update["abstract"] = raw.abstract
            if not raw.title_derived and (existing.title_derived or (revised and raw.title != existing.title)):
                update |= {"title": raw.title, "title_derived": False}
        for name in ("date", "author_count", "url"):
            if getattr(existing, name) is None and getattr(raw, name) is not None:
                update[name] = getattr(raw, name)
        if not existing.authors and raw.authors:
            update["authors"] = raw.authors
        if not update:
            run.unchanged.add(pid)
            return existing
        paper = existing.model_copy(update=update)
        run.updated.add(pid)
        title_key = None if paper.title_derived else text_key(paper.title)
        batch.papers[pid] = (paper, title_key, text_key(paper.abstract))
        return paper

    @staticmethod
    def _paper_from(raw: RawPaper, pid: str) -> Paper:
        return Paper(
            id=pid,
            title=raw.title,
            abstract=raw.abstract,
            authors=raw.authors,
            author_count=raw.author_count if raw.author_count is not None else (len(raw.authors) or None),
            date=raw.date,
            source=raw.source,
            line=raw.line,
            url=raw.url,
            title_derived=raw.title_derived,
            categories=raw.categories,
        )
