"""Draw one slice per modality of the embedded synthetic datasets (README figures).

Reads the raw scans that rule ``synthesize`` wrote and draws, for the first scan of each dataset,
one slice per modality and the raw label map:

* knee (generic manifest): the sagittal slice with the most tibiofemoral cartilage (through a
  condyle), the sagittal slice with the most patellar cartilage (through the patella and the
  notch), anterior to the left, and the coronal slice with the most tibial cartilage (through
  the plateaus' centres), medial-lateral across;
* brain (BraTS 2018-2021 layout): the axial slice through the centre of the tumour, in the
  radiological convention (the patient's left on the right, anterior at the top).

Usage (after ``snakemake --cores all results/synthetic_knee/raw results/synthetic_brats/raw``)::

    python docs/images/make_synthetic_slices.py results/synthetic_knee/raw results/synthetic_brats/raw \
        --out docs/images
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BRATS_SUFFIXES = {"t1": "T1", "t1ce": "T1+c", "t2": "T2", "flair": "FLAIR"}


def load(path: Path) -> np.ndarray:
    return np.asarray(nib.load(str(path)).dataobj)


def show(ax, caption: str, image: np.ndarray, is_label: bool, aspect: float) -> None:
    """One panel: a gray-scale image (0 to its 99.5th percentile) or a label map."""
    if is_label:
        ax.imshow(image, cmap="viridis", interpolation="nearest", aspect=aspect, vmin=0, vmax=max(int(image.max()), 1))
    else:
        inside = image[image > 0]
        vmax = np.percentile(inside, 99.5) if inside.size else 1
        ax.imshow(image, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest", aspect=aspect)
    ax.set_title(caption, fontsize=9)
    ax.axis("off")


def draw(rows: list[list[tuple[str, np.ndarray, bool, float]]], title: str, out: Path) -> None:
    """Rows of panels: (caption, 2-D image, is_label, pixel aspect height / width)."""
    n_cols = max(len(row) for row in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(2.6 * n_cols, 2.8 * len(rows)), squeeze=False)
    for row, panels in zip(axes, rows):
        for ax, (caption, image, is_label, aspect) in zip(row, panels):
            show(ax, caption, image, is_label, aspect)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def knee_figure(root: Path, out: Path) -> None:
    manifest = pd.read_csv(root / "manifest.tsv", sep="\t", dtype=str)
    row = manifest.iloc[0]
    modalities = [c for c in manifest.columns if c not in ("scan_id", "subject_id", "label", "mask")]
    labels = load(root / row["label"])
    volumes = {m: load(root / row[m]) for m in modalities}
    zooms = nib.load(str(root / row["label"])).header.get_zooms()
    condyle = int(np.argmax(((labels == 1) | (labels == 2)).sum(axis=(0, 1))))
    patella = int(np.argmax((labels == 4).sum(axis=(0, 1))))
    coronal = int(np.argmax((labels == 2).sum(axis=(1, 2))))

    def sagittal(volume, z):  # rows superior to inferior, columns anterior to posterior
        return volume[:, :, z].T[::-1, ::-1]

    def front(volume):  # rows superior to inferior, columns along medial-lateral
        return volume[coronal, :, :][::-1, :]

    rows = []
    for caption, cut, aspect in (
        (f"sagittal {condyle}", lambda v: sagittal(v, condyle), zooms[1] / zooms[0]),
        (f"sagittal {patella}", lambda v: sagittal(v, patella), zooms[1] / zooms[0]),
        (f"coronal {coronal}", front, zooms[1] / zooms[2]),
    ):
        panels = [(f"{m}, {caption}", cut(volumes[m]), False, aspect) for m in modalities]
        rows.append(panels + [(f"labels, {caption}", cut(labels), True, aspect)])
    draw(rows, f"synthetic knee, scan {row['scan_id']}", out)


def brats_figure(root: Path, out: Path) -> None:
    case = sorted(p for p in root.iterdir() if p.is_dir())[0]
    labels = load(case / f"{case.name}_seg.nii.gz")
    z = int(round(np.argwhere(labels > 0)[:, 2].mean()))
    zooms = nib.load(str(case / f"{case.name}_seg.nii.gz")).header.get_zooms()

    def axial(volume):  # BraTS affine: x and y flipped, so this is radiological, anterior up
        return volume[:, :, z].T

    aspect = zooms[1] / zooms[0]
    panels = [(name, axial(load(case / f"{case.name}_{suffix}.nii.gz")), False, aspect) for suffix, name in BRATS_SUFFIXES.items()]
    panels.append(("labels (1, 2, 4)", axial(labels), True, aspect))
    draw([panels], f"synthetic brain, {case.name}, axial slice {z}", out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("knee_raw", type=Path, help="results/synthetic_knee/raw")
    parser.add_argument("brats_raw", type=Path, help="results/synthetic_brats/raw")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    knee_figure(args.knee_raw, args.out / "synthetic_knee.png")
    brats_figure(args.brats_raw, args.out / "synthetic_brats.png")


if __name__ == "__main__":
    main()
