"""Fig. 8: accuracy against the number of most cross-modality-correlated features kept.

Panels (a)-(d) are rows (modality dropout x per-feature normalization); the left column is
same-modality, the right column cross-modality classification; one line per similarity weight
alpha. Every curve is the mean over the 5 x 2 (fold, half) evaluations of the mean over the
modality pairs of its setting. All axes share one accuracy scale; longer tick marks on each
axis mark the minimum and maximum accuracy drawn in it, as in the paper.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from crossmodal.common.errors import InputError
from crossmodal.figures.style import (
    PANELS,
    alpha_colors,
    figure_style,
    format_alpha_label,
    new_figure,
    panel_label,
    panels_in,
    save_figure,
)

SETTINGS = (("same", "same-modality"), ("cross", "cross-modality"))


def mean_accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy (%) per model, setting and feature count, over (fold, half) and pairs.

    Args:
        table: the table of ``crossmodal.figures.fig8_data``.

    Returns:
        Columns ``modality_dropout, per_feature_norm, alpha, model, setting, n_features,
        accuracy_percent, n_splits`` (number of (fold, half) evaluations averaged).
    """
    keys = ["modality_dropout", "per_feature_norm", "alpha", "model", "setting", "n_features"]
    per_split = table.groupby(keys + ["fold", "rank_half"], as_index=False)["accuracy"].mean()
    result = per_split.groupby(keys, as_index=False).agg(
        accuracy=("accuracy", "mean"), n_splits=("accuracy", "size")
    )
    result["accuracy_percent"] = 100.0 * result.pop("accuracy")
    return result


def plot(table: pd.DataFrame, pdf: str | Path, png: str | Path, *, dataset: str,
         modalities: list[str]) -> Figure:
    """Draw Fig. 8 from ``fig8.tsv`` and save it as PDF and PNG.

    Args:
        table: the table of ``crossmodal.figures.fig8_data``.
        pdf: output PDF.
        png: output PNG.
        dataset: dataset key (for messages).
        modalities: the dataset's modalities (unused: pairs are averaged).

    Returns:
        The figure: two axes (same, cross) per panel.

    Raises:
        InputError: the table is empty.
    """
    if table.empty:
        raise InputError(f"fig8 table of {dataset} is empty; rerun rule fig8_data")
    means = mean_accuracy(table)
    keys = panels_in(means)
    colors = alpha_colors(means["alpha"].unique())
    counts = sorted(means["n_features"].unique())
    with figure_style():
        fig = new_figure(5.0, 1.45 * len(keys) + 0.5)
        axes = np.atleast_2d(fig.subplots(len(keys), 2, sharex=True, sharey=True))
        for row, key in zip(axes, keys):
            panel = means[(means["modality_dropout"] == key[0])
                          & (means["per_feature_norm"] == key[1])]
            for ax, (setting, name) in zip(row, SETTINGS):
                lines = panel[panel["setting"] == setting]
                for alpha, curve in lines.groupby("alpha", sort=True):
                    curve = curve.sort_values("n_features")
                    ax.plot(curve["n_features"], curve["accuracy_percent"], marker="o",
                            color=colors[float(alpha)], label=format_alpha_label(alpha))
                for value in lines["accuracy_percent"].agg(["min", "max"]) if len(lines) else []:
                    # drawn marks, not minor ticks: the axes share one y ticker
                    ax.plot([-0.035, 0.0], [value, value], transform=ax.get_yaxis_transform(),
                            color="0.1", linewidth=0.9, clip_on=False)
            letter, title = PANELS[key]
            panel_label(row[0], letter, title)
        for ax, (_, name) in zip(axes[0], SETTINGS):
            ax.annotate(name, xy=(0.5, 1.0), xytext=(0, 14), xycoords="axes fraction",
                        textcoords="offset points", ha="center", fontweight="bold")
        for ax in axes[-1]:
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_locator(FixedLocator(counts))
            ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
            ax.xaxis.set_minor_locator(FixedLocator([]))
            ax.set_xlabel("features kept (most correlated first)")
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy (%)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
        save_figure(fig, str(pdf), str(png))
    return fig
