"""Tests for facelandmarks.schemes (point schemes as data) and facelandmarks.shapes.

The real-data tests check the built-in schemes' mirror maps and point names against the
MUCT ground truth (marker ``muct``) and the 2,012 300-W training shapes (marker ``wild``); they
read landmark files only.
"""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest

from facelandmarks import points as legacy_points
from facelandmarks import schemes as schemes_module
from facelandmarks.schemes import (
    IBUG68,
    MUCT76,
    Ibug68Point,
    MuctPoint,
    PointScheme,
    find_scheme,
    get_scheme,
    list_schemes,
    register_correspondence,
    register_scheme,
    scheme_for_points,
)
from facelandmarks.shapes import mean_shape, similarity_align

BUILT_IN = (MUCT76, IBUG68)
SHARED_MUCT = (27, 29, 34, 32, 67, 48, 54, 7)
SHARED_IBUG = (36, 39, 42, 45, 30, 48, 54, 8)


def swap_sides(name: str) -> str:
    return "_".join({"l": "r", "r": "l"}.get(w, w) for w in name.split("_"))


def mirror_residuals(mean: np.ndarray, perm: np.ndarray, iod: float) -> np.ndarray:
    """Per-point distance, in inter-ocular units, between a shape and its aligned mirror."""
    mirrored = mean[perm] * np.array([-1.0, 1.0])
    return np.linalg.norm(similarity_align(mirrored, mean) - mean, axis=1) / iod


# ---------------------------------------------------------------------- built-in facts


@pytest.mark.parametrize("scheme", BUILT_IN, ids=lambda s: s.name)
def test_builtin_scheme_is_consistent(scheme: PointScheme) -> None:
    k = scheme.num_points
    perm = np.asarray(scheme.mirror)
    assert sorted(scheme.mirror) == list(range(k))
    np.testing.assert_array_equal(perm[perm], np.arange(k))
    assert len(set(scheme.point_names)) == k
    # The names say which side a point is on; the mirror map must swap exactly those.
    for i, name in enumerate(scheme.point_names):
        assert scheme.point_names[scheme.mirror[i]] == swap_sides(name), (i, name)
    grouped = sorted(i for _, idx in scheme.groups for i in idx)
    assert grouped == list(range(k))
    for idx, _closed in scheme.contours:
        assert len(idx) >= 2
    a, b = scheme.eye_corners
    assert scheme.point_names[a] == "eye_l_outer" and scheme.point_names[b] == "eye_r_outer"
    assert scheme.eyes is not None and scheme.mouth is not None
    assert {scheme.mirror[i] for i in scheme.eyes[0]} == set(scheme.eyes[1])


def test_builtin_reference_points() -> None:
    assert MUCT76.eye_corners == (27, 32) and MUCT76.pupils == (31, 36)
    assert IBUG68.eye_corners == (36, 45) and IBUG68.pupils is None
    assert IBUG68.num_points == 68 and MUCT76.num_points == 76
    assert IBUG68.groups[0] == ("jaw", tuple(range(17)))
    assert all(isinstance(i, int) and not isinstance(i, bool) for i in MUCT76.eye_corners)


