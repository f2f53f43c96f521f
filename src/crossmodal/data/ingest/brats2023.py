"""BraTS 2023 layout: ``root/<id>/<id>-{t1n,t1c,t2w,t2f,seg}.nii.gz``.

Modalities: t1n -> ``t1``, t1c -> ``t1c``, t2w -> ``t2``, t2f -> ``flair``. Raw labels (glioma):
1 necrotic core, 2 edema, 3 enhancing tumour.
"""

from __future__ import annotations

from pathlib import Path

from crossmodal.data.ingest.case_folders import find_case_scans
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import check_modalities

LAYOUT = "brats2023"
SUFFIXES = {"t1": "t1n", "t1c": "t1c", "t2": "t2w", "flair": "t2f"}


def find_scans(root: Path, modalities: list[str], dataset_cfg: dict, dataset: str) -> list[ScanRecord]:
    """One record per case folder (scan id = subject id = folder name).

    Raises:
        InputError: an unknown modality, a stray folder, or a missing file.
    """
    check_modalities(LAYOUT, {m: f"<id>-{s}.nii.gz" for m, s in SUFFIXES.items()}, modalities, dataset)
    return find_case_scans(root, modalities, SUFFIXES, "seg", "-", LAYOUT)
