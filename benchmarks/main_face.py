"""Which face ``predict`` keeps: rules for the main face, scored on photos with several faces.

    python benchmarks/main_face.py --wild ../shared/wild [--detector blazeface]

Each photo of ``../shared/wild`` has one annotated face, and the photos are framed around it.
The face detector runs on every photo; where it finds two or more faces, the annotated one is
the face whose box centre is nearest the centre of the annotated points (as
:func:`facelandmarks.evaluation.annotated_faces` picks it), and a rule is wrong when it ranks
another face first. Counted separately on the training split and on the held-out 10 %
(``load_ibug(DIR).split(0.1, seed=0)``, the faces the accuracy benchmarks score), so that a rule
chosen on the first is checked on the second. Rules:

* ``prominence`` (the library's: :func:`facelandmarks.face_detection.prominence`);
* ``area``: the box's area; ``visible area``: its part inside the photo;
* a grid of ``visible area x centre weight (1 at the centre, c at a corner) x score ** p``
  (``c = 0.5, p = 0``: the rule before the score was counted).

Prints the counts. Never asserts.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np

from facelandmarks import load_ibug
from facelandmarks.face_detection import base, get_face_detector, prominence
from facelandmarks.images import load_image


def weighted(box, width, height, score, corner, power) -> float:
    """:func:`prominence` with another corner weight and score power (its module constants)."""
    saved = base.CORNER_WEIGHT, base.SCORE_POWER
    base.CORNER_WEIGHT, base.SCORE_POWER = corner, power
    try:
        return prominence(box, width, height, score)
    finally:
        base.CORNER_WEIGHT, base.SCORE_POWER = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wild", default=os.environ.get("FACELANDMARKS_WILD", "../shared/wild"))
    ap.add_argument("--detector", default="blazeface")
    args = ap.parse_args()

    train, held_out = load_ibug(args.wild).split(0.1, seed=0)
    finder = get_face_detector(args.detector)
    photos = []  # (split, width, height, [(box, score)], index of the annotated face)
    for split, data in (("train", train), ("held-out", held_out)):
        for path, xy in zip(data.image_paths, data.landmarks, strict=True):
            rgb = load_image(path)
            faces = finder.detect(rgb)
            if len(faces) < 2:
                continue
            centre = np.nanmean(np.asarray(xy, np.float64), axis=0)
            mid = [((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in faces]
            truth = int(np.argmin([math.dist(m, centre) for m in mid]))
            boxes = [(tuple(float(v) for v in f.box), float(f.score)) for f in faces]
            photos.append((split, rgb.shape[1], rgb.shape[0], boxes, truth))
    splits = ("train", "held-out")
    counts = {s: sum(p[0] == s for p in photos) for s in splits}
    print(
        f"{args.detector}: photos with two or more faces: {counts} (of {len(train)} and "
        f"{len(held_out)})"
    )

    def wrong(rule) -> dict[str, int]:
        out = dict.fromkeys(splits, 0)
        for split, w, h, boxes, truth in photos:
            ranks = [rule(box, w, h, score) for box, score in boxes]
            out[split] += int(int(np.argmax(ranks)) != truth)
        return out

    def area(box, w, h, score):
        return (box[2] - box[0]) * (box[3] - box[1])

    named = {
        "prominence (the library's)": lambda b, w, h, s: prominence(b, w, h, s),
        "area": area,
        "visible area": lambda b, w, h, s: weighted(b, w, h, s, 1.0, 0.0),
        "centre weight 1..0.5, no score": lambda b, w, h, s: weighted(b, w, h, s, 0.5, 0.0),
    }
    print(f"\n{'rule':<32}{'wrong (train)':>14}{'wrong (held-out)':>18}")
    for name, rule in named.items():
        got = wrong(rule)
        print(f"{name:<32}{got['train']:>14}{got['held-out']:>18}")
    powers = (0.0, 1.0, 2.0, 3.0)
    print("\ngrid, wrong picks train / held-out; rows: corner weight c, columns: score power p")
    print(f"{'c':>6}" + "".join(f"{f'p={p:g}':>12}" for p in powers))
    for corner in (0.5, 0.4, 0.3, 0.25, 0.2, 0.1):
        cells = []
        for power in powers:
            got = wrong(lambda b, w, h, s, c=corner, p=power: weighted(b, w, h, s, c, p))
            cells.append(f"{got['train']:>7} / {got['held-out']:<2}")
        print(f"{corner:>6}" + "".join(f"{c:>12}" for c in cells))


if __name__ == "__main__":
    main()
