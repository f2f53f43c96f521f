"""Encoding patches with a trained network."""

import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.encode import encode, encode_patches
from crossmodal.gather import VolumeStack
from crossmodal.model_ids import parse_model_id
from crossmodal.network import build_network, weights_record

P = 9
F = 4
MODALITIES = ["t1", "t2", "flair"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions: one thread is fastest, and steady on a busy machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _data(n=10):
    rng = np.random.default_rng(0)
    volumes = [rng.standard_normal((3, 11, 12, 10)).astype(np.float32) for _ in range(2)]
    return VolumeStack(volumes, P, "cpu", ["a", "b"]), rng.integers(0, 2, n), rng.integers(4, 6, (n, 3))


def _trained_like(model_id):
    """A network with non-trivial batch-norm running statistics, in eval mode."""
    net = build_network(parse_model_id(model_id, MODALITIES), 3, P, (2, 2, 2), F, torch.Generator().manual_seed(0))
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


def _write_tiny_dataset(root):
    """Three scans in the documented volumes/, patches/ and folds.tsv formats (fold 1 = scan s2)."""
    rng = np.random.default_rng(2)
    (root / "volumes").mkdir(parents=True)
    (root / "patches").mkdir()
    rows = []
    for i, scan in enumerate(["s0", "s1", "s2"]):
        np.save(root / "volumes" / f"{scan}.npy", rng.standard_normal((2, 11, 12, 10)).astype(np.float32))
        np.savez(root / "patches" / f"{scan}.npz", centres=rng.integers(4, 6, (4 + i, 3)).astype(np.int16),
                 labels=np.arange(4 + i, dtype=np.uint8) % 2)
        rows.append({"scan_id": scan, "subject_id": f"p{i}", "shape_x": 11, "shape_y": 12, "shape_z": 10,
                     "patch_size": P, "fold": int(i == 2), "half": 0})
    table = pd.DataFrame(rows)
    table.drop(columns=["fold", "half"]).to_csv(root / "volumes" / "index.tsv", sep="\t", index=False)
    table[["scan_id", "subject_id", "fold", "half"]].to_csv(root / "folds.tsv", sep="\t", index=False)
    return {"modalities": ["t1", "t2"], "patch_size": P, "training": {"encode_batch_size": 3}}


@pytest.mark.parametrize("model_id", ["axial-md1-pfn1-a0.1", "baseline-t1"])
def test_encode_writes_the_documented_npz(tmp_path, model_id):
    dataset = _write_tiny_dataset(tmp_path)
    net = build_network(parse_model_id(model_id, ["t1", "t2"]), 2, P, (2, 2, 2), F, torch.Generator().manual_seed(0))
    torch.save(weights_record(net.eval(), model_id, P, (2, 2, 2), F), tmp_path / "weights.pt")
    out = tmp_path / "features" / "fold1.npz"
    encode(tmp_path / "weights.pt", tmp_path / "volumes", tmp_path / "patches", tmp_path / "folds.tsv", 1,
           dataset, out)
    with np.load(out, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert sorted(arrays) == sorted(["modalities", "train_features", "test_features", "train_labels",
                                     "test_labels", "train_scans", "test_scans"])
    assert arrays["modalities"].tolist() == ["t1", "t2"]
    assert arrays["train_features"].shape == (2, 9, F) and arrays["train_features"].dtype == np.float32
    assert arrays["test_features"].shape == (2, 6, F) and arrays["test_features"].dtype == np.float32
    assert arrays["train_labels"].dtype == np.int64 and arrays["train_labels"].tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert arrays["train_scans"].tolist() == ["s0"] * 4 + ["s1"] * 5
    assert arrays["test_scans"].tolist() == ["s2"] * 6 and arrays["test_labels"].tolist() == [0, 1, 0, 1, 0, 1]
    # row i of the features is patch i of the test set
    centres = np.load(tmp_path / "patches" / "s2.npz")["centres"]
    stack = VolumeStack([np.load(tmp_path / "volumes" / "s2.npy")], P, "cpu", ["s2"])
    expected = encode_patches(net, stack, np.zeros(6, dtype=np.int64), centres.astype(np.int64), 100, 2, F)
    np.testing.assert_allclose(arrays["test_features"], expected, rtol=1e-5, atol=1e-6)
