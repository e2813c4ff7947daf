"""Landmarks through a video: follow faces from frame to frame, detect only now and then.

:class:`FaceTracker` (what :meth:`facelandmarks.LandmarkDetector.track` runs) places each face's
crop in the next frame from its landmarks in this one (the model's calibrated
:func:`facelandmarks.face_rois.roi_from_points`, the same frame the face detector's box would
give on average), so the face detector runs only on the first frame, every ``detect_every``
frames (to pick up faces that came in), when a face is lost (its frame left the picture or
collapsed) and when the frames change size. A One Euro filter (Casiez et al., CHI 2012)
smooths the points against jitter while letting fast moves through.

Models without a face stage or a calibration (the whole-image MUCT models) cannot be followed
this way: the tracker then detects on every frame.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from facelandmarks import finding, inference, streaming
from facelandmarks.face_detection.base import iou, is_int, is_number
from facelandmarks.inference import Face, ImageFaces, Placement


class OneEuroFilter:
    """A One Euro low-pass filter over arrays (each element filtered on its own).

    The cut-off frequency rises with speed: ``cutoff = min_cutoff + beta * |dx/dt|``, so a
    still face is smoothed hard and a moving one follows with little lag.

    Args:
        min_cutoff: cut-off frequency at rest, Hz (lower: smoother, more lag).
        beta: how fast the cut-off rises with speed (higher: less lag on fast moves), per
            pixel per second.
        d_cutoff: cut-off for the speed estimate, Hz.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        for name, value in (("min_cutoff", min_cutoff), ("beta", beta), ("d_cutoff", d_cutoff)):
            if not (is_number(value) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0. Received: {value!r}")
        if min_cutoff <= 0 or d_cutoff <= 0:
            raise ValueError(
                "min_cutoff and d_cutoff must be > 0 (Hz). "
                f"Received: min_cutoff={min_cutoff!r}, d_cutoff={d_cutoff!r}"
            )
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, dt: float) -> np.ndarray:
        """Filter one sample taken ``dt`` seconds after the previous one."""
        x = np.asarray(x, np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x.astype(np.float32)
        dx = (x - self._x) / dt
        self._dx = self._dx + self._alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x = self._x + self._alpha(cutoff, dt) * (x - self._x)
        return self._x.astype(np.float32)


class _Track:
    def __init__(self, xy: np.ndarray, box: Any, smoothing: dict | None) -> None:
        self.xy = xy
        self.box = box
        self.filter = None if smoothing is None else OneEuroFilter(**smoothing)


class FaceTracker:
    """Follow faces through frames (see the module docstring).

    Args:
        detector: a :class:`facelandmarks.LandmarkDetector` (its scheme, engines and face
            detector are used).
        detect_every: run the face detector every this many frames even while following
            faces (``None``: only on the first frame and when a face is lost).
        smoothing: ``True`` (One Euro filter with default settings), ``False``/``None`` (raw
            points), or a dict of :class:`OneEuroFilter` arguments.
        fps: frames per second of the video (the filter's time step).
        max_faces: follow at most this many faces (most prominent first: see
            :func:`~facelandmarks.face_detection.prominence`).

    Raises:
        ValueError: a bad argument (named).

    Example:
        >>> tracker = FaceTracker(LandmarkDetector())              # doctest: +SKIP
        >>> for frame in frames:                                    # doctest: +SKIP
        ...     faces = tracker.update(frame).faces
    """

    def __init__(
        self,
        detector: Any,
        *,
        detect_every: int | None = 30,
        smoothing: bool | dict | None = True,
        fps: float = 30.0,
        max_faces: int = 1,
    ) -> None:
        if detect_every is not None and (not is_int(detect_every) or detect_every < 1):
            raise ValueError(f"detect_every must be None or >= 1. Received: {detect_every!r}")
        if not (is_number(fps) and fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number. Received: fps={fps!r}")
        if not is_int(max_faces) or max_faces < 1:
            raise ValueError(f"max_faces must be >= 1. Received: max_faces={max_faces!r}")
        if smoothing is not None and not isinstance(smoothing, (bool, dict)):
            raise ValueError(f"smoothing must be a bool or a dict. Received: {smoothing!r}")
        smoothing = {} if smoothing is True else None if smoothing is False else smoothing
        if smoothing is not None:  # check the settings now
            accepted = list(inspect.signature(OneEuroFilter).parameters)
            if unknown := [key for key in smoothing if key not in accepted]:
                raise ValueError(
                    f"unknown smoothing setting {', '.join(map(repr, unknown))}: the One Euro "
                    f"filter takes {', '.join(accepted)}. Received: smoothing={smoothing!r}"
                )
            OneEuroFilter(**smoothing)
        self.detector = detector
        self.detect_every = detect_every
        self.smoothing = smoothing
        self.dt = 1.0 / float(fps)
        self.max_faces = max_faces
        self.frame_index = 0
        self.detections = 0
        self._tracks: list[_Track] = []
        self._size: tuple[int, int] | None = None

    def update(self, frame: Any) -> ImageFaces:
        """Landmarks of the faces in the next frame.

        Args:
            frame: the next frame (uint8 ``(H, W, 3)`` RGB array, path or PIL image).

        Returns:
            :class:`ImageFaces` for this frame (``index`` counts frames from 0); faces carry
            the detector's score when detected on this frame, ``None`` when followed.
        """
        index = self.frame_index
        self.frame_index += 1
        name = f"<frame #{index}>"
        rgb = streaming.as_rgb(frame, name, copy=False)
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        if size != self._size:  # a resized picture: the last landmarks say nothing of it
            self._tracks, self._size = [], size
            finding.warn_if_tiny(rgb, name)  # once per frame size, not every frame
        det = self.detector
        config, scheme = det.config, det.scheme
        places: list[Placement | None] = [
            inference.tracked_placement(config, scheme, t.xy) for t in self._tracks
        ]
        due = self.detect_every is not None and index % self.detect_every == 0
        if not self._tracks or due or any(p is None for p in places):
            found = finding.detected(*det._detector(), rgb, self.max_faces)
            self.detections += 1
            self._tracks, places = self._match(found), list(found)
        faces: list[Face] = []
        if places:
            xy, frames = inference.predict_batch(
                config, det._engines, [rgb] * len(places), places, scheme
            )
            kept = []
            for track, place, pts, frame_ in zip(self._tracks, places, xy, frames, strict=True):
                box = inference.reported_box(place, frame_, size, config)
                if not _plausible(box, rgb.shape):
                    continue  # lost: the next frame detects again
                track.xy, track.box = pts, box
                shown = pts if track.filter is None else track.filter(pts, self.dt)
                faces.append(Face(box, place.score, shown, scheme))
                kept.append(track)
            self._tracks = kept
        return ImageFaces(index, name, faces, size)

    def _match(self, places: list[Placement]) -> list[_Track]:
        """Tracks for freshly detected faces (most prominent first), each keeping the filter of
        the track it overlaps most, if no face before it took that track."""
        free = list(self._tracks)
        out = []
        for p in places:
            boxes = np.array([t.box for t in free], np.float64).reshape(-1, 4)
            overlap = iou(np.asarray(p.box, np.float64), boxes)
            if overlap.size and overlap.max() > 0.3:
                out.append(free.pop(int(overlap.argmax())))
            else:
                out.append(_Track(np.empty((0, 2), np.float32), p.box, self.smoothing))
        return out


def _plausible(box: Any, shape: tuple[int, ...]) -> bool:
    """Whether a followed face is still in the picture and of a sensible size."""
    h, w = shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    if not (np.isfinite(box).all() and 8 <= bw <= 4 * max(w, h)):
        return False
    inside_w = min(box[2], w) - max(box[0], 0)
    inside_h = min(box[3], h) - max(box[1], 0)
    return inside_w > 0.3 * bw and inside_h > 0.3 * bh
