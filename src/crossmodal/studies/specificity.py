"""The specificity sweep: Table I's accuracies against how much the modalities of a synthetic
dataset have in common (config ``sweeps.specificity``).

The knob is ``synthetic.kappa`` (:mod:`crossmodal.data.synthesize.sharing`): 1 the same image up to
noise, 0 each modality its own physics (the embedded default), -1 little in common. For each
kappa of the sweep a *derived dataset* ``{ds}_kappa{p|m}{round(100 |kappa|):03d}`` (``p`` for
kappa >= 0, ``m`` below) is the dataset ``ds`` with only ``kappa`` changed (same seed, so the
same subjects, anatomy, noise draws and folds) and goes through the ordinary pipeline stages,
the difficulty table included; one fold of the four dropout x per-feature-normalization networks
at the sweep's alphas and of ``baseline-all`` is trained from every seed (network ids
``crossmodal.common.model_ids.seeded_id``) and evaluated with the Table I forests. Rule ``specificity``
collects ``results/sweeps/specificity_{ds}.tsv``: one row per kappa, network and seed with the
same- and cross-modality accuracy of that fold and the derived dataset's mean cross-modal
predictability R^2 (``crossmodal.studies.difficulty``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id, split_seed
from crossmodal.evaluation.evaluate import read_accuracy
from crossmodal.reporting.cell import same_cross_means

KNOB = "kappa"
SWEEP_COLUMNS = [
    "dataset", "knob", "value", "derived_dataset", "model", "seed", "kind", "modality_dropout",
    "per_feature_norm", "alpha", "fold", "same_accuracy", "cross_accuracy", "predictability_r2",
]  # fmt: skip


def derived_name(dataset: str, kappa: float) -> str:
    """``{dataset}_kappa{p|m}{round(100 |kappa|):03d}``, e.g. ``synthetic_brats_kappam050``."""
    kappa = float(kappa)
    return f"{dataset}_kappa{'m' if kappa < 0 else 'p'}{round(100 * abs(kappa)):03d}"


def sweep_datasets(datasets: dict[str, dict], sweep: dict) -> dict[str, tuple[str, float, dict]]:
    """The derived datasets of the specificity sweep.

    Args:
        datasets: the validated ``datasets`` config block.
        sweep: the validated ``sweeps.specificity`` block (``datasets``: names, or None for every
            synthetic dataset; ``kappa``: values in [-1, 1]).

    Returns:
        ``{derived name: (base dataset, kappa, derived config block)}`` in sweep order.

    Raises:
        InputError: a swept dataset is unknown or not synthetic, two kappa values give one name,
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
                "the generator's synthetic.kappa. List synthetic datasets only, or set it to null "
                "(every synthetic dataset) or [] (no sweep)"
            )
        for kappa in sweep[KNOB]:
            name = derived_name(ds, kappa)
            if name in datasets or name in derived:
                raise InputError(
                    f"config sweeps.specificity: the derived dataset {name!r} (kappa = {kappa}) "
                    "clashes with a configured dataset or another kappa; use distinct kappa values "
                    "(two decimals) and rename the dataset"
                )
            block = copy.deepcopy(datasets[ds])
            block["synthetic"][KNOB] = float(kappa)
            derived[name] = (ds, float(kappa), block)
    return derived


def mean_cross_r2(difficulty_path: str | Path) -> float:
    """Mean predictability R^2 over the cross-modality pairs of a difficulty table."""
    # imported here: crossmodal.studies.difficulty imports torch (through gather), and the Snakefile
    # imports this module to build the DAG
    from crossmodal.studies.difficulty import read_difficulty

    table = read_difficulty(difficulty_path)
    cross = table[table["train_modality"] != table["test_modality"]]
    return float(cross["predictability_r2"].mean())


