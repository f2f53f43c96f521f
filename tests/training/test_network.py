"""Axial network, shared-autoencoder baseline, representation normalizations."""

import copy
import math

import pytest
import torch
from torch import nn

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id
from crossmodal.training.method import MethodSettings
from crossmodal.training.network import (
    AxialNet,
    BatchScalarNorm,
    GlobalNorm,
    SharedAutoencoder,
    build_network,
    layer_sizes,
    load_network,
    masked_mean,
    weights_record,
)

WIDTHS = (2, 3, 4)
F = 5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_layer_sizes_paper_and_small_patches():
    assert layer_sizes(15) == (13, 6, 4, 4)
    assert layer_sizes(11) == (9, 4, 2, 2)
    assert layer_sizes(9) == (7, 3, 1, 1)
    with pytest.raises(InputError, match="patch_size 10"):
        layer_sizes(10)
    with pytest.raises(InputError, match="patch_size 7"):
        layer_sizes(7)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("p", [15, 11])
@pytest.mark.parametrize("pfn", [False, True])
def test_axial_shapes(m, p, pfn):
    net = AxialNet(m, p, WIDTHS, F, per_feature_norm=pfn, generator=_gen())
    x = torch.randn(3, m, p, p, p, generator=_gen(1))
    out = net(x)
    assert out.reconstruction.shape == (3, m, p, p, p)
    assert out.representation.shape == (3, F)
    assert out.features.shape == (3, m, F)
    assert out.present.shape == (3, m) and bool(out.present.all())
    assert net.encode(x).shape == (3, m, F)


def test_paper_architecture_layer_shapes():
    net = AxialNet(2, 15, (32, 64, 64), 128, per_feature_norm=True)
    convs = [layer for layer in net.encoders[0].layers if isinstance(layer, nn.Conv3d)]
    assert [tuple(c.weight.shape) for c in convs] == [
        (32, 1, 3, 3, 3), (64, 32, 3, 3, 3), (64, 64, 3, 3, 3), (128, 64, 4, 4, 4)]
    assert [c.stride for c in convs] == [(1, 1, 1), (2, 2, 2), (1, 1, 1), (1, 1, 1)]
    # the reconstruction layer is linear: the decoder ends with a transposed convolution
    assert isinstance(net.decoders[0].layers[-1], nn.ConvTranspose3d)


def test_masked_mean_divides_by_number_present():
    features = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]]])  # B=1, M=3, F=2
    assert masked_mean(features, torch.tensor([[True, False, True]])).tolist() == [[3.0, 5.5]]
    assert masked_mean(features, torch.tensor([[False, True, False]])).tolist() == [[3.0, 4.0]]
    assert masked_mean(features, torch.tensor([[True, True, True]])).tolist() == [[3.0, 5.0]]


def test_axial_representation_is_mean_of_present_modalities():
    net = AxialNet(3, 9, WIDTHS, F, per_feature_norm=False, generator=_gen()).eval()
    x = torch.randn(2, 3, 9, 9, 9, generator=_gen(2))
    present = torch.tensor([[True, False, True], [False, True, False]])
    out = net(x, present)
    f = out.features
    torch.testing.assert_close(out.representation[0], (f[0, 0] + f[0, 2]) / 2)
    torch.testing.assert_close(out.representation[1], f[1, 1])
    # every decoder reconstructs from the mean, also for dropped modalities
    torch.testing.assert_close(out.reconstruction[1, 0], net.decoders[0](out.representation[1:2])[0, 0])


def test_global_norm_zero_mean_unit_sd_per_vector():
    h = torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 16.0]])
    out = GlobalNorm()(h)
    expected0 = torch.tensor([-1.0, 0.0, 1.0]) / math.sqrt(2 / 3 + 1e-5)
    expected1 = torch.tensor([-2.0, -2.0, 4.0]) / math.sqrt(8.0 + 1e-5)
    torch.testing.assert_close(out, torch.stack([expected0, expected1]))
    random = GlobalNorm()(torch.randn(4, 7, generator=_gen(3)) * 5 + 3)
    torch.testing.assert_close(random.mean(dim=1), torch.zeros(4), atol=1e-6, rtol=0)
    torch.testing.assert_close(random.std(dim=1, unbiased=False), torch.ones(4), atol=1e-5, rtol=0)


