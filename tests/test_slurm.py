"""profiles/slurm on a real single-node SLURM cluster (Slurm 22.05 from Debian packages).

Needs root (installs the packages when missing and runs slurmd); elsewhere it is skipped with
the reason. The cluster is started once for this module (tests/slurm/cluster.py) and stopped by
PID at the end. Every snakemake call runs under a time limit.
"""

from __future__ import annotations

import re
from collections import Counter
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workflow_helpers import copy_code, describe

sys.path.insert(0, str(Path(__file__).resolve().parent / "slurm"))
import cluster as slurm  # noqa: E402

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
OVERLAY = REPO / "tests" / "slurm" / "profile"
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = slurm.unavailable_reason()
    if reason:
        pytest.skip(reason)
    start = time.monotonic()
    slurm.install()
    # a short path: slurmd's spool sockets must fit in 108 characters
    root = Path(tmp_path_factory.mktemp("slurm"))
    instance = slurm.SlurmCluster(root)
    try:
        instance.start()
        print(f"\nslurm cluster up in {time.monotonic() - start:.0f} s", file=sys.stderr)
        yield instance
    finally:
        instance.stop()
        assert not list((root / "run").glob("*.pid")), "pid files left behind"


def run_snakemake(cluster, code: Path, workdir: Path, *args: str, timeout: float = 1500):
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(code / "Snakefile"),
        "--directory", str(workdir),
        "--profile", str(REPO / "profiles" / "slurm"),
        "--profile", str(OVERLAY),
        "--slurm-keep-successful-logs",
        *args,
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=cluster.env(), cwd=workdir
    )


def submissions(run) -> dict[str, str]:
    """Slurm job id -> Snakemake job id, from Snakemake's log of a run."""
    return {slurm_id: job for job, slurm_id in SUBMITTED.findall(run.stdout + run.stderr)}


def records(cluster, slurm_ids) -> dict[str, dict[str, str]]:
    """The scheduler's job-completion records of these jobs (waits up to 30 s for them)."""
    deadline = time.monotonic() + 30
    while True:
        found = {r["JobId"]: r for r in cluster.completed_jobs() if r.get("JobId") in slurm_ids}
        if len(found) == len(slurm_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def job_stats(log: str) -> Counter:
    """Rule -> number of jobs, from the "Job stats" table Snakemake prints first."""
    table = log[log.index("Job stats:") :]
    rows = re.findall(r"^(\w+)\s+(\d+)$", table[: table.index("\ntotal")], re.M)
    return Counter({rule: int(count) for rule, count in rows})


def jobs_in_log(log: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a Snakemake log shows starting."""
    return {
        (rule, (re.search(r"^    wildcards: (.*)$", block, re.M) or [None, ""])[1])
        for rule, block in re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)*)", log, re.M)
    }


def test_failing_job_is_reported_failed_by_snakemake_and_slurm(cluster, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    failing = REPO / "tests" / "slurm" / "failing"
    start = time.monotonic()
    run = run_snakemake(cluster, failing, workdir, timeout=300)
    print(f"\nfailing job through slurm: {time.monotonic() - start:.0f} s", file=sys.stderr)
    assert run.returncode != 0, describe(run)
    output = run.stdout + run.stderr
    assert "SLURM status is: 'FAILED'" in output, describe(run)
    ids = submissions(run)
    # profiles/slurm resubmits a failed job once (retries: 1): two submissions, both failed
    assert len(ids) == 2, describe(run)
    found = records(cluster, set(ids))
    assert {i: r["JobState"] for i, r in found.items()} == {i: "FAILED" for i in ids}
    assert {r["ExitCode"] for r in found.values()} == {"1:0"}
    assert not (workdir / "fails.txt").exists()


def test_smoke_workflow_through_slurm_equals_local_run(cluster, smoke_run, tmp_path):
    code = copy_code(tmp_path / "code")
    workdir = tmp_path / "work"
    workdir.mkdir()
    start = time.monotonic()
    run = run_snakemake(
        cluster, code, workdir, f"--configfile={code / 'configs/smoke.yaml'}", "results/table1.csv"
    )
    seconds = time.monotonic() - start
    print(f"\nsmoke workflow (table1.csv) through slurm: {seconds:.0f} s", file=sys.stderr)
    assert run.returncode == 0, describe(run)

    # every submission is in the scheduler's own records, completed
    ids = submissions(run)
    assert ids, describe(run)
    found = records(cluster, set(ids))
    assert {i: r["JobState"] for i, r in found.items()} == {i: "COMPLETED" for i in ids}

    # every Snakemake job ran inside one of those Slurm jobs: the logs the Slurm jobs wrote
    # (one per submission) together name each job of the DAG (rule and wildcards)
    stats = job_stats(run.stdout + run.stderr)
    logs = sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert sorted(p.stem for p in logs) == sorted(ids), "one Slurm log per submission"
    inside = set().union(*(jobs_in_log(p.read_text()) for p in logs))
    assert Counter(rule for rule, _ in inside) == stats, "jobs that ran inside Slurm jobs"

    # a training (which also encodes) is one Slurm job with one GPU; the data stages of a
    # dataset one job; evaluate is a job of its own with 8 CPUs (profiles/slurm)
    networks = stats["train"]
    prep = sum(stats[r] for r in ("synthesize", "ingest", "normalize", "folds", "sample_patches"))
    datasets = stats["ingest"]
    assert len(ids) == sum(stats.values()) - prep + datasets
    # what the scheduler allocated (scontrol: the job-completion log shows only the request)
    held = cluster.jobs()
    allocations = Counter((held[i].get("TresPerJob"), held[i]["NumCPUs"]) for i in ids)
    assert allocations[("gres:gpu:1", "4")] == networks, allocations
    assert allocations[(None, "8")] == stats["evaluate"], allocations

    local = (smoke_run["workdir"] / "results" / "table1.csv").read_bytes()
    assert (workdir / "results" / "table1.csv").read_bytes() == local
