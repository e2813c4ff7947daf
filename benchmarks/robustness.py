"""Accuracy on damaged photos: what the in-the-wild augmentations are for, measured.

    python benchmarks/robustness.py --wild ../shared/wild [--weights default,other.keras] [--n 0]

The in-the-wild validation faces (``load_ibug(DIR).split(0.1, by="subject", seed=0)[1]``, photos
no shipped model trained on), each photo damaged in memory before ``predict_faces`` (nothing is
written to disk):

* ``clean``: as is;
* ``blur``: Gaussian blur, radius 4 % of the face's outer-eye-corner distance (at least 1.5 px);
* ``jpeg``: a JPEG round trip at quality 12;
* ``noise``: Gaussian noise, sigma 18 (of 255), seeded per photo;
* ``dark``: intensities scaled by 0.25 and gamma 1.6 (an underexposed photo);
* ``lowres``: down to a quarter of the size and back up (bilinear);
* ``mouth hidden``: a grey rectangle over the mouth (the box of iBUG points 48-67, 30 % larger):
  a hand or a microphone;
* ``eye hidden``: the same over the eye on the image's left (iBUG 36-41, 60 % larger).

Scores, per model and damage: the 68-point NME of the annotated face (of the faces found, the
one whose box centre is nearest the annotation; misses count in ``missed``), all 68 points scored
(hidden ones too: annotators place them, and users want them). Models without an ``ibug68`` head
are scored on the points they share with it. Prints a table and the ratio to ``clean``. Never
asserts.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np
from PIL import Image, ImageFilter

from benchmarks._bench import spaced
from facelandmarks import LandmarkDetector, load_ibug
from facelandmarks.evaluation import annotated_faces, score_faces
from facelandmarks.images import load_image
from facelandmarks.weights import default_preset_name

DAMAGES = ("clean", "blur", "jpeg", "noise", "dark", "lowres", "mouth hidden", "eye hidden")


def _cover(rgb: np.ndarray, pts: np.ndarray, grow: float) -> np.ndarray:
    x0, y0 = np.nanmin(pts, axis=0)
    x1, y1 = np.nanmax(pts, axis=0)
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    hw, hh = hw * (1 + grow) + 2, hh * (1 + grow) + 2
    out = rgb.copy()
    h, w = rgb.shape[:2]
    a, b = int(max(0, cx - hw)), int(min(w, cx + hw + 1))
    c, d = int(max(0, cy - hh)), int(min(h, cy + hh + 1))
    out[c:d, a:b] = 128
    return out


def damage(rgb: np.ndarray, truth: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with damage ``kind``; ``truth`` (68, 2) iBUG pixels."""
    if kind == "clean":
        return rgb
    pil = Image.fromarray(rgb)
    if kind == "blur":
        eyes = float(np.linalg.norm(truth[36] - truth[45]))
        return np.asarray(pil.filter(ImageFilter.GaussianBlur(max(1.5, 0.04 * eyes))))
    if kind == "jpeg":
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=12)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if kind == "noise":
        noise = np.random.default_rng(seed).normal(0.0, 18.0, rgb.shape)
        return np.clip(rgb + noise, 0, 255).astype(np.uint8)
    if kind == "dark":
        return (255.0 * 0.25 * (rgb / 255.0) ** 1.6).astype(np.uint8)
    if kind == "lowres":
        w, h = pil.size
        small = pil.resize((max(1, w // 4), max(1, h // 4)), Image.BILINEAR)
        return np.asarray(small.resize((w, h), Image.BILINEAR))
    if kind == "mouth hidden":
        return _cover(rgb, truth[48:68], 0.3)
    if kind == "eye hidden":
        return _cover(rgb, truth[36:42], 0.6)
    raise ValueError(f"unknown damage {kind!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wild", required=True, help="folder of iBUG .pts faces (300-W layout)")
    ap.add_argument("--weights", default="default", help="comma-separated presets or files")
    ap.add_argument("--n", type=int, default=0, help="evenly spaced faces (0: all)")
    args = ap.parse_args()

    val = spaced(load_ibug(args.wild).split(0.1, seed=0)[1], args.n)
    photos = [load_image(p) for p in val.image_paths]
    # "default" is the default preset for both heads (scheme="ibug68" alone picks another)
    names = [default_preset_name() if w == "default" else w for w in args.weights.split(",") if w]
    dets = {}
    for name in names:
        base = LandmarkDetector(name)
        scheme = "ibug68" if "ibug68" in base.schemes else base.scheme
        dets[name] = LandmarkDetector(name, scheme=scheme)
    print(f"{len(val)} in-the-wild validation faces; models: {names}")
    print(f"{'damage':14s}" + "".join(f"{n[-24:]:>26s}{'missed':>8s}" for n in names))
    clean: dict[str, float] = {}
    for kind in DAMAGES:
        damaged = [damage(rgb, val.landmarks[i], kind, i) for i, rgb in enumerate(photos)]
        cells = []
        for name, det in dets.items():
            chosen = annotated_faces(det.predict_faces(damaged), val.landmarks, det.num_points)
            scores, _ = score_faces(
                chosen, val.landmarks, pred_scheme=det.scheme, true_scheme="ibug68"
            )
            nme = scores.get("nme", float("nan"))
            clean.setdefault(name, nme)
            cells.append(f"{nme:>14.4f} ({nme / clean[name]:4.2f}x)   {scores['n_missed']:>8d}")
        print(f"{kind:14s}" + "".join(cells))


if __name__ == "__main__":
    main()
