"""Read medical images (NIfTI, MetaImage, NRRD) as ``[x, y, z]`` arrays with a RAS affine.

NIfTI files are read with nibabel, everything else with SimpleITK. SimpleITK reports geometry in
ITK's LPS world coordinates and returns arrays ``[z, y, x]``; both are converted here, so that
every image of the pipeline is an array indexed ``[x, y, z]`` (nibabel order) and a 4x4 affine
mapping voxel indices to RAS millimetres (nibabel convention), whatever its file format.

Files are only ever opened for reading.
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from crossmodal.common.errors import InputError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ITK_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr")

# ITK world coordinates are LPS, nibabel's are RAS: flip the first two world axes.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
# bytes per voxel of the MetaImage element types whose size does not depend on the platform
_MET_BYTES = {
    "MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4,
    "MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8,
}  # fmt: skip


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


def check_readable(path: str | Path) -> os.stat_result:
    """A file to be read must exist, not be a directory, and be readable by this user.

    One ``stat`` and one ``access`` call: cheap enough to run on every scan file before any job.

    Args:
        path: the file.

    Returns:
        Its ``os.stat`` (the target's, for a symbolic link).

    Raises:
        InputError: naming the path and what the operating system reported: not found, a
            symbolic link to a missing file, a symbolic link loop, a directory, permission
            denied (with the file's mode and owner).
    """
    path = os.fspath(path)
    try:
        status = os.stat(path)
    except OSError as error:
        if error.errno == errno.ENOENT and os.path.islink(path):
            raise InputError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist") from None
        if error.errno == errno.ENOENT:
            raise InputError(f"{path}: file not found; check the path and the data directory") from None
        hint = " (a symbolic link that points to itself or into a loop)" if error.errno == errno.ELOOP else ""
        raise InputError(f"{path}: cannot be read: {error.strerror}{hint}") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{path}: is a directory, not an image file")
    if not os.access(path, os.R_OK):
        raise InputError(
            f"{path}: cannot be read: {os.strerror(errno.EACCES)} (mode "
            f"{stat.filemode(status.st_mode)}, owner uid {status.st_uid}, gid {status.st_gid}; "
            f"this process runs as uid {os.geteuid()})"
        )
    return status


def read_volume(path: str | Path, dtype: type | None = np.float32) -> Image:
    """Read a whole image file: 3-D, or 4-D with the channels on the last axis.

    Singleton axes after the third are dropped (NIfTI files sometimes store channels on the
    fifth axis, ``[X, Y, Z, 1, C]``). A MetaImage header is first checked against the size of
    its voxel data (:func:`check_metaimage`).

    Args:
        path: a ``.nii``/``.nii.gz`` (nibabel) or ``.mha``/``.mhd``/``.nrrd``/``.nhdr``
            (SimpleITK) file.
        dtype: dtype of the returned data (NIfTI scale factors are applied); ``None`` keeps
            the stored type (float when the NIfTI header scales the values).

    Returns:
        ``Image`` with data ``[X, Y, Z]`` or ``[X, Y, Z, C]`` and a RAS affine.

    Raises:
        InputError: the file is missing, a directory, of an unsupported type, unreadable (the
            operating system's reason), not an image, a MetaImage whose header does not fit its
            data, or not a 3-D/4-D volume. The message names the file.
    """
    path = Path(path)
    fmt = image_format(path)
    check_readable(path)
    if path.name.lower().endswith((".mha", ".mhd")):
        check_metaimage(path)
    try:
        data, affine = _read_nifti(path, dtype) if fmt == "nifti" else _read_itk(path, dtype)
    except InputError:
        raise
    except OSError as error:
        if error.errno is None:  # gzip's BadGzipFile and the like: the content, not the OS
            raise _unreadable(path, fmt, error) from error
        raise InputError(f"{path}: cannot be read: {error.strerror}") from error
    except Exception as error:  # nibabel/SimpleITK/gzip raise many types for a broken file
        raise _unreadable(path, fmt, error) from error
    extra = [n for n in data.shape[3:] if n != 1]
    if data.ndim < 3 or len(extra) > 1:
        raise InputError(
            f"{path}: image of shape {data.shape} is not a 3-D volume (or 3-D with channels)"
        )
    data = data.reshape(data.shape[:3] + tuple(extra))
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise InputError(f"{path}: the header geometry (affine) is degenerate: {affine.tolist()}")
    return Image(data, affine)


def _unreadable(path: Path, fmt: str, error: Exception) -> InputError:
    return InputError(
        f"{path}: cannot be read as a {'NIfTI' if fmt == 'nifti' else 'MetaImage/NRRD'} "
        f"image ({type(error).__name__}: {' '.join(str(error).split())}); the file may be "
        f"truncated or not an image"
    )


def _metaimage_header(path: Path) -> tuple[dict[str, str], int]:
    """The ``Key = Value`` fields of a MetaImage header and its length in bytes.

    The header ends with the ``ElementDataFile`` line; in a ``.mha`` the voxel data follow it.
    """
    fields: dict[str, str] = {}
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    offset = 0
    for line in head.splitlines(keepends=True):
        offset += len(line)
        key, sep, value = line.decode("latin-1").partition("=")
        if sep:
            fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    return fields, offset


def check_metaimage(path: str | Path) -> None:
    """A MetaImage header (``.mha``/``.mhd``) must describe exactly the voxel data stored.

    SimpleITK reports too little data as "No such file or directory", and reads a compressed
    file that decompresses to too little data without an error, the missing voxels made up.
    The check needs the header and, for compressed data, one decompression pass.

    Args:
        path: the header file.

    Raises:
        InputError: naming the header fields (``DimSize``, ``ElementType``,
            ``ElementNumberOfChannels``) and the bytes they need versus the bytes stored.
    """
    path = Path(path)
    fields, offset = _metaimage_header(path)
    data_file = fields.get("ElementDataFile", "")
    element = fields.get("ElementType", "")
    if (
        element not in _MET_BYTES or "DimSize" not in fields or fields.get("HeaderSize", "0") != "0"
        or fields.get("BinaryData", "True").lower() != "true" or data_file.startswith("LIST") or "%" in data_file
    ):  # fmt: skip
        return  # a variant this check does not model: SimpleITK reads it as it is
    try:
        dims = [int(n) for n in fields["DimSize"].split()]
        channels = int(fields.get("ElementNumberOfChannels", "1"))
    except ValueError:
        raise InputError(f"{path}: header field DimSize = {fields['DimSize']!r} is not a list of integers") from None
    needed = int(np.prod(dims)) * channels * _MET_BYTES[element]
    source, start = (path, offset) if data_file == "LOCAL" else (path.parent / data_file, 0)
    check_readable(source)
    compressed = fields.get("CompressedData", "False").lower() == "true"
    with open(source, "rb") as handle:
        handle.seek(start)
        stored = _inflated_size(handle) if compressed else os.fstat(handle.fileno()).st_size - start
    if stored != needed:
        what = "decompresses to" if compressed else "holds"
        layout = f"{element}" + (f" x {channels} channels" if channels != 1 else "")
        raise InputError(
            f"{path}: header field DimSize = {fields['DimSize']} ({layout}) needs {needed} bytes of "
            f"voxel data, but the data in {source.name} {what} {stored} bytes; the header does not "
            f"describe the data (or the file is truncated)"
        )


def _inflated_size(handle) -> int:
    """Bytes that a zlib stream read from ``handle`` decompresses to (a truncated one: so far)."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        while chunk := handle.read(1 << 20):
            size += len(inflater.decompress(chunk))
        size += len(inflater.flush())
    except zlib.error:
        pass  # corrupt from here on: what decompressed so far is what ITK gets
    return size


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
