"""Checks of the configuration that a JSON schema cannot express.

The schema (workflow/schemas/config.schema.yaml) checks keys, types, ranges and fills defaults;
this module checks relations between keys. Both run at workflow start-up, before any job.
"""

from __future__ import annotations

from crossmodal.errors import InputError
from crossmodal.model_ids import axial_model_ids, parse_model_id

SYNTHETIC_MODALITIES = {"knee": ["normal", "fatsup"], "brats": ["t1", "t1c", "t2", "flair"]}


def check_config(config: dict) -> None:
    """Check cross-key constraints of a schema-validated config.

    Raises:
        InputError: naming the first offending key, e.g. ``datasets.oai.root``.
    """
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        if "synthetic" in ds:
            kind = ds["synthetic"]["kind"]
            unknown = sorted(set(ds["modalities"]) - set(SYNTHETIC_MODALITIES[kind]))
            if unknown:
                raise InputError(
                    f"config {key}.modalities: {unknown} not produced by the synthetic {kind!r} "
                    f"model; choose from {SYNTHETIC_MODALITIES[kind]}"
                )
        elif "root" not in ds:
            raise InputError(
                f"config {key}.root is missing: set it to the directory holding the "
                f"{ds['layout']} data (or add a `synthetic:` block to generate data)"
            )
        if ds["mask"]["rule"] == "file" and ds["layout"] != "generic":
            raise InputError(
                f"config {key}.mask.rule 'file' needs a `mask` column, which only the generic "
                f"manifest layout has; use 'nonzero' for skull-stripped BraTS data"
            )
        seen: dict[int, str] = {}
        for cls in ds["classes"]:
            for value in cls["values"]:
                if value in seen:
                    raise InputError(
                        f"config {key}.classes: raw label {value} is mapped to both "
                        f"{seen[value]!r} and {cls['name']!r}"
                    )
                seen[value] = cls["name"]
        if 0 not in ds["classes"][0]["values"]:
            raise InputError(
                f"config {key}.classes: the first class ({ds['classes'][0]['name']!r}) is the "
                f"background and must contain raw label 0"
            )
        names = [c["name"] for c in ds["classes"]]
        if len(set(names)) != len(names):
            raise InputError(f"config {key}.classes: class names repeat: {names}")
        if config["figures"]["fold"] >= ds["folds"]:
            raise InputError(
                f"config figures.fold = {config['figures']['fold']} but {key}.folds = "
                f"{ds['folds']}: folds are numbered from 0"
            )
        ps = ds["patch_size"]
        if any(s < ps for s in ds.get("synthetic", {}).get("shape", [ps] * 3)):
            raise InputError(f"config {key}.synthetic.shape is smaller than patch_size {ps}")

    fig5 = config["figures"]["fig5_model"]
    try:
        spec = parse_model_id(fig5, [])
    except ValueError:
        spec = None
    if spec is None or spec.kind != "axial" or fig5 not in axial_model_ids(config["grid"]):
        raise InputError(
            f"config figures.fig5_model = {fig5!r} is not an axial network of the grid; "
            f"choose one of {axial_model_ids(config['grid'])}"
        )
    if config["figures"]["alpha"] not in config["grid"]["alpha"]:
        raise InputError(
            f"config figures.alpha = {config['figures']['alpha']} is not in grid.alpha "
            f"{config['grid']['alpha']}"
        )
    if set(config["grid"]["modality_dropout"]) != {0, 1} or set(
        config["grid"]["per_feature_norm"]
    ) != {0, 1}:
        raise InputError(
            "config grid.modality_dropout and grid.per_feature_norm must both be [0, 1]: Table I "
            "and Figs. 6-8 compare the four combinations (reduce grid.alpha to save time instead)"
        )
