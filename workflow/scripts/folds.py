import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.data.folds import make_folds  # noqa: E402

with log_to(snakemake.log[0]):
    make_folds(
        manifest=snakemake.input.manifest,
        folds_tsv=snakemake.output.folds,
        n_folds=snakemake.params.n_folds,
        seed=snakemake.params.seed,
        name=snakemake.wildcards.ds,
    )
