import hashlib
import os
import shutil
from pathlib import Path

import pytest

import crossmodal
from crossmodal.common.code_hash import LibraryCode
from crossmodal.common.errors import InputError

SRC = Path(crossmodal.__file__).resolve().parents[1]


def write_tree(src: Path, files: dict[str, str]) -> Path:
    """A ``crossmodal`` source tree under ``src``: ``{"crossmodal/a.py": source}``."""
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return src


TREE = {
    "crossmodal/__init__.py": "",
    "crossmodal/a.py": "from crossmodal.pkg import b, NAME\nimport crossmodal.c\nimport numpy\n",
    "crossmodal/c.py": (
        "def f():\n    try:\n        from crossmodal import d\n    except ImportError:\n        pass\n"
        "class K:\n    if X:\n        with Y:\n            import crossmodal.h\n"
    ),
    "crossmodal/d.py": "from crossmodal.a import f  # a cycle\n",
    "crossmodal/pkg/__init__.py": "NAME = 1\n",
    "crossmodal/pkg/b.py": "from . import e\nfrom ..f import g\n",
    "crossmodal/pkg/e.py": "",
    "crossmodal/f.py": "",
    "crossmodal/h.py": "",
    "crossmodal/unused.py": "",
}


def test_every_import_form_is_followed_transitively_with_the_packages(tmp_path):
    library = LibraryCode(write_tree(tmp_path, TREE))
    assert library.modules("crossmodal.a") == [
        "crossmodal", "crossmodal.a", "crossmodal.c", "crossmodal.d", "crossmodal.f",
        "crossmodal.h", "crossmodal.pkg", "crossmodal.pkg.b", "crossmodal.pkg.e",
    ]
    assert library.modules("crossmodal.pkg.e") == ["crossmodal", "crossmodal.pkg", "crossmodal.pkg.e"]
    assert library.imports("crossmodal.pkg.b") == {"crossmodal.pkg", "crossmodal.pkg.e", "crossmodal.f"}


def test_the_hash_is_of_the_module_names_and_their_source(tmp_path):
    library = LibraryCode(write_tree(tmp_path, TREE))
    empty = hashlib.sha256(b"").hexdigest()
    init = hashlib.sha256(b"NAME = 1\n").hexdigest()  # pkg/__init__.py
    lines = f"crossmodal\0{empty}\ncrossmodal.pkg\0{init}\ncrossmodal.pkg.e\0{empty}\n"
    assert library.digest("crossmodal.pkg.e") == hashlib.sha256(lines.encode()).hexdigest()[:16]
    assert library.digest("crossmodal.pkg.e") == "ffff4ac3d6426fd2"
    # several entries: the union of their modules
    assert library.digest("crossmodal.pkg.e", "crossmodal.a") == library.digest("crossmodal.a")
    assert library.digest("crossmodal.pkg.e", "crossmodal.f") != library.digest("crossmodal.f")


def test_an_edit_changes_the_hash_of_the_modules_that_import_it_and_a_touch_does_not(tmp_path):
    src = write_tree(tmp_path, TREE)
    before = {entry: LibraryCode(src).digest(entry) for entry in ("crossmodal.a", "crossmodal.f", "crossmodal.pkg.e")}
    os.utime(src / "crossmodal/pkg/e.py", (1e9, 1e9))
    assert {entry: LibraryCode(src).digest(entry) for entry in before} == before
    (src / "crossmodal/unused.py").write_text("x = 1\n")
    assert {entry: LibraryCode(src).digest(entry) for entry in before} == before
    (src / "crossmodal/pkg/e.py").write_text("# edited\n")
    after = {entry: LibraryCode(src).digest(entry) for entry in before}
    assert after["crossmodal.a"] != before["crossmodal.a"]
    assert after["crossmodal.pkg.e"] != before["crossmodal.pkg.e"]
    assert after["crossmodal.f"] == before["crossmodal.f"]


