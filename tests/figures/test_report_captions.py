"""The report captions render (Jinja as Snakemake's report does, then reStructuredText)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from docutils.core import publish_parts
from jinja2 import Environment
from snakemake.utils import validate

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "workflow" / "report"


def render(path: Path, snakemake) -> str:
    text = Environment(trim_blocks=True, lstrip_blocks=True).from_string(path.read_text())
    rst = text.render(snakemake=snakemake)
    # halt_level 2: a reStructuredText warning (bad include, broken markup) is an error
    return publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})["body"]


@pytest.fixture(scope="module")
def config():
    config = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


@pytest.mark.parametrize("fig", ["5", "6", "7", "8"])
def test_figure_caption_includes_its_text_and_the_settings(config, fig):
    snakemake = SimpleNamespace(
        wildcards=SimpleNamespace(ds="smoke_knee", fig=fig),
        params=SimpleNamespace(caption=str(REPORT / f"fig{fig}.rst"),
                               modalities=["normal", "fatsup"]),
        config=config,
    )
    html = render(REPORT / "fig_plot.rst", snakemake)
    assert f"Fig. {fig}." in html
    assert "smoke_knee" in html and "normal, fatsup" in html
    if fig == "8":
        assert "1, 2, 4, 8" in html and "30 trees" in html


def test_workflow_description_lists_the_datasets(config):
    html = render(REPORT / "workflow.rst", SimpleNamespace(config=config))
    assert "smoke_knee" in html and "t1, t1c, t2, flair" in html