def sweep_row(path: str | Path, value: float, r2: float, dataset: str, modalities: list[str]) -> dict:
    """One row of the sweep table from one network's accuracy table (see :func:`collect_specificity`)."""
    table = read_accuracy([path])
    model, seed = split_seed(str(table["model"].iloc[0]))
    spec = parse_model_id(model, list(modalities))
    axial = spec.kind == "axial"
    same, cross = same_cross_means(table)
    return {
        "dataset": dataset, "knob": KNOB, "value": float(value), "derived_dataset": str(table["dataset"].iloc[0]),
        "model": model, "seed": seed, "kind": spec.kind,
        "modality_dropout": int(spec.modality_dropout) if axial else pd.NA,
        "per_feature_norm": int(spec.per_feature_norm) if axial else pd.NA,
        "alpha": float(spec.alpha) if axial else pd.NA,
        "fold": int(table["fold"].iloc[0]), "same_accuracy": same, "cross_accuracy": cross, "predictability_r2": r2,
    }  # fmt: skip


def collect_specificity(
    accuracy_paths: list[str | Path],
    values: list[float],
    difficulty_paths: list[str | Path],
    difficulty_values: list[float],
    *,
    dataset: str,
    modalities: list[str],
    output_path: str | Path,
) -> pd.DataFrame:
    """One row per kappa, network and seed: same- and cross-modality accuracy of the sweep's fold.

    Args:
        accuracy_paths: ``results/{derived}/accuracy/{model}/fold{k}.tsv``, any order (the
            network id may carry a seed suffix, ``crossmodal.common.model_ids.seeded_id``).
        values: the kappa of each accuracy path (same order).
        difficulty_paths: ``results/{derived}/difficulty.tsv``, one per kappa.
        difficulty_values: the kappa of each difficulty table (same order).
        dataset: the base dataset's key.
        modalities: its modalities.
        output_path: ``results/sweeps/specificity_{ds}.tsv``.

    Returns:
        The table written (``SWEEP_COLUMNS``), sorted by network, kappa (descending: from
        shared to specific) and seed.

    Raises:
        InputError: the lists differ in length, a kappa has no difficulty table, or a table is
            malformed.
    """
    if len(accuracy_paths) != len(values) or not accuracy_paths:
        raise InputError(f"specificity sweep of {dataset}: {len(accuracy_paths)} tables for {len(values)} kappa values")
    if len(difficulty_paths) != len(difficulty_values):
        raise InputError(f"specificity sweep of {dataset}: {len(difficulty_paths)} difficulty tables for {len(difficulty_values)} kappa values")
    r2 = {float(v): mean_cross_r2(p) for p, v in zip(difficulty_paths, difficulty_values)}
    missing = sorted({float(v) for v in values} - set(r2))
    if missing:
        raise InputError(f"specificity sweep of {dataset}: no difficulty table for kappa {missing}")
    rows = [sweep_row(path, value, r2[float(value)], dataset, modalities) for path, value in zip(accuracy_paths, values)]
    out = pd.DataFrame(rows, columns=SWEEP_COLUMNS).sort_values(
        ["model", "value", "seed"], ascending=[True, False, True], kind="stable"
    )
    with atomic_path(output_path) as tmp:
        out.to_csv(tmp, sep="\t", index=False)
    return out.reset_index(drop=True)


def read_specificity(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`collect_specificity`."""
    return pd.read_csv(
        path, sep="\t", dtype={"dataset": str, "knob": str, "derived_dataset": str, "model": str, "kind": str}
    )


def seed_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over seeds per network and kappa (SD 0 for one seed).

    Returns:
        Columns ``model, kind, modality_dropout, per_feature_norm, alpha, value, n_seeds`` and
        ``{same,cross}_accuracy_{mean,sd}``, ``predictability_r2``.
    """
    keys = ["model", "value"]
    grouped = table.groupby(keys, sort=False)
    out = grouped.agg(
        n_seeds=("seed", "nunique"),
        same_accuracy_mean=("same_accuracy", "mean"), same_accuracy_sd=("same_accuracy", "std"),
        cross_accuracy_mean=("cross_accuracy", "mean"), cross_accuracy_sd=("cross_accuracy", "std"),
        predictability_r2=("predictability_r2", "first"),
    ).reset_index()  # fmt: skip
    out[["same_accuracy_sd", "cross_accuracy_sd"]] = out[["same_accuracy_sd", "cross_accuracy_sd"]].fillna(0.0)
    first = grouped[["kind", "modality_dropout", "per_feature_norm", "alpha"]].first().reset_index()
    return first.merge(out, on=keys)
