"""Model and Table I cell identifiers, and their parsing.

Network ids (one trained network per id and fold):

* ``axial-md{0|1}-pfn{0|1}-a{alpha}``: axial network with/without modality dropout (md), with/without
  per-feature normalization (pfn), similarity weight alpha (``str(float(alpha))``, e.g. ``0.1``).
* ``baseline-all``: one shared autoencoder trained on patches of all modalities mixed.
* ``baseline-{modality}``: one shared autoencoder trained on that modality only.

Cell ids (one row group of Table I): every axial id, ``baseline-all``, and ``baseline-single``,
which aggregates the ``baseline-{modality}`` networks (pair (s, t) uses the network trained on s).

Seeds: ``{network id}_seed{n}`` (n >= 1) is the same network trained from another seed; seed 0
is the bare id, so a configuration with one seed trains exactly the networks it always did. The
suffix is part of the id, so the seed key of every random stream (``crossmodal.common.seeds``) differs
per seed without another wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

from crossmodal.common.errors import InputError

AXIAL_PATTERN = r"axial-md[01]-pfn[01]-a[0-9]+\.[0-9]+"
_AXIAL_RE = re.compile(r"^axial-md(?P<md>[01])-pfn(?P<pfn>[01])-a(?P<alpha>[0-9]+\.[0-9]+)$")
SINGLE_BASELINE_CELL = "baseline-single"
# the optional seed suffix of a network id (seed 0 has none)
SEED_PATTERN = r"(?:_seed[1-9][0-9]*)?"
_SEED_RE = re.compile(r"^(?P<base>.+?)(?:_seed(?P<seed>[1-9][0-9]*))?$")


@dataclass(frozen=True)
class ModelSpec:
    """What a network id means.

    Attributes:
        kind: ``"axial"`` or ``"baseline"``.
        modality_dropout: axial only.
        per_feature_norm: axial only.
        alpha: weight of the similarity term (0 for baselines).
        train_modalities: baselines only: modalities whose patches train the shared network
            (``None`` for axial networks, which always see all modalities).
    """

    kind: str
    modality_dropout: bool = False
    per_feature_norm: bool = False
    alpha: float = 0.0
    train_modalities: tuple[str, ...] | None = None


def format_alpha(alpha: float) -> str:
    """Canonical text of alpha in ids: ``0 -> "0.0"``, ``0.1 -> "0.1"``."""
    return str(float(alpha))


def axial_model_id(modality_dropout: int, per_feature_norm: int, alpha: float) -> str:
    return f"axial-md{int(modality_dropout)}-pfn{int(per_feature_norm)}-a{format_alpha(alpha)}"


def axial_model_ids(grid: dict) -> list[str]:
    """All axial ids of a ``grid`` config block, in Table I order (md, pfn, alpha)."""
    return [
        axial_model_id(md, pfn, a)
        for md, pfn, a in product(
            sorted(grid["modality_dropout"]), sorted(grid["per_feature_norm"]), grid["alpha"]
        )
    ]


def variant_ids(alphas: list[float]) -> list[str]:
    """The four modality-dropout x per-feature-normalization networks at each alpha, then
    ``baseline-all``: the networks of the learning curves and of the specificity sweep."""
    return axial_model_ids({"modality_dropout": [0, 1], "per_feature_norm": [0, 1], "alpha": list(alphas)}) + [
        "baseline-all"
    ]


def curve_ids(alphas: list[float], combination_alphas: list[float]) -> list[str]:
    """The networks of the learning curves: the four modality-dropout x per-feature-normalization
    networks at each of ``alphas``, the network with both at each of ``combination_alphas`` (not
    repeated), then ``baseline-all``."""
    four = variant_ids(alphas)[:-1]
    combination = [axial_model_id(1, 1, a) for a in combination_alphas]
    return list(dict.fromkeys(four + combination)) + ["baseline-all"]


def network_ids(grid: dict, modalities: list[str]) -> list[str]:
    """Every network to train for one dataset."""
    return axial_model_ids(grid) + ["baseline-all"] + [f"baseline-{m}" for m in modalities]


def cell_ids(grid: dict) -> list[str]:
    """Every Table I cell group of one dataset."""
    return axial_model_ids(grid) + ["baseline-all", SINGLE_BASELINE_CELL]


def seeded_id(model_id: str, seed: int) -> str:
    """The id of network ``model_id`` trained from seed ``seed`` (seed 0: the id itself).

    >>> seeded_id("axial-md1-pfn1-a0.1", 2)
    'axial-md1-pfn1-a0.1_seed2'

    Raises:
        InputError: ``seed`` is negative or ``model_id`` already carries a seed.
    """
    if int(seed) < 0:
        raise InputError(f"seed {seed} of {model_id!r}: seeds are counted from 0")
    if split_seed(model_id)[1]:
        raise InputError(f"{model_id!r} already names a seed")
    return model_id if int(seed) == 0 else f"{model_id}_seed{int(seed)}"


def split_seed(model_id: str) -> tuple[str, int]:
    """``(network id without its seed suffix, seed)``: the inverse of :func:`seeded_id`."""
    match = _SEED_RE.match(model_id)
    return match["base"], int(match["seed"] or 0)


def parse_model_id(model_id: str, modalities: list[str]) -> ModelSpec:
    """Parse a network id (a seed suffix is allowed and does not change the network's kind).

    Raises:
        InputError: (a ``ValueError``) the id is not a network id for these modalities.
    """
    model_id = split_seed(model_id)[0]
    match = _AXIAL_RE.match(model_id)
    if match:
        return ModelSpec(
            kind="axial",
            modality_dropout=match["md"] == "1",
            per_feature_norm=match["pfn"] == "1",
            alpha=float(match["alpha"]),
        )
    if model_id == "baseline-all":
        return ModelSpec(kind="baseline", train_modalities=tuple(modalities))
    if model_id.startswith("baseline-") and model_id[len("baseline-") :] in modalities:
        return ModelSpec(kind="baseline", train_modalities=(model_id[len("baseline-") :],))
    raise InputError(
        f"unknown model id {model_id!r}: expected axial-md{{0|1}}-pfn{{0|1}}-a{{alpha}}, "
        f"baseline-all or baseline-{{modality}} with modality in {modalities}, "
        f"optionally followed by _seed{{n}}"
    )


def single_baseline_modality(model_id: str, modalities: list[str]) -> str | None:
    """``m`` for a ``baseline-{m}`` network (one modality's autoencoder), else ``None``.

    Raises:
        InputError: the id is not a network id for these modalities.
    """
    spec = parse_model_id(model_id, modalities)
    if spec.kind == "baseline" and split_seed(model_id)[0] != "baseline-all":
        return spec.train_modalities[0]
    return None


def cell_networks(cell_id: str, modalities: list[str]) -> list[str]:
    """Networks whose evaluations make up a Table I cell group."""
    if cell_id == SINGLE_BASELINE_CELL:
        return [f"baseline-{m}" for m in modalities]
    parse_model_id(cell_id, modalities)
    return [cell_id]
