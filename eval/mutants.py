"""Hand mutations (`make mutants`): break the code on purpose, one place at a time, and check a test notices.

    python eval/mutants.py [--only ID_OR_FILE ...] [--list] [--out eval/results/mutants.md] [--timeout 300]

Each mutation replaces one short, exact snippet of a file under `rag/` and names the fast tests that must then
fail. The script copies the repository (tracked and untracked, not ignored files) to a temporary folder, so the
working tree, which other people may be testing from, is never touched; for each mutation it applies the
replacement in the copy, runs `python -m pytest <tests> -x -q -m "not slow"` there with `PYTHONPATH=<copy>`, and
puts the file back. A failing run is KILLED, a passing one SURVIVED.

The run fails (exit 1) when a snippet is no longer found, or found twice (STALE: update the list after a
change), when the unmutated copy does not pass the named tests, when a mutation in a file listed in `MUST_KILL`
survives, or when any mutation survives that the list does not explain with `survives=...`. Results go to
`--out` (a full run only, unless `--out` is given), a Markdown table with every mutation and its outcome.

Why not mutmut: it mutates the working tree in place, runs the whole suite per mutant (servers, browsers) and takes
hours on two cores; these mutations are the breaks that matter, each checked by the few tests that guard it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "results" / "mutants.md"
MUST_KILL = ("rag/api/auth.py", "rag/ui/uploads.py")
"""Files whose every mutation must be killed: a survivor there is a hole in access control."""

GUARDS = "tests/test_mutation_guards.py"
LOGIC = "tests/test_logic_fakes.py"
CITATIONS = "tests/test_citations.py"
SUFFICIENCY = "tests/test_sufficiency.py"
UI = "tests/test_ui_security.py"


@dataclass(frozen=True)
class Mutation:
    """One deliberate break: `original` (exact, found once in `file`) becomes `replacement`."""

    id: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    reason: str
    """What the break means for a user."""
    survives: str = ""
    """Why no test fails (an equivalent mutant, or a gap not closed); empty = it must be killed."""


def _g(*names: str) -> tuple[str, ...]:
    return tuple(f"{GUARDS}::{n}" for n in names)


AUTH_TESTS = _g(
    "test_the_whole_token_with_a_bearer_scheme_matches",
    "test_an_empty_truncated_longer_recased_or_unschemed_token_does_not_match",
    "test_each_guard_alone_refuses_every_wrong_token",
)
AUTH_OPEN = _g("test_the_middleware_leaves_open_only_the_open_folders_not_names_that_start_alike")
PATH_TESTS = (
    *_g(
        "test_a_sibling_folder_whose_name_starts_like_the_upload_folder_is_refused",
        "test_a_symlink_or_dotdot_out_of_the_folder_is_refused",
        "test_an_upload_folder_named_through_a_symlink_still_accepts_its_uploads",
        "test_a_fifo_in_the_folder_is_refused_and_a_vanished_upload_is_one_line",
    ),
    f"{UI}::test_only_regular_files_inside_the_upload_folder_are_accepted",
)
BATCH_TESTS = _g(
    "test_a_batch_that_fails_in_the_store_is_undone_in_the_same_process",
    "test_a_batch_the_process_could_not_undo_is_repaired_from_the_journal_when_reopened",
    "test_the_journal_names_every_chunk_a_batch_touches",
)

MUTATIONS: tuple[Mutation, ...] = (
    # --- rag/api/auth.py: the bearer token ---------------------------------------------------------------------
    Mutation(
        "auth-prefix",
        "rag/api/auth.py",
        "secrets.compare_digest(given.strip().encode(), token.encode())",
        "token.encode().startswith(given.strip().encode())",
        AUTH_TESTS,
        "the token compared by prefix: an empty or truncated token gets in",
    ),
    Mutation(
        "auth-token-case",
        "rag/api/auth.py",
        "given.strip().encode(), token.encode()",
        "given.strip().lower().encode(), token.lower().encode()",
        AUTH_TESTS,
        "the token compared without case: a guess needs fewer tries",
    ),
    Mutation(
        "auth-empty-token",
        "rag/api/auth.py",
        'return scheme.lower() == "bearer" and',
        'return (scheme.lower() == "bearer" and not given.strip()) or scheme.lower() == "bearer" and',
        AUTH_TESTS,
        "`Authorization: Bearer ` with no token gets in",
    ),
    Mutation(
        "auth-no-scheme-check",
        "rag/api/auth.py",
        'scheme.lower() == "bearer" and secrets',
        "secrets",
        AUTH_TESTS,
        "any scheme (Basic, Token) carrying the token is taken for a bearer token",
    ),
    Mutation(
        "auth-scheme-case",
        "rag/api/auth.py",
        'scheme.lower() == "bearer"',
        'scheme == "Bearer"',
        AUTH_TESTS,
        "the scheme compared with case (RFC 7235 says it has none): `bearer <token>` refused",
    ),
    Mutation(
        "auth-middleware-presence",
        "rag/api/auth.py",
        'if token_matches(Headers(scope=scope).get("authorization"), self.token):',
        'if Headers(scope=scope).get("authorization"):',
        AUTH_TESTS,
        "the middleware lets in any Authorization header (bodies of uploads read before the route checks)",
    ),
    Mutation(
        "auth-middleware-type",
        "rag/api/auth.py",
        'if scope["type"] != "http" or',
        'if scope["type"] != "websocket" or',
        AUTH_TESTS,
        "the middleware waves every HTTP request through",
    ),
    Mutation(
        "auth-open-sibling",
        "rag/api/auth.py",
        'path.startswith(p.rstrip("/") + "/")',
        "path.startswith(p)",
        AUTH_OPEN,
        "an open folder matched by string prefix: `/uix`, `/docs-admin` served without the token",
    ),
    Mutation(
        "auth-dependency-presence",
        "rag/api/auth.py",
        "if not token_matches(given, token):",
        "if given is None:",
        AUTH_TESTS,
        "the route dependency lets in any bearer token",
    ),
    Mutation(
        "auth-dependency-missing",
        "rag/api/auth.py",
        "if credentials else None",
        'if credentials else f"Bearer {token}"',
        AUTH_TESTS,
        "the route dependency lets in a request without credentials",
    ),
    Mutation(
        "auth-dependency-return-early",
        "rag/api/auth.py",
        "if token is None:",
        "if token is not None:",
        AUTH_TESTS,
        "the route dependency returns early when a token is configured",
    ),
    # --- rag/ui/uploads.py: upload paths -----------------------------------------------------------------------
    Mutation(
        "upload-sibling-prefix",
        "rag/ui/uploads.py",
        "not real.is_relative_to(root)",
        "not str(real).startswith(str(root))",
        PATH_TESTS,
        "the folder checked by string prefix: `<root>-x/secret` passes",
    ),
    Mutation(
        "upload-dotdot",
        "rag/ui/uploads.py",
        "real = Path(os.path.realpath(path))",
        "real = Path(path).absolute()",
        PATH_TESTS,
        "`..` and symlinks not resolved: `<root>/a/../../secret` passes",
    ),
    Mutation(
        "upload-symlink",
        "rag/ui/uploads.py",
        "real = Path(os.path.realpath(path))",
        "real = Path(os.path.abspath(path))",
        PATH_TESTS,
        "symlinks not followed: a link inside the folder to a file outside passes",
    ),
    Mutation(
        "upload-root-unresolved",
        "rag/ui/uploads.py",
        "root = Path(os.path.realpath(upload_root))",
        "root = Path(upload_root)",
        PATH_TESTS,
        "the upload folder not resolved: every upload refused when its folder is named through a symlink",
    ),
    Mutation(
        "upload-not-regular",
        "rag/ui/uploads.py",
        "if not stat.S_ISREG(mode):",
        "if stat.S_ISDIR(mode):",
        PATH_TESTS,
        "a FIFO or device accepted: reading it blocks the server",
    ),
    Mutation(
        "upload-gone",
        "rag/ui/uploads.py",
        "except OSError:",
        "except PermissionError:",
        PATH_TESTS,
        "a vanished upload is a traceback instead of one line",
    ),
    Mutation(
        "upload-suffix-case",
        "rag/corpus/load.py",
        "suffixes = [s.lower() for s in Path(path.name).suffixes]",
        "suffixes = list(Path(path.name).suffixes)",
        _g("test_the_type_check_ignores_case_and_the_size_cap_is_inclusive"),
        "`PAPERS.JSONL` refused as an unsupported type (the upload check reads the type through the loader's)",
    ),
    Mutation(
        "upload-type-unchecked",
        "rag/ui/uploads.py",
        "    if reader_for(Path(name)) is None:\n        raise UploadRefused",
        "    if False:\n        raise UploadRefused",
        _g("test_the_type_check_ignores_case_and_the_size_cap_is_inclusive"),
        "an upload of a type the loader cannot read (`papers.exe`, a bare `.gz`) is accepted and kept",
    ),
    Mutation(
        "upload-size-cap",
        "rag/ui/uploads.py",
        "st_size > max_mb * 1_000_000",
        "st_size >= max_mb * 1_000_000",
        _g("test_the_type_check_ignores_case_and_the_size_cap_is_inclusive"),
        "off by one: a file of exactly the cap refused",
    ),
    Mutation(
        "upload-stored-name",
        "rag/ui/uploads.py",
        "content_key(path) / Path(name).name",
        "content_key(path) / name",
        _g("test_a_stored_upload_keeps_only_the_file_name_of_what_the_client_called_it"),
        "the client's file name used as a path: `../../x.jsonl` written outside the uploads folder",
    ),
    Mutation(
        "upload-loopback",
        "rag/ui/uploads.py",
        "ipaddress.ip_address(host).is_loopback",
        "ipaddress.ip_address(host).is_private",
        (f"{UI}::test_uploads_are_off_by_default_only_on_an_open_network_address_without_login",),
        "a LAN address taken for loopback: uploads without a login on the network",
    ),
    Mutation(
        "upload-share",
        "rag/ui/uploads.py",
        "(is_loopback(host) and not share)",
        "is_loopback(host)",
        (f"{UI}::test_uploads_are_off_by_default_only_on_an_open_network_address_without_login",),
        "a public share link without a login allows uploads",
    ),
    # --- rag/fusion.py and its use in rag/retrieval.py ----------------------------------------------------------
    Mutation(
        "fusion-paper-level-off-in-search",
        "rag/retrieval.py",
        'paper_level_convex=mode == "hybrid" and cfg.fusion == "convex"',
        "paper_level_convex=False",
        _g("test_hybrid_search_scores_a_paper_by_its_best_cosine_and_its_best_bm25_over_all_its_chunks"),
        "Retriever.search fuses chunk by chunk: a paper whose two halves match two halves of the query loses",
    ),
    Mutation(
        "fusion-paper-level-skipped",
        "rag/fusion.py",
        "if paper_level_convex:",
        "if False:",
        (
            f"{LOGIC}::test_one_hit_per_paper_with_paper_level_convex_scores",
            *_g("test_hybrid_search_scores_a_paper_by_its_best_cosine_and_its_best_bm25_over_all_its_chunks"),
        ),
        "best_per_paper ignores paper_level_convex",
    ),
    Mutation(
        "fusion-bm25-unnormalised",
        "rag/fusion.py",
        "bm25 / (top_bm25 or 1.0)",
        "bm25",
        (f"{LOGIC}::test_convex_fusion_weighs_cosine_and_normalised_bm25",),
        "raw BM25 added to cosines: BM25 swamps the dense side",
    ),
    Mutation(
        "fusion-bm25-only-dropped",
        "rag/fusion.py",
        "for cid in dense.keys() | bm25}",
        "for cid in dense}",
        (f"{LOGIC}::test_convex_fusion_weighs_cosine_and_normalised_bm25",),
        "chunks found by BM25 alone are dropped from convex fusion",
    ),
    Mutation(
        "fusion-worst-chunk",
        "rag/fusion.py",
        "key=lambda kv: -kv[1])",
        "key=lambda kv: kv[1])",
        (f"{LOGIC}::test_one_hit_per_paper_with_paper_level_convex_scores",),
        "each paper represented by its worst chunk",
    ),
    Mutation(
        "fusion-best-cosine-last",
        "rag/fusion.py",
        "dmax[pid] = max(dmax.get(pid, -1.0), s)",
        "dmax[pid] = s",
        (f"{LOGIC}::test_one_hit_per_paper_with_paper_level_convex_scores",),
        "a paper's cosine is its last chunk's, not its best",
    ),
    Mutation(
        "fusion-rrf-off-by-one",
        "rag/fusion.py",
        "weight / (k + rank + 1)",
        "weight / (k + rank)",
        (f"{LOGIC}::test_weighted_reciprocal_rank_fusion",),
        "RRF ranks counted from 0 (not the published formula)",
    ),
    Mutation(
        "fusion-mmr-sign",
        "rag/fusion.py",
        "lam * rel - (1 - lam) * closest",
        "lam * rel + (1 - lam) * closest",
        (f"{LOGIC}::test_mmr_trades_relevance_for_diversity",),
        "MMR rewards near-duplicates instead of penalising them",
    ),
    # --- rag/citations.py --------------------------------------------------------------------------------------
    Mutation(
        "citations-embedding-half-dropped",
        "rag/citations.py",
        "0.5 * lexical + 0.5 * float(cos.max())",
        "lexical",
        _g("test_an_embedding_close_paraphrase_is_supported_and_a_lookalike_is_not"),
        "support by shared words only: a paraphrase is marked unsupported, a lookalike passes",
    ),
    Mutation(
        "citations-embedding-branch-skipped",
        "rag/citations.py",
        "if claim_vec is not None and ev.vectors is not None:",
        "if False:",
        _g("test_an_embedding_close_paraphrase_is_supported_and_a_lookalike_is_not"),
        "the embedding check never runs",
    ),
    Mutation(
        "citations-lexical-always",
        "rag/citations.py",
        "lexical if lexical >= self.lexical_only else 0.0",
        "lexical",
        _g("test_an_embedding_close_paraphrase_is_supported_and_a_lookalike_is_not"),
        "word overlap alone suffices below `lexical_only`: a claim borrowing the source's words passes",
    ),
    Mutation(
        "citations-no-threshold",
        "rag/citations.py",
        "keep = [n for n in valid if scored[n][0] >= self.threshold]",
        "keep = list(valid)",
        (f"{CITATIONS}::test_a_claim_cited_to_the_wrong_source_moves_to_the_right_one",),
        "every cited source is kept, supported or not",
    ),
    Mutation(
        "citations-no-reattribution",
        "rag/citations.py",
        "if best is not None and scored[best][0] >= self.threshold:",
        "if False:",
        (f"{CITATIONS}::test_uncited_claim_gets_the_source_that_supports_it",),
        "a claim cited to the wrong source is not moved to the right one",
    ),
    Mutation(
        "citations-no-renumbering",
        "rag/citations.py",
        "order.setdefault(n, len(order) + 1)",
        "order.setdefault(n, n)",
        (f"{CITATIONS}::test_renumbering_by_first_use_and_only_cited_papers_listed",),
        "citations keep the prompt's numbers: gaps and out-of-order markers",
    ),
    Mutation(
        "citations-unsupported-unmarked",
        "rag/citations.py",
        'pieces.append(f"{body} {UNSUPPORTED}{end}")',
        "pieces.append(claim)",
        (f"{CITATIONS}::test_unsupported_claims_are_marked_and_extra_citations_pruned",),
        "an unsupported claim is shown as if it were fine",
    ),
    Mutation(
        "citations-min-words-off-by-one",
        "rag/citations.py",
        "len(words) < self.min_claim_words and not valid",
        "len(words) <= self.min_claim_words and not valid",
        _g("test_an_uncited_claim_of_exactly_the_minimum_length_is_still_checked"),
        "an uncited three-word claim escapes the check",
    ),
    # --- rag/sufficiency.py ------------------------------------------------------------------------------------
    Mutation(
        "sufficiency-no-idf",
        "rag/coverage.py",
        "math.log(1 + total / (1 + count))",
        "1.0",
        _g("test_coverage_weighs_rare_question_words_over_common_ones"),
        "coverage counts 'results' as much as 'tardigrade'",
    ),
    Mutation(
        "sufficiency-unknown-name-skipped",
        "rag/sufficiency.py",
        "if unknown:",
        "if False:",
        (f"{SUFFICIENCY}::test_name_that_no_indexed_abstract_mentions_means_abstain",),
        "a name no abstract mentions is 'partial', not an abstention",
    ),
    Mutation(
        "sufficiency-setting-numbers-skipped",
        "rag/sufficiency.py",
        "unstated = tuple(n for n, forms in asked_numbers.items() if not forms & stated)",
        "unstated = ()",
        (f"{SUFFICIENCY}::test_a_setting_number_the_abstract_does_not_hold_makes_the_answer_partial",),
        "'at 128 x 128' answered from an abstract that reports 256 only",
    ),
    Mutation(
        "sufficiency-quantity-skipped",
        "rag/sufficiency.py",
        "quantity_missing = question.wants_number and not self._states_quantity(",
        "quantity_missing = False and not self._states_quantity(",
        (f"{SUFFICIENCY}::test_quantity_question_without_the_measured_number_is_partial_and_says_what_is_missing",),
        "a 'how many' question answered without a number",
    ),
    Mutation(
        "sufficiency-partial-flipped",
        "rag/sufficiency.py",
        "if coverage < self.partial_coverage:",
        "if coverage > self.partial_coverage:",
        (f"{SUFFICIENCY}::test_low_word_coverage_gives_partial_then_abstain_by_threshold",),
        "well-covered answers called partial and poorly covered ones answered",
    ),
    Mutation(
        "sufficiency-abstain-off-by-one",
        "rag/sufficiency.py",
        "if coverage < self.abstain_coverage:",
        "if coverage <= self.abstain_coverage:",
        _g("test_coverage_exactly_at_the_abstain_threshold_is_partial"),
        "coverage exactly at RAG_ABSTAIN_COVERAGE abstains",
    ),
    Mutation(
        "sufficiency-paraphrase-dropped",
        "rag/coverage.py",
        "covered |= self._paraphrased(",
        "_ = self._paraphrased(",
        (f"{SUFFICIENCY}::test_a_paraphrased_question_word_counts_as_covered_when_its_word_vector_is_close",),
        "a paraphrased question word never counts as covered",
    ),
    Mutation(
        "sufficiency-typo-any-word",
        "rag/coverage.py",
        "if self._corpus_count(word) == 0",
        "if True",
        (f"{SUFFICIENCY}::test_a_real_word_one_edit_from_a_source_word_is_not_a_typo",),
        "an indexed word one edit from a source word ('lines' / 'lanes') is taken for a typo",
    ),
    Mutation(
        "verdict-cut-inverted",
        "rag/verdict.py",
        "return self.probability(signals) >= self.cut",
        "return self.probability(signals) <= self.cut",
        ("tests/test_verdict.py::test_the_probability_follows_the_coefficients_and_the_cut_decides",),
        "the calibrated model answers exactly what it should hold back",
    ),
    # --- rag/followup.py, rag/answering.py: follow-ups and which-papers answers ----------------------------------
    Mutation(
        "followup-always-rewritten",
        "rag/followup.py",
        "if not history or not needs_context(question):",
        "if not history:",
        ("tests/test_followups.py::test_a_self_contained_question_is_never_rewritten",),
        "a self-contained chat question is rewritten with the previous turn",
    ),
    Mutation(
        "list-topic-check-skipped",
        "rag/answering.py",
        "            hits = relevant\n",
        "            hits = hits\n",
        ("tests/test_list_topic.py::test_a_which_papers_answer_lists_only_papers_about_the_question",),
        "a which-papers answer lists retrieved papers that are not about the question",
    ),
    # --- rag/index/ingest.py -----------------------------------------------------------------------------------
    Mutation(
        "ingest-no-undo",
        "rag/index/ingest.py",
        "        try:\n            self.repair()\n        except Exception as exc:",
        "        try:\n            pass\n        except Exception as exc:",
        BATCH_TESTS,
        "a failed batch's vectors stay in the store until the next ingest (searches find ghosts)",
    ),
    Mutation(
        "ingest-no-journal",
        "rag/index/ingest.py",
        "self.manifest.journal_add(",
        "(lambda ids: None)(",
        BATCH_TESTS,
        "nothing journaled: a batch the process could not undo is never repaired",
    ),
    Mutation(
        "ingest-stale-not-journaled",
        "rag/index/ingest.py",
        "[*new_ids, *stale, *relinked_ids]",
        "[*new_ids, *relinked_ids]",
        BATCH_TESTS,
        "vectors the batch deletes are not journaled: a removed paper's vectors lost when its batch fails",
    ),
    Mutation(
        "ingest-repair-deletes-committed",
        "rag/index/ingest.py",
        "if cid not in present])",
        "if cid in present])",
        BATCH_TESTS,
        "repair deletes the committed vectors and keeps the uncommitted ones",
    ),
    Mutation(
        "ingest-repair-no-rewrite",
        "rag/index/ingest.py",
        "if chunks:\n            vectors = self._embedder()",
        "if False:\n            vectors = self._embedder()",
        BATCH_TESTS,
        "repair does not re-embed the committed text: overwritten vectors stay wrong",
    ),
    Mutation(
        "ingest-commit-keeps-journal",
        "rag/index/ingest.py",
        "                self.manifest.journal_clear()\n",
        "",
        BATCH_TESTS,
        "a committed batch stays journaled: every later ingest re-embeds it",
    ),
    Mutation(
        "ingest-errors-drop-links",
        "rag/index/ingest.py",
        "if len(run.report.errors) == errors_before:",
        "if True:",
        _g("test_a_file_read_with_an_error_keeps_the_papers_it_no_longer_shows"),
        "a file read with errors removes the papers it failed to show",
    ),
    Mutation(
        "ingest-same-size-skipped",
        "rag/index/ingest.py",
        "known.size == stat.st_size and known.mtime == stat.st_mtime",
        "known.size == stat.st_size",
        _g("test_an_edit_that_keeps_the_file_size_is_read_again"),
        "an edit that keeps the file's size is never read",
    ),
)


@dataclass
class Outcome:
    mutation: Mutation
    status: str  # KILLED, SURVIVED, STALE, ERROR
    seconds: float = 0.0
    detail: str = ""


def copy_repo(dest: Path) -> None:
    """Tracked and untracked (not ignored) files of the repository, as they are now, into `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        src = ROOT / os.fsdecode(raw)
        target = dest / os.fsdecode(raw)
        if src.is_symlink():  # rag/prompts -> ../prompts: kept a link, as git keeps it
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(src))
        elif src.is_file():  # a deleted, not yet committed file is listed but gone
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, str, float]:
    """pytest on `tests` in the copy: (exit code, last lines of output, seconds); 124 on timeout."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}  # no stale .pyc after a mutation
    cmd = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:.0f} s", time.perf_counter() - started
    lines = (done.stdout + done.stderr).strip().splitlines()
    failed = [ln.split(" - ")[0] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    tail = "\n".join(failed[:1] or lines[-5:])  # the test that noticed, else the end of the output
    return done.returncode, tail, time.perf_counter() - started


def check_snippets(mutations: tuple[Mutation, ...], root: Path) -> dict[str, str]:
    """Mutation id -> why it is stale (its snippet is missing or ambiguous, or its file is gone)."""
    stale = {}
    for m in mutations:
        path = root / m.file
        if not path.is_file():
            stale[m.id] = f"{m.file} not found"
            continue
        n = path.read_text(encoding="utf-8").count(m.original)
        if n != 1:
            stale[m.id] = f"snippet found {n} times in {m.file}"
    return stale


def mutate(copy: Path, m: Mutation, timeout: float) -> Outcome:
    path = copy / m.file
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(m.original, m.replacement, 1), encoding="utf-8")
    try:
        code, tail, seconds = run_tests(copy, m.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    if code == 0:
        return Outcome(m, "SURVIVED", seconds, tail)
    if code in (1, 2, 124):  # failed, broke collection (an import error), or hung: the break was noticed
        return Outcome(m, "KILLED", seconds, tail.removeprefix("FAILED ").rsplit("::", 1)[-1])
    return Outcome(m, "ERROR", seconds, f"pytest exit {code}: {tail}")


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")


def report(outcomes: list[Outcome], total_s: float) -> str:
    killed = sum(o.status == "KILLED" for o in outcomes)
    survivors = [o for o in outcomes if o.status == "SURVIVED"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        "# Hand mutations (`make mutants`)",
        "",
        f"{len(outcomes)} mutations, {killed} killed, {len(survivors)} survived, "
        f"{sum(o.status in ('STALE', 'ERROR') for o in outcomes)} stale or in error; "
        f"{total_s:.0f} s on commit {commit.stdout.strip() or '?'}{' with uncommitted changes' if dirty else ''} "
        "(`python eval/mutants.py`, list in "
        "`eval/mutants.py`). Each mutation is applied alone to a copy of the repository and checked by the fast "
        "tests it names (`-x -m 'not slow'`); every mutation in "
        + ", ".join(f"`{f}`" for f in MUST_KILL)
        + " must be killed.",
        "",
        "| id | file | original -> mutated | what it breaks | result | noticed by | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        m = o.mutation
        change = f"`{cell(m.original.strip())}` -> `{cell(m.replacement.strip()) or '(removed)'}`"
        by = cell(o.detail) if o.status == "KILLED" else ""
        lines.append(f"| {m.id} | {m.file} | {change} | {cell(m.reason)} | {o.status} | {by} | {o.seconds:.0f} |")
    lines += ["", "## Survivors", ""]
    if not survivors:
        lines.append("None.")
    for o in survivors:
        lines.append(f"- **{o.mutation.id}** ({o.mutation.file}): {o.mutation.survives or 'NOT EXPLAINED'}")
    problems = [o for o in outcomes if o.status in ("STALE", "ERROR")]
    if problems:
        lines += ["", "## Stale or in error", ""] + [f"- **{o.mutation.id}**: {cell(o.detail)}" for o in problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="mutation ids, id prefixes or files to run")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--out", type=Path, default=None, help=f"results file (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutation before it counts as hung")
    args = parser.parse_args(argv)
    chosen = tuple(m for m in MUTATIONS if not args.only or any(m.id.startswith(s) or m.file == s for s in args.only))
    if args.list:
        for m in chosen:
            print(f"{m.id:40} {m.file:22} {m.reason}")
        return 0
    if not chosen:
        print("no mutation matches", args.only, file=sys.stderr)
        return 2
    ids = [m.id for m in MUTATIONS]
    assert len(ids) == len(set(ids)), "mutation ids must be unique"

    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="rag-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        copy_repo(copy)
        where = subprocess.run(
            [sys.executable, "-c", "import rag; print(rag.__file__)"],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(copy):
            print(f"`rag` imports from {where or '?'}, not from the copy: mutations would not be seen", file=sys.stderr)
            return 1
        stale = check_snippets(chosen, copy)
        live = [m for m in chosen if m.id not in stale]
        tests = tuple(dict.fromkeys(t for m in live for t in m.tests))
        code, tail, seconds = run_tests(copy, tests, args.timeout * 2)
        if code != 0:
            print(f"the unmutated code does not pass the named tests (pytest exit {code}):\n{tail}", file=sys.stderr)
            return 1
        print(f"baseline: {len(tests)} tests pass unmutated ({seconds:.0f} s)", flush=True)
        for m in chosen:
            outcome = Outcome(m, "STALE", detail=stale[m.id]) if m.id in stale else mutate(copy, m, args.timeout)
            outcomes.append(outcome)
            last = outcome.detail.splitlines()[-1] if outcome.detail else ""
            print(f"{outcome.status:8} {m.id:40} {outcome.seconds:5.0f} s  {last}", flush=True)
    total = time.perf_counter() - started

    out = args.out or (OUT if not args.only else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report(outcomes, total), encoding="utf-8")
        print(f"results in {out}")
    failures = [
        o
        for o in outcomes
        if o.status in ("STALE", "ERROR")
        or (o.status == "SURVIVED" and (o.mutation.file in MUST_KILL or not o.mutation.survives))
    ]
    for o in failures:
        print(f"FAIL {o.status} {o.mutation.id} ({o.mutation.file}): {o.detail or o.mutation.reason}", file=sys.stderr)
    killed = sum(o.status == "KILLED" for o in outcomes)
    print(f"{killed}/{len(outcomes)} killed in {total:.0f} s; {len(failures)} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
