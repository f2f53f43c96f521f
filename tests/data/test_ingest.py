"""crossmodal.data.ingest: each layout adapter on tiny files written in that real layout, the exact
manifest, and every bad input with its error (and nothing written)."""

from __future__ import annotations

import hashlib
import json
import logging
import os

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from crossmodal.common.errors import InputError
from crossmodal.data.ingest import ingest

SHAPE = (6, 5, 4)
AFFINE = np.array([[0.5, 0, 0, -1.0], [0, 0.6, 0, 2.0], [0, 0, 1.2, 3.0], [0, 0, 0, 1]])
KNEE_CLASSES = [
    {"name": "background", "values": [0]},
    {"name": "cartilage", "values": [1, 2]},
    {"name": "meniscus", "values": [3]},
]


def image(offset: float, shape=SHAPE) -> np.ndarray:
    x, y, z = np.indices(shape)
    return (100 * x + 10 * y + z + offset).astype(np.float32)


def knee_labels() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[1:3, 1:3, 1] = 1
    labels[3, 3, 2] = 2
    labels[4, 1, 1] = 3
    return labels


def brats_labels(values=(1, 2, 4)) -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[2, 2, 1], labels[2, 3, 1], labels[3, 2, 2] = values
    return labels


def save(path, data, affine=AFFINE):
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), path)


def knee_config(**changes):
    cfg = {
        "layout": "generic",
        "modalities": ["normal", "fatsup"],
        "classes": KNEE_CLASSES,
        "mask": {"rule": "dilated_labels", "dilation_voxels": 1},
        "affine_tolerance": 1e-3,
        "manifest": "manifest.tsv",
    }
    return {**cfg, **changes}


def brats_config(layout, values=(1, 2, 4), **changes):
    cfg = {
        "layout": layout,
        "modalities": ["t1", "t1c", "t2", "flair"],
        "classes": [{"name": "brain", "values": [0]}, {"name": "tumour", "values": list(values)}],
        "mask": {"rule": "nonzero"},
        "affine_tolerance": 1e-3,
    }
    return {**cfg, **changes}


def write_generic(root, rows=None, header=("scan_id", "subject_id", "normal", "fatsup", "label"), sep="\t"):
    """A generic-layout dataset: scans s1_v0, s1_v1 (subject S1) and s2_v0 (S2)."""
    if rows is None:
        rows = []
        for scan, subject in (("s1_v0", "S1"), ("s1_v1", "S1"), ("s2_v0", "S2")):
            for i, modality in enumerate(("normal", "fatsup")):
                save(root / "img" / f"{scan}_{modality}.nii.gz", image(1000 * i + 1))
            save(root / "lab" / f"{scan}.nii.gz", knee_labels())
            rows.append([scan, subject, f"img/{scan}_normal.nii.gz", f"img/{scan}_fatsup.nii.gz", f"lab/{scan}.nii.gz"])
    root.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(header)] + [sep.join(str(v) for v in row) for row in rows]
    (root / "manifest.tsv").write_text("\n".join(lines) + "\n")
    return rows


def write_brats2018(root, cases=("Brats18_A_1", "Brats18_B_1"), group=None):
    for case in cases:
        folder = root / (group or "") / case
        for i, suffix in enumerate(("t1", "t1ce", "t2", "flair")):
            save(folder / f"{case}_{suffix}.nii.gz", image(1000 * i + 1).astype(np.int16))
        save(folder / f"{case}_seg.nii.gz", brats_labels())


def write_itk(path, data, spacing=(0.5, 0.6, 1.2)):
    path.parent.mkdir(parents=True, exist_ok=True)
    itk = sitk.GetImageFromArray(np.transpose(data, (2, 1, 0)))
    itk.SetSpacing(spacing)
    sitk.WriteImage(itk, str(path))


def write_brats2015(root):
    for group, patient, n in (("HGG", "brats_2013_pat0001_1", 100), ("LGG", "brats_tcia_pat101_0001", 200)):
        for i, seq in enumerate(("Flair", "T1", "T1c", "T2")):
            name = f"VSD.Brain.XX.O.MR_{seq}.{n + i}"
            write_itk(root / group / patient / name / f"{name}.mha", image(1000 * i + 1).astype(np.int16))
        name = f"VSD.Brain_3more.XX.O.OT.{n + 9}"
        write_itk(root / group / patient / name / f"{name}.mha", brats_labels((1, 3, 4)).astype(np.int16))


