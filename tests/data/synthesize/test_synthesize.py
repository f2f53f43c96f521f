"""crossmodal.data.synthesize: seeded synthetic knee / BraTS datasets written in real layouts.

The tissue models, their physics and acquisition are tested in tests/synthesize/.
"""

from __future__ import annotations

import hashlib

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from crossmodal.common.config_checks import validated_block
from crossmodal.common.errors import InputError
from crossmodal.data.ingest import ingest
from crossmodal.data.synthesize import physical_rho, synthesize, synthetic_settings

# the blocks as the workflow passes them: validated, defaults filled by the schema
KNEE_CFG = validated_block({"kind": "knee", "seed": 3, "n_subjects": 2, "sessions_per_subject": 2,
                            "shape": [48, 48, 24]}, "synthetic")  # fmt: skip
# the smoke grid: a whole brain at coarse spacing
BRATS_CFG = validated_block({"kind": "brats", "seed": 4, "n_subjects": 2, "shape": [40, 40, 32],
                             "spacing": [4.4, 5.2, 5.5]}, "synthetic")  # fmt: skip
KNEE_CLASSES = [
    {"name": "background", "values": [0]},
    {"name": "cartilage", "values": [1, 2, 4]},
    {"name": "meniscus", "values": [3]},
]
BRATS_CLASSES = [{"name": "brain", "values": [0]}, {"name": "tumour", "values": [1, 2, 4]}]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    synthesize(root / "knee", KNEE_CFG, "generic", ["normal", "fatsup"])
    synthesize(root / "brats", BRATS_CFG, "brats2018", ["t1", "t1c", "t2", "flair"])
    return root


def digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files_and_another_seed_differs(generated, tmp_path):
    synthesize(tmp_path / "knee", KNEE_CFG, "generic", ["normal", "fatsup"])
    synthesize(tmp_path / "brats", BRATS_CFG, "brats2018", ["t1", "t1c", "t2", "flair"])
    for name in ("knee", "brats"):
        assert digests(tmp_path / name) == digests(generated / name)
    # the knob: the same seed and kappa give the same files; kappa changes the images only
    synthesize(tmp_path / "specific", {**KNEE_CFG, "kappa": -1.0}, "generic", ["normal", "fatsup"])
    synthesize(tmp_path / "specific_again", {**KNEE_CFG, "kappa": -1.0}, "generic", ["normal", "fatsup"])
    specific = digests(tmp_path / "specific")
    assert specific == digests(tmp_path / "specific_again")
    default = digests(generated / "knee")
    assert sorted(k for k in specific if specific[k] == default[k]) == sorted(
        ["manifest.tsv"] + [k for k in specific if k.endswith("_label.nii.gz")]
    )
    synthesize(tmp_path / "other", {**KNEE_CFG, "seed": 99}, "generic", ["normal", "fatsup"])
    first, other = digests(generated / "knee"), digests(tmp_path / "other")
    assert first.keys() == other.keys()
    assert [k for k in first if first[k] == other[k]] == ["manifest.tsv"]


def test_knee_generic_layout_headers_and_labels(generated):
    root = generated / "knee"
    table = pd.read_csv(root / "manifest.tsv", sep="\t", dtype=str)
    assert list(table.columns) == ["scan_id", "subject_id", "normal", "fatsup", "label"]
    assert table["scan_id"].tolist() == ["knee001_v00", "knee001_v01", "knee002_v00", "knee002_v01"]
    assert table["subject_id"].tolist() == ["knee001", "knee001", "knee002", "knee002"]
    assert table.loc[1, "fatsup"] == "knee001_v01/knee001_v01_fatsup.nii.gz"
    expected = np.array([[0, 0, 1.0, -11.5], [0.5, 0, 0, -11.75], [0, 0.5, 0, -11.75], [0, 0, 0, 1]])
    for _, row in table.iterrows():
        for column in ("normal", "fatsup", "label"):
            image = nib.load(root / row[column])
            assert image.shape == (48, 48, 24)
            np.testing.assert_allclose(image.affine, expected, atol=1e-6)
            assert image.header.get_zooms() == (0.5, 0.5, 1.0)
            assert int(image.header["qform_code"]) == 1 and int(image.header["sform_code"]) == 1
            assert image.header.get_xyzt_units()[0] == "mm"
            assert image.get_data_dtype() == (np.uint8 if column == "label" else np.int16)
        labels = np.asarray(nib.load(root / row["label"]).dataobj)
        assert np.unique(labels).tolist() == [0, 1, 2, 3, 4]