def test_ibug_mirror_is_the_standard_map() -> None:
    pairs = [(0, 16), (17, 26), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    pairs += [(31, 35), (32, 34), (48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]
    pairs += [(60, 64), (61, 63), (65, 67)]
    for a, b in pairs:
        assert IBUG68.mirror[a] == b and IBUG68.mirror[b] == a
    for p in (8, 27, 28, 29, 30, 33, 51, 57, 62, 66):
        assert IBUG68.mirror[p] == p


@pytest.mark.parametrize(
    "enum, scheme, names",
    [
        (
            MuctPoint,
            MUCT76,
            {"CHIN": "chin", "NOSE_TIP": "nose_tip", "MOUTH_LEFT_CORNER": "mouth_l"},
        ),
        (Ibug68Point, IBUG68, {"CHIN": "chin", "NOSE_TIP": "nose_tip", "NOSE_BASE": "nose_base"}),
    ],
)
def test_named_indices_match_point_names(enum, scheme, names) -> None:
    for member, name in names.items():
        assert scheme.point_names[enum[member]] == name
    for member in enum:
        assert 0 <= member < scheme.num_points
    assert scheme.point_names[enum.IMAGE_LEFT_EYE_OUTER] == "eye_l_outer"
    assert scheme.point_names[enum.IMAGE_RIGHT_EYE_OUTER] == "eye_r_outer"


def test_points_module_reads_the_muct_scheme() -> None:
    assert legacy_points.NUM_POINTS == 76
    assert MUCT76.mirror == legacy_points.MIRROR_PERMUTATION
    assert dict(MUCT76.groups) == legacy_points.GROUPS
    assert dict(zip(SHARED_MUCT, SHARED_IBUG, strict=True)) == legacy_points.MUCT_TO_IBUG68
    assert legacy_points.MuctPoint is MuctPoint and legacy_points.Ibug68Point is Ibug68Point


# ---------------------------------------------------------------------- construction


def test_sequences_become_tuples_and_schemes_compare(five_points: PointScheme) -> None:
    again = PointScheme(
        name="test5",
        num_points=5,
        point_names=["eye_l", "eye_r", "nose", "mouth_l", "mouth_r"],
        mirror=[1, 0, 2, 4, 3],
        eye_corners=[np.int64(0), 1],
        contours=[([0, 1], 0), ((3, 4), False)],
        eyes=([0], [1]),
        mouth=[3, 4],
    )
    assert again == five_points and hash(again) == hash(five_points)
    assert again.mirror == (1, 0, 2, 4, 3) and type(again.eye_corners[0]) is int
    assert again.contours[0] == ((0, 1), False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.name = "other"  # type: ignore[misc]
    assert repr(again) == "PointScheme('test5', 5 points)"
    assert again.index("nose") == 2
    with pytest.raises(KeyError, match="no point named 'ear'"):
        again.index("ear")


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"name": "Bad Name"}, "name must be"),
        ({"name": ""}, "name must be"),
        ({"num_points": 0}, "num_points must be an int >= 1"),
        ({"num_points": True}, "num_points must be an int >= 1"),
        ({"point_names": ("a", "b", "c", "d")}, "point_names must be 5 distinct"),
        ({"point_names": ("a", "a", "c", "d", "e")}, "point_names must be 5 distinct"),
        ({"mirror": (1, 0, 2, 3)}, "mirror must hold at least 5"),
        ({"mirror": (1, 2, 0, 4, 3)}, "mirror must be its own inverse"),
        ({"mirror": (1, 0, 2, 4, 5)}, "mirror must hold"),
        ({"eye_corners": (0, 2)}, "eye_corners must be two indices that mirror"),
        ({"eye_corners": (0, 1, 2)}, "eye_corners must be two indices that mirror"),
        ({"pupils": (3, 3)}, "pupils must hold at least 2 distinct"),
        ({"pupils": (0, 2)}, "pupils must be two indices that mirror"),
        ({"eyes": ((0,), (2,))}, "the two eyes must mirror"),
        ({"eyes": ((0,),)}, "eyes must be two index sequences"),
        ({"mouth": (3,)}, "mouth points must mirror onto themselves"),
        ({"contours": (((0,), True),)}, "contour must hold at least 2"),
        ({"contours": ((0, 1),)}, "contour must be a sequence"),
        ({"groups": (("a", (9,)),)}, "group must hold"),
        ({"mouth": "34"}, "mouth must hold"),
    ],
)
def test_invalid_schemes_are_refused(five_points, change, fragment) -> None:
    with pytest.raises(ValueError, match=fragment):
        dataclasses.replace(five_points, **change)


# ---------------------------------------------------------------------- registry


