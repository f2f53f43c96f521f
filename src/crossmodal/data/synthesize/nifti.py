"""Write NIfTI files reproducibly (the synthetic datasets' only output format)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np


def save_nifti(path: str | Path, data: np.ndarray, affine: np.ndarray) -> None:
    """Write ``data`` ``[X, Y, Z]`` with ``affine`` (voxel -> RAS mm) as NIfTI-1.

    The qform and sform both hold ``affine`` (code 1, scanner), units are mm. Compressed
    (``.nii.gz``) output is byte-identical for identical input: nibabel writes gzip headers
    without a time stamp or file name.

    Args:
        path: output file, ``.nii`` or ``.nii.gz``.
        data: voxel values; the dtype is kept (e.g. int16 images, uint8 labels).
        affine: float ``[4, 4]``.
    """
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units(xyz="mm")
    nib.save(image, str(path))
