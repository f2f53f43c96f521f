"""Matching the figure rules' inputs to networks and folds.

The files themselves are read by their owner modules: features by :mod:`crossmodal.training.features`,
``folds.tsv`` by :func:`crossmodal.data.folds.read_folds`, the per-fold tables by the modules that
write them.
"""

from __future__ import annotations

from pathlib import Path

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id


def model_columns(model: str, modalities: list[str]) -> dict[str, float | int]:
    """The grid coordinates of an axial network id, as table columns.

    Returns:
        ``{"modality_dropout": 0|1, "per_feature_norm": 0|1, "alpha": float}``.

    Raises:
        InputError: ``model`` is not an axial network id (Figs. 6-8 show axial networks only).
    """
    try:
        spec = parse_model_id(model, modalities)
    except ValueError as error:
        raise InputError(f"figure models: {error}") from None
    if spec.kind != "axial":
        raise InputError(
            f"figure models: {model!r} is not an axial network; Figs. 6-8 compare the "
            "axial-md{0|1}-pfn{0|1}-a{alpha} networks of the grid"
        )
    return {
        "modality_dropout": int(spec.modality_dropout),
        "per_feature_norm": int(spec.per_feature_norm),
        "alpha": float(spec.alpha),
    }


def files_by_model(
    files: list[str], models: list[str], folds: list[int], suffix: str
) -> dict[str, dict[int, str]]:
    """Match the per-network files of a figure rule to its networks and folds.

    Args:
        files: ``.../{model}/fold{k}{suffix}`` for every model, then every fold (model-major
            order, as the rules list them): features (``results/{ds}/features/``, ``.npz``) or
            a per-fold table (``results/{ds}/feature_ncc/`` or the archive's, ``.tsv``).
        models: network ids.
        folds: fold indices.
        suffix: the files' suffix, ``".npz"`` or ``".tsv"``.

    Returns:
        ``{model: {fold: path}}``.

    Raises:
        InputError: the files do not follow that order and naming.
    """
    expected = [(m, k) for m in models for k in folds]
    if len(files) != len(expected):
        raise InputError(
            f"figure inputs: {len(files)} files for {len(models)} models x "
            f"{len(folds)} folds; the rule must list one file per model and fold"
        )
    result: dict[str, dict[int, str]] = {m: {} for m in models}
    for path, (model, fold) in zip(files, expected):
        p = Path(path)
        if p.parent.name != model or p.name != f"fold{fold}{suffix}":
            raise InputError(
                f"figure inputs: expected the file of {model} fold {fold} "
                f"(.../{model}/fold{fold}{suffix}), got {path}; list them model-major"
            )
        result[model][fold] = str(path)
    return result
