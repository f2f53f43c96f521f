"""The specificity sweep: Table I's cross-modality accuracy against the share of texture that the
modalities of a synthetic dataset have in common (config ``sweeps.specificity``).

The synthetic generator mixes each modality's texture from a field shared by all modalities and
one of its own, with the knob ``synthetic.rho`` (1: fully shared; 0: every modality its own
texture; see :mod:`crossmodal.synthesize`). For each rho of the sweep a *derived dataset*
``{ds}_rho{100 rho:03d}`` is the dataset ``ds`` with only ``rho`` changed (same seed, so the same
subjects, anatomy, noise draws and folds) and goes through the ordinary pipeline stages; one
fold of the four dropout x per-feature-normalization networks at the sweep's alphas and of
``baseline-all`` is trained and evaluated with the Table I forests. Rule ``specificity``
collects ``results/sweeps/specificity_{ds}.tsv``: one row per rho and network with the same-
and cross-modality accuracy of that fold.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd

from crossmodal.atomic import atomic_path
from crossmodal.cell import same_cross_means
from crossmodal.errors import InputError
from crossmodal.evaluate import read_accuracy
from crossmodal.model_ids import parse_model_id

SWEEP_COLUMNS = [
    "dataset", "rho", "derived_dataset", "model", "kind", "modality_dropout", "per_feature_norm",
    "alpha", "fold", "same_accuracy", "cross_accuracy",
]  # fmt: skip


def derived_name(dataset: str, rho: float) -> str:
    """``{dataset}_rho{round(100 rho):03d}``, e.g. ``synthetic_brats_rho075``."""
    return f"{dataset}_rho{round(100 * float(rho)):03d}"


def sweep_datasets(datasets: dict[str, dict], sweep: dict) -> dict[str, tuple[str, float, dict]]:
    """The derived datasets of the specificity sweep.

    Args:
        datasets: the validated ``datasets`` config block.
        sweep: the validated ``sweeps.specificity`` block (``datasets``: names, or None for every
            synthetic dataset; ``rho``: values in [0, 1]).

    Returns:
        ``{derived name: (base dataset, rho, derived config block)}`` in sweep order.

    Raises:
        InputError: a swept dataset is unknown or not synthetic, two rho values give one name,
            or a derived name is a configured dataset.
    """
    names = sweep["datasets"] if sweep["datasets"] is not None else [
        ds for ds, block in datasets.items() if "synthetic" in block
    ]
    derived: dict[str, tuple[str, float, dict]] = {}
    for ds in names:
        if ds not in datasets:
            raise InputError(f"config sweeps.specificity.datasets: {ds!r} is not a configured dataset")
        if "synthetic" not in datasets[ds]:
            raise InputError(
                f"config sweeps.specificity.datasets: {ds!r} is not synthetic; the sweep changes "
                "the generator's synthetic.rho. List synthetic datasets only, or set it to null "
                "(every synthetic dataset) or [] (no sweep)"
            )
        for rho in sweep["rho"]:
            name = derived_name(ds, rho)
            if name in datasets or name in derived:
                raise InputError(
                    f"config sweeps.specificity: the derived dataset {name!r} (rho = {rho}) "
                    "clashes with a configured dataset or another rho; use distinct rho values "
                    "(two decimals) and rename the dataset"
                )
            block = copy.deepcopy(datasets[ds])
            block["synthetic"]["rho"] = float(rho)
            derived[name] = (ds, float(rho), block)
    return derived


def collect_specificity(
    accuracy_paths: list[str | Path],
    rhos: list[float],
    *,
    dataset: str,
    modalities: list[str],
    output_path: str | Path,
) -> pd.DataFrame:
    """One row per rho and network: same- and cross-modality accuracy of the sweep's fold.

    Args:
        accuracy_paths: ``results/{derived}/accuracy/{model}/fold{k}.tsv``, any order.
        rhos: the rho of each path (same order).
        dataset: the base dataset's key.
        modalities: its modalities.
        output_path: ``results/sweeps/specificity_{ds}.tsv``.

    Returns:
        The table written (``SWEEP_COLUMNS``), sorted by network and rho.

    Raises:
        InputError: the lists differ in length or a table is malformed.
    """
    if len(accuracy_paths) != len(rhos) or not accuracy_paths:
        raise InputError(f"specificity sweep of {dataset}: {len(accuracy_paths)} tables for {len(rhos)} rho values")
    rows = []
    for path, rho in zip(accuracy_paths, rhos):
        table = read_accuracy([path])
        model = str(table["model"].iloc[0])
        spec = parse_model_id(model, list(modalities))
        axial = spec.kind == "axial"
        same, cross = same_cross_means(table)
        rows.append({
            "dataset": dataset, "rho": float(rho), "derived_dataset": str(table["dataset"].iloc[0]),
            "model": model, "kind": spec.kind,
            "modality_dropout": int(spec.modality_dropout) if axial else pd.NA,
            "per_feature_norm": int(spec.per_feature_norm) if axial else pd.NA,
            "alpha": float(spec.alpha) if axial else pd.NA,
            "fold": int(table["fold"].iloc[0]), "same_accuracy": same, "cross_accuracy": cross,
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=SWEEP_COLUMNS).sort_values(["model", "rho"], kind="stable")
    with atomic_path(output_path) as tmp:
        out.to_csv(tmp, sep="\t", index=False)
    return out.reset_index(drop=True)


def read_specificity(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`collect_specificity`."""
    return pd.read_csv(path, sep="\t", dtype={"dataset": str, "derived_dataset": str, "model": str, "kind": str})
