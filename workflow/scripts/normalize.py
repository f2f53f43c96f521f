import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.data.normalize import normalize_dataset  # noqa: E402

with log_to(snakemake.log[0]):
    normalize_dataset(
        manifest=snakemake.input.manifest,
        volumes_dir=snakemake.output.volumes,
        modalities=snakemake.params.modalities,
        classes=snakemake.params.classes,
        mask=snakemake.params.mask,
        patch_size=snakemake.params.patch_size,
        name=snakemake.wildcards.ds,
    )
