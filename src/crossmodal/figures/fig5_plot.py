"""Fig. 5: centre slices of input patches and their reconstructions.

One column per patch (grouped by class, the class named above), and for each modality m a block
of rows: the input, the reconstruction of m from all modalities, and the reconstruction of m
from each single modality. Every image of a modality uses the same grey window (the 1st-99th
percentile of that modality's input slices), so input and reconstructions compare directly.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.figures.style import (
    DOUBLE_COLUMN,
    SMALL_FONT_SIZE,
    figure_style,
    new_figure,
    save_figure,
)


def row_sources(modalities: list[str]) -> list[tuple[str, str]]:
    """The (source, row label) of each image row within one modality's block."""
    return [("input", "input"), ("all", "from all")] + [
        (f"from_{m}", f"from {m}") for m in modalities
    ]


def plot(table: pd.DataFrame, pdf: str | Path, png: str | Path, *, dataset: str,
         modalities: list[str]) -> Figure:
    """Draw Fig. 5 from ``fig5.tsv`` and save it as PDF and PNG.

    Each image row is one axes showing the patches side by side (separated by a one-pixel white
    gap): one ``imshow`` per row instead of one axes per patch keeps drawing fast (measured for
    2 modalities x 15 patches: 0.7 s instead of 5.7 s CPU, most of it constrained layout).

    Args:
        table: the table of ``crossmodal.figures.fig5_data``.
        pdf: output PDF.
        png: output PNG.
        dataset: dataset key (for messages).
        modalities: the dataset's modalities (row order).

    Returns:
        The figure: ``M * (M + 2)`` axes, one per image row.

    Raises:
        InputError: the table is empty.
    """
    if table.empty:
        raise InputError(f"fig5 table of {dataset} is empty; rerun rule fig5_data")
    patches = sorted(table["patch"].unique())
    size = int(table["row"].max()) + 1
    step = size + 1  # one NaN (white) column between patches
    sources = row_sources(modalities)
    n_rows = len(modalities) * len(sources)
    strips = {}
    for (modality, source), group in table.groupby(["modality", "source"]):
        strip = np.full((size, step * len(patches) - 1), np.nan)
        for i, patch in enumerate(patches):
            pixels = group[group["patch"] == patch]
            strip[pixels["row"].to_numpy(), i * step + pixels["col"].to_numpy()] = pixels["value"]
        strips[modality, source] = strip
    labels = table.drop_duplicates("patch").set_index("patch")["label"]
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
    # layout in inches: row labels on the left, class names on top, a wider gap between the
    # blocks of two modalities than between the rows of one
    label_width, top, row_gap, block_gap = 0.9, 0.22, 0.02, 0.12
    width = DOUBLE_COLUMN - label_width - 0.02
    row_height = width * size / (step * len(patches) - 1)
    height = (top + n_rows * row_height + (n_rows - len(modalities)) * row_gap
              + (len(modalities) - 1) * block_gap + 0.02)
    with figure_style():
        fig = new_figure(DOUBLE_COLUMN, height, layout=None)
        axes = []
        y = height - top
        for row in range(n_rows):
            if row:
                y -= block_gap if row % len(sources) == 0 else row_gap
            y -= row_height
            axes.append(fig.add_axes((label_width / DOUBLE_COLUMN, y / height,
                                      width / DOUBLE_COLUMN, row_height / height)))
        for block, modality in enumerate(modalities):
            inputs = table[(table["modality"] == modality) & (table["source"] == "input")]
            low, high = np.percentile(inputs["value"], [1, 99])
            for r, (source, row_label) in enumerate(sources):
                ax = axes[block * len(sources) + r]
                strip = strips.get((modality, source))
                if strip is not None:
                    ax.imshow(strip, cmap=cmap, vmin=low, vmax=high, aspect="equal")
                ax.set_axis_off()
                label = f"{modality}\n{row_label}" if r == 0 else row_label
                ax.text(-0.01, 0.5, label, transform=ax.transAxes, ha="right", va="center",
                        fontsize=SMALL_FONT_SIZE)
        previous = None
        for i, patch in enumerate(patches):
            if labels[patch] != previous:
                axes[0].text(i * step - 0.5, -1.0, labels[patch], ha="left", va="bottom",
                             fontsize=SMALL_FONT_SIZE)
                previous = labels[patch]
        save_figure(fig, str(pdf), str(png))
    return fig
