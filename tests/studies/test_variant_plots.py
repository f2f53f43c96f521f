"""The learning-curve and specificity figures draw every network from their tables."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.model_ids import variant_ids
from crossmodal.studies.curve_tables import CURVE_COLUMNS, GRID_COLUMNS
from crossmodal.studies.learning_plot import learning_plot
from crossmodal.studies.specificity import SWEEP_COLUMNS
from crossmodal.studies.specificity_plot import specificity_plot

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


def test_drawing_the_learning_curves_imports_no_training_code():
    # in a fresh interpreter: this test process has imported torch already
    src = str(Path(__file__).resolve().parents[2] / "src")
    check = ("import sys; import crossmodal.studies.learning_plot; "
             "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'crossmodal.training.'))))")
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": src})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_specificity_plot_draws_mean_and_sd_over_seeds_against_kappa(tmp_path):
    rows = [{"dataset": "ds", "knob": "kappa", "value": k, "derived_dataset": f"ds_k{k}", "model": m, "seed": seed,
             "fold": 0, "same_accuracy": 80.0, "cross_accuracy": 50 + 20 * k + 2 * seed, "predictability_r2": 0.5 + 0.4 * k,
             **_grid(m)} for m in MODELS for k in (-1.0, 0.0, 1.0) for seed in (0, 1, 2)]
    path = tmp_path / "sweep.tsv"
    pd.DataFrame(rows, columns=SWEEP_COLUMNS).to_csv(path, sep="\t", index=False)
    fig = specificity_plot(path, tmp_path / "s.pdf", tmp_path / "s.png", dataset="ds")
    cross = fig.axes[0]
    assert len(cross.containers) == len(MODELS)  # one error-bar line per network
    line, _, (bars,) = cross.containers[0].lines
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), [32, 52, 72])  # mean over seeds 0, 1, 2
    segments = bars.get_segments()  # mean +- SD (SD 2 over the seeds' 0, 2, 4)
    np.testing.assert_allclose([s[:, 1] for s in segments], [[30, 34], [50, 54], [70, 74]])
    assert cross.get_xlim()[0] > cross.get_xlim()[1]  # shared (kappa = 1) on the left
    np.testing.assert_allclose(fig.axes[2].get_lines()[0].get_ydata(), [0.1, 0.5, 0.9])
    assert "3 seed(s)" in fig._suptitle.get_text()
