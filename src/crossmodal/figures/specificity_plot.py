"""The specificity sweep of one dataset (rule ``specificity_plot``): accuracy against rho.

Two panels, the texture share rho of the synthetic modalities on the x axis (1: fully shared
texture, 0: every modality its own): (a) cross-modality and (b) same-modality accuracy of the
Table I forests for one fold, one line per network (colour: modality dropout x per-feature
normalization; line style: alpha; black: ``baseline-all``).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from crossmodal.errors import InputError
from crossmodal.figures.style import DOUBLE_COLUMN, figure_style, new_figure, panel_label, save_figure, variant_line
from crossmodal.specificity import read_specificity


def specificity_plot(table_path: str | Path, pdf: str | Path, png: str | Path, *, dataset: str) -> Figure:
    """Draw ``results/sweeps/specificity_{ds}.tsv`` into ``pdf`` and ``png``.

    Args:
        table_path: the table of :func:`crossmodal.specificity.collect_specificity`.
        pdf: ``results/figures/specificity_{ds}.pdf``.
        png: ``results/figures/specificity_{ds}.png``.
        dataset: the base dataset's key (title and messages).

    Returns:
        The figure (two axes).

    Raises:
        InputError: the table is empty.
    """
    table = read_specificity(table_path)
    if table.empty:
        raise InputError(f"{table_path}: no rows; rerun rule specificity")
    alphas = sorted(table.loc[table["kind"] == "axial", "alpha"].dropna().astype(float).unique())
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 2.8)
        axes = fig.subplots(1, 2, sharex=True)
        for ax, (column, label), letter in zip(
            axes, [("cross_accuracy", "cross-modality accuracy (%)"), ("same_accuracy", "same-modality accuracy (%)")], "ab"
        ):
            for _, rows in table.groupby("model", sort=False):
                rows = rows.sort_values("rho")
                style, name = variant_line(rows.iloc[0], alphas)
                ax.plot(rows["rho"], rows[column], marker="o", markersize=2.5, label=name, **style)
            ax.set_xlabel("ρ: texture shared by the modalities (1 = all)")
            panel_label(ax, letter, label)
        axes[0].invert_xaxis()  # from fully shared (left) to fully modality-specific (right)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=6)
        fig.suptitle(f"{dataset}: specificity sweep, fold {int(table['fold'].iloc[0])}")
        save_figure(fig, str(pdf), str(png))
    return fig