def test_get_scheme_and_defaults() -> None:
    assert get_scheme("muct76") is MUCT76 and get_scheme("IBUG68") is IBUG68
    assert get_scheme(IBUG68) is IBUG68
    assert {"muct76", "ibug68"} <= set(list_schemes())
    assert scheme_for_points(76) is MUCT76 and scheme_for_points(68) is IBUG68
    with pytest.raises(ValueError, match=r"Unknown point scheme 'wflw98'.*ibug68.*muct76"):
        get_scheme("wflw98")
    assert find_scheme("IBUG68") is IBUG68 and find_scheme("wflw98") is None
    with pytest.raises(TypeError, match="scheme must be a scheme name or a PointScheme"):
        get_scheme(76)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"No default point scheme for 98 points.*pass scheme="):
        scheme_for_points(98)


def test_register_a_scheme_of_your_own(scheme_registry, five_points) -> None:
    with pytest.raises(ValueError, match="Unknown point scheme"):
        get_scheme("test5")
    assert find_scheme("test5") is None
    assert register_scheme(five_points) is five_points
    assert find_scheme("TEST5") is five_points
    assert register_scheme(dataclasses.replace(five_points)) is five_points  # equal: a no-op
    assert get_scheme("test5") is five_points
    with pytest.raises(ValueError):
        scheme_for_points(5)
    register_scheme(five_points, default=True)
    assert scheme_for_points(5) is five_points
    changed = dataclasses.replace(five_points, description="v2")
    with pytest.raises(ValueError, match=r"already registered.*replace=True"):
        register_scheme(changed)
    register_scheme(changed, replace=True)
    assert get_scheme("test5") is changed
    other = dataclasses.replace(five_points, name="other5")
    with pytest.raises(ValueError, match="'test5' is already the default scheme for 5 points"):
        register_scheme(other, default=True)
    with pytest.raises(TypeError, match="expects a PointScheme"):
        register_scheme("test5")  # type: ignore[arg-type]


def test_replacing_a_default_scheme_by_one_of_another_count_drops_that_default(
    scheme_registry, five_points
) -> None:
    """The 5-point default kept naming the scheme after it became 6 points: 5-point
    datasets were labelled with it and scored against 6 points."""
    register_scheme(five_points, default=True)
    six = dataclasses.replace(
        five_points,
        num_points=6,
        point_names=(*five_points.point_names, "chin"),
        mirror=(*five_points.mirror, 5),
    )
    register_scheme(six, replace=True)
    with pytest.raises(ValueError, match="No default point scheme for 5 points"):
        scheme_for_points(5)
    register_scheme(dataclasses.replace(six, description="v2"), replace=True, default=True)
    assert scheme_for_points(6).description == "v2"


def test_builtin_schemes_cannot_be_replaced(scheme_registry) -> None:
    fake = dataclasses.replace(MUCT76, description="not MUCT")
    with pytest.raises(ValueError, match="'muct76' is already registered"):
        register_scheme(fake, replace=True)
    assert get_scheme("muct76") is MUCT76


# ---------------------------------------------------------------------- correspondence


def test_muct_ibug_correspondence_is_the_eight_shared_points() -> None:
    mine, theirs = MUCT76.correspondence("ibug68")
    assert dict(zip(mine.tolist(), theirs.tolist(), strict=True)) == dict(
        zip(SHARED_MUCT, SHARED_IBUG, strict=True)
    )
    assert mine.tolist() == sorted(mine.tolist()) and mine.dtype == np.int64
    back_ibug, back_muct = IBUG68.correspondence(MUCT76)
    assert dict(zip(back_muct.tolist(), back_ibug.tolist(), strict=True)) == dict(
        zip(SHARED_MUCT, SHARED_IBUG, strict=True)
    )
    for a, b in zip(mine, theirs, strict=True):
        assert MUCT76.point_names[a] == IBUG68.point_names[b]
    same, same2 = IBUG68.correspondence(IBUG68)
    np.testing.assert_array_equal(same, np.arange(68))
    np.testing.assert_array_equal(same2, np.arange(68))


