"""BraTS 2015 layout (MetaImage ``.mha``, read with SimpleITK).

``root/{HGG,LGG}/<patient>/VSD.Brain.XX.O.MR_{Flair,T1,T1c,T2}.<n>/VSD.Brain.XX.O.MR_*.<n>.mha``
and the label ``<patient>/VSD.Brain_<k>more.XX.O.OT.<n>/VSD.Brain_<k>more.XX.O.OT.<n>.mha``
(0 background, 1 necrosis, 2 edema, 3 non-enhancing, 4 enhancing tumour). Patient folders
directly in ``root`` are read too. Scan id = subject id = patient folder name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from crossmodal.common.errors import InputError
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import check_modalities, describe_files

LAYOUT = "brats2015"
SEQUENCES = {"flair": "Flair", "t1": "T1", "t1c": "T1c", "t2": "T2"}
_MODALITY_RE = re.compile(r"^VSD\.Brain\.XX\.O\.MR_(?P<seq>[A-Za-z0-9]+)\.\d+$")
_LABEL_RE = re.compile(r"^VSD\.Brain_\d*more\.XX\.O\.OT\.\d+$")
GROUP_FOLDERS = ("HGG", "LGG")


def _patient_folders(root: Path) -> list[Path]:
    groups = [root / g for g in GROUP_FOLDERS if (root / g).is_dir()]
    parents = groups or [root]
    return [
        p for parent in parents for p in sorted(parent.iterdir())
        if p.is_dir() and not p.name.startswith((".", "__"))
    ]  # fmt: skip


def _mha_in(folder: Path, what: str, patient: str) -> str:
    # not is_dir() rather than is_file(): a broken link is reported with its OS error later
    files = [p for p in folder.iterdir() if not p.is_dir() and p.suffix.lower() == ".mha" and not p.name.startswith(".")]
    if len(files) != 1:
        raise InputError(
            f"brats2015 scan {patient!r}: expected one .mha file for the {what} in {folder}, "
            f"found {describe_files(files)}"
        )
    return os.path.abspath(files[0])


def find_scans(root: Path, modalities: list[str], dataset_cfg: dict, dataset: str) -> list[ScanRecord]:
    """One record per patient folder.

    Raises:
        InputError: an unknown modality, or a patient folder without exactly one folder (and
            ``.mha`` file) per configured modality and for the label.
    """
    check_modalities(LAYOUT, {m: f"VSD.Brain.XX.O.MR_{s}.*" for m, s in SEQUENCES.items()}, modalities, dataset)
    by_sequence = {s.lower(): m for m, s in SEQUENCES.items()}
    records = []
    for patient_dir in _patient_folders(root):
        patient = patient_dir.name
        found: dict[str, list[Path]] = {}
        labels = []
        for sub in sorted(p for p in patient_dir.iterdir() if p.is_dir()):
            match = _MODALITY_RE.match(sub.name)
            if match and match["seq"].lower() in by_sequence:
                found.setdefault(by_sequence[match["seq"].lower()], []).append(sub)
            elif _LABEL_RE.match(sub.name):
                labels.append(sub)
        example = f"{patient_dir}/VSD.Brain.XX.O.MR_T1.<n>/VSD.Brain.XX.O.MR_T1.<n>.mha"
        for modality in modalities:
            if len(found.get(modality, [])) != 1:
                raise InputError(
                    f"brats2015 scan {patient!r}: expected one folder "
                    f"VSD.Brain.XX.O.MR_{SEQUENCES[modality]}.<n> in {patient_dir} for modality "
                    f"{modality!r}, found {len(found.get(modality, []))} (folders there: "
                    f"{describe_files([p for p in patient_dir.iterdir() if p.is_dir()])}; layout "
                    f"example {example})"
                )
        if len(labels) != 1:
            raise InputError(
                f"brats2015 scan {patient!r}: expected one label folder "
                f"VSD.Brain_<k>more.XX.O.OT.<n> in {patient_dir}, found {len(labels)} (test data "
                f"has no labels and cannot be used)"
            )
        images = {m: (_mha_in(found[m][0], f"modality {m!r}", patient), -1) for m in modalities}
        label = _mha_in(labels[0], "label", patient)
        records.append(ScanRecord(patient, patient, images, label, source=str(patient_dir)))
    return records
