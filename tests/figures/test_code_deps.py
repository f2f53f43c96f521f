from pathlib import Path

import pytest

import crossmodal.figures
from crossmodal.errors import InputError
from crossmodal.figures.code_deps import code_inputs, module_files

PACKAGE = Path(crossmodal.figures.__file__).parent


def names(files):
    return [Path(f).name for f in files]


def test_plot_modules_depend_on_style_only():
    for n in (5, 6, 7, 8):
        assert names(module_files(f"fig{n}_plot", PACKAGE)) == sorted([f"fig{n}_plot.py", "style.py"])


def test_data_modules_list_the_shared_helpers_they_import():
    assert names(module_files("fig7_data", PACKAGE)) == [
        "feature_stats.py", "fig7_data.py", "inputs.py"]
    assert names(module_files("fig8_data", PACKAGE)) == [
        "feature_stats.py", "fig8_data.py", "inputs.py"]


def test_every_import_form_is_followed_transitively(tmp_path):
    (tmp_path / "a.py").write_text("from crossmodal.figures import b\nimport crossmodal.figures.c\n")
    (tmp_path / "b.py").write_text("def f():\n    from .d import x\n")
    (tmp_path / "c.py").write_text("from . import e\nimport numpy\nfrom crossmodal import errors\n")
    (tmp_path / "d.py").write_text("from crossmodal.figures.a import y\n")  # a cycle
    (tmp_path / "e.py").write_text("")
    assert names(module_files("a", tmp_path)) == ["a.py", "b.py", "c.py", "d.py", "e.py"]


def test_missing_module_names_the_file(tmp_path):
    (tmp_path / "a.py").write_text("from crossmodal.figures import gone\n")
    with pytest.raises(InputError, match="gone"):
        module_files("a", tmp_path)


def test_code_inputs_are_relative_and_deduplicated(tmp_path):
    inputs = code_inputs(["fig_plot", "fig7_plot"], PACKAGE, start=PACKAGE.parent)
    assert inputs == ["figures/fig7_plot.py", "figures/fig_plot.py", "figures/style.py"]
