"""Modality dropout (Sec. II-B): which modalities feed the mean representation, per sample."""

from __future__ import annotations

import numpy as np


def sample_present(rng: np.random.Generator, batch_size: int, n_modalities: int, dropout: bool) -> np.ndarray:
    """Draw the modalities present for each sample of a batch.

    With dropout every sample independently gets one of the ``2**M - 1`` non-empty subsets of
    the M modalities, uniformly: subset code ``c`` drawn from ``1 .. 2**M - 1`` and modality m
    present when bit m of ``c`` is set. Without dropout every modality is present and ``rng`` is
    not used.

    Args:
        rng: the generator to draw from (advanced by one ``integers`` call with dropout).
        batch_size: B.
        n_modalities: M.
        dropout: apply modality dropout.

    Returns:
        bool ``[B, M]``, at least one True per row.
    """
    if not dropout:
        return np.ones((batch_size, n_modalities), dtype=bool)
    codes = rng.integers(1, 2**n_modalities, size=batch_size)
    return ((codes[:, None] >> np.arange(n_modalities)) & 1).astype(bool)
