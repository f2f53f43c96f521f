"""Write scans in the BraTS 2018-2021 layout: ``<root>/<id>/<id>_{t1,t1ce,t2,flair,seg}.nii.gz``."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from crossmodal.data.synthesize.nifti import save_nifti
from crossmodal.data.synthesize.scan import SyntheticScan

# Pipeline modality name -> file name suffix of the BraTS 2018-2021 releases.
SUFFIXES = {"t1": "t1", "t1c": "t1ce", "t2": "t2", "flair": "flair"}


def write_brats2018(root: str | Path, scans: Iterable[SyntheticScan], modalities: list[str]) -> list[str]:
    """Write ``scans`` under ``root`` with BraTS 2018-2021 file names.

    Args:
        root: output directory (created).
        scans: the scans (modalities among ``t1``, ``t1c``, ``t2``, ``flair``).
        modalities: the modalities to write.

    Returns:
        The scan ids written.
    """
    root = Path(root)
    ids = []
    for scan in scans:
        folder = root / scan.scan_id
        folder.mkdir(parents=True, exist_ok=True)
        for modality in modalities:
            save_nifti(folder / f"{scan.scan_id}_{SUFFIXES[modality]}.nii.gz", scan.images[modality], scan.affine)
        save_nifti(folder / f"{scan.scan_id}_seg.nii.gz", scan.labels, scan.affine)
        ids.append(scan.scan_id)
    return ids
