"""The specificity sweep of one dataset (rule ``specificity_plot``): accuracy against kappa.

Three panels, the knob kappa on the x axis from 1 (the same image up to noise, left) through 0
(the default data) to -1 (little in common, right): (a) cross-modality and (b) same-modality
accuracy of the Table I forests for one fold, mean ± SD over the training seeds (error bars), one
line per network (colour: modality dropout x per-feature normalization; line style: alpha;
black: ``baseline-all``); (c) the data's mean cross-modal predictability R^2 (difficulty table).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.figures.style import DOUBLE_COLUMN, figure_style, new_figure, panel_label, save_figure, variant_line
from crossmodal.studies.specificity import read_specificity, seed_summary


def specificity_plot(table_path: str | Path, pdf: str | Path, png: str | Path, *, dataset: str) -> Figure:
    """Draw ``results/sweeps/specificity_{ds}.tsv`` into ``pdf`` and ``png``.

    Args:
        table_path: the table of :func:`crossmodal.studies.specificity.collect_specificity`.
        pdf: ``results/figures/specificity_{ds}.pdf``.
        png: ``results/figures/specificity_{ds}.png``.
        dataset: the base dataset's key (title and messages).

    Returns:
        The figure (three axes: cross, same, R^2).

    Raises:
        InputError: the table is empty.
    """
    table = read_specificity(table_path)
    if table.empty:
        raise InputError(f"{table_path}: no rows; rerun rule specificity")
    summary = seed_summary(table)
    alphas = sorted(summary.loc[summary["kind"] == "axial", "alpha"].dropna().astype(float).unique())
    seeds = int(summary["n_seeds"].min())
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 3.0)
        axes = fig.subplots(1, 3, sharex=True, width_ratios=[1, 1, 0.6])
        for ax, (column, label), letter in zip(
            axes, [("cross_accuracy", "cross-modality accuracy (%)"), ("same_accuracy", "same-modality accuracy (%)")], "ab"
        ):
            for _, rows in summary.groupby("model", sort=False):
                rows = rows.sort_values("value")
                style, name = variant_line(rows.iloc[0], alphas)
                ax.errorbar(rows["value"], rows[f"{column}_mean"], yerr=rows[f"{column}_sd"], marker="o",
                            markersize=2.5, capsize=2, label=name, **style)  # fmt: skip
            panel_label(ax, letter, label)
        r2 = summary.drop_duplicates("value").sort_values("value")
        axes[2].plot(r2["value"], r2["predictability_r2"], marker="o", color="0.3")
        axes[2].set_ylim(min(0.0, float(r2["predictability_r2"].min())), 1.0)
        panel_label(axes[2], "c", "cross-modal R²")
        for ax in axes[:2]:
            ax.set_xlabel("κ: 1 shared ... 0 default ... −1 specific")
        axes[2].set_xlabel("κ")  # the long label overran the narrow panel's right edge
        axes[0].invert_xaxis()  # from the same image (left) to little in common (right)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=6)
        fig.suptitle(
            f"{dataset}: specificity sweep, fold {int(table['fold'].iloc[0])}, mean ± SD over {seeds} seed(s)"
        )
        save_figure(fig, str(pdf), str(png))
    return fig
