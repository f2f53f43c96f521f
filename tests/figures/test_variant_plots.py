"""The learning-curve and specificity figures draw every network from their tables."""

import numpy as np
import pandas as pd

from crossmodal.figures.learning_plot import learning_plot
from crossmodal.figures.specificity_plot import specificity_plot
from crossmodal.learning_curve import CURVE_COLUMNS
from crossmodal.learning_curves import GRID_COLUMNS
from crossmodal.model_ids import variant_ids
from crossmodal.specificity import SWEEP_COLUMNS

MODELS = variant_ids([0.0, 0.1])


def _grid(model):
    if model == "baseline-all":
        return {"kind": "baseline", "modality_dropout": None, "per_feature_norm": None, "alpha": None}
    md, pfn, alpha = model.split("-")[1:]
    return {"kind": "axial", "modality_dropout": int(md[2:]), "per_feature_norm": int(pfn[3:]), "alpha": float(alpha[1:])}


def test_learning_plot_draws_a_line_per_network_in_each_panel(tmp_path):
    rows = [{"dataset": "ds", "model": m, "fold": 0, "updates": u, "epochs": u / 8, "patches_seen": 64 * u,
             "train_loss": 1 / u, "recon_loss": 1 / u, "sim_loss": 0.0, "same_accuracy": 80.0,
             "cross_accuracy": 50.0 + u / 100, "default_length": u == 24, "seconds": u / 10, **_grid(m)}
            for m in MODELS for u in (16, 24, 64)]
    path = tmp_path / "curves.tsv"
    pd.DataFrame(rows, columns=CURVE_COLUMNS + GRID_COLUMNS).to_csv(path, sep="\t", index=False)
    fig = learning_plot(path, tmp_path / "c.pdf", tmp_path / "c.png", dataset="ds")
    assert (tmp_path / "c.pdf").stat().st_size > 0 and (tmp_path / "c.png").stat().st_size > 0
    loss_axes = fig.axes[0]
    assert len(loss_axes.get_lines()) == len(MODELS) + 1  # + the default-length line
    assert loss_axes.get_xscale() == "log"
    np.testing.assert_array_equal(loss_axes.get_lines()[0].get_xdata(), [16, 24, 64])


def test_specificity_plot_draws_accuracy_against_rho(tmp_path):
    rows = [{"dataset": "ds", "rho": r, "derived_dataset": f"ds_rho{int(100 * r):03d}", "model": m, "fold": 0,
             "same_accuracy": 80.0, "cross_accuracy": 40 + 30 * r, **_grid(m)} for m in MODELS for r in (0.0, 0.5, 1.0)]
    path = tmp_path / "sweep.tsv"
    pd.DataFrame(rows, columns=SWEEP_COLUMNS).to_csv(path, sep="\t", index=False)
    fig = specificity_plot(path, tmp_path / "s.pdf", tmp_path / "s.png", dataset="ds")
    cross = fig.axes[0]
    assert len(cross.get_lines()) == len(MODELS)
    np.testing.assert_array_equal(cross.get_lines()[0].get_ydata(), [40, 55, 70])
    assert cross.get_xlim()[0] > cross.get_xlim()[1]  # shared (rho = 1) on the left
