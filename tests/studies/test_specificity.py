"""The specificity sweep: derived datasets and the collected table."""

import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS
from crossmodal.studies.difficulty import COLUMNS, write_difficulty
from crossmodal.studies.specificity import SWEEP_COLUMNS, collect_specificity, derived_name, seed_summary, sweep_datasets

DATASETS = {
    "syn": {"synthetic": {"kind": "brats", "seed": 2, "kappa": 0.0}, "modalities": ["t1", "t2"], "folds": 3},
    "real": {"root": "/data", "modalities": ["t1", "t2"], "folds": 5},
}


def test_derived_datasets_change_kappa_only():
    derived = sweep_datasets(DATASETS, {"datasets": None, "kappa": [1.0, 0.25, 0.0, -0.5]})
    assert list(derived) == ["syn_kappap100", "syn_kappap025", "syn_kappap000", "syn_kappam050"]
    base, kappa, block = derived["syn_kappam050"]
    assert (base, kappa) == ("syn", -0.5)
    assert block == {**DATASETS["syn"], "synthetic": {"kind": "brats", "seed": 2, "kappa": -0.5}}
    assert DATASETS["syn"]["synthetic"]["kappa"] == 0.0  # the configured block is not touched
    assert derived_name("synthetic_brats", 0.75) == "synthetic_brats_kappap075"
    assert derived_name("synthetic_brats", -1) == "synthetic_brats_kappam100"


@pytest.mark.parametrize("sweep, message", [
    ({"datasets": ["real"], "kappa": [1.0]}, "'real' is not synthetic"),
    ({"datasets": ["nope"], "kappa": [1.0]}, "'nope' is not a configured dataset"),
    ({"datasets": None, "kappa": [0.5, 0.501]}, "clashes"),
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


def _difficulty(path, cross_r2):
    rows = [("t1", "t1", 80.0, 1.0), ("t1", "t2", 60.0, cross_r2[0]), ("t2", "t1", 60.0, cross_r2[1]), ("t2", "t2", 80.0, 1.0)]
    write_difficulty(pd.DataFrame(rows, columns=COLUMNS), path)
    return path


def test_collect_gives_one_row_per_kappa_network_and_seed(tmp_path):
    paths = [
        _accuracy(tmp_path / "a.tsv", "syn_kappap100", "axial-md1-pfn1-a0.1", [0.9, 0.8, 0.7, 0.9]),
        _accuracy(tmp_path / "b.tsv", "syn_kappam100", "axial-md1-pfn1-a0.1", [0.9, 0.5, 0.6, 0.9]),
        _accuracy(tmp_path / "c.tsv", "syn_kappam100", "axial-md1-pfn1-a0.1_seed2", [0.8, 0.4, 0.5, 0.8]),
        _accuracy(tmp_path / "d.tsv", "syn_kappam100", "baseline-all", [0.8, 0.4, 0.4, 0.8]),
    ]
    difficulty = [_difficulty(tmp_path / "dp.tsv", (0.9, 0.8)), _difficulty(tmp_path / "dm.tsv", (0.2, 0.1))]
    table = collect_specificity(paths, [1.0, -1.0, -1.0, -1.0], difficulty, [1.0, -1.0], dataset="syn",
                                modalities=["t1", "t2"], output_path=tmp_path / "out.tsv")
    written = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert list(written.columns) == SWEEP_COLUMNS and len(written) == 4
    axial = table[table["model"] == "axial-md1-pfn1-a0.1"]
    assert axial["value"].tolist() == [1.0, -1.0, -1.0]  # from shared to specific, then by seed
    assert axial["seed"].tolist() == [0, 0, 2] and set(table["knob"]) == {"kappa"}
    assert axial["cross_accuracy"].tolist() == pytest.approx([75.0, 55.0, 45.0])
    assert axial["predictability_r2"].tolist() == pytest.approx([0.85, 0.15, 0.15])
    baseline = table[table["model"] == "baseline-all"].iloc[0]
    assert baseline["kind"] == "baseline" and pd.isna(baseline["alpha"])
    summary = seed_summary(table).set_index(["model", "value"])
    row = summary.loc[("axial-md1-pfn1-a0.1", -1.0)]
    assert row["n_seeds"] == 2 and row["cross_accuracy_mean"] == pytest.approx(50.0)
    assert row["cross_accuracy_sd"] == pytest.approx(pd.Series([55.0, 45.0]).std())
    assert summary.loc[("axial-md1-pfn1-a0.1", 1.0), "cross_accuracy_sd"] == 0.0  # one seed
    with pytest.raises(InputError, match="4 tables for 3 kappa"):
        collect_specificity(paths, [1.0, -1.0, -1.0], difficulty, [1.0, -1.0], dataset="syn",
                            modalities=["t1", "t2"], output_path=tmp_path / "x.tsv")
    with pytest.raises(InputError, match=r"no difficulty table for kappa \[-1.0\]"):
        collect_specificity(paths, [1.0, -1.0, -1.0, -1.0], difficulty[:1], [1.0], dataset="syn",
                            modalities=["t1", "t2"], output_path=tmp_path / "x.tsv")
    assert not (tmp_path / "x.tsv").exists()