def test_per_feature_norm_has_no_affine_parameters_and_statistics_per_modality():
    net = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen())
    for norm in net.norms:
        assert isinstance(norm, nn.BatchNorm1d)
        assert norm.weight is None and norm.bias is None
        assert list(norm.parameters()) == []
    x = torch.randn(6, 2, 9, 9, 9, generator=_gen(4))
    x[:, 1] = x[:, 1] * 3 + 2  # the modalities differ in distribution
    out = net(x)  # training mode: batch statistics, running statistics updated
    # normalized per feature over the batch: zero mean, unit (biased) SD per modality
    torch.testing.assert_close(out.features.mean(dim=0), torch.zeros(2, F), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.features.var(dim=0, unbiased=False), torch.ones(2, F), atol=2e-3, rtol=0)
    with torch.no_grad():
        for m in range(2):
            raw = net.encoders[m](x[:, m : m + 1])
            torch.testing.assert_close(net.norms[m].running_mean, 0.1 * raw.mean(dim=0))
    assert not torch.allclose(net.norms[0].running_mean, net.norms[1].running_mean)


def test_baseline_shares_one_transformation():
    base = SharedAutoencoder(9, WIDTHS, F, generator=_gen()).eval()
    axial = AxialNet(2, 9, WIDTHS, F, per_feature_norm=False)
    n_base = sum(p.numel() for p in base.parameters())
    assert 2 * n_base == sum(p.numel() for p in axial.parameters())  # one path instead of M
    x = torch.randn(3, 2, 9, 9, 9, generator=_gen(5))
    h = base.encode(x)
    assert h.shape == (3, 2, F)
    for m in range(2):
        torch.testing.assert_close(h[:, m], base.norm(base.encoder(x[:, m : m + 1])))
    out = base(x[:, :1])
    assert out.reconstruction.shape == (3, 1, 9, 9, 9)
    torch.testing.assert_close(out.representation, h[:, 0])


def test_initialization_is_glorot_uniform_and_seeded():
    a = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen(7))
    b = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen(7))
    c = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen(8))
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.encoders[0].layers[0].weight, c.encoders[0].layers[0].weight)
    first = a.encoders[0].layers[0].weight  # [2, 1, 3, 3, 3]: fan_in 27, fan_out 54
    assert first.abs().max() <= math.sqrt(6 / (27 + 54))
    assert torch.equal(a.encoders[0].layers[-1].bias, torch.zeros(F))


@pytest.mark.parametrize("model_id", ["axial-md1-pfn1-a0.1", "baseline-t2"])
def test_weights_round_trip(tmp_path, model_id):
    spec = parse_model_id(model_id, ["t1", "t2"])
    net = build_network(spec, 2, 9, WIDTHS, F, _gen())
    net(torch.randn(4, net.n_modalities, 9, 9, 9, generator=_gen(6)))  # move BN statistics
    net.eval()
    path = tmp_path / "weights.pt"
    torch.save(weights_record(net, model_id, 9, WIDTHS, F), path)
    loaded, meta = load_network(path)
    assert meta == {"model_id": model_id, "n_modalities": net.n_modalities, "widths": [2, 3, 4],
                    "features": F, "patch_size": 9}
    assert type(loaded) is type(net) and not loaded.training
    for (name, pa), pb in zip(net.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(pa, pb), name
    x = torch.randn(2, 2, 9, 9, 9, generator=_gen(9))
    assert torch.equal(loaded.encode(x), net.encode(x))


def _batch_norms(net):
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@pytest.mark.parametrize("model_id", ["axial-md1-pfn1-a0.0", "axial-md0-pfn0-a0.1", "baseline-all"])
def test_the_default_method_builds_the_plain_network(model_id):
    """Default settings: PyTorch's batch normalization, the vector global normalization, and
    the same parameters, buffers and outputs as a network built without method settings."""
    spec = parse_model_id(model_id, ["t1", "t2"])
    plain = build_network(spec, 2, 9, WIDTHS, F, _gen(3))
    explicit = build_network(spec, 2, 9, WIDTHS, F, _gen(3), MethodSettings())
    assert all((bn.momentum, bn.eps) == (0.1, 1e-5) for bn in _batch_norms(plain))
    assert [type(m) for m in plain.modules()] == [type(m) for m in explicit.modules()]
    for (name, a), b in zip(plain.state_dict().items(), explicit.state_dict().values()):
        assert torch.equal(a, b), name
    x = torch.randn(4, 2, 9, 9, 9, generator=_gen(4))[:, : plain.n_modalities]
    assert torch.equal(plain(x).reconstruction, explicit(x).reconstruction)
    assert "method" not in weights_record(plain, model_id, 9, WIDTHS, F)


def test_keras_momentum_moves_running_statistics_by_one_percent_per_step():
    net = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen(), method=MethodSettings(bn_momentum=0.01))
    norms = _batch_norms(net)
    assert len(norms) == 2 * (3 + 3 + 1) and all(bn.momentum == 0.01 for bn in norms)
    x = torch.randn(6, 2, 9, 9, 9, generator=_gen(4)) * 2 + 1
    with torch.no_grad():  # on a copy: a training-mode pass moves the statistics
        twin = copy.deepcopy(net)
        first = twin.encoders[0].layers[0](x[:, :1])  # the input of the first batch normalization
        raw = [twin.encoders[m](x[:, m : m + 1]) for m in range(2)]
    bn = net.encoders[0].layers[1]
    net(x)  # one training step's forward pass
    torch.testing.assert_close(bn.running_mean, 0.01 * first.mean(dim=(0, 2, 3, 4)))
    torch.testing.assert_close(bn.running_var, 0.99 + 0.01 * first.var(dim=(0, 2, 3, 4), unbiased=True))
    for m in range(2):  # also the per-feature normalization
        torch.testing.assert_close(net.norms[m].running_mean, 0.01 * raw[m].mean(dim=0))
    net(x)
    torch.testing.assert_close(bn.running_mean, (0.01 + 0.99 * 0.01) * first.mean(dim=(0, 2, 3, 4)))


