import pytest

from crossmodal.common.errors import InputError
from crossmodal.figures.inputs import feature_files_by_model, model_columns


def test_feature_files_must_be_model_major():
    files = ["r/f/m1/fold0.npz", "r/f/m1/fold1.npz", "r/f/m2/fold0.npz", "r/f/m2/fold1.npz"]
    assert feature_files_by_model(files, ["m1", "m2"], [0, 1])["m2"][1] == "r/f/m2/fold1.npz"
    with pytest.raises(InputError, match="expected the features of m1 fold 1"):
        feature_files_by_model([files[0], files[2], files[1], files[3]], ["m1", "m2"], [0, 1])


def test_model_columns_parse_axial_ids_and_refuse_baselines():
    assert model_columns("axial-md1-pfn0-a0.2", ["a", "b"]) == {
        "modality_dropout": 1, "per_feature_norm": 0, "alpha": 0.2}
    with pytest.raises(InputError, match="not an axial network"):
        model_columns("baseline-all", ["a", "b"])
