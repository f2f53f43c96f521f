"""What every stage uses: errors, atomic writes, seeds, logs, network ids, tables, config checks.

Owns :class:`~crossmodal.common.errors.InputError`, atomic output files
(:mod:`~crossmodal.common.atomic`), seed derivation (:mod:`~crossmodal.common.seeds`), the job
logs (:mod:`~crossmodal.common.logs`), the network and cell ids of the grid
(:mod:`~crossmodal.common.model_ids`), reading tab-separated tables with their columns checked
(:mod:`~crossmodal.common.tsv_tables`), the config schema and its defaults
(:mod:`~crossmodal.common.schema`), the start-up checks of the config against it
(:mod:`~crossmodal.common.config_checks`, and :mod:`~crossmodal.common.dataset_checks` that the
stages repeat) and the hash of the library code a job runs
(:mod:`~crossmodal.common.code_hash`). It may import no other ``crossmodal`` package: every other
stage imports it. This file imports nothing, as it runs with every module.
"""
