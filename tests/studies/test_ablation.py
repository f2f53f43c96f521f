"""The ablation: derived datasets per level, which networks a level trains, the collected table."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.studies.ablation import (
    ABLATION_COLUMNS,
    ablation_datasets,
    ablation_models,
    collect_ablation,
    level_networks,
    paper_key,
    paper_values,
    read_ablation,
)
from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS
from crossmodal.evaluation.feature_sd import FEATURE_SD_COLUMNS

KNEE = {"synthetic": {"kind": "knee", "seed": 1, "n_subjects": 6}, "modalities": ["normal", "fatsup"],
        "patches_per_class": 100, "training": {"epochs": 8, "batch_size": 64, "updates": None}, "method": {}}
REAL = {"root": "/data", "paper": "brats", "modalities": ["t1", "t2"], "patches_per_class": 50,
        "training": {"epochs": 8, "batch_size": 64, "updates": None}, "method": {"bn_eps": 1e-3}}
MODELS = ablation_models([0.1])
ABLATION = {"datasets": None, "fold": 0, "seeds": 2, "updates": 512, "alpha": [0.1], "patches_per_class": [4], "subjects": [2],
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


def test_the_networks_are_the_alpha_0_row_the_plain_and_combined_networks_at_alpha_and_baseline_all():
    assert MODELS == ["axial-md0-pfn0-a0.0", "axial-md0-pfn1-a0.0", "axial-md1-pfn0-a0.0", "axial-md1-pfn1-a0.0",
                      "axial-md0-pfn0-a0.1", "axial-md1-pfn1-a0.1", "baseline-all"]
    assert ablation_models([]) == MODELS[:4] + ["baseline-all"]


def test_null_updates_keep_each_datasets_own_training_length():
    knee = {**KNEE, "training": {**KNEE["training"], "updates": 16384}}
    derived = ablation_datasets({"knee": knee, "real": REAL}, {**ABLATION, "updates": None})
    assert derived["knee_abl_default"].block["training"]["updates"] == 16384
    assert derived["real_abl_default"].block["training"] == REAL["training"]  # epochs, as configured


def test_a_level_is_the_same_whichever_other_levels_are_listed():
    # an ablation run in pieces lists a few levels per piece; the networks of a level are read
    # back from the archive only if its derived dataset, hence its networks' keys, is unchanged
    full = ablation_datasets({"knee": KNEE}, ABLATION)
    piece = ablation_datasets(
        {"knee": KNEE}, {**ABLATION, "method": [{"global_norm": "none_at_alpha0"}], "patches_per_class": [], "subjects": []}
    )
    assert list(piece) == ["knee_abl_default", "knee_abl_global_norm_none_at_alpha0"]
    assert all(piece[name] == full[name] for name in piece)


@pytest.mark.parametrize("change, message", [
    ({"datasets": ["nope"]}, "'nope' is not a configured dataset"),
    ({"method": [{"bn_momentum": 0.01}, {"bn_momentum": 0.01}]}, "clashes"),
])
def test_bad_ablations_are_config_errors(change, message):
    with pytest.raises(InputError, match=message):
        ablation_datasets({"knee": KNEE}, {**ABLATION, **change})


def test_a_method_level_trains_only_the_networks_it_changes():
    derived = ablation_datasets({"knee": KNEE}, ABLATION)
    trained = {name: [(where, model) for where, model in level_networks(derived, name, 2, MODELS) if where == name]
               for name in derived}  # fmt: skip
    everything = [(m, s) for m in MODELS for s in (m, f"{m}_seed1")]
    assert [model for _, model in trained["knee_abl_default"]] == [s for _, s in everything]
    assert len(trained["knee_abl_bn_momentum_0p01"]) == 14  # every network has batch normalization
    assert [m for _, m in trained["knee_abl_dropout_mode_independent_dropout_p_0p25"]] == [
        "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.0_seed1", "axial-md1-pfn1-a0.0", "axial-md1-pfn1-a0.0_seed1",
        "axial-md1-pfn1-a0.1", "axial-md1-pfn1-a0.1_seed1"]
    # global normalization off only at alpha = 0: the alpha = 0.1 networks are the default's
    assert [m for _, m in trained["knee_abl_global_norm_none_at_alpha0"]] == [
        "axial-md0-pfn0-a0.0", "axial-md0-pfn0-a0.0_seed1", "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.0_seed1"]
    assert len(trained["knee_abl_patches_x4"]) == len(trained["knee_abl_subjects_x2"]) == 14
    # the others come from the default level
    rows = level_networks(derived, "knee_abl_global_norm_none_at_alpha0", 2, MODELS)
    assert len(rows) == 14 and rows[2] == ("knee_abl_default", "axial-md0-pfn1-a0.0")
    assert rows[8] == ("knee_abl_default", "axial-md0-pfn0-a0.1")


def test_paper_values_are_the_table_i_cells_of_the_networks():
    oai = paper_values("oai", MODELS)
    assert [oai[(m, "cross")] for m in MODELS] == [33.5, 43.6, 43.4, 77.0, 52.5, 78.7, 70.0]
    assert oai[("axial-md1-pfn1-a0.0", "same")] == 81.6
    assert paper_values("brats", MODELS)[("axial-md1-pfn1-a0.0", "cross")] == 65.8 and paper_values(None, MODELS) == {}
    # an alpha outside the paper's grid has no value
    assert np.isnan(paper_values("oai", ["axial-md0-pfn0-a0.3"])[("axial-md0-pfn0-a0.3", "cross")])
    assert paper_key(KNEE) == "oai" and paper_key(REAL) == "brats" and paper_key({"root": "/x"}) is None


def _accuracy(path, dataset, model, values):
    pairs = [("t1", "t1"), ("t1", "t2"), ("t2", "t1"), ("t2", "t2")]
    rows = [{"dataset": dataset, "model": model, "fold": 0, "train_modality": s, "test_modality": t,
             "accuracy": v, "n_train": 10, "n_test": 10, "max_train_patches": None} for (s, t), v in zip(pairs, values)]
    pd.DataFrame(rows, columns=ACCURACY_COLUMNS).to_csv(path, sep="\t", index=False)
    return path


def _feature_sd(path, dataset, model, n_train, sd_median, low_sd_share):
    rows = [{"dataset": dataset, "model": model, "fold": 0, "modality": m, "train_patches": n_train, "test_patches": 4,
             "sd_mean": 1.0, "sd_median": v, "low_sd_share": w}
            for m, v, w in zip(["t1", "t2"], sd_median, low_sd_share)]  # fmt: skip
    pd.DataFrame(rows, columns=FEATURE_SD_COLUMNS).to_csv(path, sep="\t", index=False)
    return path


TRAINING = {"batch_size": 16, "epochs": 3, "updates": 60}


def test_collect_gives_one_row_per_level_network_and_seed(tmp_path):
    accuracy = [
        _accuracy(tmp_path / "a.tsv", "ds_abl_default", "axial-md1-pfn1-a0.0", [0.9, 0.7, 0.5, 0.8]),
        _accuracy(tmp_path / "b.tsv", "ds_abl_default", "axial-md0-pfn0-a0.1_seed1", [0.8, 0.6, 0.6, 0.8]),
        _accuracy(tmp_path / "c.tsv", "ds_abl_patches_x4", "baseline-all", [0.8, 0.4, 0.4, 0.8]),
    ]
    # 100 patches, batch 16: 7 updates per epoch (axial); baseline-all: 400 patches x 2 = 50 per epoch
    spread = [
        _feature_sd(tmp_path / "a_sd.tsv", "ds_abl_default", "axial-md1-pfn1-a0.0", 100, [0.9, 1.1], [0.0, 0.25]),
        _feature_sd(tmp_path / "b_sd.tsv", "ds_abl_default", "axial-md0-pfn0-a0.1_seed1", 100, [0.05, 0.15], [0.75, 0.5]),
        _feature_sd(tmp_path / "c_sd.tsv", "ds_abl_patches_x4", "baseline-all", 400, [0.5, 0.5], [0.0, 0.0]),
    ]
    levels = [{"factor": "default", "level": "default"}] * 2 + [{"factor": "patches_per_class", "level": "x4"}]
    table = collect_ablation(accuracy, spread, levels, dataset="ds", modalities=["t1", "t2"], models=MODELS,
                             paper="oai", training=TRAINING, output_path=tmp_path / "out.tsv")  # fmt: skip
    written = read_ablation(tmp_path / "out.tsv")
    assert list(written.columns) == ABLATION_COLUMNS and len(written) == 3
    assert written["model"].tolist() == ["axial-md1-pfn1-a0.0", "axial-md0-pfn0-a0.1", "baseline-all"]
    assert written["seed"].tolist() == [0, 1, 0]
    assert written["updates"].tolist() == [63, 63, 100]  # whole epochs: 9 x 7, 2 x 50
    assert written["cross_accuracy"].tolist() == pytest.approx([60.0, 60.0, 40.0])
    assert written["same_accuracy"].tolist() == pytest.approx([85.0, 80.0, 80.0])
    assert written["paper_cross_accuracy"].tolist() == [77.0, 52.5, 70.0]
    assert written["derived_dataset"].tolist() == ["ds_abl_default"] * 2 + ["ds_abl_patches_x4"]
    # the feature spread, averaged over the modalities
    assert written["feature_sd_median"].tolist() == pytest.approx([1.0, 0.1, 0.5])
    assert written["low_sd_share"].tolist() == pytest.approx([0.125, 0.625, 0.0])
    assert table.equals(written)
    with pytest.raises(InputError, match="3 accuracy tables, 2 feature_sd tables and 3 levels"):
        collect_ablation(accuracy, spread[:2], levels, dataset="ds", modalities=["t1", "t2"], models=MODELS,
                         paper=None, training=TRAINING, output_path=tmp_path / "x.tsv")  # fmt: skip
    with pytest.raises(InputError, match="b_sd.tsv is not of ds_abl_default/axial-md1-pfn1-a0.0"):
        collect_ablation(accuracy[:2], spread[1::-1], levels[:2], dataset="ds", modalities=["t1", "t2"],
                         models=MODELS, paper=None, training=TRAINING, output_path=tmp_path / "x.tsv")  # fmt: skip
    assert not (tmp_path / "x.tsv").exists()