def write_msd(root, cases=("BRATS_001", "BRATS_002")):
    for case in cases:
        save(root / "imagesTr" / f"{case}.nii.gz", np.stack([image(1000 * c + 1) for c in range(4)], axis=-1))
        save(root / "labelsTr" / f"{case}.nii.gz", brats_labels((1, 2, 3)))
    (root / "imagesTr" / "._BRATS_001.nii.gz").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    (root / "imagesTs").mkdir(exist_ok=True)


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


# --- layouts ------------------------------------------------------------------------------------


def test_generic_manifest_is_exact(tmp_path):
    root = tmp_path / "oai"
    rows = write_generic(root)
    rows[2][2] = str(root / "img" / "s2_v0_normal.nii.gz")  # an absolute path is kept as is
    write_generic(root, [r + ["ignored"] for r in rows], header=("scan_id", "subject_id", "normal", "fatsup", "label", "notes"))
    table = ingest(root, knee_config(), tmp_path / "out" / "manifest.tsv", "oai")
    written = read_tsv(tmp_path / "out" / "manifest.tsv")
    assert list(written.columns) == [
        "scan_id", "subject_id", "image_normal", "channel_normal", "image_fatsup", "channel_fatsup",
        "label", "mask", "shape", "spacing",
    ]  # fmt: skip
    assert written.to_dict("records")[1] == {
        "scan_id": "s1_v1",
        "subject_id": "S1",
        "image_normal": str(root / "img" / "s1_v1_normal.nii.gz"),
        "channel_normal": "-1",
        "image_fatsup": str(root / "img" / "s1_v1_fatsup.nii.gz"),
        "channel_fatsup": "-1",
        "label": str(root / "lab" / "s1_v1.nii.gz"),
        "mask": "rule:dilated_labels",
        "shape": "6,5,4",
        "spacing": "0.5,0.6,1.2",
    }
    assert written["scan_id"].tolist() == ["s1_v0", "s1_v1", "s2_v0"]
    assert written["subject_id"].tolist() == ["S1", "S1", "S2"]
    assert written.equals(table.astype(str))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.tsv"]


def test_generic_mask_file_channels_and_modality_subset(tmp_path):
    root = tmp_path / "d"
    save(root / "both.nii.gz", np.stack([image(1), image(2), image(3)], axis=-1))
    save(root / "lab.nii.gz", knee_labels())
    mask = np.zeros(SHAPE, np.uint8)
    mask[0:2, 0, 0] = 1  # two voxels: normalize scales each modality to unit SD inside the mask
    save(root / "mask.nii.gz", mask)
    header = ("scan_id", "subject_id", "normal", "fatsup", "dixon", "label", "mask", "channel_normal", "channel_fatsup")
    write_generic(root, [["a", "P1", "both.nii.gz", "both.nii.gz", "none.nii.gz", "lab.nii.gz", "mask.nii.gz", "2", "0"]], header=header)
    ingest(root, knee_config(mask={"rule": "file"}), tmp_path / "m.tsv", "d")
    row = read_tsv(tmp_path / "m.tsv").iloc[0]
    assert (row["channel_normal"], row["channel_fatsup"]) == ("2", "0")
    assert row["image_normal"] == row["image_fatsup"] == str(root / "both.nii.gz")
    assert row["mask"] == str(root / "mask.nii.gz")


