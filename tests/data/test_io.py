"""crossmodal.data.io: NIfTI via nibabel, MetaImage/NRRD via SimpleITK, both as [x, y, z] + RAS affine."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from crossmodal.common.errors import InputError
from crossmodal.data.io import Image, check_metaimage, check_readable, read_image, read_volume, select_channel


def ramp(shape, offset=0.0):
    """Distinct value per voxel: 100*x + 10*y + z + offset."""
    x, y, z = np.indices(shape)
    return (100 * x + 10 * y + z + offset).astype(np.float32)


AFFINE = np.array(
    [[0.0, 0.0, 1.2, -3.0], [0.5, 0.0, 0.0, 4.0], [0.0, 0.6, 0.0, 5.5], [0.0, 0.0, 0.0, 1.0]]
)


def test_nifti_3d_data_affine_spacing(tmp_path):
    data = ramp((4, 3, 2)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / "a.nii.gz")
    image = read_image(tmp_path / "a.nii.gz")
    assert isinstance(image, Image)
    assert image.data.dtype == np.float32 and image.data.shape == (4, 3, 2)
    assert image.data[3, 2, 1] == 321.0 and image.data[1, 0, 1] == 101.0
    np.testing.assert_allclose(image.affine, AFFINE, atol=1e-6)
    assert image.spacing == pytest.approx((0.5, 0.6, 1.2))
    data_, affine_ = read_image(tmp_path / "a.nii.gz")  # unpacks like a tuple
    assert np.array_equal(data_, image.data) and np.array_equal(affine_, image.affine)


def test_nifti_scale_factors_and_native_dtype(tmp_path):
    image = nib.Nifti1Image(np.array([[[1, 2], [3, 4]]], dtype=np.int16), np.eye(4))
    image.header.set_slope_inter(0.5, 10.0)
    nib.save(image, tmp_path / "s.nii")
    assert read_image(tmp_path / "s.nii").data.ravel().tolist() == [10.5, 11.0, 11.5, 12.0]
    labels = nib.Nifti1Image(np.array([[[0, 4]]], dtype=np.uint8), np.eye(4))
    nib.save(labels, tmp_path / "l.nii.gz")
    assert read_image(tmp_path / "l.nii.gz", dtype=None).data.dtype == np.uint8


def test_nifti_4d_channels(tmp_path):
    data = np.stack([ramp((3, 2, 2), 1000 * c) for c in range(4)], axis=-1)
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / "m.nii.gz")
    for c in range(4):
        image = read_image(tmp_path / "m.nii.gz", channel=c)
        assert image.data.shape == (3, 2, 2)
        assert image.data[2, 1, 1] == 1000 * c + 211
    volume = read_volume(tmp_path / "m.nii.gz")
    assert volume.data.shape == (3, 2, 2, 4)
    with pytest.raises(InputError, match=r"m\.nii\.gz: is 4-D with 4 channels"):
        read_image(tmp_path / "m.nii.gz")
    with pytest.raises(InputError, match="channel 4 requested but the image has 4 channels"):
        read_image(tmp_path / "m.nii.gz", channel=4)


def test_nifti_5d_vector_and_single_channel(tmp_path):
    data = np.stack([ramp((2, 2, 2), 1000 * c) for c in range(2)], axis=-1)[:, :, :, None, :]
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "v.nii.gz")
    assert read_image(tmp_path / "v.nii.gz", channel=1).data[1, 1, 1] == 1111.0
    nib.save(nib.Nifti1Image(ramp((2, 2, 2))[..., None], np.eye(4)), tmp_path / "one.nii.gz")
    assert read_image(tmp_path / "one.nii.gz").data.shape == (2, 2, 2)
    with pytest.raises(InputError, match="channel 2 requested but the image has no channels"):
        read_image(tmp_path / "one.nii.gz", channel=2)


def itk_image(array_xyz, spacing, origin, direction):
    image = sitk.GetImageFromArray(np.transpose(array_xyz, (2, 1, 0)))  # sitk wants [z, y, x]
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    return image


# A rotation about z by 90 degrees in LPS: voxel x -> +P, voxel y -> -L.
DIRECTION = (0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize("suffix", [".mha", ".nrrd", ".mhd"])
def test_itk_formats_give_xyz_and_ras_affine(tmp_path, suffix):
    data = ramp((4, 3, 2))
    sitk.WriteImage(itk_image(data, (0.5, 0.6, 1.2), (10.0, 20.0, 30.0), DIRECTION), str(tmp_path / f"a{suffix}"))
    image = read_image(tmp_path / f"a{suffix}")
    assert np.array_equal(image.data, data)
    # RAS = diag(-1, -1, 1) @ (origin + D @ diag(spacing) @ index)
    expected = np.array(
        [[0.0, 0.6, 0.0, -10.0], [-0.5, 0.0, 0.0, -20.0], [0.0, 0.0, 1.2, 30.0], [0, 0, 0, 1]]
    )
    np.testing.assert_allclose(image.affine, expected, atol=1e-9)
    assert image.spacing == pytest.approx((0.5, 0.6, 1.2))


def test_itk_and_nibabel_agree_on_the_same_image(tmp_path):
    """ITK's own NIfTI writer converts LPS to RAS: both readers must give the same geometry."""
    itk = itk_image(ramp((5, 4, 3)), (0.5, 0.6, 1.2), (10.0, -20.0, 30.0), DIRECTION)
    sitk.WriteImage(itk, str(tmp_path / "a.mha"))
    sitk.WriteImage(itk, str(tmp_path / "a.nii.gz"))
    from_itk, from_nib = read_image(tmp_path / "a.mha"), read_image(tmp_path / "a.nii.gz")
    assert np.array_equal(from_itk.data, from_nib.data)
    np.testing.assert_allclose(from_itk.affine, from_nib.affine, atol=1e-5)


