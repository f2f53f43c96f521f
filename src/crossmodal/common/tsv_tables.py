"""Reading the per-job tables that later stages concatenate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.errors import InputError


def read_tables(
    paths: list[str | Path], columns: list[str], text_columns: list[str], rule: str
) -> pd.DataFrame:
    """Concatenate tab-separated tables written by one rule, checking their columns.

    Args:
        paths: the tables (at least one).
        columns: columns to keep, in this order (each must be present).
        text_columns: columns read as text (so ids such as ``"1"`` stay strings).
        rule: the rule that writes them (named in errors).

    Returns:
        All rows, columns ``columns``.

    Raises:
        InputError: a file lacks a column (callers check for an empty ``paths``, whose meaning
            they know best).
    """
    frames = []
    for path in paths:
        frame = pd.read_csv(path, sep="\t", dtype={c: str for c in text_columns})
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"{path}: missing columns {missing}; rerun its {rule} job")
        frames.append(frame[columns])
    return pd.concat(frames, ignore_index=True)
