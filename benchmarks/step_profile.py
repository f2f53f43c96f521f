"""The training step's profile by layer: forward, input gradient and weight gradient of every
layer of one modality path of the default network, for the reference layers (``torch.nn``, the
step of commit 3cc92b7) and the pipeline's (:mod:`crossmodal.training.layers`), side by side.

``torch.profiler`` reports operator times far too high on the virtual machines these pipelines
run on (on a 2-core AMD EPYC its operators' self times summed to 3.3x the wall time of the same
steps), so each layer is timed on its own instead: an input of its size and layout
(channels-last, batch 64, as in training), median of ``--repeats`` calls, reference and new
taking turns call by call. Prints a markdown table in milliseconds per call and the sums; a
training step of M modalities runs each row M times, plus the loss, the update and the gather.
The whole process keeps freed memory (:mod:`crossmodal.training.allocator`) for both columns, so
the table shows the layers' own difference; ``benchmarks/training_throughput.py`` measures the
whole step with and without it.

Usage: ``python benchmarks/step_profile.py [--repeats 30] [--threads 1]`` (about a minute).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time

import torch

from crossmodal.training.allocator import retain_freed_memory
from crossmodal.training.layers import as_torch_nn
from crossmodal.training.network import Decoder, Encoder

BATCH, PATCH, WIDTHS, FEATURES = 64, 11, (8, 16, 16), 128
CL = torch.channels_last_3d


def _paired_ms(calls: dict, repeats: int) -> dict:
    """Median milliseconds per call of each function in ``calls``, the functions taking turns
    call by call so that a change of load hits them alike."""
    for fn in calls.values():
        for _ in range(3):
            fn()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def layer_rows(repeats: int) -> list[dict]:
    """One row per layer: shapes and milliseconds per call, reference and new."""
    torch.manual_seed(0)
    rows = []
    x = torch.randn(BATCH, 1, PATCH, PATCH, PATCH)
    for part in (Encoder(PATCH, WIDTHS, FEATURES), Decoder(PATCH, WIDTHS, FEATURES)):
        part = part.to(memory_format=CL).train()
        if isinstance(part, Decoder):
            x = torch.randn(BATCH, FEATURES, 1, 1, 1)
        for layer in part.layers:
            needs_input_grad = x.shape[1] > 1  # the first encoder layer's input (the patches) has none
            x = x.to(memory_format=CL).requires_grad_(needs_input_grad)
            y = layer(x)
            grad = torch.randn_like(y)
            row = {"layer": f"{type(part).__name__.lower()} {type(layer).__name__}",
                   "input": "x".join(map(str, x.shape[1:])), "output": "x".join(map(str, y.shape[1:]))}  # fmt: skip
            modules = {"reference": as_torch_nn(copy.deepcopy(layer)), "new": layer}
            forward = {name: (lambda m=m: m(x)) for name, m in modules.items()}
            backward = {}
            for name, module in modules.items():
                inputs = ([x] if needs_input_grad else []) + [p for p in module.parameters() if p.requires_grad]
                out = module(x)  # one graph, its backward timed again and again
                backward[name] = lambda out=out, inputs=inputs: torch.autograd.grad(
                    out, inputs, grad, retain_graph=True
                )
            for name, ms in _paired_ms(forward, repeats).items():
                row[f"{name} forward"] = ms
            for name, ms in _paired_ms(backward, repeats).items():
                row[f"{name} backward"] = ms
            rows.append(row)
            x = y.detach()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    retain_freed_memory()
    print(f"torch {torch.__version__}, {args.threads} thread(s), {platform.processor() or platform.machine()}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, load average {os.getloadavg()[0]:.1f}; "
          f"batch {BATCH}, one modality path, ms per call (backward: input and weight gradients)")  # fmt: skip
    rows = layer_rows(args.repeats)
    print("\n| layer | input → output | reference fwd | reference bwd | new fwd | new bwd |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['layer']} | {r['input']} → {r['output']} | {r['reference forward']:.2f} | "
              f"{r['reference backward']:.2f} | {r['new forward']:.2f} | {r['new backward']:.2f} |")  # fmt: skip
    ref = sum(r["reference forward"] + r["reference backward"] for r in rows)
    new = sum(r["new forward"] + r["new backward"] for r in rows)
    print(f"| **sum** | | {sum(r['reference forward'] for r in rows):.2f} | "
          f"{sum(r['reference backward'] for r in rows):.2f} | {sum(r['new forward'] for r in rows):.2f} | "
          f"{sum(r['new backward'] for r in rows):.2f} |")  # fmt: skip
    print(f"\none path, forward + backward: reference {ref:.1f} ms, new {new:.1f} ms ({ref / new:.2f}x)")


if __name__ == "__main__":
    main()
