"""Check that two git revisions compute bit-identical results (for changes of structure only).

For each revision, the committed tree (``git archive``) is unpacked into a scratch directory
outside the checkout and run there, in three Snakemake runs on 2 cores:

* the smoke config (``configs/smoke.yaml``) to ``results/table1.csv`` and the two datasets'
  difficulty tables;
* on the same data, the learning curves of ``smoke_knee`` (alpha 0.5, evaluated after 3 and 7
  updates and at the default length), ``results/curves/learning_smoke_knee.tsv``;
* the default config (``config.yaml``), one network: ``synthetic_knee``,
  ``axial-md1-pfn1-a0.1``, fold 0 (its weights and the features it encodes).

It prints, per revision, the SHA-256 of ``table1.csv`` and the difficulty tables (file bytes),
of the curves table and the network's ``history.tsv`` without their timing columns, of every
tensor of ``weights.pt``'s state dict and of every array of the features file, and whether the
two revisions agree on each. A revision's runs are kept in ``<workdir>/<commit>/``: a later call
reruns only what its Snakemake runs lack (nothing, for a finished revision) and writes the
hashes to ``<workdir>/<commit>/hashes.json``.

Usage (21 min for one revision on a shared 2-core AMD EPYC, measured)::

    python tools/same_results.py REV_A REV_B [--workdir /tmp/same_results]

Exit status 0 when every hash agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
NETWORK = "results/synthetic_knee/models/axial-md1-pfn1-a0.1/fold0/weights.pt"
HISTORY = "results/synthetic_knee/models/axial-md1-pfn1-a0.1/fold0/history.tsv"
DIFFICULTY = ["results/smoke_knee/difficulty.tsv", "results/smoke_brats/difficulty.tsv"]
FEATURES = "results/synthetic_knee/features/axial-md1-pfn1-a0.1/fold0.npz"
CURVES = "results/curves/learning_smoke_knee.tsv"
CURVES_CONFIG = "learning_curves: {fold: 0, updates: [3, 7], alpha: [0.5]}\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit_of(revision: str) -> str:
    """The full commit id of ``revision``."""
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def unpack(commit: str, dest: Path) -> None:
    """Unpack the committed tree of ``commit`` into ``dest`` (no uncommitted change)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def snakemake(code: Path, workdir: Path, *args: str) -> None:
    """Run Snakemake on ``code`` in ``workdir``; raise with its log tail if it fails."""
    command = [
        "nice", "-n", "5", sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"),
        "--directory", str(workdir), "--cores", "2", *args,
    ]  # fmt: skip
    # the revision's own library, not an installed one (its scripts put src/ first too)
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")


def table_hash(path: Path, timing: list[str]) -> str:
    """SHA-256 of a TSV table as text, without its columns ``timing`` (which differ run to run)."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).drop(columns=timing)
    return sha256(table.to_csv(sep="\t", index=False).encode())


def revision_hashes(code: Path, workdir: Path) -> dict[str, str]:
    """Run the three Snakemake runs for the code in ``code`` and hash their results."""
    smoke = workdir / "smoke"
    smoke.mkdir(parents=True, exist_ok=True)
    snakemake(code, smoke, "results/table1.csv", *DIFFICULTY, "--configfile", str(code / "configs/smoke.yaml"))
    curves_config = smoke / "curves.yaml"
    curves_config.write_text((code / "configs/smoke.yaml").read_text() + CURVES_CONFIG)
    snakemake(code, smoke, CURVES, "--configfile", str(curves_config))
    default = workdir / "default"
    default.mkdir(parents=True, exist_ok=True)
    snakemake(code, default, NETWORK, FEATURES)

    hashes = {"table1.csv": sha256((smoke / "results/table1.csv").read_bytes())}
    for path in DIFFICULTY:
        hashes[path] = sha256((smoke / path).read_bytes())
    hashes["learning_smoke_knee.tsv (without seconds)"] = table_hash(smoke / CURVES, ["seconds"])
    hashes["history.tsv (without seconds, patches_per_s)"] = table_hash(default / HISTORY, ["seconds", "patches_per_s"])
    record = torch.load(default / NETWORK, map_location="cpu", weights_only=True)
    for name, tensor in sorted(record["state_dict"].items()):
        hashes[f"weights {name}"] = sha256(tensor.contiguous().numpy().tobytes())
    with np.load(default / FEATURES) as arrays:
        for name in sorted(arrays.files):
            hashes[f"features {name}"] = sha256(np.ascontiguousarray(arrays[name]).tobytes())
    return hashes


def hashes_of(revision: str, root: Path) -> tuple[str, dict[str, str]]:
    """The hashes of ``revision``, from its runs under ``root`` (run there once per commit)."""
    commit = commit_of(revision)
    home = root / commit
    if not (home / "code").exists():
        unpack(commit, home / "code")
    hashes = revision_hashes(home / "code", home / "run")
    (home / "hashes.json").write_text(json.dumps(hashes, indent=1) + "\n")
    return commit, hashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="+", help="one revision (print its hashes) or two (compare)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/same_results"))
    args = parser.parse_args()
    if args.workdir.resolve().is_relative_to(REPO):
        parser.error("--workdir must lie outside the checkout")
    runs = [hashes_of(revision, args.workdir.resolve()) for revision in args.revisions]
    same = True
    for key in runs[0][1]:
        values = [hashes.get(key) for _, hashes in runs]
        agree = all(v == values[0] for v in values)
        same &= agree
        verdict = "" if len(runs) == 1 else "same " if agree else "DIFFERENT "
        print(f"{verdict}{key}: {' '.join(str(v) for v in values)}")
    extra = set().union(*(h.keys() for _, h in runs)) - runs[0][1].keys()
    for key in sorted(extra):
        same = False
        print(f"DIFFERENT {key}: missing in {runs[0][0][:10]}")
    if len(runs) > 1:
        print(f"{' vs '.join(c[:10] for c, _ in runs)}: {'bit-identical' if same else 'results differ'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
