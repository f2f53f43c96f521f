import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))

from crossmodal.evaluate import evaluate  # noqa: E402
from crossmodal.logs import log_to  # noqa: E402

with log_to(snakemake.log[0]):
    evaluate(
        snakemake.input.features,
        snakemake.output.accuracy,
        dataset_name=snakemake.wildcards.ds,
        model=snakemake.wildcards.model,
        fold=int(snakemake.wildcards.fold),
        dataset=snakemake.params.dataset,
        n_trees=snakemake.params.n_trees,
        seed_key=snakemake.params.seed_key,
        threads=snakemake.threads,
    )
