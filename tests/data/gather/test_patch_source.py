"""The checks of a patch batch that both patch sources run."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.common.errors import InputError
from crossmodal.data.gather.patch_source import check_centres, check_patch_size

SHAPES = np.array([[9, 7, 6], [6, 11, 8]])


def test_centres_at_the_border_fit_and_one_voxel_further_do_not():
    check_centres(np.array([0, 1]), np.array([[2, 2, 2], [3, 8, 5]]), SHAPES, 5)  # corners: fine
    with pytest.raises(InputError, match=r"centre \[4, 5, 4\] of volume 1 \(shape \[6, 11, 8\]\) is closer than 2"):
        check_centres(np.array([0, 1]), np.array([[2, 2, 2], [4, 5, 4]]), SHAPES, 5)
    with pytest.raises(InputError, match="scan index 2 is outside the 2 volumes"):
        check_centres(np.array([2]), np.array([[3, 3, 3]]), SHAPES, 5)
    with pytest.raises(InputError, match=r"got shapes \(1,\) and \(3,\)"):
        check_centres(np.array([0]), np.array([3, 3, 3]), SHAPES, 5)


def test_patch_size_must_be_positive_and_odd():
    assert check_patch_size(np.int64(5)) == 5 and type(check_patch_size(np.int64(5))) is int
    for bad in (0, 4, -3):
        with pytest.raises(InputError, match=f"positive odd number of voxels, got {bad}"):
            check_patch_size(bad)
