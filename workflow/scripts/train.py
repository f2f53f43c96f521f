import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.training.train import train  # noqa: E402
from crossmodal.training.training_job import TrainingJob  # noqa: E402

# settings that do not change the result: read from the config, not params (a change of a
# param reruns the job)
training = snakemake.config["datasets"][snakemake.wildcards.ds]["training"]

with log_to(snakemake.log[0]):
    job = TrainingJob.from_rule(
        snakemake.input,
        snakemake.wildcards,
        snakemake.params,
        encode_batch_size=training["encode_batch_size"],
        threads=snakemake.threads,
    )
    train(
        job,
        weights_path=snakemake.output.weights,
        history_path=snakemake.output.history,
        features_path=snakemake.output.features,
        checkpoint_path=snakemake.params.checkpoint,
        checkpoint_minutes=training["checkpoint_minutes"],
    )
