"""Fig. 7: cross-modality NCC per feature, sorted high to low and averaged over folds.

Panels (a)-(d) side by side (modality dropout x per-feature normalization), one line per
similarity weight alpha, one shared NCC axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.figures.style import (
    DOUBLE_COLUMN,
    PANELS,
    alpha_colors,
    figure_style,
    format_alpha_label,
    new_figure,
    panel_label,
    panels_in,
    save_figure,
)


def plot(table: pd.DataFrame, pdf: str | Path, png: str | Path, *, dataset: str,
         modalities: list[str]) -> Figure:
    """Draw Fig. 7 from ``fig7.tsv`` and save it as PDF and PNG.

    Args:
        table: the table of ``crossmodal.figures.fig7_data``.
        pdf: output PDF.
        png: output PNG.
        dataset: dataset key (for messages).
        modalities: the dataset's modalities (the y label names the pair for two).

    Returns:
        The figure: one axes per panel.

    Raises:
        InputError: the table is empty.
    """
    if table.empty:
        raise InputError(f"fig7 table of {dataset} is empty; rerun rule fig7_data")
    keys = panels_in(table)
    colors = alpha_colors(table["alpha"].unique())
    low = float(np.nanmin(table["ncc"])) if table["ncc"].notna().any() else 0.0
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 2.0)
        axes = np.atleast_1d(fig.subplots(1, len(keys), sharey=True, sharex=True))
        for ax, key in zip(axes, keys):
            rows = table[(table["modality_dropout"] == key[0])
                         & (table["per_feature_norm"] == key[1])]
            for alpha, curve in rows.groupby("alpha", sort=True):
                curve = curve.sort_values("rank")
                ax.plot(curve["rank"], curve["ncc"], color=colors[float(alpha)],
                        label=format_alpha_label(alpha))
            letter, title = PANELS[key]
            panel_label(ax, letter, title.replace(", ", ",\n"))
            ax.set_xlabel("feature rank (by NCC)")
            ax.set_xlim(1, int(table["rank"].max()))
        axes[0].set_ylim(min(low - 0.05, 0.5), 1.02)
        pair = " vs. ".join(modalities) if len(modalities) == 2 else "mean over modality pairs"
        axes[0].set_ylabel(f"NCC ({pair})")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=len(labels))
        save_figure(fig, str(pdf), str(png))
    return fig
