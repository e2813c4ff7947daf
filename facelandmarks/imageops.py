"""Cutting the model input out of an image, in TensorFlow, for training and inference alike.

One function, :func:`render`, serves ``predict``, ``evaluate`` and the ``tf.data`` training
pipeline, so the pixels a model sees at inference are made exactly as in training. It takes an
affine map from the model input to the image (a :class:`facelandmarks.scaling.Framing`, possibly
composed with augmentation) and resamples in two steps:

1. an anti-aliased resize of the whole image so that one output pixel covers about one resized
   pixel (a plain bilinear warp of a large image would alias);
2. a bilinear affine warp (``ImageProjectiveTransformV3``) of the resized image; pixels outside
   the image repeat the nearest edge pixel. (Black fill was used first: a face box near the top
   of a photo then put a black band into the frame, which the training photos never show, and
   the MUCT-trained model moved all 76 points about 35 px towards it on the sample photo;
   with edge fill the same frame gave 3 px.)

For the whole-image framing the warp is the identity, so the result is a plain anti-aliased
resize. Matrices map *output pixel centres* to *input pixel centres* (integer = pixel centre).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def _resize_to_scale(image: tf.Tensor, matrix: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Anti-aliased downscale of ``image`` by the map's scale; returns (image, adjusted matrix)."""
    shape = tf.shape(image)
    h = tf.cast(shape[0], tf.float32)
    w = tf.cast(shape[1], tf.float32)
    # Image pixels per output pixel along the image axes.
    rx = tf.norm(matrix[0, :2])
    ry = tf.norm(matrix[1, :2])
    new_w = tf.maximum(tf.round(w / tf.maximum(rx, 1.0)), 1.0)
    new_h = tf.maximum(tf.round(h / tf.maximum(ry, 1.0)), 1.0)
    resized = tf.image.resize(
        image, tf.cast(tf.stack([new_h, new_w]), tf.int32), method="bilinear", antialias=True
    )
    kx, ky = new_w / w, new_h / h
    # image centre coords -> resized centre coords: x' = (x + 0.5) * k - 0.5
    to_resized = tf.stack(
        [
            tf.stack([kx, 0.0, 0.5 * kx - 0.5]),
            tf.stack([0.0, ky, 0.5 * ky - 0.5]),
            tf.constant([0.0, 0.0, 1.0]),
        ]
    )
    return resized, tf.linalg.matmul(to_resized, matrix)


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
    image = tf.cast(image, tf.float32)
    matrix = tf.cast(tf.convert_to_tensor(matrix), tf.float32)
    resized, m = _resize_to_scale(image, matrix)
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


_render_fn = tf.function(
    render,
    reduce_retracing=True,
)


def render_numpy(image: np.ndarray, matrix: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """:func:`render` for NumPy callers (``predict``): uint8 ``(H, W, 3)`` -> float32 crop."""
    return _render_fn(
        tf.convert_to_tensor(image), tf.convert_to_tensor(matrix, tf.float32), tuple(out_size)
    ).numpy()
