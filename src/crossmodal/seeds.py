"""Deterministic seeds derived from names (never Python's salted ``hash``)."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 31-bit seed that depends only on the text of ``parts``.

    ``derive_seed("synthetic_knee", "axial-md1-pfn1-a0.1", 0)`` is the same on every machine and
    every run, and differs for any other dataset, model or fold.
    """
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF
