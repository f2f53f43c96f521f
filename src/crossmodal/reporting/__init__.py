"""Reporting: Table I's cells, the accuracy per modality pair, the paper's claims and Table I.

Owns the cell tables (:mod:`~crossmodal.reporting.cell`), ``pairs.csv``
(:mod:`~crossmodal.reporting.pairs`), the claims (:mod:`~crossmodal.reporting.claims`), the
paper's published Table I (:mod:`~crossmodal.reporting.paper_table`, with ``table1_paper.csv``)
and ``results/table1.{csv,md}`` (:mod:`~crossmodal.reporting.table`). It may import the stages
before it (common, data, training, evaluation), not :mod:`crossmodal.figures` or
:mod:`crossmodal.studies`. This file imports nothing, as it runs with every module of the stage.
"""
