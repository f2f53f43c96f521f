"""Modality dropout (Sec. II-B): which modalities feed the mean representation, per sample.

The mode is config ``method.dropout_mode`` (:mod:`crossmodal.training.method`, docs/method.md); every
mode gives each sample at least one modality.
"""

from __future__ import annotations

import numpy as np

from crossmodal.common.errors import InputError
from crossmodal.training.method import DEFAULT as DEFAULT_METHOD


def _bits(codes: np.ndarray, n_modalities: int) -> np.ndarray:
    """Subset codes ``[B]`` (bit m set: modality m present) as bool ``[B, M]``."""
    return ((codes[:, None] >> np.arange(n_modalities)) & 1).astype(bool)


def independent_weights(n_modalities: int, p: float) -> np.ndarray:
    """Probabilities of the subset codes ``1 .. 2**M - 1`` when each modality is dropped
    independently with probability ``p`` and the empty subset is redrawn.

    Args:
        n_modalities: M.
        p: drop probability of each modality, in (0, 1).

    Returns:
        float ``[2**M - 1]``, summing to 1: code c has weight ``p**dropped * (1-p)**kept``.
    """
    codes = np.arange(1, 2**n_modalities)
    kept = _bits(codes, n_modalities).sum(axis=1)
    weights = (1 - p) ** kept * p ** (n_modalities - kept)
    return weights / weights.sum()


def sample_present(
    rng: np.random.Generator,
    batch_size: int,
    n_modalities: int,
    dropout: bool,
    mode: str = DEFAULT_METHOD.dropout_mode,
    p: float = DEFAULT_METHOD.dropout_p,
) -> np.ndarray:
    """Draw the modalities present for each sample of a batch.

    Modes (``method.dropout_mode``):

    * ``per_sample``: every sample independently gets one of the ``2**M - 1`` non-empty subsets
      of the M modalities, uniformly: subset code ``c`` drawn from ``1 .. 2**M - 1`` and modality
      m present when bit m of ``c`` is set (one ``integers`` call of size B);
    * ``per_batch``: one such subset for the whole batch (one ``integers`` call);
    * ``independent``: each modality dropped independently with probability ``p``, an empty
      subset redrawn: drawn exactly from that distribution (:func:`independent_weights`, one
      ``choice`` call of size B);
    * ``per_sample_count``: the number k of modalities uniform in ``1 .. M``, then a uniformly
      random subset of size k, per sample (one ``integers`` and one ``random`` call).

    Without dropout every modality is present and ``rng`` is not used.

    Args:
        rng: the generator to draw from.
        batch_size: B.
        n_modalities: M.
        dropout: apply modality dropout.
        mode: the schema's ``method.dropout_mode`` values (above).
        p: drop probability of ``independent``.

    Returns:
        bool ``[B, M]``, at least one True per row.

    Raises:
        InputError: an unknown mode.
    """
    if not dropout:
        return np.ones((batch_size, n_modalities), dtype=bool)
    if mode == "per_sample":
        return _bits(rng.integers(1, 2**n_modalities, size=batch_size), n_modalities)
    if mode == "per_batch":
        return np.repeat(_bits(rng.integers(1, 2**n_modalities, size=1), n_modalities), batch_size, axis=0)
    if mode == "independent":
        codes = rng.choice(np.arange(1, 2**n_modalities), size=batch_size, p=independent_weights(n_modalities, p))
        return _bits(codes, n_modalities)
    if mode == "per_sample_count":
        counts = rng.integers(1, n_modalities + 1, size=batch_size)
        ranks = np.argsort(np.argsort(rng.random((batch_size, n_modalities)), axis=1), axis=1)
        return ranks < counts[:, None]
    raise InputError(f"config method.dropout_mode = {mode!r}: unknown modality-dropout mode")
