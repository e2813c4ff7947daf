"""Latency of one 480x640 photo: ``predict_faces``, the landmark step, video tracking, the raw
forward passes, and MediaPipe's face mesh, side by side in one run.

The photo is ``examples/astronaut.png`` resized to 480x480 and centred on a black 480x640
canvas, given as a decoded uint8 array (no file reading is timed). In one process, after a
warm-up, ``--rounds`` rounds of ``--n`` calls of every item, round-robin (the starting item
shifts each call):

* ``predict_faces``: ``det.predict_faces(rgb)``: face detection + landmarks, end to end;
* ``predict_faces(boxes)``: the landmark step alone, the face box given (the detector's box);
* ``crop stage k`` / ``interpreter stage k``: its raw pieces: cutting stage ``k``'s input
  (:func:`facelandmarks.crop.render_crop`) and the stage's engine on a prepared input;
* ``interpreter blazeface``: the face detector's raw forward pass on a prepared input;
* ``track (per frame)``: ``FaceTracker.update`` on a synthetic video (the photo shifted 3 px a
  frame right and 1 px down, back and forth), face detection every ``--detect-every`` frames.

With ``--mediapipe-python PATH`` (the Python of a venv with ``mediapipe==0.10.21``; it needs
``numpy<2``, ``protobuf<5``), MediaPipe's face mesh (static-image mode: detection and 468 points
on every call) runs in that interpreter as a subprocess (``benchmarks/_mediapipe_worker.py``),
``--n`` calls after each of our rounds (alternating rounds; the processes never run at once).

Prints medians and 90th percentiles in ms and the ratios against the targets of issue 12
(``predict_faces`` / MediaPipe <= 1.0, landmark step <= 3 ms, tracking <= 3 ms per frame).
Never asserts a timing.

Example::

    python benchmarks/latency.py --mediapipe-python /tmp/mpvenv/bin/python
    python benchmarks/latency.py --weights path/to/detector.keras --runtime tflite
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import (  # noqa: E402
    IMAGE_HW,
    benchmark_image,
    header,
    interleaved,
    load_detector,
    log,
    ms,
    stage_inputs,
)

WORKER = Path(__file__).with_name("_mediapipe_worker.py")


def video_frames(count: int = 40) -> list[np.ndarray]:
    """A synthetic video: the photo moving 3 px a frame right and 1 px down, then back."""
    half = count // 2
    steps = list(range(half)) + list(range(half, 0, -1))
    return [benchmark_image(3 * i - 30, i) for i in steps]


class MediaPipe:
    """MediaPipe's face mesh in another interpreter (see ``_mediapipe_worker.py``)."""

    def __init__(self, python: str, image: np.ndarray, tmp: str) -> None:
        path = Path(tmp) / "photo.npy"
        np.save(path, image)
        self.proc = subprocess.Popen(
            [python, str(WORKER), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.info = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError("the MediaPipe worker exited; run it by hand to see why")
        return json.loads(line)

    def run(self, n: int) -> dict:
        self.proc.stdin.write(f"run {n}\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except OSError:
            pass
        self.proc.wait(timeout=30)


def items_for(det, rgb: np.ndarray, detect_every: int) -> tuple[dict[str, Callable], dict]:
    """Everything to time, and facts about it (face box, stages, engines)."""
    from facelandmarks import inference
    from facelandmarks.crop import render_crop
    from facelandmarks.face_detection.ssd import letterbox
    from facelandmarks.tracking import FaceTracker

    finder, name = det._detector()
    found = finder.detect(rgb)
    if not found:
        raise SystemExit("no face found in the benchmark photo")
    box = found[0].box
    config = det.config
    place = inference.placement_of(found[0], name)
    engines = [det._engines[k] for k in range(len(config.stages))]
    items: dict[str, Callable] = {
        "predict_faces": lambda: det.predict_faces(rgb),
        "predict_faces(boxes)": lambda: det.predict_faces(rgb, boxes=[[box]]),
    }
    stages = []
    for k, (stage, (frames, crops)) in enumerate(
        zip(config.stages, stage_inputs(det, [rgb], [place]), strict=True)
    ):
        gray = stage.color == "gray"
        label = f"stage {k} ({stage.input_size[0]}x{stage.input_size[1]} {stage.framing})"
        stages.append(label)
        items[f"crop {label}"] = lambda f=frames[0], g=gray: render_crop(rgb, f, gray=g)
        items[f"interpreter {label}"] = lambda e=engines[k], c=crops[:1]: e(c)
    bf = getattr(finder, "_stages", None)
    if bf:
        x, _ = letterbox(rgb, bf[0].variant.size)
        items["interpreter blazeface"] = lambda m=bf[0].lite, x=x[None]: m.run(x)
    tracker = FaceTracker(det, detect_every=detect_every)
    frames = itertools.cycle(video_frames())
    items["track (per frame)"] = lambda: tracker.update(next(frames))
    facts = {"box": box, "stages": stages, "tracker": tracker, "detector": name}
    return items, facts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="default", help="preset name or file (default)")
    parser.add_argument(
        "--runtime", default="auto", choices=("auto", "tflite", "keras"), help="det runtime"
    )
    parser.add_argument("--threads", type=int, default=None, help="interpreter threads")
    parser.add_argument("--n", type=int, default=40, help="calls of each item per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--detect-every", type=int, default=30, help="tracking: detect every N")
    parser.add_argument("--mediapipe-python", default=None, help="Python with mediapipe")
    args = parser.parse_args(argv)

    rgb = benchmark_image()
    det = load_detector(args.weights, args.runtime, args.threads)
    items, facts = items_for(det, rgb, args.detect_every)
    log(header())
    log(f"photo: examples/astronaut.png on a {IMAGE_HW[0]}x{IMAGE_HW[1]} canvas (array)")
    log(f"detector: {det!r}, engines {det.engines}, face detector {facts['detector']}")
    log(f"face box {tuple(round(v, 1) for v in facts['box'])}")

    mp = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.mediapipe_python:
            if Path(args.mediapipe_python).exists():
                mp = MediaPipe(args.mediapipe_python, rgb, tmp)
                log(f"MediaPipe {mp.info.get('mediapipe')} face mesh, faces {mp.info['faces']}")
            else:
                log(f"MediaPipe skipped: {args.mediapipe_python} does not exist")
        else:
            log("MediaPipe skipped: no --mediapipe-python given")
        wall: dict[str, list[float]] = {k: [] for k in items}
        cpu: dict[str, list[float]] = {k: [] for k in items}
        mp_faces = None
        for r in range(args.rounds):
            got = interleaved(items, n=args.n, rounds=1, warmup=3 if r == 0 else 0)
            for k, (w, c) in got.items():
                wall[k].extend(w.tolist())
                cpu[k].extend(c.tolist())
            if mp is not None:
                if r == 0:
                    mp.run(3)  # warm-up
                reply = mp.run(args.n)
                wall.setdefault(MP, []).extend(reply["seconds"])
                cpu.setdefault(MP, []).extend(reply["cpu"])
                mp_faces = reply["faces"]
        if mp is not None:
            mp.close()
    report(args, wall, cpu, facts, mp_faces)


MP = "MediaPipe face mesh (subprocess)"


def report(args, wall: dict, cpu: dict, facts: dict, mp_faces: int | None) -> None:
    """Print the table and the ratios (medians)."""
    width = max(len(k) for k in wall) + 2
    log()
    log(f"== {args.rounds} rounds x {args.n} calls, interleaved; ms per call ==")
    log(f"{'item':<{width}}{'median':>9}{'p90':>9}{'mean':>9}{'CPU med':>9}")
    for k, v in wall.items():
        v = np.asarray(v)
        log(f"{k:<{width}}{ms(v):>9.3f}{ms(v, 90):>9.3f}{v.mean() * 1e3:>9.3f}{ms(cpu[k]):>9.3f}")
    tracker = facts["tracker"]
    log(
        f"tracking: {tracker.frame_index} frames, face detection on {tracker.detections} "
        f"(every {args.detect_every})"
    )
    log()
    log("Ratios and targets (medians of this run; wall time, CPU time in brackets):")
    for label, times in (("wall", wall), ("CPU", cpu)):
        med = {k: ms(v) for k, v in times.items()}
        raw = sum(v for k, v in med.items() if k.startswith("interpreter"))
        stage_raw = sum(v for k, v in med.items() if k.startswith("interpreter stage"))
        log(f"  [{label}]")
        if MP in med:
            log(
                f"    predict_faces / MediaPipe face mesh = {med['predict_faces'] / med[MP]:.2f}"
                f"   (target <= 1.0; MediaPipe found {mp_faces} face)"
            )
        step = med["predict_faces(boxes)"]
        log(f"    landmark step, predict_faces(boxes) = {step:.2f} ms (target <= 3)")
        log(f"    tracking = {med['track (per frame)']:.2f} ms per frame (target <= 3)")
        log(f"    predict_faces / raw interpreters (summed) = {med['predict_faces'] / raw:.2f}")
        log(f"    predict_faces(boxes) / raw landmark interpreters = {step / stage_raw:.2f}")


if __name__ == "__main__":
    main()
