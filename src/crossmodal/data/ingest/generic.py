"""Generic manifest layout (OAI and any other data): a TSV that lists the scans.

``<root>/<manifest>`` (config ``manifest``, default ``manifest.tsv``), tab-separated, one row
per scan, columns:

* ``scan_id``: unique scan id (letters, digits, ``.``, ``_``, ``-``);
* ``subject_id``: the subject (all scans of a subject stay in one fold);
* one column per configured modality, named by the modality, holding the image path;
* ``label``: label image path;
* ``mask``: mask image path (required when ``mask.rule`` is ``file``, otherwise ignored);
* optional ``channel_<modality>``: channel index when that modality is a channel of a 4-D file.

Paths are relative to the manifest's folder (or absolute). Other columns are ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crossmodal.common.errors import InputError
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import check_scan_id
from crossmodal.data.io import check_readable

LAYOUT = "generic"


def read_manifest_table(path: Path, dataset: str) -> pd.DataFrame:
    """The manifest as strings (ids such as ``007`` stay text).

    Raises:
        InputError: the manifest is missing, cannot be read (the operating system's reason)
            or is not a readable TSV.
    """
    if not os.path.lexists(path):
        raise InputError(
            f"dataset {dataset!r}: manifest {path} not found; the generic layout needs a "
            f"tab-separated file with columns scan_id, subject_id, one per modality, label "
            f"(see datasets.{dataset}.root and .manifest)"
        )
    try:
        check_readable(path)
    except InputError as error:
        raise InputError(f"dataset {dataset!r}: manifest {error}") from None
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"dataset {dataset!r}: manifest {path} is not a readable TSV: {error}") from error


def find_scans(root: Path, modalities: list[str], dataset_cfg: dict, dataset: str) -> list[ScanRecord]:
    """One record per manifest row.

    Args:
        root: data directory.
        modalities: configured modalities (manifest columns).
        dataset_cfg: the dataset's config (``manifest``, ``mask.rule``).
        dataset: dataset key.

    Returns:
        Records in manifest order (repeats are resolved later by ``check_unique``).

    Raises:
        InputError: a missing column, an empty cell, a bad scan id or channel.
    """
    path = root / dataset_cfg["manifest"]
    table = read_manifest_table(path, dataset)
    use_mask = dataset_cfg["mask"]["rule"] == "file"
    required = ["scan_id", "subject_id", *modalities, "label"] + (["mask"] if use_mask else [])
    missing = [c for c in required if c not in table.columns]
    if missing:
        hint = " (is it tab-separated?)" if len(table.columns) == 1 else ""
        raise InputError(
            f"dataset {dataset!r}: manifest {path} lacks column(s) {missing}; it has "
            f"{list(table.columns)}{hint}. Needed: scan_id, subject_id, one column per modality "
            f"{modalities}, label" + (", mask (mask rule 'file')" if use_mask else "")
        )
    base = path.parent
    records = []
    for index, row in table.iterrows():
        where = f"dataset {dataset!r}: manifest {path} line {index + 2}"
        for column in required:
            if not row[column].strip():
                raise InputError(f"{where}: column {column!r} is empty")
        scan_id = row["scan_id"].strip()
        check_scan_id(scan_id, where)
        images = {}
        for modality in modalities:
            channel_text = row.get(f"channel_{modality}", "").strip() or "-1"
            try:
                channel = int(channel_text)
            except ValueError:
                raise InputError(f"{where}: channel_{modality} = {channel_text!r} is not an integer") from None
            images[modality] = (os.path.abspath(base / Path(row[modality].strip()).expanduser()), channel)
        records.append(
            ScanRecord(
                scan_id=scan_id,
                subject_id=row["subject_id"].strip(),
                images=images,
                label=os.path.abspath(base / Path(row["label"].strip()).expanduser()),
                mask=os.path.abspath(base / Path(row["mask"].strip()).expanduser()) if use_mask else None,
                source=f"{path} line {index + 2}",
            )
        )
    return records
