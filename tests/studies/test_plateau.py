"""Where a learning curve flattens: the flat end of a noisy curve, per network and measure."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.studies.curve_tables import collect_curves, write_curve
from crossmodal.studies.plateau import PLATEAU_COLUMNS, plateau_index, plateau_table, write_plateaus


def test_the_flat_end_starts_at_the_first_point_after_the_last_one_outside_the_tolerance():
    # final level (70 + 72) / 2 = 71; 68.9 lies 2.1 below it, 69.5 and 73 within 2 points
    index, level, reached = plateau_index(np.array([40.0, 60.0, 68.9, 69.5, 73.0, 70.0, 72.0]), tolerance=2.0)
    assert (index, level, reached) == (3, 71.0, True)


def test_a_dip_inside_the_flat_end_is_not_a_plateau_yet():
    # 66 lies 4.5 below the final level 70.5, so the stretch starts after it
    assert plateau_index(np.array([71.0, 72.0, 66.0, 71.0, 70.0, 71.0]), tolerance=2.0) == (3, 70.5, True)


def test_a_curve_still_rising_at_its_end_has_not_reached_its_plateau():
    # only the last two points (the final level's own) are within 2 points of 75.5
    index, level, reached = plateau_index(np.array([50.0, 60.0, 68.0, 74.0, 77.0]), tolerance=2.0)
    assert (index, level, reached) == (3, 75.5, False)


def test_final_points_further_apart_than_twice_the_tolerance_give_the_last_point_not_reached():
    assert plateau_index(np.array([40.0, 50.0, 60.0]), tolerance=2.0) == (2, 55.0, False)


def test_a_flat_curve_is_flat_from_its_first_point():
    assert plateau_index(np.array([30.0, 31.0, 29.5, 30.5]), tolerance=2.0) == (0, 30.0, True)


def test_too_few_points_is_an_error():
    with pytest.raises(ValueError, match="at least final_points = 2"):
        plateau_index(np.array([50.0]), tolerance=2.0)


def _rows(model, cross, default_at=8, updates_per_epoch=4):
    updates = [2 ** (k + 1) for k in range(len(cross))]
    return [{"dataset": "ds", "model": model, "fold": 0, "updates": u, "epochs": u / updates_per_epoch,
             "patches_seen": 64 * u, "train_loss": 1.0 / u, "recon_loss": 1.0 / u, "sim_loss": 0.0,
             "same_accuracy": 80.0, "cross_accuracy": c, "default_length": u == default_at, "seconds": 0.25 * u}
            for u, c in zip(updates, cross)]  # fmt: skip


def _curves(tmp_path, curves):
    paths = []
    for model, rows in curves.items():
        paths.append(tmp_path / f"{model}.tsv")
        write_curve(rows, paths[-1])
    return collect_curves(paths, tmp_path / "learning_ds.tsv", ["t1", "t2"])


def test_every_network_and_measure_gets_its_plateau_and_default_gap(tmp_path, caplog):
    _curves(tmp_path, {
        "axial-md1-pfn1-a0.0": _rows("axial-md1-pfn1-a0.0", [40.0, 50.0, 60.0, 70.0, 71.0, 71.0]),
        "baseline-all": _rows("baseline-all", [60.0, 61.0, 60.0, 60.0, 61.0, 61.0], updates_per_epoch=8),
    })  # fmt: skip
    with caplog.at_level("INFO"):
        table = write_plateaus(tmp_path / "learning_ds.tsv", tmp_path / "plateau_ds.tsv", tolerance=2.0)
    assert list(table.columns) == PLATEAU_COLUMNS
    assert table[["model", "measure"]].values.tolist() == [
        ["axial-md1-pfn1-a0.0", "same_accuracy"], ["axial-md1-pfn1-a0.0", "cross_accuracy"],
        ["baseline-all", "same_accuracy"], ["baseline-all", "cross_accuracy"],
    ]  # fmt: skip
    cross = table[table["measure"] == "cross_accuracy"].set_index("model")
    # the axial network: flat from 16 updates (70 within 2 of 71), 4 epochs of 4 updates
    assert cross.loc["axial-md1-pfn1-a0.0", ["plateau_updates", "plateau_epochs", "final_level", "plateau_value"]].tolist() == [16, 4.0, 71.0, 70.0]
    assert cross.loc["axial-md1-pfn1-a0.0", ["default_updates", "default_value", "gap_at_default"]].tolist() == [8, 60.0, 11.0]
    assert cross.loc["baseline-all", ["plateau_updates", "plateau_epochs", "gap_at_default"]].tolist() == [2, 0.25, 1.0]
    assert cross["reached"].tolist() == [True, True]
    assert cross["seconds_per_update"].tolist() == [0.25, 0.25]
    assert table.loc[table["measure"] == "same_accuracy", "plateau_updates"].tolist() == [2, 2]
    assert "flat within 2.0 points from 4.0 epochs (16 updates of axial-md1-pfn1-a0.0) on" in caplog.text
    written = pd.read_csv(tmp_path / "plateau_ds.tsv", sep="\t")
    assert written["plateau_updates"].tolist() == table["plateau_updates"].tolist()


def test_a_curve_without_cross_pairs_has_no_cross_row_and_a_rising_one_is_logged(tmp_path, caplog):
    rows = _rows("baseline-t1", [50.0, 50.0, 50.0])
    for row in rows:
        row["cross_accuracy"] = float("nan")
    _curves(tmp_path, {"baseline-t1": rows, "axial-md1-pfn0-a0.0": _rows("axial-md1-pfn0-a0.0", [40.0, 50.0, 60.0])})
    with caplog.at_level("INFO"):
        table = write_plateaus(tmp_path / "learning_ds.tsv", tmp_path / "plateau_ds.tsv", tolerance=2.0)
    assert table[["model", "measure"]].values.tolist() == [
        ["axial-md1-pfn0-a0.0", "same_accuracy"], ["axial-md1-pfn0-a0.0", "cross_accuracy"],
        ["baseline-t1", "same_accuracy"],
    ]  # fmt: skip
    assert "not flat within 2.0 points by their last point: ['axial-md1-pfn0-a0.0']" in caplog.text


def test_a_curve_too_short_or_without_its_default_point_is_an_input_error(tmp_path):
    curves = _curves(tmp_path, {"baseline-all": _rows("baseline-all", [60.0, 61.0], default_at=4)})
    with pytest.raises(InputError, match="baseline-all: 2 points of same_accuracy, a plateau needs at least 3"):
        plateau_table(curves, tolerance=2.0)
    curves = _curves(tmp_path, {"baseline-all": _rows("baseline-all", [60.0, 61.0, 61.0], default_at=5)})
    with pytest.raises(InputError, match="baseline-all: no point at the default length"):
        plateau_table(curves, tolerance=2.0)
