"""Framing: the similarity map between an image and a model's input crop (pure NumPy).

A *frame* is a rectangle in an image, possibly rotated about its centre, that is resampled onto
the model input. Its map, in both directions, is written once here; the functions that build it
take an array namespace ``xp`` so that the same lines run on NumPy arrays (inference) and on
TensorFlow tensors inside ``tf.data`` (training, with ``xp = tensorflow.experimental.numpy``).

Spaces (see docs/coordinates.md):

* image pixels ``xy``: origin top-left, ``y`` down, pixel *centres* at integers; a ``W`` pixel wide
  image spans ``x`` from ``-0.5`` to ``W - 0.5``. Boxes ``(x0, y0, x1, y1)`` are in *edge*
  coordinates (pixel-centre coordinate + 0.5): the whole image is ``(0, 0, W, H)``.
* frame-normalised ``xyn``: ``(0, 0)`` at the frame's top-left corner and ``(1, 1)`` at its
  bottom-right corner, axes along the frame's (rotated) sides: the model head's space.
* crop pixels ``(u, v)``: pixel centres of the model input, ``out_size = (width, height)``.

A frame rotated by ``angle`` (radians) has its x axis along ``(cos angle, sin angle)`` in the
image (``y`` down, so a positive angle turns clockwise on screen). A face whose eye line slopes
down to the right by ``angle`` comes out upright when framed with that angle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Face ROIs (frames from boxes, eyes or landmarks) live in face_rois; importable from here too.
from facelandmarks.face_rois import calibrate_roi_from_points as calibrate_roi_from_points
from facelandmarks.face_rois import eye_angle as eye_angle
from facelandmarks.face_rois import eye_centers as eye_centers
from facelandmarks.face_rois import roi_from_box as roi_from_box
from facelandmarks.face_rois import roi_from_points as roi_from_points

DEFAULT_PIXEL_OFFSET = 0.5
"""Edge coordinate minus pixel-centre coordinate: 0.5 for the pixel-centre convention."""


# --------------------------------------------------------------------------- the maths, once
def crop_to_image_affine(
    cx: Any, cy: Any, w: Any, h: Any, angle: Any, out_w: int, out_h: int, xp: Any = np
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """The top two rows ``(a, b, c, d, e, f)`` of :func:`crop_to_image_matrix`: image pixel
    centre ``x = a*u + b*v + c``, ``y = d*u + e*v + f`` for crop pixel centre ``(u, v)``
    (same arguments; ``xp=math`` gives Python floats)."""
    c, s = xp.cos(angle), xp.sin(angle)
    sx, sy = w / out_w, h / out_h
    # crop centre u -> frame-local edge coordinate lx = (u + 0.5) * sx - w / 2 (same for y);
    # image edge = centre + R @ local; image pixel centre = image edge - 0.5.
    lx0 = 0.5 * sx - 0.5 * w
    ly0 = 0.5 * sy - 0.5 * h
    x_at_0, y_at_0 = cx + c * lx0 - s * ly0 - 0.5, cy + s * lx0 + c * ly0 - 0.5
    return (c * sx, -s * sy, x_at_0, s * sx, c * sy, y_at_0)


def crop_to_image_matrix(
    cx: Any, cy: Any, w: Any, h: Any, angle: Any, out_w: int, out_h: int, xp: Any = np
) -> Any:
    """3x3 matrix mapping crop pixel centres ``(u, v, 1)`` to image pixel centres ``(x, y, 1)``.

    Args:
        cx, cy: frame centre in image *edge* coordinates.
        w, h: frame width and height in image pixels.
        angle: frame rotation in radians (see the module docstring).
        out_w, out_h: crop size in pixels.
        xp: array namespace (``numpy``, or ``tensorflow.experimental.numpy`` for tensors).

    Returns:
        float ``(3, 3)`` array of ``xp``: the form projective-transform ops expect (they sample
        the input at ``M @ (u, v, 1)`` for output pixel ``(u, v)``).
    """
    a, b, c, d, e, f = crop_to_image_affine(cx, cy, w, h, angle, out_w, out_h, xp)
    zero, one = xp.zeros_like(a), xp.ones_like(a)
    return xp.stack([xp.stack([a, b, c]), xp.stack([d, e, f]), xp.stack([zero, zero, one])])


def pil_affine_of(
    a: float, b: float, c: float, d: float, e: float, f: float
) -> tuple[float, float, float, float, float, float]:
    """``PIL.Image.transform`` ``AFFINE`` data for the pixel-centre affine ``(a, b, c, d, e,
    f)`` of :func:`crop_to_image_affine` (output -> input): PIL maps edge coordinates, and
    edge = centre + 0.5 on both sides."""
    return (a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e))


def image_to_frame(
    xy: Any, cx: Any, cy: Any, w: Any, h: Any, angle: Any, pixel_offset: float, xp: Any = np
) -> Any:
    """Image pixel coordinates ``(..., 2)`` -> frame-normalised coordinates (``xp`` arrays)."""
    c, s = xp.cos(angle), xp.sin(angle)
    dx = xy[..., 0] + pixel_offset - cx
    dy = xy[..., 1] + pixel_offset - cy
    return xp.stack([(c * dx + s * dy) / w + 0.5, (-s * dx + c * dy) / h + 0.5], axis=-1)


def points_box(xy: Any, margin: float, aspect: float | None, xp: Any = np) -> Any:
    """Box ``(x0, y0, x1, y1)`` (edge coordinates) around the finite points of ``xy (P, 2)``,
    grown by ``margin`` of the points' extent on every side and then to ``width / height ==
    aspect`` about its centre; at least 2 pixels a side. No validation: see
    :func:`box_from_points`."""
    ok = xp.all(xp.isfinite(xy), axis=-1, keepdims=True)
    inf = xp.asarray(np.inf, dtype=xy.dtype)
    lo = xp.min(xp.where(ok, xy, inf), axis=0) + 0.5
    hi = xp.max(xp.where(ok, xy, -inf), axis=0) + 0.5
    center = (lo + hi) / 2
    half = xp.maximum((hi - lo) / 2 * (1 + 2 * margin), 1.0)
    hw, hh = half[0], half[1]
    if aspect is not None:
        hw = xp.maximum(hw, hh * aspect)
        hh = hw / aspect
    return xp.stack([center[0] - hw, center[1] - hh, center[0] + hw, center[1] + hh])


def rolled_points_frame(
    xy: Any, angle: Any, margin: float, aspect: float | None, xp: Any = np
) -> tuple[Any, Any, Any, Any]:
    """:func:`points_box` in axes turned by ``angle`` (radians): ``(cx, cy, w, h)``, the
    centre in image edge coordinates and the size along the turned axes, of the frame that
    :class:`Framing` rotates by ``angle``. ``angle = 0`` gives ``points_box``'s box."""
    c, s = xp.cos(angle), xp.sin(angle)
    turned = xp.stack([c * xy[..., 0] + s * xy[..., 1], -s * xy[..., 0] + c * xy[..., 1]], -1)
    box = points_box(turned, margin, aspect, xp=xp)
    # the box's centre in turned pixel-centre coordinates, turned back; + 0.5: edge coordinates
    mu, mv = (box[0] + box[2]) / 2 - 0.5, (box[1] + box[3]) / 2 - 0.5
    return c * mu - s * mv + 0.5, s * mu + c * mv + 0.5, box[2] - box[0], box[3] - box[1]


