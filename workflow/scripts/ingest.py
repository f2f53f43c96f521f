import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.data.ingest import ingest  # noqa: E402
from crossmodal.data.sample_patches import PatchBudget  # noqa: E402

# Not params on purpose (see rule ingest): the manifest does not depend on these; they only let
# ingest refuse early a scan that sample_patches would refuse.
dataset = snakemake.config["datasets"][snakemake.wildcards.ds]
budget = PatchBudget(
    patch_size=dataset["patch_size"],
    patches_per_class=dataset["patches_per_class"],
    with_replacement=dataset["sample_with_replacement"],
)

with log_to(snakemake.log[0]):
    ingest(
        root=snakemake.params.root,
        dataset_cfg=snakemake.params.dataset,
        manifest_out=snakemake.output.manifest,
        dataset_name=snakemake.wildcards.ds,
        threads=snakemake.threads,
        budget=budget,
    )
