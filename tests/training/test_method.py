"""The method switches: settings, their defaults and values (the schema's), which networks each key changes."""

import dataclasses

import pytest

from crossmodal.common.config_checks import validated_block
from crossmodal.common.errors import InputError
from crossmodal.training.method import DEFAULT, MethodSettings, network_method

MODALITIES = ["t1", "t2"]
ALPHA0 = ["axial-md0-pfn0-a0.0", "axial-md0-pfn1-a0.0", "axial-md1-pfn0-a0.0", "axial-md1-pfn1-a0.0"]


def test_the_defaults_are_the_schemas():
    assert DEFAULT == MethodSettings() == MethodSettings.from_config(None) == MethodSettings.from_config({})
    assert dataclasses.asdict(DEFAULT) == validated_block({}, "method")
    assert (DEFAULT.dropout_mode, DEFAULT.bn_momentum, DEFAULT.bn_eps, DEFAULT.encode_bn_stats,
            DEFAULT.global_norm, DEFAULT.global_before_per_feature) == (
        "per_sample", 0.1, 1e-5, "running", "vector", False)  # fmt: skip


def test_an_unknown_key_is_refused():
    with pytest.raises(InputError, match=r"unknown key\(s\) \['dropout'\]"):
        MethodSettings.from_config({"dropout": "per_batch"})


@pytest.mark.parametrize("block, message", [
    ({"dropout_mode": "sometimes"}, "method.dropout_mode: 'sometimes' is not one of"),
    ({"dropout_p": 1.0}, "method.dropout_p: 1.0 is greater than or equal to the maximum of 1"),
    ({"bn_momentum": 0.0}, "method.bn_momentum: 0.0 is less than or equal to the minimum of 0"),
    ({"bn_eps": 0}, "method.bn_eps: 0 is less than or equal to the minimum of 0"),
    ({"global_norm": "layer"}, "method.global_norm: 'layer' is not one of"),
    ({"encode_bn_stats": "batch"}, "method.encode_bn_stats: 'batch' is not one of"),
])
def test_the_schema_owns_the_values(block, message):
    with pytest.raises(InputError, match=message):
        validated_block(block, "method")


def test_none_at_alpha0_resolves_per_alpha():
    settings = MethodSettings(global_norm="none_at_alpha0")
    assert settings.global_norm_for(0.0) == "none" and settings.global_norm_for(0.1) == "vector"
    assert MethodSettings(global_norm="batch").global_norm_for(0.0) == "batch"


def _changed(block, models=ALPHA0 + ["axial-md1-pfn0-a0.1", "baseline-all", "baseline-t1"]):
    return {m: network_method(block, m, MODALITIES) for m in models if network_method(block, m, MODALITIES)}


def test_the_defaults_change_no_network():
    assert _changed(None) == {} and _changed({"dropout_mode": "per_sample", "bn_momentum": 0.1}) == {}


def test_dropout_keys_change_only_networks_with_dropout():
    assert _changed({"dropout_mode": "per_batch"}) == {
        m: {"dropout_mode": "per_batch"} for m in ["axial-md1-pfn0-a0.0", "axial-md1-pfn1-a0.0", "axial-md1-pfn0-a0.1"]}
    assert _changed({"dropout_p": 0.25}) == {}  # p acts in the independent mode only
    assert _changed({"dropout_mode": "independent", "dropout_p": 0.25})["axial-md1-pfn1-a0.0"] == {
        "dropout_mode": "independent", "dropout_p": 0.25}


def test_batch_norm_keys_change_every_network():
    changed = _changed({"bn_momentum": 0.01, "encode_bn_stats": "set"})
    assert len(changed) == 7
    assert changed["baseline-t1"] == {"bn_momentum": 0.01, "encode_bn_stats": "set"}


def test_global_norm_changes_only_networks_that_use_it():
    assert _changed({"global_norm": "batch"}) == {
        m: {"global_norm": "batch"} for m in ["axial-md0-pfn0-a0.0", "axial-md1-pfn0-a0.0", "axial-md1-pfn0-a0.1"]}
    # resolved at each network's alpha: the alpha = 0.1 network keeps its global normalization
    assert _changed({"global_norm": "none_at_alpha0"}) == {
        m: {"global_norm": "none"} for m in ["axial-md0-pfn0-a0.0", "axial-md1-pfn0-a0.0"]}
    with_pfn = _changed({"global_before_per_feature": True, "global_norm": "batch"})
    assert with_pfn["axial-md0-pfn1-a0.0"] == {"global_before_per_feature": True, "global_norm": "batch"}
    assert with_pfn["axial-md0-pfn0-a0.0"] == {"global_norm": "batch"} and "baseline-all" not in with_pfn


def test_a_seed_suffix_changes_nothing():
    assert network_method({"dropout_mode": "per_batch"}, "axial-md1-pfn1-a0.0_seed1", MODALITIES) == {
        "dropout_mode": "per_batch"}
