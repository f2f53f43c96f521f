import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.reporting.table import write_table1  # noqa: E402

with log_to(snakemake.log[0]):
    write_table1(
        list(snakemake.input.cells),
        snakemake.output.csv,
        snakemake.output.md,
        paper=dict(snakemake.params.paper),
        modalities=dict(snakemake.params.modalities),
        claim_paths=list(snakemake.input.claims),
    )
