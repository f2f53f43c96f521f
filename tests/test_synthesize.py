"""crossmodal.synthesize: seeded synthetic knee / BraTS datasets written in real layouts."""

from __future__ import annotations

import hashlib

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from crossmodal.errors import InputError
from crossmodal.ingest import ingest
from crossmodal.synthesize import brats, knee, synthesize, synthetic_settings

KNEE_CFG = {"kind": "knee", "seed": 3, "n_subjects": 2, "sessions_per_subject": 2, "shape": [48, 48, 24]}
BRATS_CFG = {"kind": "brats", "seed": 4, "n_subjects": 2, "shape": [40, 40, 32]}
KNEE_CLASSES = [
    {"name": "background", "values": [0]},
    {"name": "cartilage", "values": [1, 2]},
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
        assert np.unique(labels).tolist() == [0, 1, 2, 3]


def test_brats_layout_headers_labels_and_skull_stripping(generated):
    root = generated / "brats"
    assert sorted(p.name for p in root.iterdir()) == ["SynBraTS_001", "SynBraTS_002"]
    names = sorted(p.name for p in (root / "SynBraTS_002").iterdir())
    assert names == [f"SynBraTS_002_{s}.nii.gz" for s in ("flair", "seg", "t1", "t1ce", "t2")]
    expected = np.array([[-1.5, 0, 0, 29.25], [0, -1.5, 0, 29.25], [0, 0, 1.5, -23.25], [0, 0, 0, 1]])
    for case in ("SynBraTS_001", "SynBraTS_002"):
        images = []
        for suffix in ("t1", "t1ce", "t2", "flair"):
            image = nib.load(root / case / f"{case}_{suffix}.nii.gz")
            np.testing.assert_allclose(image.affine, expected, atol=1e-6)
            assert image.header.get_zooms() == (1.5, 1.5, 1.5)
            images.append(np.asarray(image.dataobj))
        labels = np.asarray(nib.load(root / case / f"{case}_seg.nii.gz").dataobj)
        assert np.unique(labels).tolist() == [0, 1, 2, 4]
        brain = images[0] != 0
        assert all(np.array_equal(im != 0, brain) for im in images)  # zero outside, >= 1 inside
        assert 0.2 < brain.mean() < 0.6 and not (labels[~brain]).any()


def tissue_means(images, tissue, names):
    return {m: {name: float(images[m][tissue == t].mean()) for t, name in enumerate(names) if (tissue == t).any()} for m in images}


def test_knee_contrasts_at_demo_scale():
    images, labels, tissue = knee.knee_scan(1, 0, 0, knee.DEFAULT_SHAPE, knee.DEFAULT_SPACING, 0.04, 0.15)
    assert np.array_equal(labels, knee.LABEL_OF_TISSUE[tissue])
    n, f = (tissue_means(images, tissue, knee.TISSUES)[m] for m in ("normal", "fatsup"))
    assert n["fat"] > f["fat"] and n["marrow"] > f["marrow"]  # fat bright, then suppressed
    assert f["fluid"] > n["fluid"] and f["femoral_cartilage"] > n["femoral_cartilage"]
    # intensity order around cartilage inverts between the modalities
    assert n["marrow"] > n["femoral_cartilage"] > n["fluid"]
    assert f["marrow"] < f["femoral_cartilage"] < f["fluid"]
    assert n["fat"] > n["muscle"] and f["fat"] < f["muscle"]
    for m in (n, f):  # meniscus darker than the tissues around it, in both
        assert m["meniscus"] < min(m["femoral_cartilage"], m["tibial_cartilage"], m["fluid"])
    assert n["meniscus"] < n["muscle"]


def test_fatsup_is_blurrier():
    images, _, _ = knee.knee_scan(2, 0, 0, (48, 48, 24), (0.5, 0.5, 1.0), noise=0.0, bias=0.0)

    def high_frequency_share(image):
        image = image.astype(np.float64)
        return ((image - ndimage.gaussian_filter(image, 1.0)) ** 2).mean() / image.var()

    assert high_frequency_share(images["normal"]) > 1.5 * high_frequency_share(images["fatsup"])


def test_brats_contrasts_at_demo_scale():
    images, labels, tissue = brats.brats_scan(2, 0, brats.DEFAULT_SHAPE, brats.DEFAULT_SPACING, 0.04, 0.15)
    assert np.array_equal(labels, brats.LABEL_OF_TISSUE[tissue])
    means = tissue_means(images, tissue, brats.TISSUES)
    t1, t1c, t2, flair = (means[m] for m in ("t1", "t1c", "t2", "flair"))
    assert t1["wm"] > t1["gm"] > t1["csf"] and t1c["wm"] > t1c["gm"] > t1c["csf"]
    assert t2["csf"] > t2["gm"] > t2["wm"]
    assert flair["csf"] < min(flair["gm"], flair["wm"])
    normal = ("wm", "gm", "csf")
    for m in (t2, flair):  # edema bright on T2 and FLAIR
        assert m["edema"] > max(m["wm"], m["gm"]) and m["edema"] > m["enhancing"]
    assert flair["edema"] > flair["csf"]
    assert t1["csf"] < t1["edema"] < t1["wm"]  # faint on T1
    # the enhancing rim is the brightest tissue on T1+c only
    assert t1c["enhancing"] > max(t1c[k] for k in t1c if k != "enhancing")
    for m in (t1, t2, flair):
        assert m["enhancing"] < max(m[k] for k in normal + ("edema",))
    assert t1["enhancing"] < t1["wm"]


def test_sessions_of_a_subject_share_anatomy():
    labels = {(s, v): knee.knee_scan(1, s, v, (48, 48, 24), (0.5, 0.5, 1.0), 0.04, 0.15)[1] > 0 for s in (0, 1) for v in (0, 1)}

    def dice(a, b):
        return 2 * (a & b).sum() / (a.sum() + b.sum())

    same = [dice(labels[(s, 0)], labels[(s, 1)]) for s in (0, 1)]
    different = [dice(labels[(0, v)], labels[(1, v)]) for v in (0, 1)]
    assert min(same) > max(different) + 0.2
    assert not np.array_equal(labels[(0, 0)], labels[(0, 1)])


def test_ingest_reads_the_synthetic_layouts(generated, tmp_path):
    cfg = {"layout": "generic", "modalities": ["fatsup", "normal"], "classes": KNEE_CLASSES, "mask": {"rule": "dilated_labels"}}
    table = ingest(generated / "knee", cfg, tmp_path / "knee.tsv", "synthetic_knee")
    assert table["scan_id"].tolist() == ["knee001_v00", "knee001_v01", "knee002_v00", "knee002_v01"]
    assert table["shape"].unique().tolist() == ["48,48,24"] and table["spacing"].unique().tolist() == ["0.5,0.5,1"]
    cfg = {"layout": "brats2018", "modalities": ["t1", "t1c", "t2", "flair"], "classes": BRATS_CLASSES, "mask": {"rule": "nonzero"}}
    table = ingest(generated / "brats", cfg, tmp_path / "brats.tsv", "synthetic_brats")
    assert table["image_t1c"].str.endswith("SynBraTS_001_t1ce.nii.gz").tolist() == [True, False]
    assert table["spacing"].tolist() == ["1.5,1.5,1.5"] * 2


def test_defaults_by_kind_and_bad_requests(tmp_path):
    knee_cfg = synthetic_settings({"kind": "knee"})
    assert (knee_cfg["shape"], knee_cfg["spacing"], knee_cfg["n_subjects"], knee_cfg["sessions_per_subject"]) == ((96, 96, 40), (0.5, 0.5, 1.0), 6, 2)
    brats_cfg = synthetic_settings({"kind": "brats", "spacing": [1, 1, 2]})
    assert (brats_cfg["shape"], brats_cfg["spacing"]) == ((64, 64, 48), (1.0, 1.0, 2.0))
    with pytest.raises(InputError, match=r"\['dwi'\] not produced by the synthetic 'brats' model"):
        synthesize(tmp_path / "a", BRATS_CFG, "brats2018", ["t1", "dwi"])
    with pytest.raises(InputError, match=r"'brats2018': the synthetic 'knee' data can be written in the \['generic'\]"):
        synthesize(tmp_path / "b", KNEE_CFG, "brats2018", ["normal", "fatsup"])
    with pytest.raises(InputError, match="kind = 'lung'"):
        synthetic_settings({"kind": "lung"})
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="exists and is not an empty directory"):
        synthesize(tmp_path / "full", KNEE_CFG, "generic", ["normal", "fatsup"])
    assert (tmp_path / "full" / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written
