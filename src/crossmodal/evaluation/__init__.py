"""Evaluation: random forests on the features, same- and cross-modality accuracy (rule ``evaluate``).

Owns the forests and the accuracy tables (:mod:`~crossmodal.evaluation.evaluate`). It may import
:mod:`crossmodal.common`, :mod:`crossmodal.data` and :mod:`crossmodal.training` (the features
files). This file imports nothing, as it runs with every module of the stage.
"""
