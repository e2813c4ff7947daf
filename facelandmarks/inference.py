"""Landmarks for images: the cascade of stages, test-time flip, and batching over images and faces.

Everything here works from a :class:`~facelandmarks.config.DetectorConfig` and one engine per
stage (see :mod:`facelandmarks.engines`): it knows nothing of files, weights or Keras.

The path of one image through :func:`predict_batch` (coordinate space at each arrow)::

    RGB uint8 (H, W, 3)                                              pixels of the image
      -> stage k frame: the whole image, a given face frame, or a box  (edge coordinates,
         around stage k-1's points (Framing)                            pixels of the image)
      -> crop float32 (h, w, 3) = render_numpy(image, frame)           pixels of the crop
      -> engine -> xyn (P, 2) in [0, 1] of the frame                   normalised frame
         (+ the mirrored crop, un-mirrored and averaged: test-time flip)
      -> Framing.to_pixels -> xy (P, 2)                                pixels of the image

Arrays in and out follow docs/coordinates.md: float32 ``(N, P, 2)``, ``(x, y)`` in pixels of
each image as given, origin top-left, pixel centres at integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facelandmarks import images as fl_images
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.imageops import render_numpy
from facelandmarks.scaling import Framing, box_from_points

Engine = Callable[[np.ndarray], np.ndarray]
"""One stage's forward pass: float32 ``(B, H, W, 3)`` pixels -> float32 ``(B, 2P)`` xyn."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Face:
    """One face found by :meth:`facelandmarks.LandmarkDetector.predict_faces`.

    Attributes:
        box: ``(x0, y0, x1, y1)`` face box, edge coordinates in pixels of the image.
        score: the face detector's score (higher is surer; not a probability), or ``None``
            for a box the caller gave.
        landmarks: float32 ``(P, 2)``: ``(x, y)`` pixels of the image.
    """

    box: Box
    score: float | None
    landmarks: np.ndarray


def stage_framing(
    stage: StageConfig, rgb: np.ndarray, previous_xy: np.ndarray | None, frame: Box | None
) -> Framing:
    """Which part of ``rgb`` stage ``stage`` sees: a :class:`~facelandmarks.scaling.Framing`.

    ``framing="image"`` stages see ``frame`` (edge coordinates) or else the whole image;
    ``framing="points"`` stages a box around the previous stage's points ``previous_xy``
    (float32 ``(P, 2)`` pixels), widened by ``stage.box_margin`` to the stage's aspect.
    """
    if stage.framing == "image" and frame is not None:
        return Framing(frame, stage.out_size, pixel_offset=stage.pixel_offset)
    if stage.framing == "image":
        h, w = rgb.shape[:2]
        return Framing.whole_image((w, h), stage.out_size, pixel_offset=stage.pixel_offset)
    box = box_from_points(
        previous_xy, margin=stage.box_margin, aspect=stage.out_size[0] / stage.out_size[1]
    )
    return Framing(box, stage.out_size, pixel_offset=stage.pixel_offset)


def _unflip(
    xyn: np.ndarray, n: int, framings: list[Framing], stage: StageConfig, mirror: Sequence[int]
) -> np.ndarray:
    """Average the predictions on the ``n`` crops with those on their mirrored copies.

    Flipping the crop mirrors its frame (x0, x1) in the image: pixel centre
    x -> x0 + x1 - 1 - x, i.e. normalised x -> 1 - x - (1 - 2 * offset) / (x1 - x0) (1 - x for
    pixel-centre heads); points are re-indexed by the mirror permutation.
    """
    mirrored = xyn[n:, list(mirror)]
    widths = np.array([f.box[2] - f.box[0] for f in framings], dtype=np.float32)
    mirrored[..., 0] = 1.0 - mirrored[..., 0] - (1.0 - 2.0 * stage.pixel_offset) / widths[:, None]
    return (xyn[:n] + mirrored) / 2


def predict_batch(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Sequence[np.ndarray],
    frames: Sequence[Box | None] | None = None,
) -> np.ndarray:
    """Landmarks for a batch of images through every stage of ``config``.

    Args:
        config: the detector's stages, point count and mirror permutation.
        engines: one engine per stage (``engines[k]`` runs stage ``k``).
        images: uint8 ``(H, W, 3)`` RGB arrays (sizes may differ).
        frames: optional ``(x0, y0, x1, y1)`` edge-coordinate frames, one per image, that
            replace the whole image as the first stage's view (faces in a photo); ``None``
            entries keep the whole image.

    Returns:
        float32 ``(B, P, 2)``: ``(x, y)`` in pixels of each image.
    """
    xy: Any = None
    for k, stage in enumerate(config.stages):
        framings = [
            stage_framing(
                stage, rgb, None if xy is None else xy[i], None if frames is None else frames[i]
            )
            for i, rgb in enumerate(images)
        ]
        batch = np.stack(
            [
                render_numpy(rgb, f.center_matrix(), stage.input_size)
                for rgb, f in zip(images, framings, strict=True)
            ]
        )
        flip = stage.test_time_flip and config.mirror is not None
        if flip:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        xyn = np.asarray(engines[k](batch), dtype=np.float32)
        xyn = xyn.reshape(len(batch), config.num_points, 2)
        if flip:
            xyn = _unflip(xyn, len(images), framings, stage, config.mirror)
        xy = np.stack([f.to_pixels(p) for f, p in zip(framings, xyn, strict=True)])
    return xy.astype(np.float32)


