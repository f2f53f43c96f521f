import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.evaluation.evaluate import evaluate  # noqa: E402

with log_to(snakemake.log[0]):
    evaluate(
        snakemake.input.features,
        snakemake.output.accuracy,
        dataset_name=snakemake.wildcards.ds,
        model=snakemake.wildcards.model,
        fold=int(snakemake.wildcards.fold),
        modalities=snakemake.params.modalities,
        seed=snakemake.params.seed,
        max_train_patches=snakemake.params.max_train_patches,
        n_trees=snakemake.params.n_trees,
        threads=snakemake.threads,
    )
