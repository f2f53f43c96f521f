"""Tests of crossmodal.evaluation.archive on hand-made tables, weights and histories."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from crossmodal.common.errors import InputError
from crossmodal.evaluation.archive import (
    PRODUCTS,
    differing_keys,
    entry_paths,
    key_digest,
    product_columns,
    read_provenance,
    standing_in,
    write_entry,
)
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS
from crossmodal.evaluation.feature_ncc import FEATURE_NCC_COLUMNS
from crossmodal.evaluation.feature_sd import FEATURE_SD_COLUMNS
from crossmodal.evaluation.feature_selection import FEATURE_SELECTION_COLUMNS

KEY = {
    "dataset": "knee",
    "model": "axial-md1-pfn1-a0.1",
    "fold": 1,
    "train": {"params": {"training": {"updates": 16384, "precision": "fp32"}, "code": "abc"}},
}


def write_inputs(tmp_path):
    """An accuracy table, a weights.pt trained in fp32 and a 3-epoch history.tsv."""
    accuracy = tmp_path / "fold1.tsv"
    rows = [
        ["knee", "axial-md1-pfn1-a0.1", 1, s, t, acc, 300, 120, 0]
        for s, t, acc in [("normal", "normal", 0.9), ("normal", "fatsup", 0.625)]
    ]
    pd.DataFrame(rows, columns=ACCURACY_COLUMNS).to_csv(accuracy, sep="\t", index=False)
    weights = tmp_path / "weights.pt"
    torch.save({"state_dict": {}, "model_id": "axial-md1-pfn1-a0.1", "precision": "fp32"}, weights)
    history = tmp_path / "history.tsv"
    pd.DataFrame({"epoch": [1, 2, 3], "seconds": [1.25, 2.0, 2.5]}).to_csv(history, sep="\t", index=False)
    return accuracy, weights, history


def test_key_digest_ignores_key_order_and_sees_values():
    reordered = {"train": KEY["train"], "fold": 1, "model": KEY["model"], "dataset": "knee"}
    assert key_digest(reordered) == key_digest(KEY)
    other = json.loads(json.dumps(KEY))
    other["train"]["params"]["training"]["updates"] = 8192
    assert key_digest(other) != key_digest(KEY)


def test_differing_keys_names_the_paths_that_differ():
    other = json.loads(json.dumps(KEY))
    other["train"]["params"]["code"] = "def"
    other["evaluate"] = {"params": {}}
    assert differing_keys(KEY, other) == ["evaluate", "train.params.code"]
    assert differing_keys(KEY, KEY) == []


def test_entry_paths():
    table, provenance = entry_paths("archive/conv", "accuracy", "knee", "baseline-all", 2)
    assert table.as_posix() == "archive/conv/knee/accuracy/baseline-all/fold2.tsv"
    assert provenance.as_posix() == "archive/conv/knee/accuracy/baseline-all/fold2.json"
    table, _ = entry_paths("archive/conv", "feature_sd", "knee", "baseline-all", 2)
    assert table.as_posix() == "archive/conv/knee/feature_sd/baseline-all/fold2.tsv"
    products = r"\['accuracy', 'feature_ncc', 'feature_sd', 'feature_selection'\]"
    with pytest.raises(InputError, match=f"no product 'features'; one of {products}"):
        entry_paths("archive/conv", "features", "knee", "baseline-all", 2)


def test_written_entry_stands_in_for_its_key_only(tmp_path):
    accuracy, weights, history = write_inputs(tmp_path)
    archive = tmp_path / "archive"
    table, provenance = entry_paths(archive, "accuracy", "knee", KEY["model"], 1)
    assert standing_in(archive, "accuracy", "knee", KEY["model"], 1, KEY) is None  # nothing archived yet

    record = write_entry("accuracy", accuracy, weights, history, KEY, table, provenance)

    assert table.read_bytes() == accuracy.read_bytes()
    assert read_provenance(provenance) == record
    assert record["key_sha256"] == key_digest(KEY)
    assert record["key"] == KEY
    measured = record["measured"]
    assert (measured["precision"], measured["train_seconds"], measured["epochs"]) == ("fp32", 5.8, 3)
    assert measured["archived_on_cpu"]
    assert standing_in(archive, "accuracy", "knee", KEY["model"], 1, KEY) == table
    other = json.loads(json.dumps(KEY))
    other["train"]["params"]["code"] = "edited"
    assert standing_in(archive, "accuracy", "knee", KEY["model"], 1, other) is None
    assert standing_in(archive, "accuracy", "knee", KEY["model"], 0, KEY) is None  # another fold
    # only the two entry files, no temporary file left beside them
    assert sorted(p.name for p in table.parent.iterdir()) == ["fold1.json", "fold1.tsv"]


def test_each_product_is_checked_with_its_owner_modules_columns():
    assert product_columns("accuracy") == ACCURACY_COLUMNS
    assert product_columns("feature_sd") == FEATURE_SD_COLUMNS
    assert product_columns("feature_ncc") == FEATURE_NCC_COLUMNS
    assert product_columns("feature_selection") == FEATURE_SELECTION_COLUMNS
    assert set(PRODUCTS) == {"accuracy", "feature_sd", "feature_ncc", "feature_selection"}
    with pytest.raises(InputError, match="no product 'features'"):
        product_columns("features")


def test_write_entry_refuses_an_accuracy_table_without_its_columns(tmp_path):
    accuracy, weights, history = write_inputs(tmp_path)
    pd.DataFrame({"model": ["x"]}).to_csv(accuracy, sep="\t", index=False)
    table, provenance = entry_paths(tmp_path / "archive", "accuracy", "knee", KEY["model"], 1)
    with pytest.raises(InputError, match="fold1.tsv: missing columns"):
        write_entry("accuracy", accuracy, weights, history, KEY, table, provenance)
    assert not table.exists() and not provenance.exists()


def test_read_provenance_names_a_broken_entry(tmp_path):
    accuracy, weights, history = write_inputs(tmp_path)
    table, provenance = entry_paths(tmp_path / "archive", "accuracy", "knee", KEY["model"], 1)
    write_entry("accuracy", accuracy, weights, history, KEY, table, provenance)
    table.unlink()
    with pytest.raises(InputError, match="has no table fold1.tsv beside it"):
        standing_in(tmp_path / "archive", "accuracy", "knee", KEY["model"], 1, KEY)
    provenance.write_text('{"format": 0}')
    with pytest.raises(InputError, match="fold1.json is not a provenance file of format 1"):
        read_provenance(provenance)
    provenance.write_text("{not json")
    with pytest.raises(InputError, match="fold1.json cannot be read"):
        read_provenance(provenance)


def test_each_product_is_archived_and_checked_on_its_own(tmp_path):
    accuracy, weights, history = write_inputs(tmp_path)
    spread = tmp_path / "spread.tsv"
    row = ["knee", KEY["model"], 1, "normal", 300, 120, 0.75, 0.5, 0.25]
    pd.DataFrame([row], columns=FEATURE_SD_COLUMNS).to_csv(spread, sep="\t", index=False)
    archive = tmp_path / "archive"
    table, provenance = entry_paths(archive, "feature_sd", "knee", KEY["model"], 1)
    # an accuracy table is not a feature_sd table: the product's own columns are checked
    with pytest.raises(InputError, match="missing columns .*rerun its feature_sd job"):
        write_entry("feature_sd", accuracy, weights, history, KEY, table, provenance)
    write_entry("feature_sd", spread, weights, history, KEY, table, provenance)
    assert table.read_bytes() == spread.read_bytes()
    assert standing_in(archive, "feature_sd", "knee", KEY["model"], 1, KEY) == table
    # the accuracy product of the same network has no entry
    assert standing_in(archive, "accuracy", "knee", KEY["model"], 1, KEY) is None
