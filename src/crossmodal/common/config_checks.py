"""Start-up checks of the configuration, run by the Snakefile before any job.

The schema (workflow/schemas/config.schema.yaml) is the one home of keys, types, ranges and
defaults: :func:`check_schema` reports what it rejects in a few lines naming the key. Then
Snakemake's validation fills the defaults, and :func:`check_config` checks what a schema cannot
express: relations between keys, and that a real dataset's ``root`` is a directory.
"""

from __future__ import annotations

import copy
import difflib
import os
from pathlib import Path

from crossmodal.common.dataset_checks import check_mask_rule, check_subject_count
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import axial_model_ids, parse_model_id
from crossmodal.common.schema import SCHEMA_PATH, load_schema

SYNTHETIC_MODALITIES = {"knee": ["normal", "fatsup"], "brats": ["t1", "t1c", "t2", "flair"]}
#: longest excerpt of a schema message (jsonschema quotes whole offending values)
MESSAGE_CHARS = 300


def _key_path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def check_schema(config: dict, schema_path: str | Path) -> None:
    """Check a config against the JSON schema, with a short message naming the key at fault.

    Snakemake's own validation (which also fills the defaults) reports a problem with a dump of
    the whole schema; this runs first, so that a misspelled key, a wrong type or value is
    reported in a few lines. A key the schema does not know is reported with the key it
    probably meant (:func:`difflib.get_close_matches`), before any other problem: a misspelled
    required key also shows up as a missing one.

    Args:
        config: the config as loaded (defaults not yet filled).
        schema_path: ``workflow/schemas/config.schema.yaml``.

    Raises:
        InputError: ``config <dotted.key>: ...`` for the most relevant problem.
    """
    from jsonschema import Draft202012Validator  # a dependency of Snakemake, which runs this
    from jsonschema.exceptions import best_match

    schema = load_schema(schema_path)
    errors = list(Draft202012Validator(schema).iter_errors(config))
    if not errors:
        return
    for error in errors:
        known = error.schema.get("properties", {}) if error.validator == "additionalProperties" else None
        if known is None or not isinstance(error.instance, dict):
            continue
        unknown = [key for key in error.instance if key not in known]
        if not unknown:
            continue
        where = _key_path(error.absolute_path)
        close = difflib.get_close_matches(str(unknown[0]), list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"config {where}: unknown key {unknown[0]!r}{hint}\n"
            f"  keys allowed in {where}: {', '.join(sorted(known))}"
        )
    error = best_match(errors)
    message = error.message
    if error.validator == "not":  # jsonschema says "10 should not be valid under {...}"
        message = f"{error.instance!r} is not allowed: {error.schema.get('description', 'a reserved value')}"
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS] + " ..."
    raise InputError(
        f"config {_key_path(error.absolute_path)}: {message}\n"
        f"  (every key, its type and default: {Path(schema_path).name})"
    )


