"""Medical Segmentation Decathlon Task01_BrainTumour layout.

``root/imagesTr/BRATS_001.nii.gz``: 4-D NIfTI ``[X, Y, Z, 4]`` with channels 0 FLAIR, 1 T1w,
2 T1gd, 3 T2w (-> modalities ``flair``, ``t1``, ``t1c``, ``t2``); ``root/labelsTr/BRATS_001.nii.gz``
with 1 edema, 2 non-enhancing tumour, 3 enhancing tumour. macOS resource files (``._*``) that
the official archive contains are skipped. When ``root/dataset.json`` is present, its
``modality`` table gives the channel order.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from crossmodal.common.errors import InputError
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import check_modalities, describe_files

log = logging.getLogger(__name__)

LAYOUT = "msd"
CHANNELS = {"flair": 0, "t1": 1, "t1c": 2, "t2": 3}
# dataset.json modality names (lower case) -> pipeline modality names
JSON_NAMES = {"flair": "flair", "t1w": "t1", "t1": "t1", "t1gd": "t1c", "t1c": "t1c", "t2w": "t2", "t2": "t2"}


def channel_map(root: Path) -> dict[str, int]:
    """Modality -> channel, from ``root/dataset.json`` when it names all four, else the default."""
    path = root / "dataset.json"
    if not path.is_file():
        return dict(CHANNELS)
    try:
        table = json.loads(path.read_text())["modality"]
        mapping = {JSON_NAMES[str(name).lower()]: int(index) for index, name in table.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("%s: no usable 'modality' table (%s); using channels %s", path, error, CHANNELS)
        return dict(CHANNELS)
    if sorted(mapping) != sorted(CHANNELS):
        log.warning("%s: modality table %s not understood; using channels %s", path, table, CHANNELS)
        return dict(CHANNELS)
    return mapping


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".nii.gz")] if name.endswith(".nii.gz") else name[: -len(".nii")]


def find_scans(root: Path, modalities: list[str], dataset_cfg: dict, dataset: str) -> list[ScanRecord]:
    """One record per ``imagesTr`` file (scan id = subject id = file stem).

    Raises:
        InputError: an unknown modality, no ``imagesTr`` folder, or a missing label file.
    """
    channels = channel_map(root)
    check_modalities(LAYOUT, {m: f"channel {c} of imagesTr/<id>.nii.gz" for m, c in channels.items()}, modalities, dataset)
    images_dir, labels_dir = root / "imagesTr", root / "labelsTr"
    if not images_dir.is_dir():
        raise InputError(
            f"dataset {dataset!r}: {images_dir} not found; the msd layout expects "
            f"<root>/imagesTr/BRATS_001.nii.gz and <root>/labelsTr/BRATS_001.nii.gz (root = the "
            f"Task01_BrainTumour folder; found {describe_files(list(root.iterdir()))})"
        )
    files = sorted(
        p for p in images_dir.iterdir()
        if not p.name.startswith(".") and p.name.endswith((".nii.gz", ".nii"))
    )  # fmt: skip
    records = []
    for path in files:
        scan = _stem(path)
        label = labels_dir / path.name
        if not os.path.lexists(label):
            raise InputError(
                f"msd scan {scan!r}: label file {label} is missing (the training labels are in "
                f"labelsTr with the image's file name)"
            )
        image = os.path.abspath(path)
        records.append(
            ScanRecord(scan, scan, {m: (image, channels[m]) for m in modalities}, os.path.abspath(label), source=str(path))
        )
    return records
