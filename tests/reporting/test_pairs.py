"""Tests of crossmodal.reporting.pairs on a hand-made accuracy table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS
from crossmodal.reporting.pairs import PAIR_COLUMNS, network_cell, pair_summary, write_pairs

MODS = ["normal", "fatsup"]
AXIAL = "axial-md0-pfn0-a0.0"
CELLS = [AXIAL, "baseline-all", "baseline-single"]


def accuracy_rows():
    out = []
    for fold in (0, 1):
        for model, pairs in [
            ("baseline-fatsup", [("fatsup", "normal"), ("fatsup", "fatsup")]),
            (AXIAL, [(s, t) for s in MODS for t in MODS]),
            ("baseline-normal", [("normal", "normal"), ("normal", "fatsup")]),
        ]:
            for s, t in pairs:
                # distinct values per pair; fold 1 is 0.1 lower
                acc = {("normal", "normal"): 0.9, ("normal", "fatsup"): 0.6,
                       ("fatsup", "normal"): 0.5, ("fatsup", "fatsup"): 0.8}[(s, t)]
                acc -= 0.1 * fold + (0.2 if model.startswith("baseline") else 0.0)
                out.append({"dataset": "knee", "model": model, "fold": fold,
                            "train_modality": s, "test_modality": t, "accuracy": acc,
                            "n_train": 10, "n_test": 5, "max_train_patches": None})
    return pd.DataFrame(out)[ACCURACY_COLUMNS]


def test_network_cell():
    assert network_cell("baseline-normal", MODS) == "baseline-single"
    assert network_cell("baseline-all", MODS) == "baseline-all"
    assert network_cell(AXIAL, MODS) == AXIAL
    with pytest.raises(InputError, match="baseline-t2"):
        network_cell("baseline-t2", MODS)


def test_pair_summary_order_values_and_spread():
    table = pair_summary(accuracy_rows(), dataset="knee", modalities=MODS, cells=CELLS)
    assert list(table.columns) == PAIR_COLUMNS
    assert table.cell.tolist() == [AXIAL] * 4 + ["baseline-single"] * 4
    assert table.network.tolist() == [AXIAL] * 4 + ["baseline-normal"] * 2 + ["baseline-fatsup"] * 2
    pairs = list(zip(table.train_modality, table.test_modality))
    assert pairs == [("normal", "normal"), ("normal", "fatsup"), ("fatsup", "normal"),
                     ("fatsup", "fatsup")] * 2
    assert table.setting.tolist() == ["same", "cross", "cross", "same"] * 2
    assert table.accuracy_percent.tolist() == pytest.approx(
        [85.0, 55.0, 45.0, 75.0, 65.0, 35.0, 25.0, 55.0], abs=1e-9
    )
    assert table.sd_percent.tolist() == pytest.approx([10 / math.sqrt(2)] * 8, abs=1e-9)
    assert table.n_folds.tolist() == [2] * 8
    assert table.n_seeds.tolist() == [1] * 8


def test_seeds_are_averaged_with_the_folds_under_the_bare_network_id():
    acc = accuracy_rows()
    seed2 = acc.assign(model=acc["model"] + "_seed2", accuracy=acc["accuracy"] + 0.1)
    table = pair_summary(pd.concat([acc, seed2]), dataset="knee", modalities=MODS, cells=CELLS)
    assert table.network.tolist() == [AXIAL] * 4 + ["baseline-normal"] * 2 + ["baseline-fatsup"] * 2
    # per pair: fold 0 seed 0, fold 1 seed 0 (10 lower), and both 10 higher with seed 2
    assert table.accuracy_percent.tolist() == pytest.approx(
        [90.0, 60.0, 50.0, 80.0, 70.0, 40.0, 30.0, 60.0], abs=1e-9
    )
    assert table.sd_percent.tolist() == pytest.approx([pd.Series([0, -10, 10, 0]).std()] * 8)
    assert table.n_folds.tolist() == [2] * 8 and table.n_seeds.tolist() == [2] * 8
    with pytest.raises(InputError, match="fold 0 seed 2 appears twice"):
        pair_summary(pd.concat([acc, seed2, seed2.iloc[[0]]]), dataset="knee", modalities=MODS,
                     cells=CELLS)


def test_one_fold_sd_is_zero_and_unknown_cells_rejected():
    acc = accuracy_rows()
    table = pair_summary(acc[acc.fold == 0], dataset="knee", modalities=MODS, cells=CELLS)
    assert table.sd_percent.tolist() == [0.0] * 8
    with pytest.raises(InputError, match=r"cells \['baseline-single'\] not configured"):
        pair_summary(acc, dataset="knee", modalities=MODS, cells=[AXIAL])
    twice = pd.concat([acc, acc.iloc[[0]]])
    with pytest.raises(InputError, match="fold 0 appears twice"):
        pair_summary(twice, dataset="knee", modalities=MODS, cells=CELLS)


def test_write_pairs(tmp_path):
    acc = accuracy_rows()
    path = tmp_path / "acc.tsv"
    acc.to_csv(path, sep="\t", index=False)
    out = tmp_path / "pairs.csv"
    write_pairs([path], out, dataset="knee", modalities=MODS, cells=CELLS)
    back = pd.read_csv(out)
    assert list(back.columns) == PAIR_COLUMNS
    assert len(back) == 8
    assert back.accuracy_percent.iloc[0] == pytest.approx(85.0, abs=1e-9)
