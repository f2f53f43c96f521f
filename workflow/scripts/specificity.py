import sys
from pathlib import Path

# this checkout's library ahead of any installed crossmodal; scriptdir is
# <checkout>/workflow/rules/../scripts, so resolve the ".." before going up
sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))

from crossmodal.common.logs import log_to  # noqa: E402
from crossmodal.studies.specificity import collect_specificity  # noqa: E402

with log_to(snakemake.log[0]):
    collect_specificity(
        list(snakemake.input.accuracy),
        list(snakemake.params.kappas),
        list(snakemake.input.difficulty),
        list(snakemake.params.difficulty_kappas),
        dataset=snakemake.wildcards.ds,
        modalities=snakemake.params.modalities,
        output_path=snakemake.output.table,
    )