# --------------------------------------------------------------------------- the object
@dataclass(frozen=True)
class Framing:
    """The map between an image and a model input crop.

    Attributes:
        box: ``(x0, y0, x1, y1)`` the frame before rotation, in image edge coordinates (whole
            image: ``(0, 0, W, H)``). May extend beyond the image; outside pixels repeat the
            nearest edge pixel (see :mod:`facelandmarks.imageops`).
        out_size: ``(width, height)`` of the model input in pixels.
        pixel_offset: edge minus pixel-centre coordinate used by the model head's normalised
            space (0.5; the 2019 weights use 0.0, i.e. ``x / W``).
        angle: rotation of the frame about the box centre, radians (0: axis-aligned).
    """

    box: tuple[float, float, float, float]
    out_size: tuple[int, int]
    pixel_offset: float = DEFAULT_PIXEL_OFFSET
    angle: float = 0.0

    def __post_init__(self) -> None:
        try:
            x0, y0, x1, y1 = (float(v) for v in self.box)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"A framing box must be 4 numbers (x0, y0, x1, y1). Received: box={self.box!r}"
            ) from err
        if not np.all(np.isfinite([x0, y0, x1, y1])) or x1 <= x0 or y1 <= y0:
            raise ValueError(
                f"A framing box must be finite (x0, y0, x1, y1) with x1 > x0 and y1 > y0. "
                f"Received: box={self.box}"
            )
        object.__setattr__(self, "box", (x0, y0, x1, y1))
        w, h = (int(v) for v in self.out_size)
        if w <= 0 or h <= 0:
            raise ValueError(
                f"out_size must be positive (width, height). Received: {self.out_size}"
            )
        object.__setattr__(self, "out_size", (w, h))
        if not math.isfinite(float(self.angle)):
            raise ValueError(f"angle must be finite (radians). Received: angle={self.angle!r}")
        object.__setattr__(self, "angle", float(self.angle))

    @classmethod
    def whole_image(
        cls,
        image_size: tuple[int, int],
        out_size: tuple[int, int],
        *,
        pixel_offset: float = DEFAULT_PIXEL_OFFSET,
    ) -> Framing:
        """The framing that maps a whole ``(width, height)`` image onto ``out_size``."""
        w, h = image_size
        return cls((0.0, 0.0, float(w), float(h)), out_size, pixel_offset)

    @classmethod
    def square(
        cls,
        center: Sequence[float],
        side: float,
        angle: float,
        out_size: tuple[int, int],
        *,
        pixel_offset: float = DEFAULT_PIXEL_OFFSET,
    ) -> Framing:
        """A square frame of ``side`` pixels about ``center`` (edge coordinates), rotated."""
        cx, cy = (float(v) for v in center)
        half = float(side) / 2
        return cls((cx - half, cy - half, cx + half, cy + half), out_size, pixel_offset, angle)

    @property
    def center(self) -> tuple[float, float]:
        """Frame centre in image edge coordinates."""
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def size(self) -> tuple[float, float]:
        """``(width, height)`` of the frame in image pixels."""
        x0, y0, x1, y1 = self.box
        return x1 - x0, y1 - y0

    @property
    def scale(self) -> tuple[float, float]:
        """Image pixels per crop pixel, ``(sx, sy)``."""
        w, h = self.size
        return w / self.out_size[0], h / self.out_size[1]

    def _args(self) -> tuple[float, float, float, float, float]:
        return (*self.center, *self.size, self.angle)

    def to_normalized(self, xy: np.ndarray) -> np.ndarray:
        """Image pixel coordinates ``(..., 2)`` -> frame-normalised coordinates (float32)."""
        arr = np.asarray(xy, dtype=np.float64)
        return image_to_frame(arr, *self._args(), self.pixel_offset).astype(np.float32)

    def to_pixels(self, xyn: np.ndarray) -> np.ndarray:
        """Frame-normalised coordinates ``(..., 2)`` -> image pixel coordinates (float32)."""
        m = np.array(self.pixel_affine(), np.float64).reshape(3, 2)
        return (np.asarray(xyn, dtype=np.float64) @ m[:2] + m[2]).astype(np.float32)

    def pixel_affine(self) -> tuple[float, float, float, float, float, float]:
        """The frame -> image map of :meth:`to_pixels`, in Python floats: ``(a, b, c, d, e,
        f)`` with pixel ``x = a*u + c*v + e`` and ``y = b*u + d*v + f`` for frame-normalised
        ``(u, v)``.
        Reshaped to ``(3, 2)`` it is the matrix ``[[a, b], [c, d], [e, f]]`` that
        ``[u, v] @ m[:2] + m[2]`` applies (many frames in one matmul:
        :mod:`facelandmarks.inference`)."""
        (cx, cy), (w, h) = self.center, self.size
        c, s = math.cos(self.angle), math.sin(self.angle)
        # the inverse of image_to_frame: lx = (u - 0.5) * w, ly = (v - 0.5) * h (frame-local,
        # turned by the angle), x = cx + c*lx - s*ly - offset, y = cy + s*lx + c*ly - offset
        off = self.pixel_offset
        ex = cx - 0.5 * (c * w - s * h) - off
        ey = cy - 0.5 * (s * w + c * h) - off
        return (c * w, s * w, -s * h, c * h, ex, ey)

    def center_matrix(self) -> np.ndarray:
        """float64 ``(3, 3)``: crop pixel centre ``(u, v, 1)`` -> image pixel centre, the
        :func:`crop_to_image_matrix` of this frame (e.g. for ``ImageProjectiveTransformV3``)."""
        return crop_to_image_matrix(*self._args(), *self.out_size)

    def pil_affine(self) -> tuple[float, float, float, float, float, float]:
        """Coefficients for ``PIL.Image.transform(out_size, Image.AFFINE, data)``.

        PIL maps an output edge coordinate ``(u, v)`` to the input edge coordinate
        ``(a*u + b*v + c, d*u + e*v + f)``: this framing's inverse map in edge coordinates.
        """
        return pil_affine_of(*crop_to_image_affine(*self._args(), *self.out_size, xp=math))


def box_from_points(
    xy: np.ndarray, *, margin: float = 0.25, aspect: float | None = None
) -> tuple[float, float, float, float]:
    """A box (edge coordinates) around landmarks.

    Args:
        xy: ``(P, 2)`` pixel coordinates; NaN points are ignored.
        margin: fraction of the points' extent added on every side.
        aspect: if given, the box is grown to ``width / height == aspect`` about its centre.

    Returns:
        ``(x0, y0, x1, y1)`` in edge coordinates.

    Raises:
        ValueError: if no point is finite, or ``margin``/``aspect`` are out of range.
    """
    if aspect is not None and not (np.isfinite(aspect) and aspect > 0):
        raise ValueError(
            f"box_from_points expects a positive finite aspect (width / height). "
            f"Received: aspect={aspect!r}"
        )
    if not (np.isfinite(margin) and margin > -0.5):
        raise ValueError(
            f"box_from_points expects a finite margin > -0.5. Received: margin={margin!r}"
        )
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all(axis=1).any():
        raise ValueError("box_from_points needs at least one finite point. Received: all NaN")
    box = points_box(pts, float(margin), None if aspect is None else float(aspect))
    return tuple(float(v) for v in box)  # type: ignore[return-value]
