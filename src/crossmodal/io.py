"""Read medical images (NIfTI, MetaImage, NRRD) as ``[x, y, z]`` arrays with a RAS affine.

NIfTI files are read with nibabel, everything else with SimpleITK. SimpleITK reports geometry in
ITK's LPS world coordinates and returns arrays ``[z, y, x]``; both are converted here, so that
every image of the pipeline is an array indexed ``[x, y, z]`` (nibabel order) and a 4x4 affine
mapping voxel indices to RAS millimetres (nibabel convention), whatever its file format.

Files are only ever opened for reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from crossmodal.errors import InputError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ITK_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr")

# ITK world coordinates are LPS, nibabel's are RAS: flip the first two world axes.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


class Image(NamedTuple):
    """An image volume and its geometry.

    Attributes:
        data: voxel values, ``[X, Y, Z]`` or, from :func:`read_volume` only, ``[X, Y, Z, C]``
            for a file holding ``C`` channels.
        affine: float64 ``[4, 4]``: voxel index ``(i, j, k, 1)`` -> RAS position in mm.
    """

    data: np.ndarray
    affine: np.ndarray

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along the three array axes (column norms of the affine)."""
        return tuple(float(s) for s in np.linalg.norm(self.affine[:3, :3], axis=0))


def image_format(path: str | Path) -> str:
    """``"nifti"`` or ``"itk"``, from the file name.

    Raises:
        InputError: for a suffix that is neither NIfTI nor a SimpleITK format listed in
            ``NIFTI_SUFFIXES`` / ``ITK_SUFFIXES``.
    """
    name = Path(path).name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(ITK_SUFFIXES):
        return "itk"
    raise InputError(
        f"{path}: unsupported image file type; use NIfTI ({', '.join(NIFTI_SUFFIXES)}) or "
        f"MetaImage/NRRD ({', '.join(ITK_SUFFIXES)})"
    )


def read_volume(path: str | Path, dtype: type | None = np.float32) -> Image:
    """Read a whole image file: 3-D, or 4-D with the channels on the last axis.

    Singleton axes after the third are dropped (NIfTI files sometimes store channels on the
    fifth axis, ``[X, Y, Z, 1, C]``).

    Args:
        path: a ``.nii``/``.nii.gz`` (nibabel) or ``.mha``/``.mhd``/``.nrrd``/``.nhdr``
            (SimpleITK) file.
        dtype: dtype of the returned data (NIfTI scale factors are applied); ``None`` keeps
            the stored type (float when the NIfTI header scales the values).

    Returns:
        ``Image`` with data ``[X, Y, Z]`` or ``[X, Y, Z, C]`` and a RAS affine.

    Raises:
        InputError: the file is missing, a directory, of an unsupported type, unreadable, not
            an image, or not a 3-D/4-D volume. The message names the file.
    """
    path = Path(path)
    fmt = image_format(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path and the data directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an image file")
    try:
        data, affine = _read_nifti(path, dtype) if fmt == "nifti" else _read_itk(path, dtype)
    except InputError:
        raise
    except Exception as error:  # nibabel/SimpleITK/gzip raise many types for a broken file
        raise InputError(
            f"{path}: cannot be read as a {'NIfTI' if fmt == 'nifti' else 'MetaImage/NRRD'} "
            f"image ({type(error).__name__}: {' '.join(str(error).split())}); the file may be "
            f"truncated or not an image"
        ) from error
    extra = [n for n in data.shape[3:] if n != 1]
    if data.ndim < 3 or len(extra) > 1:
        raise InputError(
            f"{path}: image of shape {data.shape} is not a 3-D volume (or 3-D with channels)"
        )
    data = data.reshape(data.shape[:3] + tuple(extra))
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise InputError(f"{path}: the header geometry (affine) is degenerate: {affine.tolist()}")
    return Image(data, affine)


def select_channel(image: Image, channel: int, path: str | Path = "<image>") -> Image:
    """One 3-D channel of an image from :func:`read_volume`.

    Args:
        image: data ``[X, Y, Z]`` or ``[X, Y, Z, C]``.
        channel: channel index in a 4-D image; ``-1`` (or ``0``) for a 3-D image or a 4-D
            image with a single channel.
        path: file name for messages.

    Returns:
        ``Image`` with data ``[X, Y, Z]``.

    Raises:
        InputError: ``channel`` does not fit the image (``-1`` for a multi-channel image, or
            an index out of range).
    """
    data = image.data
    n_channels = data.shape[3] if data.ndim == 4 else 0
    if n_channels == 0 and channel in (-1, 0):
        return image
    if n_channels == 1 and channel in (-1, 0):
        return Image(data[..., 0], image.affine)
    if n_channels > 1 and 0 <= channel < n_channels:
        return Image(np.ascontiguousarray(data[..., channel]), image.affine)
    if n_channels > 1 and channel == -1:
        raise InputError(
            f"{path}: is 4-D with {n_channels} channels, shape {data.shape}; a 3-D image "
            f"was expected (or give the channel index)"
        )
    raise InputError(
        f"{path}: channel {channel} requested but the image has "
        f"{n_channels or 'no'} channels (shape {data.shape})"
    )


def read_image(path: str | Path, channel: int = -1, dtype: type | None = np.float32) -> Image:
    """Read one 3-D image (one channel of a 4-D file).

    Args:
        path: image file (see :func:`read_volume` for formats).
        channel: channel index in a 4-D file; ``-1`` for a 3-D file.
        dtype: dtype of the returned data (``None``: as stored).

    Returns:
        ``Image(data [X, Y, Z] of dtype, affine float64 [4, 4] voxel -> RAS mm)``; it unpacks
        as ``data, affine = read_image(path)``.

    Raises:
        InputError: see :func:`read_volume` and :func:`select_channel`.
    """
    return select_channel(read_volume(path, dtype), channel, path)


def _read_nifti(path: Path, dtype: type | None) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    image = nib.load(str(path), mmap=False)  # opens the file read-only, reads it into memory
    if not hasattr(image, "dataobj") or not hasattr(image, "affine") or image.affine is None:
        raise InputError(f"{path}: not a NIfTI image")
    data = np.asanyarray(image.dataobj)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    return data, np.asarray(image.affine, dtype=np.float64)


def _read_itk(path: Path, dtype: type | None) -> tuple[np.ndarray, np.ndarray]:
    import SimpleITK as sitk

    image = sitk.ReadImage(str(path))
    dim = image.GetDimension()
    if dim not in (3, 4):
        raise InputError(f"{path}: a {dim}-D image; a 3-D volume is needed")
    array = sitk.GetArrayViewFromImage(image)  # [z, y, x] or [z, y, x, components]; 4-D: [c, z, y, x]
    if dim == 4:
        array = np.moveaxis(array, 0, -1)  # [z, y, x, c]
    if array.ndim == 4:
        data = np.transpose(array, (2, 1, 0, 3))
    else:
        data = np.transpose(array, (2, 1, 0))
    data = np.ascontiguousarray(data, dtype=dtype or data.dtype)
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(dim, dim)[:3, :3]
    spacing = np.asarray(image.GetSpacing(), dtype=np.float64)[:3]
    origin = np.asarray(image.GetOrigin(), dtype=np.float64)[:3]
    affine = np.eye(4)
    affine[:3, :3] = _LPS_TO_RAS @ direction @ np.diag(spacing)
    affine[:3, 3] = _LPS_TO_RAS @ origin
    return data, affine
