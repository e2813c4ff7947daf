"""Landmark accuracy with a face detector in the loop vs the training framing, on held-out
MUCT subjects, plus time per image for each path (same run, interleaved).

    python benchmarks/detection_accuracy.py --muct ../shared/muct [--weights default] [--n 0]
        [--runtime auto|keras|tflite] [--detectors mtcnn,opencv-haar]

Paths compared on the test side of ``split(0.3, by="subject", seed=0)`` (the subjects the
shipped model never saw):

* ``whole image``: ``predict(image)``: the whole MUCT photo is the frame, exactly as in training
  (the "ground-truth box" of this benchmark: MUCT photos are already framed portraits);
* ``<detector>``: ``predict_faces(image, face_detector=NAME)``: the detector's best box, widened
  to a MUCT-like frame by ``frame_from_box``. An image where the detector finds no face is a
  miss; NME is reported over the images it found (and the misses counted).

Prints numbers only; no image is written.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from facelandmarks import LandmarkDetector, load_muct
from facelandmarks.face_detection import get_face_detector
from facelandmarks.images import load_image
from facelandmarks.metrics import evaluate_landmarks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--muct", default="../shared/muct")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--detectors", default="mtcnn,opencv-haar")
    ap.add_argument("--runtime", default="auto", choices=("auto", "keras", "tflite"))
    ap.add_argument("--n", type=int, default=0, help="evenly spaced test images (0 = all)")
    args = ap.parse_args()

    data = load_muct(args.muct)
    _, test = data.split(0.3, by="subject", seed=0)
    if args.n:
        test = test.subset(np.linspace(0, len(test) - 1, args.n).astype(int))
    det = LandmarkDetector(args.weights, runtime=args.runtime)
    names = [d for d in args.detectors.split(",") if d]
    finders = {n: get_face_detector(n) for n in names}
    images = [load_image(p) for p in test.image_paths]
    det.predict(images[0])
    for f in finders.values():
        f.detect(images[0])

    paths = ["whole image", *names]
    pred = {p: np.full((len(test), det.num_points, 2), np.nan, np.float32) for p in paths}
    secs = {p: [] for p in paths}
    det_secs = {n: [] for n in names}
    for i, img in enumerate(images):
        order = paths[i % len(paths) :] + paths[: i % len(paths)]
        for p in order:
            t0 = time.perf_counter()
            if p == "whole image":
                pred[p][i] = det.predict(img)[0]
                secs[p].append(time.perf_counter() - t0)
                continue
            boxes = finders[p].detect(img)
            t1 = time.perf_counter()
            if boxes:
                face = det.predict_faces(img, boxes=[[boxes[0].box]], face_detector=finders[p])[0][
                    0
                ]
                pred[p][i] = face.landmarks
            secs[p].append(time.perf_counter() - t0)
            det_secs[p].append(t1 - t0)

    print(
        f"{len(test)} held-out images of {len(set(test.subjects))} subjects; "
        f"weights={args.weights!r}, runtime={args.runtime!r}"
    )
    print(
        f"{'path':<14} {'found':>6} {'NME':>7} {'NME a/d/e':>9} {'NME b/c':>8} "
        f"{'FR@0.10':>8} {'ms/img':>7} {'detector ms':>11}"
    )
    cams = np.array(test.cameras)
    for p in paths:
        ok = np.isfinite(pred[p]).all(axis=(1, 2))
        s = evaluate_landmarks(pred[p][ok], test.landmarks[ok])
        parts = []
        for group in ("ade", "bc"):
            sel = ok & np.isin(cams, list(group))
            parts.append(evaluate_landmarks(pred[p][sel], test.landmarks[sel])["nme"])
        dms = f"{1000 * np.median(det_secs[p]):.1f}" if p in det_secs else "-"
        print(
            f"{p:<14} {ok.sum():>6} {s['nme']:>7.4f} {parts[0]:>9.4f} {parts[1]:>8.4f} "
            f"{s['failure_rate@0.10']:>8.4f} {1000 * np.median(secs[p]):>7.1f} {dms:>11}"
        )


if __name__ == "__main__":
    main()
