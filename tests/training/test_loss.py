"""The combined loss against a hand computation."""

import pytest
import torch

from crossmodal.training.loss import combined_loss
from crossmodal.training.network import NetOutput, masked_mean


def _example(absent_features=(9.0, 9.0, 9.0)):
    # B=2 samples, M=2 modalities, "patches" of 1x1x2 voxels, F=3; the targets x are zero.
    x = torch.zeros(2, 2, 1, 1, 2)
    recon = torch.tensor([[[1.0, -1.0], [2.0, 0.0]], [[0.5, 0.5], [0.0, -4.0]]]).reshape(2, 2, 1, 1, 2)
    # per-sample mean |error|: s0: 1 + 1 = 2; s1: 0.5 + 2 = 2.5 -> reconstruction = 2.25
    features = torch.tensor([[[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], [[0.0, 0.0, 6.0], list(absent_features)]])
    present = torch.tensor([[True, True], [True, False]])
    # s0: mean (2, 2, 2); |f - mean| averages 2/3 per modality -> 4/3. s1: only m0, its own mean -> 0
    return x, NetOutput(recon, masked_mean(features, present), features, present)


@pytest.mark.parametrize("alpha, total", [(0.0, 2.25), (0.1, 0.9 * 2.25 + 0.1 * 2 / 3), (1.0, 2 / 3)])
def test_loss_equals_hand_computation(alpha, total):
    x, out = _example()
    terms = combined_loss(x, out, alpha)
    assert terms.reconstruction.item() == pytest.approx(2.25, abs=1e-6)
    assert terms.similarity.item() == pytest.approx(2 / 3, abs=1e-6)
    assert terms.total.item() == pytest.approx(total, abs=1e-6)


def test_similarity_ignores_absent_modalities():
    x, out = _example(absent_features=(-50.0, 7.0, 1.0))
    assert combined_loss(x, out, 1.0).similarity.item() == pytest.approx(2 / 3, abs=1e-6)


def test_gradient_reaches_features_through_both_sides():
    x, out = _example()
    features = out.features.clone().requires_grad_(True)
    rep = masked_mean(features, out.present)
    combined_loss(x, out._replace(features=features, representation=rep), 1.0).total.backward()
    # d/df of |f0 - (f0+f1)/2| + |f1 - (f0+f1)/2| per feature, /3 features, /2 samples
    expected = torch.tensor([[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0]]) / 6
    torch.testing.assert_close(features.grad[0], expected)
    assert features.grad[1].abs().sum().item() == 0.0
