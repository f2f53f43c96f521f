import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.common.errors import InputError
from crossmodal.figures.fig5_data import (
    COLUMNS,
    centre_slice_table,
    fig5_data,
    reconstructions,
    select_patches,
)
from crossmodal.common.model_ids import parse_model_id
from crossmodal.common.seeds import derive_seed
from crossmodal.training.network import build_network, weights_record

P = 9
MODS = ["t1", "t2"]


def tiny_net(model_id="axial-md1-pfn1-a0.1"):
    net = build_network(parse_model_id(model_id, MODS), 2, P, (2, 2, 2), 4,
                        torch.Generator().manual_seed(0))
    return net.eval()


def test_select_patches_balances_classes_and_is_seeded():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 2)
    chosen = select_patches(labels, 7, seed=3)
    assert np.bincount(labels[chosen]).tolist() == [3, 2, 2]
    np.testing.assert_array_equal(chosen, select_patches(labels, 7, seed=3))
    assert not np.array_equal(chosen, select_patches(labels, 7, seed=4))


def test_reconstructions_from_all_and_from_each_single_modality():
    net = tiny_net()
    x = torch.randn(3, 2, P, P, P, generator=torch.Generator().manual_seed(1))
    recon = reconstructions(net, x)
    assert sorted(recon) == ["all", "from_0", "from_1"]
    with torch.no_grad():
        features = net.encode(x)
        for i in range(2):
            expected = torch.cat([dec(features[:, i]) for dec in net.decoders], dim=1)
            np.testing.assert_allclose(recon[f"from_{i}"], expected.numpy(), rtol=1e-5, atol=1e-6)
        expected = torch.cat([dec(features.mean(dim=1)) for dec in net.decoders], dim=1)
        np.testing.assert_allclose(recon["all"], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_centre_slice_table_holds_the_centre_slices():
    x = np.arange(2 * 2 * 3 * 3 * 3, dtype=float).reshape(2, 2, 3, 3, 3)
    table = centre_slice_table(x, {"all": -x, "from_0": x + 1, "from_1": x + 2}, MODS)
    assert len(table) == 4 * 2 * 2 * 9
    assert table["source"].unique().tolist() == ["input", "all", "from_t1", "from_t2"]
    pixel = table[(table["patch"] == 1) & (table["modality"] == "t2") & (table["row"] == 2)
                  & (table["col"] == 0)].set_index("source")["value"]
    assert pixel["input"] == x[1, 1, 2, 0, 1]
    assert pixel["from_t2"] == x[1, 1, 2, 0, 1] + 2


def write_dataset(root):
    """Three scans in the volumes/, patches/ and folds.tsv formats; fold 1 = scan s2."""
    rng = np.random.default_rng(2)
    (root / "volumes").mkdir(parents=True)
    (root / "patches").mkdir()
    rows = []
    for i, scan in enumerate(["s0", "s1", "s2"]):
        np.save(root / "volumes" / f"{scan}.npy", rng.standard_normal((2, 11, 12, 10)).astype(np.float32))
        np.savez(root / "patches" / f"{scan}.npz", centres=rng.integers(4, 6, (6, 3)).astype(np.int16),
                 labels=np.arange(6, dtype=np.uint8) % 2)
        rows.append({"scan_id": scan, "subject_id": f"p{i}", "shape_x": 11, "shape_y": 12,
                     "shape_z": 10, "patch_size": P, "fold": int(i == 2), "half": 0})
    table = pd.DataFrame(rows)
    table.drop(columns=["fold", "half"]).to_csv(root / "volumes" / "index.tsv", sep="\t", index=False)
    table[["scan_id", "subject_id", "fold", "half"]].to_csv(root / "folds.tsv", sep="\t", index=False)


def test_fig5_data_writes_the_pixels_of_the_fold_test_patches(tmp_path):
    write_dataset(tmp_path)
    net = tiny_net()
    torch.save(weights_record(net, "axial-md1-pfn1-a0.1", P, (2, 2, 2), 4), tmp_path / "w.pt")
    out = tmp_path / "fig5.tsv"
    table = fig5_data(tmp_path / "w.pt", tmp_path / "volumes", tmp_path / "patches",
                      tmp_path / "folds.tsv", out, dataset="d", modalities=MODS,
                      classes=["bg", "fg"], model="axial-md1-pfn1-a0.1", fold=1, n_patches=4,
                      seed=0)
    assert list(pd.read_csv(out, sep="\t").columns) == COLUMNS
    assert len(table) == 4 * 2 * 4 * P * P  # patches x modalities x sources x pixels
    assert set(table["scan_id"]) == {"s2"}
    assert table.drop_duplicates("patch")["label"].tolist() == ["bg", "bg", "fg", "fg"]
    # the input pixels are the centre slice of the gathered patch
    first = table[(table["patch"] == 0) & (table["source"] == "input") & (table["modality"] == "t1")]
    volume = np.load(tmp_path / "volumes" / "s2.npy")
    centres = np.load(tmp_path / "patches" / "s2.npz")["centres"].astype(int)
    labels = np.arange(6) % 2
    chosen = select_patches(labels, 4, seed=derive_seed(0, "d", "fig5", "axial-md1-pfn1-a0.1", 1))
    cx, cy, cz = centres[chosen[0]]
    expected = volume[0, cx - 4 : cx + 5, cy - 4 : cy + 5, cz]
    np.testing.assert_allclose(
        first.sort_values(["row", "col"])["value"].to_numpy().reshape(P, P), expected, rtol=1e-6)


def test_fig5_refuses_a_baseline(tmp_path):
    write_dataset(tmp_path)
    net = build_network(parse_model_id("baseline-all", MODS), 2, P, (2, 2, 2), 4).eval()
    torch.save(weights_record(net, "baseline-all", P, (2, 2, 2), 4), tmp_path / "w.pt")
    with pytest.raises(InputError, match="needs an axial network"):
        fig5_data(tmp_path / "w.pt", tmp_path / "volumes", tmp_path / "patches",
                  tmp_path / "folds.tsv", tmp_path / "fig5.tsv", dataset="d", modalities=MODS,
                  classes=["bg", "fg"], model="baseline-all", fold=1, n_patches=4, seed=0)
