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


def seed_key(dataset: str, model: str, fold: int | str) -> str:
    """The name that seeds everything random about one network and fold.

    Training (with the dataset seed) and the Table I and Fig. 8 forests derive their seeds from
    it, so the one spelling here keeps them consistent between the rules and the library.

    Args:
        dataset: the dataset's config key.
        model: network id, e.g. ``"axial-md1-pfn1-a0.1"``.
        fold: fold index (an int, or its text as in a wildcard).

    Returns:
        ``"{dataset}/{model}/fold{fold}"``, e.g. ``"synthetic_knee/axial-md1-pfn1-a0.1/fold0"``.
    """
    return f"{dataset}/{model}/fold{int(fold)}"
