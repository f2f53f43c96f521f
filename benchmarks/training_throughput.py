"""Training-step throughput: the pipeline's step against the step of the earlier code, side by side.

Both steps are one SGD update (:func:`crossmodal.training.trainer.sgd_step`) on a batch of 64 patches
gathered on the fly, for the axial network with modality dropout and per-feature normalization
(the most expensive variant), M = 2 (knee) and M = 4 (brain):

* ``old``: float32, contiguous weights, patches from a
  :class:`crossmodal.data.gather.volume_stack.VolumeStack` (every volume copied into one tensor) -
  the step of the code before ``training.precision``;
* ``new``: what rule ``train`` does now on this device, the next batch and train step of its
  :class:`crossmodal.training.trainer.Trainer`: ``training.precision: auto``
  (:func:`crossmodal.training.precision.resolve_precision`), ``channels_last_3d`` weights, patches from
  :func:`crossmodal.data.gather.open_patch_source` (memory-mapped volumes on the CPU).

Steps of the two are interleaved in rounds, so that a change of machine load hits both alike,
and the median step time of each is compared. It prints ``speed-up, <scale>, M=<m>: <x>x``
lines for the demo scale (11^3 patches, widths 16/32/32, 32 features: the network of docs/performance.md's figures; config.yaml now trains 8/16/16 with 128) and the
paper scale (15^3, 32/64/64, 128), a line on bfloat16 on this CPU, and, with a CUDA GPU, the
same on the GPU plus the GPU-hours of the paper's whole grid from the measured step times.

Usage: ``python benchmarks/training_throughput.py [--rounds 8] [--threads 1] [--skip-paper]
[--device all|cpu|cuda]`` (~3 min on a 2-core CPU; ``--device cuda`` measures the GPU alone, as
``benchmarks/gpu_check.sh`` does on a lent GPU machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from crossmodal.data.gather import open_patch_source
from crossmodal.data.gather.volume_stack import VolumeStack
from crossmodal.data.patch_sets import PatchSet
from crossmodal.data.volumes import volume_path
from crossmodal.training.modality_dropout import sample_present
from crossmodal.training.network import AxialNet, SharedAutoencoder
from crossmodal.training.precision import Compute, cpu_has_native_bf16, resolve_precision
from crossmodal.training.trainer import Trainer, sgd_step
from crossmodal.training.training_job import TrainSettings

BATCH = 64
MODEL = "axial-md1-pfn1-a0.1"  # the most expensive variant: modality dropout, per-feature normalization
SHAPE = (96, 96, 64)  # voxels of each synthetic volume
SCALES = {"demo": (11, (16, 32, 32), 32), "paper": (15, (32, 64, 64), 128)}
# The paper's grid per dataset: scans, patches per scan, epochs, modalities, networks per fold
# (16 axial, baseline-all, M single-modality baselines); 5 folds, 4/5 of the scans train.
PAPER_GRID = {"OAI": (172, 15_000, 100, 2), "BraTS": (220, 10_000, 50, 4)}
FOLDS, TRAIN_SHARE, AXIAL = 5, 4 / 5, 16


class _OldStep:
    """The earlier code's step: float32, contiguous, VolumeStack, random patches."""

    def __init__(self, model: torch.nn.Module, volumes: list[np.ndarray], patch_size: int, device: torch.device):
        self.model = model.to(device)
        self.source = VolumeStack(volumes, patch_size, device, [str(i) for i in range(len(volumes))])
        self.compute = Compute(device, "fp32", channels_last=False)
        self.patch_size = patch_size
        self.model.train()

    def __call__(self, rng: np.random.Generator) -> None:
        device, half = self.compute.device, self.patch_size // 2
        scan = torch.as_tensor(rng.integers(0, len(self.source.scan_ids), BATCH))
        centres = torch.as_tensor(np.stack([rng.integers(half, s - half, BATCH) for s in SHAPE], axis=1))
        x = self.source.gather(scan.to(device), centres.to(device))
        present = torch.from_numpy(sample_present(rng, BATCH, x.shape[1], dropout=True)).to(device)
        sgd_step(self.model, x, present, 0.1, 0.3, self.compute)


class _NewStep:
    """Rule train's step on this device: the next batch and train step of its Trainer."""

    def __init__(self, volumes_dir: Path, n_scans: int, m: int, scale: str, device: torch.device,
                 precision: str = "auto") -> None:  # fmt: skip
        patch_size, widths, features = SCALES[scale]
        settings = TrainSettings(
            model_id=MODEL, modalities=tuple(f"m{i}" for i in range(m)), patch_size=patch_size, widths=widths,
            features=features, epochs=1, batch_size=BATCH, learning_rate=0.3, lr_decay=0.0, precision=precision,
            seed=0,
        )  # fmt: skip
        scan_ids = [str(i) for i in range(n_scans)]
        rng = np.random.default_rng(3)
        half, n = patch_size // 2, 64 * BATCH
        centres = np.stack([rng.integers(half, s - half, n) for s in SHAPE], axis=1)
        train_set = PatchSet(scan_ids, rng.integers(0, n_scans, n), centres, np.zeros(n, dtype=np.int64))
        source = open_patch_source(volumes_dir, scan_ids, device, patch_size)
        self.trainer = Trainer(settings, train_set, source, Compute.for_device(device, precision))
        self.trainer.prepare()
        self.trainer.start_epoch()
        self.compute = self.trainer.compute

    def __call__(self, rng: np.random.Generator) -> None:
        trainer = self.trainer
        if trainer.progress.step == len(trainer.bounds):
            trainer.end_epoch()
            trainer.start_epoch()
        trainer.train_step(trainer.next_batch())