def _batched(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Any,
    find: Callable[[int, str, np.ndarray], list[tuple[Box | None, Any, Any]]],
    batch_size: int,
    verbose: int,
) -> list[list[tuple[Any, Any, np.ndarray]]]:
    """Landmarks of every face ``find(index, name, rgb)`` lists, ``batch_size`` per engine call.

    ``find`` returns ``[(frame, box, score), ...]`` for one image (``frame`` ``None``: the whole
    image). Faces of consecutive images share batches; images stream through (bounded memory).
    Returns one list of ``(box, score, xy)`` per image, in input order.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: {batch_size!r}")
    if isinstance(images, LandmarkDataset):
        images = images.image_paths
    bar = None
    if verbose:
        import keras

        total = fl_images.count_images(images)
        bar = keras.utils.Progbar(total, verbose=verbose, unit_name="image")
    results: list[list[tuple[Any, Any, np.ndarray]]] = []
    pending: list[tuple[int, np.ndarray, Box | None, Any, Any]] = []

    def flush() -> None:
        xy = predict_batch(config, engines, [p[1] for p in pending], [p[2] for p in pending])
        for (i, _, _, box, score), points in zip(pending, xy, strict=True):
            results[i].append((box, score, points))
        pending.clear()

    for i, (name, rgb) in enumerate(fl_images.iter_images(images)):
        results.append([])
        for frame, box, score in find(i, name, rgb):
            pending.append((i, rgb, frame, box, score))
            if len(pending) >= batch_size:
                flush()
        if bar is not None:
            bar.update(i + 1)
    if pending:
        flush()
    return results


def predict_images(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Any,
    *,
    batch_size: int = 32,
    verbose: int = 0,
) -> np.ndarray:
    """:meth:`facelandmarks.LandmarkDetector.predict`: each whole image through the stages.

    Returns:
        float32 ``(N, P, 2)``: ``(x, y)`` in pixels of each input image.

    Raises:
        ValueError: no images, a bad ``batch_size``, or an unreadable image (named).
    """
    whole = [(None, None, None)]
    results = _batched(config, engines, images, lambda *_: whole, batch_size, verbose)
    if not results:
        raise ValueError("predict received no images (an empty sequence).")
    return np.stack([faces[0][2] for faces in results])


def _check_boxes(entry: Any, name: str) -> list[Box]:
    arr = np.asarray(entry, dtype=np.float64) if len(entry) else np.zeros((0, 4))
    if arr.ndim == 1 and arr.shape == (4,):
        arr = arr[None]
    if (
        arr.ndim != 2
        or arr.shape[1] != 4
        or not np.all(np.isfinite(arr))
        or np.any(arr[:, 2] <= arr[:, 0])
        or np.any(arr[:, 3] <= arr[:, 1])
    ):
        raise ValueError(
            f"boxes for {name} must be (x0, y0, x1, y1) with x1 > x0, y1 > y0. "
            f"Received: {np.asarray(entry).tolist()!r}"
        )
    return [tuple(b) for b in arr]


def predict_faces(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Any,
    *,
    boxes: Sequence[Any] | None = None,
    face_detector: str | Any = "default",
    batch_size: int = 32,
    verbose: int = 0,
) -> list[list[Face]]:
    """:meth:`facelandmarks.LandmarkDetector.predict_faces`: detect, frame, predict each face.

    Returns:
        One list of :class:`Face` per image, in input order (detector's order within one).

    Raises:
        ImportError: the detector's optional dependency is missing.
        ValueError: ``boxes`` without one entry per image, a malformed box, a bad
            ``batch_size``.
    """
    from facelandmarks import face_detection

    name_of = face_detector if isinstance(face_detector, str) else None
    calibration = name_of or getattr(face_detector, "name", "default")
    finder = None
    if boxes is None:
        finder = face_detection.get_face_detector(name_of) if name_of else face_detector
    else:
        boxes = list(boxes)

    def find(i: int, name: str, rgb: np.ndarray) -> list[tuple[Box, Box, float | None]]:
        if finder is not None:
            found = [(f.box, float(f.score)) for f in finder.detect(rgb)]
        elif i < len(boxes):
            found = [(b, None) for b in _check_boxes(boxes[i], name)]
        else:
            raise ValueError(
                f"boxes must have one entry per image. Received: {len(boxes)} entries "
                "for more images"
            )
        return [
            (face_detection.frame_from_box(b, calibration), tuple(float(v) for v in b), score)
            for b, score in found
        ]

    results = _batched(config, engines, images, find, batch_size, verbose)
    if boxes is not None and len(results) != len(boxes):
        raise ValueError(
            f"boxes must have one entry per image. Received: {len(boxes)} entries for "
            f"{len(results)} images"
        )
    return [[Face(box, score, xy) for box, score, xy in faces] for faces in results]
