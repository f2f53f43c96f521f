import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.evaluation.archive import write_entry  # noqa: E402

with log_to(snakemake.log[0]):
    write_entry(
        snakemake.wildcards.product,
        snakemake.input.table,
        snakemake.input.weights,
        snakemake.input.history,
        snakemake.params.key,
        snakemake.output.table,
        snakemake.output.provenance,
    )
