"""Landmarks for images: where each face's crop comes from, the cascade of stages, and batching.

Everything here works from a :class:`~facelandmarks.config.DetectorConfig` and one engine per
stage (see :mod:`facelandmarks.engines`); it knows nothing of files, weights or Keras, and it
imports no TensorFlow: crops are cut on NumPy and Pillow (:mod:`facelandmarks.crop`).

The path of one face through :func:`predict_batch` (coordinate space at each arrow)::

    RGB uint8 (H, W, 3)                                                  pixels of the image
      -> first frame: a face ROI from the detector's box and eyes, or      (edge coordinates,
         from the previous video frame's landmarks; the detector's box      pixels of the
         widened to the MUCT frame (whole-image models); or the image       image)
      -> crop float32 (h, w, 3) = render_crop(image, frame)               pixels of the crop
      -> engine -> xyn (P_all, 2) in [0, 1] of the frame                   normalised frame
         (+ the mirrored crop, un-mirrored and averaged: test-time flip)
      -> Framing.to_pixels -> xy (P_all, 2), the scheme's head kept       pixels of the image
      -> next stage: a box around those points ...

Arrays in and out follow docs/coordinates.md: float32 ``(N, K, 2)``, ``(x, y)`` in pixels of
each image as given, origin top-left, pixel centres at integers.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.crop import render_crop
from facelandmarks.face_rois import eye_angle, eye_centers, roi_from_box, roi_from_points
from facelandmarks.framing import Framing, box_from_points, rolled_points_frame

logger = logging.getLogger(__name__)

Engine = Callable[[np.ndarray], np.ndarray]
"""One stage's forward pass: float32 ``(B, H, W, 3)`` pixels -> float32 ``(B, 2 P_all)``."""

Box = tuple[float, float, float, float]
EYES = ("right_eye", "left_eye")  # the subject's: on the image's left, then its right


@dataclass(frozen=True)
class Face:
    """One face and its landmarks.

    Attributes:
        box: ``(x0, y0, x1, y1)`` face box, edge coordinates in pixels of the image: the face
            detector's (or the caller's) box; for a face followed by :meth:`track` without
            detection, the box its frame implies.
        score: the face detector's score (0..1 for BlazeFace; higher is surer), or ``None``
            for a box the caller gave or a tracked face.
        landmarks: float32 ``(K, 2)``: ``(x, y)`` pixels of the image, in the scheme ``scheme``.
        scheme: the point scheme of ``landmarks`` (``"muct76"``, ``"ibug68"``, ...).
    """

    box: Box
    score: float | None
    landmarks: np.ndarray
    scheme: str = ""


@dataclass(frozen=True)
class ImageFaces:
    """The result for one input image of :meth:`facelandmarks.LandmarkDetector.iter_faces`.

    Attributes:
        index: position of the image in the input (0-based).
        name: the file path, or ``"<array #i>"`` / ``"<PIL image #i>"``.
        faces: the faces found, most prominent first (``[]``: none, or the image failed).
        size: ``(width, height)`` of the image as used (EXIF-upright), ``None`` if unreadable.
        error: why the image could not be used (``on_error="skip"``), else ``None``.
        image: the decoded uint8 ``(H, W, 3)`` RGB pixels when asked for (``keep_images``), to
            draw on without decoding the file again; else ``None``.
    """

    index: int
    name: str
    faces: list[Face]
    size: tuple[int, int] | None
    error: str | None = None
    image: np.ndarray | None = None


@dataclass(frozen=True)
class Placement:
    """Where a face is, for the first stage's frame: a ``roi`` ``(cx, cy, side, angle)`` (face
    stages), or a detector ``box`` with optional ``eyes`` ``((x, y) image-left, image-right)``
    and the ``detector`` name (whole-image stages frame it with that detector's calibration),
    or neither (the whole image)."""

    box: Box | None = None
    eyes: np.ndarray | None = None
    roi: np.ndarray | None = None
    detector: str = "blazeface"
    score: float | None = None


WHOLE_IMAGE = Placement()


def placement_of(face: Any, detector: str) -> Placement:
    """A :class:`Placement` from a :class:`~facelandmarks.face_detection.FaceBox`."""
    names = tuple(getattr(face, "keypoint_names", ()) or ())
    eyes = None
    if face.keypoints is not None and all(n in names for n in EYES):
        kp = np.asarray(face.keypoints, np.float64)
        eyes = np.stack([kp[names.index(n)] for n in EYES])
    return Placement(tuple(float(v) for v in face.box), eyes, None, detector, float(face.score))


