"""`Assistant(**overrides)` checks each override as the environment's value would be (helper-50: `data_dir="..."`
crashed with AttributeError, `top_k="5"` failed at search time, a misspelt name was silently ignored)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.errors import ConfigError


def test_overrides_are_read_as_settings_are(tmp_path: Path) -> None:
    assistant = Assistant(Settings(embed="hash", llm="extractive"), data_dir=str(tmp_path / "index"), top_k="3")
    assert assistant.settings.data_dir == tmp_path / "index" and assistant.settings.top_k == 3
    assert assistant.settings.embed == "hash"  # the rest kept from the given settings
    assert assistant.is_empty()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"topk": 5}, "unknown setting topk"),
        ({"top_k": "x"}, r"setting top_k \(RAG_TOP_K\): Input should be a valid integer"),
        ({"embed": "nonsense"}, r"setting embed \(RAG_EMBED\): Input should be 'local', 'openai' or 'hash'"),
        ({"top_k": 0}, r"setting top_k \(RAG_TOP_K\): Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_setting(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        Assistant(Settings(data_dir=tmp_path), **overrides)
    assert "\n" not in str(refused.value)


def test_a_bad_value_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        Assistant(Settings(data_dir=tmp_path), openai_api_key=12345678)
    assert "12345678" not in str(refused.value)
    with pytest.raises(ConfigError) as refused:  # a key may sit in any setting (helper-51)
        Assistant(Settings(data_dir=tmp_path), llm_kwargs='{"api_key": "sk-SECRET-123"}')
    assert "SECRET" not in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RAG_TOP_K", "abc", "setting top_k (RAG_TOP_K): Input should be a valid integer"),
        ("RAG_COLLECTION", "bad name", "setting collection (RAG_COLLECTION): String should match pattern"),
        ("RAG_COLLECTION", "a..b", "setting collection (RAG_COLLECTION): Value error, Chroma refuses two dots"),
        ("RAG_COLLECTION", "10.0.0.1", "setting collection (RAG_COLLECTION): Value error, Chroma refuses two dots"),
        ("RAG_LLM_KWARGS", '{"api_key": "sk-secret-1234', "RAG_LLM_KWARGS: cannot be read"),
    ],
)
def test_a_bad_environment_value_is_one_line_in_every_door(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    # a bad value in the environment or .env was a pydantic traceback from `rag stats` and every other command
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(message)) as refused:
        Settings()
    assert "\n" not in str(refused.value) and value not in str(refused.value)
    result = CliRunner().invoke(app, ["stats", "--local"])
    assert result.exit_code == 1 and message in " ".join(result.output.split())
    assert "Traceback" not in result.output and "sk-secret" not in result.output
