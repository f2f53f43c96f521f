"""crossmodal: cross-modality representation learning (van Tulder & de Bruijne, IEEE TMI 2019).

All algorithms of the pipeline live in this package; it never imports snakemake. The workflow's
scripts in ``workflow/scripts/`` only unpack ``snakemake.input/params/output`` and call one
function of this package.
"""

__version__ = "0.1.0"