def _write_volumes(directory: Path, m: int, patch_size: int, n_scans: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    volumes = [rng.standard_normal((m,) + SHAPE).astype(np.float32) for _ in range(n_scans)]
    for i, volume in enumerate(volumes):
        np.save(volume_path(directory, str(i)), volume)
    pd.DataFrame({"scan_id": [str(i) for i in range(n_scans)], "patch_size": patch_size}).to_csv(
        directory / "index.tsv", sep="\t", index=False
    )
    return volumes


def _step_seconds(step: _OldStep | _NewStep, rng: np.random.Generator, n: int) -> list[float]:
    """Time ``n`` training steps (gather + forward + backward + update); seconds each."""
    device = step.compute.device
    times = []
    for _ in range(n):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step(rng)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def compare(scale: str, m: int, device: torch.device, rounds: int, steps_per_round: int) -> dict:
    """Median step seconds of the old and the new step, measured in alternating rounds."""
    patch_size, widths, features = SCALES[scale]
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        volumes = _write_volumes(Path(tmp), m, patch_size)
        network = AxialNet(m, patch_size, widths, features, per_feature_norm=True,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
        old = _OldStep(network, volumes, patch_size, device)
        new = _NewStep(Path(tmp), len(volumes), m, scale, device)
        for step in (old, new):  # warm-up: first calls allocate and pick kernels
            _step_seconds(step, rng, 2)
        times = {"old": [], "new": []}
        for _ in range(rounds):
            times["old"] += _step_seconds(old, rng, steps_per_round)
            times["new"] += _step_seconds(new, rng, steps_per_round)
    return {name: statistics.median(t) for name, t in times.items()} | {"precision": new.compute.precision}


def single_path_seconds(scale: str, device: torch.device, n: int = 10) -> float:
    """Median step seconds of the shared-autoencoder baseline (one path) in the new step."""
    patch_size, widths, features = SCALES[scale]
    compute = Compute.for_device(device, "auto")
    model = compute.prepare_model(SharedAutoencoder(patch_size, widths, features, torch.Generator().manual_seed(0)))
    x = torch.randn(BATCH, 1, patch_size, patch_size, patch_size, device=device)
    present = torch.ones(BATCH, 1, dtype=torch.bool, device=device)
    times = []
    for i in range(n + 2):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        sgd_step(model, x, present, 0.0, 0.3, compute)
        if device.type == "cuda":
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


def bf16_line(rounds: int) -> str:
    """What bf16 autocast does on this CPU (demo scale, M = 2), measured."""
    native = cpu_has_native_bf16()
    patch_size = SCALES["demo"][0]
    rng = np.random.default_rng(2)
    device = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        _write_volumes(Path(tmp), 2, patch_size)
        runs = {}
        for precision in ("fp32", "bf16"):
            step = _NewStep(Path(tmp), 6, 2, "demo", device, precision)
            _step_seconds(step, rng, 2)
            runs[precision] = statistics.median(_step_seconds(step, rng, max(rounds, 3)))
    ratio = runs["fp32"] / runs["bf16"]
    verdict = ("native bf16: `auto` uses it" if native
               else "no native bf16 (no AVX-512-BF16/AMX): emulated, so `auto` stays fp32")  # fmt: skip
    return f"bf16 autocast on this CPU, demo scale, M=2: {ratio:.2f}x the fp32 step speed ({verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="alternating measurement rounds per comparison")
    parser.add_argument("--steps", type=int, default=3, help="steps per round and variant")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (rule train uses 1 by default)")
    parser.add_argument("--skip-paper", action="store_true", help="demo scale only (the paper scale takes minutes)")
    parser.add_argument("--device", choices=["all", "cpu", "cuda"], default="all",
                        help="where to measure: the CPU, the CUDA GPU, or both (default; the GPU where there is one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s) of {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f}; CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16: {cpu_has_native_bf16()}; batch {BATCH}; median step times, old and new interleaved")  # fmt: skip
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: PyTorch sees no CUDA GPU here")
    devices = [torch.device(d) for d in ("cpu", "cuda")
               if args.device in ("all", d) and (d == "cpu" or torch.cuda.is_available())]  # fmt: skip
    scales = ["demo"] + ([] if args.skip_paper else ["paper"])
    measured = {}
    for device in devices:
        for scale in scales:
            for m in (2, 4):
                r = compare(scale, m, device, args.rounds if scale == "demo" else max(2, args.rounds // 4), args.steps)
                measured[device.type, scale, m] = r
                where = "" if device.type == "cpu" else f" on {torch.cuda.get_device_name(device)}"
                print(f"speed-up, {scale} scale, M={m}{where}: {r['old'] / r['new']:.2f}x "
                      f"(old fp32 contiguous {1000 * r['old']:.1f} ms/step, new {r['precision']} "
                      f"channels-last {1000 * r['new']:.1f} ms/step)")  # fmt: skip
    if args.device != "cuda":
        print(bf16_line(args.rounds))
    if torch.cuda.is_available() and not args.skip_paper:
        device = torch.device("cuda")
        single = single_path_seconds("paper", device)
        hours = paper_gpu_hours({m: measured["cuda", "paper", m]["new"] for m in (2, 4)}, single)
        print(f"paper grid (5 folds x (16 axial + baselines)) on one {torch.cuda.get_device_name(device)}, "
              f"{resolve_precision('auto', device)}, from the measured step times: "
              + ", ".join(f"{k} {v:,.0f} GPU-h" for k, v in hours.items()) + f", total {sum(hours.values()):,.0f} GPU-h")
    else:
        print("no CUDA GPU here: GPU step times and the paper grid's GPU-hours are not measured")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
