"""The training objective (Eq. 1-3): reconstruction plus weighted cross-modality similarity."""

from __future__ import annotations

from typing import NamedTuple

import torch

from crossmodal.training.network import NetOutput


class LossTerms(NamedTuple):
    """Scalar tensors of one batch.

    Attributes:
        total: ``(1 - alpha) * reconstruction + alpha * similarity`` (what is minimized).
        reconstruction: sum over modalities of the mean absolute reconstruction error.
        similarity: sum over the modalities present of mean |f^m(x^m) - f(x)|.
    """

    total: torch.Tensor
    reconstruction: torch.Tensor
    similarity: torch.Tensor


def combined_loss(x: torch.Tensor, out: NetOutput, alpha: float) -> LossTerms:
    """L = (1 - alpha) * sum_m mean|g^m(f(x)) - x^m| + alpha * sum_{m present} mean|f^m(x^m) - f(x)|.

    Means are taken over the voxels (reconstruction) or features (similarity) of a sample, the
    sums over modalities within a sample, then the mean over the batch. Every modality is
    reconstructed, also those dropped from the mean; the similarity term counts only the
    modalities present in that sample.

    Args:
        x: input patches ``[B, M, P, P, P]`` (the reconstruction target).
        out: the network's output for ``x``.
        alpha: weight of the similarity term, in [0, 1].

    Returns:
        :class:`LossTerms` (float32 scalars, also under bf16 autocast).
    """
    recon = (out.reconstruction.float() - x.float()).abs().flatten(2).mean(dim=2).sum(dim=1).mean()
    diff = (out.features.float() - out.representation.float()[:, None, :]).abs().mean(dim=2)
    sim = (diff * out.present.to(diff.dtype)).sum(dim=1).mean()
    return LossTerms((1.0 - alpha) * recon + alpha * sim, recon, sim)
