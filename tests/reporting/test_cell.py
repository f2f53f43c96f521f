"""Tests of crossmodal.reporting.cell on hand-made accuracy tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crossmodal.reporting.cell import (
    CELL_COLUMNS,
    UNIT_COLUMNS,
    cell_summary,
    read_cells,
    same_cross_means,
    unit_means,
    write_cell,
)
from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS

KNEE = ["normal", "fatsup"]
BRAIN = ["t1", "t1c", "t2", "flair"]
AXIAL = "axial-md1-pfn0-a0.2"


def rows(model, fold, accuracies):
    """accuracy rows from {(s, t): accuracy}."""
    return [
        {
            "dataset": "knee",
            "model": model,
            "fold": fold,
            "train_modality": s,
            "test_modality": t,
            "accuracy": a,
            "n_train": 100,
            "n_test": 50,
            "max_train_patches": None,
        }
        for (s, t), a in accuracies.items()
    ]


def knee_table():
    fold0 = {("normal", "normal"): 0.8, ("normal", "fatsup"): 0.5,
             ("fatsup", "normal"): 0.6, ("fatsup", "fatsup"): 0.9}
    fold1 = {("normal", "normal"): 0.7, ("normal", "fatsup"): 0.4,
             ("fatsup", "normal"): 0.3, ("fatsup", "fatsup"): 0.8}
    return pd.DataFrame(rows(AXIAL, 0, fold0) + rows(AXIAL, 1, fold1))


def test_mean_over_pairs_then_folds_with_sd_over_folds():
    table = cell_summary(knee_table(), dataset="knee", cell=AXIAL, modalities=KNEE)
    assert list(table.columns) == CELL_COLUMNS
    assert table.setting.tolist() == ["same", "cross"]
    # same: fold means 85, 75; cross: fold means 55, 35
    assert table.accuracy_percent.tolist() == pytest.approx([80.0, 45.0], abs=1e-12)
    assert table.sd_percent.tolist() == pytest.approx([math.sqrt(50), math.sqrt(200)], abs=1e-12)
    assert table.n_folds.tolist() == [2, 2]
    assert table.n_seeds.tolist() == [1, 1]
    assert table.n_pairs.tolist() == [2, 2]
    assert table.dataset.tolist() == ["knee", "knee"] and table.cell.tolist() == [AXIAL] * 2


def test_single_baseline_pools_the_per_modality_networks_one_fold_sd_zero():
    acc = []
    for i, s in enumerate(BRAIN):
        acc += rows(f"baseline-{s}", 0, {(s, t): (0.9 if s == t else 0.1 * (i + 1)) for t in BRAIN})
    table = cell_summary(pd.DataFrame(acc), dataset="brats", cell="baseline-single",
                         modalities=BRAIN)
    assert table.n_pairs.tolist() == [4, 12]
    assert table.n_folds.tolist() == [1, 1]
    assert table.sd_percent.tolist() == [0.0, 0.0]
    # cross: each s contributes 3 pairs of 0.1 * (i + 1): mean 0.25
    assert table.accuracy_percent.tolist() == pytest.approx([90.0, 25.0], abs=1e-12)


def test_single_baseline_rejects_a_forest_on_another_modality():
    acc = []
    for s in KNEE:
        acc += rows(f"baseline-{s}", 0, {(s, t): 0.5 for t in KNEE})
    frame = pd.DataFrame(acc)
    frame.loc[0, "model"] = "baseline-fatsup"
    with pytest.raises(InputError, match="baseline-fatsup fold 0 has a forest trained on 'normal'"):
        cell_summary(frame, dataset="knee", cell="baseline-single", modalities=KNEE)


def test_missing_or_foreign_rows_are_errors():
    acc = knee_table()
    missing = r"fold 1: modality pairs missing \[\('fatsup', 'fatsup'\)\]"
    with pytest.raises(InputError, match=missing):
        cell_summary(acc.iloc[:-1], dataset="knee", cell=AXIAL, modalities=KNEE)
    with pytest.raises(InputError, match=r"repeated \[\('normal', 'normal'\)\]"):
        cell_summary(pd.concat([acc, acc.iloc[[0]]]), dataset="knee", cell=AXIAL,
                     modalities=KNEE)
    with pytest.raises(InputError, match="networks \\['axial-md1-pfn0-a0.2'\\] do not belong"):
        cell_summary(acc, dataset="knee", cell="baseline-all", modalities=KNEE)


def seeded_knee_table():
    """knee_table (seed 0) plus seed 1: every accuracy of seed 1 is 0.1 higher."""
    seed0 = knee_table()
    seed1 = seed0.assign(model=AXIAL + "_seed1", accuracy=seed0["accuracy"] + 0.1)
    return pd.concat([seed0, seed1], ignore_index=True)


def test_units_are_folds_times_seeds():
    units = unit_means(seeded_knee_table(), dataset="knee", cell=AXIAL, modalities=KNEE)
    assert list(units.columns) == UNIT_COLUMNS
    assert units.setting.tolist() == ["same"] * 4 + ["cross"] * 4
    assert list(zip(units.fold, units.seed)) == [(0, 0), (0, 1), (1, 0), (1, 1)] * 2
    assert units.accuracy_percent.tolist() == pytest.approx([85, 95, 75, 85, 55, 65, 35, 45], abs=1e-9)
    table = cell_summary(seeded_knee_table(), dataset="knee", cell=AXIAL, modalities=KNEE)
    # mean and SD (ddof = 1) over the four units
    assert table.accuracy_percent.tolist() == pytest.approx([85.0, 50.0], abs=1e-9)
    assert table.sd_percent.tolist() == pytest.approx(
        [pd.Series([85, 95, 75, 85]).std(), pd.Series([55, 65, 35, 45]).std()], abs=1e-9)
    assert table.n_folds.tolist() == [2, 2] and table.n_seeds.tolist() == [2, 2]


def test_single_baseline_units_pair_the_networks_of_one_seed():
    acc = []
    for seed, model_suffix in ((0, ""), (1, "_seed1")):
        for s in KNEE:
            acc += rows(f"baseline-{s}{model_suffix}", 0, {(s, t): 0.5 + 0.1 * seed for t in KNEE})
    units = unit_means(pd.DataFrame(acc), dataset="knee", cell="baseline-single", modalities=KNEE)
    assert units.seed.tolist() == [0, 1, 0, 1]
    assert units.accuracy_percent.tolist() == pytest.approx([50, 60, 50, 60], abs=1e-9)
    assert units.n_pairs.tolist() == [2, 2, 2, 2]


def test_a_missing_seed_or_pair_of_a_seed_is_an_error():
    acc = seeded_knee_table()
    with pytest.raises(InputError, match=r"fold 1, seed 1: modality pairs missing"):
        cell_summary(acc.iloc[:-1], dataset="knee", cell=AXIAL, modalities=KNEE)
    one_fold_short = acc[~((acc.fold == 1) & acc.model.str.endswith("_seed1"))]
    with pytest.raises(InputError, match="trained from different seeds"):
        cell_summary(one_fold_short, dataset="knee", cell=AXIAL, modalities=KNEE)
    with pytest.raises(InputError, match=r"networks \['axial-md1-pfn0-a0.2_seed1'\] do not"):
        cell_summary(acc[acc.model.str.endswith("_seed1")], dataset="knee",
                     cell="axial-md1-pfn1-a0.2", modalities=KNEE)


def test_write_and_read_cell(tmp_path):
    acc = knee_table()
    paths = []
    for fold in (0, 1):
        path = tmp_path / f"fold{fold}.tsv"
        acc[acc.fold == fold][ACCURACY_COLUMNS].to_csv(path, sep="\t", index=False)
        paths.append(path)
    out = tmp_path / "cells" / f"{AXIAL}.tsv"
    write_cell(paths, out, dataset="knee", cell=AXIAL, modalities=KNEE)
    back = read_cells([out])
    assert back.accuracy_percent.tolist() == pytest.approx([80.0, 45.0], abs=1e-12)
    assert out.read_text().splitlines()[0].split("\t") == CELL_COLUMNS


def test_same_cross_means_are_percent_means_over_the_pairs():
    table = pd.DataFrame({"train_modality": ["a", "a", "b", "b"], "test_modality": ["a", "b", "a", "b"],
                          "accuracy": [0.9, 0.5, 0.6, 0.8]})
    assert same_cross_means(table) == pytest.approx((85.0, 55.0))
    same, cross = same_cross_means(table[table["train_modality"] == table["test_modality"]])
    assert same == pytest.approx(85.0) and math.isnan(cross)
