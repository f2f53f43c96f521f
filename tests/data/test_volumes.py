from pathlib import Path

import pytest

from crossmodal.common.errors import InputError
from crossmodal.data.volumes import labels_path, mask_path, read_volume_index, volume_path


def test_file_names_of_a_scan():
    assert volume_path("v", "s01") == Path("v/s01.npy")
    assert labels_path("v", "s01") == Path("v/s01.labels.npy")
    assert mask_path("v", "s01") == Path("v/s01.mask.npy")


def test_index_keeps_ids_as_text(tmp_path):
    # numeric-looking ids must not turn into numbers (leading zeros would be lost)
    (tmp_path / "index.tsv").write_text("scan_id\tsubject_id\tpatch_size\n007\t0100\t11\n")
    index = read_volume_index(tmp_path)
    assert index["scan_id"].tolist() == ["007"]
    assert index["subject_id"].tolist() == ["0100"]
    assert index["patch_size"].tolist() == [11]


def test_missing_index_names_the_file_and_the_step(tmp_path):
    with pytest.raises(InputError, match=r"volumes/index\.tsv not found; run the normalize job"):
        read_volume_index(tmp_path / "volumes")
