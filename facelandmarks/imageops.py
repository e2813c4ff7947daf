"""Cutting the model input out of an image in TensorFlow: the renderer of the ``tf.data``
training pipeline. :mod:`facelandmarks.crop` is its NumPy/Pillow twin for ``predict``, held to
the same pixels by ``tests/test_crop.py``.

:func:`render` takes an affine map from the model input to the image (a
:class:`facelandmarks.scaling.Framing`, possibly composed with augmentation) and resamples in
two steps:

1. an anti-aliased resize of the whole image so that one output pixel covers about one resized
   pixel (a plain bilinear warp of a large image would alias). Only the part of the resized
   image that step 2 reaches is computed, from only the pixels under it, on the whole-image
   resize's own sampling grid: the result is the same to float rounding (a test compares it
   with the whole-image resize), and a face crop costs as much as the crop, not the photo;
2. a bilinear affine warp (``ImageProjectiveTransformV3``) of the resized image; pixels outside
   the image repeat the nearest edge pixel (a black fill, which the training photos never
   show, pulled the model's points about 35 px towards it).

For the whole-image framing the warp is the identity, so the result is a plain anti-aliased
resize. Matrices map *output pixel centres* to *input pixel centres* (integer = pixel centre).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def _scale_shift(sx: tf.Tensor, sy: tf.Tensor, tx: tf.Tensor, ty: tf.Tensor) -> tf.Tensor:
    """The 3x3 matrix ``(x, y) -> (sx * x + tx, sy * y + ty)``."""
    return tf.stack(
        [tf.stack([sx, 0.0, tx]), tf.stack([0.0, sy, ty]), tf.constant([0.0, 0.0, 1.0])]
    )


def _downscaled_window(
    image: tf.Tensor, matrix: tf.Tensor, out_size: tuple[int, int]
) -> tuple[tf.Tensor, tf.Tensor]:
    """Step 1 of the module docstring: the window of the anti-aliased, downscaled image that the
    output samples (float32), and ``matrix`` adjusted to map output pixel centres into it."""
    shape = tf.shape(image)
    h = tf.cast(shape[0], tf.float32)
    w = tf.cast(shape[1], tf.float32)
    # Image pixels per output pixel along the image axes; never upsample here.
    rx = tf.maximum(tf.norm(matrix[0, :2]), 1.0)
    ry = tf.maximum(tf.norm(matrix[1, :2]), 1.0)
    new_w = tf.maximum(tf.round(w / rx), 1.0)
    new_h = tf.maximum(tf.round(h / ry), 1.0)
    kx, ky = new_w / w, new_h / h
    # image centre coords -> resized centre coords: x' = (x + 0.5) * k - 0.5
    m = tf.linalg.matmul(_scale_shift(kx, ky, 0.5 * kx - 0.5, 0.5 * ky - 0.5), matrix)
    # The output rectangle in resized coordinates, plus two pixels for the bilinear taps,
    # clipped to the resized image (always at least one pixel, so that pixels outside the
    # image still repeat the nearest edge pixel).
    h_out, w_out = float(out_size[0]), float(out_size[1])
    corners = tf.constant(
        [[-0.5, w_out - 0.5, -0.5, w_out - 0.5], [-0.5, -0.5, h_out - 0.5, h_out - 0.5], [1.0] * 4]
    )
    mapped = tf.linalg.matmul(m, corners)
    j0 = tf.clip_by_value(tf.floor(tf.reduce_min(mapped[0])) - 2.0, 0.0, new_w - 1.0)
    i0 = tf.clip_by_value(tf.floor(tf.reduce_min(mapped[1])) - 2.0, 0.0, new_h - 1.0)
    j1 = tf.clip_by_value(tf.math.ceil(tf.reduce_max(mapped[0])) + 3.0, j0 + 1.0, new_w)
    i1 = tf.clip_by_value(tf.math.ceil(tf.reduce_max(mapped[1])) + 3.0, i0 + 1.0, new_h)
    # The image pixels under those resized pixels' kernels (triangle, radius 1/k image pixels).
    x0 = tf.clip_by_value(tf.floor((j0 + 0.5) / kx - 0.5 - 1.0 / kx) - 1.0, 0.0, w - 1.0)
    y0 = tf.clip_by_value(tf.floor((i0 + 0.5) / ky - 0.5 - 1.0 / ky) - 1.0, 0.0, h - 1.0)
    x1 = tf.clip_by_value(tf.math.ceil((j1 - 0.5) / kx - 0.5 + 1.0 / kx) + 2.0, x0 + 1.0, w)
    y1 = tf.clip_by_value(tf.math.ceil((i1 - 0.5) / ky - 0.5 + 1.0 / ky) + 2.0, y0 + 1.0, h)
    ix0, iy0, ix1, iy1 = (tf.cast(v, tf.int32) for v in (x0, y0, x1, y1))
    window = tf.cast(image[iy0:iy1, ix0:ix1], tf.float32)
    # tf.image.resize(antialias=True) is ScaleAndTranslate with zero translation; the window's
    # translation puts its output on the same grid, offset by (i0, j0).
    resized = tf.raw_ops.ScaleAndTranslate(
        images=window[None],
        size=tf.cast(tf.stack([i1 - i0, j1 - j0]), tf.int32),
        scale=tf.stack([ky, kx]),
        translation=tf.stack([ky * y0 - i0, kx * x0 - j0]),
        kernel_type="triangle",
        antialias=True,
    )[0]
    return resized, tf.linalg.matmul(_scale_shift(1.0, 1.0, -j0, -i0), m)


def render(image: tf.Tensor, matrix: tf.Tensor, out_size: tuple[int, int]) -> tf.Tensor:
    """Resample ``image`` into a model input through an affine map.

    Args:
        image: uint8 or float ``(H, W, 3)`` RGB tensor, values in ``[0, 255]``.
        matrix: float32 ``(3, 3)``: output pixel-centre ``(u, v, 1)`` -> input pixel-centre
            ``(x, y, 1)`` (e.g. :meth:`Framing.center_matrix`, possibly composed with an
            augmentation).
        out_size: ``(height, width)`` of the output.

    Returns:
        float32 ``(height, width, 3)`` tensor with values in ``[0, 255]``.
    """
    matrix = tf.cast(tf.convert_to_tensor(matrix), tf.float32)
    resized, m = _downscaled_window(image, matrix, out_size)
    flat = tf.concat([m[0, :], m[1, :], m[2, :2]], axis=0)[None, :]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=resized[None],
        transforms=flat,
        output_shape=tf.constant([int(out_size[0]), int(out_size[1])], tf.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )[0]
    return tf.clip_by_value(out, 0.0, 255.0)


_render_fn = tf.function(render, reduce_retracing=True)


def render_numpy(image: np.ndarray, matrix: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """:func:`render` on NumPy arrays: uint8 ``(H, W, 3)`` -> float32 ``(height, width, 3)``."""
    return _render_fn(
        tf.convert_to_tensor(image), tf.convert_to_tensor(matrix, tf.float32), tuple(out_size)
    ).numpy()
