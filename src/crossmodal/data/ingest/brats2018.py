"""BraTS 2018-2021 layout: ``root/<id>/<id>_{t1,t1ce,t2,flair,seg}.nii.gz``.

BraTS 2018-2019 training data put the case folders in ``HGG`` and ``LGG``; both forms are read.
Raw labels: 1 necrotic / non-enhancing core, 2 edema, 4 enhancing tumour.
"""

from __future__ import annotations

from pathlib import Path

from crossmodal.data.ingest.case_folders import find_case_scans
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import check_modalities

LAYOUT = "brats2018"
SUFFIXES = {"t1": "t1", "t1c": "t1ce", "t2": "t2", "flair": "flair"}


def find_scans(root: Path, modalities: list[str], dataset_cfg: dict, dataset: str) -> list[ScanRecord]:
    """One record per case folder (scan id = subject id = folder name).

    Raises:
        InputError: an unknown modality, a stray folder, or a missing file.
    """
    check_modalities(LAYOUT, {m: f"<id>_{s}.nii.gz" for m, s in SUFFIXES.items()}, modalities, dataset)
    return find_case_scans(root, modalities, SUFFIXES, "seg", "_", LAYOUT)
