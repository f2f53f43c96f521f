import pytest
from crossmodal.common.errors import InputError

from crossmodal.common.model_ids import (
    ModelSpec,
    axial_model_ids,
    cell_ids,
    cell_networks,
    curve_ids,
    format_alpha,
    network_ids,
    parse_model_id,
    variant_ids,
)

GRID = {"modality_dropout": [0, 1], "per_feature_norm": [0, 1], "alpha": [0.0, 0.1, 0.2, 0.5]}


def test_axial_ids_cover_the_2x2x4_grid_in_table_order():
    ids = axial_model_ids(GRID)
    assert len(ids) == 16
    assert ids[:5] == [
        "axial-md0-pfn0-a0.0",
        "axial-md0-pfn0-a0.1",
        "axial-md0-pfn0-a0.2",
        "axial-md0-pfn0-a0.5",
        "axial-md0-pfn1-a0.0",
    ]
    assert ids[-1] == "axial-md1-pfn1-a0.5"


def test_network_and_cell_ids():
    assert network_ids(GRID, ["t1", "t2"])[-3:] == ["baseline-all", "baseline-t1", "baseline-t2"]
    assert len(network_ids(GRID, ["t1", "t1c", "t2", "flair"])) == 16 + 1 + 4
    assert cell_ids(GRID)[-2:] == ["baseline-all", "baseline-single"]
    assert cell_networks("baseline-single", ["a", "b"]) == ["baseline-a", "baseline-b"]
    assert cell_networks("axial-md1-pfn0-a0.1", ["a", "b"]) == ["axial-md1-pfn0-a0.1"]


def test_parse_model_id():
    assert parse_model_id("axial-md1-pfn0-a0.2", ["a", "b"]) == ModelSpec(
        kind="axial", modality_dropout=True, per_feature_norm=False, alpha=0.2
    )
    assert parse_model_id("baseline-all", ["a", "b"]).train_modalities == ("a", "b")
    assert parse_model_id("baseline-b", ["a", "b"]).train_modalities == ("b",)
    with pytest.raises(ValueError, match="baseline-c"):
        parse_model_id("baseline-c", ["a", "b"])
    with pytest.raises(ValueError, match="unknown model id"):
        parse_model_id("axial-md2-pfn0-a0.1", ["a", "b"])


def test_format_alpha():
    assert [format_alpha(a) for a in (0, 0.1, 1)] == ["0.0", "0.1", "1.0"]


def test_single_baseline_modality():
    from crossmodal.common.errors import InputError
    from crossmodal.common.model_ids import single_baseline_modality

    assert single_baseline_modality("baseline-b", ["a", "b"]) == "b"
    assert single_baseline_modality("baseline-all", ["a", "b"]) is None
    assert single_baseline_modality("axial-md1-pfn1-a0.1", ["a", "b"]) is None
    with pytest.raises(InputError, match="baseline-c"):
        single_baseline_modality("baseline-c", ["a", "b"])


def test_variant_ids_are_the_four_variants_per_alpha_then_baseline_all():
    assert variant_ids([0.0, 0.1]) == [
        "axial-md0-pfn0-a0.0", "axial-md0-pfn0-a0.1", "axial-md0-pfn1-a0.0", "axial-md0-pfn1-a0.1",
        "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.1", "axial-md1-pfn1-a0.0", "axial-md1-pfn1-a0.1",
        "baseline-all",
    ]


def test_seeded_id_is_the_bare_id_for_seed_0_and_suffixed_otherwise():
    from crossmodal.common.model_ids import seeded_id, split_seed

    assert seeded_id("axial-md1-pfn1-a0.1", 0) == "axial-md1-pfn1-a0.1"
    assert seeded_id("axial-md1-pfn1-a0.1", 2) == "axial-md1-pfn1-a0.1_seed2"
    assert seeded_id("baseline-t1", 11) == "baseline-t1_seed11"
    assert split_seed("axial-md1-pfn1-a0.1_seed2") == ("axial-md1-pfn1-a0.1", 2)
    assert split_seed("baseline-all") == ("baseline-all", 0)
    # seed 0 has no suffix: "_seed0" is not a seed suffix
    assert split_seed("baseline-all_seed0") == ("baseline-all_seed0", 0)
    with pytest.raises(InputError, match="already names a seed"):
        seeded_id("baseline-all_seed1", 2)
    with pytest.raises(InputError, match="counted from 0"):
        seeded_id("baseline-all", -1)


def test_a_seeded_id_parses_as_its_network():
    from crossmodal.common.model_ids import parse_model_id, single_baseline_modality

    mods = ["t1", "t2"]
    assert parse_model_id("axial-md1-pfn0-a0.2_seed3", mods) == parse_model_id("axial-md1-pfn0-a0.2", mods)
    assert single_baseline_modality("baseline-t2_seed1", mods) == "t2"
    assert single_baseline_modality("baseline-all_seed1", mods) is None
    with pytest.raises(InputError):
        parse_model_id("baseline-all_seed0", mods)


def test_the_model_wildcard_pattern_takes_seeded_ids_only_from_seed_1():
    import re

    from crossmodal.common.model_ids import AXIAL_PATTERN, SEED_PATTERN

    pattern = re.compile(rf"^(?:{AXIAL_PATTERN}|baseline-[A-Za-z0-9]+){SEED_PATTERN}$")
    assert pattern.match("axial-md0-pfn1-a0.5_seed1")
    assert pattern.match("baseline-flair_seed12")
    assert pattern.match("baseline-all")
    assert not pattern.match("baseline-all_seed0")
    assert not pattern.match("axial-md0-pfn1-a0.5_seed")


def test_curve_ids_four_networks_the_combination_and_baseline_all():
    assert curve_ids([0.0], [0.1]) == [
        "axial-md0-pfn0-a0.0", "axial-md0-pfn1-a0.0", "axial-md1-pfn0-a0.0", "axial-md1-pfn1-a0.0",
        "axial-md1-pfn1-a0.1", "baseline-all",
    ]
    assert curve_ids([0.0, 0.1], [0.1]) == variant_ids([0.0, 0.1])
    assert curve_ids([0.0], []) == variant_ids([0.0])
