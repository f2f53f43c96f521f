"""crossmodal: cross-modality representation learning (van Tulder & de Bruijne, IEEE TMI 2019).

All algorithms of the pipeline live in this package; it never imports snakemake. The workflow's
scripts in ``workflow/scripts/`` only unpack ``snakemake.input/params/output`` and call the
package's functions.

The sub-packages follow the pipeline's stages, and a module imports only from its own stage or
an earlier one (``tests/test_layout.py``): :mod:`~crossmodal.common` (errors, atomic writes,
seeds, logs, network ids, tables, config checks, code hashes) → :mod:`~crossmodal.data`
(synthesize, ingest, normalize, folds, patches, gathering) → :mod:`~crossmodal.training`
(network, loss, trainer, checkpoints, devices, encoding, features files) →
:mod:`~crossmodal.evaluation` (the random forests) → :mod:`~crossmodal.reporting` (cells, pairs,
claims, Table I) → :mod:`~crossmodal.figures` (Figs. 5-8) → :mod:`~crossmodal.studies` (learning
curves, plateau, difficulty, specificity sweep, ablation, and their figures).
"""

__version__ = "0.1.0"
