import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.figures.fig5_data import fig5_data  # noqa: E402

with log_to(snakemake.log[0]):
    fig5_data(
        snakemake.input.weights,
        snakemake.input.volumes,
        snakemake.input.patches,
        snakemake.input.folds,
        snakemake.output.table,
        dataset=snakemake.wildcards.ds,
        modalities=snakemake.params.modalities,
        classes=snakemake.params.classes,
        model=snakemake.params.model,
        fold=snakemake.params.fold,
        n_patches=snakemake.params.n_patches,
        seed=snakemake.params.seed,
    )
