import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.evaluation.feature_selection import feature_selection  # noqa: E402

with log_to(snakemake.log[0]):
    feature_selection(
        snakemake.input.features,
        snakemake.input.folds,
        snakemake.output.table,
        dataset=snakemake.wildcards.ds,
        model=snakemake.wildcards.model,
        fold=int(snakemake.wildcards.fold),
        modalities=snakemake.params.modalities,
        feature_counts=snakemake.params.feature_counts,
        n_trees=snakemake.params.n_trees,
        seed=snakemake.params.seed,
        max_train_patches=snakemake.params.max_train_patches,
        threads=snakemake.threads,
    )
