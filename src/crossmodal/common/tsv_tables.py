"""Reading the tab-separated tables the stages write: one owner of the check of their columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.errors import InputError


def read_table(
    path: str | Path, columns: list[str], rule: str, *, text_columns: list[str] = (), all_text: bool = False
) -> pd.DataFrame:
    """One tab-separated table written by rule ``rule``, checked to have ``columns``.

    Args:
        path: the table.
        columns: columns it must have (others are kept).
        rule: the rule that writes it (named in errors).
        text_columns: columns read as text (so ids such as ``"1"`` stay strings).
        all_text: read every column as text, empty cells as ``""`` (a manifest).

    Returns:
        The table, every column.

    Raises:
        InputError: the file is missing, or lacks one of ``columns``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} not found; run the {rule} job for it first")
    if all_text:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    else:
        frame = pd.read_csv(path, sep="\t", dtype={c: str for c in text_columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; rerun its {rule} job")
    return frame


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
        InputError: a file is missing or lacks a column (callers check for an empty ``paths``,
            whose meaning they know best).
    """
    frames = [read_table(path, columns, rule, text_columns=text_columns)[columns] for path in paths]
    return pd.concat(frames, ignore_index=True)
