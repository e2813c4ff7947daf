"""Compare face detectors on real MUCT images, and calibrate the chosen one's framing.

Reads MUCT from ``../shared/muct`` (relative to the repository root; ``--muct`` to change) and
prints numbers only: no image, crop or picture of a MUCT face is written anywhere.

Two parts:

* **Candidates** (default): on a fixed sample stratified over the cameras (``--n`` images,
  ``--seed``), for each candidate detector: misses per camera group (frontal-ish ``a/d/e``,
  turned ``b/c``), false boxes, how often the best-scored box is not the face, and the median
  milliseconds per 480x640 image. A *miss* is an image where no box has IoU > 0.3 with the
  ground-truth landmark box and none contains the nose tip (MUCT point 67). All candidates run
  on each image in turn, so their timings share the machine's load.
* **Calibration** (``--calibrate [NAME ...]``): runs ``get_face_detector(NAME)`` on every image
  (or ``--calibrate-n`` of them) and prints where the whole image frame ``(0, 0, 480, 640)`` and
  the landmark box sit relative to the detected box (medians and IQRs), i.e. the constants of
  ``facelandmarks.face_detection.FRAME_FROM_BOX``, and how well the calibrated frame and box predict
  the truth.

Usage::

    python benchmarks/detectors.py                     # candidates, 300 images
    python benchmarks/detectors.py --no-mtcnn --n 100  # Haar only, quicker
    python benchmarks/detectors.py --calibrate --no-candidates
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from facelandmarks import load_muct
from facelandmarks.face_detection import (
    FRAME_FROM_BOX,
    FaceBox,
    MTCNNFaceDetector,
    OpenCVFaceDetector,
    _sort_and_nms,
    frame_from_box,
    get_face_detector,
)
from facelandmarks.images import load_image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MUCT = REPO.parent / "shared" / "muct"
NOSE_TIP = 67
GROUPS = {"a/d/e": "ade", "b/c": "bc"}

Detect = Callable[[np.ndarray], list[FaceBox]]


def landmark_box(xy: np.ndarray) -> np.ndarray:
    """Edge-coordinate box of the available points (pixel centres + 0.5)."""
    p = xy[~np.isnan(xy).any(axis=1)]
    return np.concatenate([p.min(axis=0), p.max(axis=0)]) + 0.5


def iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


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


def candidates(with_mtcnn: bool) -> dict[str, Detect]:
    haar = OpenCVFaceDetector
    out: dict[str, Detect] = {
        "haar-default full": haar(cascade="default", profile="never", max_side=None).detect,
        "haar-default 320": haar(cascade="default", profile="never", max_side=320).detect,
        "haar-default 240": haar(cascade="default", profile="never", max_side=240).detect,
        "haar-alt2 full": haar(cascade="alt2", profile="never", max_side=None).detect,
        "haar-alt2 320": haar(cascade="alt2", profile="never", max_side=320).detect,
        "haar-alt2 240": haar(cascade="alt2", profile="never", max_side=240).detect,
        "haar-alt2+prof-fallback 320": haar(profile="fallback", max_side=320).detect,
        "haar-alt2+prof-fallback 240": haar(profile="fallback", max_side=240).detect,
        "haar-alt2+prof-always 320": haar(profile="always", max_side=320).detect,
        "haar-profile-only 320 (img+mirror)": _profile_only(320),
    }
    if with_mtcnn:
        mtcnn = MTCNNFaceDetector
        out["mtcnn full (score>=0.8)"] = mtcnn(max_side=None, min_score=0.0).detect
        out["mtcnn 320 (score>=0.8)"] = mtcnn(max_side=320, min_score=0.0).detect
        out["mtcnn 320 (score>=0.9, default)"] = mtcnn(max_side=320, min_score=0.9).detect
        out["mtcnn 320 (score>=0.97)"] = mtcnn(max_side=320, min_score=0.97).detect
        out["mtcnn 240 (score>=0.9)"] = mtcnn(max_side=240, min_score=0.9).detect
    return out


def _profile_only(max_side: int) -> Detect:
    """The profile cascade alone, on the image and on its mirror (both turn directions)."""
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_profileface.xml")

    def detect(image: np.ndarray) -> list[FaceBox]:
        h, w = image.shape[:2]
        s = min(1.0, max_side / max(h, w))
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        ww = grey.shape[1]
        boxes, scores = [], []
        for mirrored in (False, True):
            g = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
            rects, hits = cascade.detectMultiScale2(g, 1.1, 5, minSize=(20, 20))
            for (x, y, bw, bh), n in zip(np.reshape(rects, (-1, 4)), np.ravel(hits), strict=True):
                x0 = ww - x - bw if mirrored else x
                boxes.append(np.array([x0, y, x0 + bw, y + bh]) / s)
                scores.append(float(n))
        return _sort_and_nms(np.reshape(boxes, (-1, 4)), np.array(scores), 0.3)

    return detect


def run_candidates(ds, idx: np.ndarray, with_mtcnn: bool) -> None:
    cands = candidates(with_mtcnn)
    warm = load_image(ds.image_paths[idx[0]])
    for detect in cands.values():
        detect(warm)
    stats = {
        name: {
            "miss": dict.fromkeys(GROUPS, 0),
            "false": 0,
            "top_wrong": 0,
            "ms": [],
            "face_scores": [],
            "false_scores": [],
        }
        for name in cands
    }
    n_group = dict.fromkeys(GROUPS, 0)
    for k, i in enumerate(idx):
        image = load_image(ds.image_paths[i])
        xy = ds.landmarks[i]
        gt, nose = landmark_box(xy), xy[NOSE_TIP]
        group = next(g for g, cams in GROUPS.items() if ds.cameras[i] in cams)
        n_group[group] += 1
        for name, detect in cands.items():
            t0 = time.perf_counter()
            faces = detect(image)
            stats[name]["ms"].append(1000 * (time.perf_counter() - t0))
            hits = [is_hit(np.array(f.box), gt, nose) for f in faces]
            s = stats[name]
            s["miss"][group] += not any(hits)
            s["false"] += len(hits) - sum(hits)
            s["top_wrong"] += any(hits) and not hits[0]
            s["face_scores"] += [f.score for f, h in zip(faces, hits, strict=True) if h][:1]
            s["false_scores"] += [f.score for f, h in zip(faces, hits, strict=True) if not h]
        if (k + 1) % 50 == 0:
            print(f"  ... {k + 1}/{len(idx)} images", file=sys.stderr, flush=True)

    head = (
        f"{'candidate':36s} {'miss a/d/e':>11s} {'miss b/c':>9s} {'false':>6s} "
        f"{'top!=face':>9s} {'ms med':>7s} {'ms p90':>7s} {'min face':>9s} {'max false':>9s}"
    )
    print(
        f"\nCandidates on {len(idx)} MUCT images (480x640), "
        f"a/d/e: {n_group['a/d/e']}, b/c: {n_group['b/c']}"
    )
    print(head)
    print("-" * len(head))
    for name, s in stats.items():
        ms = np.array(s["ms"])
        print(
            f"{name:36s} {s['miss']['a/d/e']:>11d} {s['miss']['b/c']:>9d} {s['false']:>6d} "
            f"{s['top_wrong']:>9d} {np.median(ms):7.1f} {np.percentile(ms, 90):7.1f} "
            f"{min(s['face_scores'], default=np.nan):9.3f} "
            f"{max(s['false_scores'], default=np.nan):9.3f}"
        )
    print(
        "miss: no box with IoU>0.3 to the landmark box and none containing the nose tip; "
        "false: boxes that are not the face (summed); top!=face: images where the best-scored "
        "box is a false one although the face was found; min face / max false: lowest score "
        "of a found face, highest score of a false box (Haar: merged hits; MTCNN: confidence)."
    )


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
    parser.add_argument("--muct", type=Path, default=DEFAULT_MUCT)
    parser.add_argument("--n", type=int, default=300, help="sample size for the candidates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-mtcnn", action="store_true", help="leave the mtcnn package out")
    parser.add_argument("--no-candidates", action="store_true")
    parser.add_argument(
        "--calibrate",
        nargs="*",
        metavar="NAME",
        help="calibrate these detectors (names of get_face_detector; none given: all)",
    )
    parser.add_argument("--calibrate-n", type=int, default=0, help="0: every image")
    args = parser.parse_args(argv)
    if not (args.muct / "muct-landmarks" / "muct76-opencv.csv").is_file():
        print(f"MUCT not found at {args.muct}", file=sys.stderr)
        return 2
    ds = load_muct(args.muct)
    if not args.no_candidates:
        run_candidates(ds, stratified_sample(ds.cameras, args.n, args.seed), not args.no_mtcnn)
    if args.calibrate is not None:
        n = args.calibrate_n or len(ds)
        idx = np.arange(len(ds)) if n >= len(ds) else stratified_sample(ds.cameras, n, args.seed)
        for name in args.calibrate or sorted(FRAME_FROM_BOX):
            run_calibration(ds, idx, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
