"""Coordinate spaces and the maps between them (pure NumPy; imports no Keras).

Two spaces are used for landmarks:

* **pixels** (``xy``): ``(x, y)`` in pixels of an image, origin at the top-left corner of the
  image, ``y`` down, the *centre* of pixel ``(i, j)`` at ``x = j, y = i`` (the convention of
  MUCT's ``muct76-opencv.csv`` and OpenCV). A ``W`` pixel wide image spans ``x`` from
  ``-0.5`` to ``W - 0.5``.
* **normalised** (``xyn``): ``(x, y)`` as fractions of a *frame* (a box in the image, or the
  whole image), ``0`` at the frame's left/top edge and ``1`` at its right/bottom edge. This is
  the model head's internal space (its sigmoid outputs).

A :class:`Framing` carries the affine map between an image and the model's input crop, so the
forward map (pixels -> normalised), its inverse, and the resampling matrix that cuts the crop out
of the image are one piece of code. The whole image is the special case ``box = (0, 0, W, H)``.

Boxes are ``(x0, y0, x1, y1)`` in *edge* coordinates: the whole image is ``(0, 0, W, H)``; a
pixel centre ``x`` lies at edge coordinate ``x + 0.5``.

The original 2019 project normalised with ``x / W`` (no half-pixel shift). The difference is
half a pixel; presets trained that way set ``pixel_offset=0.0`` so their outputs are decoded
exactly as they were trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_PIXEL_OFFSET = 0.5
"""Edge coordinate minus pixel-centre coordinate: 0.5 for the pixel-centre convention."""


def _size_array(size: Sequence[float] | np.ndarray, n: int | None, argname: str) -> np.ndarray:
    arr = np.asarray(size, dtype=np.float64)
    if arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[-1] != 2 or (n is not None and arr.shape[0] not in (1, n)):
        raise ValueError(
            f"`{argname}` must be (width, height) or an array of shape (N, 2) with N matching "
            f"the points. Received: shape {np.shape(size)}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"`{argname}` must hold positive finite sizes. Received: {arr.tolist()}")
    return arr


def _points(xy: np.ndarray | Sequence, argname: str) -> tuple[np.ndarray, bool]:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[-1] == 2:
        return arr[None], True
    if arr.ndim == 3 and arr.shape[-1] == 2:
        return arr, False
    raise ValueError(
        f"`{argname}` must have shape (P, 2) or (N, P, 2) with (x, y) last. "
        f"Received: shape {arr.shape}"
    )


def pixels_to_normalized(
    xy: np.ndarray,
    size: Sequence[float] | np.ndarray,
    *,
    pixel_offset: float = DEFAULT_PIXEL_OFFSET,
) -> np.ndarray:
    """Pixel coordinates of whole images -> normalised ``[0, 1]`` coordinates.

    Args:
        xy: ``(N, P, 2)`` or ``(P, 2)`` array of ``(x, y)`` pixel coordinates. NaN stays NaN.
        size: ``(width, height)`` of the image(s) in pixels, or ``(N, 2)`` for one per image.
        pixel_offset: 0.5 (default) for pixel-centre coordinates; 0.0 reproduces ``x / W``.

    Returns:
        float32 array of the same shape as ``xy``: ``(x + offset) / W, (y + offset) / H``.
    """
    arr, single = _points(xy, "xy")
    wh = _size_array(size, arr.shape[0], "size")
    out = (arr + pixel_offset) / wh[:, None, :]
    out = out.astype(np.float32)
    return out[0] if single else out


def normalized_to_pixels(
    xyn: np.ndarray,
    size: Sequence[float] | np.ndarray,
    *,
    pixel_offset: float = DEFAULT_PIXEL_OFFSET,
) -> np.ndarray:
    """Inverse of :func:`pixels_to_normalized`.

    Args:
        xyn: ``(N, P, 2)`` or ``(P, 2)`` normalised coordinates of whole images.
        size: ``(width, height)`` in pixels, or ``(N, 2)``.
        pixel_offset: as in :func:`pixels_to_normalized`.

    Returns:
        float32 array of ``(x, y)`` pixel coordinates, same shape as ``xyn``.
    """
    arr, single = _points(xyn, "xyn")
    wh = _size_array(size, arr.shape[0], "size")
    out = (arr * wh[:, None, :] - pixel_offset).astype(np.float32)
    return out[0] if single else out


@dataclass(frozen=True)
class Framing:
    """The affine map between an image and a model input crop (axis-aligned, no rotation).

    Attributes:
        box: ``(x0, y0, x1, y1)`` frame in the image, in edge coordinates (whole image:
            ``(0, 0, W, H)``). May extend beyond the image; outside pixels repeat the nearest
            edge pixel (see :mod:`facelandmarks.imageops`).
        out_size: ``(width, height)`` of the model input in pixels.
        pixel_offset: edge minus pixel-centre coordinate (see module docstring).
    """

    box: tuple[float, float, float, float]
    out_size: tuple[int, int]
    pixel_offset: float = DEFAULT_PIXEL_OFFSET

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = (float(v) for v in self.box)
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

    @property
    def scale(self) -> tuple[float, float]:
        """Image pixels per crop pixel, ``(sx, sy)``."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) / self.out_size[0], (y1 - y0) / self.out_size[1]

    def to_normalized(self, xy: np.ndarray) -> np.ndarray:
        """Image pixel coordinates ``(..., 2)`` -> normalised coordinates of the frame (float32)."""
        x0, y0, x1, y1 = self.box
        arr = np.asarray(xy, dtype=np.float64)
        out = np.empty_like(arr)
        out[..., 0] = (arr[..., 0] + self.pixel_offset - x0) / (x1 - x0)
        out[..., 1] = (arr[..., 1] + self.pixel_offset - y0) / (y1 - y0)
        return out.astype(np.float32)

    def to_pixels(self, xyn: np.ndarray) -> np.ndarray:
        """Normalised frame coordinates ``(..., 2)`` -> image pixel coordinates (float32)."""
        x0, y0, x1, y1 = self.box
        arr = np.asarray(xyn, dtype=np.float64)
        out = np.empty_like(arr)
        out[..., 0] = arr[..., 0] * (x1 - x0) + x0 - self.pixel_offset
        out[..., 1] = arr[..., 1] * (y1 - y0) + y0 - self.pixel_offset
        return out.astype(np.float32)

    def pil_affine(self) -> tuple[float, float, float, float, float, float]:
        """Coefficients for ``PIL.Image.transform(out_size, Image.AFFINE, data)``.

        PIL maps an output edge coordinate ``(u, v)`` to the input edge coordinate
        ``(a*u + b*v + c, d*u + e*v + f)``, which is exactly this framing's inverse map.
        """
        sx, sy = self.scale
        return (sx, 0.0, self.box[0], 0.0, sy, self.box[1])

    def center_matrix(self) -> np.ndarray:
        """3x3 matrix mapping crop pixel-centre coords to image pixel-centre coords.

        The form expected by projective-transform ops that sample the input at
        ``M @ (u, v, 1)`` for output pixel index ``(u, v)`` (e.g. TensorFlow's
        ``ImageProjectiveTransformV3``).
        """
        sx, sy = self.scale
        x0, y0 = self.box[0], self.box[1]
        return np.array(
            [[sx, 0.0, x0 + 0.5 * sx - 0.5], [0.0, sy, y0 + 0.5 * sy - 0.5], [0.0, 0.0, 1.0]]
        )


def box_from_points(
    xy: np.ndarray, *, margin: float = 0.25, aspect: float | None = None
) -> tuple[float, float, float, float]:
    """A square-ish framing box (edge coordinates) around landmarks.

    Args:
        xy: ``(P, 2)`` pixel coordinates; NaN points are ignored.
        margin: fraction of the points' extent added on every side.
        aspect: if given, the box is grown to ``width / height == aspect`` about its centre.

    Returns:
        ``(x0, y0, x1, y1)`` in edge coordinates.

    Raises:
        ValueError: if no point is finite.
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
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) == 0:
        raise ValueError("box_from_points needs at least one finite point. Received: all NaN")
    lo = pts.min(axis=0) + 0.5
    hi = pts.max(axis=0) + 0.5
    center = (lo + hi) / 2
    half = np.maximum((hi - lo) / 2 * (1 + 2 * margin), 1.0)
    if aspect is not None:
        if half[0] / half[1] < aspect:
            half[0] = half[1] * aspect
        else:
            half[1] = half[0] / aspect
    return (
        float(center[0] - half[0]),
        float(center[1] - half[1]),
        float(center[0] + half[0]),
        float(center[1] + half[1]),
    )
