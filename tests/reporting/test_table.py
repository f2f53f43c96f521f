"""Tests of crossmodal.reporting.table: tidy Table I, paper values, markdown layout."""

from __future__ import annotations

import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import cell_ids
from crossmodal.reporting.cell import CELL_COLUMNS
from crossmodal.reporting.table import (
    AXIAL_ROW_LABELS,
    BASELINE_ROW_LABELS,
    TABLE_COLUMNS,
    describe_cell,
    load_paper_table,
    table1_frame,
    table1_markdown,
    write_table1,
)

GRID = {"modality_dropout": [0, 1], "per_feature_norm": [0, 1], "alpha": [0.0, 0.5]}
PAPER = {"knee": "oai", "brain": None}
MODALITIES = {"knee": ["normal", "fatsup"], "brain": ["t1", "t1c", "t2", "flair"]}


def cell_rows():
    """Cells of a 2-modality dataset (3 folds) and a 4-modality dataset (1 fold)."""
    rows = []
    for ds, m, n_folds in [("knee", 2, 3), ("brain", 4, 1)]:
        for i, cell in enumerate(cell_ids(GRID)):
            for setting, n_pairs in [("same", m), ("cross", m * (m - 1))]:
                rows.append({
                    "dataset": ds, "cell": cell, "setting": setting,
                    "accuracy_percent": 60.0 + i + (0.125 if setting == "same" else 0.0),
                    "sd_percent": 1.25 + i, "n_folds": n_folds, "n_seeds": 1, "n_pairs": n_pairs,
                })
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def test_paper_table_is_packaged():
    paper = load_paper_table()
    assert len(paper) == 72
    row = paper[(paper.dataset == "brats") & (paper.model == "axial")
                & (paper.modality_dropout == 1) & (paper.per_feature_norm == 1)
                & (paper.alpha == "0.5") & (paper.setting == "cross")]
    assert row.accuracy_percent.tolist() == [67.9]


def test_describe_cell():
    assert describe_cell("axial-md1-pfn0-a0.2") == {
        "model": "axial", "modality_dropout": 1, "per_feature_norm": 0, "alpha": "0.2"}
    assert describe_cell("baseline-single")["model"] == "baseline_training_modality"
    assert describe_cell("baseline-all")["model"] == "baseline_all"
    with pytest.raises(InputError):
        describe_cell("baseline-t1")


def test_table_columns_rows_and_paper_values():
    table = table1_frame(cell_rows(), PAPER)
    assert list(table.columns) == TABLE_COLUMNS
    # (8 axial cells + 2 baselines) x (same, cross) per dataset
    assert len(table) == 40
    assert table.dataset.tolist() == ["knee"] * 20 + ["brain"] * 20
    knee, brain = table[table.dataset == "knee"], table[table.dataset == "brain"]
    assert set(knee.n_pairs) == {2} and set(knee.n_folds) == {3}
    assert brain.n_pairs.tolist() == [4, 12] * 10 and set(brain.n_folds) == {1}
    assert knee.model.tolist() == ["axial"] * 16 + ["baseline_all"] * 2 + [
        "baseline_training_modality"] * 2
    assert knee.alpha.tolist()[:4] == ["0.0", "0.0", "0.5", "0.5"]
    assert knee.setting.tolist()[:2] == ["same", "cross"]
    # paper values joined for the OAI reproduction, in Table I order
    assert knee.paper_accuracy_percent.tolist() == [
        80.0, 33.5, 78.9, 57.0, 80.4, 43.6, 78.6, 62.2, 81.8, 43.4, 80.3, 70.7,
        81.6, 77.0, 80.7, 78.2, 79.6, 70.0, 79.4, 69.0]
    assert brain.paper_accuracy_percent.isna().all()


def test_alpha_outside_the_paper_grid_has_no_paper_value():
    cells = cell_rows()
    cells = cells[cells.dataset == "knee"].copy()
    cells["cell"] = cells["cell"].str.replace("-a0.5", "-a0.3")
    table = table1_frame(cells, {"knee": "oai"})
    axial = table[table.model == "axial"]
    assert axial[axial.alpha == "0.3"].paper_accuracy_percent.isna().all()
    assert axial[axial.alpha == "0.0"].paper_accuracy_percent.notna().all()


def test_csv_text(tmp_path):
    paths = []
    for ds, rows in cell_rows().groupby("dataset"):
        path = tmp_path / f"{ds}.tsv"
        rows.to_csv(path, sep="\t", index=False)
        paths.append(path)
    csv, md = tmp_path / "table1.csv", tmp_path / "table1.md"
    write_table1(paths, csv, md, paper=PAPER, modalities=MODALITIES)
    lines = csv.read_text().splitlines()
    assert lines[0] == ",".join(TABLE_COLUMNS)
    assert lines[1] == "knee,axial,0,0,0.0,same,60.12,1.25,3,1,2,80.0"
    assert lines[18] == "knee,baseline_all,,,,cross,68.0,9.25,3,1,2,70.0"
    assert lines[-1] == "brain,baseline_training_modality,,,,cross,69.0,10.25,1,1,12,"
    assert md.read_text() == table1_markdown(table1_frame(cell_rows(), PAPER), MODALITIES, PAPER)