def test_itk_vector_image_channels(tmp_path):
    channels = [ramp((3, 2, 2), 1000 * c) for c in range(3)]
    vector = sitk.Compose([itk_image(c, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)) for c in channels])
    sitk.WriteImage(vector, str(tmp_path / "v.mha"))
    assert read_image(tmp_path / "v.mha", channel=2).data[2, 1, 0] == 2210.0
    with pytest.raises(InputError, match="3 channels"):
        read_image(tmp_path / "v.mha")


def test_select_channel_of_3d_image():
    image = Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    assert select_channel(image, 0).data.shape == (2, 2, 2)
    with pytest.raises(InputError, match="channel 1 requested"):
        select_channel(image, 1, "x.nii")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.nii.gz", None, "missing.nii.gz: file not found"),
        ("text.nii.gz", b"not an image at all", "cannot be read as a NIfTI image"),
        ("text.mha", b"not an image at all", "cannot be read as a MetaImage/NRRD image"),
        ("picture.png", b"\x89PNG", r"picture.png: unsupported image file type"),
        ("plain.nii", b"x" * 400, "cannot be read as a NIfTI image"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_image(tmp_path / name)


def test_truncated_and_2d_and_directory(tmp_path):
    nib.save(nib.Nifti1Image(ramp((20, 20, 20)), np.eye(4)), tmp_path / "full.nii.gz")
    raw = gzip.decompress((tmp_path / "full.nii.gz").read_bytes())
    (tmp_path / "cut.nii.gz").write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(InputError, match=r"cut\.nii\.gz: cannot be read.*truncated"):
        read_image(tmp_path / "cut.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((3, 4), np.float32), np.eye(4)), tmp_path / "flat.nii.gz")
    with pytest.raises(InputError, match=r"flat\.nii\.gz: image of shape \(3, 4\) is not a 3-D volume"):
        read_image(tmp_path / "flat.nii.gz")
    (tmp_path / "dir.nii.gz").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_image(tmp_path / "dir.nii.gz")


def test_check_readable_reports_what_the_operating_system_says(tmp_path):
    (tmp_path / "ok.nii.gz").write_bytes(b"x")
    assert check_readable(tmp_path / "ok.nii.gz").st_size == 1
    (tmp_path / "loop.nii.gz").symlink_to("loop.nii.gz")
    (tmp_path / "dangling.nii.gz").symlink_to("gone.nii.gz")
    (tmp_path / "dir.nii.gz").mkdir()
    cases = {
        "missing.nii.gz": "missing.nii.gz: file not found; check the path",
        "loop.nii.gz": r"loop\.nii\.gz: cannot be read: Too many levels of symbolic links \(a symbolic link that points to itself",
        "dangling.nii.gz": r"dangling\.nii\.gz: is a symbolic link to gone\.nii\.gz, which does not exist$",
        "dir.nii.gz": "dir.nii.gz: is a directory, not an image file",
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=message):
            check_readable(tmp_path / name)
        with pytest.raises(InputError, match=message):  # read_volume says the same
            read_volume(tmp_path / name)


def test_permission_denied_is_reported_as_such(tmp_path):
    """Run without the capabilities that let root read any file (a non-root user needs none)."""
    nib.save(nib.Nifti1Image(ramp((4, 4, 4)), np.eye(4)), tmp_path / "secret.nii.gz")
    (tmp_path / "secret.nii.gz").chmod(0)
    prefix = []
    if os.geteuid() == 0:
        if subprocess.run(["which", "setpriv"], capture_output=True).returncode:
            pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    code = f"from crossmodal.data.io import read_volume\nread_volume({str(tmp_path / 'secret.nii.gz')!r})"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    run = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 1
    assert f"InputError: {tmp_path / 'secret.nii.gz'}: cannot be read: Permission denied (mode ----------, owner uid" in run.stderr


def metaimage(path, compressed=False):
    sitk.WriteImage(sitk.GetImageFromArray(np.arange(60, dtype=np.int16).reshape(5, 4, 3)), str(path), compressed)
    return path


@pytest.mark.parametrize("compressed", [False, True])
def test_a_metaimage_header_that_does_not_fit_its_data_names_the_fields(tmp_path, compressed):
    path = metaimage(tmp_path / "a.mha", compressed)
    check_metaimage(path)
    what = "decompresses to" if compressed else "holds"
    for dims, needed in (("3 4 6", 144), ("3 4 4", 96)):
        bad = tmp_path / f"bad{dims[-1]}.mha"
        bad.write_bytes(path.read_bytes().replace(b"DimSize = 3 4 5", f"DimSize = {dims}".encode()))
        with pytest.raises(InputError, match=rf"^{bad}: header field DimSize = {dims} \(MET_SHORT\) needs {needed} "
                           rf"bytes of voxel data, but the data in {bad.name} {what} 120 bytes; the header does not "
                           rf"describe the data \(or the file is truncated\)$"):
            read_volume(bad)


def test_a_metaimage_with_a_separate_data_file_is_checked_against_that_file(tmp_path):
    path = metaimage(tmp_path / "a.mhd")
    assert read_volume(path).data.shape == (3, 4, 5)
    raw = tmp_path / "a.raw"
    raw.write_bytes(raw.read_bytes()[:100])
    with pytest.raises(InputError, match=r"the data in a\.raw holds 100 bytes"):
        read_volume(path)
    raw.unlink()
    with pytest.raises(InputError, match=r"a\.raw: file not found"):
        read_volume(path)