def first_framing(stage: StageConfig, rgb: np.ndarray, where: Placement) -> Framing:
    """The first stage's frame of a face (see :class:`Placement`)."""
    h, w = rgb.shape[:2]
    offset = stage.pixel_offset
    if where.roi is None and where.box is None:
        return Framing.whole_image((w, h), stage.out_size, pixel_offset=offset)
    if stage.framing == "face":
        roi = where.roi
        if roi is None:
            eyes = where.eyes
            roi = roi_from_box(
                np.asarray([where.box]),
                None if eyes is None else eyes[None, 0],
                None if eyes is None else eyes[None, 1],
                scale=stage.face_scale,
                offset=stage.face_offset,
            )[0]
        side = float(roi[2])
        half_h = side * stage.out_size[1] / stage.out_size[0] / 2
        cx, cy = float(roi[0]), float(roi[1])
        box = (cx - side / 2, cy - half_h, cx + side / 2, cy + half_h)
        return Framing(box, stage.out_size, pixel_offset=offset, angle=float(roi[3]))
    from facelandmarks.face_detection import frame_from_box

    if where.box is None:
        raise ValueError("a whole-image stage is framed from a face box, not a face ROI")
    return Framing(frame_from_box(where.box, where.detector), stage.out_size, pixel_offset=offset)


def points_framing(stage: StageConfig, xy: np.ndarray, eyes: Any = None) -> Framing:
    """A ``"points"`` stage's frame around the previous stage's points ``xy`` (pixels,
    ``(K, 2)``), turned to their eye line for ``roll=True`` stages (``eyes``: the scheme's
    eye index groups; upright without them)."""
    aspect = stage.out_size[0] / stage.out_size[1]
    box = box_from_points(xy, margin=stage.box_margin, aspect=aspect)  # checks the points
    angle = 0.0
    if stage.roll and eyes is not None:
        with warnings.catch_warnings():  # an eye without a finite point: NaN, then upright
            warnings.simplefilter("ignore", RuntimeWarning)
            centres = eye_centers(np.asarray(xy, np.float64)[None], eyes)[0]
        angle = float(eye_angle(centres[0], centres[1]))
    if angle and np.isfinite(angle):
        cx, cy, w, h = (float(v) for v in rolled_points_frame(xy, angle, stage.box_margin, aspect))
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    else:
        angle = 0.0
    return Framing(box, stage.out_size, pixel_offset=stage.pixel_offset, angle=angle)


def _unflip(
    xyn: np.ndarray, n: int, framings: list[Framing], stage: StageConfig, mirror: Sequence[int]
) -> np.ndarray:
    """Average the predictions on the ``n`` crops with those on their mirrored copies.

    Flipping a crop mirrors the image about its frame's vertical axis: a pixel centre at ``x``
    (along the frame) goes to ``x0 + x1 - 1 - x``, i.e. normalised
    ``x -> 1 - x - (1 - 2 * offset) / (x1 - x0)`` (``1 - x`` for pixel-centre heads), with
    ``x1 - x0`` the frame's width in image pixels; the points are re-indexed by the mirror
    permutation.
    """
    mirrored = xyn[n:, list(mirror)]
    widths = np.array([f.size[0] for f in framings], dtype=np.float32)
    mirrored[..., 0] = 1.0 - mirrored[..., 0] - (1.0 - 2.0 * stage.pixel_offset) / widths[:, None]
    return (xyn[:n] + mirrored) / 2


def _to_pixels(framings: Sequence[Framing], xyn: np.ndarray) -> np.ndarray:
    """:meth:`Framing.to_pixels` of every face at once: float32 ``(B, K, 2)`` normalised ->
    float32 ``(B, K, 2)`` pixels of each face's image, by one matmul with each frame's
    :meth:`~Framing.pixel_affine` (this runs on the engine's thread between invokes, where a
    dozen small NumPy calls cost about 40 us a batch)."""
    m = np.array([f.pixel_affine() for f in framings], np.float64).reshape(-1, 3, 2)
    xy = np.asarray(xyn, np.float64) @ m[:, :2] + m[:, 2:]
    return xy.astype(np.float32)


class CropBatch:
    """One stage's input batch, filled crop by crop: float32 ``(n, h, w, 3)`` crops in
    ``[0, 255]``, then (test-time flip) their ``n`` mirrored copies. Each crop is cut straight
    into its place (no stacking copy).

    Args:
        config: the detector (its mirror permutation decides the flip).
        stage: the stage whose input this is.
        capacity: the most crops it takes.
    """

    def __init__(self, config: DetectorConfig, stage: StageConfig, capacity: int) -> None:
        self.gray = stage.color == "gray"
        self.flip = stage.test_time_flip and config.mirror is not None
        out_h, out_w = stage.input_size
        self.buf = np.empty(((2 if self.flip else 1) * capacity, out_h, out_w, 3), np.float32)
        self.capacity = capacity
        self.framings: list[Framing] = []

    @property
    def full(self) -> bool:
        return len(self.framings) == self.capacity

    def add(self, rgb: np.ndarray, framing: Framing) -> None:
        """Cut ``framing`` of the uint8 ``(H, W, 3)`` image ``rgb`` into the next place."""
        render_crop(rgb, framing, gray=self.gray, out=self.buf[len(self.framings)])
        self.framings.append(framing)

    def array(self) -> np.ndarray:
        """The engine's input: the crops, then their mirrored copies with test-time flip."""
        n = len(self.framings)
        if not self.flip:
            return self.buf[:n]
        self.buf[n : 2 * n] = self.buf[:n, :, ::-1]
        return self.buf[: 2 * n]


