"""The config schema (workflow/schemas/config.schema.yaml): the one owner of keys, values and defaults.

Read with PyYAML only: the library reads defaults from it (:func:`schema_defaults`) in jobs,
whose environment has no jsonschema; checking a config against it is
:mod:`crossmodal.common.config_checks`'s.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

#: the schema of this checkout (the Snakefile passes its own path to the start-up checks)
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


@functools.cache
def load_schema(schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The schema, parsed once per process (PyYAML's C loader where it has one)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(schema_path).read_text(), Loader=loader)


def schema_defaults(definition: str, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The ``default`` of each property of ``definitions.<definition>`` that has one.

    For library code that needs a block's defaults without a validated config (the method
    settings: :data:`crossmodal.training.method.DEFAULT`); the schema stays their one owner.
    Reads the schema with PyYAML only (no jsonschema, which a job's environment need not have).

    Args:
        definition: a key of the schema's ``definitions``, e.g. ``"method"``.
        schema_path: ``workflow/schemas/config.schema.yaml``.

    Returns:
        ``{key: default}``, in the schema's order.
    """
    properties = load_schema(schema_path)["definitions"][definition]["properties"]
    return {key: copy.deepcopy(spec["default"]) for key, spec in properties.items() if "default" in spec}