def test_keras_epsilon_reaches_every_batch_norm():
    net = build_network(parse_model_id("baseline-all", ["t1"]), 1, 9, WIDTHS, F, method=MethodSettings(bn_eps=1e-3))
    assert {bn.eps for bn in _batch_norms(net)} == {1e-3}


def test_batch_global_norm_uses_one_mean_and_sd_over_the_batch():
    net = AxialNet(2, 9, WIDTHS, F, per_feature_norm=False, generator=_gen(),
                   method=MethodSettings(global_norm="batch"))  # fmt: skip
    assert all(isinstance(norm, BatchScalarNorm) for norm in net.norms)
    x = torch.randn(5, 2, 9, 9, 9, generator=_gen(4))
    features = net(x).features  # training mode: the batch's statistics
    for m in range(2):
        block = features[:, m]
        torch.testing.assert_close(block.mean(), torch.tensor(0.0), atol=1e-6, rtol=0)
        torch.testing.assert_close(block.var(unbiased=False), torch.tensor(1.0), atol=1e-4, rtol=0)
        assert not torch.allclose(block.mean(dim=1), torch.zeros(5), atol=1e-3)  # rows are not centred
    net.eval()  # evaluation: the running averages, so a patch's features do not depend on its batch
    torch.testing.assert_close(net.encode(x)[:2], net.encode(x[:2]))


@pytest.mark.parametrize("alpha, expected", [(0.0, nn.Identity), (0.1, GlobalNorm)])
def test_none_at_alpha0_drops_the_global_norm_at_alpha_0_only(alpha, expected):
    spec = parse_model_id(f"axial-md1-pfn0-a{alpha}", ["t1", "t2"])
    net = build_network(spec, 2, 9, WIDTHS, F, _gen(), MethodSettings(global_norm="none_at_alpha0"))
    assert all(type(norm) is expected for norm in net.norms)
    pfn = build_network(parse_model_id("axial-md1-pfn1-a0.0", ["t1", "t2"]), 2, 9, WIDTHS, F,
                        method=MethodSettings(global_norm="none_at_alpha0"))  # fmt: skip
    assert all(type(norm) is nn.BatchNorm1d for norm in pfn.norms)  # replaced by per-feature norm


def test_global_before_per_feature():
    net = AxialNet(2, 9, WIDTHS, F, per_feature_norm=True, generator=_gen(),
                   method=MethodSettings(global_before_per_feature=True))  # fmt: skip
    assert [type(layer) for layer in net.norms[0]] == [GlobalNorm, nn.BatchNorm1d]
    x = torch.randn(6, 2, 9, 9, 9, generator=_gen(4))
    with torch.no_grad():
        raw = net.encoders[0](x[:, :1])
    features = net(x).features[:, 0]
    expected = nn.functional.batch_norm(GlobalNorm()(raw), None, None, training=True, eps=1e-5)
    torch.testing.assert_close(features, expected)


def test_a_network_of_another_method_round_trips(tmp_path):
    method = MethodSettings(global_norm="batch", bn_momentum=0.01, encode_bn_stats="set")
    net = build_network(parse_model_id("axial-md1-pfn0-a0.0", ["t1", "t2"]), 2, 9, WIDTHS, F, _gen(), method)
    net(torch.randn(4, 2, 9, 9, 9, generator=_gen(6)))
    net.eval()
    path = tmp_path / "weights.pt"
    torch.save(weights_record(net, "axial-md1-pfn0-a0.0", 9, WIDTHS, F), path)
    loaded, meta = load_network(path)
    assert loaded.method == method and meta["method"]["global_norm"] == "batch"
    assert "norms.0.norm.running_mean" in loaded.state_dict()
    x = torch.randn(2, 2, 9, 9, 9, generator=_gen(9))
    assert torch.equal(loaded.encode(x), net.encode(x))
