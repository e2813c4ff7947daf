"""Tests for facelandmarks.points: the MUCT scheme constants and the mirror map."""

from __future__ import annotations

import numpy as np
import pytest

from facelandmarks.points import (
    GROUPS,
    MIRROR_PERMUTATION,
    MUCT_TO_IBUG68,
    NUM_POINTS,
    MuctPoint,
    mirror_points,
)

WIDTH = 480


def random_points(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random float32 pixel coordinates of shape ``shape + (76, 2)`` inside a 480x640 image."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 479.0, size=(*shape, NUM_POINTS, 2))
    xy[..., 1] *= 640.0 / 480.0
    return xy.astype(np.float32)


def test_num_points() -> None:
    assert NUM_POINTS == 76


def test_mirror_permutation_is_a_permutation() -> None:
    assert len(MIRROR_PERMUTATION) == NUM_POINTS
    assert sorted(MIRROR_PERMUTATION) == list(range(NUM_POINTS))
    assert all(isinstance(i, int) for i in MIRROR_PERMUTATION)


def test_mirror_permutation_is_its_own_inverse() -> None:
    perm = np.asarray(MIRROR_PERMUTATION)
    np.testing.assert_array_equal(perm[perm], np.arange(NUM_POINTS))


def test_mirror_permutation_swaps_sides_of_named_points() -> None:
    perm = MIRROR_PERMUTATION
    pairs = [
        (MuctPoint.JAW_FIRST, MuctPoint.JAW_LAST),
        (MuctPoint.IMAGE_LEFT_EYE_OUTER, MuctPoint.IMAGE_RIGHT_EYE_OUTER),
        (MuctPoint.IMAGE_LEFT_EYE_INNER, MuctPoint.IMAGE_RIGHT_EYE_INNER),
        (MuctPoint.IMAGE_LEFT_EYE_TOP, MuctPoint.IMAGE_RIGHT_EYE_TOP),
        (MuctPoint.IMAGE_LEFT_EYE_BOTTOM, MuctPoint.IMAGE_RIGHT_EYE_BOTTOM),
        (MuctPoint.IMAGE_LEFT_PUPIL, MuctPoint.IMAGE_RIGHT_PUPIL),
        (MuctPoint.MOUTH_LEFT_CORNER, MuctPoint.MOUTH_RIGHT_CORNER),
    ]
    for a, b in pairs:
        assert perm[a] == b and perm[b] == a, (a, b)
    # Points on the face's vertical midline map to themselves.
    for p in (MuctPoint.CHIN, MuctPoint.NOSE_TIP):
        assert perm[p] == p


def test_mirror_permutation_maps_groups_onto_groups() -> None:
    perm = MIRROR_PERMUTATION
    swapped = {
        "brow_image_left": "brow_image_right",
        "eye_image_left": "eye_image_right",
    }
    swapped.update({v: k for k, v in swapped.items()})
    for name, members in GROUPS.items():
        target = GROUPS[swapped.get(name, name)]
        assert {perm[i] for i in members} == set(target), name


def test_groups_cover_every_point_once() -> None:
    all_points = [i for members in GROUPS.values() for i in members]
    assert sorted(all_points) == list(range(NUM_POINTS))


def test_muct_to_ibug68_is_injective_and_in_range() -> None:
    assert len(set(MUCT_TO_IBUG68.values())) == len(MUCT_TO_IBUG68)
    assert all(0 <= k < NUM_POINTS for k in MUCT_TO_IBUG68)
    assert all(0 <= v < 68 for v in MUCT_TO_IBUG68.values())


def test_muct_point_values() -> None:
    expected = {
        "JAW_FIRST": 0,
        "CHIN": 7,
        "JAW_LAST": 14,
        "IMAGE_LEFT_EYE_OUTER": 27,
        "IMAGE_LEFT_EYE_TOP": 28,
        "IMAGE_LEFT_EYE_INNER": 29,
        "IMAGE_LEFT_EYE_BOTTOM": 30,
        "IMAGE_LEFT_PUPIL": 31,
        "IMAGE_RIGHT_EYE_OUTER": 32,
        "IMAGE_RIGHT_EYE_TOP": 33,
        "IMAGE_RIGHT_EYE_INNER": 34,
        "IMAGE_RIGHT_EYE_BOTTOM": 35,
        "IMAGE_RIGHT_PUPIL": 36,
        "MOUTH_LEFT_CORNER": 48,
        "MOUTH_RIGHT_CORNER": 54,
        "NOSE_TIP": 67,
    }
    assert {p.name: p.value for p in MuctPoint} == expected
    # IntEnum members index arrays directly.
    xy = random_points(())
    np.testing.assert_array_equal(xy[MuctPoint.NOSE_TIP], xy[67])


@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3)])
def test_mirror_twice_is_identity(shape: tuple[int, ...]) -> None:
    xy = random_points(shape, seed=len(shape))
    once = mirror_points(xy, WIDTH)
    twice = mirror_points(once, WIDTH)
    assert once.shape == xy.shape and once.dtype == xy.dtype
    # float32 arithmetic: exact up to one rounding of 479 - x (ulp at 512 is 3e-5).
    np.testing.assert_allclose(twice, xy, rtol=0, atol=1e-4)
    assert not np.allclose(once, xy)


