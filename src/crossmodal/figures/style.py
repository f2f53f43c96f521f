"""One plotting style for every figure: print-size fonts, colours, panel labels, saving.

Sizes follow IEEE TMI's layout (one column 3.5 in, two columns 7.16 in wide; 8 pt text), so a
figure included at its natural size in a paper is readable as printed. Figures are built on
:class:`matplotlib.figure.Figure` objects, never ``pyplot``: no global figure state, no GUI
backend, and a plot function can be called many times in one process (tests).
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import matplotlib
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crossmodal.common.atomic import atomic_path

#: Figure widths in inches (IEEE two-column layout).
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.16

#: Resolution of the PNG copy (the PDF is vector).
PNG_DPI = 200

#: Text sizes in points.
FONT_SIZE = 8
SMALL_FONT_SIZE = 7

#: The four modality-dropout x per-feature-normalization panels (a)-(d) of Figs. 6-8, in the
#: paper's (and Table I's) order: key (modality_dropout, per_feature_norm) -> (letter, title).
PANELS: dict[tuple[int, int], tuple[str, str]] = {
    (0, 0): ("a", "no modality dropout, no per-feature norm."),
    (0, 1): ("b", "no modality dropout, per-feature norm."),
    (1, 0): ("c", "modality dropout, no per-feature norm."),
    (1, 1): ("d", "modality dropout, per-feature norm."),
}

_RC = {
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": SMALL_FONT_SIZE,
    "ytick.labelsize": SMALL_FONT_SIZE,
    "legend.fontsize": SMALL_FONT_SIZE,
    "legend.title_fontsize": SMALL_FONT_SIZE,
    "figure.titlesize": FONT_SIZE + 1,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.0,
    "grid.linewidth": 0.4,
    "legend.frameon": False,
    "pdf.fonttype": 42,  # embed TrueType: text stays editable and searchable in the PDF
    "ps.fonttype": 42,
    # no "tight" bounding box: the layouts already fit (constrained layout, or fixed positions
    # for Fig. 5), and computing it roughly doubled the drawing time (measured: Fig. 6 3.6 s ->
    # 2.0 s CPU)
    "image.interpolation": "nearest",
}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Apply the house style (seaborn ``ticks`` with a light grid, print-size fonts) for a block.

    The rcParams are restored afterwards, so the style never leaks into other code.
    """
    rc = {**sns.axes_style("ticks"), "axes.grid": True, "grid.color": "0.9", **_RC}
    with matplotlib.rc_context(rc):
        yield


def modality_colors(modalities: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A fixed colour per modality, in config order (blue, orange, green, red, ...).

    The first two match the paper's Fig. 6 (normal: blue, fat-suppressed: orange).
    """
    palette = sns.color_palette("tab10", max(len(modalities), 1))
    return {m: palette[i] for i, m in enumerate(modalities)}


def alpha_colors(alphas: Sequence[float]) -> dict[float, tuple[float, float, float]]:
    """A colour per similarity weight alpha: light (alpha = 0) to dark (largest alpha).

    Args:
        alphas: the alpha values present; the mapping depends on their sorted order only.
    """
    values = sorted(set(float(a) for a in alphas))
    palette = sns.color_palette("viridis_r", len(values) + 1)[1:] if values else []
    return {a: palette[i] for i, a in enumerate(values)}


def panel_label(ax: Axes, letter: str, title: str | None = None) -> None:
    """Label a panel ``(a) title`` above its top-left corner, as the paper does."""
    text = f"({letter})" if title is None else f"({letter}) {title}"
    ax.set_title(text, loc="left", fontsize=FONT_SIZE, pad=3)


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """An empty figure of ``width`` x ``height`` inches.

    Args:
        width: inches.
        height: inches.
        layout: matplotlib layout engine; ``None`` for a figure positioned by hand (constrained
            layout costs seconds with many axes).
    """
    return Figure(figsize=(width, height), layout=layout)


def save_figure(fig: Figure, pdf: str, png: str, dpi: int = PNG_DPI) -> None:
    """Write ``fig`` as a vector PDF and a PNG, each atomically.

    Args:
        fig: the figure.
        pdf: output path of the PDF.
        png: output path of the PNG (``dpi`` dots per inch).
        dpi: PNG resolution.
    """
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf")
    if fig.get_layout_engine() is not None:
        # the layout was computed for the PDF; keep it (saves ~25 % of the drawing time)
        fig.set_layout_engine("none")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def panels_in(table) -> list[tuple[int, int]]:
    """The (modality_dropout, per_feature_norm) panels present in a figure table, in order (a)-(d).

    Args:
        table: a figure-data table with columns ``modality_dropout`` and ``per_feature_norm``.

    Returns:
        Keys of :data:`PANELS` found in the table; a grid without some combination has fewer
        panels, each keeps its letter.
    """
    present = set(
        zip(table["modality_dropout"].astype(int), table["per_feature_norm"].astype(int))
    )
    return [key for key in PANELS if key in present]


def format_alpha_label(alpha: float) -> str:
    """Legend text of a similarity weight: ``α = 0.1``."""
    return f"α = {float(alpha):g}"


#: Line styles for the alpha values of the variant figures (learning curves, specificity sweep).
ALPHA_LINE_STYLES = ("-", "--", ":", "-.")


def variant_line(row, alphas: Sequence[float]) -> tuple[dict, str]:
    """Line style and legend label of one network in the figures that compare the four variants.

    One colour per modality-dropout x per-feature-normalization combination (tab10, in panel
    order), one line style per alpha (in ``alphas`` order); ``baseline-all`` is a thicker black
    line.

    Args:
        row: a table row with ``kind``, ``model``, ``modality_dropout``, ``per_feature_norm``
            and ``alpha``.
        alphas: the alpha values drawn, sorted.

    Returns:
        ``(keyword arguments for Axes.plot, label)``.
    """
    if row["kind"] != "axial":
        return {"color": "black", "linestyle": "-", "linewidth": 1.4}, str(row["model"])
    key = (int(row["modality_dropout"]), int(row["per_feature_norm"]))
    color = sns.color_palette("tab10", len(PANELS))[list(PANELS).index(key)]
    style = ALPHA_LINE_STYLES[list(alphas).index(float(row["alpha"])) % len(ALPHA_LINE_STYLES)]
    return {"color": color, "linestyle": style}, f"{PANELS[key][1]}, α = {float(row['alpha']):g}"
