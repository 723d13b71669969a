"""Offline token counting with tiktoken.

tiktoken downloads its BPE files on first use; llama-index-core ships a cache of them, so we
point tiktoken at that cache before the first encoding is loaded.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

ENCODING = "cl100k_base"


def _use_bundled_cache() -> None:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    import llama_index.core

    bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    if bundled.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)


@cache
def encoding():
    """The tiktoken encoding used for all token counts (loaded once, offline)."""
    _use_bundled_cache()
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Number of tokens in `text`."""
    return len(encoding().encode(text, disallowed_special=()))
