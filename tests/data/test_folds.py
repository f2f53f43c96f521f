"""Subject-grouped, balanced, seeded folds and test-fold halves."""

from __future__ import annotations

import pandas as pd
import pytest

from crossmodal.common.dataset_checks import check_subject_count
from crossmodal.common.errors import InputError
from crossmodal.data.folds import assign_folds, make_folds, read_folds

# 10 subjects with 1-3 scans each: 19 scans
SCAN_COUNTS = {"a": 3, "b": 1, "c": 2, "d": 2, "e": 1, "f": 3, "g": 2, "h": 1, "i": 2, "j": 2}
SUBJECTS = [s for s, n in SCAN_COUNTS.items() for _ in range(n)]
SCANS = [f"{s}{k}" for s, n in SCAN_COUNTS.items() for k in range(n)]


def test_folds_are_grouped_complete_and_balanced():
    table = assign_folds(SCANS, SUBJECTS, 3, seed=5, name="demo")
    assert table.columns.tolist() == ["scan_id", "subject_id", "fold", "half"]
    assert table["scan_id"].tolist() == SCANS  # every scan exactly once, manifest order
    assert (table.groupby("subject_id")["fold"].nunique() == 1).all()
    assert (table.groupby("subject_id")["half"].nunique() == 1).all()
    sizes = table["fold"].value_counts().sort_index().tolist()
    assert sorted(sizes) == [6, 6, 7] and sum(sizes) == 19
    assert max(sizes) - min(sizes) <= max(SCAN_COUNTS.values())
    for _, fold in table.groupby("fold"):
        assert set(fold["half"]) == {0, 1}


def test_folds_are_deterministic_and_depend_on_seed():
    a = assign_folds(SCANS, SUBJECTS, 3, seed=5)
    pd.testing.assert_frame_equal(a, assign_folds(SCANS, SUBJECTS, 3, seed=5))
    b = assign_folds(SCANS, SUBJECTS, 3, seed=6)
    assert not a[["fold", "half"]].equals(b[["fold", "half"]])


def test_equal_subjects_give_equal_folds():
    table = assign_folds([f"s{i}" for i in range(10)], [f"p{i}" for i in range(10)], 5, seed=0)
    assert table["fold"].value_counts().tolist() == [2] * 5
    assert table.groupby("fold")["half"].apply(sorted).tolist() == [[0, 1]] * 5


def test_too_few_subjects_are_errors():
    with pytest.raises(InputError, match=r"^config datasets\.demo\.folds = 4, but the dataset has 3 subjects: each "
                       r"fold needs at least 2 \(its two subject-grouped halves\), so 4 folds need 8; add "
                       r"subjects \(at least 4\)$"):
        assign_folds(["s1", "s2", "s3"], ["p1", "p2", "p3"], 4, seed=0, name="demo")
    with pytest.raises(InputError, match=r"folds = 3, but the dataset has 5 subjects: .* so 3 folds need 6; set it "
                       r"to at most 2 or add subjects$"):
        check_subject_count(5, 3, "demo")
    check_subject_count(6, 3, "demo")
    # enough subjects, but one with three scans fills fold 0 alone (folds balance scans)
    with pytest.raises(InputError, match="fold 0 holds 1 subject.*a subject with many scans fills this one"):
        assign_folds(["a1", "a2", "a3", "b", "c", "d"], ["p1", "p1", "p1", "p2", "p3", "p4"], 2, seed=0, name="demo")
    with pytest.raises(InputError, match="listed twice"):
        assign_folds(["s1", "s1", "s3", "s4"], ["p1", "p2", "p3", "p4"], 2, seed=0)


def test_make_folds_round_trip(tmp_path):
    manifest = tmp_path / "manifest.tsv"
    pd.DataFrame({"scan_id": SCANS, "subject_id": SUBJECTS, "label": "x"}).to_csv(manifest, sep="\t", index=False)
    written = make_folds(manifest, tmp_path / "folds.tsv", 3, seed=5, name="demo")
    read = read_folds(tmp_path / "folds.tsv")
    pd.testing.assert_frame_equal(read, written, check_dtype=False)
    pd.testing.assert_frame_equal(read, assign_folds(SCANS, SUBJECTS, 3, seed=5), check_dtype=False)


def test_read_folds_checks_columns(tmp_path):
    path = tmp_path / "folds.tsv"
    pd.DataFrame({"scan_id": ["a"], "subject_id": ["1"], "fold": [0]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=r"missing columns \['half'\]; rerun its folds job"):
        read_folds(path)


def test_read_folds_checks_halves(tmp_path):
    path = tmp_path / "folds.tsv"
    pd.DataFrame({"scan_id": ["a"], "subject_id": ["1"], "fold": [0], "half": [2]}).to_csv(
        path, sep="\t", index=False)
    with pytest.raises(InputError, match="half must be 0 or 1"):
        read_folds(path)
