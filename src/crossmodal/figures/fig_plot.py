"""Rule ``fig_plot``: read a figure-data table and draw it with ``fig{N}_plot.plot``.

One rule serves Figs. 5-8 (wildcard ``{fig}``); this module only reads the table and picks the
figure's drawing function from ``PLOTS``. The drawing itself lives in
``crossmodal.figures.fig{N}_plot``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
from matplotlib.figure import Figure

from crossmodal.common.errors import InputError
from crossmodal.figures import fig5_plot, fig6_plot, fig7_plot, fig8_plot

#: figure number -> its drawing function ``plot(table, pdf, png, *, dataset, modalities)``
PLOTS: dict[int, Callable[..., Figure]] = {
    5: fig5_plot.plot,
    6: fig6_plot.plot,
    7: fig7_plot.plot,
    8: fig8_plot.plot,
}

#: Table columns that always hold text (a modality may be called "1", a model id looks numeric
#: to no one, but pandas must not guess).
TEXT_COLUMNS = (
    "dataset", "model", "statistic", "modality", "train_modality", "test_modality", "setting",
    "source", "label", "scan_id",
)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a figure-data TSV with its text columns as strings."""
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    return pd.read_csv(path, sep="\t", dtype={c: str for c in TEXT_COLUMNS if c in header})


def fig_plot(
    table: str | Path, pdf: str | Path, png: str | Path, *, fig: int, dataset: str,
    modalities: list[str],
) -> Figure:
    """Draw figure ``fig`` of ``dataset`` from its table into ``pdf`` and ``png``.

    Args:
        table: ``results/{ds}/figdata/fig{fig}.tsv``.
        pdf: ``results/figures/fig{fig}_{ds}.pdf``.
        png: ``results/figures/fig{fig}_{ds}.png``.
        fig: 5, 6, 7 or 8.
        dataset: dataset key.
        modalities: the dataset's modalities (config order).

    Returns:
        The matplotlib figure drawn.

    Raises:
        InputError: ``fig`` is not a figure of the paper this pipeline draws.
    """
    if fig not in PLOTS:
        raise InputError(f"figure {fig}: only Figs. {tuple(PLOTS)} are drawn")
    return PLOTS[fig](read_table(table), pdf, png, dataset=dataset, modalities=list(modalities))
