"""render: the one resampler of training and inference."""

from __future__ import annotations

import numpy as np
import pytest

from facelandmarks.imageops import render_numpy
from facelandmarks.scaling import Framing


def _image(h: int = 40, w: int = 30) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_whole_image_at_its_own_size_is_the_image() -> None:
    img = _image()
    f = Framing.whole_image((30, 40), (30, 40))
    out = render_numpy(img, f.center_matrix(), (40, 30))
    assert out.shape == (40, 30, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, img, atol=1e-3)


def test_integer_shift_moves_pixels_exactly() -> None:
    img = _image()
    f = Framing((5.0, 7.0, 25.0, 37.0), (20, 30))  # a 20x30 window, no scaling
    out = render_numpy(img, f.center_matrix(), (30, 20))
    np.testing.assert_allclose(out, img[7:37, 5:25], atol=1e-3)


def test_outside_the_image_repeats_the_edge_not_black() -> None:
    img = _image()
    # 10 px above and 6 px left of the image, no scaling
    f = Framing((-6.0, -10.0, 24.0, 30.0), (30, 40))
    out = render_numpy(img, f.center_matrix(), (40, 30))
    np.testing.assert_allclose(out[10:, 6:], img[:30, :24], atol=1e-3)
    # rows above the image repeat row 0, columns left of it repeat column 0
    np.testing.assert_allclose(out[:10, 6:], np.broadcast_to(img[0, :24], (10, 24, 3)), atol=1e-3)
    np.testing.assert_allclose(out[10:, :6], np.broadcast_to(img[:30, :1], (30, 6, 3)), atol=1e-3)
    np.testing.assert_allclose(out[:10, :6], np.broadcast_to(img[0, 0], (10, 6, 3)), atol=1e-3)


def _whole_image_reference(image: np.ndarray, matrix: np.ndarray, out_size) -> np.ndarray:
    """The plain algorithm render() must equal: anti-aliased resize of the WHOLE image, then
    the bilinear edge-repeating warp. render() computes only the window the warp reaches."""
    import tensorflow as tf

    h, w = image.shape[:2]
    rx = max(float(np.hypot(*matrix[0, :2])), 1.0)
    ry = max(float(np.hypot(*matrix[1, :2])), 1.0)
    nw, nh = max(round(w / rx), 1), max(round(h / ry), 1)
    resized = tf.image.resize(image.astype(np.float32), (nh, nw), antialias=True)
    kx, ky = nw / w, nh / h
    to_resized = np.array([[kx, 0, 0.5 * kx - 0.5], [0, ky, 0.5 * ky - 0.5], [0, 0, 1]])
    m = (to_resized @ matrix).astype(np.float32)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=resized[None],
        transforms=np.concatenate([m[0], m[1], m[2, :2]])[None],
        output_shape=np.array(out_size, np.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )[0]
    return np.clip(out.numpy(), 0, 255)


def _similarity(scale: float, angle_deg: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    c, s = scale * np.cos(a), scale * np.sin(a)
    return np.array([[c, -s, tx], [s, c, ty], [0, 0, 1]], np.float32)


@pytest.mark.parametrize(
    "image_hw, matrix, out_size",
    [
        ((480, 640), _similarity(5.0, 0, 2, 2), (128, 96)),  # whole image, strong downscale
        ((480, 640), _similarity(1.6, 0, 130, 150), (128, 128)),  # a face crop
        ((480, 640), _similarity(1.5, 12, -40, -30), (128, 128)),  # rotated, partly outside
        ((480, 640), _similarity(0.7, -8, 200, 200), (128, 128)),  # upsampling
        ((480, 640), _similarity(1.0, 0, -300, 100), (64, 64)),  # entirely left of the image
        ((480, 640), _similarity(2.3, 30, 700, 520), (50, 70)),  # beyond the bottom right
        ((3000, 2000), _similarity(9.7, 3, 600, 900), (128, 128)),  # a large photo's face
        ((7, 5), _similarity(0.1, 0, 1, 1), (40, 30)),  # a tiny image blown up
    ],
)
def test_render_equals_the_whole_image_resize_then_warp(image_hw, matrix, out_size) -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (*image_hw, 3), dtype=np.uint8)
    got = render_numpy(img, matrix, out_size)
    want = _whole_image_reference(img, matrix.astype(np.float64), out_size)
    assert got.shape == (*out_size, 3)
    # same samples, different float summation order: far below one grey level
    np.testing.assert_allclose(got, want, atol=0.02)
