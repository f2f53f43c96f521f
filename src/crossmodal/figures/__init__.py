"""Figures 5-8 of the paper: one data module (tidy table) and one plot module per figure.

``fig{N}_data`` computes ``results/{ds}/figdata/fig{N}.tsv`` from features, folds or trained
weights; ``fig{N}_plot.plot(table, pdf, png, ...)`` draws the figure from that table alone.
Shared code: :mod:`style` (plots), :mod:`feature_stats` and :mod:`inputs` (data). The workflow
lists every module a figure job imports as an input of that job (see :mod:`code_deps`), so
editing one figure's code reruns only that figure's jobs.

This package file imports nothing: the workflow imports :mod:`code_deps` at DAG-build time and
must not pay for matplotlib or scikit-learn there.
"""
