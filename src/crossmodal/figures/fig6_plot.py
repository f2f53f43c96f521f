"""Fig. 6: per-feature MI, SD and cross-modality NCC of one fold, panels (a)-(d).

Layout as in the paper: panels (a)-(d) (modality dropout x per-feature normalization) in a
2 x 2 grid; in each panel three rows sharing the feature axis (features sorted by MI in the
first modality): MI, SD, NCC. With two modalities MI and SD are mirrored bars (first modality
up, second down), as in the paper; with more, one line per modality. Rows share their y scale
across panels so that the panels can be compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from crossmodal.common.errors import InputError
from crossmodal.figures.style import (
    DOUBLE_COLUMN,
    PANELS,
    figure_style,
    modality_colors,
    new_figure,
    panel_label,
    panels_in,
    save_figure,
)

ROWS = (("mi", "MI (nats)"), ("sd", "SD (a.u.)"), ("ncc", "NCC"))


def _draw_statistic(ax: Axes, stat: pd.DataFrame, modalities: list[str], colors: dict) -> None:
    """Bars (two modalities, mirrored) or lines (more) of one statistic against feature rank."""
    mirrored = len(modalities) == 2
    for i, m in enumerate(modalities):
        values = stat[stat["modality"] == m].sort_values("rank")
        if mirrored:
            sign = 1.0 if i == 0 else -1.0
            ax.bar(values["rank"], sign * values["value"], width=1.0, color=colors[m],
                   linewidth=0)
        else:
            ax.plot(values["rank"], values["value"], color=colors[m], linewidth=0.8)
    if mirrored:
        ax.axhline(0, color="0.2", linewidth=0.5)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))


def plot(table: pd.DataFrame, pdf: str | Path, png: str | Path, *, dataset: str,
         modalities: list[str]) -> Figure:
    """Draw Fig. 6 from ``fig6.tsv`` and save it as PDF and PNG.

    Args:
        table: the table of ``crossmodal.figures.fig6_data`` (one model per panel).
        pdf: output PDF.
        png: output PNG.
        dataset: dataset key (unused in the drawing; the report caption names it).
        modalities: the dataset's modalities (config order: colours and mirror direction).

    Returns:
        The figure: per panel three axes (MI, SD, NCC).

    Raises:
        InputError: the table is empty or a panel holds more than one model.
    """
    if table.empty:
        raise InputError(f"fig6 table of {dataset} is empty; rerun rule fig6_data")
    colors = modality_colors(modalities)
    keys = panels_in(table)
    n_cols = 2 if len(keys) > 1 else 1
    n_rows = int(np.ceil(len(keys) / n_cols))
    limits = {}
    for name, _ in ROWS:
        values = table.loc[table["statistic"] == name, "value"].abs()
        limits[name] = float(np.nanmax(values)) if values.notna().any() else 1.0
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 2.9 * n_rows + 0.3)
        subfigs = np.atleast_1d(fig.subfigures(n_rows, n_cols, wspace=0.04, hspace=0.04)).ravel()
        for subfig in subfigs[len(keys):]:
            subfig.set_visible(False)
        for key, subfig in zip(keys, subfigs):
            rows = table[(table["modality_dropout"] == key[0])
                         & (table["per_feature_norm"] == key[1])]
            if rows["model"].nunique() != 1:
                raise InputError(
                    f"fig6 table of {dataset}: panel {PANELS[key][0]} holds models "
                    f"{sorted(rows['model'].unique())}; Fig. 6 shows one alpha per panel"
                )
            axes = subfig.subplots(3, 1, sharex=True)
            letter, title = PANELS[key]
            panel_label(axes[0], letter, f"{title}, α = {rows['alpha'].iloc[0]:g}")
            n_features = int(rows["feature"].nunique())
            for ax, (name, label) in zip(axes, ROWS):
                stat = rows[rows["statistic"] == name]
                if name == "ncc":
                    values = stat.sort_values("rank")
                    ax.bar(values["rank"], values["value"], width=1.0, color="0.35", linewidth=0)
                    ax.set_ylim(min(0.0, float(np.nanmin(table.loc[
                        table["statistic"] == "ncc", "value"]))) - 0.05, 1.05)
                else:
                    _draw_statistic(ax, stat, modalities, colors)
                    top = limits[name] * 1.05
                    ax.set_ylim(-top if len(modalities) == 2 else 0.0, top)
                ax.set_ylabel(label)
                ax.set_xlim(-0.5, n_features - 0.5)
            axes[-1].set_xlabel(f"feature (sorted by MI in {modalities[0]})")
        if len(modalities) == 2:
            handles = [Patch(color=colors[modalities[0]], label=f"{modalities[0]} (up)"),
                       Patch(color=colors[modalities[1]], label=f"{modalities[1]} (down)")]
        else:
            handles = [Line2D([], [], color=colors[m], label=m) for m in modalities]
        handles.append(Patch(color="0.35", label="NCC between modalities"
                             + (" (mean over pairs)" if len(modalities) > 2 else "")))
        fig.legend(handles=handles, loc="outside upper center", ncol=len(handles))
        save_figure(fig, str(pdf), str(png))
    return fig
