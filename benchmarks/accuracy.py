"""Landmark accuracy on faces the model never trained on, through the path users run: the face
detector finds each face, the model places the points (``predict``, ``framing="detect"``).

    python benchmarks/accuracy.py --muct ../shared/muct --wild ../shared/wild \
        [--weights default] [--schemes muct76,ibug68] [--plot docs/images/ced.png] [--n 0] \
        [--flip | --no-flip] [--face main|annotated]

Faces scored (the test sides of the splits the shipped models were trained with):

* MUCT: ``load_muct(...).split(0.3, by="subject", seed=0)[1]`` (68 subjects never seen), all 76
  points (unavailable ones excluded), per camera group (a/d/e frontal-ish, b/c with hidden
  points); normalised by the outer eye corners (27-32).
* in the wild: ``load_ibug(...).split(0.1, by="subject", seed=0)[1]`` (photos never seen: 10 % of
  each of afw, helen-train and lfpw-train), per folder; the 68-point head on all 68 points, the
  76-point head on the 8 points the schemes share (eye corners, nose tip, mouth corners, chin);
  normalised by the outer eye corners (iBUG 36-45).

Which face of a photo is scored: ``--face main`` (default) takes what ``predict`` returns, the
most prominent face, so a photo where a bystander wins counts against the model as a user would
see it; ``--face annotated`` takes the found face nearest the annotation (the usual protocol).
A face the detector misses counts as a miss (its NME is not averaged) and as a failure in
``missed or > 0.10``. Prints a table; with ``--plot`` also writes a CED image (matplotlib).
No dataset photo is written anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np

from benchmarks._bench import spaced
from facelandmarks import LandmarkDetector, load_ibug, load_muct
from facelandmarks.evaluation import annotated_faces, auc_with_misses, score_faces
from facelandmarks.schemes import get_scheme
from facelandmarks.weights import default_preset_name

COLUMNS = ("faces", "missed", "NME", "median", "FR@0.10", "missed or >0.10", "AUC@0.10")


def score(pred: np.ndarray, data, scheme: str) -> tuple[dict[str, float], np.ndarray]:
    """The table's columns for ``pred`` (in ``scheme``) against ``data``, and per-face NMEs."""
    scores, nme = score_faces(pred, data.landmarks, pred_scheme=scheme, true_scheme=data.scheme)
    return {  # the faces found (none: NaN), except for the misses' columns
        "faces": len(pred),
        "missed": scores["n_missed"],
        "NME": scores.get("nme", float("nan")),
        "median": scores.get("median_nme", float("nan")),
        "FR@0.10": scores.get("failure_rate@0.10", float("nan")),
        "missed or >0.10": scores["missed_or_failed@0.10"],
        "AUC@0.10": auc_with_misses(nme),
    }, nme


def _print(title: str, rows: list[tuple[str, dict[str, float]]]) -> None:
    print(f"\n{title}")
    print(f"{'':28s}" + "".join(f"{c:>17s}" for c in COLUMNS))
    for name, row in rows:
        cells = []
        for c in COLUMNS:
            v = row[c]
            cells.append(f"{v:>17d}" if isinstance(v, int) else f"{v:>17.4f}")
        print(f"{name:28s}" + "".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--muct", help="MUCT root (official layout)")
    ap.add_argument("--wild", help="folder of iBUG .pts faces (300-W layout)")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--schemes", default="", help="heads to score (default: all the model has)")
    ap.add_argument("--framing", default="detect", choices=("detect", "image"))
    ap.add_argument("--n", type=int, default=0, help="evenly spaced faces per set (0: all)")
    ap.add_argument("--plot", help="write a CED plot (PNG) of the in-the-wild faces here")
    ap.add_argument(
        "--face",
        default="main",
        choices=("main", "annotated"),
        help="main: predict's choice, the most prominent face (what users get); annotated: of "
        "the faces found, the one whose box centre is nearest the annotated points' centre "
        "(the usual protocol for photos with several faces); a photo with none is a miss",
    )
    ap.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="test-time flip (average with the mirrored crop) on every stage, or on none; "
        "default: as the model ships (wild-mnv3s-2stage flips its refining stage)",
    )
    args = ap.parse_args()
    if args.weights == "default":  # one model for every head (scheme="ibug68" alone picks another)
        args.weights = default_preset_name()

    base = LandmarkDetector(args.weights)
    schemes = [s for s in args.schemes.split(",") if s] or list(base.schemes)
    print(
        f"weights={args.weights} heads={list(base.schemes)} framing={args.framing} "
        f"flip={[s.test_time_flip for s in base.config.stages] if args.flip is None else args.flip}"
    )
    sets = []
    if args.muct:
        sets.append(("MUCT held-out", spaced(load_muct(args.muct).split(0.3, seed=0)[1], args.n)))
    if args.wild:
        sets.append(("in the wild", spaced(load_ibug(args.wild).split(0.1, seed=0)[1], args.n)))
    curves = []
    for title, data in sets:
        groups = sorted(set(data.groups)) if data.scheme == "ibug68" else ["ade", "bc"]
        rows: list[tuple[str, dict[str, float]]] = []  # each head's total, then its groups
        for scheme in schemes:
            det = LandmarkDetector(args.weights, scheme=scheme)
            if args.flip is not None:
                det.set_test_time_flip(args.flip)
            t0 = time.perf_counter()
            if args.face == "main":
                pred = det.predict(data, framing=args.framing)
            else:
                pred = annotated_faces(det.predict_faces(data), data.landmarks, det.num_points)
            ms = (time.perf_counter() - t0) / len(data) * 1000
            if scheme != data.scheme and not get_scheme(scheme).correspondence(data.scheme)[0].size:
                continue
            label = scheme if scheme == data.scheme else f"{scheme} (shared points)"
            total, nme = score(pred, data, scheme)
            rows.append((f"{label}, all", {**total, "faces": len(data)}))
            for g in groups:
                if data.scheme == "ibug68":
                    idx = np.flatnonzero(np.array(data.groups) == g)
                else:
                    idx = np.flatnonzero(np.isin(np.array(data.cameras), list(g)))
                if idx.size:
                    rows.append((f"  {g}", score(pred[idx], data.subset(idx), scheme)[0]))
            print(f"{title}: {scheme}: {ms:.1f} ms per photo (detection + landmarks, one call)")
            if data.scheme == "ibug68":
                curves.append((label, np.where(np.isfinite(nme), nme, np.inf)))
        _print(f"{title}: {len(data)} faces", rows)
    if args.plot and curves:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from facelandmarks.drawing import plot_ced

        fig, ax = plt.subplots(figsize=(6, 4))
        finite = [np.minimum(c, 1.0) for _, c in curves]  # misses plotted beyond the axis
        plot_ced(finite, labels=[name for name, _ in curves], max_threshold=0.10, ax=ax)
        ax.set_title("In-the-wild validation faces (detector in the loop)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
