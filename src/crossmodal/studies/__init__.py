"""Studies beyond Table I: learning curves and their plateau, difficulty, specificity, ablation.

Owns the learning curves (:mod:`~crossmodal.studies.curve_training`,
:mod:`~crossmodal.studies.curve_tables`, :mod:`~crossmodal.studies.plateau`), the data's
difficulty table (:mod:`~crossmodal.studies.difficulty`), the specificity sweep
(:mod:`~crossmodal.studies.specificity`), the ablation (:mod:`~crossmodal.studies.ablation`) and
the figures of each (``learning_plot``, ``specificity_plot``, ``ablation_plot``). It is the last
stage: it may import every other package, and none imports it. This file imports nothing, as it
runs with every module of the stage.
"""
