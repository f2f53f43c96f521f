import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.studies.curve_training import curve_training  # noqa: E402
from crossmodal.training.training_job import TrainingJob  # noqa: E402

# does not change the result: read from the config, not a param
training = snakemake.config["datasets"][snakemake.wildcards.ds]["training"]

with log_to(snakemake.log[0]):
    job = TrainingJob.from_rule(
        snakemake.input,
        snakemake.wildcards,
        snakemake.params,
        encode_batch_size=training["encode_batch_size"],
        threads=snakemake.threads,
    )
    curve_training(
        job,
        updates=snakemake.params.updates,
        n_trees=snakemake.params.n_trees,
        max_train_patches=snakemake.params.max_train_patches,
        output_path=snakemake.output.curve,
    )
