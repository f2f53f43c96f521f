"""crossmodal.io: NIfTI via nibabel, MetaImage/NRRD via SimpleITK, both as [x, y, z] + RAS affine."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from crossmodal.errors import InputError
from crossmodal.io import Image, read_image, read_volume, select_channel


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
