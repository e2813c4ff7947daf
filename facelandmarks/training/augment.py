"""Training augmentation: geometry that moves points with pixels, and pixel-only changes.

Geometry (flip, rotation, zoom, shift) is one 3x3 matrix composed with the framing, so the crop
is resampled once and the targets go through the same map. Pixel-only changes run on the
rendered crop (float32 ``(H, W, 3)`` in ``[0, 255]``) and leave the targets alone: colour,
low resolution, blur, noise, JPEG, grey, synthetic occlusion and background replacement. Every
random draw is stateless, from the per-example seed, so a run is reproducible for a seed.

What paid on in-the-wild faces is measured in docs/training.md.
"""

from __future__ import annotations

import math

import tensorflow as tf

from facelandmarks.training.options import Augmentation


def _uniform(seed: tf.Tensor, lo: float, hi: float, shape=()) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed, lo, hi)


def augment_matrix(
    aug: Augmentation, out_w: int, out_h: int, seed: tf.Tensor, allow_flip: bool
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Random map from output crop pixel centres to un-augmented crop pixel centres.

    Returns:
        ``(matrix (3, 3) float32, flipped (bool scalar), seed for pixel-only changes)``.
    """
    s = tf.random.experimental.stateless_split(seed, 6)
    theta = _uniform(s[0], -aug.rotation, aug.rotation + 1e-9) * (math.pi / 180.0)
    zoom = tf.exp(_uniform(s[1], -aug.scale, aug.scale + 1e-9))
    tx = _uniform(s[2], -aug.shift, aug.shift + 1e-9) * out_w
    ty = _uniform(s[3], -aug.shift, aug.shift + 1e-9) * out_h
    flip = tf.logical_and(_uniform(s[4], 0.0, 1.0) < aug.flip, allow_flip)
    cx, cy = (out_w - 1) / 2.0, (out_h - 1) / 2.0
    c, sn = tf.cos(theta) / zoom, tf.sin(theta) / zoom
    # q_src = R/zoom (q_out - c) + c + t ; then optional flip of the output axis.
    m = tf.stack(
        [
            tf.stack([c, -sn, cx - c * cx + sn * cy + tx]),
            tf.stack([sn, c, cy - sn * cx - c * cy + ty]),
            tf.constant([0.0, 0.0, 1.0]),
        ]
    )
    f = tf.where(
        flip,
        tf.constant([[-1.0, 0.0, out_w - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        tf.eye(3),
    )
    return tf.linalg.matmul(m, f), flip, s[5]


def _texture(seed: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Random clutter: colour noise at a random coarseness plus finer grey noise, [0, 255]."""
    s = tf.random.experimental.stateless_split(seed, 4)
    cells = tf.cast(_uniform(s[0], 2.0, 14.0), tf.int32)
    coarse = tf.random.stateless_uniform(tf.stack([cells, cells, 3]), s[1], 0.0, 255.0)
    coarse = tf.image.resize(coarse, (height, width), method="bilinear")
    fine = tf.random.stateless_normal((height // 4, width // 4, 1), s[2], 0.0, 30.0)
    fine = tf.image.resize(fine, (height, width), method="bilinear")
    return tf.clip_by_value(coarse + fine * _uniform(s[3], 0.0, 1.0), 0.0, 255.0)


def _points_extent(xyn: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(lo, hi, any finite) of the finite normalised points ``(K, 2)``."""
    ok = tf.reduce_all(tf.math.is_finite(xyn), axis=-1, keepdims=True)
    lo = tf.reduce_min(tf.where(ok, xyn, 2.0), axis=0)
    hi = tf.reduce_max(tf.where(ok, xyn, -1.0), axis=0)
    return lo, hi, tf.reduce_any(ok)


def _grid(height: int, width: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Normalised pixel-centre coordinates of the crop, each ``(H, W)``."""
    u = (tf.range(width, dtype=tf.float32) + 0.5) / width
    v = (tf.range(height, dtype=tf.float32) + 0.5) / height
    return tf.meshgrid(u, v)


def _replace_background(crop: tf.Tensor, xyn: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    h, w = crop.shape[0], crop.shape[1]
    lo, hi, ok = _points_extent(xyn)
    s = tf.random.experimental.stateless_split(seed, 2)
    centre = (lo + hi) / 2 - tf.stack([0.0, 0.12 * (hi[1] - lo[1])])  # the forehead is face too
    radii = tf.maximum((hi - lo) / 2 * tf.constant([1.2, 1.4]), 1e-3)
    gu, gv = _grid(h, w)
    d = ((gu - centre[0]) / radii[0]) ** 2 + ((gv - centre[1]) / radii[1]) ** 2
    mask = tf.sigmoid((1.0 - d) * 10.0)[..., None]
    out = mask * crop + (1.0 - mask) * _texture(s[0], h, w)
    return tf.where(ok, out, crop)


def _occlude(crop: tf.Tensor, xyn: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    h, w = crop.shape[0], crop.shape[1]
    lo, hi, ok = _points_extent(xyn)
    s = tf.random.experimental.stateless_split(seed, 5)
    size = _uniform(s[0], 0.15, 0.5, (2,))
    centre = lo + (hi - lo) * _uniform(s[1], 0.0, 1.0, (2,))
    gu, gv = _grid(h, w)
    inside = (tf.abs(gu - centre[0]) < size[0] / 2) & (tf.abs(gv - centre[1]) < size[1] / 2)
    colour = tf.random.stateless_uniform((1, 1, 3), s[2], 0.0, 255.0)
    fill = tf.where(_uniform(s[3], 0.0, 1.0) < 0.5, _texture(s[4], h, w), colour + 0.0 * crop)
    out = tf.where(inside[..., None], fill, crop)
    return tf.where(ok, out, crop)


def _gaussian_blur(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    r = 3
    t = tf.range(-r, r + 1, dtype=tf.float32)
    k = tf.exp(-(t**2) / (2.0 * sigma**2))
    k = k / tf.reduce_sum(k)
    kx = tf.tile(tf.reshape(k, (1, 2 * r + 1, 1, 1)), (1, 1, 3, 1))
    ky = tf.tile(tf.reshape(k, (2 * r + 1, 1, 1, 1)), (1, 1, 3, 1))
    padded = tf.pad(x[None], [[0, 0], [r, r], [r, r], [0, 0]], mode="REFLECT")
    y = tf.nn.depthwise_conv2d(padded, kx, (1, 1, 1, 1), "VALID")
    y = tf.nn.depthwise_conv2d(y, ky, (1, 1, 1, 1), "VALID")
    return y[0]


def _lowres(x: tf.Tensor, factor: tf.Tensor) -> tf.Tensor:
    h, w = x.shape[0], x.shape[1]
    small = tf.cast(tf.round(tf.constant([h, w], tf.float32) * factor), tf.int32)
    small = tf.image.resize(x, tf.maximum(small, 4), method="area")
    return tf.image.resize(small, (h, w), method="bilinear")


def _maybe(p: float, seed: tf.Tensor, fn, x: tf.Tensor) -> tf.Tensor:
    if p <= 0:
        return x
    return tf.cond(_uniform(seed, 0.0, 1.0) < p, lambda: fn(x), lambda: x)


def pixel_augment(crop: tf.Tensor, xyn: tf.Tensor, aug: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    """Pixel-only augmentation of a rendered crop.

    Args:
        crop: float32 ``(H, W, 3)`` in ``[0, 255]`` (static height and width).
        xyn: float32 ``(K, 2)`` targets in the crop's normalised space (NaN = unavailable), used
            to place the background ellipse and the occluder on the face.
        aug: the augmentation.
        seed: int ``(2,)`` stateless seed.

    Returns:
        float32 ``(H, W, 3)`` in ``[0, 255]``.
    """
    s = tf.random.experimental.stateless_split(seed, 17)
    x = crop
    x = _maybe(aug.background, s[0], lambda t: _replace_background(t, xyn, s[1]), x)
    x = _maybe(aug.occlusion, s[2], lambda t: _occlude(t, xyn, s[3]), x)
    x = x / 255.0
    if aug.saturation > 0:
        gray = tf.reduce_mean(x, axis=-1, keepdims=True)
        x = gray + (x - gray) * _uniform(s[4], 1 - aug.saturation, 1 + aug.saturation)
    if aug.contrast > 0:
        mean = tf.reduce_mean(x)
        x = mean + (x - mean) * _uniform(s[5], 1 - aug.contrast, 1 + aug.contrast)
    if aug.brightness > 0:
        x = x + _uniform(s[6], -aug.brightness, aug.brightness)
    x = tf.clip_by_value(x, 0.0, 1.0)
    x = _maybe(aug.grayscale, s[7], lambda t: tf.repeat(tf.reduce_mean(t, -1, True), 3, -1), x)
    x = _maybe(aug.lowres, s[8], lambda t: _lowres(t, _uniform(s[9], 0.25, 0.6)), x)
    x = _maybe(aug.blur, s[10], lambda t: _gaussian_blur(t, _uniform(s[11], 0.4, 1.8)), x)
    x = _maybe(
        aug.noise,
        s[12],
        lambda t: t + tf.random.stateless_normal(tf.shape(t), s[13]) * _uniform(s[14], 2, 12) / 255,
        x,
    )
    x = tf.clip_by_value(x, 0.0, 1.0)
    quality = tf.cast(_uniform(s[16], 25.0, 90.0), tf.int32)
    x = _maybe(aug.jpeg, s[15], lambda t: tf.image.adjust_jpeg_quality(t, quality), x)
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0
