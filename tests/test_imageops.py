"""render: the one resampler of training and inference."""

from __future__ import annotations

import numpy as np

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
