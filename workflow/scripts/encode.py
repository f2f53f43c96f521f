import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))

from crossmodal.encode import encode  # noqa: E402
from crossmodal.logs import log_to  # noqa: E402

with log_to(snakemake.log[0]):
    encode(
        weights_path=snakemake.input.weights,
        volumes_dir=snakemake.input.volumes,
        patches_dir=snakemake.input.patches,
        folds_tsv=snakemake.input.folds,
        fold=int(snakemake.wildcards.fold),
        dataset=snakemake.params.dataset,
        features_path=snakemake.output.features,
        threads=snakemake.threads,
    )
