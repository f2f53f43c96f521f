"""The method's open points as switches: config block ``datasets.{ds}.method`` (docs/method.md).

Each key is one reading of a sentence of the paper that its text leaves open. The schema's
``method`` block owns the keys' defaults and allowed values (the config is checked against it
before any job); :class:`MethodSettings` takes its defaults from there.

* ``dropout_mode``: which modalities feed the mean during training (Sec. II-B, Fig. 3):
  ``per_sample`` (a uniformly random non-empty subset per sample and use), ``per_batch`` (one
  such subset for the whole minibatch), ``independent`` (each modality dropped with probability
  ``dropout_p``, independently, never all), ``per_sample_count`` (the number of modalities
  uniform in 1..M, then a uniformly random subset of that size, per sample).
* ``dropout_p``: the drop probability of ``independent``.
* ``bn_momentum``, ``bn_eps``: every batch normalization's running-average momentum (PyTorch's
  convention: ``running = (1 - momentum) running + momentum batch``; Keras' default 0.99 is
  0.01 here) and epsilon (PyTorch 1e-5, Keras 1e-3).
* ``encode_bn_stats``: the batch-normalization statistics used when encoding: ``running`` (the
  running averages of training) or ``set`` (each modality's statistics over the encoded set).
* ``global_norm``: the "global" normalization of networks without per-feature normalization
  (Sec. II-C): ``vector`` (each feature vector across its features), ``batch`` (one mean and SD
  over the batch and all features, running averages for encoding), ``none``, or
  ``none_at_alpha0`` (none where alpha = 0, ``vector`` elsewhere).
* ``global_before_per_feature``: per-feature normalization applied after the global one (True)
  instead of in its place (False).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id
from crossmodal.common.schema import schema_defaults

#: the schema's defaults of the ``method`` block
_DEFAULTS = schema_defaults("method")


@dataclass(frozen=True)
class MethodSettings:
    """One reading of each open point; the defaults are the schema's.

    Values are not checked here: the schema's ``method`` block checks the config (and the
    ablation's levels) before any job; a caller outside the workflow checks a block with
    :func:`crossmodal.common.config_checks.validated_block` ``(block, "method")``.

    Attributes:
        dropout_mode: ``per_sample``, ``per_batch``, ``independent`` or ``per_sample_count``.
        dropout_p: drop probability of each modality in ``independent`` mode, in (0, 1).
        bn_momentum: running-average momentum of every batch normalization (PyTorch convention).
        bn_eps: epsilon of every batch normalization.
        encode_bn_stats: ``running`` or ``set``.
        global_norm: ``vector``, ``batch``, ``none`` or ``none_at_alpha0``.
        global_before_per_feature: keep the global normalization before the per-feature one.
    """

    dropout_mode: str = _DEFAULTS["dropout_mode"]
    dropout_p: float = _DEFAULTS["dropout_p"]
    bn_momentum: float = _DEFAULTS["bn_momentum"]
    bn_eps: float = _DEFAULTS["bn_eps"]
    encode_bn_stats: str = _DEFAULTS["encode_bn_stats"]
    global_norm: str = _DEFAULTS["global_norm"]
    global_before_per_feature: bool = _DEFAULTS["global_before_per_feature"]

    @classmethod
    def from_config(cls, block: dict | None) -> "MethodSettings":
        """Settings from a (partial) ``method`` block; missing keys take the schema's defaults.

        Raises:
            InputError: an unknown key (a block the schema did not check, e.g. of a weights file
                written by other code).
        """
        block = dict(block or {})
        unknown = sorted(set(block) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InputError(f"config method: unknown key(s) {unknown}; see workflow/schemas/config.schema.yaml")
        return cls(**block)

    def global_norm_for(self, alpha: float) -> str:
        """The global normalization of an axial network with similarity weight ``alpha``.

        Args:
            alpha: the network's similarity weight.

        Returns:
            ``vector``, ``batch`` or ``none`` (``none_at_alpha0`` resolved).
        """
        if self.global_norm == "none_at_alpha0":
            return "none" if float(alpha) == 0.0 else "vector"
        return self.global_norm


DEFAULT = MethodSettings()


def network_method(block: dict | None, model_id: str, modalities: list[str]) -> dict:
    """The method keys that change network ``model_id`` and differ from the defaults.

    What a training's params hold of the ``method`` block, so that a switch reruns exactly the
    networks it changes: the dropout keys only networks with modality dropout (``dropout_p``
    only in ``independent`` mode), the global normalization only axial networks that use one
    (without per-feature normalization, or with ``global_before_per_feature``; resolved at the
    network's alpha, so ``none_at_alpha0`` changes only alpha = 0 networks),
    ``global_before_per_feature`` only networks with per-feature normalization, and the batch
    normalization keys every network.

    Args:
        block: the dataset's ``method`` block (None or partial: the defaults).
        model_id: network id (a seed suffix allowed).
        modalities: the dataset's modalities.

    Returns:
        ``{key: value}``, keys sorted; empty when the network is the default one. ``global_norm`` holds
        the resolved reading (``none_at_alpha0`` becomes ``none`` or is left out).

    Raises:
        InputError: an unknown key or a bad model id.
    """
    settings = MethodSettings.from_config(block)
    spec = parse_model_id(model_id, list(modalities))
    used = {"bn_momentum": settings.bn_momentum, "bn_eps": settings.bn_eps,
            "encode_bn_stats": settings.encode_bn_stats}  # fmt: skip
    if spec.kind == "axial":
        if spec.modality_dropout:
            used["dropout_mode"] = settings.dropout_mode
            if settings.dropout_mode == "independent":
                used["dropout_p"] = settings.dropout_p
        if spec.per_feature_norm:
            used["global_before_per_feature"] = settings.global_before_per_feature
        if not spec.per_feature_norm or settings.global_before_per_feature:
            used["global_norm"] = settings.global_norm_for(spec.alpha)
    return {key: used[key] for key in sorted(used) if used[key] != getattr(DEFAULT, key)}

