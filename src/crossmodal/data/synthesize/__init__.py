"""Embedded synthetic datasets: generate a seeded multi-modal dataset on disk (rule ``synthesize``).

Two tissue models (``kind``): ``knee`` (modalities ``normal``, ``fatsup``; two sessions per
subject; procedural anatomy; raw labels 1 femoral cartilage, 2 tibial cartilage, 3 meniscus) and
``brats`` (``t1``, ``t1c``, ``t2``, ``flair``; one scan per subject; the ICBM 2009a anatomy that
nilearn ships; raw labels 1 necrotic/non-enhancing core, 2 edema, 4 enhancing). Contrast comes
from MR signal equations with literature tissue parameters (``mr_physics``, ``parameters``),
partial volume from tissue fractions, and what the modalities do not share from
``acquisition`` (texture mixed by ``rho``, bias, 2-D slices, noise), and the knob ``kappa`` of
``sharing`` (how much the modalities have in common). The scans are written as
NIfTI in a real dataset layout, so the ordinary ingest stage reads them: the generic manifest
(both kinds) or BraTS 2018-2021 (``brats`` only). The same config gives byte-identical files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from threadpoolctl import threadpool_limits  # a scikit-learn dependency

from crossmodal.common.errors import InputError
from crossmodal.data.synthesize import brats, knee, mr_physics, parameters
from crossmodal.data.synthesize.scan import SyntheticScan
from crossmodal.data.synthesize.write_brats2018 import write_brats2018
from crossmodal.data.synthesize.write_generic import write_generic

log = logging.getLogger(__name__)

MODALITIES = {"knee": knee.MODALITIES, "brats": brats.MODALITIES}
WRITERS = {
    "knee": {"generic": write_generic},
    "brats": {"brats2018": write_brats2018, "generic": write_generic},
}
# the keys of a `synthetic` block the generator reads (their defaults: the config schema)
KEYS = ("kind", "seed", "n_subjects", "sessions_per_subject", "shape", "spacing", "noise", "bias", "rho", "kappa")
# Tissues whose texture correlation between the kind's sequences sets the default rho: the
# brain parenchyma, and the knee tissues that are classified.
TEXTURE_TISSUES = {
    "knee": [parameters.KNEE_TISSUES[t] for t in ("femoral_cartilage", "meniscus")],
    "brats": [parameters.BRAIN_TISSUES[t] for t in ("gm", "wm")],
}
PROTOCOLS = {"knee": parameters.KNEE_PROTOCOL, "brats": parameters.BRAIN_PROTOCOL}


def physical_rho(kind: str) -> float:
    """The default ``rho`` of a kind: the texture correlation its signal equations give.

    If a tissue's proton density, T1 and T2 vary locally and independently (relative SDs
    ``parameters.MICROSTRUCTURE_SD``), two sequences see textures that correlate by the cosine
    of their scaled sensitivity vectors (``mr_physics.texture_correlation``). This is its mean
    over the kind's sequence pairs and ``TEXTURE_TISSUES``.
    """
    return mr_physics.mean_texture_correlation(TEXTURE_TISSUES[kind], PROTOCOLS[kind], parameters.MICROSTRUCTURE_SD)


def synthetic_settings(synthetic_cfg: dict) -> dict:
    """The ``synthetic`` config block as the generator reads it: shape and spacing as tuples, rho resolved.

    Args:
        synthetic_cfg: the block validated against the config schema, which checks it and fills
            every default (the workflow's config is; elsewhere use
            :func:`crossmodal.common.config_checks.validated_block`).

    Raises:
        InputError: a key is missing (the block was not validated against the schema).
    """
    missing = [key for key in KEYS if key not in synthetic_cfg]
    if missing:
        raise InputError(
            f"config synthetic has no key(s) {missing}; validate the block against "
            "workflow/schemas/config.schema.yaml (it fills the defaults)"
        )
    cfg = dict(synthetic_cfg)
    cfg["shape"] = tuple(int(n) for n in cfg["shape"])
    cfg["spacing"] = tuple(float(v) for v in cfg["spacing"])
    cfg["rho"] = physical_rho(cfg["kind"]) if cfg["rho"] is None else float(cfg["rho"])
    cfg["kappa"] = float(cfg["kappa"])
    return cfg


def generate_scans(cfg: dict) -> Iterator[SyntheticScan]:
    """The scans of a synthetic dataset, one at a time (``cfg`` from :func:`synthetic_settings`)."""
    shape, spacing = cfg["shape"], cfg["spacing"]
    if cfg["kind"] == "knee":
        affine = knee.sagittal_affine(shape, spacing)
        for subject in range(cfg["n_subjects"]):
            for session in range(cfg["sessions_per_subject"]):
                images, labels, _ = knee.knee_scan(
                    cfg["seed"], subject, session, shape, spacing, cfg["noise"], cfg["bias"], cfg["rho"], cfg["kappa"]
                )
                subject_id = f"knee{subject + 1:03d}"
                yield SyntheticScan(f"{subject_id}_v{session:02d}", subject_id, images, labels, affine)
    else:
        affine = brats.brats_affine(shape, spacing)
        for subject in range(cfg["n_subjects"]):
            images, labels, _ = brats.brats_scan(
                cfg["seed"], subject, shape, spacing, cfg["noise"], cfg["bias"], cfg["rho"], cfg["kappa"]
            )
            scan_id = f"SynBraTS_{subject + 1:03d}"
            yield SyntheticScan(scan_id, scan_id, images, labels, affine)


def synthesize(out_dir: str | Path, synthetic_cfg: dict, layout: str, modalities: list[str]) -> list[str]:
    """Generate a synthetic dataset into ``out_dir`` in the given layout.

    Every modality of the tissue model is written (a real dataset has them all); ``modalities``
    (the dataset's config list) must be among them. The directory appears atomically: it is
    built under a temporary name next to ``out_dir`` and renamed when complete.

    Args:
        out_dir: output directory, e.g. ``results/synthetic_knee/raw``; must not exist or be
            empty.
        synthetic_cfg: the dataset's ``synthetic`` config block (``kind``, ``seed``,
            ``n_subjects``, ``sessions_per_subject`` (knee only), ``shape``, ``spacing`` (mm),
            ``noise``, ``bias``, ``rho``, ``kappa``), validated against the schema (defaults filled).
        layout: ``generic`` (knee, brats) or ``brats2018`` (brats).
        modalities: the dataset's modalities.

    Returns:
        The scan ids written.

    Raises:
        InputError: a missing key, a layout the kind cannot be written in, a modality the
            kind does not produce, or a non-empty ``out_dir``.
    """
    cfg = synthetic_settings(synthetic_cfg)
    kind = cfg["kind"]
    if layout not in WRITERS[kind]:
        raise InputError(
            f"config layout = {layout!r}: the synthetic {kind!r} data can be written in the "
            f"{sorted(WRITERS[kind])} layout(s) only"
        )
    unknown = [m for m in modalities if m not in MODALITIES[kind]]
    if unknown:
        raise InputError(
            f"config modalities: {unknown} not produced by the synthetic {kind!r} model; "
            f"choose from {list(MODALITIES[kind])}"
        )
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir}: exists and is not an empty directory; remove it first")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        # The fields' small matrix products gain nothing from BLAS threads (measured: more CPU
        # time with them, not less).
        with threadpool_limits(limits=1, user_api="blas"):
            ids = WRITERS[kind][layout](tmp, generate_scans(cfg), list(MODALITIES[kind]))
        os.chmod(tmp, 0o755)  # mkdtemp creates 0700
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    log.info(
        "synthetic %s: %d scans of shape %s at %s mm, rho %.3f, kappa %.2f, in the %s layout in %s (%.1f s)",
        kind, len(ids), cfg["shape"], cfg["spacing"], cfg["rho"], cfg["kappa"], layout, out_dir, time.perf_counter() - started,
    )  # fmt: skip
    return ids
