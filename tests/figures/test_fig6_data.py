import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.figures.fig6_data import COLUMNS, feature_statistics, fig6_data


def hand_made(n=400, seed=0):
    """Feature 0: noise; 1: the label (identical in both modalities); 2: label + noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    noise = rng.normal(size=(2, n))
    f1 = np.stack([labels, labels]).astype(float)
    f2 = labels + rng.normal(0, 1.0, (2, n))
    return np.stack([noise, f1, f2], axis=2), labels


def test_label_feature_ranks_first_and_statistics_are_exact():
    test, labels = hand_made()
    stats = feature_statistics(test, labels, ["a", "b"], mi_samples=300, seed=5)
    assert len(stats) == 3 * (2 * 2 + 1)
    ranks = stats.drop_duplicates("feature").set_index("feature")["rank"]
    assert ranks.to_dict() == {1: 0, 2: 1, 0: 2}
    sd = stats[stats["statistic"] == "sd"].set_index(["modality", "feature"])["value"]
    assert sd["b", 2] == pytest.approx(test[1, :, 2].std())
    ncc = stats[stats["statistic"] == "ncc"].set_index("feature")["value"]
    assert ncc[1] == pytest.approx(1.0)
    assert abs(ncc[0]) < 0.15
    assert set(stats.loc[stats["statistic"] == "ncc", "modality"]) == {"all"}


def test_mi_subsample_is_seeded():
    test, labels = hand_made()
    a = feature_statistics(test, labels, ["a", "b"], mi_samples=100, seed=1)
    b = feature_statistics(test, labels, ["a", "b"], mi_samples=100, seed=1)
    c = feature_statistics(test, labels, ["a", "b"], mi_samples=100, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["value"], c["value"])


def test_fig6_data_writes_one_block_per_model(feature_tree, tmp_path):
    models = [m for m in feature_tree["models"] if m.endswith("a0.5")]
    files = [f for f in feature_tree["files"] if "a0.5" in f and f.endswith("fold1.npz")]
    out = tmp_path / "fig6.tsv"
    table = fig6_data(files, out, dataset="demo", modalities=["normal", "fatsup"], models=models,
                      fold=1, mi_samples=50, seed=0)
    assert list(pd.read_csv(out, sep="\t").columns) == COLUMNS
    assert len(table) == 4 * 8 * 5
    assert table.groupby("model")["per_feature_norm"].first().to_dict() == {
        "axial-md0-pfn0-a0.5": 0, "axial-md0-pfn1-a0.5": 1,
        "axial-md1-pfn0-a0.5": 0, "axial-md1-pfn1-a0.5": 1}


def test_too_few_patches_is_an_input_error():
    with pytest.raises(InputError, match="at least 2 test patches"):
        feature_statistics(np.zeros((2, 1, 3)), np.zeros(1), ["a", "b"], 10, 0)
