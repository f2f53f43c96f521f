"""Training and encoding: the networks, their loss and training loop, and the features files.

Owns the network (:mod:`~crossmodal.training.network`) and its faster CPU layers
(:mod:`~crossmodal.training.layers`), the method settings (:mod:`~crossmodal.training.method`),
modality dropout, the loss, the SGD update and precision, the allocator setting of CPU jobs
(:mod:`~crossmodal.training.allocator`), devices, checkpoints, the training loop
(:mod:`~crossmodal.training.trainer`), one training job (:mod:`~crossmodal.training.training_job`,
rule ``train``'s entry :mod:`~crossmodal.training.train`), encoding every patch
(:mod:`~crossmodal.training.encode`) and the features file format
(:mod:`~crossmodal.training.features`). It may import :mod:`crossmodal.common` and
:mod:`crossmodal.data`. This file imports nothing, as it runs with every module of the stage.
"""
