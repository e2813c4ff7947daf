"""Measure where annotated landmarks sit around the face detector's boxes (for face_scale and
face_offset of a "face" stage). Reads landmark files and runs the detector; writes nothing.

    python tools/calibrate_face_frame.py --muct ../shared/muct --wild ../shared/wild

For every training face the detector finds: the landmarks in the box's frame (rolled by the
detector's eyes, centred on the box centre, in units of the box side sqrt(w*h)). Prints the
median centre of the landmarks' extent (-> face_offset) and percentiles of the half-extent about
that centre (-> face_scale = 2 * p99 half-extent * (1 + margin)).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main() -> None:
    from facelandmarks.datasets.ibug import load_ibug
    from facelandmarks.datasets.muct import load_muct
    from facelandmarks.face_detection.blazeface import BlazeFaceDetector
    from facelandmarks.framing import roi_from_box
    from facelandmarks.training.faces import detect_training_faces

    ap = argparse.ArgumentParser()
    ap.add_argument("--muct")
    ap.add_argument("--wild")
    ap.add_argument("--model", default="auto")
    ap.add_argument("--cache", default="runs/detections")
    args = ap.parse_args()
    det = BlazeFaceDetector(args.model)
    sets = []
    if args.muct:
        sets.append(("muct", load_muct(args.muct)))
    if args.wild:
        sets.append(("wild", load_ibug(args.wild)))
    for name, data in sets:
        train, _ = data.split(0.3 if name == "muct" else 0.1, by="subject", seed=0)
        d = detect_training_faces(train.image_paths, train.landmarks, det, cache_dir=args.cache)
        rois = roi_from_box(d.boxes, d.eyes[:, 0], d.eyes[:, 1], scale=1.0)
        f = d.found
        pts = train.landmarks[f].astype(np.float64) + 0.5
        c, s = np.cos(rois[f, 3])[:, None], np.sin(rois[f, 3])[:, None]
        dx, dy = pts[..., 0] - rois[f, 0:1], pts[..., 1] - rois[f, 1:2]
        u = (c * dx + s * dy) / rois[f, 2:3]
        v = (-s * dx + c * dy) / rois[f, 2:3]
        mid_u = (np.nanmax(u, 1) + np.nanmin(u, 1)) / 2
        mid_v = (np.nanmax(v, 1) + np.nanmin(v, 1)) / 2
        off = (float(np.median(mid_u)), float(np.median(mid_v)))
        half = np.maximum(np.abs(u - off[0]), np.abs(v - off[1]))
        per_face = np.nanmax(half, axis=1)
        print(
            f"{name}: {int(f.sum())} of {len(f)} found; offset (dx, dy) = "
            f"({off[0]:.3f}, {off[1]:.3f}) box sides"
        )
        print(
            "  half-extent about the offset centre, percentiles 50/90/99/99.9/max: "
            + " ".join(f"{np.percentile(per_face, q):.3f}" for q in (50, 90, 99, 99.9, 100))
        )
        print(
            "  box side px median",
            float(np.median(rois[f, 2])),
            " eye-roll deg p50/p90/max:",
            " ".join(
                f"{np.degrees(np.percentile(np.abs(rois[f, 3]), q)):.1f}" for q in (50, 90, 100)
            ),
        )


if __name__ == "__main__":
    main()
