"""Write scans in the generic manifest layout (the layout real OAI users write by hand).

``<root>/manifest.tsv`` has one row per scan: ``scan_id``, ``subject_id``, one column per
modality (named by the modality) and ``label``, holding file paths relative to the manifest;
the files are ``<root>/<scan_id>/<scan_id>_<modality>.nii.gz`` and ``..._label.nii.gz``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from crossmodal.data.synthesize.nifti import save_nifti
from crossmodal.data.synthesize.scan import SyntheticScan


def write_generic(root: str | Path, scans: Iterable[SyntheticScan], modalities: list[str]) -> list[str]:
    """Write ``scans`` and their manifest under ``root``.

    Args:
        root: output directory (created).
        scans: the scans, written one at a time.
        modalities: modality columns of the manifest, in this order.

    Returns:
        The scan ids written, in manifest order.
    """
    root = Path(root)
    rows = []
    for scan in scans:
        folder = root / scan.scan_id
        folder.mkdir(parents=True, exist_ok=True)
        row = {"scan_id": scan.scan_id, "subject_id": scan.subject_id}
        for modality in modalities:
            name = f"{scan.scan_id}/{scan.scan_id}_{modality}.nii.gz"
            save_nifti(root / name, scan.images[modality], scan.affine)
            row[modality] = name
        row["label"] = f"{scan.scan_id}/{scan.scan_id}_label.nii.gz"
        save_nifti(root / row["label"], scan.labels, scan.affine)
        rows.append(row)
    pd.DataFrame(rows, columns=["scan_id", "subject_id", *modalities, "label"]).to_csv(
        root / "manifest.tsv", sep="\t", index=False
    )
    return [row["scan_id"] for row in rows]
