"""The method switches: settings, validation, and which networks each key changes."""

import pytest

from crossmodal.common.errors import InputError
from crossmodal.training.method import DEFAULT, MethodSettings, network_method

MODALITIES = ["t1", "t2"]
ALPHA0 = ["axial-md0-pfn0-a0.0", "axial-md0-pfn1-a0.0", "axial-md1-pfn0-a0.0", "axial-md1-pfn1-a0.0"]


def test_defaults_are_todays_readings():
    assert DEFAULT == MethodSettings.from_config(None) == MethodSettings.from_config({})
    assert (DEFAULT.dropout_mode, DEFAULT.bn_momentum, DEFAULT.bn_eps, DEFAULT.encode_bn_stats,
            DEFAULT.global_norm, DEFAULT.global_before_per_feature) == (
        "per_sample", 0.1, 1e-5, "running", "vector", False)  # fmt: skip


@pytest.mark.parametrize("block, message", [
    ({"dropout": "per_batch"}, r"unknown key\(s\) \['dropout'\]"),
    ({"dropout_mode": "sometimes"}, "method.dropout_mode = 'sometimes'"),
    ({"dropout_p": 1.0}, r"method.dropout_p = 1.0: must be in \(0, 1\)"),
    ({"bn_momentum": 0.0}, "method.bn_momentum = 0.0"),
    ({"bn_eps": 0}, "method.bn_eps = 0"),
    ({"global_norm": "layer"}, "method.global_norm = 'layer'"),
    ({"encode_bn_stats": "batch"}, "method.encode_bn_stats = 'batch'"),
])
def test_bad_values_name_the_key(block, message):
    with pytest.raises(InputError, match=message):
        MethodSettings.from_config(block)


def test_none_at_alpha0_resolves_per_alpha():
    settings = MethodSettings(global_norm="none_at_alpha0")
    assert settings.global_norm_for(0.0) == "none" and settings.global_norm_for(0.1) == "vector"
    assert MethodSettings(global_norm="batch").global_norm_for(0.0) == "batch"


def _changed(block, models=ALPHA0 + ["axial-md1-pfn0-a0.1", "baseline-all", "baseline-t1"]):
    return {m: network_method(block, m, MODALITIES) for m in models if network_method(block, m, MODALITIES)}


def test_todays_readings_change_no_network():
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
