"""Figures 5-8 of the paper: one data module (tidy table) and one plot module per figure.

``fig{N}_data`` computes ``results/{ds}/figdata/fig{N}.tsv`` from features, folds or trained
weights, or, for Figs. 7 and 8, collects the per-network, per-fold tables of
:mod:`crossmodal.evaluation.feature_ncc` and :mod:`~crossmodal.evaluation.feature_selection`
(archived like the accuracies, so a figure covers folds trained on other machines);
``fig{N}_plot.plot(table, pdf, png, ...)`` draws the figure from that table alone.
Shared code: :mod:`style` (plots), :mod:`inputs` (data), and the per-feature statistics of
:mod:`crossmodal.evaluation.feature_stats`. A figure job's
``code`` param hashes the modules it imports (:mod:`crossmodal.common.code_hash`), so editing one
figure's code reruns only that figure's jobs.

It may import the stages before it (common, data, training, evaluation), not
:mod:`crossmodal.reporting` (a peer) or :mod:`crossmodal.studies`, whose figures live there.
This package file imports nothing: it runs with every figure module (and is part of each figure
job's code hash), so it must not load matplotlib or scikit-learn for jobs that use neither.
"""
