"""Shared reader of the BraTS 2018-2021 and 2023 layouts: one folder per case, files named
``<case><separator><suffix>.nii.gz`` (or ``.nii``), optionally grouped in ``HGG``/``LGG``."""

from __future__ import annotations

import os
from pathlib import Path

from crossmodal.common.errors import InputError
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import describe_files

GROUP_FOLDERS = ("HGG", "LGG")  # BraTS 2018-2019 split the training cases by grade


def _visible(path: Path) -> bool:
    """Not a hidden or macOS resource file (``._x``, ``.DS_Store``) nor ``__MACOSX``."""
    return not path.name.startswith((".", "__"))


def _is_case(folder: Path, separator: str) -> bool:
    prefix = folder.name + separator
    return any(p.name.startswith(prefix) for p in folder.iterdir() if p.is_file())


def case_folders(root: Path, separator: str, layout: str, example: str) -> list[Path]:
    """The case folders under ``root`` (or under ``root/HGG`` and ``root/LGG``), sorted by name.

    Raises:
        InputError: a folder that is neither a case nor a grade group, or no case at all.
    """
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _visible(p)):
        if _is_case(folder, separator):
            cases.append(folder)
        elif folder.name.upper() in GROUP_FOLDERS:
            cases += [p for p in sorted(folder.iterdir()) if p.is_dir() and _visible(p)]
        else:
            raise InputError(
                f"{folder}: not a {layout} case folder (expected files like {example}, found "
                f"{describe_files([p for p in folder.iterdir() if p.is_file()])}); check "
                f"datasets.<name>.root and .layout, or move the folder out of the data directory"
            )
    return cases


def find_case_scans(
    root: Path,
    modalities: list[str],
    suffixes: dict[str, str],
    label_suffix: str,
    separator: str,
    layout: str,
) -> list[ScanRecord]:
    """Scan records of a one-folder-per-case layout.

    Args:
        root: data directory.
        modalities: configured modalities (all keys of ``suffixes``).
        suffixes: modality -> file suffix (e.g. ``"t1c": "t1ce"``).
        label_suffix: suffix of the label file (``seg``).
        separator: between case id and suffix (``_`` or ``-``).
        layout: layout name, for messages.

    Returns:
        One record per case folder; subject id = scan id = folder name.

    Raises:
        InputError: a case folder lacking a configured modality or the label file.
    """
    example = f"<case>/<case>{separator}{suffixes[modalities[0]]}.nii.gz"
    records = []
    for folder in case_folders(root, separator, layout, example):
        case = folder.name
        if not _is_case(folder, separator):
            raise InputError(
                f"{folder}: not a {layout} case folder (expected files like {example}, found "
                f"{describe_files([p for p in folder.iterdir() if p.is_file()])})"
            )

        def find(suffix: str, what: str) -> str:
            for ext in (".nii.gz", ".nii"):
                path = folder / f"{case}{separator}{suffix}{ext}"
                # lexists: a link that cannot be followed is reported with the OS's reason
                # when the files are checked (crossmodal.data.io.check_readable), not as missing
                if os.path.lexists(path):
                    return os.path.abspath(path)
            raise InputError(
                f"{layout} case {case!r}: {what} file {case}{separator}{suffix}.nii.gz is missing "
                f"in {folder} (found {describe_files([p for p in folder.iterdir() if p.is_file()])})"
            )

        images = {m: (find(suffixes[m], f"modality {m!r}"), -1) for m in modalities}
        label = find(label_suffix, "label")
        records.append(ScanRecord(case, case, images, label, source=str(folder)))
    return records
