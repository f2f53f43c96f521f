"""The specificity sweep: derived datasets and the collected table."""

import pandas as pd
import pytest

from crossmodal.errors import InputError
from crossmodal.evaluate import ACCURACY_COLUMNS
from crossmodal.specificity import SWEEP_COLUMNS, collect_specificity, derived_name, sweep_datasets

DATASETS = {
    "syn": {"synthetic": {"kind": "brats", "seed": 2, "rho": 0.5}, "modalities": ["t1", "t2"], "folds": 3},
    "real": {"root": "/data", "modalities": ["t1", "t2"], "folds": 5},
}


def test_derived_datasets_change_rho_only():
    derived = sweep_datasets(DATASETS, {"datasets": None, "rho": [1.0, 0.25, 0.0]})
    assert list(derived) == ["syn_rho100", "syn_rho025", "syn_rho000"]
    base, rho, block = derived["syn_rho025"]
    assert (base, rho) == ("syn", 0.25)
    assert block == {**DATASETS["syn"], "synthetic": {"kind": "brats", "seed": 2, "rho": 0.25}}
    assert DATASETS["syn"]["synthetic"]["rho"] == 0.5  # the configured block is not touched
    assert derived_name("synthetic_brats", 0.75) == "synthetic_brats_rho075"


@pytest.mark.parametrize("sweep, message", [
    ({"datasets": ["real"], "rho": [1.0]}, "'real' is not synthetic"),
    ({"datasets": ["nope"], "rho": [1.0]}, "'nope' is not a configured dataset"),
    ({"datasets": None, "rho": [0.5, 0.501]}, "clashes"),
])
def test_bad_sweeps_are_config_errors(sweep, message):
    with pytest.raises(InputError, match=message):
        sweep_datasets(DATASETS, sweep)


def _accuracy(path, dataset, model, values):
    pairs = [("t1", "t1"), ("t1", "t2"), ("t2", "t1"), ("t2", "t2")]
    rows = [{"dataset": dataset, "model": model, "fold": 0, "train_modality": s, "test_modality": t,
             "accuracy": v, "n_train": 10, "n_test": 10, "max_train_patches": None} for (s, t), v in zip(pairs, values)]
    pd.DataFrame(rows, columns=ACCURACY_COLUMNS).to_csv(path, sep="\t", index=False)
    return path


def test_collect_gives_one_row_per_rho_and_network(tmp_path):
    paths = [
        _accuracy(tmp_path / "a.tsv", "syn_rho100", "axial-md1-pfn1-a0.1", [0.9, 0.8, 0.7, 0.9]),
        _accuracy(tmp_path / "b.tsv", "syn_rho000", "axial-md1-pfn1-a0.1", [0.9, 0.5, 0.6, 0.9]),
        _accuracy(tmp_path / "c.tsv", "syn_rho000", "baseline-all", [0.8, 0.4, 0.4, 0.8]),
    ]
    table = collect_specificity(paths, [1.0, 0.0, 0.0], dataset="syn", modalities=["t1", "t2"],
                                output_path=tmp_path / "out.tsv")
    written = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert list(written.columns) == SWEEP_COLUMNS and len(written) == 3
    axial = table[table["model"] == "axial-md1-pfn1-a0.1"]
    assert axial["rho"].tolist() == [0.0, 1.0]  # sorted by rho within a network
    assert axial["cross_accuracy"].tolist() == pytest.approx([55.0, 75.0])
    assert axial["same_accuracy"].tolist() == pytest.approx([90.0, 90.0])
    baseline = table[table["model"] == "baseline-all"].iloc[0]
    assert baseline["kind"] == "baseline" and pd.isna(baseline["alpha"])
    with pytest.raises(InputError, match="3 tables for 2 rho"):
        collect_specificity(paths, [1.0, 0.0], dataset="syn", modalities=["t1", "t2"], output_path=tmp_path / "x.tsv")
