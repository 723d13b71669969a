"""Every setting does something: each `Settings` field is read somewhere in the package."""

from __future__ import annotations

import re
from pathlib import Path

from rag import Settings

PACKAGE = Path(__file__).parents[1] / "rag"


def reads_of(field: str, sources: dict[str, str]) -> list[str]:
    """Files that read `field`: as an attribute of a settings object (`settings.x`, `self.settings.x`, `s.x`,
    `base.x`) or by name in a string (`getattr(settings, "x")`, `model_copy(update={"x": ...})`)."""
    pattern = re.compile(rf"\b(?:settings|s|base)\.{field}\b|[\"']{field}[\"']")
    return [name for name, text in sources.items() if pattern.search(text)]


def test_every_settings_field_is_read_somewhere_in_the_package() -> None:
    sources = {
        str(p.relative_to(PACKAGE)): p.read_text(encoding="utf-8")
        for p in PACKAGE.rglob("*.py")
        if p.name != "config.py"  # where the fields are declared, not used
    }
    unread = [field for field in Settings.model_fields if not reads_of(field, sources)]
    assert unread == [], f"settings read nowhere in rag/: {unread}"


def test_the_check_notices_an_unread_field() -> None:
    sources = {"a.py": "x = settings.top_k + s.answer_k\ny = getattr(base, 'fusion')\nz = cfg.mmr_lambda"}
    assert reads_of("top_k", sources) and reads_of("answer_k", sources) and reads_of("fusion", sources)
    assert not reads_of("mmr", sources)  # `mmr_lambda` is another field
    assert not reads_of("mmr_lambda", sources)  # read from a copy, not from the settings