def test_msd_layout(tmp_path):
    root = tmp_path / "Task01_BrainTumour"
    write_msd(root)
    ingest(root, brats_config("msd", (1, 2, 3)), tmp_path / "m.tsv", "msd")
    table = read_tsv(tmp_path / "m.tsv")
    assert table["scan_id"].tolist() == ["BRATS_001", "BRATS_002"] == table["subject_id"].tolist()
    row = table.iloc[1]
    assert {m: row[f"channel_{m}"] for m in ("t1", "t1c", "t2", "flair")} == {"t1": "1", "t1c": "2", "t2": "3", "flair": "0"}
    assert row["image_t2"] == str(root / "imagesTr" / "BRATS_002.nii.gz")
    assert row["label"] == str(root / "labelsTr" / "BRATS_002.nii.gz") and row["mask"] == "rule:nonzero"
    # dataset.json decides the channel order when present
    modality = {"0": "T1w", "1": "FLAIR", "2": "T2w", "3": "t1gd"}
    (root / "dataset.json").write_text(json.dumps({"name": "BRATS", "modality": modality}))
    ingest(root, brats_config("msd", (1, 2, 3), modalities=["flair", "t1"]), tmp_path / "j.tsv", "msd")
    row = read_tsv(tmp_path / "j.tsv").iloc[0]
    assert (row["channel_flair"], row["channel_t1"]) == ("1", "0")
    assert "image_t2" not in row


def test_brats2015_layout_mha(tmp_path):
    write_brats2015(tmp_path / "BRATS2015_Training")
    cfg = brats_config("brats2015", (1, 2, 3, 4), modalities=["t1c", "flair"])
    ingest(tmp_path / "BRATS2015_Training", cfg, tmp_path / "m.tsv", "b15")
    table = read_tsv(tmp_path / "m.tsv")
    assert table["scan_id"].tolist() == ["brats_2013_pat0001_1", "brats_tcia_pat101_0001"]
    assert table["subject_id"].tolist() == table["scan_id"].tolist()
    assert table.loc[0, "image_t1c"].endswith("HGG/brats_2013_pat0001_1/VSD.Brain.XX.O.MR_T1c.102/VSD.Brain.XX.O.MR_T1c.102.mha")
    assert table.loc[1, "label"].endswith("VSD.Brain_3more.XX.O.OT.209/VSD.Brain_3more.XX.O.OT.209.mha")
    assert list(table.columns[2:6]) == ["image_t1c", "channel_t1c", "image_flair", "channel_flair"]
    assert table["spacing"].tolist() == ["0.5,0.6,1.2"] * 2


@pytest.mark.parametrize("group", [None, "HGG"])
def test_brats2018_layout(tmp_path, group):
    write_brats2018(tmp_path / "data", group=group)
    ingest(tmp_path / "data", brats_config("brats2018"), tmp_path / "m.tsv", "b18")
    table = read_tsv(tmp_path / "m.tsv")
    assert table["scan_id"].tolist() == ["Brats18_A_1", "Brats18_B_1"]
    folder = tmp_path / "data" / (group or "") / "Brats18_B_1"
    assert table.loc[1, "image_t1c"] == str(folder / "Brats18_B_1_t1ce.nii.gz")
    assert table.loc[1, "label"] == str(folder / "Brats18_B_1_seg.nii.gz")


def test_brats2023_layout(tmp_path):
    case = "BraTS-GLI-00000-000"
    for i, suffix in enumerate(("t1n", "t1c", "t2w", "t2f")):
        save(tmp_path / "d" / case / f"{case}-{suffix}.nii.gz", image(i + 1))
    save(tmp_path / "d" / case / f"{case}-seg.nii.gz", brats_labels((1, 2, 3)))
    ingest(tmp_path / "d", brats_config("brats2023", (1, 2, 3)), tmp_path / "m.tsv", "b23")
    row = read_tsv(tmp_path / "m.tsv").iloc[0]
    assert [os.path.basename(row[f"image_{m}"]) for m in ("t1", "t1c", "t2", "flair")] == [
        f"{case}-t1n.nii.gz", f"{case}-t1c.nii.gz", f"{case}-t2w.nii.gz", f"{case}-t2f.nii.gz",
    ]  # fmt: skip


def test_raw_files_are_never_modified(tmp_path):
    write_msd(tmp_path / "msd")
    write_brats2015(tmp_path / "b15")
    write_generic(tmp_path / "gen")
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files}
    ingest(tmp_path / "msd", brats_config("msd", (1, 2, 3)), tmp_path / "out" / "1.tsv", "a")
    ingest(tmp_path / "b15", brats_config("brats2015", (1, 2, 3, 4)), tmp_path / "out" / "2.tsv", "b")
    ingest(tmp_path / "gen", knee_config(), tmp_path / "out" / "3.tsv", "c")
    assert {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files} == before


