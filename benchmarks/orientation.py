"""Turned photos: the shipped default on the held-out in-the-wild faces turned by 0, 90, 180
and 270 degrees, with the plain face detector and with ``"-any-orientation"``.

For each turn, every held-out photo (``load_ibug(...).split(0.1, by="subject", seed=0)[1]``, 193
photos never trained on) and its annotation are turned together (``np.rot90``: exact, no
resampling); each detector finds the faces and the model places the points. Scored as in
``accuracy.py``: the main face (``predict``'s choice, what a user gets) and the annotated face
(the one whose box centre is nearest the annotated points' centre), 8 shared points of the
76-point head and all 68 points of the 68-point head; NME over the outer-eye-corner distance,
misses counted. Also the median detection + landmarks time per photo. Never asserts.

Example::

    python benchmarks/orientation.py --wild ../shared/wild
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import spaced, turned  # noqa: E402
from facelandmarks import LandmarkDetector, load_ibug  # noqa: E402
from facelandmarks.evaluation import annotated_faces, score_faces  # noqa: E402
from facelandmarks.images import load_image  # noqa: E402
from facelandmarks.weights import default_preset_name  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wild", required=True, help="folder of iBUG .pts faces (300-W layout)")
    ap.add_argument("--n", type=int, default=0, help="evenly spaced photos (0: all 193)")
    args = ap.parse_args(argv)
    data = spaced(load_ibug(args.wild).split(0.1, seed=0)[1], args.n)
    photos = [load_image(p) for p in data.image_paths]
    truth = np.asarray(data.landmarks, np.float64)
    print(f"{len(photos)} held-out in-the-wild photos; NME: mean over faces found")
    header = f"{'turn':>5} {'detector':<28}{'face':<11}"
    header += f"{'76: 8 pts':>10}{'68: all':>10}{'missed or >0.10 (68)':>22}{'ms/photo':>10}"
    print(header)
    for turns in range(4):
        rotated = [turned(rgb, xy, turns) for rgb, xy in zip(photos, truth, strict=True)]
        images = [r for r, _ in rotated]
        true_xy = np.stack([t for _, t in rotated]).astype(np.float32)
        for name in ("blazeface", "blazeface-any-orientation"):
            dets = {
                s: LandmarkDetector(default_preset_name(), scheme=s, face_detector=name)
                for s in ("muct76", "ibug68")
            }
            found, times = {}, []
            for scheme, det in dets.items():
                faces = []
                for rgb in images:
                    t0 = time.perf_counter()
                    faces.append(det.predict_faces(rgb)[0])
                    times.append(time.perf_counter() - t0)
                found[scheme] = faces
            for face in ("main", "annotated"):
                cells = []
                for scheme, det in dets.items():
                    faces = found[scheme]
                    if face == "main":
                        nan = np.full((det.num_points, 2), np.nan, np.float32)
                        pred = np.stack([f[0].landmarks if f else nan for f in faces])
                    else:
                        pred = annotated_faces(faces, true_xy, det.num_points)
                    scores, _ = score_faces(
                        pred, true_xy, pred_scheme=scheme, true_scheme=data.scheme
                    )
                    nme = scores.get("nme", float("nan"))  # of the faces found
                    cells.append((nme, scores["missed_or_failed@0.10"]))
                ms = float(np.median(times)) * 1e3
                print(
                    f"{turns * 90:>5} {name:<28}{face:<11}{cells[0][0]:>10.4f}{cells[1][0]:>10.4f}"
                    f"{cells[1][1]:>21.1%} {ms:>10.2f}"
                )


if __name__ == "__main__":
    main()
