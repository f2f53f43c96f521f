"""Training throughput of the paper's axial network on this machine, and a GPU-hours estimate.

Measures, for the paper architecture (widths 32, 64, 64; F = 128; 15^3 patches; batch 64) with
modality dropout and per-feature normalization, M = 2 (OAI) and M = 4 (BraTS):

* patches per second of the real training step (``crossmodal.train.train_step``) with patches
  gathered on the fly by ``crossmodal.gather.VolumeStack``;
* FLOPs per patch (forward + backward, counted by ``torch.utils.flop_counter.FlopCounterMode``)
  and the GFLOP/s achieved;
* the share of the step time spent gathering patches (goal < 10 %).

Then it prints an estimate of GPU-hours for the paper's full grid on one modern GPU.

Usage: ``python benchmarks/training_throughput.py [--seconds 15] [--threads N]`` (~1-2 min).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from crossmodal.gather import VolumeStack
from crossmodal.modality_dropout import sample_present
from crossmodal.network import AxialNet, SharedAutoencoder
from crossmodal.train import train_step

P, WIDTHS, FEATURES, BATCH = 15, (32, 64, 64), 128, 64

# The paper's grid (DESIGN.md, "Data"): per dataset scans, patches per scan, epochs, modalities.
GRID = {
    "OAI": {"scans": 172, "patches": 15_000, "epochs": 100, "m": 2},
    "BraTS": {"scans": 220, "patches": 10_000, "epochs": 50, "m": 4},
}
AXIAL_NETWORKS, FOLDS, TRAIN_SHARE = 16, 5, 4 / 5

# GPU assumption: an NVIDIA A100 (19.5 TFLOP/s FP32, 156 TFLOP/s TF32 tensor cores, 312 bf16).
# Small 3-D convolutions with 1-64 channels on 15^3 patches use tensor cores poorly and spend
# much time in batch norm / LeakyReLU (memory-bound), so we assume a sustained 10 % of the TF32
# peak = 15.6 TFLOP/s, and also print 5 % and 25 %.
GPU_PEAK_TFLOPS, GPU_EFFICIENCIES = 156.0, (0.05, 0.10, 0.25)
# Cross-check for memory-bound layers: the output of every layer (conv, BN, LeakyReLU) is
# accessed about 6 times per step in fp32 (written and read forward; its gradient written and
# read, and the saved tensor read, backward), at a sustained 1.5 TB/s (A100 80 GB: 2.0 peak).
ACCESSES_PER_ACTIVATION, GPU_BANDWIDTH_TBS = 6, 1.5


def flops_per_patch(model: torch.nn.Module, m: int) -> float:
    """Forward + backward FLOPs of one training step, per patch (counted, batch of 8)."""
    x = torch.randn(8, m, P, P, P)
    present = torch.ones(8, m, dtype=torch.bool)
    with FlopCounterMode(display=False) as counter:
        out = model(x, present)
        (out.reconstruction.abs().mean() + out.features.abs().mean()).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 8


def activations_per_path() -> int:
    """Elements output by every layer of one modality path (encoder + decoder), per patch."""
    model = SharedAutoencoder(P, WIDTHS, FEATURES)
    counts = []
    leaves = [mod for mod in model.modules() if not list(mod.children())]
    hooks = [mod.register_forward_hook(lambda _m, _i, out: counts.append(out.numel())) for mod in leaves]
    with torch.no_grad():
        model(torch.zeros(1, 1, P, P, P))
    for hook in hooks:
        hook.remove()
    return sum(counts) + P**3  # plus the input patch


def measure(m: int, seconds: float, seed: int = 0) -> dict:
    """Train steps for about ``seconds`` and time them; returns rates and FLOPs."""
    rng = np.random.default_rng(seed)
    volumes = [rng.standard_normal((m, 96, 96, 64)).astype(np.float32) for _ in range(6)]
    stack = VolumeStack(volumes, P, "cpu", [f"s{i}" for i in range(6)])
    n = 100_000
    scan_index = torch.as_tensor(rng.integers(0, 6, n))
    centres = torch.as_tensor(np.stack([rng.integers(7, s - 7, n) for s in (96, 96, 64)], axis=1))
    model = AxialNet(m, P, WIDTHS, FEATURES, per_feature_norm=True, generator=torch.Generator().manual_seed(seed))
    flops = flops_per_patch(model, m)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.0)
    model.train()
    gather_s = step_s = 0.0
    steps = 0
    warmup = 1
    start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        t0 = time.perf_counter()
        idx = torch.as_tensor(rng.integers(0, n, BATCH))
        x = stack.gather(scan_index[idx], centres[idx])
        present = torch.from_numpy(sample_present(rng, BATCH, m, dropout=True))
        t1 = time.perf_counter()
        train_step(model, optimizer, x, present, 0.1, 0.3, contextlib.nullcontext())
        t2 = time.perf_counter()
        if warmup:
            warmup -= 1
            start, cpu_start = time.perf_counter(), time.process_time()
            continue
        gather_s += t1 - t0
        step_s += t2 - t0
        steps += 1
        if time.perf_counter() - start > seconds and steps >= 3:
            break
    cpu_s = time.process_time() - cpu_start
    patches_per_s = steps * BATCH / step_s
    return {
        "m": m, "steps": steps, "patches_per_s": patches_per_s, "flops_per_patch": flops,
        "gflops_per_s": flops * patches_per_s / 1e9, "gather_share": gather_s / step_s,
        "ms_per_step": 1000 * step_s / steps, "cpu_ms_per_step": 1000 * cpu_s / steps,
    }  # fmt: skip


def gpu_hours(flops_path: float, efficiency: float) -> dict[str, float]:
    """GPU-hours of the full paper grid, from FLOPs per patch and modality path.

    Per fold and dataset: 16 axial networks (M paths per sample, N samples per epoch),
    baseline-all (1 path, M x N samples) and M single-modality baselines (1 path, N samples):
    in total (16 M + M + M) path-passes x N x epochs.
    """
    rate = GPU_PEAK_TFLOPS * 1e12 * efficiency
    hours = {}
    for name, d in GRID.items():
        n_train = d["scans"] * d["patches"] * TRAIN_SHARE
        path_passes = (AXIAL_NETWORKS * d["m"] + d["m"] + d["m"]) * n_train * d["epochs"] * FOLDS
        hours[name] = path_passes * flops_path / rate / 3600
    return hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="timed seconds per configuration")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s) of {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f} (other processes slow the wall-clock numbers down); "
          f"P={P}, widths={WIDTHS}, F={FEATURES}, batch={BATCH}")
    results = [measure(m, args.seconds) for m in (2, 4)]
    by_m = {r["m"]: r for r in results}
    for r in results:
        print(
            f"M={r['m']} (dropout + pfn): {r['patches_per_s']:.1f} patches/s ({r['ms_per_step']:.0f} ms/step wall, "
            f"{r['cpu_ms_per_step']:.0f} ms CPU time, "
            f"{r['steps']} steps), {r['flops_per_patch'] / 1e9:.3f} GFLOP/patch (fwd+bwd), "
            f"{r['gflops_per_s']:.1f} GFLOP/s achieved, gathering {100 * r['gather_share']:.1f} % of step time"
        )
    flops_path = results[0]["flops_per_patch"] / 2
    shared = SharedAutoencoder(P, WIDTHS, FEATURES)
    print(f"FLOPs per modality path: {flops_path / 1e9:.3f} G (M=4: {results[1]['flops_per_patch'] / 4e9:.3f} G; "
          f"shared-autoencoder baseline counted: {flops_per_patch(shared, 1) / 1e9:.3f} G)")
    for name, d in GRID.items():
        cpu_net_hours = d["scans"] * d["patches"] * TRAIN_SHARE * d["epochs"] / by_m[d["m"]]["patches_per_s"] / 3600
        print(f"{name}: one axial network on this CPU would take {cpu_net_hours:,.0f} h")
    print(f"GPU estimate, full paper grid (16 axial + baselines, 5 folds), assuming an A100 at the given share "
          f"of its {GPU_PEAK_TFLOPS:.0f} TFLOP/s TF32 peak:")
    for eff in GPU_EFFICIENCIES:
        h = gpu_hours(flops_path, eff)
        print(f"  {100 * eff:>4.0f} % ({GPU_PEAK_TFLOPS * eff:.1f} TFLOP/s): "
              + ", ".join(f"{k} {v:,.0f} GPU-h" for k, v in h.items()) + f", total {sum(h.values()):,.0f} GPU-h")
    bytes_path = activations_per_path() * 4 * ACCESSES_PER_ACTIVATION
    h = gpu_hours(flops_path, 1.0)
    scale = (bytes_path / (GPU_BANDWIDTH_TBS * 1e12)) / (flops_path / (GPU_PEAK_TFLOPS * 1e12))
    print(f"  memory-traffic cross-check ({bytes_path / 1e6:.1f} MB per patch and path at {GPU_BANDWIDTH_TBS} TB/s): "
          + ", ".join(f"{k} {v * scale:,.0f} GPU-h" for k, v in h.items())
          + f", total {sum(h.values()) * scale:,.0f} GPU-h")


if __name__ == "__main__":
    main()
