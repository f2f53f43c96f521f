#!/usr/bin/env bash
# The CUDA measurements of docs/performance.md as one prepared run for a lent GPU machine that
# cannot reach the package registries: the training-step benchmark on the GPU with the paper
# grid's GPU-hours from its step times, then the default results/table1.csv trained on that GPU.
#
# Prepare on a machine with the registries, in the repository root (Python 3.12 there too):
#   bash tools/gpu_wheels.sh      # .gpu/whl: Snakemake, nibabel and what the GPU image lacks (14 MB)
#   snakemake --cores all results/synthetic_knee/raw results/synthetic_brats/raw   # the data (26 MB)
# Run there from the repository root, carrying .gpu, results/synthetic_knee/raw and
# results/synthetic_brats/raw (raw is an output of rule synthesize that Snakemake then keeps):
#   bash benchmarks/gpu_check.sh  # logs and tables to $OUT, else gpu_check/
# It stops itself after about 9 minutes: the benchmark gets 3 (GPU_CHECK_BENCH_S), the Table I
# run 6 (GPU_CHECK_RUN_S); a run cut off still leaves the finished trainings' times in
# train_times.tsv.
set -uo pipefail
out=${OUT:-gpu_check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if ! ls .gpu/whl/*.whl > /dev/null 2>&1; then
    echo "no wheels in .gpu/whl: run tools/gpu_wheels.sh first and carry .gpu" >&2
    exit 2
fi
python3 -m pip install --quiet --no-index --no-deps --no-compile --target /tmp/gpu_site .gpu/whl/*.whl || exit 2
export PYTHONPATH=/tmp/gpu_site:$PWD/src PATH=/tmp/gpu_site/bin:$PATH

{
    nvidia-smi
    lscpu | grep "Model name"
    python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

timeout "${GPU_CHECK_BENCH_S:-180}" python3 benchmarks/training_throughput.py --device cuda --rounds 2 --steps 10 2>&1 | tee "$out/throughput.txt"

# One GPU shared by 8 trainings at once: each takes cuda:0 without the per-GPU lock
# (crossmodal.training.devices), so that the small default networks keep the GPU busy.
export CROSSMODAL_GPU_LOCKS=0
start=$(date +%s)
timeout "${GPU_CHECK_RUN_S:-360}" python3 -m snakemake results/table1.csv --cores all --resources gpu=8 --scheduler greedy \
    > "$out/table1_run.log" 2>&1
status=$?
echo "snakemake results/table1.csv: exit $status after $(($(date +%s) - start)) s" | tee -a "$out/table1_run.log"
cp results/table1.md results/table1.csv "$out/" 2>/dev/null

python3 - "$out/train_times.tsv" << 'EOF'
import sys
from pathlib import Path

import pandas as pd

rows = []
for path in sorted(Path("results/benchmarks").glob("*/train/*/fold*.tsv")):
    seconds = pd.read_csv(path, sep="\t")["s"].iloc[0]
    rows.append({"dataset": path.parts[2], "model": path.parts[4], "fold": path.stem, "seconds": seconds})
table = pd.DataFrame(rows, columns=["dataset", "model", "fold", "seconds"])
table.to_csv(sys.argv[1], sep="\t", index=False)
print(table.groupby("dataset")["seconds"].describe().round(1).to_string() if rows else "no training finished")
EOF
exit $status
