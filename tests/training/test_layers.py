"""The fast layers compute what torch.nn computes: outputs and gradients on tiny seeded inputs."""

import pytest
import torch
from torch import nn

from crossmodal.training import layers
from crossmodal.training.layers import ConvTranspose3d, as_torch_nn, col2im_stride1
from crossmodal.training.network import AxialNet
from crossmodal.training.trainer import sgd_step
from crossmodal.training.precision import Compute


def test_col2im_stride1_adds_each_tap_at_its_offset():
    cols = torch.zeros(3, 3, 3, 1, 2, 2, 2)
    cols[0, 0, 0, 0, 0, 0, 0] = 1.0  # tap (0,0,0) of voxel (0,0,0) -> output (0,0,0)
    cols[2, 1, 0, 0, 1, 1, 1] = 2.0  # tap (2,1,0) of voxel (1,1,1) -> output (3,2,1)
    cols[1, 1, 1, 0, 0, 0, 0] = 4.0  # tap (1,1,1) of voxel (0,0,0) -> output (1,1,1)
    cols[0, 0, 0, 0, 1, 1, 1] = 8.0  # tap (0,0,0) of voxel (1,1,1) -> output (1,1,1) as well
    out = col2im_stride1(cols)
    assert out.shape == (1, 4, 4, 4)
    expected = torch.zeros(1, 4, 4, 4)
    expected[0, 0, 0, 0], expected[0, 3, 2, 1], expected[0, 1, 1, 1] = 1.0, 2.0, 12.0
    assert torch.equal(out, expected)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_transposed_conv_to_one_channel_equals_torch(channels_last, bias):
    torch.manual_seed(0)
    plain = nn.ConvTranspose3d(8, 1, 3, bias=bias)
    fast = ConvTranspose3d(8, 1, 3, bias=bias)
    fast.load_state_dict(plain.state_dict())
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    x = torch.randn(5, 8, 4, 5, 6).to(memory_format=fmt)
    x_plain, x_fast = x.clone().requires_grad_(), x.clone().requires_grad_()
    assert fast.uses_fold(x_fast)
    y_plain, y_fast = plain(x_plain), fast(x_fast)
    assert y_fast.shape == y_plain.shape == (5, 1, 6, 7, 8)
    torch.testing.assert_close(y_fast, y_plain, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(y_plain)
    y_plain.backward(grad)
    y_fast.backward(grad)
    torch.testing.assert_close(x_fast.grad, x_plain.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad, rtol=1e-5, atol=1e-5)
    if bias:
        torch.testing.assert_close(fast.bias.grad, plain.bias.grad, rtol=1e-5, atol=1e-5)


def test_other_transposed_convs_are_torchs_own():
    strided = ConvTranspose3d(16, 8, 3, stride=2)
    wide = ConvTranspose3d(8, 4, 3)
    x = torch.randn(2, 16, 3, 3, 3)
    assert not strided.uses_fold(x)
    assert not wide.uses_fold(torch.randn(2, 8, 3, 3, 3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not ConvTranspose3d(8, 1, 3).uses_fold(torch.randn(2, 8, 3, 3, 3))


def _plain_copy(model: nn.Module) -> nn.Module:
    """The same network, with parameters of its own, computed by torch.nn's layers."""
    copy = AxialNet(2, 11, (4, 8, 8), 16, per_feature_norm=True)
    copy.load_state_dict(model.state_dict())
    return as_torch_nn(copy)


def test_axial_net_trains_as_the_plain_torch_network():
    """Three SGD updates of the network and of its torch.nn twin: the same outputs and weights."""
    net = AxialNet(2, 11, (4, 8, 8), 16, per_feature_norm=True, generator=torch.Generator().manual_seed(3))
    assert any(isinstance(m, layers.ConvTranspose3d) for m in net.modules())
    twin = _plain_copy(net)
    assert not any(isinstance(m, layers.ConvTranspose3d) for m in twin.modules())
    compute = Compute(torch.device("cpu"), "fp32")
    net, twin = compute.prepare_model(net), compute.prepare_model(twin)
    net.train()
    twin.train()
    x = torch.randn(6, 2, 11, 11, 11, generator=torch.Generator().manual_seed(4))
    present = torch.tensor([[True, True], [True, False], [False, True]] * 2)
    for _ in range(3):
        terms = sgd_step(net, x, present, 0.1, 0.05, compute)
        twin_terms = sgd_step(twin, x, present, 0.1, 0.05, compute)
        for a, b in zip(terms, twin_terms):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for (name, a), (_, b) in zip(net.state_dict().items(), twin.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
    net.eval()
    twin.eval()
    torch.testing.assert_close(net(x).reconstruction, twin(x).reconstruction, rtol=1e-4, atol=1e-5)


def test_as_torch_nn_keeps_the_parameters_and_the_function():
    layer = ConvTranspose3d(8, 1, 3)
    plain = as_torch_nn(layer)
    assert type(plain) is nn.ConvTranspose3d
    assert plain.weight is layer.weight and plain.bias is layer.bias
    x = torch.randn(2, 8, 3, 3, 3)
    torch.testing.assert_close(plain(x), layer(x), rtol=1e-5, atol=1e-5)
    strided = ConvTranspose3d(4, 2, 3, stride=2, bias=False)
    assert as_torch_nn(strided).stride == (2, 2, 2) and as_torch_nn(strided).bias is None