def test_a_module_joining_the_set_changes_the_hash_and_a_moved_checkout_does_not(tmp_path):
    src = write_tree(tmp_path / "one", TREE)
    before = LibraryCode(src).digest("crossmodal.pkg.e")
    moved = shutil.copytree(src, tmp_path / "two")
    assert LibraryCode(moved).digest("crossmodal.pkg.e") == before
    (moved / "crossmodal/pkg/e.py").write_text("")  # the same content written again
    assert LibraryCode(moved).digest("crossmodal.pkg.e") == before
    # the package now imports f.py, an empty module: the set of modules changed
    (moved / "crossmodal/pkg/__init__.py").write_text("NAME = 1\nfrom crossmodal import f\n")
    assert LibraryCode(moved).modules("crossmodal.pkg.e")[1] == "crossmodal.f"
    assert LibraryCode(moved).digest("crossmodal.pkg.e") != before


def test_a_missing_module_is_named_with_the_file_that_imports_it(tmp_path):
    src = write_tree(tmp_path, {**TREE, "crossmodal/f.py": "from crossmodal.gone import x\n"})
    with pytest.raises(InputError, match=r"f\.py imports crossmodal\.gone"):
        LibraryCode(src).modules("crossmodal.a")
    with pytest.raises(InputError, match="module crossmodal.renamed not found"):
        LibraryCode(src).digest("crossmodal.renamed")
    with pytest.raises(InputError, match="'numpy' is not a module of crossmodal"):
        LibraryCode(src).digest("numpy")


def test_training_runs_the_loss_and_not_the_forests_and_evaluation_the_reverse():
    """What the workflow's rerun tests rely on, in this checkout's library."""
    library = LibraryCode(SRC)
    train = set(library.modules("crossmodal.training.train"))
    assert {"crossmodal.training.loss", "crossmodal.training.network", "crossmodal.training.train"} <= train
    assert "crossmodal.evaluation.evaluate" not in train
    evaluate = set(library.modules("crossmodal.evaluation.evaluate"))
    assert not {"crossmodal.training.loss", "crossmodal.training.network", "crossmodal.training.train"} & evaluate
    for stage in ("synthesize", "ingest", "normalize", "folds", "sample_patches"):
        modules = set(library.modules(f"crossmodal.data.{stage}"))
        assert not {"crossmodal.training.loss", "crossmodal.evaluation.evaluate"} & modules, stage


def test_a_skipped_module_is_followed_only_where_it_is_an_entry(tmp_path):
    """A dispatcher importing one module per figure: each job hashes its own figure's module."""
    tree = {
        "crossmodal/__init__.py": "",
        "crossmodal/plot.py": "from crossmodal import fig5, fig6\n",
        "crossmodal/fig5.py": "from crossmodal import style\n",
        "crossmodal/fig6.py": "",
        "crossmodal/style.py": "",
    }
    library = LibraryCode(write_tree(tmp_path, tree))
    figures = ["crossmodal.fig5", "crossmodal.fig6"]
    assert library.modules("crossmodal.plot", "crossmodal.fig5", skip=figures) == [
        "crossmodal", "crossmodal.fig5", "crossmodal.plot", "crossmodal.style"]
    assert library.modules("crossmodal.plot", "crossmodal.fig6", skip=figures) == [
        "crossmodal", "crossmodal.fig6", "crossmodal.plot"]
    fig5 = library.digest("crossmodal.plot", "crossmodal.fig5", skip=figures)
    fig6 = library.digest("crossmodal.plot", "crossmodal.fig6", skip=figures)
    (tmp_path / "crossmodal/fig6.py").write_text("EDITED = True\n")
    library = LibraryCode(tmp_path)
    assert library.digest("crossmodal.plot", "crossmodal.fig5", skip=figures) == fig5
    assert library.digest("crossmodal.plot", "crossmodal.fig6", skip=figures) != fig6
    # without skip every job follows both
    assert "crossmodal.fig6" in library.modules("crossmodal.plot", "crossmodal.fig5")
