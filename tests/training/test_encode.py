"""Encoding patches with a trained network."""

import copy
import numpy as np
import pytest
import torch

from crossmodal.common.model_ids import parse_model_id
from crossmodal.data.gather.volume_stack import VolumeStack
from crossmodal.data.patch_sets import PatchSet
from crossmodal.training.encode import encode_patches, encode_splits
from crossmodal.training.method import DEFAULT, MethodSettings
from crossmodal.training.network import build_network
from crossmodal.training.precision import Compute

P = 9
F = 4
MODALITIES = ["t1", "t2", "flair"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=10):
    rng = np.random.default_rng(0)
    volumes = [rng.standard_normal((3, 11, 12, 10)).astype(np.float32) for _ in range(2)]
    return VolumeStack(volumes, P, "cpu", ["a", "b"]), rng.integers(0, 2, n), rng.integers(4, 6, (n, 3))


def _trained_like(model_id, method=DEFAULT):
    """A network with non-trivial batch-norm running statistics, in eval mode."""
    spec = parse_model_id(model_id, MODALITIES)
    net = build_network(spec, 3, P, (2, 2, 2), F, torch.Generator().manual_seed(0), method)
    x = torch.randn(6, 3, P, P, P, generator=torch.Generator().manual_seed(1)) * 2 + 1
    net(x if model_id.startswith("axial") else x[:, :1])
    return net.eval()


@pytest.mark.parametrize("model_id", ["axial-md1-pfn1-a0.1", "axial-md0-pfn0-a0.0", "baseline-all", "baseline-t2"])
def test_shapes_and_dtype(model_id):
    stack, scan_index, centres = _data()
    features = encode_patches(_trained_like(model_id), stack, scan_index, centres, 4, 3, F)
    assert features.shape == (3, 10, F) and features.dtype == np.float32
    assert np.isfinite(features).all()


def test_axial_features_are_normalized_per_modality_encodings():
    net = _trained_like("axial-md1-pfn1-a0.1")
    stack, scan_index, centres = _data()
    features = encode_patches(net, stack, scan_index, centres, 4, 3, F)
    x = stack.gather(scan_index, centres)
    with torch.no_grad():
        for m in range(3):
            expected = net.norms[m](net.encoders[m](x[:, m : m + 1])).numpy()
            np.testing.assert_allclose(features[m], expected, rtol=1e-5, atol=1e-6)