def test_mirror_twice_is_exact_on_muct_style_coordinates() -> None:
    # MUCT stores integers and halves: those mirror without any rounding.
    xy = np.round(random_points((3,), seed=5) * 2) / 2
    np.testing.assert_array_equal(mirror_points(mirror_points(xy, WIDTH), WIDTH), xy)


@pytest.mark.parametrize("width", [1, 37, 480, 1000.5])
def test_mirror_twice_is_identity_for_any_width(width: float) -> None:
    xy = random_points((4,), seed=3).astype(np.float64)
    np.testing.assert_allclose(mirror_points(mirror_points(xy, width), width), xy, atol=1e-9)


def test_mirror_points_formula() -> None:
    xy = random_points((2,), seed=1)
    out = mirror_points(xy, WIDTH)
    perm = list(MIRROR_PERMUTATION)
    np.testing.assert_allclose(out[..., 0], 479.0 - xy[:, perm, 0], atol=1e-4)
    np.testing.assert_array_equal(out[..., 1], xy[:, perm, 1])


def test_mirror_points_pixel_centre_rule() -> None:
    # A point on the first pixel column lands on the last one; the image centre stays put.
    xy = np.full((NUM_POINTS, 2), 10.0)
    xy[MuctPoint.NOSE_TIP] = (0.0, 5.0)
    xy[MuctPoint.CHIN] = ((WIDTH - 1) / 2, 7.0)
    out = mirror_points(xy, WIDTH)
    np.testing.assert_array_equal(out[MuctPoint.NOSE_TIP], (WIDTH - 1.0, 5.0))
    np.testing.assert_array_equal(out[MuctPoint.CHIN], ((WIDTH - 1) / 2, 7.0))


def test_mirror_points_does_not_modify_input() -> None:
    xy = random_points((2,))
    before = xy.copy()
    mirror_points(xy, WIDTH)
    np.testing.assert_array_equal(xy, before)


def test_mirror_points_keeps_nan() -> None:
    xy = random_points((3,), seed=2)
    xy[0, 40] = np.nan
    xy[2, 5] = np.nan
    out = mirror_points(xy, WIDTH)
    perm = np.asarray(MIRROR_PERMUTATION)
    expected_nan = np.isnan(xy[:, perm])
    np.testing.assert_array_equal(np.isnan(out), expected_nan)
    assert np.isnan(out[0, perm[40]]).all() and np.isnan(out[2, perm[5]]).all()
    assert np.isnan(out).sum() == np.isnan(xy).sum()
    # assert_allclose treats NaN at the same positions as equal.
    np.testing.assert_allclose(mirror_points(out, WIDTH), xy, rtol=0, atol=1e-4)


def test_mirror_points_accepts_lists() -> None:
    xy = random_points(()).tolist()
    out = mirror_points(xy, WIDTH)
    assert out.shape == (NUM_POINTS, 2)


@pytest.mark.parametrize(
    "shape", [(NUM_POINTS,), (NUM_POINTS, 3), (68, 2), (2, NUM_POINTS), (3, 75, 2), ()]
)
def test_mirror_points_bad_shape_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"mirror_points expects xy of shape"):
        mirror_points(np.zeros(shape), WIDTH)
