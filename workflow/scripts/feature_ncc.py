import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.evaluation.feature_ncc import feature_ncc  # noqa: E402

with log_to(snakemake.log[0]):
    feature_ncc(snakemake.input.features, snakemake.output.table, modalities=snakemake.params.modalities)