def validated_block(block: dict, definition: str, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """A config block checked against ``definitions.<definition>`` of the schema, defaults filled.

    The workflow's config is validated whole at start-up (Snakemake fills the defaults there);
    this gives a library caller outside the workflow (a test, a script) the same block, so that
    a default lives in the schema only. Defaults are filled as Snakemake fills them: a
    ``default`` of a property, also one under ``then`` when its ``if`` holds.

    Args:
        block: e.g. ``{"kind": "knee", "seed": 3}``; not changed.
        definition: a key of the schema's ``definitions``, e.g. ``"synthetic"``.
        schema_path: ``workflow/schemas/config.schema.yaml``.

    Returns:
        A copy of ``block`` with every default filled in.

    Raises:
        InputError: ``config <definition>.<key>: ...`` for the most relevant problem.
    """
    from jsonschema import Draft202012Validator, validators  # a dependency of Snakemake
    from jsonschema.exceptions import best_match

    schema = load_schema(schema_path)
    properties = Draft202012Validator.VALIDATORS["properties"]

    def fill_defaults(validator, given, instance, subschema):
        if isinstance(instance, dict):
            for key, value in given.items():
                if "default" in value:
                    instance.setdefault(key, copy.deepcopy(value["default"]))
        yield from properties(validator, given, instance, subschema)

    filling = validators.extend(Draft202012Validator, {"properties": fill_defaults})
    filled = copy.deepcopy(block)
    errors = list(filling({"definitions": schema["definitions"], **schema["definitions"][definition]}).iter_errors(filled))
    if errors:
        error = best_match(errors)
        raise InputError(f"config {_key_path([definition, *error.absolute_path])}: {error.message[:MESSAGE_CHARS]}")
    return filled


def check_root(root: str, layout: str, key: str) -> None:
    """A real dataset's ``root`` must be an existing directory (checked before any job).

    Args:
        root: the configured ``root``; a relative path is taken relative to the working
            directory (where Snakemake runs, or its ``--directory``).
        layout: the dataset's layout, for the message.
        key: ``datasets.<name>``.

    Raises:
        InputError: naming ``<key>.root``: empty (which would read the working directory), or
            the path does not exist or is not a directory.
    """
    if not root.strip():
        raise InputError(
            f"config {key}.root is empty; set it to the directory holding the {layout} data (a "
            f"relative path is taken relative to the directory Snakemake runs in)"
        )
    path = Path(root)
    seen_from = "" if path.is_absolute() else f" (relative to the working directory {os.getcwd()})"
    if not path.exists():
        raise InputError(
            f"config {key}.root = {root!r}: no such directory{seen_from}; set it to the "
            f"directory holding the {layout} data"
        )
    if not path.is_dir():
        manifest = f" ({key}.manifest names the manifest inside it)" if layout == "generic" else ""
        raise InputError(
            f"config {key}.root = {root!r} is a file, not a directory{seen_from}; set it to the "
            f"directory holding the {layout} data{manifest}"
        )


def _check_source(ds: dict, name: str) -> None:
    """A synthetic dataset's modalities and subjects, or a real dataset's ``root``."""
    key = f"datasets.{name}"
    if "synthetic" in ds:
        kind = ds["synthetic"]["kind"]
        unknown = sorted(set(ds["modalities"]) - set(SYNTHETIC_MODALITIES[kind]))
        if unknown:
            raise InputError(
                f"config {key}.modalities: {unknown} not produced by the synthetic {kind!r} "
                f"model; choose from {SYNTHETIC_MODALITIES[kind]}"
            )
        # a real dataset's subjects are counted when its scans are listed (scan_listing)
        check_subject_count(ds["synthetic"]["n_subjects"], ds["folds"], name)
    elif "root" not in ds:
        raise InputError(
            f"config {key}.root is missing: set it to the directory holding the "
            f"{ds['layout']} data (or add a `synthetic:` block to generate data)"
        )
    else:
        check_root(ds["root"], ds["layout"], key)


def run_folds(config: dict) -> list[int] | None:
    """The validated ``run_folds`` as a list of fold numbers, or ``None`` for every fold."""
    value = config["run_folds"]
    return [value] if isinstance(value, int) else value


def check_config(config: dict) -> None:
    """Check cross-key constraints of a schema-validated config.

    Also: the ``root`` of every real dataset is an existing directory (:func:`check_root`), and
    a synthetic dataset has subjects enough for its folds
    (:func:`crossmodal.common.dataset_checks.check_subject_count`).

    Raises:
        InputError: naming the first offending key, e.g. ``datasets.oai.root``.
    """
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        _check_source(ds, name)
        check_mask_rule(ds["mask"]["rule"], ds["layout"], key)
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
        beyond = [k for k in run_folds(config) or [] if k >= ds["folds"]]
        if beyond:
            raise InputError(
                f"config run_folds = {config['run_folds']} names fold {beyond[0]} but {key}.folds "
                f"= {ds['folds']}: folds are numbered from 0"
            )
        if config["figures"]["fold"] >= ds["folds"]:
            raise InputError(
                f"config figures.fold = {config['figures']['fold']} but {key}.folds = "
                f"{ds['folds']}: folds are numbered from 0"
            )
        ps = ds["patch_size"]
        shape = ds["synthetic"]["shape"] if "synthetic" in ds else None  # default by kind: the schema
        if shape is not None and any(s < ps for s in shape):
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