def test_identical_repeated_row_is_used_once(tmp_path, caplog):
    rows = write_generic(tmp_path / "d")
    write_generic(tmp_path / "d", rows + [rows[0]])
    with caplog.at_level(logging.WARNING):
        table = ingest(tmp_path / "d", knee_config(), tmp_path / "m.tsv", "d")
    assert table["scan_id"].tolist() == ["s1_v0", "s1_v1", "s2_v0"]
    assert "scan 's1_v0' is listed twice" in caplog.text and "line 2 and" in caplog.text


def test_affine_tolerance(tmp_path):
    write_generic(tmp_path / "d")
    shifted = AFFINE.copy()
    shifted[0, 3] += 0.01
    save(tmp_path / "d" / "img" / "s1_v1_fatsup.nii.gz", image(1), shifted)
    with pytest.raises(InputError, match=r"scan 's1_v1'.*'fatsup'.*not aligned.*up to 0\.01 mm \(affine_tolerance 0\.001 mm\)"
                       r".* or raise datasets\.d\.affine_tolerance if"):
        ingest(tmp_path / "d", knee_config(), tmp_path / "m.tsv", "d")
    ingest(tmp_path / "d", knee_config(affine_tolerance=0.02), tmp_path / "m.tsv", "d")
    assert (tmp_path / "m.tsv").exists()


# --- bad input: each a clear error, nothing written ----------------------------------------------


def _nan(root):
    data = image(1)
    data[2, 3, 1] = np.nan
    save(root / "img" / "s2_v0_normal.nii.gz", data)


def _inf(root):
    data = image(1)
    data[0, 0, 0] = -np.inf
    save(root / "img" / "s1_v0_fatsup.nii.gz", data)


def _label(values):
    def mutate(root):
        labels = knee_labels().astype(np.float32)
        labels[0, 0, 0] = values
        save(root / "lab" / "s1_v1.nii.gz", labels)

    return mutate


def _rows(change):
    def mutate(root):
        rows = write_generic(root)
        change(rows)
        write_generic(root, rows)

    return mutate


def _set(row, column, value):
    def change(rows):
        rows[row][column] = value

    return change


