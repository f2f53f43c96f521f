import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.studies.ablation import collect_ablation  # noqa: E402

with log_to(snakemake.log[0]):
    collect_ablation(
        list(snakemake.input.accuracy),
        list(snakemake.input.feature_sd),
        list(snakemake.params.levels),
        dataset=snakemake.wildcards.ds,
        modalities=snakemake.params.modalities,
        models=list(snakemake.params.models),
        paper=snakemake.params.paper,
        training=dict(snakemake.params.training),
        output_path=snakemake.output.table,
    )
