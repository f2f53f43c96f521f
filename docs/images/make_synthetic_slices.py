"""Draw one slice per modality of the embedded synthetic datasets (README figures).

Reads the raw scans that rule ``synthesize`` wrote and draws, for the first scan of each dataset,
one slice per modality and the raw label map:

* knee (generic manifest): the sagittal slice with the most cartilage, anterior to the left;
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


def draw(panels: list[tuple[str, np.ndarray, bool]], title: str, out: Path, aspect: float) -> None:
    """One row of panels: (caption, 2-D image, is_label)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9), squeeze=False)
    for ax, (caption, image, is_label) in zip(axes[0], panels):
        if is_label:
            ax.imshow(image, cmap="viridis", interpolation="nearest", aspect=aspect, vmin=0, vmax=max(int(image.max()), 1))
        else:
            inside = image[image > 0]
            vmax = np.percentile(inside, 99.5) if inside.size else 1
            ax.imshow(image, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest", aspect=aspect)
        ax.set_title(caption, fontsize=10)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def knee_figure(root: Path, out: Path) -> None:
    manifest = pd.read_csv(root / "manifest.tsv", sep="\t", dtype=str)
    row = manifest.iloc[0]
    modalities = [c for c in manifest.columns if c not in ("scan_id", "subject_id", "label", "mask")]
    labels = load(root / row["label"])
    z = int(np.argmax(((labels == 1) | (labels == 2)).sum(axis=(0, 1))))
    zooms = nib.load(str(root / row["label"])).header.get_zooms()

    def sagittal(volume):  # rows superior to inferior, columns anterior to posterior
        return volume[:, :, z].T[::-1, ::-1]

    panels = [(m, sagittal(load(root / row[m])), False) for m in modalities]
    panels.append(("labels", sagittal(labels), True))
    draw(panels, f"synthetic knee, scan {row['scan_id']}, sagittal slice {z}", out, aspect=zooms[1] / zooms[0])


def brats_figure(root: Path, out: Path) -> None:
    case = sorted(p for p in root.iterdir() if p.is_dir())[0]
    labels = load(case / f"{case.name}_seg.nii.gz")
    z = int(round(np.argwhere(labels > 0)[:, 2].mean()))
    zooms = nib.load(str(case / f"{case.name}_seg.nii.gz")).header.get_zooms()

    def axial(volume):  # BraTS affine: x and y flipped, so this is radiological, anterior up
        return volume[:, :, z].T

    panels = [(name, axial(load(case / f"{case.name}_{suffix}.nii.gz")), False) for suffix, name in BRATS_SUFFIXES.items()]
    panels.append(("labels (1, 2, 4)", axial(labels), True))
    draw(panels, f"synthetic brain, {case.name}, axial slice {z}", out, aspect=zooms[1] / zooms[0])


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
