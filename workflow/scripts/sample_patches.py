import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.data.sample_patches import sample_dataset  # noqa: E402

with log_to(snakemake.log[0]):
    sample_dataset(
        volumes_dir=snakemake.input.volumes,
        patches_dir=snakemake.output.patches,
        class_names=snakemake.params.class_names,
        patches_per_class=snakemake.params.patches_per_class,
        patch_size=snakemake.params.patch_size,
        seed=snakemake.params.seed,
        with_replacement=snakemake.params.with_replacement,
        name=snakemake.wildcards.ds,
    )
