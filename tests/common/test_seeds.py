"""Seeds derived from names, and the one spelling of a network's seed key."""

from crossmodal.common.seeds import derive_seed, seed_key


def test_derive_seed_is_fixed_31_bit_and_name_sensitive():
    assert derive_seed("synthetic_knee", "axial-md1-pfn1-a0.1", 0) == derive_seed(
        "synthetic_knee", "axial-md1-pfn1-a0.1", "0")
    assert 0 <= derive_seed(0, "x") < 2**31
    assert derive_seed(0, "x") != derive_seed(1, "x")


def test_seed_key_keeps_the_spelling_results_were_seeded_with():
    assert seed_key("synthetic_knee", "axial-md1-pfn1-a0.1", 2) == "synthetic_knee/axial-md1-pfn1-a0.1/fold2"
    assert seed_key("oai", "baseline-all", "0") == "oai/baseline-all/fold0"
