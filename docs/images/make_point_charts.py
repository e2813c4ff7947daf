"""Draws the numbered point charts of docs/points.md from mean shapes (never from a photo).

    python docs/images/make_point_charts.py [MUCT_ROOT] [WILD_ROOT]

Writes, next to this script:

* ``points.png``: the 76 MUCT points on the plain mean of the MUCT frontal (camera ``a``)
  ground truth (default root ``../shared/muct``);
* ``points-ibug68.png``: the 68 iBUG points on the Procrustes mean of the in-the-wild 300-W
  training shapes (default root ``../shared/wild``) whose mouths are open (inner lips at least
  0.15 inter-ocular distances apart, so the inner-lip loop has room for its numbers), eye line
  level.

Only landmark coordinates are read; no image is opened or drawn.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from facelandmarks.datasets import load_ibug, load_muct
from facelandmarks.drawing import draw_point_chart
from facelandmarks.schemes import IBUG68
from facelandmarks.shapes import mean_shape

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"


def main() -> None:
    muct_root = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED / "muct"
    wild_root = Path(sys.argv[2]) if len(sys.argv) > 2 else SHARED / "wild"
    muct = load_muct(muct_root, cameras="a")
    draw_point_chart(np.nanmean(muct.landmarks, axis=0), path=HERE / "points.png")
    lm = load_ibug(wild_root).landmarks
    a, b = IBUG68.eye_corners
    gap = np.linalg.norm(lm[:, 62] - lm[:, 66], axis=1) / np.linalg.norm(
        lm[:, a] - lm[:, b], axis=1
    )
    open_mouth = lm[gap >= 0.15]
    mean = mean_shape(open_mouth, eye_corners=IBUG68.eye_corners)
    draw_point_chart(mean, size=(600, 640), path=HERE / "points-ibug68.png")
    print(f"wrote points.png ({len(muct)} MUCT faces), points-ibug68.png ({len(open_mouth)} faces)")


if __name__ == "__main__":
    main()
