import pytest

from crossmodal.model_ids import (
    ModelSpec,
    axial_model_ids,
    cell_ids,
    cell_networks,
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
    from crossmodal.errors import InputError
    from crossmodal.model_ids import single_baseline_modality

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