def test_brats_layout_headers_labels_and_skull_stripping(generated):
    root = generated / "brats"
    assert sorted(p.name for p in root.iterdir()) == ["SynBraTS_001", "SynBraTS_002"]
    names = sorted(p.name for p in (root / "SynBraTS_002").iterdir())
    assert names == [f"SynBraTS_002_{s}.nii.gz" for s in ("flair", "seg", "t1", "t1ce", "t2")]
    expected = np.array([[-4.4, 0, 0, 85.8], [0, -5.2, 0, 101.4], [0, 0, 5.5, -85.25], [0, 0, 0, 1]])
    for case in ("SynBraTS_001", "SynBraTS_002"):
        images = []
        for suffix in ("t1", "t1ce", "t2", "flair"):
            image = nib.load(root / case / f"{case}_{suffix}.nii.gz")
            np.testing.assert_allclose(image.affine, expected, atol=1e-5)
            np.testing.assert_allclose(image.header.get_zooms(), (4.4, 5.2, 5.5), rtol=1e-6)
            assert image.get_data_dtype() == np.int16
            images.append(np.asarray(image.dataobj))
        labels = np.asarray(nib.load(root / case / f"{case}_seg.nii.gz").dataobj)
        assert np.unique(labels).tolist() == [0, 1, 2, 4]
        brain = images[0] != 0
        assert all(np.array_equal(im != 0, brain) for im in images)  # zero outside, >= 1 inside
        assert 0.25 < brain.mean() < 0.5 and not (labels[~brain]).any()
        # the whole brain fits: (almost) no brain on the faces of the field of view
        faces = [brain[0], brain[-1], brain[:, 0], brain[:, -1], brain[:, :, -1]]
        assert sum(int(f.sum()) for f in faces) < 20


def test_ingest_reads_the_synthetic_layouts(generated, tmp_path):
    # the validated config blocks (schema defaults filled in)
    cfg = {"layout": "generic", "manifest": "manifest.tsv", "modalities": ["fatsup", "normal"], "classes": KNEE_CLASSES,
           "mask": {"rule": "dilated_labels", "dilation_voxels": 3}, "affine_tolerance": 1e-3}
    table = ingest(generated / "knee", cfg, tmp_path / "knee.tsv", "synthetic_knee")
    assert table["scan_id"].tolist() == ["knee001_v00", "knee001_v01", "knee002_v00", "knee002_v01"]
    assert table["shape"].unique().tolist() == ["48,48,24"] and table["spacing"].unique().tolist() == ["0.5,0.5,1"]
    cfg = {"layout": "brats2018", "modalities": ["t1", "t1c", "t2", "flair"], "classes": BRATS_CLASSES,
           "mask": {"rule": "nonzero"}, "affine_tolerance": 1e-3}
    table = ingest(generated / "brats", cfg, tmp_path / "brats.tsv", "synthetic_brats")
    assert table["image_t1c"].str.endswith("SynBraTS_001_t1ce.nii.gz").tolist() == [True, False]
    assert table["spacing"].tolist() == ["4.4,5.2,5.5"] * 2


def test_defaults_by_kind_and_bad_requests(tmp_path):
    knee_cfg = synthetic_settings(validated_block({"kind": "knee"}, "synthetic"))
    assert (knee_cfg["shape"], knee_cfg["spacing"], knee_cfg["n_subjects"], knee_cfg["sessions_per_subject"]) == ((96, 96, 40), (0.5, 0.5, 1.0), 6, 2)
    assert knee_cfg["rho"] == physical_rho("knee")
    brats_cfg = synthetic_settings(validated_block({"kind": "brats", "spacing": [1, 1, 2], "rho": 1}, "synthetic"))
    assert (brats_cfg["shape"], brats_cfg["spacing"], brats_cfg["rho"]) == ((88, 104, 88), (1.0, 1.0, 2.0), 1.0)
    # the default demo grid: at most ~1M voxels per modality
    assert np.prod(synthetic_settings(validated_block({"kind": "brats"}, "synthetic"))["shape"]) < 1_000_000
    # ranges and defaults are the schema's (tests/common/test_config_checks.py): a block it did not fill is refused
    with pytest.raises(InputError, match=r"config synthetic has no key\(s\) \['seed', 'n_subjects'"):
        synthetic_settings({"kind": "knee", "rho": 0.5})
    # kappa: 0 (the default data) unless set; its range is the schema's
    assert knee_cfg["kappa"] == 0.0
    assert synthetic_settings(validated_block({"kind": "knee", "kappa": -1}, "synthetic"))["kappa"] == -1.0
    with pytest.raises(InputError, match="kappa"):
        validated_block({"kind": "knee", "kappa": -1.5}, "synthetic")
    with pytest.raises(InputError, match=r"\['dwi'\] not produced by the synthetic 'brats' model"):
        synthesize(tmp_path / "a", BRATS_CFG, "brats2018", ["t1", "dwi"])
    with pytest.raises(InputError, match=r"'brats2018': the synthetic 'knee' data can be written in the \['generic'\]"):
        synthesize(tmp_path / "b", KNEE_CFG, "brats2018", ["normal", "fatsup"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="exists and is not an empty directory"):
        synthesize(tmp_path / "full", KNEE_CFG, "generic", ["normal", "fatsup"])
    assert (tmp_path / "full" / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written
