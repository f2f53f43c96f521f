"""Tests of crossmodal.reporting.claims on hand-made accuracy tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crossmodal.reporting.claims import (
    CLAIM_COLUMNS,
    CLAIMS,
    Claim,
    Term,
    claims_markdown,
    claims_table,
    parse_contrast,
    read_claims,
    select_cells,
    t_interval,
    verdict,
    verdict_counts,
    write_claims,
)
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import cell_ids, network_ids, seeded_id
from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS

MODS = ["normal", "fatsup"]
GRID = {"modality_dropout": [0, 1], "per_feature_norm": [0, 1], "alpha": [0.0, 0.5]}
CELLS = cell_ids(GRID)
# Student's t, 97.5 % quantile, 2 degrees of freedom: closed form (2p - 1) / sqrt(2p(1 - p))
T_975_2 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
# (network, setting) -> accuracy (percent) per fold; every other network and setting: 50
VALUES = {
    # pfn_with_md_a0: +5 in every fold
    ("axial-md1-pfn1-a0.0", "cross"): [55, 55, 55],
    # md_with_pfn_a0: 30, 34, 35 (mean 33, the paper's OAI 77.0 - 43.6 = 33.4 inside)
    ("axial-md0-pfn1-a0.0", "cross"): [25, 21, 20],
    # combination_vs_baseline_all (md1-pfn1-a0.5 cross is 50): +2, -2, 0
    ("baseline-all", "cross"): [48, 52, 50],
    # single_baseline_same (baseline-all same is 50): -10, -9, -11
    ("baseline-normal", "same"): [40, 41, 39],
    ("baseline-fatsup", "same"): [40, 41, 39],
}


def accuracy_rows(seeds=(0,), values=VALUES, shift=0.0):
    """Evaluate rows of every network of the grid, 3 folds; every pair of a setting equal."""
    rows = []
    for network in network_ids(GRID, MODS):
        train = [network[len("baseline-"):]] if network in ("baseline-normal", "baseline-fatsup") else MODS
        for seed in seeds:
            for fold in range(3):
                for s in train:
                    for t in MODS:
                        setting = "same" if s == t else "cross"
                        percent = values.get((network, setting), [50, 50, 50])[fold] + shift * seed
                        rows.append({"dataset": "knee", "model": seeded_id(network, seed), "fold": fold,
                                     "train_modality": s, "test_modality": t, "accuracy": percent / 100,
                                     "n_train": 10, "n_test": 5, "max_train_patches": None})
    return pd.DataFrame(rows)[ACCURACY_COLUMNS]


def by_key(table):
    return table.set_index("key")


def test_t_interval_values_zero_spread_and_one_unit():
    low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    half = T_975_2 * 1.0 / math.sqrt(3)
    assert (low, high) == pytest.approx((2 - half, 2 + half), abs=1e-12)
    assert t_interval(np.array([5.0, 5.0, 5.0])) == (5.0, 5.0)
    assert all(math.isnan(v) for v in t_interval(np.array([5.0])))


def test_verdict_against_zero_and_a_margin():
    assert verdict(0.5, 3.0) == "holds"
    assert verdict(-3.0, -0.5) == "contradicted"
    assert verdict(-1.0, 1.0) == "undecided"
    assert verdict(0.0, 1.0) == "undecided"  # the margin itself is inside
    assert verdict(math.nan, math.nan) == "undecided"
    assert verdict(-1.5, -0.5, margin=-2.0) == "holds"
    assert verdict(-3.5, -2.5, margin=-2.0) == "contradicted"


def test_all_folds_plus_five_with_zero_spread_holds():
    row = by_key(claims_table(accuracy_rows(), dataset="knee", modalities=MODS, cells=CELLS,
                              paper="oai")).loc["pfn_with_md_a0"]
    assert row["our_difference"] == pytest.approx(5.0, abs=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((5.0, 5.0), abs=1e-9)
    assert row["n"] == 3 and row["verdict"] == "holds"
    assert row["paper_difference"] == pytest.approx(77.0 - 43.4)
    assert not row["paper_in_ci"]
    assert row["contrast"] == "cross[md1-pfn1-a0] - cross[md1-pfn0-a0]"
    assert row["section"] == "V-A, VII"


def test_straddling_zero_is_undecided_and_negative_is_contradicted():
    table = by_key(claims_table(accuracy_rows(), dataset="knee", modalities=MODS, cells=CELLS,
                                paper="oai"))
    straddling = table.loc["combination_vs_baseline_all"]
    half = T_975_2 * 2.0 / math.sqrt(3)  # differences 2, -2, 0: SD 2
    assert (straddling["ci_low"], straddling["ci_high"]) == pytest.approx((-half, half), abs=1e-9)
    assert straddling["verdict"] == "undecided"
    assert straddling["paper_difference"] == pytest.approx(78.2 - 70.0)  # only alpha 0.5 is in the grid
    assert not straddling["paper_in_ci"]
    negative = table.loc["single_baseline_same"]
    assert negative["our_difference"] == pytest.approx(-10.0, abs=1e-9)
    assert negative["ci_high"] < 0 and negative["verdict"] == "contradicted"
    assert negative["paper_difference"] == pytest.approx(79.4 - 79.6)


def test_paper_inside_our_interval():
    row = by_key(claims_table(accuracy_rows(), dataset="knee", modalities=MODS, cells=CELLS,
                              paper="oai")).loc["md_with_pfn_a0"]
    half = T_975_2 * float(np.std([30, 34, 35], ddof=1)) / math.sqrt(3)
    assert row["our_difference"] == pytest.approx(33.0, abs=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((33 - half, 33 + half), abs=1e-9)
    assert row["paper_difference"] == pytest.approx(77.0 - 43.6)
    assert row["paper_in_ci"] and row["verdict"] == "holds"


def test_seeds_are_units_and_no_paper_row_gives_nan():
    # seed 1 adds 1 point to every accuracy: contrasts unchanged, 6 units
    table = by_key(claims_table(accuracy_rows(seeds=(0, 1), shift=1.0), dataset="mine",
                                modalities=MODS, cells=CELLS, paper=None))
    row = table.loc["pfn_with_md_a0"]
    assert row["n"] == 6 and row["n_folds"] == 3 and row["our_difference"] == pytest.approx(5.0, abs=1e-9)
    assert row["verdict"] == "holds"
    assert table["paper_difference"].isna().all() and table["paper_in_ci"].isna().all()
    assert set(table["dataset"]) == {"mine"}


def test_the_interval_is_over_fold_means_not_over_seeds_as_if_independent():
    # pfn_with_md_a0 is +3, +1, +2 in folds 0-2 and the same for all 3 seeds of a fold: the
    # seeds add no information about the test scans, so the interval is the 3 folds' one,
    # 2 +- t(0.975, 2) x 1 / sqrt(3) (undecided), not the 9 units' 2 +- t(0.975, 8) x SD / 3,
    # which would exclude 0 ([+1.33, +2.67]) by counting each fold three times
    values = {("axial-md1-pfn1-a0.0", "cross"): [53, 51, 52]}
    row = by_key(claims_table(accuracy_rows(seeds=(0, 1, 2), values=values), dataset="knee",
                              modalities=MODS, cells=CELLS, paper=None)).loc["pfn_with_md_a0"]
    half = T_975_2 / math.sqrt(3)
    assert (row["n"], row["n_folds"]) == (9, 3)
    assert row["our_difference"] == pytest.approx(2.0, abs=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((2.0 - half, 2.0 + half), abs=1e-9)
    assert row["verdict"] == "undecided"


def test_interaction_and_margin_contrasts():
    values = {**VALUES, ("axial-md0-pfn0-a0.5", "cross"): [60, 62, 64],
              ("axial-md1-pfn1-a0.5", "same"): [49, 49, 49]}
    table = by_key(claims_table(accuracy_rows(values=values), dataset="knee", modalities=MODS,
                                cells=CELLS, paper="brats"))
    # (plain a0.5 - a0) - (combination a0.5 - a0) = (10, 12, 14) - (50 - 55)
    assert table.loc["sim_gain_smaller_with_both", "our_difference"] == pytest.approx(17.0, abs=1e-9)
    # same-modality cost -1 against the margin -2, zero spread: holds
    cost = table.loc["same_cost_below_2"]
    assert cost["our_difference"] == pytest.approx(-1.0, abs=1e-9) and cost["margin"] == -2.0
    assert cost["verdict"] == "holds"
    assert cost["paper_difference"] == pytest.approx(76.8 - 73.0)


def test_a_grid_without_the_cells_of_a_claim_leaves_it_untested():
    grid = {**GRID, "alpha": [0.0]}
    acc = accuracy_rows()
    acc = acc[~acc.model.str.endswith("a0.5")]
    table = by_key(claims_table(acc, dataset="knee", modalities=MODS, cells=cell_ids(grid), paper="oai"))
    assert table.loc["sim_plain", "verdict"] == "untested" and table.loc["sim_plain", "n"] == 0
    assert table.loc["pfn_with_md_a0", "verdict"] == "holds"


def test_cells_from_other_seeds_are_an_error():
    acc = pd.concat([accuracy_rows(), accuracy_rows(seeds=(1,)).query("model == 'baseline-all_seed1'")])
    with pytest.raises(InputError, match="different folds or seeds"):
        claims_table(acc, dataset="knee", modalities=MODS, cells=CELLS, paper="oai",
                     claims=(Claim("x", "x", "cross[baseline-all] - cross[md0-pfn0-a0]", "V-A"),))


def test_contrast_parsing_and_selection():
    assert parse_contrast("cross[md1-pfn1-a>0] - same[baseline-all] + cross[md*-pfn0-a0.5]") == [
        Term(1, "cross", "md1-pfn1-a>0"), Term(-1, "same", "baseline-all"), Term(1, "cross", "md*-pfn0-a0.5")]
    for bad in ("cross[md1-pfn1-a0] -", "cross[md2-pfn1-a0]", "diff[baseline-all]", "cross[a] * cross[b]"):
        with pytest.raises(InputError):
            parse_contrast(bad)
    assert select_cells("md1-pfn*-a>0", CELLS) == ["axial-md1-pfn0-a0.5", "axial-md1-pfn1-a0.5"]
    assert select_cells("md*-pfn*-a0", CELLS) == [c for c in CELLS if c.endswith("a0.0")]
    assert select_cells("baseline-single", CELLS) == ["baseline-single"]
    assert select_cells("md1-pfn1-a0.1", CELLS) == []
    for claim in CLAIMS:
        assert parse_contrast(claim.contrast)
        assert claim.section.split(", ")[0] in {"V-A", "VI", "VI-A", "VI-B", "VII"}
    assert len({c.key for c in CLAIMS}) == len(CLAIMS)


def test_one_fold_gives_no_interval_and_every_verdict_undecided():
    """run_folds=0: the differences are measured, but one fold mean has no t interval."""
    one_fold = accuracy_rows()
    table = by_key(claims_table(one_fold[one_fold["fold"] == 0], dataset="knee", modalities=MODS,
                                cells=CELLS, paper="oai"))
    row = table.loc["md_with_pfn_a0"]
    assert row["our_difference"] == pytest.approx(30.0) and row["n"] == 1 and row["n_folds"] == 1
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"]) and pd.isna(row["paper_in_ci"])
    assert set(table["verdict"]) == {"undecided"}
    words = claims_markdown(table.reset_index().assign(dataset="knee"), ["knee"])
    line = [w for w in words if w.startswith("- undecided: With per-feature normalization, modality")][0]
    assert line.endswith("ours +30.0 (n = 1, 1 fold: no interval), paper +33.4.")


def test_write_read_and_words(tmp_path):
    path = tmp_path / "acc.tsv"
    accuracy_rows().to_csv(path, sep="\t", index=False)
    out = tmp_path / "knee" / "claims.tsv"
    table = write_claims([path], out, dataset="knee", modalities=MODS, cells=CELLS, paper="oai")
    back = read_claims([out])
    assert list(back.columns) == CLAIM_COLUMNS and len(back) == len(CLAIMS)
    assert back["our_difference"].tolist() == pytest.approx(table["our_difference"].round(3).tolist())
    counts = table["verdict"].value_counts()
    words = claims_markdown(back, ["knee"])
    assert words[words.index("### knee") + 2] == verdict_counts(back) == (
        f"holds: {counts.get('holds', 0)}, contradicted: {counts.get('contradicted', 0)}, "
        f"undecided: {counts.get('undecided', 0)}")
    line = [w for w in words if "costs less than 2 points" in w][0]
    assert line.startswith("- ") and "(margin -2)" in line
    five = [w for w in words if w.startswith("- holds: With modality dropout, per-feature normalization")][0]
    assert five.endswith("ours +5.0 [+5.0, +5.0] (n = 3, 3 folds), paper +33.6, outside our interval.")
    broken = tmp_path / "broken.tsv"
    back.assign(verdict="maybe").to_csv(broken, sep="\t", index=False)
    with pytest.raises(InputError, match="unknown verdicts"):
        read_claims([broken])
