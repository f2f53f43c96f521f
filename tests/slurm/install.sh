#!/usr/bin/env bash
# Install a single-node Slurm (Debian packages: slurmctld, slurmd, slurm-client, munge) if missing.
# Needs root and Debian's apt. Idempotent: does nothing when the binaries are already there.
# No accounting database is installed: tests/slurm/cluster.py runs the executor plugin in its
# squeue status mode and keeps the scheduler's own job records with jobcomp/filetxt.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null; then
    echo "slurm already installed: $(slurmctld -V)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "not root: cannot install slurm" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null; then
    echo "no apt-get: cannot install slurm" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# No init system in a container: apt starts no daemons; tests/slurm/cluster.py starts them.
apt-get update -q
apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
echo "installed: $(slurmctld -V)"
