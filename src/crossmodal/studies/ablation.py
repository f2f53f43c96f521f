"""The ablation (config ``ablation``): which reading of the method, or which data size, moves the
alpha = 0 row of Table I and the alpha > 0 networks toward the paper, and why.

For each ablated dataset ``ds`` a *derived dataset* per factor level goes through the ordinary
pipeline stages (as the specificity sweep's, :mod:`crossmodal.studies.specificity`):

* ``{ds}_abl_default``: ``ds`` itself, trained for ``ablation.updates`` SGD updates
  (``training.updates``; null: ``ds``'s own training length): the reference every level is one
  change away from;
* one per method level (``ablation.method``: a partial ``method`` block applied alone, e.g.
  ``{bn_momentum: 0.01}`` gives ``{ds}_abl_bn_momentum_0p01``);
* one per data size (``ablation.patches_per_class``: multiples of ``patches_per_class`` on the
  same scans, ``{ds}_abl_patches_x4``; ``ablation.subjects``: multiples of
  ``synthetic.n_subjects`` for synthetic datasets, ``{ds}_abl_subjects_x2``).

Every derived dataset keeps the base's seed, so its data are the same (size levels add patches
or subjects); its name is part of every network's seed key, so each level's networks start from
their own random draws, and ``ablation.seeds`` seeds per network measure that spread. The
networks (:func:`ablation_models`) are the four modality-dropout x per-feature-normalization
networks at alpha = 0, the plain and the dropout + normalization networks at each
``ablation.alpha`` (where the similarity term alone made the plain network transfer, unlike the
paper) and ``baseline-all``, fold ``ablation.fold``. A method level trains only the networks it
changes (:func:`crossmodal.training.method.network_method`); the others are the default level's
networks, and their rows say so (``derived_dataset`` is ``{ds}_abl_default``).

Rule ``ablation`` collects ``results/ablation/{ds}.tsv`` (:data:`ABLATION_COLUMNS`), one row per
level, network and seed: its accuracies with the paper's Table I value beside them, and the
spread of its features across samples (:mod:`crossmodal.evaluation.feature_sd`), the mechanism
the paper gives for the similarity term's failure alone (Sec. V-B, Fig. 6).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import axial_model_id, format_alpha, parse_model_id, seeded_id, split_seed, variant_ids
from crossmodal.evaluation.evaluate import read_accuracy
from crossmodal.evaluation.feature_sd import read_feature_sd
from crossmodal.reporting.cell import same_cross_means
from crossmodal.reporting.paper_table import load_paper_table
from crossmodal.training.method import network_method
from crossmodal.training.schedule import Schedule

#: the paper's dataset a synthetic kind stands in for, where the config names none (``paper``)
PAPER_OF_KIND = {"knee": "oai", "brats": "brats"}
DEFAULT_LEVEL = "default"

ABLATION_COLUMNS = [
    "dataset", "factor", "level", "derived_dataset", "model", "seed", "fold", "updates",
    "same_accuracy", "cross_accuracy", "paper_same_accuracy", "paper_cross_accuracy",
    "feature_sd_median", "low_sd_share",
]  # fmt: skip


def ablation_models(alphas: list[float]) -> list[str]:
    """The networks of every level, in table order.

    Args:
        alphas: config ``ablation.alpha``.

    Returns:
        The four dropout x per-feature-normalization networks at alpha = 0 (Table I's alpha = 0
        row), the plain and the dropout + normalization network at each of ``alphas``, then
        ``baseline-all``.
    """
    at_alpha = [axial_model_id(md, md, alpha) for alpha in alphas for md in (0, 1)]
    return list(dict.fromkeys(variant_ids([0.0])[:-1] + at_alpha)) + ["baseline-all"]


class Level(NamedTuple):
    """One derived dataset of the ablation.

    Attributes:
        base: the ablated dataset.
        factor: ``default``, a method key (the first of the level's block), ``patches_per_class``
            or ``subjects``.
        level: its text, e.g. ``0.01``, ``independent (dropout_p=0.25)``, ``x4``.
        block: the derived dataset's config block.
    """

    base: str
    factor: str
    level: str
    block: dict


def _slug(value: object) -> str:
    """``0.01 -> "0p01"``, ``"per_batch" -> "per_batch"``, ``True -> "true"``: a name part."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace(".", "p").replace("-", "m").replace("+", "")


def _method_level(override: dict) -> tuple[str, str, str]:
    """``(factor, level, name suffix)`` of one method level (a partial ``method`` block)."""
    keys = list(override)
    factor = keys[0]
    level = str(override[factor])
    if len(keys) > 1:
        level += " (" + ", ".join(f"{k}={override[k]}" for k in keys[1:]) + ")"
    suffix = "_".join(f"{k}_{_slug(override[k])}" for k in keys)
    return factor, level, suffix


def ablation_datasets(datasets: dict[str, dict], ablation: dict) -> dict[str, Level]:
    """The derived datasets of the ablation.

    Args:
        datasets: the validated ``datasets`` config block (configured datasets only).
        ablation: the validated ``ablation`` block.

    Returns:
        ``{derived name: Level}``, per dataset the default level first, then the method levels,
        the patch and the subject multiples (config order).

    Raises:
        InputError: an ablated dataset is unknown, or a derived name is taken (a configured
            dataset, or two levels that name the same change). The levels' keys and values are
            the schema's to check (``ablation.method``).
    """
    names = ablation["datasets"] if ablation["datasets"] is not None else list(datasets)
    derived: dict[str, Level] = {}

    def add(name: str, level: Level) -> None:
        if name in datasets or name in derived:
            raise InputError(
                f"config ablation: the derived dataset {name!r} ({level.factor} = {level.level}) "
                "clashes with a configured dataset or another level; list each change once"
            )
        derived[name] = level

    for ds in names:
        if ds not in datasets:
            raise InputError(f"config ablation.datasets: {ds!r} is not a configured dataset")
        default = copy.deepcopy(datasets[ds])
        if ablation["updates"] is not None:
            default["training"] = {**default.get("training", {}), "updates": int(ablation["updates"])}
        add(f"{ds}_abl_{DEFAULT_LEVEL}", Level(ds, DEFAULT_LEVEL, DEFAULT_LEVEL, default))
        for override in ablation["method"]:
            block = copy.deepcopy(default)
            block["method"] = {**default.get("method", {}), **override}
            factor, level, suffix = _method_level(override)
            add(f"{ds}_abl_{suffix}", Level(ds, factor, level, block))
        for k in ablation["patches_per_class"]:
            block = copy.deepcopy(default)
            block["patches_per_class"] = int(default["patches_per_class"]) * int(k)
            add(f"{ds}_abl_patches_x{k}", Level(ds, "patches_per_class", f"x{k}", block))
        if "synthetic" in default:
            for k in ablation["subjects"]:
                block = copy.deepcopy(default)
                block["synthetic"]["n_subjects"] = int(default["synthetic"]["n_subjects"]) * int(k)
                add(f"{ds}_abl_subjects_x{k}", Level(ds, "subjects", f"x{k}", block))
    return derived


def level_networks(derived: dict[str, Level], name: str, seeds: int, models: list[str]) -> list[tuple[str, str]]:
    """Where each network of level ``name`` is trained: ``[(derived dataset, seeded id)]``.

    A method level trains a network only where :func:`crossmodal.training.method.network_method` differs
    from the default level's; otherwise the default level's network stands in for it. Size
    levels change the data and train every network.

    Args:
        derived: :func:`ablation_datasets` output.
        name: a derived dataset of it.
        seeds: seeds per network (``ablation.seeds``).
        models: :func:`ablation_models`.

    Returns:
        One pair per network of ``models`` and seed, in that order.
    """
    level = derived[name]
    default_name = f"{level.base}_abl_{DEFAULT_LEVEL}"
    default = derived[default_name].block
    modalities = level.block["modalities"]
    data_same = {k: v for k, v in level.block.items() if k != "method"} == {
        k: v for k, v in default.items() if k != "method"
    }
    out = []
    for model in models:
        changed = not data_same or network_method(level.block.get("method"), model, modalities) != network_method(
            default.get("method"), model, modalities
        )
        out += [(name if changed else default_name, seeded_id(model, s)) for s in range(int(seeds))]
    return out


def paper_values(paper_key: str | None, models: list[str]) -> dict[tuple[str, str], float]:
    """The paper's Table I cells of the ablation's networks: ``{(model, setting): percent}``.

    Args:
        paper_key: ``oai``, ``brats`` or None (no values).
        models: :func:`ablation_models`; NaN for a network the paper has no cell of (an alpha
            outside its grid).
    """
    if paper_key is None:
        return {}
    table = load_paper_table()
    table = table[table["dataset"] == paper_key]
    out = {}
    for model in models:
        spec = parse_model_id(model, [])
        if spec.kind == "axial":
            rows = table[(table["model"] == "axial") & (table["modality_dropout"] == int(spec.modality_dropout))
                         & (table["per_feature_norm"] == int(spec.per_feature_norm))
                         & (table["alpha"] == format_alpha(spec.alpha))]  # fmt: skip
        else:
            rows = table[table["model"] == "baseline_all"]
        for setting in ("same", "cross"):
            value = rows.loc[rows["setting"] == setting, "accuracy_percent"]
            out[(model, setting)] = float(value.iloc[0]) if len(value) else float("nan")
    return out


def trained_updates(train_patches: int, model_id: str, modalities: list[str], training: dict) -> int:
    """The SGD updates a network of the ablation was trained for (whole epochs, as rule ``train``).

    Args:
        train_patches: N, the fold's training patches (the network's feature_sd table).
        model_id: network id.
        modalities: the dataset's modalities.
        training: the derived datasets' ``batch_size``, ``epochs`` and ``updates`` (null: epochs).

    Returns:
        epochs x updates per epoch.
    """
    spec = parse_model_id(model_id, list(modalities))
    return Schedule.of(spec, int(train_patches), modalities, int(training["batch_size"]), training["epochs"],
                       training["updates"]).updates  # fmt: skip


def collect_ablation(
    accuracy_paths: list[str | Path],
    feature_sd_paths: list[str | Path],
    levels: list[dict],
    *,
    dataset: str,
    modalities: list[str],
    models: list[str],
    paper: str | None,
    training: dict,
    output_path: str | Path,
) -> pd.DataFrame:
    """One row per level, network and seed: accuracies and feature spread of the fold.

    Args:
        accuracy_paths: ``results/{derived}/accuracy/{model}/fold{k}.tsv`` per row (or the
            archive's).
        feature_sd_paths: the matching ``results/{derived}/feature_sd/{model}/fold{k}.tsv``.
        levels: per row ``{"factor": ..., "level": ...}`` (same order).
        dataset: the ablated dataset's key.
        modalities: its modalities.
        models: :func:`ablation_models` (the paper's values are looked up for these).
        paper: its paper key (``oai``/``brats``) or None.
        training: the training length of the derived datasets (:func:`trained_updates`).
        output_path: ``results/ablation/{ds}.tsv``.

    Returns:
        The table written (:data:`ABLATION_COLUMNS`), in input order. ``feature_sd_median`` and
        ``low_sd_share`` are the feature_sd table's, averaged over modalities.

    Raises:
        InputError: the lists differ in length, a table is malformed, or a feature_sd table is
            of another network than its accuracy table.
    """
    if not accuracy_paths or not len(accuracy_paths) == len(feature_sd_paths) == len(levels):
        raise InputError(
            f"ablation of {dataset}: {len(accuracy_paths)} accuracy tables, {len(feature_sd_paths)} "
            f"feature_sd tables and {len(levels)} levels; they must match one to one"
        )
    published = paper_values(paper, models)
    rows = []
    for path, sd_path, level in zip(accuracy_paths, feature_sd_paths, levels):
        table = read_accuracy([path])
        spread = read_feature_sd(sd_path)
        model = str(table["model"].iloc[0])
        derived = str(table["dataset"].iloc[0])
        if set(spread["model"]) != {model} or set(spread["dataset"]) != {derived}:
            raise InputError(
                f"ablation of {dataset}: {sd_path} is not of {derived}/{model} as {path} is; "
                "the inputs are out of order"
            )
        base, seed = split_seed(model)
        same, cross = same_cross_means(table)
        rows.append({
            "dataset": dataset, "factor": level["factor"], "level": level["level"],
            "derived_dataset": derived, "model": base, "seed": seed,
            "fold": int(table["fold"].iloc[0]),
            "updates": trained_updates(spread["train_patches"].iloc[0], model, modalities, training),
            "same_accuracy": same, "cross_accuracy": cross,
            "paper_same_accuracy": published.get((base, "same"), float("nan")),
            "paper_cross_accuracy": published.get((base, "cross"), float("nan")),
            "feature_sd_median": float(spread["sd_median"].mean()),
            "low_sd_share": float(spread["low_sd_share"].mean()),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=ABLATION_COLUMNS)
    with atomic_path(output_path) as tmp:
        out.to_csv(tmp, sep="\t", index=False)
    return out


def read_ablation(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`collect_ablation`."""
    return pd.read_csv(
        path, sep="\t", dtype={"dataset": str, "factor": str, "level": str, "derived_dataset": str, "model": str}
    )


def paper_key(block: dict) -> str | None:
    """The paper experiment a dataset stands for: its ``paper`` key, else its synthetic kind's."""
    if block.get("paper"):
        return block["paper"]
    return PAPER_OF_KIND.get(block.get("synthetic", {}).get("kind"))
