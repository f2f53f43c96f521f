"""Training-step throughput: the pipeline's step against the reference step, side by side.

Both steps are one SGD update of rule ``train``'s :class:`crossmodal.training.trainer.Trainer`
(the next batch, gathered on the fly, and the train step) for the axial network with modality
dropout and per-feature normalization (the most expensive variant), batch 64, M = 2 (knee) and
M = 4 (brain), at the default network's shapes (11^3 patches, widths 8/16/16, 128 features)
and, unless ``--skip-paper``, the paper's (15^3, 32/64/64, 128):

* ``reference``: the step of commit 3cc92b7, where issue 28 started: ``torch.nn`` layers
  throughout, glibc's default allocator, channels-last; at its best precision on this CPU
  (fp32, and bf16 autocast where the CPU has bfloat16 instructions, the faster of the two);
* ``new``: the step rule ``train`` runs now: :mod:`crossmodal.training.layers`, freed memory
  kept in the process (:mod:`crossmodal.training.allocator`), ``training.precision: auto``; and
  the same step in fp32 and in bf16, to check that ``auto`` picks the faster of the two here.

The allocator setting holds for a whole process, so every measurement runs in a child process
of its own (``--child``); the variants alternate in rounds so that a change of machine load hits
them alike, and the median over rounds of each child's median step time is compared. It prints
``speed-up over the reference step, M=<m>: <x>x``, the GFLOP/s the new step achieves (FLOPs of
one update from ``torch.utils.flop_counter``) and that figure as a share of this thread's fp32
peak, measured in the same run as a 2048^2 sgemm; with a CUDA GPU the same on the GPU and the
GPU-hours of the paper's grid from the measured step times.

Usage: ``python benchmarks/training_throughput.py [--rounds 5] [--steps 20] [--threads 1]
[--skip-paper] [--device all|cpu|cuda]`` (about 4 min with ``--skip-paper`` on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from crossmodal.data.gather import open_patch_source
from crossmodal.data.patch_sets import PatchSet
from crossmodal.data.volumes import volume_path
from crossmodal.training.allocator import retain_freed_memory
from crossmodal.training.layers import as_torch_nn
from crossmodal.training.network import AxialNet, SharedAutoencoder
from crossmodal.training.precision import Compute, cpu_bf16_instructions, resolve_precision
from crossmodal.training.trainer import Trainer, sgd_step
from crossmodal.training.settings import TrainSettings

BATCH = 64
MODEL = "axial-md1-pfn1-a0.1"  # the most expensive variant: modality dropout, per-feature normalization
SHAPE = (64, 64, 48)  # voxels of each synthetic volume
SCALES = {"default": (11, (8, 16, 16), 128), "paper": (15, (32, 64, 64), 128)}
# The paper's grid per dataset: scans, patches per scan, epochs, modalities, networks per fold
# (16 axial, baseline-all, M single-modality baselines); 5 folds, 4/5 of the scans train.
PAPER_GRID = {"OAI": (172, 15_000, 100, 2), "BraTS": (220, 10_000, 50, 4)}
FOLDS, TRAIN_SHARE, AXIAL = 5, 4 / 5, 16
WARMUP = 3


def _write_volumes(directory: Path, m: int, patch_size: int, n_scans: int = 4) -> None:
    rng = np.random.default_rng(0)
    for i in range(n_scans):
        np.save(volume_path(directory, str(i)), rng.standard_normal((m,) + SHAPE).astype(np.float32))
    pd.DataFrame({"scan_id": [str(i) for i in range(n_scans)], "patch_size": patch_size}).to_csv(
        directory / "index.tsv", sep="\t", index=False
    )


def _trainer(volumes_dir: Path, m: int, scale: str, device: torch.device, precision: str) -> Trainer:
    patch_size, widths, features = SCALES[scale]
    settings = TrainSettings(
        model_id=MODEL, modalities=tuple(f"m{i}" for i in range(m)), patch_size=patch_size, widths=widths,
        features=features, epochs=1, batch_size=BATCH, learning_rate=0.3, lr_decay=0.0, precision=precision,
        seed=0,
    )  # fmt: skip
    scan_ids = sorted(p.stem for p in volumes_dir.glob("*.npy"))
    rng = np.random.default_rng(3)
    half, n = patch_size // 2, 64 * BATCH
    centres = np.stack([rng.integers(half, s - half, n) for s in SHAPE], axis=1)
    train_set = PatchSet(scan_ids, rng.integers(0, len(scan_ids), n), centres, np.zeros(n, dtype=np.int64))
    source = open_patch_source(volumes_dir, scan_ids, device, patch_size)
    trainer = Trainer(settings, train_set, source, Compute.for_device(device, precision))
    trainer.prepare()
    trainer.start_epoch()
    return trainer


def _step(trainer: Trainer) -> None:
    if trainer.progress.step == len(trainer.bounds):
        trainer.end_epoch()
        trainer.start_epoch()
    trainer.train_step(trainer.next_batch())


def child(variant: str, m: int, scale: str, device: torch.device, steps: int) -> dict:
    """Median seconds of ``steps`` training steps of one variant, in this process.

    Args:
        variant: ``reference-fp32``, ``reference-bf16``, ``new`` (``training.precision: auto``),
            ``new-fp32`` or ``new-bf16``.
        m: modalities.
        scale: key of ``SCALES``.
        device: where to train.
        steps: steps to time (after ``WARMUP`` untimed ones).

    Returns:
        ``{"seconds": median step seconds, "precision": the precision the step ran in}``.
    """
    if variant.startswith("new") and device.type == "cpu":
        retain_freed_memory()
    precision = "auto" if variant == "new" else variant.split("-")[1]
    with tempfile.TemporaryDirectory() as tmp:
        _write_volumes(Path(tmp), m, SCALES[scale][0])
        trainer = _trainer(Path(tmp), m, scale, device, precision)
        if variant.startswith("reference"):
            as_torch_nn(trainer.model)
        times = []
        for i in range(WARMUP + steps):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            _step(trainer)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= WARMUP:
                times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "precision": trainer.compute.precision}


def _run_child(variant: str, m: int, scale: str, device: str, steps: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--m", str(m), "--scale", scale,
               "--device", device, "--steps", str(steps), "--threads", str(threads)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def update_gflop(m: int, scale: str) -> float:
    """GFLOP of one update (forward and backward) of the axial network, counted by PyTorch."""
    patch_size, widths, features = SCALES[scale]
    model = AxialNet(m, patch_size, widths, features, per_feature_norm=True)
    x = torch.randn(BATCH, m, patch_size, patch_size, patch_size)
    with FlopCounterMode(display=False) as counter:
        out = model(x)
        (out.reconstruction.abs().mean() + out.features.abs().mean()).backward()
    return counter.get_total_flops() / 1e9


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """fp32 GFLOP/s of an n x n matrix product on this process's threads (best of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(m: int, scale: str, device: str, rounds: int, steps: int, threads: int) -> dict:
    """Median over rounds of the children's median step seconds, per variant; variants alternate."""
    variants = ["reference-fp32", "new"]
    if device == "cuda" or cpu_bf16_instructions():
        variants.insert(1, "reference-bf16")
    seconds: dict[str, list[float]] = {v: [] for v in variants}
    precision = {}
    for _ in range(rounds):
        for variant in variants:
            r = _run_child(variant, m, scale, device, steps, threads)
            seconds[variant].append(r["seconds"])
            precision[variant] = r["precision"]
    medians = {v: statistics.median(s) for v, s in seconds.items()}
    best_reference = min((v for v in variants if v != "new"), key=medians.get)
    return {"medians": medians, "reference": best_reference, "precision": precision["new"]}


