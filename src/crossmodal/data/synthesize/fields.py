"""Random smooth fields, bias, noise and integer output shared by the synthetic tissue models.

Everything works in millimetres on a voxel grid given by ``shape`` and ``spacing``, so that a
model looks the same (up to sampling) at any resolution.
"""

from __future__ import annotations

import numpy as np


def grid_mm(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> list[np.ndarray]:
    """Voxel-centre coordinates in mm, relative to the centre of the field of view.

    Args:
        shape: voxels per axis ``(X, Y, Z)``.
        spacing: voxel size in mm per axis.

    Returns:
        Three float32 arrays shaped ``[X, 1, 1]``, ``[1, Y, 1]``, ``[1, 1, Z]`` (broadcastable).
    """
    out = []
    for axis, (n, s) in enumerate(zip(shape, spacing)):
        values = ((np.arange(n, dtype=np.float32) - (n - 1) / 2) * np.float32(s))
        view = [1, 1, 1]
        view[axis] = n
        out.append(values.reshape(view))
    return out


def rotation(angles_deg: np.ndarray) -> np.ndarray:
    """The rotation about x, then y, then z (fixed axes) by ``angles_deg`` (3 angles, degrees).

    Returns:
        ``[3, 3]`` float64 matrix ``Rz @ Ry @ Rx``.
    """
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _bspline_matrix(n: int, spacing: float, scale_mm: float) -> np.ndarray:
    """Cubic B-spline basis ``[n, K]`` on a control grid with knots ``scale_mm`` apart."""
    extent = n * spacing
    k = int(np.ceil(extent / scale_mm)) + 3
    pos = (np.arange(n) + 0.5) * spacing / scale_mm + 1.0  # in knot units, 1 knot of margin
    t = pos[:, None] - np.arange(k)[None, :]
    a = np.abs(t)
    basis = np.where(a < 1, (4 - 6 * a**2 + 3 * a**3) / 6, np.where(a < 2, (2 - a) ** 3 / 6, 0.0))
    return basis.astype(np.float32)


def smooth_field(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    scale_mm: float,
) -> np.ndarray:
    """A smooth random field with features about ``scale_mm`` apart, normalized to unit SD.

    Gaussian white noise on a control grid ``scale_mm`` apart, smoothed by a separable cubic
    B-spline. Hand-written as three small matrix products instead of upsampling the control
    grid with ``scipy.ndimage.map_coordinates(..., order=3)`` or ``scipy.ndimage.zoom``:
    measured 5 ms against 220 ms and 390 ms for a 96x96x40 grid, and a scan draws a dozen
    such fields.

    Args:
        rng: random generator (consumed deterministically).
        shape: voxels per axis.
        spacing: voxel size in mm.
        scale_mm: distance between control points in mm.

    Returns:
        float32 ``[X, Y, Z]`` with mean ~0 and SD exactly 1 (over the grid).
    """
    bx, by, bz = (_bspline_matrix(n, s, scale_mm) for n, s in zip(shape, spacing))
    coeffs = rng.standard_normal((bx.shape[1], by.shape[1], bz.shape[1])).astype(np.float32)
    field = np.tensordot(bx, coeffs, axes=(1, 0))  # [X, b, c]
    field = np.tensordot(field, by, axes=(1, 1))  # [X, c, Y]
    field = np.tensordot(field, bz, axes=(1, 1))  # [X, Y, Z]
    field -= field.mean()
    sd = field.std()
    return field / sd if sd > 0 else field


def bias_field(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    amplitude: float,
) -> np.ndarray:
    """A smooth multiplicative intensity bias ``exp(amplitude * f)`` (f: unit-SD field, ~60 mm)."""
    fov = float(np.min(np.asarray(shape) * np.asarray(spacing)))
    return np.exp(amplitude * smooth_field(rng, shape, spacing, max(fov / 1.5, 1.0)))


def rician_noise(rng: np.random.Generator, image: np.ndarray, sd: float) -> np.ndarray:
    """Magnitude-image noise: ``|image + n1 + i n2|`` with n1, n2 ~ N(0, sd^2)."""
    n1 = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sd)
    n2 = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sd)
    return np.sqrt((image + n1) ** 2 + n2**2)


def to_int16(image: np.ndarray, scale: float = 1000.0) -> np.ndarray:
    """Scanner-like integer intensities: ``round(image * scale)`` clipped to ``[0, 32767]``."""
    return np.clip(np.rint(image * scale), 0, 32767).astype(np.int16)