BAD_GENERIC = {
    "missing file": (_rows(_set(2, 3, "img/gone.nii.gz")), r"scan 's2_v0'.*gone\.nii\.gz: file not found"),
    "not an image": (
        lambda root: (root / "img" / "s1_v1_normal.nii.gz").write_text("hello"),
        r"scan 's1_v1'.*s1_v1_normal\.nii\.gz: cannot be read as a NIfTI image",
    ),
    "shape differs": (
        lambda root: save(root / "img" / "s1_v0_fatsup.nii.gz", image(1, (6, 5, 3))),
        r"scan 's1_v0'.*modality 'fatsup' .*s1_v0_fatsup\.nii\.gz\) has shape \(6, 5, 3\) but modality 'normal'.* has \(6, 5, 4\)",
    ),
    "label grid differs": (
        lambda root: save(root / "lab" / "s2_v0.nii.gz", knee_labels(), np.diag([0.5, 0.6, 1.3, 1])),
        r"scan 's2_v0'.*label .*s2_v0\.nii\.gz and modality 'normal'.*not aligned",
    ),
    "nan voxel": (
        _nan, r"scan 's2_v0': modality 'normal' \(.*s2_v0_normal\.nii\.gz\) has 1 NaN or infinite voxels \(first at \(2, 3, 1\)\)"
    ),
    "infinite voxel": (_inf, r"scan 's1_v0': modality 'fatsup' \(.*s1_v0_fatsup\.nii\.gz\) has 1 NaN or infinite voxels"),
    "label outside classes": (
        _label(7),
        r"scan 's1_v1'.*label file .*s1_v1\.nii\.gz has values \[7\] that no class of config datasets\.d\.classes maps \(mapped: \[0, 1, 2, 3\]\)",
    ),
    "non-integer label": (_label(1.5), r"scan 's1_v1'.*s1_v1\.nii\.gz has non-integer values \(e\.g\. \[1\.5\]\)"),
    "negative label": (_label(-1), r"s1_v1\.nii\.gz has negative values \[-1\.0\]"),
    "no foreground for dilated_labels": (
        lambda root: save(root / "lab" / "s1_v0.nii.gz", np.zeros(SHAPE, np.uint8)),
        r"scan 's1_v0': label file .*s1_v0\.nii\.gz has no foreground voxel \(cartilage 0, meniscus 0 voxels; "
        r"background 120\), so no patch of a foreground class can be drawn from it; fix the label file or leave",
    ),
    "same scan, other files": (
        _rows(lambda rows: rows.append(["s1_v0", "S1"] + rows[1][2:])),
        r"scan 's1_v0' is listed twice \(.*manifest\.tsv line 2 and .*line 5\) with different files",
    ),
    "same scan, two subjects": (
        _rows(lambda rows: rows.append(["s2_v0", "S9"] + rows[2][2:])),
        r"scan 's2_v0' is listed twice .* under different subjects 'S2' and 'S9'",
    ),
    "image shared by two scans": (
        _rows(_set(1, 3, "img/s1_v0_fatsup.nii.gz")),
        r"image file .*s1_v0_fatsup\.nii\.gz is used by scans 's1_v0' and 's1_v1'",
    ),
    "missing column": (
        lambda root: write_generic(root, [["a", "b", "c", "d"]], header=("scan_id", "subject_id", "normal", "label")),
        r"manifest .*manifest\.tsv lacks column\(s\) \['fatsup'\]",
    ),
    "comma-separated": (lambda root: write_generic(root, sep=","), r"lacks column\(s\).*\(is it tab-separated\?\)"),
    "empty cell": (_rows(_set(0, 4, "")), r"manifest\.tsv line 2: column 'label' is empty"),
    "unsafe scan id": (_rows(_set(0, 0, "a/b")), r"line 2: scan id 'a/b' may only contain letters"),
    "4-D image without channel": (
        lambda root: save(root / "img" / "s1_v0_normal.nii.gz", np.stack([image(1), image(2)], -1)),
        r"scan 's1_v0'.*s1_v0_normal\.nii\.gz: is 4-D with 2 channels",
    ),
    "constant modality": (
        lambda root: save(root / "img" / "s1_v1_fatsup.nii.gz", np.full(SHAPE, 7, np.float32)),
        r"^dataset 'd', scan 's1_v1', modality 'fatsup' \(.*s1_v1_fatsup\.nii\.gz\): intensity is constant \(7\) "
        r"inside the normalization mask \(\d+ voxels\), so it cannot be scaled to unit SD",
    ),
    "no scans": (lambda root: write_generic(root, []), r"dataset 'd': no scans found in"),
    "no manifest": (lambda root: (root / "manifest.tsv").unlink(), r"manifest .*manifest\.tsv not found"),
}


@pytest.mark.parametrize("case", list(BAD_GENERIC))
def test_bad_generic_input(tmp_path, case):
    mutate, message = BAD_GENERIC[case]
    root = tmp_path / "d"
    write_generic(root)
    mutate(root)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.tsv").write_text("old")
    with pytest.raises(InputError, match=message):
        ingest(root, knee_config(), out / "manifest.tsv", "d")
    assert [p.name for p in out.iterdir()] == ["manifest.tsv"] and (out / "manifest.tsv").read_text() == "old"


def test_bad_masks(tmp_path):
    root = tmp_path / "d"
    write_generic(root)
    save(root / "mask.nii.gz", np.zeros(SHAPE, np.uint8))
    rows = [["a", "P", "img/s1_v0_normal.nii.gz", "img/s1_v0_fatsup.nii.gz", "lab/s1_v0.nii.gz", "mask.nii.gz"]]
    write_generic(root, rows, header=("scan_id", "subject_id", "normal", "fatsup", "label", "mask"))
    with pytest.raises(InputError, match=r"scan 'a': mask file .*mask\.nii\.gz is empty"):
        ingest(root, knee_config(mask={"rule": "file"}), tmp_path / "m.tsv", "d")
    write_generic(root, [r[:5] for r in rows])
    with pytest.raises(InputError, match=r"lacks column\(s\) \['mask'\].*mask \(mask rule 'file'\)"):
        ingest(root, knee_config(mask={"rule": "file"}), tmp_path / "m.tsv", "d")
    for name in ("s1_v0_normal", "s1_v0_fatsup"):
        save(root / "img" / f"{name}.nii.gz", np.zeros(SHAPE, np.float32))
    with pytest.raises(InputError, match=r"scan 'a': every image voxel is zero, so the nonzero mask is empty"):
        ingest(root, knee_config(mask={"rule": "nonzero"}), tmp_path / "m.tsv", "d")
    write_brats2018(tmp_path / "b")
    with pytest.raises(InputError, match=r"mask\.rule 'file' needs a `mask` column, which only the generic"):
        ingest(tmp_path / "b", brats_config("brats2018", mask={"rule": "file"}), tmp_path / "m.tsv", "b")
    assert not (tmp_path / "m.tsv").exists()


