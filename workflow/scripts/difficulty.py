import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.studies.difficulty import difficulty  # noqa: E402

with log_to(snakemake.log[0]):
    difficulty(
        snakemake.input.volumes,
        snakemake.input.patches,
        snakemake.input.folds,
        snakemake.output.difficulty,
        dataset_name=snakemake.wildcards.ds,
        modalities=list(snakemake.params.modalities),
        seed=snakemake.params.seed,
        n_trees=snakemake.params.n_trees,
        threads=snakemake.threads,
    )
