"""Cutting a model input out of an image on NumPy and Pillow: the inference twin of
:func:`facelandmarks.imageops.render` (which ``tf.data`` uses in training).

Both resample in the same two steps, on the same grids:

1. an anti-aliased (triangle filter) downscale so that one output pixel covers about one
   resized pixel, computed only for the window of the resized image that step 2 reaches (Pillow's
   ``resize`` with a source ``box`` on the whole-image resize's grid);
2. a bilinear affine warp of that window onto the model input (Pillow's ``transform``), pixels
   beyond the image repeating its nearest edge pixel (the window is padded with its edge pixels
   first).

Pillow resamples float32 images here (no 8-bit rounding), so the two agree to float rounding:
``tests/test_crop.py`` holds them to 0.05 grey levels (of 255) over rotated, scaled, shifted and
out-of-image framings. No TensorFlow, so ``predict`` runs on TensorFlow Lite without it.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from facelandmarks.framing import Framing, crop_to_image_affine, pil_affine_of

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as the Grayscale layer
_BILINEAR = Image.Resampling.BILINEAR


def _extent(a: float, b: float, c: float, out_w: int, out_h: int) -> tuple[float, float]:
    """Smallest and largest ``a * u + b * v + c`` over the crop's outer pixel edges."""
    u0, u1, v0, v1 = -0.5, out_w - 0.5, -0.5, out_h - 0.5
    values = (a * u0 + b * v0 + c, a * u1 + b * v0 + c, a * u0 + b * v1 + c, a * u1 + b * v1 + c)
    return min(values), max(values)


def render_crop(
    image: np.ndarray,
    framing: Framing,
    *,
    gray: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The model input for ``framing`` of ``image``.

    Args:
        image: uint8 ``(H, W, 3)`` RGB.
        framing: the frame (with its ``out_size``) in ``image``'s pixels.
        gray: resample luma only (ITU-R BT.601, as the models' ``Grayscale`` layer computes it)
            and copy it to three channels: the same input for a grey model, a third of the work.
        out: optional float32 ``(height, width, 3)`` array to write the crop into (e.g. one
            item of a batch), instead of a new array.

    Returns:
        float32 ``(height, width, 3)`` in ``[0, 255]``, ``(width, height) = framing.out_size``
        (``out`` itself when given).

    Raises:
        ValueError: ``out`` has the wrong shape or dtype.
    """
    h, w = image.shape[:2]
    out_w, out_h = framing.out_size
    if out is None:
        out = np.empty((out_h, out_w, 3), np.float32)
    elif out.shape != (out_h, out_w, 3) or out.dtype != np.float32:
        raise ValueError(
            f"out must be a float32 array of shape {(out_h, out_w, 3)}. Received: out of "
            f"shape {out.shape} and dtype {out.dtype}"
        )
    # crop pixel centre -> image pixel centre, in Python floats (no tiny NumPy calls per crop)
    a, b, c, d, e, f = crop_to_image_affine(
        *framing.center, *framing.size, framing.angle, *framing.out_size, xp=math
    )
    rx = max(math.hypot(a, b), 1.0)
    ry = max(math.hypot(d, e), 1.0)
    new_w, new_h = max(round(w / rx), 1), max(round(h / ry), 1)
    kx, ky = new_w / w, new_h / h
    # crop pixel centre -> pixel centre of the image resized to (new_w, new_h)
    a, b, c = kx * a, kx * b, kx * c + (0.5 * kx - 0.5)
    d, e, f = ky * d, ky * e, ky * f + (0.5 * ky - 0.5)
    lo_x, hi_x = _extent(a, b, c, out_w, out_h)
    lo_y, hi_y = _extent(d, e, f, out_w, out_h)
    j0 = min(max(math.floor(lo_x) - 2, 0), new_w - 1)
    i0 = min(max(math.floor(lo_y) - 2, 0), new_h - 1)
    j1 = min(max(math.ceil(hi_x) + 3, j0 + 1), new_w)
    i1 = min(max(math.ceil(hi_y) + 3, i0 + 1), new_h)
    # The source pixels the window's filters read: the box plus the triangle filter's support
    # (1 / k pixels) and a margin, clipped to the image (so the image's own borders are where
    # Pillow renormalises the filter, as TensorFlow does).
    sx0 = max(math.floor(j0 / kx - 1.0 / kx) - 2, 0)
    sy0 = max(math.floor(i0 / ky - 1.0 / ky) - 2, 0)
    sx1 = min(math.ceil(j1 / kx + 1.0 / kx) + 2, w)
    sy1 = min(math.ceil(i1 / ky + 1.0 / ky) + 2, h)
    region = image[sy0:sy1, sx0:sx1].astype(np.float32)
    channels = [region @ _LUMA] if gray else [region[..., k] for k in range(3)]
    # float32 ("F") images: no 8-bit rounding between the two steps
    windows = [Image.fromarray(np.ascontiguousarray(ch), mode="F") for ch in channels]
    if kx == 1.0 and ky == 1.0:
        windows = [wi.crop((j0 - sx0, i0 - sy0, j1 - sx0, i1 - sy0)) for wi in windows]
    else:
        box = (j0 / kx - sx0, i0 / ky - sy0, j1 / kx - sx0, i1 / ky - sy0)
        size = (j1 - j0, i1 - i0)
        windows = [wi.resize(size, _BILINEAR, box=box) for wi in windows]
    # window pixel centres: resized ones shifted by (j0, i0); then pad with edge pixels so the
    # bilinear taps of every output pixel land inside.
    c, f = c - j0, f - i0
    lo_x, hi_x = _extent(a, b, c, out_w, out_h)
    lo_y, hi_y = _extent(d, e, f, out_w, out_h)
    pad_l = max(0, -math.floor(lo_x) + 2)
    pad_t = max(0, -math.floor(lo_y) + 2)
    pad_r = max(0, math.ceil(hi_x) + 3 - (j1 - j0))
    pad_b = max(0, math.ceil(hi_y) + 3 - (i1 - i0))
    if pad_l or pad_t or pad_r or pad_b:
        widths = ((pad_t, pad_b), (pad_l, pad_r))
        windows = [
            Image.fromarray(np.pad(np.asarray(wi), widths, mode="edge"), mode="F") for wi in windows
        ]
        c, f = c + pad_l, f + pad_t
    data = pil_affine_of(a, b, c, d, e, f)
    for k, wi in enumerate(windows):
        plane = np.asarray(wi.transform((out_w, out_h), Image.Transform.AFFINE, data, _BILINEAR))
        np.clip(plane, 0.0, 255.0, out=out[..., k])
    if gray:
        out[..., 1:] = out[..., :1]
    return out
