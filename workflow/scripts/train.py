import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))

from crossmodal.logs import log_to  # noqa: E402
from crossmodal.train import train  # noqa: E402

with log_to(snakemake.log[0]):
    train(
        volumes_dir=snakemake.input.volumes,
        patches_dir=snakemake.input.patches,
        folds_tsv=snakemake.input.folds,
        fold=int(snakemake.wildcards.fold),
        model_id=snakemake.wildcards.model,
        dataset=snakemake.params.dataset,
        weights_path=snakemake.output.weights,
        history_path=snakemake.output.history,
        checkpoint_path=snakemake.params.checkpoint,
        seed_key=snakemake.params.seed_key,
        threads=snakemake.threads,
    )