def test_bad_layout_input(tmp_path):
    out = tmp_path / "m.tsv"
    write_brats2018(tmp_path / "b18")
    with pytest.raises(InputError, match=r"modalities: \['dwi'\] not provided by the 'brats2018' layout, which has 't1' \(files: <id>_t1\.nii\.gz\), 't1c' \(files: <id>_t1ce\.nii\.gz\)"):
        ingest(tmp_path / "b18", brats_config("brats2018", modalities=["t1", "dwi"]), out, "b")
    os.remove(tmp_path / "b18" / "Brats18_B_1" / "Brats18_B_1_seg.nii.gz")
    with pytest.raises(InputError, match=r"brats2018 case 'Brats18_B_1': label file Brats18_B_1_seg\.nii\.gz is missing"):
        ingest(tmp_path / "b18", brats_config("brats2018"), out, "b")
    (tmp_path / "b18" / "notes").mkdir()
    (tmp_path / "b18" / "notes" / "readme.txt").write_text("x")
    with pytest.raises(InputError, match=r"notes: not a brats2018 case folder \(expected files like <case>/<case>_t1\.nii\.gz, found readme\.txt\)"):
        ingest(tmp_path / "b18", brats_config("brats2018"), out, "b")

    write_msd(tmp_path / "msd")
    os.remove(tmp_path / "msd" / "labelsTr" / "BRATS_002.nii.gz")
    with pytest.raises(InputError, match=r"msd scan 'BRATS_002': label file .*labelsTr/BRATS_002\.nii\.gz is missing"):
        ingest(tmp_path / "msd", brats_config("msd", (1, 2, 3)), out, "m")
    with pytest.raises(InputError, match=r"imagesTr not found; the msd layout expects"):
        ingest(tmp_path / "b18", brats_config("msd", (1, 2, 3)), out, "m")

    write_brats2015(tmp_path / "b15")
    t2 = tmp_path / "b15" / "LGG" / "brats_tcia_pat101_0001" / "VSD.Brain.XX.O.MR_T2.203"
    for p in t2.iterdir():
        p.unlink()
    t2.rmdir()
    with pytest.raises(InputError, match=r"brats2015 scan 'brats_tcia_pat101_0001': expected one folder VSD\.Brain\.XX\.O\.MR_T2\.<n> .* found 0"):
        ingest(tmp_path / "b15", brats_config("brats2015", (1, 2, 3, 4)), out, "b15")
    with pytest.raises(InputError, match=r"dataset 'x': data directory .*nowhere not found; set config datasets\.x\.root"):
        ingest(tmp_path / "nowhere", brats_config("brats2018"), out, "x")
    assert not out.exists()


# --- what patch sampling will need, checked before anything is written ----------------------------


def write_brain(root, scans, shape=(16, 16, 16)):
    """A brats2018-layout dataset: a brain block 3..12 per scan, ``scans`` maps id -> tumour voxels."""
    for case, tumour in scans.items():
        folder = root / case
        brain = np.zeros(shape, np.float32)
        brain[3:13, 3:13, 3:13] = 1 + image(0, shape)[3:13, 3:13, 3:13] / 1000
        for i, suffix in enumerate(("t1", "t1ce", "t2", "flair")):
            save(folder / f"{case}_{suffix}.nii.gz", brain * (i + 1))
        labels = np.zeros(shape, np.uint8)
        for voxel in tumour:
            labels[voxel] = 2
        save(folder / f"{case}_seg.nii.gz", labels)


