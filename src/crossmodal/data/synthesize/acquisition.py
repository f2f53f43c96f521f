"""From a noiseless signal map to a scanner image: texture, bias, slices, noise (per modality).

What two modalities of one scan do *not* share is made here:

* texture: each modality's texture field is ``t_m = sqrt(rho) s + sqrt(1 - rho) o_m`` with ``s``
  shared by all modalities and ``o_m`` its own (unit-variance smooth fields, so ``t_m`` has unit
  variance and two modalities' textures correlate by ``rho``); the tissue models add it to the
  signal scaled by each tissue's texture amplitude (``mr_physics.texture_amplitude``);
* receive-coil bias: an independent smooth multiplicative field per modality;
* 2-D acquisitions: thick slices (Gaussian slice profile, full width at half maximum = slice
  thickness) sampled every slice thickness, then linearly resampled to the common grid, as a
  registration to the 3-D reference scan does;
* noise: Rician (magnitude of complex Gaussian noise) drawn on the acquisition grid, so a 2-D
  acquisition's noise is correlated along its slice axis after resampling.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from crossmodal.data.synthesize import fields, sharing

def mixed_textures(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    scale_mm: float,
    modalities: list[str],
    rho: float,
) -> dict[str, np.ndarray]:
    """Texture fields ``t_m = sqrt(rho) * shared + sqrt(1 - rho) * own_m`` per modality.

    The shared field and every modality's own field are always drawn (in this order: shared,
    then own fields in ``modalities`` order), so ``rho`` changes the mixing only, never the
    fields themselves.

    Args:
        rng: generator of the scan's texture.
        shape: voxels per axis.
        spacing: voxel size in mm.
        scale_mm: feature size of the texture (distance of the B-spline control points).
        modalities: modality names.
        rho: in [0, 1]: correlation between two modalities' texture fields.

    Returns:
        modality -> float32 ``[X, Y, Z]``, zero mean and unit variance (up to sampling).

    Raises:
        ValueError: ``rho`` outside [0, 1].
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho = {rho}: must lie in [0, 1]")
    shared = fields.smooth_field(rng, shape, spacing, scale_mm)
    own = {m: fields.smooth_field(rng, shape, spacing, scale_mm) for m in modalities}
    a, b = np.float32(np.sqrt(rho)), np.float32(np.sqrt(1.0 - rho))
    return {m: a * shared + b * own[m] for m in modalities}


def slice_positions(n: int, spacing_mm: float, thickness_mm: float, offset: float) -> np.ndarray:
    """Centres of the slices of a 2-D acquisition, in voxel units along the slice axis.

    Slices are contiguous (gap 0), ``thickness_mm`` apart, the first at ``offset`` (a fraction of
    the slice distance) from the first voxel, covering the whole field of view.

    Returns:
        float64 ``[S]`` positions in ``[0, n - 1]`` (at least two).
    """
    step = thickness_mm / spacing_mm
    positions = np.arange(offset * step, n - 1 + 1e-9, step)
    if len(positions) < 2:
        positions = np.array([0.0, n - 1.0])
    return positions


