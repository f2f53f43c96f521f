"""CPU used by the Snakemake process itself, with and without ``profiles/default``.

Snakemake 9.27 re-runs its scheduler every ``max-jobs-per-timespan`` timespan, once for every
job finished so far: each finished job starts another chain of timer threads that never ends.
Each pass re-reads the input sizes of every ready job. With the default ``100/1s`` this grows
with (finished jobs) x (ready jobs); on a 2-core run of the demo's ``all`` (407 jobs at commit
3debdb1) the Snakemake process took 45 % of a core by the middle of the run.
``profiles/default/config.yaml`` sets ``1000/5s``: a longer timespan means rarer passes, but
Snakemake exits only after the last timer has fired, so every run also ends up to one timespan
late (the wall time of ``--also 1000/1m`` shows it).

This script runs one toy workflow twice (or more, with ``--also``), side by side in one go:
``--jobs`` jobs that each sleep ``--sleep`` seconds and all become ready at once, each with an
input file of its own, on ``--cores`` cores. The first run uses Snakemake's default ``100/1s``,
the second the setting of ``profiles/default``. It samples the
Snakemake process (not its jobs) with psutil and prints, per run: wall time, the process's own
CPU seconds, its peak thread count, and the ratio of the two CPU times.

Usage (about three minutes)::

    python benchmarks/scheduler_overhead.py [--jobs 300] [--sleep 0.5] [--cores 2] [--also 1000/1m]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]

SNAKEFILE = """
rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))

# one job writes every job's own input, so all jobs become ready at once, each with an input
# file of its own (as the demo's evaluate jobs have)
rule start:
    output: expand("in/{{i}}.txt", i=range({jobs}))
    shell: "touch {{output}}"

rule job:
    input: "in/{{i}}.txt"
    output: "out/{{i}}.txt"
    shell: "sleep {sleep}; touch {{output}}"
"""


def run(directory: Path, cores: int, timespan: str) -> dict:
    """One run of the toy workflow; returns wall seconds, own CPU seconds, peak threads."""
    command = [
        sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all",
        "--workflow-profile", "none", "--max-jobs-per-timespan", timespan,
    ]  # fmt: skip
    start = time.monotonic()
    # stderr to a file: a pipe nobody reads until the end could fill up and stall Snakemake
    stderr = (directory / "snakemake.stderr").open("wb")
    process = psutil.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=stderr)
    cpu, threads = 0.0, 0
    while process.poll() is None:
        try:
            times = process.cpu_times()  # this process only, not its children
            cpu = times.user + times.system
            threads = max(threads, process.num_threads())
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    wall = time.monotonic() - start
    stderr.close()
    if process.returncode != 0:
        text = (directory / "snakemake.stderr").read_text()
        raise SystemExit(f"snakemake failed in {directory}:\n{text[-3000:]}")
    return {"wall": wall, "cpu": cpu, "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--also", nargs="*", default=[], help="further settings to compare, e.g. 1000/1m")
    args = parser.parse_args()

    ours = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())["max-jobs-per-timespan"]
    runs = [("snakemake default 100/1s", "100/1s"), (f"profiles/default {ours}", ours)]
    runs += [(f"--max-jobs-per-timespan {t}", t) for t in args.also]
    results = {}
    for label, timespan in runs:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            (directory / "Snakefile").write_text(SNAKEFILE.format(jobs=args.jobs, sleep=args.sleep))
            results[label] = run(directory, args.cores, timespan)
        r = results[label]
        print(f"{label:32s} wall {r['wall']:6.1f} s   snakemake's own CPU {r['cpu']:6.1f} s   "
              f"peak threads {r['threads']}")  # fmt: skip
    default, profile = list(results.values())[:2]
    print(f"own CPU, default / profile: {default['cpu'] / max(profile['cpu'], 1e-9):.1f}x "
          f"({args.jobs} jobs of {args.sleep} s on {args.cores} cores)")  # fmt: skip


if __name__ == "__main__":
    main()
