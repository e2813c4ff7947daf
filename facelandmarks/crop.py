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
out-of-image framings. No TensorFlow: this is what lets ``predict``
run on TensorFlow Lite without importing TensorFlow.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from facelandmarks.framing import Framing

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as the Grayscale layer
_BILINEAR = Image.Resampling.BILINEAR


def render_crop(image: np.ndarray, framing: Framing, *, gray: bool = False) -> np.ndarray:
    """The model input for ``framing`` of ``image``.

    Args:
        image: uint8 ``(H, W, 3)`` RGB.
        framing: the frame (with its ``out_size``) in ``image``'s pixels.
        gray: resample luma only (ITU-R BT.601, as the models' ``Grayscale`` layer computes it)
            and copy it to three channels: the same input for a grey model, a third of the work.

    Returns:
        float32 ``(height, width, 3)`` in ``[0, 255]``, ``(width, height) = framing.out_size``.
    """
    h, w = image.shape[:2]
    m = framing.center_matrix()
    out_w, out_h = framing.out_size
    rx = max(math.hypot(m[0, 0], m[0, 1]), 1.0)
    ry = max(math.hypot(m[1, 0], m[1, 1]), 1.0)
    new_w, new_h = max(round(w / rx), 1), max(round(h / ry), 1)
    kx, ky = new_w / w, new_h / h
    to_resized = np.array([[kx, 0, 0.5 * kx - 0.5], [0, ky, 0.5 * ky - 0.5], [0, 0, 1.0]])
    m = to_resized @ m
    corners = np.array(
        [[-0.5, out_w - 0.5, -0.5, out_w - 0.5], [-0.5, -0.5, out_h - 0.5, out_h - 0.5], [1] * 4]
    )
    mapped = m @ corners
    j0 = int(np.clip(math.floor(mapped[0].min()) - 2, 0, new_w - 1))
    i0 = int(np.clip(math.floor(mapped[1].min()) - 2, 0, new_h - 1))
    j1 = int(np.clip(math.ceil(mapped[0].max()) + 3, j0 + 1, new_w))
    i1 = int(np.clip(math.ceil(mapped[1].max()) + 3, i0 + 1, new_h))
    # The source pixels the window's filters read: the box plus the triangle filter's support
    # (1 / k pixels) and a margin, clipped to the image (so the image's own borders are where
    # Pillow renormalises the filter, as TensorFlow does).
    sx0 = max(math.floor(j0 / kx - 1.0 / kx) - 2, 0)
    sy0 = max(math.floor(i0 / ky - 1.0 / ky) - 2, 0)
    sx1 = min(math.ceil(j1 / kx + 1.0 / kx) + 2, w)
    sy1 = min(math.ceil(i1 / ky + 1.0 / ky) + 2, h)
    region = image[sy0:sy1, sx0:sx1].astype(np.float32)
    channels = [region @ _LUMA] if gray else [region[..., c] for c in range(3)]
    # float32 ("F") images: no 8-bit rounding between the two steps
    windows = [Image.fromarray(np.ascontiguousarray(c), mode="F") for c in channels]
    if kx == 1.0 and ky == 1.0:
        windows = [wi.crop((j0 - sx0, i0 - sy0, j1 - sx0, i1 - sy0)) for wi in windows]
    else:
        box = (j0 / kx - sx0, i0 / ky - sy0, j1 / kx - sx0, i1 / ky - sy0)
        size = (j1 - j0, i1 - i0)
        windows = [wi.resize(size, Image.Resampling.BILINEAR, box=box) for wi in windows]
    # window pixel centres: resized ones shifted by (j0, i0); then pad with edge pixels so the
    # bilinear taps of every output pixel land inside.
    m = np.array([[1, 0, -j0], [0, 1, -i0], [0, 0, 1.0]]) @ m
    mapped = m @ corners
    pad_l = max(0, -math.floor(mapped[0].min()) + 2)
    pad_t = max(0, -math.floor(mapped[1].min()) + 2)
    pad_r = max(0, math.ceil(mapped[0].max()) + 3 - (j1 - j0))
    pad_b = max(0, math.ceil(mapped[1].max()) + 3 - (i1 - i0))
    if pad_l or pad_t or pad_r or pad_b:
        widths = ((pad_t, pad_b), (pad_l, pad_r))
        windows = [
            Image.fromarray(np.pad(np.asarray(wi), widths, mode="edge"), mode="F") for wi in windows
        ]
        m = np.array([[1, 0, pad_l], [0, 1, pad_t], [0, 0, 1.0]]) @ m
    a, b, c = m[0]
    d, e, f = m[1]
    data = (a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e))
    out = [
        np.asarray(wi.transform((out_w, out_h), Image.Transform.AFFINE, data, _BILINEAR))
        for wi in windows
    ]
    crop = np.stack(out * 3 if gray else out, axis=-1)
    return np.clip(crop, 0.0, 255.0, out=crop)