def test_baseline_features_of_modality_m_are_the_shared_encoder_on_x_m():
    net = _trained_like("baseline-all")
    stack, scan_index, centres = _data()
    features = encode_patches(net, stack, scan_index, centres, 4, 3, F)
    x = stack.gather(scan_index, centres)
    with torch.no_grad():
        for m in range(3):
            expected = net.norm(net.encoder(x[:, m : m + 1])).numpy()
            np.testing.assert_allclose(features[m], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(features[0], features[1])


def test_features_do_not_depend_on_the_batch_size():
    net = _trained_like("axial-md1-pfn1-a0.1")
    stack, scan_index, centres = _data()
    small = encode_patches(net, stack, scan_index, centres, 3, 3, F)
    large = encode_patches(net, stack, scan_index, centres, 100, 3, F)
    np.testing.assert_allclose(small, large, rtol=1e-5, atol=1e-6)


def test_encode_splits_maps_each_split_onto_one_shared_source():
    net = _trained_like("axial-md1-pfn1-a0.1")
    stack, _, _ = _data()
    rng = np.random.default_rng(3)
    train_set = PatchSet(["b"], np.zeros(3, np.int64), rng.integers(4, 6, (3, 3)), np.array([0, 1, 1]))
    test_set = PatchSet(["a", "b"], np.array([1, 0, 1]), rng.integers(4, 6, (3, 3)), np.array([1, 0, 0]))
    arrays = encode_splits(net, stack, {"train": train_set, "test": test_set}, MODALITIES, F, 2)
    assert sorted(arrays) == sorted(f"{s}_{k}" for s in ("train", "test") for k in ("features", "labels", "scans"))
    assert arrays["train_scans"].tolist() == ["b", "b", "b"] and arrays["test_scans"].tolist() == ["b", "a", "b"]
    assert arrays["test_labels"].dtype == np.int64 and arrays["test_labels"].tolist() == [1, 0, 0]
    # stack.scan_ids is ["a", "b"]: test patch 1 is from "a" (index 0 in the source)
    expected = encode_patches(net, stack, np.array([1, 0, 1]), test_set.centres, 100, 3, F)
    np.testing.assert_allclose(arrays["test_features"], expected, rtol=1e-5, atol=1e-6)
    expected = encode_patches(net, stack, np.array([1, 1, 1]), train_set.centres, 100, 3, F)
    np.testing.assert_allclose(arrays["train_features"], expected, rtol=1e-5, atol=1e-6)


def test_bf16_encoding_is_close_to_fp32():
    net = _trained_like("axial-md1-pfn0-a0.1")
    stack, scan_index, centres = _data()
    fp32 = encode_patches(net, stack, scan_index, centres, 4, 3, F, Compute(torch.device("cpu"), "fp32"))
    bf16 = encode_patches(net, stack, scan_index, centres, 4, 3, F, Compute(torch.device("cpu"), "bf16"))
    assert bf16.dtype == np.float32 and not np.array_equal(fp32, bf16)
    np.testing.assert_allclose(bf16, fp32, atol=0.1)  # globally normalized features: unit SD per patch


SET_STATS = MethodSettings(encode_bn_stats="set")


def test_set_statistics_normalize_each_modality_of_the_set_as_one_batch():
    """With per-feature normalization, the set's features are exactly zero-mean, unit-SD per
    modality and feature; and they are what a training-mode pass over the whole set computes."""
    net = _trained_like("axial-md1-pfn1-a0.0", SET_STATS)
    stack, scan_index, centres = _data(n=23)
    features = encode_patches(net, stack, scan_index, centres, 5, 3, F)
    np.testing.assert_allclose(features.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(features.var(axis=1), 1, atol=1e-3)  # 1 up to bn_eps
    x = stack.gather(scan_index, centres)
    twin = copy.deepcopy(net).train()  # training mode: batch statistics of all 23 patches
    with torch.no_grad():
        np.testing.assert_allclose(features, twin.encode(x).numpy().transpose(1, 0, 2), rtol=1e-4, atol=1e-5)
    # the network itself is not changed: its running statistics give other features
    running = encode_patches(_trained_like("axial-md1-pfn1-a0.0"), stack, scan_index, centres, 5, 3, F)
    assert not np.allclose(running, features, atol=1e-2)
    assert torch.equal(net.norms[0].running_mean, _trained_like("axial-md1-pfn1-a0.0").norms[0].running_mean)


@pytest.mark.parametrize("model_id", ["axial-md1-pfn0-a0.0", "baseline-all"])
def test_set_statistics_do_not_depend_on_the_batch_size(model_id):
    net = _trained_like(model_id, SET_STATS)
    stack, scan_index, centres = _data(n=17)
    small = encode_patches(net, stack, scan_index, centres, 4, 3, F)
    large = encode_patches(net, stack, scan_index, centres, 100, 3, F)
    np.testing.assert_allclose(small, large, rtol=1e-4, atol=1e-5)


def test_baseline_set_statistics_are_per_modality():
    """The shared encoder gets modality m's statistics when encoding modality m."""
    net = _trained_like("baseline-all", SET_STATS)
    stack, scan_index, centres = _data(n=12)
    features = encode_patches(net, stack, scan_index, centres, 5, 3, F)
    x = stack.gather(scan_index, centres)
    twin = copy.deepcopy(net).train()
    with torch.no_grad():
        for m in range(3):
            expected = twin.norm(twin.encoder(x[:, m : m + 1])).numpy()
            np.testing.assert_allclose(features[m], expected, rtol=1e-4, atol=1e-5)