def test_markdown_layout():
    text = table1_markdown(table1_frame(cell_rows(), PAPER), MODALITIES, PAPER)
    lines = text.splitlines()
    assert lines[0] == "# Table I: classification accuracy of random forests"
    assert "## knee (reproduces the paper's OAI knee dataset)" in lines
    assert "## brain" in lines
    assert "Modalities: t1, t1c, t2, flair. 1 fold; pairs per fold: 4 same-modality, "\
           "12 cross-modality." in lines
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) == 2 * 10  # per dataset: header, rule, 2 group rows, 4 + 2 method rows
    assert all(r.count(" | ") == 4 for r in rows)  # 5 columns
    assert rows[0] == ("|  | Same-modality, α = 0.0 | Same-modality, α = 0.5 | "
                       "Cross-modality, α = 0.0 | Cross-modality, α = 0.5 |")
    labels = [r.split(" | ")[0][2:] for r in rows[2:10]]
    assert labels == ["*Axial neural network*", *AXIAL_ROW_LABELS.values(),
                      "*Baseline network*", *BASELINE_ROW_LABELS.values()]
    assert rows[3] == ("| No modality dropout, no per-feature normalization | "
                       "60.1 ± 1.2 (paper 80.0) | 61.1 ± 2.2 (paper 78.9) | "
                       "60.0 ± 1.2 (paper 33.5) | 61.0 ± 2.2 (paper 57.0) |")
    assert rows[8] == ("| Features from all modalities | 68.1 ± 9.2 (paper 79.6) |  | "
                       "68.0 ± 9.2 (paper 70.0) |  |")
    # one fold: no SD; no paper values
    assert rows[13] == ("| No modality dropout, no per-feature normalization | "
                        "60.1 | 61.1 | 60.0 | 61.0 |")


def test_bad_inputs():
    cells = cell_rows()
    with pytest.raises(InputError, match=r"datasets \['brain'\] that are not configured"):
        table1_frame(cells, {"knee": "oai"})
    with pytest.raises(InputError, match="dataset 'other' has no cell tables"):
        table1_frame(cells, {**PAPER, "other": None})
    with pytest.raises(InputError, match="datasets.knee.paper = 'mri'"):
        table1_frame(cells, {"knee": "mri", "brain": None})
    with pytest.raises(InputError, match="given twice"):
        table1_frame(pd.concat([cells, cells.iloc[[0]]]), PAPER)


def test_seeds_in_the_note_and_sd_of_one_fold_times_seeds():
    cells = cell_rows()
    cells.loc[cells.dataset == "brain", "n_seeds"] = 3
    text = table1_markdown(table1_frame(cells, PAPER), MODALITIES, PAPER)
    lines = text.splitlines()
    assert "Modalities: t1, t1c, t2, flair. 1 fold × 3 seeds; pairs per fold: 4 same-modality, "\
           "12 cross-modality." in lines
    assert "Modalities: normal, fatsup. 3 folds; pairs per fold: 2 same-modality, "\
           "2 cross-modality." in lines
    rows = [line for line in lines if line.startswith("|")]
    assert rows[13] == ("| No modality dropout, no per-feature normalization | "
                        "60.1 ± 1.2 | 61.1 ± 2.2 | 60.0 ± 1.2 | 61.0 ± 2.2 |")


def test_markdown_ends_with_the_claims_in_words(tmp_path):
    from crossmodal.reporting.claims import CLAIM_COLUMNS, claims_markdown, read_claims

    paths = []
    for ds, rows in cell_rows().groupby("dataset"):
        path = tmp_path / f"{ds}.tsv"
        rows.to_csv(path, sep="\t", index=False)
        paths.append(path)
    claims = []
    for ds in PAPER:
        path = tmp_path / ds / "claims.tsv"
        path.parent.mkdir()
        pd.DataFrame([{
            "dataset": ds, "key": "k", "claim": "A beats B", "contrast": "cross[baseline-all] - cross[baseline-single]",
            "margin": 0.0, "paper_difference": 1.0 if ds == "knee" else None, "our_difference": 2.0,
            "ci_low": 0.5, "ci_high": 3.5, "n": 3, "n_folds": 3, "verdict": "holds", "paper_in_ci": ds == "knee" or None,
            "section": "V-A"}], columns=CLAIM_COLUMNS).to_csv(path, sep="\t", index=False)
        claims.append(path)
    md = tmp_path / "table1.md"
    write_table1(paths, tmp_path / "table1.csv", md, paper=PAPER, modalities=MODALITIES, claim_paths=claims)
    text = md.read_text()
    table_text = table1_markdown(table1_frame(cell_rows(), PAPER), MODALITIES, PAPER)
    words = claims_markdown(read_claims(claims), list(PAPER))
    assert text == table_text + "\n".join(words) + "\n"
    assert text.splitlines()[-11:] == [
        "### knee", "", "holds: 1, contradicted: 0, undecided: 0", "",
        "- holds: A beats B: ours +2.0 [+0.5, +3.5] (n = 3, 3 folds), paper +1.0, inside our interval.",
        "", "### brain", "", "holds: 1, contradicted: 0, undecided: 0", "",
        "- holds: A beats B: ours +2.0 [+0.5, +3.5] (n = 3, 3 folds).",
    ]