def precision_line(device: str, rounds: int, steps: int, threads: int) -> str:
    """What bf16 autocast does to the new step on this device (M = 2), and what ``auto`` chose."""
    seconds: dict[str, list[float]] = {"new-fp32": [], "new-bf16": []}
    for _ in range(rounds):
        for variant in seconds:
            seconds[variant].append(_run_child(variant, 2, "default", device, steps, threads)["seconds"])
    ratio = statistics.median(seconds["new-fp32"]) / statistics.median(seconds["new-bf16"])
    chosen = resolve_precision("auto", device)
    faster = "bf16" if ratio > 1 else "fp32"
    verdict = "the faster one" if chosen == faster else f"NOT the faster one ({faster})"
    return f"bf16 autocast on this {device.upper()}, M=2: {ratio:.2f}x the fp32 step; `auto` picks {chosen}, {verdict}"


def single_path_seconds(scale: str, device: torch.device, n: int = 10) -> float:
    """Median step seconds of the shared-autoencoder baseline (one path)."""
    patch_size, widths, features = SCALES[scale]
    compute = Compute.for_device(device, "auto")
    model = compute.prepare_model(SharedAutoencoder(patch_size, widths, features, torch.Generator().manual_seed(0)))
    x = torch.randn(BATCH, 1, patch_size, patch_size, patch_size, device=device)
    present = torch.ones(BATCH, 1, dtype=torch.bool, device=device)
    times = []
    for i in range(n + 2):
        torch.cuda.synchronize()
        start = time.perf_counter()
        sgd_step(model, x, present, 0.0, 0.3, compute)
        torch.cuda.synchronize()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def paper_gpu_hours(step_s: dict[int, float], single_s: float) -> dict[str, float]:
    """GPU-hours of the paper's grid from measured seconds per update (new step, paper scale)."""
    hours = {}
    for name, (scans, patches, epochs, m) in PAPER_GRID.items():
        updates = scans * patches * TRAIN_SHARE / BATCH * epochs  # per network, N samples/epoch
        seconds = AXIAL * updates * step_s[m] + m * updates * single_s * 2  # baseline-all: M x N
        hours[name] = FOLDS * seconds / 3600
    return hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (one child process per variant)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per child")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (rule train uses 1 by default)")
    parser.add_argument("--skip-paper", action="store_true", help="the default's shapes only")
    parser.add_argument("--device", choices=["all", "cpu", "cuda"], default="all",
                        help="where to measure: the CPU, the CUDA GPU, or both (default; the GPU where there is one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--m", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child(args.child, args.m, args.scale, torch.device(args.device), args.steps)))
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: PyTorch sees no CUDA GPU here")
    peak = sgemm_gflops()
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s) of {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f}; CPU capability {torch.backends.cpu.get_cpu_capability()}, bf16 "
          f"instructions: {cpu_bf16_instructions() or 'none'}, `auto` on the CPU: {resolve_precision('auto', 'cpu')}; "
          f"batch {BATCH}; fp32 peak of this thread (2048^2 sgemm): {peak:.0f} GFLOP/s")  # fmt: skip
    devices = [d for d in ("cpu", "cuda") if args.device in ("all", d) and (d == "cpu" or torch.cuda.is_available())]
    scales = ["default"] + ([] if args.skip_paper else ["paper"])
    measured = {}
    for device in devices:
        for scale in scales:
            for m in (2, 4):
                r = compare(m, scale, device, args.rounds, args.steps, args.threads)
                measured[device, scale, m] = r
                med, ref = r["medians"], r["reference"]
                where = "" if device == "cpu" else f" on {torch.cuda.get_device_name()}"
                gflop = update_gflop(m, scale)
                label = "" if scale == "default" else f" ({scale} scale)"
                print(f"speed-up over the reference step, M={m}{label}{where}: {med[ref] / med['new']:.2f}x "
                      f"(reference {ref.split('-')[1]} {1000 * med[ref]:.1f} ms/step"
                      + "".join(f", {v} {1000 * s:.1f}" for v, s in med.items() if v not in (ref, "new"))
                      + f"; new {r['precision']} {1000 * med['new']:.1f} ms/step)")  # fmt: skip
                if device == "cpu":
                    achieved = gflop / med["new"]
                    print(f"  {gflop:.2f} GFLOP/update: new step {achieved:.1f} GFLOP/s = {100 * achieved / peak:.0f} % "
                          f"of the fp32 peak; reference {gflop / med[ref]:.1f} GFLOP/s = "
                          f"{100 * gflop / med[ref] / peak:.0f} %")  # fmt: skip
    for device in devices:
        print(precision_line(device, max(2, args.rounds // 2), args.steps, args.threads))
    if torch.cuda.is_available() and not args.skip_paper:
        device = torch.device("cuda")
        single = single_path_seconds("paper", device)
        hours = paper_gpu_hours({m: measured["cuda", "paper", m]["medians"]["new"] for m in (2, 4)}, single)
        print(f"paper grid (5 folds x (16 axial + baselines)) on one {torch.cuda.get_device_name(device)}, "
              f"{resolve_precision('auto', device)}, from the measured step times: "
              + ", ".join(f"{k} {v:,.0f} GPU-h" for k, v in hours.items()) + f", total {sum(hours.values()):,.0f} GPU-h")
    else:
        print("no CUDA GPU here (or --skip-paper): the paper grid's GPU-hours are not measured")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