def test_register_correspondence_rules(scheme_registry, five_points) -> None:
    with pytest.raises(ValueError, match="register the scheme 'test5' first"):
        register_correspondence(five_points, IBUG68, [(0, 36), (1, 45)])
    register_scheme(five_points)
    with pytest.raises(ValueError, match="No point correspondence is registered"):
        five_points.correspondence(IBUG68)
    with pytest.raises(ValueError, match=r"closed under mirroring.*\(0, 36\)"):
        register_correspondence(five_points, IBUG68, [(0, 36)])
    with pytest.raises(ValueError, match=r"pairs \(first indices\) must hold"):
        register_correspondence(five_points, IBUG68, [(0, 36), (0, 45)])
    with pytest.raises(ValueError, match="pairs must be"):
        register_correspondence(five_points, IBUG68, [(0,)])
    with pytest.raises(ValueError, match="different schemes"):
        register_correspondence(IBUG68, "ibug68", [])
    register_correspondence(IBUG68, five_points, [(36, 0), (45, 1), (30, 2), (48, 3), (54, 4)])
    mine, theirs = five_points.correspondence("ibug68")
    assert mine.tolist() == [0, 1, 2, 3, 4] and theirs.tolist() == [36, 45, 30, 48, 54]


def test_transfer_copies_shared_points_and_leaves_the_rest_nan(rng) -> None:
    xy = rng.uniform(0, 400, size=(3, 76, 2)).astype(np.float32)
    out = MUCT76.transfer(xy, IBUG68)
    assert out.shape == (3, 68, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, list(SHARED_IBUG)], xy[:, list(SHARED_MUCT)])
    others = np.setdiff1d(np.arange(68), SHARED_IBUG)
    assert np.isnan(out[:, others]).all()
    back = IBUG68.transfer(out, "muct76")
    np.testing.assert_array_equal(back[:, list(SHARED_MUCT)], xy[:, list(SHARED_MUCT)])
    assert np.isnan(back).any(axis=-1).sum() == 3 * (76 - 8)
    single = MUCT76.transfer(xy[0].tolist(), "ibug68")  # (K, 2) lists work, give float64
    assert single.shape == (68, 2) and single.dtype == np.float64
    same = IBUG68.transfer(out, IBUG68)
    np.testing.assert_array_equal(same, out)
    with pytest.raises(ValueError, match=r"transfer expects xy of shape \(\.\.\., 76, 2\)"):
        MUCT76.transfer(np.zeros((2, 68, 2)), IBUG68)


# ---------------------------------------------------------------------- geometry helpers


@pytest.mark.parametrize("scheme", BUILT_IN, ids=lambda s: s.name)
def test_mirror_points_twice_is_identity(scheme: PointScheme, rng) -> None:
    xy = rng.uniform(0, 300, size=(4, scheme.num_points, 2))
    once = scheme.mirror_points(xy, 301)
    np.testing.assert_allclose(once[..., 0], 300 - xy[:, list(scheme.mirror), 0])
    np.testing.assert_allclose(scheme.mirror_points(once, 301), xy)
    with pytest.raises(ValueError, match="mirror_points expects xy of shape"):
        scheme.mirror_points(xy[:, :-1], 301)


def test_eye_and_mouth_centres(five_points) -> None:
    xy = np.array([[10.0, 20.0], [30.0, 20.0], [20.0, 30.0], [12.0, 40.0], [28.0, 44.0]])
    np.testing.assert_allclose(five_points.eye_centers(xy), [[10, 20], [30, 20]])
    np.testing.assert_allclose(five_points.mouth_center(xy[None]), [[20, 42]])
    xy[3] = np.nan
    np.testing.assert_allclose(five_points.mouth_center(xy), [28, 44])
    xy[4] = np.nan
    assert np.isnan(five_points.mouth_center(xy)).all()
    centres = IBUG68.eye_centers(np.tile(np.arange(68.0)[:, None], (1, 2)))
    np.testing.assert_allclose(centres, [[38.5, 38.5], [44.5, 44.5]])
    with pytest.raises(ValueError, match="defines no mouth"):
        dataclasses.replace(five_points, mouth=None).mouth_center(xy)
    with pytest.raises(ValueError, match="defines no eyes"):
        dataclasses.replace(five_points, eyes=None).eye_centers(xy)


