"""crossmodal.data.synthesize.knee_anatomy: a knee a reader recognizes (condyles, notch, patella,
cartilage thinning at its edges, menisci as wedges)."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import knee_anatomy as ka

SHAPE, SPACING = (96, 96, 40), (0.5, 0.5, 1.0)


@pytest.fixture(scope="module")
def scan():
    """The structures of one demo-grid scan (seeded), drawn step by step, and its tissue map."""
    anatomy = ka.draw_anatomy(np.random.default_rng(5))
    frame = ka.posed_frame(SHAPE, SPACING, np.random.default_rng(6), np.random.default_rng(7))
    femur = ka.draw_femur(frame, anatomy, 1.0)
    tibia = ka.draw_tibia(frame, anatomy, femur, 1.0)
    patella = ka.draw_patella(frame, anatomy, femur, tibia)
    tissue = ka.knee_tissues(SHAPE, SPACING, anatomy, np.random.default_rng(6), np.random.default_rng(7))
    return anatomy, frame, femur, tibia, patella, tissue


def index(mm: float, axis: int) -> int:
    """Voxel index of a position (mm from the centre of the field of view) along ``axis``."""
    return int(round(mm / SPACING[axis] + (SHAPE[axis] - 1) / 2))


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of the runs of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def test_two_condyles_with_the_notch_between_them(scan):
    anatomy, _, _, _, _, tissue = scan
    coronal = tissue[index(anatomy.femur_u, 0)]  # [Y, Z] through the condyles' centre
    covered = (coronal == ka.FEMORAL_CARTILAGE).any(axis=0)
    plates = [r for r in runs(covered) if r[1] - r[0] >= 4]
    assert len(plates) == 2, runs(covered)
    notch = index(anatomy.notch_w, 2)
    assert plates[0][1] <= notch < plates[1][0]  # no cartilage on the notch's roof
    # under each condyle a tibial plateau with its cartilage, and the spines between them
    assert all((coronal[:, a:b] == ka.TIBIAL_CARTILAGE).any() for a, b in plates)


def test_patella_anterior_to_the_trochlea_with_its_cartilage_behind(scan):
    _, frame, femur, _, patella, tissue = scan
    assert patella.bone.sum() > 1000 and patella.cartilage.sum() > 200
    assert frame.u[patella.bone].mean() > frame.u[femur.bone].max()  # in front of the femur
    assert frame.u[patella.cartilage].mean() < frame.u[patella.bone].mean()  # on its back
    assert (tissue == ka.PATELLAR_CARTILAGE).sum() > 200
    assert ka.LABEL_OF_TISSUE[ka.PATELLAR_CARTILAGE] == 4


def thickness_profile(mask_2d: np.ndarray) -> np.ndarray:
    """Voxels of a structure per column of a sagittal slice (anterior-posterior position)."""
    return mask_2d.sum(axis=1)


def test_cartilage_thins_at_its_edges(scan):
    anatomy, _, femur, _, _, tissue = scan
    condyle = index(anatomy.notch_w + anatomy.condyle_offset, 2)
    sagittal = tissue[:, :, condyle]
    # tibial cartilage: thickest in the middle of the plateau, thin at both ends
    columns = thickness_profile(sagittal == ka.TIBIAL_CARTILAGE)
    covered = np.flatnonzero(columns)
    middle = columns[covered[len(covered) // 3 : 2 * len(covered) // 3]].mean()
    ends = np.concatenate([columns[covered[:3]], columns[covered[-3:]]]).mean()
    assert ends < 0.6 * middle
    # femoral cartilage: from its full thickness on the condyles down to a fraction at its edges
    thickness = femur.thickness[femur.cartilage]
    assert thickness.max() > 0.8 * anatomy.femoral_thickness and thickness.min() < 0.25 * thickness.max()


def test_menisci_are_wedges_rising_outwards(scan):
    anatomy, _, _, _, _, tissue = scan
    condyle = index(anatomy.notch_w + anatomy.condyle_offset, 2)
    columns = thickness_profile(tissue[:, :, condyle] == ka.MENISCUS)
    horns = [r for r in runs(columns > 0) if r[1] - r[0] >= 4]
    assert len(horns) == 2, runs(columns > 0)  # anterior and posterior horn
    for (start, stop), outer_first in zip(horns, (True, False)):
        heights = columns[start:stop]
        third = len(heights) // 3
        outer, inner = (heights[:third], heights[-third:]) if outer_first else (heights[-third:], heights[:third])
        assert outer.mean() > 1.5 * inner.mean(), heights
