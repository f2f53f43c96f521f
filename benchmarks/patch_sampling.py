"""Benchmark: class-balanced patch sampling + extraction, ours against TorchIO's LabelSampler.

Run by hand (about a minute or two on 2 CPU cores)::

    python benchmarks/patch_sampling.py            # 15,000 patches of 15^3 from 384x384x160 x 2
    python benchmarks/patch_sampling.py --patches 3000 --shape 192 192 80   # quicker

One knee-like two-modality volume (a thin cartilage shell, a tibial plate and two meniscus
wedges; the sampling mask is the labels dilated by 10 voxels) is written once to a temporary
directory. Each contender then runs in its own fresh Python process, loads the same arrays into
memory, and is timed from raw arrays to the last patch:

* ``pipeline_cpu`` (printed first): what training and encoding do on the CPU:
  ``sample_centres`` (exactly N per class, without replacement), then
  ``crossmodal.data.gather.open_patch_source(..., "cpu", ...)`` (the volume stays a read-only
  memory map; nothing is copied) and its ``gather`` in shuffled batches of 64 (the training
  batch);
* ``volume_stack``: the same sampling + ``VolumeStack`` (the volume copied into one tensor,
  the layout a GPU run uses) + ``gather`` in the same batches;
* ``torchio``: ``tio.Subject`` with two ``ScalarImage`` and a ``LabelMap``,
  ``tio.LabelSampler(patch_size, label_probabilities=...)`` iterated for the same number of
  patches, each patch's two modalities stacked into one ``[M, P, P, P]`` tensor (TorchIO draws
  classes with equal probability, i.e. balanced in expectation, and with replacement).

All contenders use ``--threads`` torch threads (default 1: with more threads than free cores,
torch's parallel kernels slow down by an order of magnitude). Peak memory is each process's
peak resident set size (``ru_maxrss``) and its increase over the resident size right after
loading the arrays. The script also prints the disk size of a patch
set stored as centres against materialized float32 patches.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

CLASS_NAMES = ["background", "cartilage", "meniscus"]
RUNS = ["pipeline_cpu", "volume_stack", "torchio"]  # the path training uses on the CPU first


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def make_volume(shape: tuple[int, int, int], seed: int = 0):
    """A knee-like label map, its dilated mask and two modalities with class-dependent intensity."""
    from crossmodal.data.normalize import dilate

    x, y, z = shape
    xx, yy, zz = np.ogrid[:x, :y, :z]
    scale = x / 384
    radius = np.sqrt((xx - 0.45 * x) ** 2 + (yy - 0.42 * y) ** 2)
    slab = (zz > 0.15 * z) & (zz < 0.85 * z)
    labels = np.zeros(shape, np.uint8)
    # femoral cartilage: a 3-voxel shell over the lower half of a circle of radius 80 voxels
    labels[(np.abs(radius - 80 * scale) < 1.5) & (xx > 0.45 * x) & slab] = 1
    # tibial cartilage: a 3-voxel plate below it
    plate = (np.abs(xx - (0.45 * x + 86 * scale)) < 1.5) & (np.abs(yy - 0.42 * y) < 60 * scale) & slab
    labels[plate] = 1
    # menisci: two wedges on the plate
    for side in (-1, 1):
        dy = np.abs(yy - (0.42 * y + side * 70 * scale))
        wedge = (xx < 0.45 * x + 84.5 * scale) & (xx > 0.45 * x + 84.5 * scale - 8 * scale + dy * 0.8) & slab
        labels[wedge & (dy < 10 * scale)] = 2
    mask = dilate(labels > 0, 10)
    rng = np.random.default_rng(seed)
    means = np.array([[0.2, 1.0, 0.6], [0.5, 0.7, 0.1]], np.float32)
    images = rng.standard_normal((2,) + shape, dtype=np.float32) * 0.1
    images += means[:, labels]
    return images, labels, mask


def run_ours(data: Path, n: int, patch_size: int, pipeline: bool, threads: int) -> dict:
    import torch

    from crossmodal.data.gather import open_patch_source
    from crossmodal.data.gather.volume_stack import VolumeStack
    from crossmodal.data.sample_patches import sample_centres

    torch.set_num_threads(threads)
    labels, mask = np.load(data / "labels.npy"), np.load(data / "mask.npy")
    rss_loaded = peak_rss_mb()
    per_class = n // len(CLASS_NAMES)
    start = time.perf_counter()
    centres, classes = sample_centres(labels, mask, CLASS_NAMES, per_class, patch_size, seed=1)
    sampled = time.perf_counter()
    if pipeline:  # the training/encoding path on the CPU: a memory map, nothing loaded
        source = open_patch_source(data, ["scan"], "cpu", patch_size)
    else:  # the whole volume read and copied into one tensor
        source = VolumeStack([np.load(data / "scan.npy")], patch_size, "cpu", ["scan"])
    order = torch.from_numpy(np.random.default_rng(2).permutation(len(centres)))  # training shuffles
    centres_t = torch.from_numpy(centres.astype(np.int64))
    index_t = torch.zeros(len(centres), dtype=torch.int64)
    half = patch_size // 2
    checksum = 0.0
    for b in range(0, len(order), 64):
        sel = order[b : b + 64]
        checksum += float(source.gather(index_t[sel], centres_t[sel])[:, :, half, half, half].sum())
    end = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "scan.npz", centres=centres, labels=classes)
        npz_bytes = (Path(tmp) / "scan.npz").stat().st_size
    return {
        "seconds": end - start, "sample_seconds": sampled - start, "gather_seconds": end - sampled,
        "patches": len(centres), "class_counts": np.bincount(classes).tolist(),
        "rss_loaded_mb": rss_loaded, "peak_rss_mb": peak_rss_mb(), "npz_bytes": npz_bytes,
        "checksum": checksum,
    }


def run_torchio(data: Path, n: int, patch_size: int, threads: int) -> dict:
    import torch
    import torchio as tio

    torch.set_num_threads(threads)
    images = np.load(data / "scan.npy")
    labels, mask = np.load(data / "labels.npy"), np.load(data / "mask.npy")
    # The same job for TorchIO: outside the mask 0 (never sampled), background inside the mask
    # 1, then the foreground classes; equal probability per sampled class.
    sampling_labels = np.where(mask, labels.astype(np.int64) + 1, 0)
    rss_loaded = peak_rss_mb()
    start = time.perf_counter()
    subject = tio.Subject(
        normal=tio.ScalarImage(tensor=torch.from_numpy(images[0:1])),
        fatsup=tio.ScalarImage(tensor=torch.from_numpy(images[1:2])),
        label=tio.LabelMap(tensor=torch.from_numpy(sampling_labels[None])),
    )
    sampler = tio.LabelSampler(
        patch_size=patch_size, label_name="label",
        label_probabilities={0: 0, **{c + 1: 1 for c in range(len(CLASS_NAMES))}},
    )
    counts = np.zeros(len(CLASS_NAMES) + 1, np.int64)
    checksum = 0.0
    half = patch_size // 2
    for patch in sampler(subject, num_patches=n):
        x = torch.cat([patch["normal"].data, patch["fatsup"].data])  # [M, P, P, P]
        checksum += float(x[:, half, half, half].sum())
        counts[int(patch["label"].data[0, half, half, half])] += 1
    end = time.perf_counter()
    return {
        "seconds": end - start, "patches": int(counts.sum()), "class_counts": counts[1:].tolist(),
        "rss_loaded_mb": rss_loaded, "peak_rss_mb": peak_rss_mb(), "checksum": checksum,
    }


def child(args) -> None:
    data = Path(args.data)
    if args.run == "torchio":
        result = run_torchio(data, args.patches, args.patch_size, args.threads)
    else:
        result = run_ours(data, args.patches, args.patch_size, args.run == "pipeline_cpu", args.threads)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[384, 384, 160])
    parser.add_argument("--patches", type=int, default=15000)
    parser.add_argument("--patch-size", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of each contender (default 1: robust on a shared machine)")
    parser.add_argument("--run", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args)
        return

    shape = tuple(args.shape)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; torch threads {args.threads}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        t = time.perf_counter()
        images, labels, mask = make_volume(shape)
        for name, array in [("scan", images), ("labels", labels), ("mask", mask)]:
            np.save(data / f"{name}.npy", array)
        # the volumes/ format that crossmodal.data.gather.open_patch_source reads
        (data / "index.tsv").write_text(f"scan_id\tpatch_size\nscan\t{args.patch_size}\n")
        voxels = np.bincount(labels[mask], minlength=3)
        print(f"volume {shape} x 2 modalities, {images.nbytes / 1e6:.0f} MB float32; mask voxels per "
              f"class {voxels.tolist()} (made in {time.perf_counter() - t:.1f} s)")
        del images, labels, mask
        results = {}
        for run in RUNS:
            command = [sys.executable, __file__, "--run", run, "--data", str(data),
                       "--patches", str(args.patches), "--patch-size", str(args.patch_size),
                       "--threads", str(args.threads)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[run] = json.loads(output.strip().splitlines()[-1])

    p = args.patch_size
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"\n{args.patches} class-balanced {p}^3 patches, each contender in its own process:")
    print(f"{'':13}{'seconds':>9}{'patches/s':>11}{'peak RSS MB':>13}{'+ over loaded':>15}  class counts")
    for run, r in results.items():
        print(f"{run:13}{r['seconds']:9.2f}{r['patches'] / r['seconds']:11.0f}{r['peak_rss_mb']:13.0f}"
              f"{r['peak_rss_mb'] - r['rss_loaded_mb']:15.0f}  {r['class_counts']}")
    for run in RUNS[:2]:
        r = results[run]
        print(f"  {run}: sampling {r['sample_seconds']:.2f} s, opening + gathering {r['gather_seconds']:.2f} s")
    for run in RUNS[:2]:
        print(f"speed-up {run} vs TorchIO LabelSampler: {results['torchio']['seconds'] / results[run]['seconds']:.1f}x")
    ours = results["pipeline_cpu"]

    per_patch_float = 2 * p**3 * 4
    npz = ours["npz_bytes"]
    train_scans = round(172 * 4 / 5)
    print(f"\npatch set on disk for this scan: centres+labels {npz / 1e3:.0f} kB vs float32 patches "
          f"{ours['patches'] * per_patch_float / 1e6:.0f} MB ({ours['patches'] * per_patch_float / npz:.0f}x)")
    print(f"one OAI training fold ({train_scans} of 172 scans x 15,000 patches): centres "
          f"{train_scans * npz / 1e6:.1f} MB vs float32 patches {train_scans * 15000 * per_patch_float / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
