"""Tests for facelandmarks.scaling: pixel <-> normalised maps, framings and boxes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from facelandmarks.scaling import (
    DEFAULT_PIXEL_OFFSET,
    Framing,
    box_from_points,
    normalized_to_pixels,
    pixels_to_normalized,
)

SEEDS = range(8)


def random_case(seed: int, n: int = 3, p: int = 76) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(n, 2)`` image sizes and ``(n, p, 2)`` pixel points inside those images."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4000, size=(n, 2)).astype(np.float64)
    xy = rng.uniform(-0.5, 1.0, size=(n, p, 2)) * sizes[:, None, :] - 0.5 * rng.random()
    return sizes, xy.astype(np.float32)


def float32_tol(size: np.ndarray) -> np.ndarray:
    """Two float32 ulps of the largest coordinate magnitude an image of ``size`` has."""
    return 2 * np.spacing(np.float32(np.max(size) + 1.0))


def random_box(rng: np.random.Generator) -> tuple[float, float, float, float]:
    x0, y0 = rng.uniform(-100.0, 400.0, size=2)
    w, h = rng.uniform(1.0, 500.0, size=2)
    return (float(x0), float(y0), float(x0 + w), float(y0 + h))


# --------------------------------------------------------------------------- whole images


@pytest.mark.parametrize("seed", SEEDS)
def test_pixels_normalized_round_trip(seed: int) -> None:
    sizes, xy = random_case(seed)
    for size, pts in zip(sizes, xy, strict=True):
        xyn = pixels_to_normalized(pts, size)
        assert xyn.dtype == np.float32 and xyn.shape == pts.shape
        back = normalized_to_pixels(xyn, size)
        assert back.dtype == np.float32 and back.shape == pts.shape
        np.testing.assert_allclose(back, pts, rtol=0, atol=float32_tol(size))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("offset", [0.0, 0.5])
def test_normalized_pixels_round_trip(seed: int, offset: float) -> None:
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 4000, size=2)
    xyn = rng.uniform(-0.2, 1.2, size=(76, 2)).astype(np.float32)
    back = pixels_to_normalized(
        normalized_to_pixels(xyn, size, pixel_offset=offset), size, pixel_offset=offset
    )
    np.testing.assert_allclose(back, xyn, rtol=0, atol=4 * np.spacing(np.float32(1.2)) + 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_per_image_sizes_match_one_call_per_image(seed: int) -> None:
    sizes, xy = random_case(seed, n=4)
    xyn = pixels_to_normalized(xy, sizes)
    assert xyn.shape == xy.shape and xyn.dtype == np.float32
    for i in range(len(sizes)):
        np.testing.assert_array_equal(xyn[i], pixels_to_normalized(xy[i], sizes[i]))
    back = normalized_to_pixels(xyn, sizes)
    for i in range(len(sizes)):
        np.testing.assert_allclose(back[i], xy[i], rtol=0, atol=float32_tol(sizes[i]))
    # Sizes really are applied per image: swapping them changes the result.
    if not np.array_equal(sizes[0], sizes[1]):
        swapped = sizes[[1, 0, 2, 3]]
        assert not np.allclose(pixels_to_normalized(xy, swapped)[0], xyn[0])


def test_one_size_broadcasts_over_images() -> None:
    _, xy = random_case(0, n=3)
    a = pixels_to_normalized(xy, (640, 480))
    b = pixels_to_normalized(xy, np.array([[640, 480]] * 3))
    np.testing.assert_array_equal(a, b)


def test_offset_zero_is_x_over_w() -> None:
    sizes, xy = random_case(1)
    out = pixels_to_normalized(xy, sizes, pixel_offset=0.0)
    expected = (xy.astype(np.float64) / sizes[:, None, :]).astype(np.float32)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(
        normalized_to_pixels(out, sizes, pixel_offset=0.0), xy, rtol=2e-7, atol=1e-5
    )


def test_default_offset_maps_image_edges_to_0_and_1() -> None:
    assert DEFAULT_PIXEL_OFFSET == 0.5
    w, h = 480, 640
    xy = np.array([[-0.5, -0.5], [w - 0.5, h - 0.5], [(w - 1) / 2, (h - 1) / 2], [0.0, 0.0]])
    out = pixels_to_normalized(xy, (w, h))
    np.testing.assert_allclose(out, [[0, 0], [1, 1], [0.5, 0.5], [0.5 / w, 0.5 / h]], atol=1e-7)


def test_nan_stays_nan() -> None:
    xy = np.array([[np.nan, np.nan], [3.0, 4.0]])
    out = pixels_to_normalized(xy, (10, 10))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert np.isnan(normalized_to_pixels(out, (10, 10))[0]).all()


@pytest.mark.parametrize(
    "size", [(0, 10), (10, -1), (np.nan, 5), (np.inf, 5), (10,), (1, 2, 3), np.ones((2, 2))]
)
def test_bad_size_raises(size) -> None:
    xy = np.zeros((3, 5, 2))  # 3 images: a (2, 2) size array does not match
    with pytest.raises(ValueError, match="size"):
        pixels_to_normalized(xy, size)
    with pytest.raises(ValueError, match="size"):
        normalized_to_pixels(xy, size)


@pytest.mark.parametrize("shape", [(5,), (5, 3), (2, 5, 3), (1, 2, 5, 2)])
def test_bad_points_shape_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="xy"):
        pixels_to_normalized(np.zeros(shape), (10, 10))
    with pytest.raises(ValueError, match="xyn"):
        normalized_to_pixels(np.zeros(shape), (10, 10))


# --------------------------------------------------------------------------- framings


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("offset", [0.0, 0.5])
def test_framing_round_trip(seed: int, offset: float) -> None:
    rng = np.random.default_rng(seed)
    framing = Framing(
        random_box(rng), (int(rng.integers(8, 300)), int(rng.integers(8, 300))), pixel_offset=offset
    )
    xy = rng.uniform(-150.0, 950.0, size=(2, 76, 2)).astype(np.float32)
    xyn = framing.to_normalized(xy)
    assert xyn.dtype == np.float32 and xyn.shape == xy.shape
    back = framing.to_pixels(xyn)
    assert back.dtype == np.float32 and back.shape == xy.shape
    np.testing.assert_allclose(back, xy, rtol=0, atol=2e-4)


def test_framing_maps_box_edges_to_0_and_1() -> None:
    framing = Framing((10.0, 20.0, 110.0, 220.0), (64, 64))
    # Edge coordinate e is pixel-centre coordinate e - 0.5.
    corners = np.array([[9.5, 19.5], [109.5, 219.5], [59.5, 119.5]])
    np.testing.assert_allclose(framing.to_normalized(corners), [[0, 0], [1, 1], [0.5, 0.5]])


@pytest.mark.parametrize("offset", [0.0, 0.5])
def test_whole_image_framing_equals_image_normalisation(offset: float) -> None:
    sizes, xy = random_case(2)
    for size, pts in zip(sizes, xy, strict=True):
        framing = Framing.whole_image((int(size[0]), int(size[1])), (224, 224), pixel_offset=offset)
        assert framing.box == (0.0, 0.0, float(size[0]), float(size[1]))
        np.testing.assert_array_equal(
            framing.to_normalized(pts), pixels_to_normalized(pts, size, pixel_offset=offset)
        )
        xyn = pixels_to_normalized(pts, size, pixel_offset=offset)
        np.testing.assert_array_equal(
            framing.to_pixels(xyn), normalized_to_pixels(xyn, size, pixel_offset=offset)
        )


def test_framing_scale() -> None:
    framing = Framing((10, 20, 110, 320), (50, 100))
    assert framing.scale == (2.0, 3.0)
    assert framing.box == (10.0, 20.0, 110.0, 320.0)
    assert all(isinstance(v, float) for v in framing.box)
    assert framing.out_size == (50, 100)


def test_framing_is_frozen() -> None:
    framing = Framing((0, 0, 10, 10), (5, 5))
    with pytest.raises(dataclasses.FrozenInstanceError):
        framing.box = (0, 0, 1, 1)  # type: ignore[misc]


@pytest.mark.parametrize("seed", SEEDS)
def test_center_matrix_agrees_with_to_pixels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    framing = Framing(random_box(rng), (w, h))
    m = framing.center_matrix()
    assert m.shape == (3, 3)
    np.testing.assert_array_equal(m[2], [0.0, 0.0, 1.0])
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    uv1 = np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    mapped = (m @ uv1)[:2].T
    expected = framing.to_pixels(np.stack([(u.ravel() + 0.5) / w, (v.ravel() + 0.5) / h], -1))
    np.testing.assert_allclose(mapped, expected, rtol=0, atol=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_pil_affine_agrees_with_to_pixels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    framing = Framing(random_box(rng), (w, h))
    a, b, c, d, e, f = framing.pil_affine()
    assert b == 0.0 and d == 0.0
    # Output *edge* coordinates, including the crop's own corners.
    ue = np.concatenate([[0.0, float(w)], rng.uniform(0, w, 20)])
    ve = np.concatenate([[0.0, float(h)], rng.uniform(0, h, 20)])
    mapped = np.stack([a * ue + b * ve + c, d * ue + e * ve + f], -1)
    # to_pixels gives pixel-centre coordinates; edge = centre + pixel_offset.
    expected = framing.to_pixels(np.stack([ue / w, ve / h], -1)) + framing.pixel_offset
    np.testing.assert_allclose(mapped, expected, rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    ("box", "out_size"),
    [((4, 6, 34, 36), (10, 10)), ((2, 1, 12, 31), (10, 10)), ((-3, -6, 27, 24), (10, 10))],
)
def test_pil_transform_samples_the_pixels_center_matrix_names(box, out_size) -> None:
    # A real resampling: each source pixel holds its own index, NEAREST copies one of them.
    # Integer boxes with odd integer scales put every crop-pixel centre on a source-pixel
    # centre, so there is no tie to break.
    src_w, src_h = 40, 32
    values = np.arange(src_w * src_h, dtype=np.int32).reshape(src_h, src_w)
    image = Image.fromarray(values, mode="I")
    framing = Framing(box, out_size)
    crop = np.asarray(
        image.transform(
            out_size,
            Image.Transform.AFFINE,
            framing.pil_affine(),
            resample=Image.Resampling.NEAREST,
            fillcolor=-1,
        )
    )
    m = framing.center_matrix()
    for v in range(out_size[1]):
        for u in range(out_size[0]):
            x, y, _ = m @ (u, v, 1.0)
            xi, yi = round(x), round(y)
            assert abs(x - xi) < 1e-9 and abs(y - yi) < 1e-9
            inside = 0 <= xi < src_w and 0 <= yi < src_h
            assert crop[v, u] == (values[yi, xi] if inside else -1), (u, v)


def test_resampling_does_not_depend_on_label_convention() -> None:
    # pixel_offset is how *labels* are normalised; the crop geometry is the same either way.
    a = Framing((3.0, 4.0, 50.0, 70.0), (16, 20), pixel_offset=0.5)
    b = Framing((3.0, 4.0, 50.0, 70.0), (16, 20), pixel_offset=0.0)
    assert a.pil_affine() == b.pil_affine()
    np.testing.assert_array_equal(a.center_matrix(), b.center_matrix())


@pytest.mark.parametrize(
    "box",
    [
        (10, 0, 10, 5),
        (0, 10, 5, 10),
        (10, 0, 5, 5),
        (0, 10, 5, 2),
        (np.nan, 0, 5, 5),
        (0, 0, np.inf, 5),
        (0, -np.inf, 5, 5),
    ],
)
def test_invalid_box_raises(box) -> None:
    with pytest.raises(ValueError, match="box"):
        Framing(box, (8, 8))


@pytest.mark.parametrize("out_size", [(0, 8), (8, 0), (-4, 8), (8, -1)])
def test_invalid_out_size_raises(out_size) -> None:
    with pytest.raises(ValueError, match="out_size"):
        Framing((0, 0, 10, 10), out_size)


@pytest.mark.parametrize("image_size", [(0, 10), (10, 0), (-5, 5)])
def test_whole_image_of_empty_image_raises(image_size) -> None:
    with pytest.raises(ValueError):
        Framing.whole_image(image_size, (8, 8))


# --------------------------------------------------------------------------- boxes


def face_points(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(100, 300, 76), rng.uniform(150, 450, 76)])


def test_box_from_points_margin_zero_is_tight_edge_box() -> None:
    pts = face_points()
    x0, y0, x1, y1 = box_from_points(pts, margin=0.0)
    lo, hi = pts.min(0) + 0.5, pts.max(0) + 0.5
    np.testing.assert_allclose((x0, y0, x1, y1), (*lo, *hi))


@pytest.mark.parametrize("margin", [0.0, 0.1, 0.25, 1.0])
def test_box_from_points_margin(margin: float) -> None:
    pts = face_points(1)
    x0, y0, x1, y1 = box_from_points(pts, margin=margin)
    extent = pts.max(0) - pts.min(0)
    np.testing.assert_allclose((x1 - x0, y1 - y0), extent * (1 + 2 * margin))
    centre = (pts.max(0) + pts.min(0)) / 2 + 0.5
    np.testing.assert_allclose(((x0 + x1) / 2, (y0 + y1) / 2), centre)
    assert all(isinstance(v, float) for v in (x0, y0, x1, y1))


def test_box_from_points_default_margin_is_quarter() -> None:
    pts = face_points(2)
    assert box_from_points(pts) == box_from_points(pts, margin=0.25)


@pytest.mark.parametrize("aspect", [0.5, 0.75, 1.0, 4 / 3, 3.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_box_from_points_aspect(aspect: float, seed: int) -> None:
    pts = face_points(seed)
    free = box_from_points(pts, margin=0.2)
    x0, y0, x1, y1 = box_from_points(pts, margin=0.2, aspect=aspect)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(aspect, rel=1e-12)
    # Grown about the same centre, never shrunk: it still contains the free box.
    assert x0 <= free[0] + 1e-9 and y0 <= free[1] + 1e-9
    assert x1 >= free[2] - 1e-9 and y1 >= free[3] - 1e-9
    np.testing.assert_allclose((x0 + x1, y0 + y1), (free[0] + free[2], free[1] + free[3]))
    # Only one side grows.
    assert (x1 - x0 == pytest.approx(free[2] - free[0])) or (
        y1 - y0 == pytest.approx(free[3] - free[1])
    )


def test_box_from_points_ignores_nan() -> None:
    pts = face_points(3)
    with_nan = pts.copy()
    with_nan[[0, 10, 40]] = np.nan
    with_nan[5, 0] = np.nan  # a half-NaN point is unavailable too
    kept = np.delete(pts, [0, 5, 10, 40], axis=0)
    assert box_from_points(with_nan) == box_from_points(kept)
    assert all(np.isfinite(box_from_points(with_nan, aspect=1.0)))


def test_box_from_points_single_point_gets_minimum_size() -> None:
    pts = np.full((76, 2), np.nan)
    pts[3] = (10.0, 20.0)
    x0, y0, x1, y1 = box_from_points(pts)
    assert (x0, y0, x1, y1) == (9.5, 19.5, 11.5, 21.5)
    assert Framing((x0, y0, x1, y1), (4, 4)).box == (9.5, 19.5, 11.5, 21.5)


def test_box_from_points_gives_a_valid_framing() -> None:
    pts = face_points(4)
    box = box_from_points(pts, aspect=1.0)
    framing = Framing(box, (128, 128))
    xyn = framing.to_normalized(pts)
    assert np.all((xyn > 0) & (xyn < 1))


@pytest.mark.parametrize("pts", [np.full((76, 2), np.nan), np.zeros((0, 2))])
def test_box_from_points_no_finite_point_raises(pts: np.ndarray) -> None:
    with pytest.raises(ValueError, match="finite point"):
        box_from_points(pts)


# Bad aspect/margin used to give silent inf/NaN/inverted boxes.
@pytest.mark.parametrize(
    "kwargs",
    [
        {"aspect": 0.0},
        {"aspect": -1.0},
        {"aspect": float("nan")},
        {"aspect": float("inf")},
        {"margin": float("nan")},
        {"margin": float("inf")},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()),
)
def test_box_from_points_bad_aspect_or_margin_raises(kwargs) -> None:
    with pytest.raises(ValueError, match=r"aspect|margin"):
        box_from_points(face_points(), **kwargs)
