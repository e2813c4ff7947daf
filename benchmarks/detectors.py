"""Calibrate a face detector's whole-image framing on real MUCT images.

Reads MUCT from ``../shared/muct`` (relative to the repository root; ``--muct`` to change) and
prints numbers only: no image, crop or picture of a MUCT face is written anywhere.

Runs ``get_face_detector(NAME)`` on every image (or ``--n`` of them, stratified over the cameras)
and prints where the whole image frame ``(0, 0, 480, 640)`` and the landmark box sit relative to
the detected box (medians and IQRs), i.e. the constants of
``facelandmarks.face_detection.FRAME_FROM_BOX``, and how well the calibrated frame and box predict
the truth. A detector's box *is* the face when its IoU with the landmark box is above 0.3 or it
contains the nose tip (MUCT point 67).

Usage::

    python benchmarks/detectors.py                  # every detector of FRAME_FROM_BOX
    python benchmarks/detectors.py blazeface --n 300

The comparison of candidate detectors (Haar cascades and MTCNN settings) that chose the 0.1
default lived here until commit a4b6195; ``face_detection.py`` compares today's detectors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from facelandmarks import load_muct
from facelandmarks.face_detection import FRAME_FROM_BOX, frame_from_box, get_face_detector
from facelandmarks.face_detection.base import iou as box_iou
from facelandmarks.images import load_image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MUCT = REPO.parent / "shared" / "muct"
NOSE_TIP = 67


def landmark_box(xy: np.ndarray) -> np.ndarray:
    """Edge-coordinate box of the available points (pixel centres + 0.5)."""
    p = xy[~np.isnan(xy).any(axis=1)]
    return np.concatenate([p.min(axis=0), p.max(axis=0)]) + 0.5


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(box_iou(a, b[None])[0])


def is_hit(box: np.ndarray, gt: np.ndarray, nose: np.ndarray) -> bool:
    inside = box[0] <= nose[0] + 0.5 <= box[2] and box[1] <= nose[1] + 0.5 <= box[3]
    return iou(box, gt) > 0.3 or inside


def stratified_sample(cameras: tuple[str, ...], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cams = np.array(cameras)
    letters = sorted(set(cameras))
    per = [n // len(letters) + (k < n % len(letters)) for k in range(len(letters))]
    picks = [
        rng.choice(np.flatnonzero(cams == c), min(m, int((cams == c).sum())), replace=False)
        for c, m in zip(letters, per, strict=True)
    ]
    return np.sort(np.concatenate(picks))


def _q(values: np.ndarray) -> str:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:8.3f}  [{q1:7.3f} {q3:7.3f}]  IQR {q3 - q1:6.3f}"


def run_calibration(ds, idx: np.ndarray, detector_name: str) -> None:
    det = get_face_detector(detector_name)
    name = det.name  # type: ignore[attr-defined]
    boxes, gts, sizes, cams = [], [], [], []
    n_none = n_top_wrong = 0
    for k, i in enumerate(idx):
        image = load_image(ds.image_paths[i])
        xy = ds.landmarks[i]
        gt = landmark_box(xy)
        faces = det.detect(image)
        hits = [is_hit(np.array(f.box), gt, xy[NOSE_TIP]) for f in faces]
        if (k + 1) % 500 == 0:
            print(f"  ... {k + 1}/{len(idx)} images", file=sys.stderr, flush=True)
        if not any(hits):
            n_none += 1
            continue
        n_top_wrong += not hits[0]
        boxes.append(faces[hits.index(True)].box)
        gts.append(gt)
        sizes.append(image.shape[1::-1])
        cams.append(ds.cameras[i])
    b, g, wh, cams = np.array(boxes), np.array(gts), np.array(sizes, float), np.array(cams)
    bw = b[:, 2] - b[:, 0]
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    rel = np.stack(
        [
            (wh[:, 0] / 2 - cx) / bw,
            (wh[:, 1] / 2 - cy) / bw,
            wh[:, 0] / bw,
            wh[:, 1] / bw,
            (b[:, 3] - b[:, 1]) / bw,
        ],
        axis=1,
    )
    print(
        f"\nCalibration of {name!r} ({det!r}) on {len(idx)} MUCT images: {len(b)} with the "
        f"face found, {n_none} without; best-scored box not the face in {n_top_wrong}."
    )
    print("Image frame (0,0,W,H) relative to the detected box, in box widths w: median [Q1 Q3]")
    labels = (
        "dx = (frame cx - box cx)/w",
        "dy = (frame cy - box cy)/w",
        "sw = W/w",
        "sh = H/w",
        "box h/w",
    )
    for j, label in enumerate(labels):
        print(f"  {label:27s} {_q(rel[:, j])}")
    for group, letters in [("a", "a"), ("b/c", "bc"), ("d", "d"), ("e", "e")]:
        m = np.isin(cams, list(letters))
        if m.any():
            med = np.median(rel[m], axis=0)
            print(
                f"  camera {group:4s} n={m.sum():4d}  dx {med[0]:6.3f}  dy {med[1]:6.3f}  "
                f"sw {med[2]:6.3f}  sh {med[3]:6.3f}  box w px {np.median(bw[m]):6.1f}"
            )
    const = np.median(rel[:, :4], axis=0)
    print(
        f"  -> FRAME_FROM_BOX[{name!r}] = ({const[0]:.3f}, {const[1]:.3f}, {const[2]:.3f}, "
        f"{const[3]:.3f})   (in use: {FRAME_FROM_BOX[name]})"
    )

    centre = np.stack([cx, cy, cx, cy], axis=1)
    lm_rel = (g - centre) / bw[:, None]
    lm_med = np.median(lm_rel, axis=0)
    print(
        "Landmark box (available points) relative to the box centre, in box widths: median [Q1 Q3]"
    )
    for j, label in enumerate(("x0", "y0", "x1", "y1")):
        print(f"  {label:27s} {_q(lm_rel[:, j])}")
    lm_pred = centre + lm_med * bw[:, None]
    frames = np.array([frame_from_box(box, name) for box in b])
    true = np.concatenate([np.zeros_like(wh), wh], axis=1)
    fr_iou = np.array([iou(f, t) for f, t in zip(frames, true, strict=True)])
    print("Prediction quality: median [Q1 Q3]")
    print(f"  IoU(frame_from_box, image frame)      {_q(fr_iou)}")
    print(f"  predicted / true frame width          {_q((frames[:, 2] - frames[:, 0]) / wh[:, 0])}")
    err_x = (frames[:, 0] + frames[:, 2] - wh[:, 0]) / 2 / wh[:, 0]
    err_y = (frames[:, 1] + frames[:, 3] - wh[:, 1]) / 2 / wh[:, 0]
    print(f"  frame centre error x, in frame widths {_q(err_x)}")
    print(f"  frame centre error y, in frame widths {_q(err_y)}")
    print(
        f"  IoU(detector box, landmark box)       "
        f"{_q(np.array([iou(x, y) for x, y in zip(b, g, strict=True)]))}"
    )
    print(
        f"  IoU(box + median offsets, lm box)     "
        f"{_q(np.array([iou(x, y) for x, y in zip(lm_pred, g, strict=True)]))}"
    )
    print(
        f"  images with frame IoU < 0.8: {np.mean(fr_iou < 0.8):.3f}, < 0.6: "
        f"{np.mean(fr_iou < 0.6):.3f}"
    )
    print(f"  median landmark-box offsets (x0, y0, x1, y1) / w: {np.round(lm_med, 3).tolist()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="detectors (get_face_detector names; default: all)"
    )
    parser.add_argument("--muct", type=Path, default=DEFAULT_MUCT)
    parser.add_argument("--n", type=int, default=0, help="images, camera-stratified (0: every one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.muct / "muct-landmarks" / "muct76-opencv.csv").is_file():
        print(f"MUCT not found at {args.muct}", file=sys.stderr)
        return 2
    ds = load_muct(args.muct)
    n = args.n or len(ds)
    idx = np.arange(len(ds)) if n >= len(ds) else stratified_sample(ds.cameras, n, args.seed)
    for name in args.names or sorted(FRAME_FROM_BOX):
        run_calibration(ds, idx, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