def predict_batch(
    config: DetectorConfig,
    engines: Sequence[Engine],
    images: Sequence[np.ndarray],
    placements: Sequence[Placement],
    scheme: str,
    *,
    first: CropBatch | None = None,
    trace: list[tuple[list[Framing], np.ndarray]] | None = None,
) -> tuple[np.ndarray, list[Framing]]:
    """Landmarks of a batch of faces through every stage of ``config``.

    Args:
        config: the detector's stages, heads and mirror permutation.
        engines: one engine per stage (``engines[k]`` runs stage ``k``).
        images: uint8 ``(H, W, 3)`` RGB arrays, one per face (the same array may repeat).
        placements: where each face is (:class:`Placement`).
        scheme: which head's points to return.
        first: the first stage's crops of these faces when already cut
            (:mod:`facelandmarks.streaming` cuts them as the images arrive).
        trace: a list to which each stage appends ``(its frames, its engine's input)``: float32
            ``(B, h, w, 3)`` crops in ``[0, 255]``, ``(2B, h, w, 3)`` with test-time flip (for
            benchmarks and tools that time or feed the stages one by one).

    Returns:
        ``(float32 (B, K, 2) landmarks in pixels of each image, the first stage's frames)``.
    """
    head = config.head_slice(scheme)
    xy: Any = None
    n = len(images)
    if first is None:
        first = CropBatch(config, config.stages[0], n)
        for im, where in zip(images, placements, strict=True):
            first.add(im, first_framing(config.stages[0], im, where))
    crops = first
    eyes = _scheme_eyes(scheme) if any(s.roll for s in config.stages) else None
    for k, stage in enumerate(config.stages):
        if k > 0:
            crops = CropBatch(config, stage, n)
            for im, pts in zip(images, xy, strict=True):
                crops.add(im, points_framing(stage, pts, eyes))
        framings, batch = crops.framings, crops.array()
        if trace is not None:
            trace.append((framings, batch.copy()))
        xyn = np.asarray(engines[k](batch), dtype=np.float32)
        xyn = xyn.reshape(len(batch), config.total_points, 2)
        if crops.flip:
            xyn = _unflip(xyn, n, framings, stage, config.mirror)
        xy = _to_pixels(framings, xyn[:, head])
    return xy.astype(np.float32), first.framings


def _scheme_eyes(scheme: str) -> Any:
    from facelandmarks.schemes import find_scheme

    found = find_scheme(scheme)  # None: a custom head of an unregistered scheme: upright frames
    return None if found is None else found.eyes


def reported_box(
    where: Placement, frame: Framing, size: tuple[int, int], config: DetectorConfig
) -> Box:
    """The box reported with a face: the detector's or caller's; the whole image (``size``:
    width, height) for whole-image framing; for a tracked face (not detected), the box its
    face stage's frame implies (the ROI shrunk by ``face_scale``, axis-aligned)."""
    if where.box is not None:
        return tuple(float(v) for v in where.box)  # type: ignore[return-value]
    if where.roi is None:
        return (0.0, 0.0, float(size[0]), float(size[1]))
    cx, cy = frame.center
    half = frame.size[0] / config.stages[0].face_scale / 2
    return (cx - half, cy - half, cx + half, cy + half)


Finder = Callable[[int, str, np.ndarray], list[Placement]]


def tracked_placement(config: DetectorConfig, scheme: str, xy: np.ndarray) -> Placement | None:
    """Where a face followed in video is in the next frame: its ROI from its last landmarks
    (:func:`facelandmarks.face_rois.roi_from_points` with the model's calibration), or ``None``
    when the model cannot be tracked that way (no face stage or no calibration)."""
    calibration = config.roi_from_points.get(scheme)
    if config.stages[0].framing != "face" or calibration is None:
        return None
    eyes = _scheme_eyes(scheme)
    if eyes is None:
        return None
    roi = roi_from_points(xy[None], eyes, calibration)[0]
    if not np.isfinite(roi).all():
        return None
    return Placement(roi=roi)
