"""Learning curves of one dataset (rule ``learning_plot``): loss and accuracies vs. updates.

Three panels side by side, the number of SGD updates on a log axis: (a) training loss (the
objective each network minimizes, so networks with a similarity term are not comparable with
those without in absolute value), (b) same-modality and (c) cross-modality accuracy of the
Table I forests. One colour per modality-dropout x per-feature-normalization combination, one
line style per alpha; ``baseline-all`` in black. A vertical line marks the default training
length (config ``training.epochs``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.figures.style import DOUBLE_COLUMN, figure_style, new_figure, panel_label, save_figure, variant_line
from crossmodal.studies.curve_tables import read_curves


def learning_plot(table_path: str | Path, pdf: str | Path, png: str | Path, *, dataset: str) -> Figure:
    """Draw the learning curves of ``results/curves/learning_{ds}.tsv``.

    Args:
        table_path: the table of :func:`crossmodal.studies.curve_tables.collect_curves`.
        pdf: ``results/figures/learning_{ds}.pdf``.
        png: ``results/figures/learning_{ds}.png``.
        dataset: dataset key (title and messages).

    Returns:
        The figure (three axes).

    Raises:
        InputError: the table is empty.
    """
    table = read_curves(table_path)
    if table.empty:
        raise InputError(f"{table_path}: no learning-curve rows; rerun rule curve_tables")
    alphas = sorted(table.loc[table["kind"] == "axial", "alpha"].dropna().astype(float).unique())
    default = table.loc[table["default_length"].astype(bool), "updates"].unique()
    columns = [("train_loss", "training loss"), ("same_accuracy", "same-modality accuracy (%)"),
               ("cross_accuracy", "cross-modality accuracy (%)")]  # fmt: skip
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 2.6)
        axes = fig.subplots(1, 3)
        for (column, label), ax, letter in zip(columns, axes, "abc"):
            for model, curve in table.groupby("model", sort=False):
                curve = curve.sort_values("updates")
                style, name = variant_line(curve.iloc[0], alphas)
                ax.plot(curve["updates"], curve[column], marker="o", markersize=2, label=name, **style)
            for u in default:
                ax.axvline(u, color="0.4", linewidth=0.8, linestyle=(0, (1, 2)))
            ax.set_xscale("log", base=2)
            ax.set_xlabel("SGD updates")
            panel_label(ax, letter, label)
        if len(default):
            axes[0].annotate("default length", (default[0], 1), xycoords=("data", "axes fraction"),
                             xytext=(2, -8), textcoords="offset points", fontsize=6, color="0.3")  # fmt: skip
        handles, labels = axes[2].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=6)
        fig.suptitle(f"{dataset}: learning curves, fold {int(np.unique(table['fold'])[0])}")
        save_figure(fig, str(pdf), str(png))
    return fig
