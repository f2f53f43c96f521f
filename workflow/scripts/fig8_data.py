import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.figures.fig8_data import fig8_data  # noqa: E402

with log_to(snakemake.log[0]):
    fig8_data(
        list(snakemake.input.selection),
        snakemake.output.table,
        dataset=snakemake.wildcards.ds,
        modalities=snakemake.params.modalities,
        models=snakemake.params.models,
        folds=snakemake.params.folds,
    )
