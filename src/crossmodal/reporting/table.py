"""Table I of the paper from the cell tables: tidy csv and a markdown table in the paper's layout.

``results/table1.csv`` has the columns of the paper's Table I as tidy data
(:mod:`crossmodal.reporting.paper_table`: ``dataset, model, modality_dropout, per_feature_norm,
alpha, setting, accuracy_percent``) plus ``sd_percent, n_folds, n_seeds, n_pairs`` and
``paper_accuracy_percent`` (the published value, for datasets configured with ``paper: oai`` or
``paper: brats``; empty otherwise). Accuracies are means over the units (fold, seed) of
:mod:`crossmodal.reporting.cell` and SDs are over those units. Percentages are rounded to 2 decimals in
the csv.

``results/table1.md`` lays each dataset out like the paper: rows are the four modality-dropout x
per-feature-normalization combinations and the two baselines, columns the same- and
cross-modality accuracy for each alpha; one decimal, "± SD over folds × seeds", and "(paper x)"
where a published value exists. It ends with the paper's claims in words
(:func:`crossmodal.reporting.claims.claims_markdown`), where the claims tables are given.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.reporting.cell import SETTINGS, read_cells
from crossmodal.reporting.claims import claims_markdown, read_claims
from crossmodal.reporting.paper_table import PAPER_COLUMNS, describe_cell, load_paper_table

TABLE_COLUMNS = PAPER_COLUMNS + [
    "sd_percent", "n_folds", "n_seeds", "n_pairs", "paper_accuracy_percent",
]  # fmt: skip
_KEYS = ["model", "modality_dropout", "per_feature_norm", "alpha", "setting"]

AXIAL_ROW_LABELS = {
    (0, 0): "No modality dropout, no per-feature normalization",
    (0, 1): "No modality dropout, with per-feature normalization",
    (1, 0): "Modality dropout, no per-feature normalization",
    (1, 1): "Modality dropout and per-feature normalization",
}
BASELINE_ROW_LABELS = {
    "baseline_all": "Features from all modalities",
    "baseline_training_modality": "Features from the training modality only",
}
PAPER_TITLES = {"oai": "OAI knee", "brats": "BRATS brain tumor"}


def table1_frame(cells: pd.DataFrame, paper: dict[str, str | None]) -> pd.DataFrame:
    """Tidy Table I from the cell rows of every dataset.

    Args:
        cells: rows of the cell tables (``crossmodal.reporting.cell.CELL_COLUMNS``).
        paper: dataset key -> ``"oai"``/``"brats"``/``None``, in output order (config order).

    Returns:
        Columns ``TABLE_COLUMNS``, unrounded: per dataset, the axial rows ordered by modality
        dropout, per-feature normalization, alpha (numeric) and setting (same, cross), then
        ``baseline_all`` and ``baseline_training_modality``.

    Raises:
        InputError: cells of a dataset not in ``paper``, a configured dataset without cells, a
            repeated cell row, or an unknown ``paper`` key.
    """
    unknown = sorted(set(cells["dataset"]) - set(paper))
    if unknown:
        raise InputError(f"cell tables of datasets {unknown} that are not configured")
    for ds, key in paper.items():
        if key is not None and key not in PAPER_TITLES:
            raise InputError(f"config datasets.{ds}.paper = {key!r}: use oai or brats")
        if not (cells["dataset"] == ds).any():
            raise InputError(f"dataset {ds!r} has no cell tables; check the table rule inputs")
    repeated = cells[cells.duplicated(["dataset", "cell", "setting"])]
    if len(repeated):
        row = repeated.iloc[0]
        raise InputError(
            f"dataset {row['dataset']!r}: cell {row['cell']!r} ({row['setting']}) given twice"
        )
    described = pd.DataFrame([describe_cell(c) for c in cells["cell"]], index=cells.index)
    table = pd.concat([cells.drop(columns="cell"), described], axis=1)
    for column in ("modality_dropout", "per_feature_norm"):
        table[column] = table[column].astype("Int64")
    table["_ds"] = table["dataset"].map({ds: i for i, ds in enumerate(paper)})
    table["_model"] = table["model"].map(
        {"axial": 0, "baseline_all": 1, "baseline_training_modality": 2}
    )
    table["_alpha"] = pd.to_numeric(table["alpha"])
    table["_setting"] = table["setting"].map({s: i for i, s in enumerate(SETTINGS)})
    table = table.sort_values(
        ["_ds", "_model", "modality_dropout", "per_feature_norm", "_alpha", "_setting"],
        na_position="first",
    )
    published = load_paper_table()
    published_value = dict(
        zip(_row_keys(published, published["dataset"]), published["accuracy_percent"])
    )
    paper_keys = table["dataset"].map(paper)
    table["paper_accuracy_percent"] = [
        published_value.get(k, float("nan")) for k in _row_keys(table, paper_keys)
    ]
    return table[TABLE_COLUMNS].reset_index(drop=True)


def _row_keys(frame: pd.DataFrame, paper_keys: pd.Series) -> list[tuple]:
    """(paper key, model, md, pfn, alpha, setting) per row, ``None`` for missing fields."""
    columns = [paper_keys] + [frame[c] for c in _KEYS]
    return [tuple(_key(v) for v in values) for values in zip(*columns)]


def _format_value(row: pd.Series, with_sd: bool) -> str:
    text = f"{row['accuracy_percent']:.1f}"
    if with_sd and row["n_folds"] * row["n_seeds"] > 1:
        text += f" ± {row['sd_percent']:.1f}"
    paper = row["paper_accuracy_percent"]
    if paper is not None and not pd.isna(paper):
        text += f" (paper {paper:.1f})"
    return text


def table1_markdown(
    table: pd.DataFrame, modalities: dict[str, list[str]], paper: dict[str, str | None]
) -> str:
    """Table I in the paper's layout, one block per dataset.

    Args:
        table: ``table1_frame`` output.
        modalities: dataset key -> modalities (named in each block's note).
        paper: dataset key -> paper key or ``None`` (block order and titles).

    Returns:
        Markdown text: a title, a note on the statistics, then per dataset a heading, a note
        (modalities, folds, pairs per fold) and a table with ``1 + 2 x (number of alphas)``
        columns: the row label, same-modality per alpha, cross-modality per alpha.
    """
    lines = [
        "# Table I: classification accuracy of random forests",
        "",
        "Accuracy (%) of random forests trained on the features of one modality and tested on "
        "the features of the same (same-modality) or another modality (cross-modality): mean "
        "over folds and seeds of the mean over modality pairs, ± SD over folds × seeds "
        "(ddof = 1). "
        '"(paper x)" is the value published in Table I of van Tulder & de Bruijne, IEEE TMI '
        "2019.",
    ]
    for ds, key in paper.items():
        block = table[table["dataset"] == ds]
        lines += ["", _block_heading(ds, key), "", _block_note(block, modalities.get(ds)), ""]
        lines += _block_table(block)
    return "\n".join(lines) + "\n"


def _block_heading(ds: str, key: str | None) -> str:
    if key is None:
        return f"## {ds}"
    return f"## {ds} (reproduces the paper's {PAPER_TITLES[key]} dataset)"


def _block_note(block: pd.DataFrame, modalities: list[str] | None) -> str:
    folds = sorted(set(int(n) for n in block["n_folds"]))
    if len(folds) == 1:
        fold_text = f"{folds[0]} fold" + ("s" if folds[0] != 1 else "")
    else:
        fold_text = f"{folds[0]}-{folds[-1]} folds"
    seeds = sorted(set(int(n) for n in block["n_seeds"]))
    if seeds != [1]:
        count = f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
        fold_text += f" × {count} seeds"
    pairs = {
        s: sorted(set(int(n) for n in block.loc[block["setting"] == s, "n_pairs"]))
        for s in SETTINGS
    }
    pair_text = ", ".join(
        f"{'/'.join(map(str, pairs[s]))} {s}-modality" for s in SETTINGS if pairs[s]
    )
    mods = f"Modalities: {', '.join(modalities)}. " if modalities else ""
    return f"{mods}{fold_text}; pairs per fold: {pair_text}."


def _block_table(block: pd.DataFrame) -> list[str]:
    axial = block[block["model"] == "axial"]
    alphas = sorted(set(axial["alpha"]), key=float)
    header = [""] + [
        f"{name}-modality, α = {a}" for name in ("Same", "Cross") for a in alphas
    ]
    width = len(header)
    lines = [_md_row(header), _md_row([":---"] + ["---:"] * (width - 1))]
    keys = _row_keys(block, pd.Series([None] * len(block), index=block.index))
    value = {k[1:]: _format_value(r, True) for k, (_, r) in zip(keys, block.iterrows())}
    if len(axial):
        lines.append(_md_row(["*Axial neural network*"] + [""] * (width - 1)))
        combos = sorted(
            {(int(r.modality_dropout), int(r.per_feature_norm)) for r in axial.itertuples()}
        )
        for md, pfn in combos:
            cells = [
                value.get(("axial", md, pfn, a, s), "–") for s in SETTINGS for a in alphas
            ]
            lines.append(_md_row([AXIAL_ROW_LABELS[(md, pfn)]] + cells))
    baselines = [m for m in BASELINE_ROW_LABELS if (block["model"] == m).any()]
    if baselines:
        lines.append(_md_row(["*Baseline network*"] + [""] * (width - 1)))
        per_setting = max(len(alphas), 1)
        for model in baselines:
            cells = []
            for s in SETTINGS:
                # one value per setting, under the first alpha column, as in the paper
                cells += [value.get((model, None, None, None, s), "–")] + [""] * (per_setting - 1)
            lines.append(_md_row([BASELINE_ROW_LABELS[model]] + cells))
    return lines


def _key(value):
    """Missing (None, NaN, pd.NA) -> None; anything else unchanged (1 == np.int64(1))."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def write_table1(
    cell_paths: list[str | Path],
    csv_path: str | Path,
    md_path: str | Path,
    *,
    paper: dict[str, str | None],
    modalities: dict[str, list[str]],
    claim_paths: list[str | Path] | None = None,
) -> pd.DataFrame:
    """Rule ``table``: write ``results/table1.csv`` and ``results/table1.md``.

    Args:
        cell_paths: every cell table of every dataset.
        csv_path: tidy csv (columns ``TABLE_COLUMNS``; percentages rounded to 2 decimals,
            empty fields for baseline keys and missing paper values).
        md_path: markdown in the paper's layout, ending with the claims in words.
        paper: dataset key -> ``"oai"``/``"brats"``/``None`` (config order).
        modalities: dataset key -> modalities.
        claim_paths: the ``claims`` tables of the datasets (``results/{ds}/claims.tsv``);
            none: the markdown ends with Table I.

    Returns:
        The unrounded tidy table.

    Raises:
        InputError: see ``table1_frame``.
    """
    table = table1_frame(read_cells(cell_paths), paper)
    rounded = table.copy()
    for column in ("accuracy_percent", "sd_percent"):
        rounded[column] = rounded[column].round(2)
    with atomic_path(csv_path) as tmp:
        rounded.to_csv(tmp, index=False)
    text = table1_markdown(table, modalities, paper)
    if claim_paths:
        text += "\n".join(claims_markdown(read_claims(claim_paths), list(paper))) + "\n"
    with atomic_path(md_path) as tmp:
        tmp.write_text(text)
    return table
