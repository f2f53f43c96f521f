"""Precision selection (config training.precision) and the compute settings of a run."""

import pytest
import torch

import crossmodal.training.precision as precision
from crossmodal.common.errors import InputError
from crossmodal.training.precision import Compute, resolve_precision


@pytest.mark.parametrize(
    "instructions, expected", [("amx", "bf16"), ("avx512_bf16", "fp32"), ("", "fp32")]
)
def test_auto_on_the_cpu_takes_bf16_only_with_amx(monkeypatch, instructions, expected):
    # measured: AMX 1.5-1.9x faster in bf16; AVX-512-BF16 alone 0.8-0.9x; AVX2 emulates it
    monkeypatch.setattr(precision, "cpu_bf16_instructions", lambda: instructions)
    assert resolve_precision("auto", "cpu") == expected


@pytest.mark.parametrize("supported, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_on_cuda_follows_the_gpu(monkeypatch, supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)
    assert resolve_precision("auto", torch.device("cuda", 0)) == expected


def test_explicit_settings_are_kept(monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_instructions", lambda: "")
    assert resolve_precision("bf16", "cpu") == "bf16"  # emulated, slow, but what was asked for
    assert resolve_precision("fp32", "cpu") == "fp32"


def test_bf16_on_a_gpu_without_it_and_unknown_settings_are_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Old GPU")
    with pytest.raises(InputError, match="Old GPU has no bfloat16 support"):
        resolve_precision("bf16", torch.device("cuda", 0))
    with pytest.raises(InputError, match="training.precision = 'fp16'"):
        resolve_precision("fp16", "cpu")


def test_bf16_probe_names_the_instructions(monkeypatch):
    assert precision.cpu_bf16_instructions() in ("amx", "avx512_bf16", "")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert precision.cpu_bf16_instructions() == "avx512_bf16"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert precision.cpu_bf16_instructions() == "amx"


def test_compute_autocasts_only_in_bf16_and_keeps_weights_fp32():
    layer = torch.nn.Conv3d(1, 2, 3)
    x = torch.randn(2, 1, 5, 5, 5)
    fp32, bf16 = Compute(torch.device("cpu"), "fp32"), Compute(torch.device("cpu"), "bf16")
    with fp32.autocast():
        assert layer(x).dtype == torch.float32
    model = bf16.prepare_model(layer)
    with bf16.autocast():
        assert model(x).dtype == torch.bfloat16
    assert model.weight.dtype == torch.float32
    assert model.weight.is_contiguous(memory_format=torch.channels_last_3d)
