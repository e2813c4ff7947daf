"""How close candidate MUCT <-> iBUG point pairs sit on the two datasets' mean shapes.

Reads landmark files only (no image) from ``../shared/muct`` and ``../shared/wild`` (relative to
the repository root; ``--muct`` / ``--wild`` to change) and prints distances in inter-ocular
units (outer eye corners). The mean MUCT frontal shape (camera ``a``, Procrustes) is fitted by a
similarity onto the Procrustes mean of the 300-W shapes through the 8 registered shared points;
then each candidate pair's distance says how far apart the two annotations put "the same" point.
Pose and expression differ between the datasets, so this can refute a pair, not prove one. The
``closed frontal`` rows use only 300-W faces with closed mouths (inner lips < 0.03 apart) and
the nose tip midway between the eye corners (within 0.08).

    python benchmarks/scheme_correspondence.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facelandmarks.datasets import load_ibug, load_muct
from facelandmarks.schemes import IBUG68, MUCT76
from facelandmarks.shapes import mean_shape, similarity_align

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = {
    "outer lip top 51/51": (51, 51),
    "outer lip bottom 57/57": (57, 57),
    "inner lip top 64/62": (64, 62),
    "inner lip bottom 61/66": (61, 66),
    "nose base 41/33": (41, 33),
    "jaw end 0/0": (0, 0),
    "jaw end 14/16": (14, 16),
    "brow outer end 21/17": (21, 17),
    "brow outer end 15/26": (15, 26),
}


def report(label: str, muct_mean: np.ndarray, ibug_mean: np.ndarray) -> None:
    mine, theirs = MUCT76.correspondence(IBUG68)
    target = np.full_like(muct_mean, np.nan)
    target[mine] = ibug_mean[theirs]
    moved = similarity_align(muct_mean, target)  # fitted on the 8 shared points only
    iod = np.linalg.norm(ibug_mean[36] - ibug_mean[45])
    shared = np.linalg.norm(moved[mine] - ibug_mean[theirs], axis=1) / iod
    print(f"\n{label}: the 8 shared pairs {shared.min():.3f}-{shared.max():.3f}")
    for name, (m, i) in CANDIDATES.items():
        print(f"  {name:24s} {np.linalg.norm(moved[m] - ibug_mean[i]) / iod:.3f}")
    lip_m = np.linalg.norm(moved[57] - moved[51]) / iod
    lip_i = np.linalg.norm(ibug_mean[57] - ibug_mean[51]) / iod
    gap_m = np.linalg.norm(moved[61] - moved[64]) / iod
    gap_i = np.linalg.norm(ibug_mean[66] - ibug_mean[62]) / iod
    print(f"  outer lip height 51-57: MUCT {lip_m:.3f}, iBUG {lip_i:.3f}")
    print(f"  inner lip gap: MUCT 64-61 {gap_m:.3f}, iBUG 62-66 {gap_i:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--muct", default=str(REPO.parent / "shared" / "muct"))
    ap.add_argument("--wild", default=str(REPO.parent / "shared" / "wild"))
    args = ap.parse_args()
    muct = load_muct(args.muct, cameras="a")
    wild = load_ibug(args.wild).landmarks
    muct_mean = mean_shape(muct.landmarks, eye_corners=MUCT76.eye_corners)
    print(f"{len(muct)} MUCT camera-a faces, {len(wild)} 300-W faces")
    report("all 300-W faces", muct_mean, mean_shape(wild, eye_corners=IBUG68.eye_corners))
    iod = np.linalg.norm(wild[:, 36] - wild[:, 45], axis=1)
    gap = np.linalg.norm(wild[:, 62] - wild[:, 66], axis=1) / iod
    sides = np.linalg.norm(wild[:, 30] - wild[:, 36], axis=1) - np.linalg.norm(
        wild[:, 30] - wild[:, 45], axis=1
    )
    keep = (gap < 0.03) & (np.abs(sides) / iod < 0.08)
    report(
        f"closed frontal 300-W faces ({int(keep.sum())})",
        muct_mean,
        mean_shape(wild[keep], eye_corners=IBUG68.eye_corners),
    )


if __name__ == "__main__":
    main()
