"""Cost, before any job, of listing and checking a BraTS-sized real dataset (rule ingest's param).

While Snakemake builds the job graph (a dry run too), ``crossmodal.data.ingest.scan_listing`` lists a
real dataset's scans with its layout adapter, checks the folds against the subjects, and calls
``stat`` and ``access`` on every scan file, whose paths, sizes and modification times it digests
(the param that reruns ingest when a scan changes). This script writes a BraTS 2021 training
set's shape -- 1251 case folders of 5 files in the brats2018 layout, as sparse files of the real
sizes (nothing is read) -- and times the adapter's listing alone and the whole call, each the
best of ``--repeats`` (the directory entries then sit in the page cache, as on a second run).

Usage (a few seconds)::

    python benchmarks/scan_listing.py [--cases 1251] [--repeats 5] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from crossmodal.data.ingest import find_scans, scan_listing

SUFFIXES = ("t1", "t1ce", "t2", "flair", "seg")
FILE_BYTES = 2_500_000  # about a BraTS 2021 .nii.gz; sparse, so the disk holds none of it
CONFIG = {
    "layout": "brats2018",
    "modalities": ["t1", "t1c", "t2", "flair"],
    "mask": {"rule": "nonzero"},
}


def write_root(root: Path, n_cases: int) -> None:
    for i in range(n_cases):
        case = f"BraTS2021_{i:05d}"
        (root / case).mkdir(parents=True)
        for suffix in SUFFIXES:
            with open(root / case / f"{case}_{suffix}.nii.gz", "wb") as handle:
                handle.truncate(FILE_BYTES)


def best_of(repeats: int, call) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1251)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where to write the tree (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp) / "brats"
        write_root(root, args.cases)
        listing = best_of(args.repeats, lambda: find_scans(root, CONFIG, "brats"))
        whole = best_of(args.repeats, lambda: scan_listing(root, CONFIG, "brats", n_folds=5))
        n_files = args.cases * len(SUFFIXES)
        print(f"{args.cases} cases, {n_files} files under {root}")
        print(f"layout listing (find_scans):              {listing:.3f} s")
        print(f"listing + folds + stat/access + digest:   {whole:.3f} s "
              f"({(whole - listing) / n_files * 1e6:.1f} us per file for the checks and digest)")


if __name__ == "__main__":
    main()
