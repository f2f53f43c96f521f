"""Checks of a dataset's settings made both before any job and by the stage that reads them.

The start-up checks (:mod:`crossmodal.common.config_checks`) run them on the config, the stages
(folds, ingest) on what they read, with the same message: one owner for each check. Kept
apart from the start-up checks, which read the schema, so that a data stage's job does not
load them.
"""

from __future__ import annotations

from crossmodal.common.errors import InputError


def check_subject_count(n_subjects: int, n_folds: int, name: str) -> None:
    """Are there subjects enough for ``n_folds`` folds of at least two subjects each?

    Every test fold is split into two subject-grouped halves (Fig. 8), so each fold needs two
    subjects. Run before any job (the subjects of a real dataset are known from its layout,
    those of a synthetic one from its config) and by
    :func:`crossmodal.data.folds.assign_folds`.

    Args:
        n_subjects: distinct subjects of the dataset.
        n_folds: K (config ``folds``).
        name: dataset key, for messages.

    Raises:
        InputError: naming ``datasets.<name>.folds``, the subject count and what would fit.
    """
    if n_subjects >= 2 * n_folds:
        return
    fits = f"set it to at most {n_subjects // 2} or add subjects" if n_subjects >= 4 else "add subjects (at least 4)"
    raise InputError(
        f"config datasets.{name}.folds = {n_folds}, but the dataset has {n_subjects} subjects: each "
        f"fold needs at least 2 (its two subject-grouped halves), so {n_folds} folds need "
        f"{2 * n_folds}; {fits}"
    )


def check_mask_rule(rule: str, layout: str, key: str) -> None:
    """Mask rule ``file`` reads the ``mask`` column of a generic manifest, which no other layout has.

    Args:
        rule: config ``mask.rule``.
        layout: config ``layout``.
        key: the dataset's config key, e.g. ``datasets.oai``, for the message.

    Raises:
        InputError: naming ``<key>.mask.rule`` and what to use instead.
    """
    if rule == "file" and layout != "generic":
        raise InputError(
            f"config {key}.mask.rule 'file' needs a `mask` column, which only the generic "
            f"manifest layout has; use 'nonzero' for skull-stripped BraTS data"
        )
