"""Face detectors side by side: recall, false boxes, eye keypoint error and time per photo.

    python benchmarks/face_detection.py [--wild ../shared/wild] [--muct ../shared/muct]
        [--n-wild 0] [--n-muct 300] [--others] [--threads 2] [--thresholds 0.3,0.5,0.7]

Detectors: BlazeFace short range, full range, and ``auto`` (short range, full range only when
short range finds nothing), each with its defaults; ``--others`` adds MTCNN and OpenCV's Haar
cascade when installed; ``--threads 1,2`` builds the BlazeFace detectors once per thread count.
All detectors run on each photo in turn (the order rotates from photo to photo), so their
timings share the machine's load; the time is ``detect`` alone (the photo is decoded before).

Data, read only (numbers are printed; no image or crop is written anywhere):

* ``--wild``: the photos ``load_ibug`` reads under the folder (or ``--n-wild`` of them, evenly
  spaced), one annotated face per photo.
* ``--muct``: ``--n-muct`` of the photos ``load_muct`` reads (evenly spaced, sorted by name).

A face is *found* when a returned box's centre lies inside the box of its annotated points; a
*false box* is any other box (on wild photos possibly an unannotated face: an upper bound).
Eye error: distance from the found box's eye keypoints to the annotated eye centres (iBUG 36-41
and 42-47; MUCT pupils 31 and 36), in units of the annotated inter-ocular distance. Extra rows
measure false boxes on pictures without the annotated face: the wild photos upside down, with
the face box (1.2x) filled grey, and blank/noise images.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import header, spaced, turned  # noqa: E402
from facelandmarks import load_ibug, load_muct  # noqa: E402
from facelandmarks.face_detection import FaceBox  # noqa: E402
from facelandmarks.face_detection.blazeface import BlazeFaceDetector  # noqa: E402
from facelandmarks.images import load_image  # noqa: E402

Detect = Callable[[np.ndarray], list[FaceBox]]


def _items(data, eye_rows) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """(image path, point box (x0, y0, x1, y1) edges, eye centres (2, 2)) per photo."""
    out = []
    for path, xy in zip(data.image_paths, data.landmarks.astype(np.float64), strict=True):
        ok = xy[~np.isnan(xy).any(axis=1)]
        box = np.concatenate([ok.min(0), ok.max(0)]) + 0.5 * np.array([-1, -1, 1, 1])
        out.append((Path(path), box, np.stack([xy[r].mean(axis=0) for r in eye_rows])))
    return out


def wild_items(root: Path, n: int) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    return _items(spaced(load_ibug(root), n), (slice(36, 42), slice(42, 48)))


def muct_items(root: Path, n: int) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    return _items(spaced(load_muct(root), n), ([31], [36]))


def shrunk_faces(items: list, low: float, high: float, seed: int = 0) -> list:
    """Each photo scaled so its face is low..high px wide, pasted into a 1024x768 plain canvas.

    The photo's mean colour fills the canvas; the face lands at a random place fully inside it
    (the photo is clipped at the canvas edges). Returns callables giving (canvas, box, eyes).
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    plans = [(*item, rng.uniform(low, high), rng.uniform(0, 1, 2)) for item in items]

    def make(path: Path, box: np.ndarray, eyes: np.ndarray, face_w: float, pos: np.ndarray):
        image = load_image(path)
        h, w = image.shape[:2]
        scale = face_w / (box[2] - box[0])
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        sx, sy = size[0] / w, size[1] / h
        face = box * np.array([sx, sy, sx, sy])
        # the offset of the photo in the canvas: keeps the face box inside the canvas
        lo = np.floor(-face[:2]).astype(int)
        hi = np.floor(np.array([1024, 768]) - face[2:]).astype(int)
        x0, y0 = (lo + pos * np.maximum(hi - lo, 0)).astype(int)
        canvas = np.empty((768, 1024, 3), np.uint8)
        canvas[:] = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + size[0], 1024), min(y0 + size[1], 768)
        canvas[cy0:cy1, cx0:cx1] = small[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        new_eyes = (eyes + 0.5) * np.array([sx, sy]) - 0.5 + np.array([x0, y0])
        return canvas, face + np.array([x0, y0, x0, y0]), new_eyes

    return [(lambda a=a: make(*a)) for a in plans]


def run_sizes(items: list, finders: dict[str, Detect], fractions: list[float]) -> None:
    """Recall against the face's width as a fraction of the picture's longest side."""
    print(f"\nRecall by face size: {len(items)} wild photos, face width = fraction of 1024 px")
    print(f"{'detector':22s} " + " ".join(f"{f:>6.2f}" for f in fractions))
    found = {(k, f): 0 for k in finders for f in fractions}
    for f in fractions:
        for make in shrunk_faces(items, f * 1024, f * 1024):
            canvas, box, _ = make()
            for name, detect in finders.items():
                found[name, f] += any(centre_inside(face, box) for face in detect(canvas))
    for name in finders:
        cells = " ".join(f"{100 * found[name, f] / len(items):5.1f}%" for f in fractions)
        print(f"{name:22s} {cells}")


def group_pictures(items: list, n: int, seed: int = 0) -> list:
    """n pictures of 4 faces on a 1024x768 canvas: one 160-240 px wide, three 48-96 px.

    Each face is cut from its photo as a square twice its point box's width around its centre,
    scaled, and pasted into one quadrant. Returns callables giving (canvas, boxes (4, 4)).
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    plans = []
    for _ in range(n):
        picks = rng.choice(len(items), 4, replace=False)
        widths = [rng.uniform(160, 240), *rng.uniform(48, 96, 3)]
        plans.append(
            [(items[i], w, rng.uniform(0, 1, 2)) for i, w in zip(picks, widths, strict=True)]
        )

    def make(plan: list) -> tuple[np.ndarray, np.ndarray]:
        canvas = np.full((768, 1024, 3), 100, np.uint8)
        boxes = []
        for q, ((path, box, _), face_w, pos) in enumerate(plan):
            image = load_image(path)
            cx, cy, half = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0]
            left, top, src = round(cx - half), round(cy - half), round(2 * half)
            side = round(2 * face_w)
            pil = Image.fromarray(image).crop((left, top, left + src, top + src))
            tile = np.asarray(pil.resize((side, side), Image.Resampling.BILINEAR))
            cell_x, cell_y = (q % 2) * 512, (q // 2) * 384
            x0 = cell_x + int(pos[0] * max(0, 512 - side))
            y0 = cell_y + int(pos[1] * max(0, 384 - side))
            tile = tile[: 768 - y0, : 1024 - x0]
            canvas[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]] = tile
            scale = side / src
            boxes.append((box - np.array([left, top, left, top])) * scale + [x0, y0, x0, y0])
        return canvas, np.array(boxes)

    return [(lambda p=p: make(p)) for p in plans]


def run_groups(pictures: list, finders: dict[str, Detect]) -> None:
    found = {k: np.zeros(2, int) for k in finders}
    false = dict.fromkeys(finders, 0)
    ms: dict[str, list[float]] = {k: [] for k in finders}
    for make in pictures:
        canvas, boxes = make()
        for name, detect in finders.items():
            t0 = time.perf_counter()
            faces = detect(canvas)
            ms[name].append(1000 * (time.perf_counter() - t0))
            hit = np.array([[centre_inside(f, b) for f in faces] for b in boxes]).reshape(4, -1)
            found[name] += [int(hit[0].any()), int(hit[1:].any(axis=1).sum())]
            false[name] += int((~hit.any(axis=0)).sum())
    n = len(pictures)
    print(f"\nGroup pictures: {n} canvases 1024x768, each 1 face 160-240 px wide + 3 of 48-96 px")
    for name in finders:
        print(
            f"  {name:22s} large found {100 * found[name][0] / n:6.2f}%   small found "
            f"{100 * found[name][1] / (3 * n):6.2f}%   false {false[name]:4d}   "
            f"ms med {np.median(ms[name]):6.2f}"
        )


def rotated(items: list, k: int) -> list:
    """The photos turned by k * 90 degrees counter-clockwise (np.rot90), points moved along."""

    def make(path: Path, box: np.ndarray, eyes: np.ndarray):
        # the box's edge corners as pixel centres (- 0.5), turned with the eyes
        image, moved = turned(load_image(path), np.vstack([box.reshape(2, 2) - 0.5, eyes]), k)
        corners = moved[:2] + 0.5
        return image, np.concatenate([corners.min(axis=0), corners.max(axis=0)]), moved[2:]

    return [(lambda a=a: make(*a)) for a in items]


def centre_inside(face: FaceBox, box: np.ndarray) -> bool:
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    return bool(box[0] <= cx <= box[2] and box[1] <= cy <= box[3])


def detectors(threads: list[int | None], others: bool) -> dict[str, Detect]:
    out: dict[str, Detect] = {}
    for t in threads:
        suffix = "" if len(threads) == 1 else f" t{t}"
        for model in ("short", "full", "auto"):
            out[f"blazeface-{model}{suffix}"] = BlazeFaceDetector(model, num_threads=t).detect
    if others:
        from facelandmarks.face_detection import MTCNNFaceDetector, OpenCVFaceDetector

        for name, cls in (("mtcnn", MTCNNFaceDetector), ("opencv-haar", OpenCVFaceDetector)):
            try:
                out[name] = cls().detect
            except ImportError as err:
                print(f"skipping {name}: {err}", file=sys.stderr)
    return out


def run(title: str, items: list, finders: dict[str, Detect], thresholds: list[float]) -> None:
    names = list(finders)
    ms = {k: [] for k in names}
    found = dict.fromkeys(names, 0)
    top = dict.fromkeys(names, 0)
    false = dict.fromkeys(names, 0)
    eye_err: dict[str, list[float]] = {k: [] for k in names}
    face_scores: dict[str, list[float]] = {k: [] for k in names}
    false_scores: dict[str, list[float]] = {k: [] for k in names}
    sizes = []
    for k, item in enumerate(items):
        if callable(item):
            image, box, eyes = item()
        else:
            path, box, eyes = item
            image = load_image(path)
        sizes.append(max(image.shape[:2]))
        order = names[k % len(names) :] + names[: k % len(names)]
        for name in order:
            t0 = time.perf_counter()
            faces = finders[name](image)
            ms[name].append(1000 * (time.perf_counter() - t0))
            hits = [centre_inside(f, box) for f in faces]
            false[name] += len(hits) - sum(hits)
            false_scores[name] += [f.score for f, h in zip(faces, hits, strict=True) if not h]
            if any(hits):
                found[name] += 1
                top[name] += hits[0]
                face = faces[hits.index(True)]
                face_scores[name].append(face.score)
                if face.keypoints is not None:
                    iod = np.linalg.norm(eyes[1] - eyes[0])
                    d = np.linalg.norm(face.keypoints[:2] - eyes, axis=1) / iod
                    eye_err[name] += d.tolist()
        if (k + 1) % 200 == 0:
            print(f"  ... {k + 1}/{len(items)}", file=sys.stderr, flush=True)
    n = len(items)
    print(f"\n{title}: {n} photos, longest side median {int(np.median(sizes))} px")
    head = (
        f"{'detector':22s} {'recall':>7s} {'top1':>7s} {'false':>6s} {'ms med':>7s} "
        f"{'ms p90':>7s} {'eye med':>8s} {'eye p90':>8s} {'min face':>9s}"
    )
    print(head + "\n" + "-" * len(head))
    for name in names:
        e = np.array(eye_err[name]) if eye_err[name] else np.array([np.nan])
        print(
            f"{name:22s} {100 * found[name] / n:6.2f}% {100 * top[name] / n:6.2f}% "
            f"{false[name]:6d} {np.median(ms[name]):7.2f} {np.percentile(ms[name], 90):7.2f} "
            f"{np.median(e):8.3f} {np.percentile(e, 90):8.3f} "
            f"{min(face_scores[name], default=np.nan):9.3f}"
        )
    base = names[0]
    print(
        "time ratios: "
        + ", ".join(f"{k}/{base} {np.median(ms[k]) / np.median(ms[base]):.2f}" for k in names[1:])
    )
    if thresholds:
        print("recall / false boxes if min_score were raised to:")
        for name in names:
            if not name.startswith("blazeface"):
                continue
            cells = []
            for t in thresholds:
                fs = np.array(face_scores[name])
                cells.append(
                    f"{t:.2f}: {100 * (fs >= t).sum() / n:.2f}% / "
                    f"{int((np.array(false_scores[name]) >= t).sum())}"
                )
            print(f"  {name:22s} " + "   ".join(cells))


def run_negatives(sets: dict[str, list], finders: dict[str, Detect]) -> None:
    """Pictures with any box, among pictures without the annotated face (greyed out)."""
    rng = np.random.default_rng(0)
    counts = {(kind, k): 0 for kind in [*sets, "blank/noise"] for k in finders}
    for kind, items in sets.items():
        for path, box, _ in items:
            picture = _grey_out(load_image(path), box)
            for name, detect in finders.items():
                counts[kind, name] += len(detect(picture)) > 0
    synth = [np.full((480, 640, 3), v, np.uint8) for v in (0, 128, 255)]
    synth += [rng.integers(0, 256, (s, s, 3), dtype=np.uint8) for s in (64, 256, 512, 1024)]
    ramp = np.linspace(0, 255, 640, dtype=np.float32)
    synth.append(np.broadcast_to(ramp[None, :, None], (480, 640, 3)).astype(np.uint8))
    for picture in synth:
        for name, detect in finders.items():
            counts["blank/noise", name] += len(detect(picture)) > 0
    sizes = {kind: len(items) for kind, items in sets.items()} | {"blank/noise": len(synth)}
    print("\nPictures with any box, face box (1.2x) greyed out (wild: other people may remain):")
    for name in finders:
        cells = [f"{kind} {counts[kind, name]}/{sizes[kind]}" for kind in sizes]
        print(f"  {name:22s} " + "   ".join(cells))


def _grey_out(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    out = image.copy()
    cx, cy, half = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 0.6 * (box[2:] - box[:2])
    x0, y0 = np.floor([cx - half[0], cy - half[1]]).astype(int).clip(0)
    x1, y1 = np.ceil([cx + half[0], cy + half[1]]).astype(int)
    out[y0:y1, x0:x1] = 128
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wild", type=Path, default=REPO.parent / "shared" / "wild")
    ap.add_argument("--muct", type=Path, default=REPO.parent / "shared" / "muct")
    ap.add_argument("--n-wild", type=int, default=0, help="evenly spaced photos (0 = all)")
    ap.add_argument("--n-muct", type=int, default=300, help="evenly spaced photos (0 = all)")
    ap.add_argument("--others", action="store_true", help="add MTCNN and Haar if installed")
    ap.add_argument("--threads", default="", help="e.g. 1,2 (default: the library's default)")
    ap.add_argument("--thresholds", default="0.6,0.7,0.8")
    ap.add_argument("--no-negatives", action="store_true")
    ap.add_argument("--no-small", action="store_true")
    ap.add_argument("--rotated", action="store_true", help="also photos turned 90 and 180 deg")
    ap.add_argument("--sizes", default="0.04,0.06,0.08,0.1,0.12,0.14,0.17,0.2,0.3")
    ap.add_argument("--groups", type=int, default=100, help="synthetic group pictures (0: none)")
    ap.add_argument("--n-small", type=int, default=300, help="photos for small faces (0 = all)")
    args = ap.parse_args()

    threads = [int(t) for t in args.threads.split(",") if t] or [None]
    print(header(f"threads {threads}"))
    finders = detectors(threads, args.others)
    warm = np.zeros((480, 640, 3), np.uint8)
    for detect in finders.values():
        detect(warm)
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    wild = wild_items(args.wild, args.n_wild) if args.wild.is_dir() else []
    if wild:
        run("In-the-wild (300-W training parts)", wild, finders, thresholds)
    if wild and not args.no_small:
        picks = wild[:: max(1, len(wild) // args.n_small)] if args.n_small else wild
        run(
            "Small faces (wild photos shrunk: face 48-96 px wide in 1024x768)",
            shrunk_faces(picks, 48, 96),
            finders,
            thresholds,
        )
    some_wild = wild[:: max(1, len(wild) // 300)]
    if wild and args.sizes:
        fractions = [float(f) for f in args.sizes.split(",")]
        run_sizes(wild[:: max(1, len(wild) // 150)], finders, fractions)
    if wild and args.groups:
        run_groups(group_pictures(wild, args.groups), finders)
    if wild and args.rotated:
        run("Wild photos turned 90 degrees (counter-clockwise)", rotated(some_wild, 1), finders, [])
        run("Wild photos turned 180 degrees", rotated(some_wild, 2), finders, [])
    muct = muct_items(args.muct, args.n_muct) if (args.muct / "jpg").is_dir() else []
    if muct:
        run("MUCT", muct, finders, thresholds)
    if not args.no_negatives:
        run_negatives({"MUCT": muct[:: max(1, len(muct) // 300)], "wild": some_wild}, finders)
    print(
        "\nrecall: photos whose annotated face has a box centred inside its point box; top1: "
        "the best-scored box is that face; false: other boxes (summed; on wild photos they may "
        "be unannotated faces); eye med/p90: eye keypoint error / inter-ocular distance over "
        "both eyes of found faces; min face: lowest score of a found face."
    )


if __name__ == "__main__":
    main()
