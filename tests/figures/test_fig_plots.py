"""Every plot function draws a non-empty PDF and PNG with the paper's panel layout."""

import itertools

import numpy as np
import pandas as pd
import pytest

from crossmodal.figures import fig5_plot, fig6_plot, fig7_plot, fig8_plot
from crossmodal.figures.fig5_data import COLUMNS as FIG5_COLUMNS
from crossmodal.figures.fig5_data import centre_slice_table
from crossmodal.figures.fig6_data import feature_statistics
from crossmodal.figures.fig7_data import average_curves
from crossmodal.figures.fig_plot import fig_plot

GRID = list(itertools.product((0, 1), (0, 1)))


def assert_written(tmp_path, name):
    for ext in ("pdf", "png"):
        path = tmp_path / f"{name}.{ext}"
        assert path.stat().st_size > 1000, path
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / f"{name}.pdf").read_bytes()[:4] == b"%PDF"


def fig5_table(modalities, n_patches=3, size=5):
    rng = np.random.default_rng(0)
    shape = (n_patches, len(modalities), size, size, size)
    recon = {"all": rng.normal(size=shape)} | {
        f"from_{i}": rng.normal(size=shape) for i in range(len(modalities))}
    table = centre_slice_table(rng.normal(size=shape), recon, modalities)
    labels = np.array(["bg", "fg", "fg"] * 10)
    return table.assign(dataset="d", model="m", fold=0, label=labels[table["patch"]],
                        scan_id="s")[FIG5_COLUMNS]


def fig6_table(modalities):
    rng = np.random.default_rng(1)
    frames = []
    for md, pfn in GRID:
        test = rng.normal(size=(len(modalities), 60, 6))
        labels = rng.integers(0, 2, 60)
        stats = feature_statistics(test, labels, modalities, mi_samples=60, seed=0)
        frames.append(stats.assign(model=f"axial-md{md}-pfn{pfn}-a0.1", modality_dropout=md,
                                   per_feature_norm=pfn, alpha=0.1))
    return pd.concat(frames)


def fig7_table():
    rng = np.random.default_rng(2)
    frames = []
    for (md, pfn), alpha in itertools.product(GRID, (0.0, 0.5)):
        curves = [np.sort(rng.uniform(0, 1, 16))[::-1] for _ in range(3)]
        frames.append(average_curves(curves).assign(
            modality_dropout=md, per_feature_norm=pfn, alpha=alpha))
    return pd.concat(frames)


def fig8_table(modalities):
    rows = []
    for (md, pfn), alpha, fold, half, k, s, t in itertools.product(
            GRID, (0.0, 0.5), (0, 1), (0, 1), (1, 2, 4), modalities, modalities):
        rows.append({"model": f"axial-md{md}-pfn{pfn}-a{alpha}", "modality_dropout": md,
                     "per_feature_norm": pfn, "alpha": alpha, "fold": fold, "rank_half": half,
                     "n_features": k, "train_modality": s, "test_modality": t,
                     "setting": "same" if s == t else "cross",
                     "accuracy": 0.5 + 0.1 * np.log2(k) - (0.1 if s != t else 0.0)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("modalities", [["normal", "fatsup"], ["t1", "t1c", "t2", "flair"]])
def test_fig5_has_one_axes_per_image_row(tmp_path, modalities):
    fig = fig5_plot.plot(fig5_table(modalities), tmp_path / "f5.pdf", tmp_path / "f5.png",
                         dataset="d", modalities=modalities)
    m = len(modalities)
    assert len(fig.axes) == m * (m + 2)  # per modality: input, from all, from each modality
    assert [len(ax.get_images()) for ax in fig.axes] == [1] * (m * (m + 2))
    # the strip of the first row holds the 3 input patches side by side, 1 NaN column apart
    strip = fig.axes[0].get_images()[0].get_array()
    assert strip.shape == (5, 3 * 6 - 1)
    assert strip.mask[:, 5].all() and not strip.mask[:, :5].any()
    assert_written(tmp_path, "f5")


@pytest.mark.parametrize("modalities", [["normal", "fatsup"], ["t1", "t1c", "t2", "flair"]])
def test_fig6_has_three_rows_per_panel(tmp_path, modalities):
    fig = fig6_plot.plot(fig6_table(modalities), tmp_path / "f6.pdf", tmp_path / "f6.png",
                         dataset="d", modalities=modalities)
    assert len(fig.axes) == 4 * 3
    assert_written(tmp_path, "f6")


def test_fig6_draws_only_the_panels_of_the_grid(tmp_path):
    table = fig6_table(["a", "b"])
    table = table[table["modality_dropout"] == 1]
    fig = fig6_plot.plot(table, tmp_path / "f6.pdf", tmp_path / "f6.png", dataset="d",
                         modalities=["a", "b"])
    assert len(fig.axes) == 2 * 3
    assert fig.axes[0].get_title(loc="left").startswith("(c)")


def test_fig7_has_four_panels(tmp_path):
    fig = fig7_plot.plot(fig7_table(), tmp_path / "f7.pdf", tmp_path / "f7.png", dataset="d",
                         modalities=["a", "b"])
    assert len(fig.axes) == 4
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2, 2, 2]
    assert_written(tmp_path, "f7")


def test_fig8_means_over_splits_then_pairs():
    table = pd.DataFrame({
        "model": "m", "modality_dropout": 1, "per_feature_norm": 1, "alpha": 0.1,
        "fold": [0, 0, 0, 1], "rank_half": [0, 0, 1, 0], "n_features": 4,
        "train_modality": ["a", "b", "a", "a"], "test_modality": ["b", "a", "b", "b"],
        "setting": "cross", "accuracy": [0.2, 0.4, 0.6, 0.9],
    })
    means = fig8_plot.mean_accuracy(table)
    # splits: (0,0) -> 0.3, (0,1) -> 0.6, (1,0) -> 0.9; mean 0.6
    assert means["accuracy_percent"].item() == pytest.approx(60.0)
    assert means["n_splits"].item() == 3


def test_fig8_has_same_and_cross_column_per_panel_via_the_dispatcher(tmp_path):
    table = fig8_table(["1", "2"])
    table.to_csv(tmp_path / "fig8.tsv", sep="\t", index=False)
    fig = fig_plot(tmp_path / "fig8.tsv", tmp_path / "f8.pdf", tmp_path / "f8.png", fig=8,
                   dataset="d", modalities=["1", "2"])
    assert len(fig.axes) == 8
    for ax in fig.axes:
        curves = [line for line in ax.get_lines() if line.get_marker() == "o"]
        marks = [line for line in ax.get_lines() if line.get_marker() != "o"]
        values = np.concatenate([line.get_ydata() for line in curves])
        assert len(curves) == 2  # one line per alpha
        assert [m.get_ydata()[0] for m in marks] == [values.min(), values.max()]
    assert_written(tmp_path, "f8")
