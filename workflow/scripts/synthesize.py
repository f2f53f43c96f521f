import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.data.synthesize import synthesize  # noqa: E402

with log_to(snakemake.log[0]):
    synthesize(
        out_dir=snakemake.output.raw,
        synthetic_cfg=dict(snakemake.params.synthetic),
        layout=snakemake.params.layout,
        modalities=list(snakemake.params.modalities),
    )
