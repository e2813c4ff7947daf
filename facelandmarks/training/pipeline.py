"""The training input pipeline (``tf.data``): every sample framed and augmented like inference.

Per image, in a ``tf.data`` map (parallel, deterministic for a seed)::

    path -> decode (uint8, EXIF-upright)                            [optionally cached in RAM]
         -> frame: whole image | box around the ground truth | face ROI (detector or points)
            + random jitter of that frame, as the previous stage or the detector would err
         -> geometry augmentation composed into the same matrix (facelandmarks.framing maths)
         -> imageops.render: the model input, exactly as inference renders it
         -> targets: the same map applied to the points -> frame-normalised (x, y), NaN kept
         -> pixel-only augmentation (colour, blur, noise, JPEG, occlusion, background)

Points that the geometry pushes outside the crop become unavailable (NaN) for that sample: the
sigmoid head cannot represent them, and a clamped target would teach a wrong position.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from facelandmarks._scheme_checks import is_mirror_map
from facelandmarks.config import StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.face_rois import eye_angle, eye_centers
from facelandmarks.framing import crop_to_image_matrix, points_box, rolled_points_frame
from facelandmarks.imageops import render
from facelandmarks.training.augment import augment_matrix, pixel_augment
from facelandmarks.training.options import Augmentation

logger = logging.getLogger(__name__)


def _frame_matrix(
    stage: StageConfig, image: tf.Tensor, points: tf.Tensor, roi: tf.Tensor, seed, jitter: bool
) -> tf.Tensor:
    """Crop -> image matrix of the stage's framing, with training jitter."""
    out_w, out_h = stage.out_size
    if stage.framing == "image":
        shape = tf.shape(image)
        w, h = tf.cast(shape[1], tf.float32), tf.cast(shape[0], tf.float32)
        return crop_to_image_matrix(w / 2, h / 2, w, h, tf.zeros(()), out_w, out_h, xp=tnp)
    js = tf.random.stateless_normal([4], seed)
    if stage.framing == "points" and stage.roll:  # roi[3]: the ground truth's eye-line roll
        angle = roi[3]
        cx, cy, w, h = rolled_points_frame(points, angle, stage.box_margin, out_w / out_h, tnp)
    elif stage.framing == "points":
        box = points_box(points, stage.box_margin, out_w / out_h, xp=tnp)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        w, h, angle = box[2] - box[0], box[3] - box[1], tf.zeros(())
    else:  # "face": a square ROI (cx, cy, side, angle) given per image
        cx, cy, angle = roi[0], roi[1], roi[3]
        w, h = roi[2], roi[2] * (out_h / out_w)
    if jitter and stage.box_jitter > 0:
        cx = cx + js[0] * stage.box_jitter * w
        cy = cy + js[1] * stage.box_jitter * w
        k = tf.exp(js[2] * stage.box_jitter)
        w, h = w * k, h * k
    if jitter and (stage.framing == "face" or stage.roll) and stage.angle_jitter > 0:
        angle = angle + js[3] * stage.angle_jitter * (math.pi / 180.0)
    cx, cy, w, h, angle = (tf.cast(v, tf.float32) for v in (cx, cy, w, h, angle))
    return crop_to_image_matrix(cx, cy, w, h, angle, out_w, out_h, xp=tnp)


def make_example_fn(
    stage: StageConfig,
    *,
    augment: Augmentation | None = None,
    mirror: Sequence[int] | None = None,
    jitter: bool = False,
):
    """The per-example map: ``(uint8 image, (K, 2) points, int64 (2,) seed[, (4,) roi])`` ->
    ``(float32 (H, W, 3) crop in [0, 255], float32 (2K,) normalised targets, NaN = none)``.

    ``roi`` (``cx, cy, side, angle``: a square face frame, centre in edge coordinates, angle in
    radians) is needed by ``"face"`` framing; rolled ``"points"`` framing uses its angle only.
    """
    out_w, out_h = stage.out_size
    offset = float(stage.pixel_offset)
    perm = None if mirror is None else tf.constant(list(mirror), tf.int32)

    def fn(image, points, seed, roi=None):
        points = tf.cast(points, tf.float32)
        if roi is None:
            roi = tf.fill([4], np.float32(np.nan))
        s = tf.random.experimental.stateless_split(seed, 2)
        matrix = _frame_matrix(stage, image, points, tf.cast(roi, tf.float32), s[0], jitter)
        matrix = tf.cast(matrix, tf.float32)
        flip = tf.constant(False)
        photo_seed = s[1]
        if augment is not None:
            a, flip, photo_seed = augment_matrix(
                augment, out_w, out_h, s[1], allow_flip=perm is not None
            )
            matrix = tf.linalg.matmul(matrix, a)
        crop = render(image, matrix, stage.input_size)
        # Points: image centre coords -> output crop centre coords -> normalised.
        inv = tf.linalg.inv(matrix)
        homog = tf.concat([points, tf.ones_like(points[:, :1])], axis=-1)
        q = tf.linalg.matmul(homog, inv, transpose_b=True)[:, :2]
        xyn = (q + offset) / tf.constant([out_w, out_h], tf.float32)
        if perm is not None:
            xyn = tf.where(flip, tf.gather(xyn, perm), xyn)
        inside = tf.reduce_all((xyn >= 0.0) & (xyn <= 1.0), axis=-1, keepdims=True)
        xyn = tf.where(inside, xyn, tf.fill(tf.shape(xyn), np.float32(np.nan)))
        if augment is not None:
            crop = pixel_augment(crop, xyn, augment, photo_seed)
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


