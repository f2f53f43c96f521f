#!/usr/bin/env bash
# Wheels for a lent GPU machine that cannot reach the package registries (benchmarks/gpu_check.sh):
# Snakemake and nibabel with what they need, for CPython 3.12 on x86-64, less what that machine's
# image already holds (PyTorch, NumPy, SciPy, pandas, scikit-learn, matplotlib, seaborn, Jinja2,
# PyYAML, requests, psutil, ...; listed in DEVICE_HAS below) and less PuLP (16 MB; the check runs
# Snakemake with --scheduler greedy, which does not import it), so that the wheels, the
# repository and the synthesized raw data travel together under 64 MiB.
#   bash tools/gpu_wheels.sh [DIR]     # default .gpu/whl (ignored by git)
set -euo pipefail
dest=${1:-.gpu/whl}
python=${PYTHON312:-python3.12}
DEVICE_HAS="attrs certifi charset-normalizer idna jinja2 markupsafe numpy packaging psutil pyyaml
requests typing-extensions urllib3 wrapt pulp"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pip wheel builds the sdist-only ones (connection_pool) as pure-Python wheels
"$python" -m pip wheel --quiet --wheel-dir "$work" "snakemake==9.27.1" "nibabel>=5"
mkdir -p "$dest"
for wheel in "$work"/*.whl; do
    name=$(basename "$wheel" | cut -d- -f1 | tr '_A-Z' '-a-z')
    case " $(echo $DEVICE_HAS) " in
        *" $name "*) ;;
        *) cp "$wheel" "$dest/" ;;
    esac
done
du -sh "$dest"
