"""Every `snakemake` command line of the README, docs/, the profiles' READMEs and the configs' comments
works as written: each is dry-run (`-n` put first, nothing else changed) in a copy of the
checkout, from its root, as a user would type it there. A job count written after an inline
command in the Markdown documents, as in "`snakemake -n all`: 1,106 jobs", is the dry run's total
from nothing: a number the prose promises comes from the workflow.

The copy's configs/paper.yaml points its placeholder roots at fake data in the real layouts
(step 1 of its instructions). `~/mycluster` is the user's own profile: HOME points at a folder
holding the profile files shown in profiles/slurm/README.md. Skipped, with the reason in the
test id: `snakemake --report`, which bundles the results of a finished run (the same option on
a finished smoke run is tests/test_workflow.py::test_report_bundles_table_and_figures), and the
SLURM profile's commands where the SLURM executor plugin is not installed (a dry run needs no
cluster, only the plugin).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import REPO, copy_code, describe, paper_config_on_fake_data

DOCS = (
    ["README.md"]
    + sorted(str(p.relative_to(REPO)) for p in REPO.glob("docs/*.md"))
    + sorted(str(p.relative_to(REPO)) for p in REPO.glob("profiles/*/README.md"))
)
CONFIGS = ["config.yaml"] + sorted(str(p.relative_to(REPO)) for p in REPO.glob("configs/*.yaml"))


#: an inline command, and the job count written after it ("`snakemake -n all`: 1,106 jobs")
JOB_COUNT = r"`((?:time )?snakemake [^`]*)`(?::\s*([\d,]+) jobs\b)?"
#: (file:line, command) -> the job count the document gives for it
JOB_COUNTS: dict[tuple[str, str], int] = {}


def markdown_commands(path: str) -> list[tuple[str, str]]:
    """``(file:line, command)`` of the snakemake lines of fenced blocks and of inline code."""
    lines = (REPO / path).read_text().splitlines()
    found = []
    fenced = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced and line.strip().startswith("snakemake "):
            start, command = i, line.strip()
            while command.endswith("\\"):
                i += 1
                command = command[:-1].rstrip() + " " + lines[i].strip()
            found.append((f"{path}:{start + 1}", command.split(" #")[0].strip()))
        elif not fenced:
            for span, jobs in re.findall(JOB_COUNT, line):
                found.append((f"{path}:{i + 1}", span))
                if jobs:
                    JOB_COUNTS[(f"{path}:{i + 1}", span)] = int(jobs.replace(",", ""))
        i += 1
    return found


def comment_commands(path: str) -> list[tuple[str, str]]:
    """``(file:line, command)`` of a YAML file's comments; a command ends at two spaces."""
    found = []
    for i, line in enumerate((REPO / path).read_text().splitlines()):
        match = re.match(r"\s*#.*?\b(snakemake\s.*)", line)
        if match:
            found.append((f"{path}:{i + 1}", re.split(r"\s{2,}", match.group(1).strip())[0]))
    return found


COMMANDS = [c for doc in DOCS for c in markdown_commands(doc)] + [
    c for config in CONFIGS for c in comment_commands(config)
]


def test_the_documents_hold_the_commands_this_test_runs():
    where = {w.split(":")[0] for w, _ in COMMANDS}
    assert {"README.md", "docs/results.md", "configs/paper.yaml", "configs/smoke.yaml", "config.yaml"} <= where
    assert len(COMMANDS) >= 10
    # the job counts of the README's targets and of the ablation are checked
    counted = {(w.split(":")[0], c) for w, c in JOB_COUNTS}
    assert {("README.md", "snakemake -n results/table1.csv"), ("README.md", "snakemake -n all"),
            ("docs/method.md", "snakemake -n ablations")} <= counted, counted


def profile_files(readme: Path) -> dict[str, str]:
    """The ``# ~/mycluster/<name>`` YAML blocks of a README: ``{name: text}``."""
    blocks = re.findall(r"```yaml\n# ~/mycluster/(\S+)[^\n]*\n(.*?)```", readme.read_text(), re.S)
    return dict(blocks)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the checkout to run the commands from, and a HOME with ~/mycluster."""
    root = tmp_path_factory.mktemp("documented")
    code = copy_code(root / "code")
    shutil.copytree(REPO / "tests" / "slurm" / "profile", code / "tests" / "slurm" / "profile")
    (code / "configs" / "paper.yaml").write_text(paper_config_on_fake_data(root / "data"))
    home = root / "home"
    for name, text in profile_files(REPO / "profiles" / "slurm" / "README.md").items():
        (home / "mycluster").mkdir(parents=True, exist_ok=True)
        (home / "mycluster" / name).write_text(text)
    return {"code": code, "home": home}


@pytest.mark.parametrize("where, command", COMMANDS, ids=[f"{w} {c}" for w, c in COMMANDS])
def test_documented_command_dry_runs(checkout, where, command):
    argv = shlex.split(command)
    if argv[0] == "time":
        argv = argv[1:]
    assert argv[0] == "snakemake", (where, command)
    if "--report" in argv:
        pytest.skip("a report bundles a finished run's results: see test_report_bundles_table_and_figures")
    if "profiles/slurm" in argv and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("the SLURM executor plugin is not installed (pip install -e '.[slurm]')")
    env = {**os.environ, "HOME": str(checkout["home"])}
    # as the shell expands ~ of the user running the command
    argv = [str(checkout["home"]) + a[1:] if a.startswith("~/") else a for a in argv]
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", *argv[1:]],
        cwd=checkout["code"], env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, f"{where}: {command}\n" + describe(run)
    assert "This was a dry-run" in run.stdout + run.stderr, describe(run)
    if (where, command) in JOB_COUNTS:
        total = re.search(r"^total\s+(\d+)$", run.stdout + run.stderr, re.M)
        assert total is not None, describe(run)
        assert int(total.group(1)) == JOB_COUNTS[(where, command)], (
            f"{where}: `{command}` is {total.group(1)} jobs from nothing, the document says "
            f"{JOB_COUNTS[(where, command)]}"
        )
