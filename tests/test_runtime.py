"""CPU threads per kind of process (`rag.runtime`): the settings reach torch, a user's OMP_NUM_THREADS wins, and
importing the package changes nothing.

Each check runs in a fresh interpreter: OMP_NUM_THREADS only counts before torch is imported, and this test
process may have imported torch long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import runtime
from rag.cli import app
from rag.config import Settings

ROOT = Path(__file__).parents[1]


def run_python(code: str, **env: str | None) -> dict:
    """Run `code` in a fresh interpreter (the thread variables unset unless given) and return the JSON it prints."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in (*runtime.THREAD_VARS, "OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM")
    }
    environ.update({k: v for k, v in env.items() if v is not None})
    environ["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=environ, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


THREADS_SEEN = """
    import json, os, threading
    import torch
    seen = {}
    def worker():
        torch.ones(64, 64) @ torch.ones(64, 64)  # a request thread's first torch work
        seen["worker"] = torch.get_num_threads()
    t = threading.Thread(target=worker); t.start(); t.join()
    print(json.dumps({"main": torch.get_num_threads(), **seen, "omp": os.environ.get("OMP_NUM_THREADS")}))
"""


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
@pytest.mark.parametrize("torch_first", [False, True], ids=["configured-before-torch", "torch-already-imported"])
def test_query_threads_reach_torch_in_every_thread(torch_first: bool) -> None:
    got = run_python(
        ("import torch\n" if torch_first else "")
        + "from rag.config import Settings\nfrom rag.runtime import configure_threads\n"
        + "assert configure_threads('serve', Settings(query_threads=1)) == 1\n"
        + textwrap.dedent(THREADS_SEEN)
    )
    assert got == {"main": 1, "worker": 1, "omp": "1"}


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_each_kind_reads_its_own_setting_and_zero_is_one_per_core() -> None:
    code = """
        import json, os, torch
        from rag.config import Settings
        from rag.runtime import configure_threads, cores
        out = {"cores": cores()}
        torch.set_num_threads(3)
        out["ingest=0"] = [configure_threads("ingest", Settings(ingest_threads=0)), torch.get_num_threads()]
        s = Settings(query_threads=1, ingest_threads=3)
        for kind in ("cli", "ingest", "serve"):
            out[kind] = [configure_threads(kind, s), torch.get_num_threads(), os.environ["OMP_NUM_THREADS"]]
        out["wait"] = os.environ["OMP_WAIT_POLICY"]
        print(json.dumps(out))
    """
    got = run_python(code)
    cores = got.pop("cores")
    assert got == {
        "ingest=0": [cores, cores],
        "cli": [1, 1, "1"],
        "ingest": [3, 3, "3"],
        "serve": [1, 1, "1"],
        "wait": "PASSIVE",
    }


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_a_users_omp_num_threads_is_not_overridden() -> None:
    code = """
        import json, os
        from rag.config import Settings
        from rag.runtime import configure_threads
        applied = configure_threads("cli", Settings(query_threads=1))
        import torch
        print(json.dumps({"applied": applied, "omp": os.environ["OMP_NUM_THREADS"], "torch": torch.get_num_threads(),
                          "mkl": os.environ.get("MKL_NUM_THREADS")}))
    """
    got = run_python(code, OMP_NUM_THREADS="2")
    assert got == {"applied": None, "omp": "2", "torch": min(2, os.cpu_count() or 1), "mkl": None}


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_importing_the_package_changes_no_threads() -> None:
    code = """
        import json, os, torch
        torch.set_num_threads(3)
        import rag, rag.assistant, rag.cli, rag.mcp, rag.api.app, rag.api.server, rag.ui.app, rag.index.embedders
        from rag import Assistant, Settings
        a = Assistant(Settings(embed="hash"))
        a.ingest(progress=False)
        a.search("residual networks", 3)
        print(json.dumps({"torch": torch.get_num_threads(),
                          "env": [v for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
                                              "TOKENIZERS_PARALLELISM") if v in os.environ]}))
    """
    assert run_python(code) == {"torch": 3, "env": []}


def test_defaults_one_query_thread_and_one_per_core_for_ingest() -> None:
    s = Settings()
    assert (s.query_threads, s.ingest_threads) == (1, 0)


def test_cli_search_runs_on_the_query_threads(hash_bundled_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(hash_bundled_dir))
    monkeypatch.setenv("RAG_EMBED", "hash")
    monkeypatch.setenv("RAG_QUERY_THREADS", "1")
    result = CliRunner().invoke(app, ["search", "wide residual networks", "-k", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["TOKENIZERS_PARALLELISM"] == "false"