def test_a_scan_without_foreground_is_refused_under_every_mask_rule(tmp_path):
    write_brain(tmp_path / "b", {"Brats18_A_1": [(7, 7, 7)], "Brats18_B_1": []})
    with pytest.raises(InputError, match=r"scan 'Brats18_B_1': label file .*Brats18_B_1_seg\.nii\.gz has no "
                       r"foreground voxel \(tumour 0 voxels; brain 4096\).*leave the scan out"):
        ingest(tmp_path / "b", brats_config("brats2018"), tmp_path / "m.tsv", "b")
    assert not (tmp_path / "m.tsv").exists()


def test_a_class_with_too_few_eligible_voxels_is_refused_with_advice_that_fits(tmp_path):
    from crossmodal.data.sample_patches import PatchBudget

    # A: 3 tumour voxels, 2 of them at least 4 voxels from the border; B: one, at the border
    write_brain(tmp_path / "b", {"Brats18_A_1": [(7, 7, 7), (8, 7, 7), (7, 7, 14)], "Brats18_B_1": [(7, 7, 7)]})
    cfg = brats_config("brats2018")
    out = tmp_path / "m.tsv"
    with pytest.raises(InputError, match=r"scan 'Brats18_A_1' \(label file .*\), class 'tumour': 2 eligible voxels "
                       r"\(in the sampling mask, at least 4 voxels from the border; 3 voxels of the class in "
                       r"total\) but patches_per_class is 3; lower patches_per_class to at most 2, set "
                       r"sample_with_replacement: true, or exclude the scan"):
        ingest(tmp_path / "b", cfg, out, "b", budget=PatchBudget(9, 3, False))
    assert not out.exists()
    ingest(tmp_path / "b", cfg, out, "b", budget=PatchBudget(9, 3, True))  # resampled later
    ingest(tmp_path / "b", cfg, out, "b", budget=PatchBudget(9, 1, False))
    assert read_tsv(out)["scan_id"].tolist() == ["Brats18_A_1", "Brats18_B_1"]
    # the brain class: the brain block 3..12 within 4 voxels of the border leaves 4..11 (512),
    # less A's two eligible tumour voxels
    with pytest.raises(InputError, match=r"scan 'Brats18_A_1' .*class 'brain': 510 eligible voxels .*4093 voxels "
                       r"of the class in total\) but patches_per_class is 600"):
        ingest(tmp_path / "b", cfg, out, "b", budget=PatchBudget(9, 600, False))
    write_brain(tmp_path / "c", {"Brats18_A_1": [(7, 7, 7)], "Brats18_B_1": [(7, 7, 14)]})
    with pytest.raises(InputError, match=r"scan 'Brats18_B_1' .*class 'tumour': 1 voxels of the class, but none "
                       r"of them in the sampling mask at least 4 voxels from the image border \(patch_size 9\), "
                       r"so no patch of it can be drawn; exclude the scan$"):
        ingest(tmp_path / "c", cfg, out, "c", budget=PatchBudget(9, 1, True))


def test_eligible_counts_at_ingest_equal_those_of_sampling_under_dilated_labels(tmp_path):
    """The knee mask (dilated labels) is rebuilt at ingest exactly as normalize builds it."""
    from crossmodal.data.normalize import normalize_dataset
    from crossmodal.data.sample_patches import PatchBudget

    rows = write_generic(tmp_path / "d")
    shape = (14, 13, 12)
    labels = np.zeros(shape, np.uint8)
    labels[5:8, 6, 6], labels[9, 6, 6] = 1, 3
    for scan, *_ in rows:
        for i, modality in enumerate(("normal", "fatsup")):
            save(tmp_path / "d" / "img" / f"{scan}_{modality}.nii.gz", image(1000 * i + 1, shape))
        save(tmp_path / "d" / "lab" / f"{scan}.nii.gz", labels)
    cfg = knee_config(mask={"rule": "dilated_labels", "dilation_voxels": 2})
    out = tmp_path / "m.tsv"
    ingest(tmp_path / "d", cfg, out, "d")
    normalize_dataset(out, tmp_path / "v", modalities=cfg["modalities"], classes=cfg["classes"],
                      mask=cfg["mask"], patch_size=5, name="d")
    from crossmodal.data.sample_patches import eligible_counts

    sampled = eligible_counts(np.load(tmp_path / "v" / "s1_v0.labels.npy"), np.load(tmp_path / "v" / "s1_v0.mask.npy"), 3, 5)
    assert sampled[1:].tolist() == [3, 1]
    n = int(sampled[0])
    with pytest.raises(InputError, match=rf"class 'background': {n} eligible voxels .* patches_per_class is {n + 1}"):
        ingest(tmp_path / "d", cfg, out, "d", budget=PatchBudget(5, n + 1, False))
    with pytest.raises(InputError, match=r"class 'cartilage': 3 eligible voxels .* patches_per_class is 4"):
        ingest(tmp_path / "d", cfg, out, "d", budget=PatchBudget(5, 4, False))
    ingest(tmp_path / "d", cfg, out, "d", budget=PatchBudget(5, n, True))


