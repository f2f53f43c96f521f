"""The ablation: derived datasets per level, which networks a level trains, the collected table."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.studies.ablation import (
    ABLATION_COLUMNS,
    ABLATION_MODELS,
    ablation_datasets,
    collect_ablation,
    level_networks,
    paper_key,
    paper_values,
    read_ablation,
)
from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS
from crossmodal.training.features import write_features

KNEE = {"synthetic": {"kind": "knee", "seed": 1, "n_subjects": 6}, "modalities": ["normal", "fatsup"],
        "patches_per_class": 100, "training": {"epochs": 8, "batch_size": 64, "updates": None}, "method": {}}
REAL = {"root": "/data", "paper": "brats", "modalities": ["t1", "t2"], "patches_per_class": 50,
        "training": {"epochs": 8, "batch_size": 64, "updates": None}, "method": {"bn_eps": 1e-3}}
ABLATION = {"datasets": None, "fold": 0, "seeds": 2, "updates": 512, "patches_per_class": [4], "subjects": [2],
            "method": [{"bn_momentum": 0.01}, {"dropout_mode": "independent", "dropout_p": 0.25},
                       {"global_norm": "none_at_alpha0"}]}


def test_one_derived_dataset_per_level_each_one_change_from_the_default():
    derived = ablation_datasets({"knee": KNEE, "real": REAL}, ABLATION)
    assert list(derived)[:6] == ["knee_abl_default", "knee_abl_bn_momentum_0p01",
                                 "knee_abl_dropout_mode_independent_dropout_p_0p25",
                                 "knee_abl_global_norm_none_at_alpha0", "knee_abl_patches_x4", "knee_abl_subjects_x2"]
    # a real dataset gets no subject level
    assert list(derived)[6:] == ["real_abl_default", "real_abl_bn_momentum_0p01",
                                 "real_abl_dropout_mode_independent_dropout_p_0p25",
                                 "real_abl_global_norm_none_at_alpha0", "real_abl_patches_x4"]
    default = derived["knee_abl_default"]
    assert (default.base, default.factor, default.level) == ("knee", "default", "default")
    assert default.block == {**KNEE, "training": {**KNEE["training"], "updates": 512}}
    level = derived["knee_abl_dropout_mode_independent_dropout_p_0p25"]
    assert (level.factor, level.level) == ("dropout_mode", "independent (dropout_p=0.25)")
    assert level.block == {**default.block, "method": {"dropout_mode": "independent", "dropout_p": 0.25}}
    assert derived["knee_abl_patches_x4"].block["patches_per_class"] == 400
    assert derived["knee_abl_subjects_x2"].block["synthetic"]["n_subjects"] == 12
    # a level is applied on top of the dataset's own method block
    assert derived["real_abl_bn_momentum_0p01"].block["method"] == {"bn_eps": 1e-3, "bn_momentum": 0.01}
    assert KNEE["training"]["updates"] is None and KNEE["method"] == {}  # the config is not touched


@pytest.mark.parametrize("change, message", [
    ({"datasets": ["nope"]}, "'nope' is not a configured dataset"),
    ({"method": [{"bn_momentum": 0.01}, {"bn_momentum": 0.01}]}, "clashes"),
])
def test_bad_ablations_are_config_errors(change, message):
    with pytest.raises(InputError, match=message):
        ablation_datasets({"knee": KNEE}, {**ABLATION, **change})


def test_a_method_level_trains_only_the_networks_it_changes():
    derived = ablation_datasets({"knee": KNEE}, ABLATION)
    trained = {name: [(where, model) for where, model in level_networks(derived, name, 2) if where == name]
               for name in derived}  # fmt: skip
    everything = [(m, s) for m in ABLATION_MODELS for s in (m, f"{m}_seed1")]
    assert [model for _, model in trained["knee_abl_default"]] == [s for _, s in everything]
    assert len(trained["knee_abl_bn_momentum_0p01"]) == 10  # every network has batch normalization
    assert [m for _, m in trained["knee_abl_dropout_mode_independent_dropout_p_0p25"]] == [
        "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.0_seed1", "axial-md1-pfn1-a0.0", "axial-md1-pfn1-a0.0_seed1"]
    assert [m for _, m in trained["knee_abl_global_norm_none_at_alpha0"]] == [
        "axial-md0-pfn0-a0.0", "axial-md0-pfn0-a0.0_seed1", "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.0_seed1"]
    assert len(trained["knee_abl_patches_x4"]) == len(trained["knee_abl_subjects_x2"]) == 10
    # the others come from the default level
    rows = level_networks(derived, "knee_abl_global_norm_none_at_alpha0", 2)
    assert len(rows) == 10 and rows[2] == ("knee_abl_default", "axial-md0-pfn1-a0.0")


def test_paper_values_are_table_i_at_alpha_0():
    oai = paper_values("oai")
    assert [oai[(m, "cross")] for m in ABLATION_MODELS] == [33.5, 43.6, 43.4, 77.0, 70.0]
    assert oai[("axial-md1-pfn1-a0.0", "same")] == 81.6
    assert paper_values("brats")[("axial-md1-pfn1-a0.0", "cross")] == 65.8 and paper_values(None) == {}
    assert paper_key(KNEE) == "oai" and paper_key(REAL) == "brats" and paper_key({"root": "/x"}) is None


def _accuracy(path, dataset, model, values):
    pairs = [("t1", "t1"), ("t1", "t2"), ("t2", "t1"), ("t2", "t2")]
    rows = [{"dataset": dataset, "model": model, "fold": 0, "train_modality": s, "test_modality": t,
             "accuracy": v, "n_train": 10, "n_test": 10, "max_train_patches": None} for (s, t), v in zip(pairs, values)]
    pd.DataFrame(rows, columns=ACCURACY_COLUMNS).to_csv(path, sep="\t", index=False)
    return path


def _features(path, n_train):
    rng = np.random.default_rng(0)
    write_features(path, ["t1", "t2"], train_features=rng.random((2, n_train, 3)), test_features=rng.random((2, 4, 3)),
                   train_labels=np.zeros(n_train), test_labels=np.zeros(4), train_scans=np.array(["a"] * n_train),
                   test_scans=np.array(["b"] * 4))  # fmt: skip
    return path


def test_collect_gives_one_row_per_level_network_and_seed(tmp_path):
    accuracy = [
        _accuracy(tmp_path / "a.tsv", "ds_abl_default", "axial-md1-pfn1-a0.0", [0.9, 0.7, 0.5, 0.8]),
        _accuracy(tmp_path / "b.tsv", "ds_abl_default", "axial-md1-pfn1-a0.0_seed1", [0.8, 0.6, 0.6, 0.8]),
        _accuracy(tmp_path / "c.tsv", "ds_abl_patches_x4", "baseline-all", [0.8, 0.4, 0.4, 0.8]),
    ]
    # 100 patches, batch 16: 7 updates per epoch (axial); baseline-all: 400 patches x 2 = 50 per epoch
    features = [_features(tmp_path / "a.npz", 100), _features(tmp_path / "b.npz", 100), _features(tmp_path / "c.npz", 400)]
    levels = [{"factor": "default", "level": "default"}] * 2 + [{"factor": "patches_per_class", "level": "x4"}]
    table = collect_ablation(accuracy, features, levels, dataset="ds", modalities=["t1", "t2"], paper="oai",
                             updates=60, batch_size=16, output_path=tmp_path / "out.tsv")  # fmt: skip
    written = read_ablation(tmp_path / "out.tsv")
    assert list(written.columns) == ABLATION_COLUMNS and len(written) == 3
    assert written["model"].tolist() == ["axial-md1-pfn1-a0.0"] * 2 + ["baseline-all"]
    assert written["seed"].tolist() == [0, 1, 0]
    assert written["updates"].tolist() == [63, 63, 100]  # whole epochs: 9 x 7, 2 x 50
    assert written["cross_accuracy"].tolist() == pytest.approx([60.0, 60.0, 40.0])
    assert written["same_accuracy"].tolist() == pytest.approx([85.0, 80.0, 80.0])
    assert written["paper_cross_accuracy"].tolist() == [77.0, 77.0, 70.0]
    assert written["derived_dataset"].tolist() == ["ds_abl_default"] * 2 + ["ds_abl_patches_x4"]
    assert table.equals(written)
    with pytest.raises(InputError, match="3 accuracy tables, 2 features files and 3 levels"):
        collect_ablation(accuracy, features[:2], levels, dataset="ds", modalities=["t1", "t2"], paper=None,
                         updates=60, batch_size=16, output_path=tmp_path / "x.tsv")  # fmt: skip
