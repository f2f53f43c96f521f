"""The ablation of one dataset (rule ``ablation_plot``): cross-modality accuracy and feature
spread per level.

One row per network of the ablation (the table's networks in its order: the four
modality-dropout x per-feature-normalization networks at alpha = 0, the plain and the dropout +
normalization networks at alpha > 0, then ``baseline-all``), stacked, sharing the x axis: the
levels of the table in its order (the default first, then each method switch and data size, one
change at a time). Left, cross-modality accuracy: a dot per seed (hollow where the level leaves
the network unchanged and the default level's network stands in), a bar at their mean, a grey
line at the default level's mean and a dashed line at the paper's Table I value. Right, the same
for the median SD of the features across test samples (``feature_sd_median``; the mechanism of
Sec. V-B, Fig. 6: the similarity term can be met by near-constant features), with a dashed line
at 1, the SD per-feature normalization gives.
"""

from __future__ import annotations

from pathlib import Path

import seaborn as sns
from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id
from crossmodal.figures.style import DOUBLE_COLUMN, PANELS, figure_style, new_figure, panel_label, save_figure
from crossmodal.studies.ablation import DEFAULT_LEVEL, read_ablation


def _title(model: str) -> str:
    spec = parse_model_id(model, [])
    if spec.kind != "axial":
        return model
    return PANELS[(int(spec.modality_dropout), int(spec.per_feature_norm))][1] + f", α = {spec.alpha:g}"


def _level_dots(ax, rows, column: str, x_of: dict, default_name: str, color) -> None:
    """A dot per seed (hollow: the default's network stands in) and a bar at the mean, per level."""
    for pair, group in rows.groupby(["factor", "level"], sort=False):
        x = x_of[pair]
        reused = group["derived_dataset"] == default_name
        reused &= pair[0] != DEFAULT_LEVEL
        jitter = [(k - (len(group) - 1) / 2) * 0.12 for k in range(len(group))]
        for (_, row), dx, hollow in zip(group.iterrows(), jitter, reused):
            ax.plot(x + dx, row[column], "o", markersize=3.5, color=color,
                    markerfacecolor="none" if hollow else color)  # fmt: skip
        ax.plot([x - 0.3, x + 0.3], [group[column].mean()] * 2, "-", color=color, linewidth=1.6)


def level_pairs(table) -> list[tuple[str, str]]:
    """The ``(factor, level)`` pairs of an ablation table, in first-seen order (the x axis)."""
    return list(dict.fromkeys(zip(table["factor"], table["level"])))


def ablation_plot(table_path: str | Path, pdf: str | Path, png: str | Path, *, dataset: str) -> Figure:
    """Draw ``results/ablation/{ds}.tsv`` into ``pdf`` and ``png``.

    Args:
        table_path: the table of :func:`crossmodal.studies.ablation.collect_ablation`.
        pdf: ``results/figures/ablation_{ds}.pdf``.
        png: ``results/figures/ablation_{ds}.png``.
        dataset: the ablated dataset's key (title).

    Returns:
        The figure (per network in the table, an accuracy and a feature-SD axes).

    Raises:
        InputError: the table is empty or has no default level.
    """
    table = read_ablation(table_path)
    if table.empty:
        raise InputError(f"{table_path}: no rows; rerun rule ablation")
    if not (table["factor"] == DEFAULT_LEVEL).any():
        raise InputError(f"{table_path}: no {DEFAULT_LEVEL!r} level; rerun rule ablation")
    pairs = level_pairs(table)
    x_of = {pair: i for i, pair in enumerate(pairs)}
    models = list(dict.fromkeys(table["model"]))
    default_name = table.loc[table["factor"] == DEFAULT_LEVEL, "derived_dataset"].iloc[0]
    colors = sns.color_palette("tab10", len(models))
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, 1.35 * len(models) + 1.3)
        axes = fig.subplots(len(models), 2, sharex=True, squeeze=False, gridspec_kw={"width_ratios": [3, 1.4]})
        for i, (ax, sd_ax, model) in enumerate(zip(axes[:, 0], axes[:, 1], models)):
            rows = table[table["model"] == model]
            _level_dots(ax, rows, "cross_accuracy", x_of, default_name, colors[i])
            default = rows.loc[rows["factor"] == DEFAULT_LEVEL, "cross_accuracy"].mean()
            ax.axhline(default, color="0.6", linewidth=0.8, zorder=0)
            paper = rows["paper_cross_accuracy"].dropna()
            if len(paper):
                ax.axhline(paper.iloc[0], color="black", linestyle="--", linewidth=0.8)
            ax.set_ylabel("cross acc. (%)")
            panel_label(ax, chr(ord("a") + i) if i < 26 else str(i), _title(model))
            _level_dots(sd_ax, rows, "feature_sd_median", x_of, default_name, colors[i])
            sd_ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
            sd_ax.set_ylim(bottom=0)
            sd_ax.set_ylabel("feature SD")
        for ax in axes[-1]:
            ax.set_xticks(range(len(pairs)))
            ax.set_xticklabels([f"{factor}: {level}" if factor != DEFAULT_LEVEL else DEFAULT_LEVEL
                                for factor, level in pairs], rotation=35, ha="right", fontsize=5)  # fmt: skip
        updates = sorted(table["updates"].unique())
        length = f"{updates[0]}" if len(updates) == 1 else f"{updates[0]}–{updates[-1]}"
        fig.suptitle(
            f"{dataset}: ablation, fold {int(table['fold'].iloc[0])}, {table['seed'].nunique()} seed(s), "
            f"{length} updates; hollow: the default level's network\nleft: cross-modality accuracy "
            "(dashed: paper; grey: default level)\nright: median SD of the features across test samples"
        )
        save_figure(fig, str(pdf), str(png))
    return fig
