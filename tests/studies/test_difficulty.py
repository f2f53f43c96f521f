"""crossmodal.studies.difficulty: raw-intensity forests and cross-modal predictability per modality pair."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from crossmodal.common.config_checks import validated_block
from crossmodal.common.errors import InputError
from crossmodal.data.folds import make_folds
from crossmodal.data.ingest import ingest
from crossmodal.data.normalize import normalize_dataset
from crossmodal.data.sample_patches import sample_dataset
from crossmodal.data.synthesize import synthesize
from crossmodal.studies.difficulty import COLUMNS, difficulty, read_difficulty, regression_features

P = 5  # patch size of the hand-made dataset


def write_blocks(root, rng):
    """Four scans, modalities: a = label block map, b = -a, c = noise; patches deep inside blocks.

    Every patch of class k lies wholly inside a block of value k in ``a``: forests on ``a`` (or
    ``b``) classify perfectly, and one trained on ``a`` and tested on ``b`` predicts class 0 for
    everything (b <= 0), half of the balanced test set.
    """
    vol, pat = root / "volumes", root / "patches"
    vol.mkdir()
    pat.mkdir()
    rows, folds = [], []
    for s in range(4):
        label = np.zeros((20, 12, 12), dtype=np.float32)
        label[10:] = 1.0
        volume = np.stack([label, -label, rng.standard_normal(label.shape).astype(np.float32)])
        np.save(vol / f"s{s}.npy", volume)
        centres, labels = [], []
        for k, xs in ((0, range(2, 8)), (1, range(12, 18))):
            for x in xs:
                for y in (3, 6, 8):
                    centres.append((x, y, 3 + (x + y + s) % 6))
                    labels.append(k)
        np.savez(pat / f"s{s}.npz", centres=np.array(centres, dtype=np.int16), labels=np.array(labels, dtype=np.uint8))
        rows.append({"scan_id": f"s{s}", "subject_id": f"p{s}", "shape_x": 20, "shape_y": 12, "shape_z": 12, "patch_size": P})
        folds.append({"scan_id": f"s{s}", "subject_id": f"p{s}", "fold": s % 2, "half": 0})
    pd.DataFrame(rows).to_csv(vol / "index.tsv", sep="\t", index=False)
    pd.DataFrame(folds).to_csv(root / "folds.tsv", sep="\t", index=False)
    return vol, pat, root / "folds.tsv"


def test_exact_accuracies_and_predictability_on_hand_made_modalities(tmp_path):
    vol, pat, folds = write_blocks(tmp_path, np.random.default_rng(0))
    out = tmp_path / "difficulty.tsv"
    table = difficulty(vol, pat, folds, out, dataset_name="blocks", modalities=["a", "b", "c"], seed=3, n_trees=10)
    assert list(table.columns) == COLUMNS
    assert list(zip(table.train_modality, table.test_modality)) == [(s, t) for s in "abc" for t in "abc"]
    acc = {(r.train_modality, r.test_modality): r.raw_rf_accuracy_percent for r in table.itertuples()}
    r2 = {(r.train_modality, r.test_modality): r.predictability_r2 for r in table.itertuples()}
    assert acc[("a", "a")] == acc[("b", "b")] == 100.0
    assert acc[("a", "b")] == 50.0  # every b value is <= 0: all predicted as class 0
    assert 25.0 < acc[("c", "c")] < 75.0  # noise carries no label
    for s in "ab":
        for t in "ab":
            assert r2[(s, t)] == pytest.approx(1.0, abs=1e-6)  # a and b determine each other
        assert r2[(s, "c")] < 0.05 and r2[("c", s)] < 0.05  # independent noise
    assert r2[("c", "c")] > 0.7  # its own centre voxel is a feature (72 training patches)
    assert read_difficulty(out).equals(pd.read_csv(out, sep="\t"))
    # seeded: the same inputs give the same file byte for byte
    again = tmp_path / "again.tsv"
    difficulty(vol, pat, folds, again, dataset_name="blocks", modalities=["a", "b", "c"], seed=3, n_trees=10)
    assert again.read_bytes() == out.read_bytes()


def test_regression_features_centre_and_components():
    patches = np.arange(2 * 125, dtype=np.float32).reshape(2, 5, 5, 5)
    mean = patches.reshape(2, -1).mean(axis=0)
    components = np.eye(125, dtype=np.float32)[:2]
    features = regression_features(patches, components, mean)
    assert features.shape == (2, 27 + 2)
    np.testing.assert_array_equal(features[0, :27], patches[0, 1:4, 1:4, 1:4].ravel())
    np.testing.assert_allclose(features[:, 27:], [[-62.5, -62.5], [62.5, 62.5]])


def test_bad_inputs_name_the_file(tmp_path):
    vol, pat, folds = write_blocks(tmp_path, np.random.default_rng(0))
    with pytest.raises(InputError, match=r"s1\.npy.*expected \[2, X, Y, Z\]"):
        difficulty(vol, pat, folds, tmp_path / "d.tsv", dataset_name="x", modalities=["a", "b"], seed=0, n_trees=5)
    (vol / "s0.npy").unlink()
    with pytest.raises(InputError, match="s0"):
        difficulty(vol, pat, folds, tmp_path / "d.tsv", dataset_name="x", modalities=["a", "b", "c"], seed=0, n_trees=5)
    assert not (tmp_path / "d.tsv").exists()
    with pytest.raises(InputError, match="not found"):
        read_difficulty(tmp_path / "d.tsv")


CLASSES = [{"name": "background", "values": [0]}, {"name": "cartilage", "values": [1, 2, 4]}, {"name": "meniscus", "values": [3]}]


def knee_difficulty(root, rho, kappa=0.0, noise=0.0, bias=0.0):
    """The difficulty table of a tiny generated knee dataset (4 subjects, one session each)."""
    synthetic = validated_block({"kind": "knee", "seed": 7, "n_subjects": 4, "sessions_per_subject": 1,
                                 "shape": [48, 48, 24], "noise": noise, "bias": bias, "rho": rho, "kappa": kappa},
                                "synthetic")
    synthesize(root / "raw", synthetic, "generic", ["normal", "fatsup"])
    dataset = {"layout": "generic", "manifest": "manifest.tsv", "modalities": ["normal", "fatsup"],
               "classes": CLASSES, "mask": {"rule": "dilated_labels", "dilation_voxels": 3}, "affine_tolerance": 1e-3}
    ingest(root / "raw", dataset, root / "manifest.tsv", "tiny")
    normalize_dataset(root / "manifest.tsv", root / "volumes", modalities=dataset["modalities"], classes=CLASSES,
                      mask=dataset["mask"], patch_size=9, name="tiny")
    make_folds(root / "manifest.tsv", root / "folds.tsv", 2, 0, "tiny")
    sample_dataset(root / "volumes", root / "patches", class_names=["background", "cartilage", "meniscus"],
                   patches_per_class=60, patch_size=9, seed=0, with_replacement=False, name="tiny")
    table = difficulty(root / "volumes", root / "patches", root / "folds.tsv", root / "difficulty.tsv",
                       dataset_name="tiny", modalities=["normal", "fatsup"], seed=0, n_trees=30)
    return table.set_index(["train_modality", "test_modality"])


def test_texture_shared_less_lowers_cross_modal_predictability(tmp_path):
    shared = knee_difficulty(tmp_path / "shared", 1.0)
    own = knee_difficulty(tmp_path / "own", 0.0)
    assert len(shared) == 4 and list(shared.columns) == COLUMNS[2:]
    drops = []
    for pair in (("normal", "fatsup"), ("fatsup", "normal")):
        drops.append(shared.loc[pair, "predictability_r2"] - own.loc[pair, "predictability_r2"])
        assert drops[-1] > 0, pair
    assert np.mean(drops) > 0.01  # measured: 0.021 and 0.024 (texture is a small share of the signal)
    for m in ("normal", "fatsup"):  # a modality still predicts itself
        assert own.loc[(m, m), "predictability_r2"] > 0.9


def test_kappa_moves_the_data_from_shared_to_little_in_common(tmp_path):
    # at the default noise and bias: kappa 1 is the same image up to noise and slice geometry,
    # kappa -1 hides half of the cartilage and menisci in each modality's own regions
    shared = knee_difficulty(tmp_path / "shared", 0.8, kappa=1.0, noise=0.04, bias=0.15)
    specific = knee_difficulty(tmp_path / "specific", 0.8, kappa=-1.0, noise=0.04, bias=0.15)
    cross = [("normal", "fatsup"), ("fatsup", "normal")]
    r2 = {name: [table.loc[pair, "predictability_r2"] for pair in cross] for name, table in (("shared", shared), ("specific", specific))}
    assert min(r2["shared"]) >= 0.8, r2
    assert np.mean(r2["specific"]) <= 0.3, r2