def test_similarity_align_undoes_a_similarity(rng) -> None:
    src = rng.normal(size=(20, 2))
    angle, scale, shift = 0.7, 2.5, np.array([30.0, -4.0])
    rot = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    dst = src @ rot * scale + shift
    np.testing.assert_allclose(similarity_align(src, dst), dst, atol=1e-9)
    src[3] = np.nan
    aligned = similarity_align(src, dst)
    assert np.isnan(aligned[3]).all()
    np.testing.assert_allclose(np.delete(aligned, 3, axis=0), np.delete(dst, 3, axis=0))
    # A reflection is not a similarity: the fit of a mirrored shape is not exact.
    assert not np.allclose(similarity_align(dst * [-1, 1], dst), dst, atol=1e-3)
    with pytest.raises(ValueError, match=r"one shape \(K, 2\)"):
        similarity_align(src, dst[:5])


def test_mean_shape_of_moved_copies_is_the_shape(rng) -> None:
    base = rng.normal(size=(12, 2))
    copies = []
    for k in range(6):
        a = 0.3 * k
        rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        copies.append(base @ rot * (1 + k) + k * 10.0)
    mean = mean_shape(np.stack(copies), eye_corners=(0, 1))
    np.testing.assert_allclose(mean[1] - mean[0], [1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(similarity_align(base, mean), mean, atol=1e-9)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        mean_shape(base)
    with pytest.raises(ValueError, match="iterations"):
        mean_shape(np.stack(copies), iterations=0)


# ---------------------------------------------------------------------- real data


@pytest.mark.wild
def test_ibug_mirror_map_holds_on_the_300w_mean_shape(wild) -> None:
    assert wild.scheme == "ibug68" and len(wild) == 2012
    mean = mean_shape(wild.landmarks, eye_corners=IBUG68.eye_corners)
    perm = np.asarray(IBUG68.mirror)
    residual = mirror_residuals(mean, perm, 1.0)
    # Measured: max 0.010 inter-ocular units (mean 0.004).
    assert residual.max() < 0.02
    # Any other map (the standard one with two targets exchanged, 2,278 of them) leaves some
    # point clearly off its mirror image: measured at least 0.052.
    worst_alternative = np.inf
    for a in range(68):
        for b in range(a + 1, 68):
            other = perm.copy()
            other[[a, b]] = other[[b, a]]
            worst_alternative = min(worst_alternative, mirror_residuals(mean, other, 1.0).max())
    assert worst_alternative > 0.04


@pytest.mark.wild
def test_ibug_side_names_match_the_300w_mean_shape(wild) -> None:
    mean = mean_shape(wild.landmarks, eye_corners=IBUG68.eye_corners)
    for i, name in enumerate(IBUG68.point_names):
        if "l" in name.split("_"):
            assert mean[i, 0] < mean[IBUG68.mirror[i], 0] - 0.01, name
    assert mean[Ibug68Point.CHIN, 1] > mean[Ibug68Point.NOSE_TIP, 1] > mean[27, 1]


@pytest.mark.muct
def test_muct_side_names_match_the_muct_mean_shape(muct) -> None:
    frontal = muct.subset(np.flatnonzero(np.array(muct.cameras) == "a"))
    mean = np.nanmean(frontal.landmarks, axis=0)
    for i, name in enumerate(MUCT76.point_names):
        if "l" in name.split("_"):
            assert mean[i, 0] < mean[MUCT76.mirror[i], 0] - 1.0, name
    assert mean[MuctPoint.CHIN, 1] > mean[MuctPoint.NOSE_TIP, 1]
    assert frontal.scheme == "muct76"


def test_docstring_examples_run() -> None:
    result = doctest.testmod(schemes_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