def test_nan_in_a_4d_file_names_the_modality_and_channel(tmp_path):
    write_msd(tmp_path / "msd")
    data = np.stack([image(1000 * c + 1) for c in range(4)], axis=-1)
    data[1, 2, 3, 2] = np.nan
    save(tmp_path / "msd" / "imagesTr" / "BRATS_002.nii.gz", data)
    with pytest.raises(InputError, match=r"scan 'BRATS_002': modality 't1c' \(.*BRATS_002\.nii\.gz, channel 2\) has 1 "
                       r"NaN or infinite voxels \(first at \(1, 2, 3\)\)"):
        ingest(tmp_path / "msd", brats_config("msd", (1, 2, 3)), tmp_path / "m.tsv", "m")


def test_scan_listing_checks_before_any_job_and_digests_path_size_and_time(tmp_path):
    from crossmodal.data.ingest import scan_listing

    write_generic(tmp_path / "d")
    (tmp_path / "d" / "img" / "s2_v0_normal.nii.gz").write_text("not read here")
    digest = scan_listing(tmp_path / "d", knee_config(), "d", n_folds=1)
    assert digest.startswith("10 files, sha256 ")  # the manifest and 3 scans x 3 files
    assert scan_listing(tmp_path / "d", knee_config(), "d", n_folds=1) == digest
    # a file replaced by a copy of the same size with an older modification time (cp -p)
    label = tmp_path / "d" / "lab" / "s2_v0.nii.gz"
    previous = label.stat()
    label.write_bytes(label.read_bytes()[::-1])  # not opened by the listing: any content will do
    os.utime(label, ns=(previous.st_atime_ns, previous.st_mtime_ns - 10**9))
    assert label.stat().st_size == previous.st_size
    assert scan_listing(tmp_path / "d", knee_config(), "d", n_folds=1) != digest
    os.utime(label, ns=(previous.st_atime_ns, previous.st_mtime_ns))  # same size and time: not seen
    assert scan_listing(tmp_path / "d", knee_config(), "d", n_folds=1) == digest
    with pytest.raises(InputError, match=r"^config datasets\.d\.folds = 2, but the dataset has 2 subjects"):
        scan_listing(tmp_path / "d", knee_config(), "d", n_folds=2)
    normal = tmp_path / "d" / "img" / "s1_v1_normal.nii.gz"
    normal.unlink()
    normal.symlink_to(normal.name)
    with pytest.raises(InputError, match=rf"^dataset 'd', scan 's1_v1', modality 'normal': {normal}: cannot be "
                       rf"read: Too many levels of symbolic links"):
        scan_listing(tmp_path / "d", knee_config(), "d", n_folds=1)
    write_brats2018(tmp_path / "b")
    label = tmp_path / "b" / "Brats18_B_1" / "Brats18_B_1_seg.nii.gz"
    label.unlink()
    label.symlink_to("nowhere.nii.gz")  # a broken link is not "missing": the OS error is named
    with pytest.raises(InputError, match=r"scan 'Brats18_B_1', label: .*Brats18_B_1_seg\.nii\.gz: is a symbolic "
                       r"link to nowhere\.nii\.gz, which does not exist"):
        scan_listing(tmp_path / "b", brats_config("brats2018"), "b", n_folds=1)
