"""Pixel-only augmentation: what each change does to a crop, and what it must leave alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from facelandmarks.training import Augmentation
from facelandmarks.training.augment import pixel_augment

H = W = 64


def _face_points() -> np.ndarray:
    """Normalised points of a face filling the middle of the crop, a few unlabelled."""
    u, v = np.meshgrid(np.linspace(0.35, 0.65, 5), np.linspace(0.35, 0.7, 4))
    pts = np.stack([u.ravel(), v.ravel()], -1).astype(np.float32)
    pts[3] = np.nan
    return pts


def _crop(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(60, 200, (H, W, 3)).astype(np.float32)


def _run(aug: Augmentation, crop: np.ndarray, seed=(3, 4), pts=None) -> np.ndarray:
    pts = _face_points() if pts is None else pts
    out = pixel_augment(tf.constant(crop), tf.constant(pts), aug, tf.constant(seed, tf.int64))
    return out.numpy()


ONLY = {
    name: dataclasses.replace(Augmentation.none(), **{name: 1.0})
    for name in ("blur", "noise", "jpeg", "lowres", "grayscale", "occlusion", "background")
}


@pytest.mark.parametrize("name", sorted(ONLY))
def test_each_change_keeps_the_range_and_the_shape(name: str) -> None:
    out = _run(ONLY[name], _crop())
    assert out.shape == (H, W, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert np.abs(out - _crop()).max() > 1.0, f"{name} at probability 1 changed nothing"


def test_nothing_changes_without_augmentation() -> None:
    np.testing.assert_allclose(_run(Augmentation.none(), _crop()), _crop(), atol=1e-3)


def test_background_keeps_the_face_and_replaces_the_corners() -> None:
    crop = _crop()
    out = _run(ONLY["background"], crop)
    centre = (slice(28, 36), slice(28, 36))
    np.testing.assert_allclose(out[centre], crop[centre], atol=0.5)
    corners = [out[:4, :4], out[:4, -4:], out[-4:, :4], out[-4:, -4:]]
    originals = [crop[:4, :4], crop[:4, -4:], crop[-4:, :4], crop[-4:, -4:]]
    assert all(np.abs(a - b).mean() > 5 for a, b in zip(corners, originals, strict=True))


def test_occlusion_covers_part_of_the_face_box() -> None:
    crop = _crop()
    changed = np.abs(_run(ONLY["occlusion"], crop) - crop).max(axis=-1) > 0.5
    ys, xs = np.nonzero(changed)
    assert changed.mean() > 0.01
    # its centre was drawn inside the points' box
    assert 0.3 * W <= xs.mean() <= 0.7 * W and 0.3 * H <= ys.mean() <= 0.75 * H


def test_grayscale_equalises_the_channels() -> None:
    out = _run(ONLY["grayscale"], _crop())
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-3)


def test_blur_smooths_noise() -> None:
    crop = _crop()
    assert np.std(np.diff(_run(ONLY["blur"], crop), axis=1)) < np.std(np.diff(crop, axis=1))


def test_a_face_without_labelled_points_is_left_alone_by_the_face_aware_changes() -> None:
    crop = _crop()
    pts = np.full((20, 2), np.nan, np.float32)
    for name in ("occlusion", "background"):
        np.testing.assert_allclose(_run(ONLY[name], crop, pts=pts), crop, atol=1e-3)


def test_same_seed_same_result_other_seed_other_result() -> None:
    aug = Augmentation.wild()
    a, b = _run(aug, _crop(), (5, 6)), _run(aug, _crop(), (5, 6))
    np.testing.assert_allclose(a, b, atol=1e-3)
    assert any(np.abs(a - _run(aug, _crop(), (5, s))).max() > 1 for s in range(7, 12))


@pytest.mark.parametrize("field", ["blur", "occlusion", "flip"])
def test_probabilities_outside_0_1_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Augmentation(**{field: 1.5})
    with pytest.raises(ValueError, match="rotation"):
        Augmentation(rotation=-1)