def check_image_files(paths: Sequence[str]) -> np.ndarray:
    """Check that every training image opens and is complete; return whether each is decoded
    through Pillow (``bool (N,)``): its EXIF orientation is applied, or its format is one
    TensorFlow cannot decode (TIFF, ...).

    TensorFlow's decoder fails mid-epoch with "jpeg::Uncompress failed" and no file name; this
    reads each header (and the last bytes, where a truncated JPEG or PNG shows) first, so a bad
    file is named before training starts.

    Raises:
        ValueError: naming every unreadable or truncated file (up to 10) and how many there are.
    """
    from facelandmarks.images import exif_orientation

    flags = np.zeros(len(paths), dtype=bool)
    bad: list[str] = []
    for i, p in enumerate(paths):
        try:
            with open(p, "rb") as f:
                head = f.read(8)
                f.seek(-12, 2)
                tail = f.read()
            tf_reads = head.startswith((b"\xff\xd8", b"BM", b"\x89PNG", b"GIF8", b"RIFF"))
            flags[i] = exif_orientation(p) != 1 or not tf_reads
        except (OSError, ValueError) as err:
            bad.append(f"{p} ({err})")
            continue
        if head[:2] == b"\xff\xd8" and b"\xff\xd9" not in tail:
            bad.append(f"{p} (truncated JPEG: no end-of-image marker)")
        elif head == b"\x89PNG\r\n\x1a\n" and b"IEND" not in tail:
            bad.append(f"{p} (truncated PNG: no IEND chunk)")
    if bad:
        shown = "; ".join(bad[:10])
        raise ValueError(
            f"{len(bad)} training image(s) cannot be read: {shown}"
            f"{' ...' if len(bad) > 10 else ''}. Fix or remove them (or load the dataset with "
            "on_error='skip')."
        )
    if flags.any():
        logger.info(
            "%d of %d images carry an EXIF orientation or are not JPEG, PNG, GIF, BMP or "
            "WebP: they are decoded (upright) through Pillow",
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
    mirror: Sequence[int] | None = None,
    targets: np.ndarray | None = None,
    rois: np.ndarray | None = None,
    repeats: np.ndarray | None = None,
    first_epoch: int = 0,
    eyes: tuple[Sequence[int], Sequence[int]] | None = None,
) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(inputs, targets)`` for one stage.

    Args:
        data: images on disk and pixel landmarks.
        stage: the stage whose framing and input size to produce.
        batch_size: images per batch.
        training: shuffle each epoch, jitter frames, apply ``augment``; the dataset is then
            endless (epoch after epoch from ``first_epoch``, each
            :func:`steps_per_epoch` batches), for ``fit(steps_per_epoch=...)``.
        augment: augmentation (training only); ``None`` for none.
        seed: makes shuffling and augmentation deterministic.
        cache: decode every image once, before training, and keep the uint8 pixels in RAM
            (about ``W * H * 3`` bytes per image: 0.9 MB for a MUCT image).
        mirror: the point permutation for flips of ``targets``' layout (``augment.mirror``
            wins when set); flips are off without one.
        targets: float32 ``(N, K, 2)`` pixel targets to use instead of ``data.landmarks`` (e.g.
            several point schemes side by side: :func:`facelandmarks.training.core.union_targets`).
        rois: float32 ``(N, 4)`` face frames ``(cx, cy, side, angle)`` for ``"face"`` framing.
        repeats: int ``(N,)``: times each image appears per epoch (default 1; 0 drops it).
        first_epoch: the epoch a training dataset starts at (when resuming): each epoch's order
            and random draws depend on ``(seed, epoch)`` only.
        eyes: for ``roll=True`` stages: the image-left and image-right eye points in
            ``targets``' layout (:meth:`facelandmarks.config.DetectorConfig.eye_groups`); the
            frame turns to the line between their centres (upright where a face has no eye).

    Returns:
        Dataset of ``(float32 (B, H, W, 3) in [0, 255], float32 (B, 2K) normalised, NaN =
        unavailable)``.

    Raises:
        ValueError: an empty dataset, mismatched arrays, missing ``rois`` for face framing, or
            unreadable image files (all named).
    """
    n = len(data)
    if n == 0:
        raise ValueError("Cannot train on an empty dataset.")
    points = data.landmarks if targets is None else np.asarray(targets, np.float32)
    if points.ndim != 3 or points.shape[0] != n or points.shape[2] != 2:
        raise ValueError(f"targets must be (N={n}, K, 2). Received: shape {points.shape}")
    if stage.framing == "face":
        if rois is None:
            raise ValueError("framing='face' needs rois (N, 4): (cx, cy, side, angle) per image")
        rois = np.asarray(rois, np.float32)
        if rois.shape != (n, 4) or not np.isfinite(rois).all():
            raise ValueError(f"rois must be finite (N={n}, 4). Received: shape {rois.shape}")
    else:
        rois = np.full((n, 4), np.nan, np.float32)
        if stage.roll:
            rois[:, 3] = _eye_roll(points, eyes)
    reps = np.ones(n, np.int64) if repeats is None else np.asarray(repeats, np.int64)
    if reps.shape != (n,) or (reps < 0).any():
        raise ValueError(f"repeats must be (N={n},) counts >= 0. Received: {reps!r}")
    if augment is None or augment.flip <= 0:
        mirror = None
    else:
        mirror = augment.mirror if augment.mirror is not None else mirror
        if mirror is None:
            logger.warning("No mirror permutation for %d points: flips disabled", points.shape[1])
        elif not is_mirror_map(mirror, points.shape[1]):
            raise ValueError(
                f"mirror must be a permutation of 0..{points.shape[1] - 1} that is its own "
                f"inverse (flipped point i is point mirror[i]). Received: {tuple(mirror)}"
            )
    fn = make_example_fn(
        stage, augment=augment if training else None, mirror=mirror, jitter=training
    )
    image_paths = [str(p) for p in data.image_paths]
    oriented = check_image_files(image_paths)
    get_image = _image_source(image_paths, oriented, cache)
    order = np.repeat(np.arange(n, dtype=np.int64), reps)
    total = len(order)
    if total == 0:
        raise ValueError("Cannot train on an empty dataset (every repeat is 0).")
    points_t = tf.constant(points)
    rois_t = tf.constant(rois)

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        # Everything random in an epoch comes from (seed, epoch): a run resumed at epoch k in
        # a new process sees exactly the samples an uninterrupted run would have.
        idx = tf.constant(order)
        if training:
            keys = tf.random.stateless_uniform([total], tf.stack([np.int64(seed), epoch]))
            idx = tf.gather(idx, tf.argsort(keys))
        positions = tf.data.Dataset.from_tensor_slices((idx, tf.range(total, dtype=tf.int64)))
        salt = np.int64(seed) * np.int64(1_000_003)
        return positions.map(
            lambda i, k: fn(
                get_image(i),
                tf.gather(points_t, i),
                tf.stack([salt + epoch, k]),
                tf.gather(rois_t, i),
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        ).batch(batch_size)

    if not training:
        return one_epoch(tf.constant(0, tf.int64)).prefetch(tf.data.AUTOTUNE)
    epochs = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
    return epochs.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)


def _eye_roll(points: np.ndarray, eyes: tuple[Sequence[int], Sequence[int]] | None) -> np.ndarray:
    """float32 ``(N,)``: the roll of each face's eye line (0 where an eye has no point)."""
    if eyes is None:
        raise ValueError("a roll=True stage needs eyes: the eye points of the targets' layout")
    with warnings.catch_warnings():  # a face without an eye: NaN, then 0
        warnings.simplefilter("ignore", RuntimeWarning)
        centres = eye_centers(points, eyes)
    angle = eye_angle(centres[:, 0], centres[:, 1])
    return np.where(np.isfinite(angle), angle, 0.0).astype(np.float32)


def steps_per_epoch(repeats: np.ndarray | int, batch_size: int) -> int:
    """Batches in one epoch of :func:`make_tf_dataset` (the last one may be smaller)."""
    return -(-int(np.sum(repeats)) // batch_size)


def _image_source(paths: list[str], oriented: np.ndarray, cache: bool):
    """``index -> uint8 (H, W, 3)`` for the tf.data map: decoded from disk each time, or (with
    ``cache``) decoded once, in parallel, into RAM before training."""
    paths_t = tf.constant(paths)
    oriented_t = tf.constant(oriented)
    if not cache:
        return lambda i: _decode(tf.gather(paths_t, i), tf.gather(oriented_t, i))
    decoded = tf.data.Dataset.from_tensor_slices((paths, oriented)).map(
        _decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    images = [im.numpy() for im in decoded]
    logger.info(
        "cached %d decoded images in RAM (%.2f GB)",
        len(images),
        sum(im.nbytes for im in images) / 1e9,
    )

    def get(i: tf.Tensor) -> tf.Tensor:
        image = tf.numpy_function(lambda k: images[int(k)], [i], tf.uint8, stateful=False)
        image.set_shape([None, None, 3])
        return image

    return get