def acquire(
    signal: np.ndarray,
    spacing: tuple[float, float, float],
    noise_sd: float,
    rng: np.random.Generator,
    slice_mm: float | None = None,
    slice_axis: int = 2,
    slice_offset: float = 0.0,
) -> np.ndarray:
    """Image of a noiseless signal map as a 3-D or 2-D acquisition resampled to the grid.

    Args:
        signal: float32 ``[X, Y, Z]`` noiseless signal (texture and bias applied).
        spacing: voxel size in mm of the common grid.
        noise_sd: SD of each of the two Gaussian noise channels (same units as ``signal``).
        rng: generator of the noise.
        slice_mm: slice thickness of a 2-D acquisition; None or not above the grid spacing along
            ``slice_axis``: a 3-D acquisition on the grid itself.
        slice_axis: axis along which the slices are stacked.
        slice_offset: position of the first slice centre, as a fraction of the slice distance.

    Returns:
        float32 ``[X, Y, Z]`` magnitude image.
    """
    n = signal.shape[slice_axis]
    step = spacing[slice_axis]
    if slice_mm is None or slice_mm <= step * 1.001:
        return fields.rician_noise(rng, signal, noise_sd)
    # slice profile: Gaussian with FWHM = thickness (approximation of a real, roughly
    # rectangular profile)
    sigma = slice_mm / (2 * np.sqrt(2 * np.log(2))) / step
    profile = ndimage.gaussian_filter1d(signal, sigma, axis=slice_axis, mode="nearest")
    positions = slice_positions(n, step, slice_mm, slice_offset)
    slices = _linear_resample(profile, positions, slice_axis)
    slices = fields.rician_noise(rng, slices, noise_sd)
    # back to the grid: linear interpolation between slice centres, constant beyond the ends
    grid = np.clip(np.arange(n, dtype=np.float64), positions[0], positions[-1])
    return _linear_resample_at(slices, positions, grid, slice_axis)


def _linear_resample(volume: np.ndarray, positions: np.ndarray, axis: int) -> np.ndarray:
    """``volume`` linearly interpolated at fractional indices ``positions`` along ``axis``."""
    lower = np.clip(np.floor(positions).astype(np.int64), 0, volume.shape[axis] - 2)
    weight = (positions - lower).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(positions)
    weight = weight.reshape(shape)
    a = np.take(volume, lower, axis=axis)
    b = np.take(volume, lower + 1, axis=axis)
    return (a * (1 - weight) + b * weight).astype(np.float32)


def _linear_resample_at(samples: np.ndarray, positions: np.ndarray, targets: np.ndarray, axis: int) -> np.ndarray:
    """Values at ``targets`` of samples taken at increasing ``positions`` (linear interpolation)."""
    upper = np.clip(np.searchsorted(positions, targets, side="right"), 1, len(positions) - 1)
    lower = upper - 1
    weight = ((targets - positions[lower]) / (positions[upper] - positions[lower])).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(targets)
    weight = weight.reshape(shape)
    a = np.take(samples, lower, axis=axis)
    b = np.take(samples, upper, axis=axis)
    return (a * (1 - weight) + b * weight).astype(np.float32)


def scanner_images(
    signals: list[np.ndarray],
    sequences: list,
    spacing: tuple[float, float, float],
    noise_sd: float,
    bias: float,
    rngs: tuple[np.random.Generator, np.random.Generator],
    slice_offsets,
    shared_bias: tuple[int, float] = (0, 0.0),
) -> list[np.ndarray]:
    """Each modality's noiseless signal map through its scanner: bias, 2-D slices, noise.

    A bias field per modality (``fields.bias_field``, in modality order from the first
    generator), blended towards the reference modality's by ``sharing.share_bias``, then
    :func:`acquire` with the sequence's slice geometry, blended by ``sharing.share_slices``
    (noise from the second generator).

    Args:
        signals: float32 ``[X, Y, Z]`` per modality.
        sequences: the modalities' ``mr_physics.Sequence`` (``slice_mm``, ``slice_axis``).
        spacing: voxel size in mm.
        noise_sd: Rician noise SD.
        bias: SD of the log of the bias field.
        rngs: the scan's bias and noise generators.
        slice_offsets: per modality, the first slice centre (fraction of the slice distance).
        shared_bias: ``(reference modality index, kappa)`` of ``sharing.share_bias`` and
            ``sharing.share_slices``.

    Returns:
        float32 ``[X, Y, Z]`` magnitude images, one per modality.
    """
    bias_rng, noise_rng = rngs
    biases = [fields.bias_field(bias_rng, signal.shape, spacing, bias) for signal in signals]
    biases = sharing.share_bias(biases, *shared_bias)
    sequences = sharing.share_slices(list(sequences), *shared_bias)
    return [
        acquire(signal * field, spacing, noise_sd, noise_rng, sequence.slice_mm, sequence.slice_axis, offset)
        for signal, field, sequence, offset in zip(signals, biases, sequences, slice_offsets)
    ]
