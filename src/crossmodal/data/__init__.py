"""The data stages: from raw scans (or a synthetic dataset) to the patches training reads.

Owns synthesis of the embedded datasets (:mod:`~crossmodal.data.synthesize`, rule
``synthesize``), reading images (:mod:`~crossmodal.data.io`), ingest and its layouts
(:mod:`~crossmodal.data.ingest`), normalized volumes (:mod:`~crossmodal.data.normalize`, their
file names and index in :mod:`~crossmodal.data.volumes`), subject-grouped folds
(:mod:`~crossmodal.data.folds`), patch centres (:mod:`~crossmodal.data.sample_patches`, read as
patch sets by :mod:`~crossmodal.data.patch_sets`) and cutting patches out of the volumes
(:mod:`~crossmodal.data.gather`). It may import :mod:`crossmodal.common` only. This file imports
nothing, as it runs with every module of the stage.
"""
