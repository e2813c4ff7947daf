"""The training input pipeline (``tf.data``) and augmentation that moves points with pixels.

Per image, in a ``tf.data`` map (parallel, deterministic for a seed)::

    path -> decode (uint8, full size)                       [optionally cached in RAM]
         -> framing: whole image, or a jittered square box around the ground truth
         -> augmentation: flip / rotate / scale / shift composed into the same affine map
         -> imageops.render: the model input, exactly as predict makes it
         -> targets: the same affine applied to the points -> normalised (x, y), NaN kept

Points that augmentation pushes outside the model frame become unavailable (NaN) for that
sample: the sigmoid head cannot represent them, and a clamped target would teach a wrong
position. With the default ranges this affects well under 1% of MUCT points.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from facelandmarks.config import StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.imageops import render

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Augmentation:
    """Random augmentation applied in training (never at inference).

    Attributes:
        flip: probability of a left-right flip (points re-indexed by ``mirror``).
        rotation: maximum rotation in degrees (uniform in ``[-rotation, rotation]``).
        scale: maximum relative zoom (uniform log-scale in ``[-scale, scale]``).
        shift: maximum shift as a fraction of the frame size (uniform, per axis).
        brightness: maximum additive brightness change, in fractions of 255.
        contrast: maximum relative contrast change.
        saturation: maximum relative saturation change.
        mirror: the point permutation for flips (``None``: no flips, e.g. for a point scheme
            without a known mirror permutation). Defaults to MUCT's.
    """

    flip: float = 0.5
    rotation: float = 10.0
    scale: float = 0.10
    shift: float = 0.05
    brightness: float = 0.15
    contrast: float = 0.2
    saturation: float = 0.2
    mirror: tuple[int, ...] | None = None

    @classmethod
    def none(cls) -> Augmentation:
        return cls(
            flip=0.0,
            rotation=0.0,
            scale=0.0,
            shift=0.0,
            brightness=0.0,
            contrast=0.0,
            saturation=0.0,
        )


def _center_matrix(box: tf.Tensor, out_w: int, out_h: int) -> tf.Tensor:
    """TF version of Framing.center_matrix for a box (x0, y0, x1, y1) in edge coordinates."""
    sx = (box[2] - box[0]) / out_w
    sy = (box[3] - box[1]) / out_h
    return tf.stack(
        [
            tf.stack([sx, 0.0, box[0] + 0.5 * sx - 0.5]),
            tf.stack([0.0, sy, box[1] + 0.5 * sy - 0.5]),
            tf.constant([0.0, 0.0, 1.0]),
        ]
    )


def points_box(points: tf.Tensor, margin: float, aspect: float) -> tf.Tensor:
    """Box (edge coords) around the finite points, grown by ``margin`` and to ``aspect`` (w/h).

    Same rule as :func:`facelandmarks.scaling.box_from_points`.
    """
    ok = tf.reduce_all(tf.math.is_finite(points), axis=-1)
    pts = tf.boolean_mask(points, ok)
    lo = tf.reduce_min(pts, axis=0) + 0.5
    hi = tf.reduce_max(pts, axis=0) + 0.5
    center = (lo + hi) / 2
    half = tf.maximum((hi - lo) / 2 * (1 + 2 * margin), 1.0)
    hw = tf.maximum(half[0], half[1] * aspect)
    hh = hw / aspect
    return tf.stack([center[0] - hw, center[1] - hh, center[0] + hw, center[1] + hh])


def _augment_matrix(aug: Augmentation, out_w: int, out_h: int, seed: tf.Tensor, allow_flip: bool):
    """Random map from output crop centre coords to un-augmented crop centre coords."""
    s = tf.random.experimental.stateless_split(seed, 6)
    u = lambda i, lo, hi: tf.random.stateless_uniform([], s[i], lo, hi)  # noqa: E731
    theta = u(0, -aug.rotation, aug.rotation + 1e-9) * (math.pi / 180.0)
    zoom = tf.exp(u(1, -aug.scale, aug.scale + 1e-9))
    tx = u(2, -aug.shift, aug.shift + 1e-9) * out_w
    ty = u(3, -aug.shift, aug.shift + 1e-9) * out_h
    flip = tf.logical_and(u(4, 0.0, 1.0) < aug.flip, allow_flip)
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


def _photometric(image: tf.Tensor, aug: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    s = tf.random.experimental.stateless_split(seed, 3)
    x = image / 255.0
    if aug.saturation > 0:
        gray = tf.reduce_mean(x, axis=-1, keepdims=True)
        k = tf.random.stateless_uniform([], s[0], 1 - aug.saturation, 1 + aug.saturation)
        x = gray + (x - gray) * k
    if aug.contrast > 0:
        mean = tf.reduce_mean(x)
        k = tf.random.stateless_uniform([], s[1], 1 - aug.contrast, 1 + aug.contrast)
        x = mean + (x - mean) * k
    if aug.brightness > 0:
        x = x + tf.random.stateless_uniform([], s[2], -aug.brightness, aug.brightness)
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def make_example_fn(
    stage: StageConfig,
    *,
    augment: Augmentation | None,
    mirror: tuple[int, ...] | None,
    jitter: bool,
):
    """Build the per-example function ``(image uint8, points, seed) -> (input, target)``.

    ``points`` are float32 ``(P, 2)`` pixel coordinates of the decoded image (NaN =
    unavailable); the target is float32 ``(2P,)`` interleaved normalised coordinates of the
    model input frame, NaN where unavailable or pushed out of the frame.
    """
    out_w, out_h = stage.out_size
    aspect = out_w / out_h
    offset = stage.pixel_offset
    perm = None if mirror is None else tf.constant(mirror, tf.int32)

    def fn(image, points, seed):
        shape = tf.shape(image)
        w = tf.cast(shape[1], tf.float32)
        h = tf.cast(shape[0], tf.float32)
        if stage.framing == "image":
            box = tf.stack([0.0, 0.0, w, h])
        else:
            box = points_box(points, stage.box_margin, aspect)
            if jitter and stage.box_jitter > 0:
                js = tf.random.stateless_normal([3], seed, stddev=stage.box_jitter)
                size = box[2] - box[0]
                center = (box[:2] + box[2:]) / 2 + js[:2] * size
                half = (box[2:] - box[:2]) / 2 * tf.exp(js[2])
                box = tf.concat([center - half, center + half], axis=0)
            seed = tf.random.experimental.stateless_split(seed, 1)[0]
        matrix = _center_matrix(box, out_w, out_h)
        flip = tf.constant(False)
        photo_seed = seed
        if augment is not None:
            a, flip, photo_seed = _augment_matrix(
                augment, out_w, out_h, seed, allow_flip=perm is not None
            )
            matrix = tf.linalg.matmul(matrix, a)
        crop = render(image, matrix, stage.input_size)
        if augment is not None:
            crop = _photometric(crop, augment, photo_seed)
        # Points: image centre coords -> output crop centre coords -> normalised.
        inv = tf.linalg.inv(matrix)
        homog = tf.concat([points, tf.ones_like(points[:, :1])], axis=-1)
        q = tf.linalg.matmul(homog, inv, transpose_b=True)[:, :2]
        xyn = (q + offset) / tf.constant([out_w, out_h], tf.float32)
        if perm is not None:
            xyn = tf.where(flip, tf.gather(xyn, perm), xyn)
        inside = tf.reduce_all((xyn >= 0.0) & (xyn <= 1.0), axis=-1, keepdims=True)
        xyn = tf.where(inside, xyn, tf.fill(tf.shape(xyn), np.float32(np.nan)))
        return crop, tf.reshape(xyn, [-1])

    return fn


def _decode(path: tf.Tensor, oriented: tf.Tensor) -> tf.Tensor:
    """uint8 ``(H, W, 3)`` RGB in the frame :func:`facelandmarks.images.load_image` gives.

    Files stored upright go through TensorFlow's decoder; files with an EXIF orientation other
    than 1 (which ``tf.io.decode_image`` ignores) through ``load_image``, which applies it.
    """

    def via_pil(p: bytes) -> np.ndarray:
        from facelandmarks.images import load_image

        return load_image(p.decode("utf-8"))

    def upright() -> tf.Tensor:
        return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)

    def rotated() -> tf.Tensor:
        image = tf.numpy_function(via_pil, [path], tf.uint8, stateful=False)
        image.set_shape([None, None, 3])
        return image

    return tf.cond(oriented, rotated, upright)


def _orientations(paths: Sequence[str]) -> np.ndarray:
    """Whether each file needs its EXIF orientation applied (one header read per file)."""
    from facelandmarks.images import exif_orientation

    flags = np.array([exif_orientation(p) != 1 for p in paths], dtype=bool)
    if flags.any():
        logger.info(
            "%d of %d images carry an EXIF orientation; they are decoded upright through PIL",
            int(flags.sum()),
            len(paths),
        )
    return flags


def make_tf_dataset(
    data: LandmarkDataset,
    stage: StageConfig,
    *,
    batch_size: int,
    training: bool,
    augment: Augmentation | None = None,
    seed: int = 0,
    cache: bool = False,
    mirror: tuple[int, ...] | None = None,
) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(inputs, targets)`` for one stage.

    Args:
        data: images on disk and pixel landmarks.
        stage: the stage whose framing and input size to produce.
        batch_size: images per batch.
        training: shuffle each epoch, jitter boxes, apply ``augment``.
        augment: augmentation (training only); ``None`` for none.
        seed: makes shuffling and augmentation deterministic.
        mirror: the point permutation for flips when ``augment.mirror`` is not set (MUCT's
            for 76 points when neither is given).
        cache: keep decoded uint8 images in RAM after the first epoch (about
            ``W * H * 3`` bytes per image: 0.9 MB for a MUCT image).

    Returns:
        Dataset of ``(float32 (B, H, W, 3) in [0, 255], float32 (B, 2P) normalised, NaN =
        unavailable)``.

    Notes:
        Images are decoded in the frame :func:`facelandmarks.images.load_image` returns, EXIF
        orientation applied, as ``predict`` and ``evaluate`` see them: landmarks are pixels of
        the image as a viewer shows it (docs/coordinates.md).
    """
    n = len(data)
    if n == 0:
        raise ValueError("Cannot train on an empty dataset.")
    if augment is None or augment.flip <= 0:
        mirror = None
    else:
        mirror = augment.mirror if augment.mirror is not None else mirror
        if mirror is None and data.num_points == 76:
            from facelandmarks.points import MIRROR_PERMUTATION

            mirror = MIRROR_PERMUTATION
        if mirror is None:
            logger.warning("No mirror permutation for %d points: flips disabled", data.num_points)
    fn = make_example_fn(
        stage, augment=augment if training else None, mirror=mirror, jitter=training
    )
    image_paths = [str(p) for p in data.image_paths]
    paths = tf.data.Dataset.from_tensor_slices(
        (image_paths, _orientations(image_paths), data.landmarks, np.arange(n, dtype=np.int64))
    )
    images = paths.map(
        lambda p, o, lm, i: (_decode(p, o), lm, i),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if cache:
        images = images.cache()
    if training:
        images = images.shuffle(min(n, 4096), seed=seed, reshuffle_each_iteration=True)
    epoch_seed = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    zipped = tf.data.Dataset.zip((images, epoch_seed))
    ds = zipped.map(
        lambda item, s: fn(item[0], item[1], tf.stack([s[0], item[2]])),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
