import pytest

from crossmodal.common.errors import InputError
from crossmodal.figures.inputs import files_by_model, model_columns


def test_files_must_be_model_major():
    files = ["r/f/m1/fold0.npz", "r/f/m1/fold1.npz", "r/f/m2/fold0.npz", "r/f/m2/fold1.npz"]
    assert files_by_model(files, ["m1", "m2"], [0, 1], ".npz")["m2"][1] == "r/f/m2/fold1.npz"
    with pytest.raises(InputError, match="expected the file of m1 fold 1"):
        files_by_model([files[0], files[2], files[1], files[3]], ["m1", "m2"], [0, 1], ".npz")


def test_files_must_have_the_suffix_and_one_per_model_and_fold():
    tables = ["a/m1/fold0.tsv", "a/m1/fold1.tsv"]
    assert files_by_model(tables, ["m1"], [0, 1], ".tsv") == {"m1": {0: tables[0], 1: tables[1]}}
    with pytest.raises(InputError, match=r"\(.../m1/fold0.npz\), got a/m1/fold0.tsv"):
        files_by_model(tables, ["m1"], [0, 1], ".npz")
    with pytest.raises(InputError, match="1 files for 1 models x 2 folds"):
        files_by_model(tables[:1], ["m1"], [0, 1], ".tsv")


def test_model_columns_parse_axial_ids_and_refuse_baselines():
    assert model_columns("axial-md1-pfn0-a0.2", ["a", "b"]) == {
        "modality_dropout": 1, "per_feature_norm": 0, "alpha": 0.2}
    with pytest.raises(InputError, match="not an axial network"):
        model_columns("baseline-all", ["a", "b"])
