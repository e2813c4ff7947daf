"""facelandmarks.crop (NumPy + Pillow, inference) matches imageops.render (TensorFlow, training)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from facelandmarks.crop import render_crop
from facelandmarks.framing import Framing

CASES = [
    # (image size (h, w), frame centre, side, angle, out size)
    ((512, 512), (256, 220), 330.0, 0.1, (128, 128)),  # a face, downscaled 2.6x, rolled
    ((480, 640), (600, 40), 300.0, -0.9, (128, 128)),  # half outside the image, rotated
    ((100, 80), (40, 50), 30.0, 0.5, (64, 64)),  # upscaled 2x
    ((2000, 3000), (1500, 900), 1400.0, 2.5, (96, 96)),  # a big photo, almost upside down
    ((8, 8), (4, 4), 16.0, 0.3, (32, 32)),  # a tiny image, frame beyond it
    ((1, 1), (0.5, 0.5), 3.0, 0.0, (16, 16)),  # one pixel
    ((300, 200), (100, 150), 200.0, 0.0, (96, 128)),  # not square
]


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth structure plus noise, so both interpolation and anti-aliasing show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 90 * np.sin(x / 7.0) * np.cos(y / 11.0)
    img = base[..., None] + rng.normal(0, 20, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("size", "centre", "side", "angle", "out"), CASES)
def test_matches_the_training_renderer(size, centre, side, angle, out) -> None:
    from facelandmarks.imageops import render_numpy

    img = _image(*size)
    cx, cy = centre
    half_w, half_h = side / 2, side / 2 * out[1] / out[0]
    f = Framing((cx - half_w, cy - half_h, cx + half_w, cy + half_h), out, angle=angle)
    got = render_crop(img, f)
    want = render_numpy(img, f.center_matrix(), (out[1], out[0]))
    assert got.shape == want.shape == (out[1], out[0], 3) and got.dtype == np.float32
    # both resample in float32: the same pixels to float rounding
    assert np.abs(got - want).max() < 0.05, np.abs(got - want).max()


def test_gray_is_the_luma_of_the_colour_crop() -> None:
    img = _image(200, 300, seed=3)
    f = Framing.square((150, 100), 180, 0.4, (64, 64))
    rgb = render_crop(img, f)
    gray = render_crop(img, f, gray=True)
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.array_equal(gray[..., 0], gray[..., 2])
    # resampling is linear: the luma of the resampled colours is the resampled luma
    np.testing.assert_allclose(gray[..., 0], luma, atol=0.01)


def test_mirrored_image_gives_the_mirrored_crop() -> None:
    img = _image(120, 90, seed=5)
    f = Framing((10.3, 20.7, 70.1, 100.9), (48, 48))
    mirrored_frame = Framing((90 - 70.1, 20.7, 90 - 10.3, 100.9), (48, 48))
    a = render_crop(img, f)
    b = render_crop(np.ascontiguousarray(img[:, ::-1]), mirrored_frame)[:, ::-1]
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_a_point_lands_where_the_framing_says() -> None:
    img = np.zeros((300, 400, 3), np.uint8)
    img[118:123, 248:253] = 255  # a bright 5x5 dot centred on (250, 120)
    f = Framing.square((230.0, 140.0), 120.0, 0.7, (60, 60))
    crop = render_crop(img, f)[..., 0]
    expected = f.to_normalized(np.array([250.0, 120.0])) * 60 - 0.5
    got = np.unravel_index(np.argmax(crop), crop.shape)
    np.testing.assert_allclose([got[1], got[0]], expected, atol=1.0)


def test_importing_crop_does_not_import_tensorflow() -> None:
    code = "import sys, facelandmarks.crop; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("gray", [False, True])
def test_out_receives_the_same_crop(gray: bool) -> None:
    img = _image(120, 160, seed=5)
    f = Framing.square((80, 60), 90, 0.2, (48, 32))
    batch = np.full((2, 32, 48, 3), -7.0, np.float32)
    got = render_crop(img, f, gray=gray, out=batch[1])
    assert got is not None and np.shares_memory(got, batch)
    np.testing.assert_array_equal(batch[1], render_crop(img, f, gray=gray))
    assert (batch[0] == -7.0).all()  # nothing else written
    with pytest.raises(ValueError, match="out must be"):
        render_crop(img, f, out=np.zeros((48, 32, 3), np.float32))
