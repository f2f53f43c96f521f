"""The learning-curve tables: one network's curve written, a dataset's curves collected and read."""

import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.studies.curve_tables import CURVE_COLUMNS, GRID_COLUMNS, collect_curves, read_curves, write_curve


def _rows(model, updates):
    return [{"dataset": "ds", "model": model, "fold": 0, "updates": u, "epochs": u / 4, "patches_seen": 8 * u,
             "train_loss": 1.0 / u, "recon_loss": 1.0 / u, "sim_loss": 0.0, "same_accuracy": 70.0,
             "cross_accuracy": float("nan") if model.startswith("baseline-t") else 40.0,
             "default_length": u == 8, "seconds": 0.5 * u} for u in updates]  # fmt: skip


def test_curves_are_collected_with_their_grid_coordinates_and_sorted(tmp_path):
    paths = []
    for model in ("baseline-all", "axial-md1-pfn0-a0.1", "axial-md0-pfn1-a0.0"):
        paths.append(tmp_path / f"{model}.tsv")
        written = write_curve(_rows(model, [8, 2]), paths[-1])
        assert list(written.columns) == CURVE_COLUMNS
    table = collect_curves(paths, tmp_path / "learning_ds.tsv", ["t1", "t2"])
    assert list(table.columns) == CURVE_COLUMNS + GRID_COLUMNS
    assert table["model"].tolist() == ["axial-md0-pfn1-a0.0"] * 2 + ["axial-md1-pfn0-a0.1"] * 2 + ["baseline-all"] * 2
    assert table["updates"].tolist() == [2, 8, 2, 8, 2, 8]
    read = read_curves(tmp_path / "learning_ds.tsv")
    assert read["kind"].tolist() == ["axial"] * 4 + ["baseline"] * 2
    assert read["modality_dropout"].tolist()[:4] == [0, 0, 1, 1] and read["modality_dropout"].isna().tolist()[4:] == [True] * 2
    assert read["alpha"].tolist()[:4] == [0.0, 0.0, 0.1, 0.1]


def test_a_curve_without_a_column_or_no_curve_at_all_is_an_input_error(tmp_path):
    pd.DataFrame(_rows("baseline-all", [2])).drop(columns="seconds").to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=r"missing columns \['seconds'\]; rerun its curve_training job"):
        collect_curves([tmp_path / "c.tsv"], tmp_path / "out.tsv", ["t1", "t2"])
    with pytest.raises(InputError, match="no learning-curve tables"):
        collect_curves([], tmp_path / "out.tsv", ["t1", "t2"])
    assert not (tmp_path / "out.tsv").exists()
