"""The ablation figure draws every level of every network from its table."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.studies.ablation import ABLATION_COLUMNS, ablation_models
from crossmodal.studies.ablation_plot import ablation_plot

MODELS = ablation_models([0.1])
LEVELS = [("default", "default", "ds_abl_default"), ("bn_momentum", "0.01", "ds_abl_bn_momentum_0p01"),
          ("dropout_mode", "per_batch", "ds_abl_dropout_mode_per_batch")]


def _table(path):
    rows = []
    for i, (factor, level, name) in enumerate(LEVELS):
        for model in MODELS:
            # the dropout level trains the networks with dropout only; the others are the default's
            where = name if factor != "dropout_mode" or "md1" in model else "ds_abl_default"
            for seed in (0, 1):
                rows.append({"dataset": "ds", "factor": factor, "level": level, "derived_dataset": where,
                             "model": model, "seed": seed, "fold": 0, "updates": 512, "same_accuracy": 80.0,
                             "cross_accuracy": 40.0 + 10 * i + seed, "paper_same_accuracy": 80.0,
                             "paper_cross_accuracy": 77.0, "feature_sd_median": 0.5 + 0.1 * i,
                             "low_sd_share": 0.0})  # fmt: skip
    pd.DataFrame(rows, columns=ABLATION_COLUMNS).to_csv(path, sep="\t", index=False)
    return path


def test_ablation_plot_draws_each_seed_and_mean_per_level(tmp_path):
    path = _table(tmp_path / "ablation.tsv")
    fig = ablation_plot(path, tmp_path / "a.pdf", tmp_path / "a.png", dataset="ds")
    assert (tmp_path / "a.pdf").stat().st_size > 0 and (tmp_path / "a.png").stat().st_size > 0
    axes = [ax for ax in fig.axes if ax.get_ylabel() == "cross acc. (%)"]
    sd_axes = [ax for ax in fig.axes if ax.get_ylabel() == "feature SD"]
    assert len(axes) == len(sd_axes) == len(MODELS) == 7
    assert axes[4].get_title(loc="left") == "(e) no modality dropout, no per-feature norm., α = 0.1"
    assert axes[6].get_title(loc="left") == "(g) baseline-all"
    lines = axes[0].get_lines()
    # per level: 2 seed dots and a mean bar; then the default's mean and the paper's value
    assert len(lines) == 3 * 3 + 2
    np.testing.assert_array_equal(lines[2].get_ydata(), [40.5, 40.5])  # default level's mean
    assert lines[-1].get_ydata()[0] == 77.0 and lines[-1].get_linestyle() == "--"
    # the networks without dropout at the dropout level are the default's: hollow dots
    assert lines[6].get_markerfacecolor() == "none" and axes[2].get_lines()[6].get_markerfacecolor() != "none"
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == [
        "default", "bn_momentum: 0.01", "dropout_mode: per_batch"]
    # right: per level 2 seed dots and a mean bar of the feature SD, then the line at SD 1
    sd_lines = sd_axes[0].get_lines()
    assert len(sd_lines) == 3 * 3 + 1
    np.testing.assert_allclose(sd_lines[5].get_ydata(), [0.6, 0.6])  # bn_momentum level's mean
    assert sd_lines[-1].get_ydata()[0] == 1.0


def test_a_table_without_the_default_level_is_an_error(tmp_path):
    path = _table(tmp_path / "ablation.tsv")
    table = pd.read_csv(path, sep="\t")
    table[table["factor"] != "default"].to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="no 'default' level"):
        ablation_plot(path, tmp_path / "a.pdf", tmp_path / "a.png", dataset="ds")
