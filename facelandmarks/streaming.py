"""Images in, faces out, streaming: decoding each image, finding its faces, batching the faces
of consecutive images into engine calls (:func:`facelandmarks.inference.predict_batch`), and the
results image after image. What :meth:`facelandmarks.LandmarkDetector.iter_faces`, ``predict``
and ``predict_faces`` run.

The work before the first model call (decoding, the face detector, the first stage's crops)
runs a batch ahead on a background thread when there is a CPU to spare
(:mod:`facelandmarks._prefetch`), so that it overlaps the landmark model's forward passes.
Each face's crop is cut into its batch as soon as its image is decoded and its faces found,
and the image's pixels are then let go unless something still needs them.
NumPy, Pillow and the engines only: no TensorFlow.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facelandmarks import _prefetch
from facelandmarks import images as fl_images
from facelandmarks.config import DetectorConfig
from facelandmarks.face_detection.base import is_int
from facelandmarks.inference import (
    CropBatch,
    Engine,
    Face,
    Finder,
    ImageFaces,
    Placement,
    first_framing,
    predict_batch,
    reported_box,
)

logger = logging.getLogger(__name__)

FIRST_CHUNK = 8
"""Faces in the first engine call of a prefetched stream (at most ``batch_size``): nothing
overlaps its cutting, so it is small for the model to start early. Each next call takes twice as
many (cut while the one before runs, at about twice its speed), up to ``batch_size``."""

LOOP_CHUNK = 8
"""Faces per engine call of a prefetched stream whose engines all run one face per invoke
(TensorFlow Lite with one thread: :attr:`facelandmarks.lite.LiteModel.batching` ``"loop"``).
Their speed does not depend on the call's size, but the overlap with the cutting thread does:
8 was the best of 4, 8, 16 and 64 (benchmarks/README.md, ``throughput.py``)."""


def as_rgb(item: Any, name: str, *, copy: bool = True) -> np.ndarray:
    """:func:`facelandmarks.images.load_image`, but a uint8 ``(H, W, 3)`` array is used as it is
    when ``copy`` is false (it is only read, during the call): no copy of every frame.

    Returns:
        uint8 ``(H, W, 3)`` RGB.

    Raises:
        as :func:`~facelandmarks.images.load_image`.
    """
    if (
        not copy
        and type(item) is np.ndarray
        and item.dtype == np.uint8
        and item.ndim == 3
        and item.shape[2] == 3
        and item.size
    ):
        return item
    return fl_images.load_image(item, name=name)


@dataclass
class _Image:
    """One input image on its way through :func:`iter_faces`."""

    index: int
    name: str
    rgb: np.ndarray | None  # the decoded pixels, while a later step still needs them
    size: tuple[int, int] | None  # (width, height); None: unreadable
    places: list[Placement]
    error: str | None = None


class _Chunk:
    """One engine batch of the first stage, filled face by face as the images arrive: each
    face's crop is cut as soon as its image is decoded and its faces found (so the crop
    comes from the pixels the face detector saw, even if the caller reuses a frame buffer)."""

    def __init__(self, config: DetectorConfig, size: int) -> None:
        self.stage = config.stages[0]
        self.crops = CropBatch(config, self.stage, size)
        self.faces: list[tuple[_Image, Placement]] = []

    def add(self, image: _Image, where: Placement) -> None:
        rgb = image.rgb
        assert rgb is not None
        self.crops.add(rgb, first_framing(self.stage, rgb, where))
        self.faces.append((image, where))


def _steps(
    config: DetectorConfig,
    images: Any,
    find: Finder,
    on_error: str,
    copy: bool,
    first_size: int,
    max_size: int,
    keep_rgb: bool,
) -> Iterator[tuple[list[_Image], _Chunk | None]]:
    """Everything of :func:`iter_faces` before the first model call (decoding, finding the
    faces, cutting the first stage's crops), as ``(the images read since the last step, a
    full chunk)``: the first chunk of ``first_size`` faces, each next one twice as many up to
    ``max_size``; the last step has what is left (a partial chunk, or ``None``). Without
    ``keep_rgb`` an image's pixels are let go as soon as its crops are cut (a folder of
    24-megapixel photos would otherwise hold ``batch_size`` decoded photos, 72 MB each, per
    chunk in flight)."""
    entries: list[_Image] = []
    chunk = _Chunk(config, first_size)
    failure = None
    try:
        for index, name, item in fl_images.iter_items(images):
            try:
                rgb = as_rgb(item, name, copy=copy)
            except (OSError, ValueError, TypeError) as err:
                if on_error == "raise":
                    raise
                logger.warning("skipped %s: %s", name, err)
                entries.append(_Image(index, name, None, None, [], str(err)))
                continue
            size = (int(rgb.shape[1]), int(rgb.shape[0]))
            image = _Image(index, name, rgb, size, find(index, name, rgb))
            entries.append(image)
            for where in image.places:
                chunk.add(image, where)
                if chunk.crops.full:
                    yield entries, chunk
                    entries, chunk = [], _Chunk(config, min(2 * chunk.crops.capacity, max_size))
            if not keep_rgb:
                image.rgb = None
    except Exception as err:  # the images read before it are done first
        failure = err
    if entries or chunk.faces:
        yield entries, (chunk if chunk.faces else None)
    if failure is not None:
        raise failure


def iter_faces(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Any,
    find: Finder,
    *,
    scheme: str,
    batch_size: int = 32,
    on_error: str = "raise",
    keep_images: bool = False,
    verbose: int = 0,
    prefetch: bool | None = None,
) -> Iterator[ImageFaces]:
    """Landmarks of every face ``find(index, name, rgb)`` places, image after image.

    Faces of consecutive images share engine calls (up to ``batch_size`` faces); images
    stream through, so memory stays bounded. See
    :meth:`facelandmarks.LandmarkDetector.iter_faces` for the arguments (with ``prefetch``,
    ``find`` runs on the background thread of :mod:`facelandmarks._prefetch`).

    Raises:
        ValueError: a bad ``batch_size``, ``on_error`` or ``prefetch`` (at the call); with
            ``on_error="raise"``, an unreadable image (named, when the stream reaches it).
    """
    if not is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: {batch_size!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'. Received: on_error={on_error!r}")
    if prefetch is not None and not isinstance(prefetch, bool):
        raise ValueError(f"prefetch must be True, False or None. Received: prefetch={prefetch!r}")
    # checked at the call (a generator would check at the first next()); the stream is lazy
    return _stream(
        config, engines, images, find, scheme, batch_size, on_error, keep_images, verbose, prefetch
    )


def _stream(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Any,
    find: Finder,
    scheme: str,
    batch_size: int,
    on_error: str,
    keep_images: bool,
    verbose: int,
    prefetch: bool | None,
) -> Iterator[ImageFaces]:
    """:func:`iter_faces`, its arguments checked."""
    try:
        count = fl_images.count_images(images)
    except TypeError:  # raised again, with its usual message, when the images are iterated
        count = None
    bar = None
    if verbose:
        import keras

        bar = keras.utils.Progbar(count, verbose=verbose, unit_name="image")
    if prefetch is None:
        prefetch = count not in (0, 1) and _prefetch.worth_a_thread()
    # A later stage crops each image again after the first stage has run (and keep_images
    # returns it): keep its pixels, copied if the caller's iterator (a video reader reusing its
    # frame buffer) may have moved on by then.
    keep_rgb = keep_images or len(config.stages) > 1
    copy = keep_images or (len(config.stages) > 1 and (prefetch or count is None))
    max_size = batch_size
    if prefetch and all(getattr(e, "batching", None) == "loop" for e in engines):
        max_size = min(batch_size, LOOP_CHUNK)  # the same invokes, a finer overlap
    first_size = min(max_size, FIRST_CHUNK) if prefetch else batch_size
    steps = _steps(config, images, find, on_error, copy, first_size, max_size, keep_rgb)
    if prefetch:
        steps = _prefetch.prefetch(steps)
    pending: deque[_Image] = deque()
    faces: dict[int, list[Face]] = {}
    try:
        for entries, chunk in steps:
            for image in entries:
                pending.append(image)
                faces[image.index] = []
            if chunk is not None:
                places = [p for _, p in chunk.faces]
                # the pixels, for a later stage's crops (kept for those: keep_rgb)
                rgbs: list[Any] = [q.rgb for q, _ in chunk.faces]
                xy, frames = predict_batch(config, engines, rgbs, places, scheme, first=chunk.crops)
                for (q, p), pts, frame in zip(chunk.faces, xy, frames, strict=True):
                    box = reported_box(p, frame, q.size, config)  # type: ignore[arg-type]
                    faces[q.index].append(Face(box, p.score, pts, scheme))
            # an image is done once all its faces are (they may span two chunks)
            while pending and len(faces[pending[0].index]) == len(pending[0].places):
                done = pending.popleft()
                image = done.rgb if keep_images else None
                yield ImageFaces(
                    done.index, done.name, faces.pop(done.index), done.size, done.error, image
                )
                if bar is not None:
                    bar.add(1)
    finally:
        steps.close()  # type: ignore[attr-defined]


def main_landmarks(results: Iterable[ImageFaces], num_points: int) -> np.ndarray:
    """float32 ``(N, K, 2)``: the first (most prominent) face's landmarks of each result, pixels
    of its image; a row of NaN where no face was found or the image failed; ``(0, K, 2)`` for
    no result."""
    missing = np.full((num_points, 2), np.nan, np.float32)
    rows = [result.faces[0].landmarks if result.faces else missing for result in results]
    if not rows:
        return np.zeros((0, num_points, 2), np.float32)
    return np.stack(rows).astype(np.float32)
