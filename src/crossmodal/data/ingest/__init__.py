"""Ingest (rule ``ingest``): find a dataset's scans in its layout, validate them, write the manifest.

Layouts (config ``layout``): ``generic`` (a manifest TSV; OAI and anything else), ``msd``
(Medical Segmentation Decathlon Task01_BrainTumour), ``brats2015`` (``.mha``), ``brats2018``
(BraTS 2018-2021) and ``brats2023``. Every scan is read completely and checked (see
:mod:`crossmodal.data.ingest.validate`); the manifest is written, atomically, only when all pass.

Output ``manifest.tsv`` (docs/architecture.md): ``scan_id``, ``subject_id``, per modality
``image_<m>`` (absolute path) and ``channel_<m>`` (``-1`` for a 3-D file), ``label``, ``mask``
(absolute path for mask rule ``file``, else ``rule:<rule>``), ``shape`` (``X,Y,Z``) and
``spacing`` (``sx,sy,sz`` mm).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.dataset_checks import check_mask_rule, check_subject_count
from crossmodal.common.errors import InputError
from crossmodal.data.ingest import brats2015, brats2018, brats2023, generic, msd
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.ingest.validate import ScanSummary, check_unique, validate_scan
from crossmodal.data.io import check_readable
from crossmodal.data.sample_patches import PatchBudget

log = logging.getLogger(__name__)

LAYOUTS = {
    "generic": generic.find_scans,
    "msd": msd.find_scans,
    "brats2015": brats2015.find_scans,
    "brats2018": brats2018.find_scans,
    "brats2023": brats2023.find_scans,
}


def find_scans(root: str | Path, dataset_cfg: dict, dataset_name: str) -> list[ScanRecord]:
    """The scans of a dataset as its layout lists them (nothing read yet, repeats removed).

    Args:
        root: data directory.
        dataset_cfg: the dataset's config block (``layout``, ``modalities``, ``mask``, ...).
        dataset_name: dataset key, for messages.

    Raises:
        InputError: root missing, unknown layout, the mask rule ``file`` outside the generic
            layout, a layout problem (see the layout modules), no scans, or conflicting repeats.
    """
    root = Path(root)
    layout = dataset_cfg["layout"]
    key = f"datasets.{dataset_name}"
    if layout not in LAYOUTS:
        raise InputError(f"config {key}.layout = {layout!r}: choose one of {sorted(LAYOUTS)}")
    if not root.is_dir():
        problem = "is a file, not a directory" if root.exists() else "not found"
        raise InputError(f"dataset {dataset_name!r}: data directory {root} {problem}; set config {key}.root")
    check_mask_rule(dataset_cfg["mask"]["rule"], layout, key)
    records = LAYOUTS[layout](root, list(dataset_cfg["modalities"]), dataset_cfg, dataset_name)
    if not records:
        raise InputError(f"dataset {dataset_name!r}: no scans found in {root} (layout {layout!r})")
    return check_unique(records, dataset_name)


def manifest_row(record: ScanRecord, summary: ScanSummary, dataset_cfg: dict) -> dict:
    """One manifest row (column order of docs/architecture.md)."""
    row = {"scan_id": record.scan_id, "subject_id": record.subject_id}
    for modality in dataset_cfg["modalities"]:
        path, channel = record.images[modality]
        row[f"image_{modality}"] = path
        row[f"channel_{modality}"] = channel
    rule = dataset_cfg["mask"]["rule"]
    row["label"] = record.label
    row["mask"] = record.mask if rule == "file" else f"rule:{rule}"
    row["shape"] = ",".join(str(n) for n in summary.shape)
    row["spacing"] = ",".join(f"{s:.6g}" for s in summary.spacing)
    return row


def scan_listing(root: str | Path, dataset_cfg: dict, dataset_name: str, n_folds: int) -> str:
    """What can be checked of a real dataset before any job, and a digest of its scan files.

    The workflow calls this while it builds the job graph (a dry run included): it lists the
    scans as the layout finds them (nothing is opened), checks that there are subjects enough
    for ``n_folds`` folds (:func:`crossmodal.common.dataset_checks.check_subject_count`) and that every file
    can be read (:func:`crossmodal.data.io.check_readable`: one ``stat`` and one ``access`` call
    per file). The digest covers each file's path, size and modification time in
    nanoseconds; as a param of rule ``ingest`` it reruns ingest when a scan is added, removed
    or replaced, even by a copy with an older modification time (``cp -p``, ``rsync -a``).

    Args:
        root: data directory.
        dataset_cfg: the dataset's config block (``layout``, ``modalities``, ``mask``,
            ``manifest``).
        dataset_name: dataset key, for messages.
        n_folds: the dataset's ``folds``.

    Returns:
        ``"<n> files, sha256 <hex>"``.

    Raises:
        InputError: as :func:`find_scans`; too few subjects for the folds; a file that is
            missing or cannot be read, named with its scan and the operating system's reason.
    """
    records = find_scans(root, dataset_cfg, dataset_name)
    check_subject_count(len({r.subject_id for r in records}), n_folds, dataset_name)
    files = {}
    if dataset_cfg["layout"] == "generic":
        files[os.path.abspath(Path(root) / dataset_cfg["manifest"])] = f"dataset {dataset_name!r}: manifest"
    for record in records:
        where = f"dataset {dataset_name!r}, scan {record.scan_id!r}"
        for modality, (path, _) in record.images.items():
            files.setdefault(path, f"{where}, modality {modality!r}")
        files.setdefault(record.label, f"{where}, label")
        if record.mask:
            files.setdefault(record.mask, f"{where}, mask")
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            status = check_readable(path)
        except InputError as error:
            raise InputError(f"{files[path]}: {error}") from None
        digest.update(f"{path}\t{status.st_size}\t{status.st_mtime_ns}\n".encode())
    return f"{len(files)} files, sha256 {digest.hexdigest()}"


def ingest(
    root: str | Path,
    dataset_cfg: dict,
    manifest_out: str | Path,
    dataset_name: str,
    threads: int = 1,
    budget: PatchBudget | None = None,
) -> pd.DataFrame:
    """Find, fully validate and list the scans of a dataset.

    Args:
        root: data directory (for synthetic datasets ``results/{ds}/raw``).
        dataset_cfg: the dataset's validated config block (``layout``, ``manifest``,
            ``modalities``, ``classes``, ``mask``, ``affine_tolerance``).
        manifest_out: output ``manifest.tsv``; written only when every scan passes.
        dataset_name: dataset key, for messages.
        threads: scans validated in parallel (reading is mostly decompression, which releases
            the GIL).
        budget: the dataset's patch sampling keys; when given, a scan with a class that
            sampling could not draw is refused here (see
            :func:`crossmodal.data.ingest.validate.validate_scan`).

    Returns:
        The manifest table as written.

    Raises:
        InputError: the first problem found (see :func:`find_scans` and
            :func:`crossmodal.data.ingest.validate.validate_scan`); nothing is written.
    """
    started = time.perf_counter()
    records = find_scans(root, dataset_cfg, dataset_name)
    log.info("dataset %s: %d scans listed in %s; validating", dataset_name, len(records), root)

    def check(record: ScanRecord) -> ScanSummary:
        return validate_scan(record, dataset_cfg, dataset_name, budget)

    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            summaries = list(pool.map(check, records))
    else:
        summaries = [check(r) for r in records]
    table = pd.DataFrame([manifest_row(r, s, dataset_cfg) for r, s in zip(records, summaries)])
    totals = [sum(s.class_voxels[i] for s in summaries) for i in range(len(dataset_cfg["classes"]))]
    log.info(
        "dataset %s: %d scans of %d subjects valid; voxels per class %s",
        dataset_name, len(table), table["subject_id"].nunique(),
        dict(zip([c["name"] for c in dataset_cfg["classes"]], totals)),
    )  # fmt: skip
    with atomic_path(manifest_out) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    log.info("wrote %s (%.1f s)", os.fspath(manifest_out), time.perf_counter() - started)
    return table
