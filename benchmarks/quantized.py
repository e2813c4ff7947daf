"""Quantised stages (float16, dynamic-range int8) against float32: accuracy and speed.

    python tools/quantize.py /tmp/quant                     # the variants of the default model
    python benchmarks/quantized.py /tmp/quant --muct ../shared/muct --wild ../shared/wild

Takes the files ``tools/quantize.py`` wrote for ``--weights`` (``<name>.stage<k>.<variant>
.tflite`` in the folder given) and runs the detector with each variant's files as its stage
engines (face detection unchanged: BlazeFace):

* accuracy, each set optional: NME (inter-ocular), median NME, failure rate at 0.10 and faces
  missed on the MUCT held-out subjects (``load_muct(DIR).split(0.3, by="subject", seed=0)``,
  the side the shipped MUCT models never saw) and on the in-the-wild validation faces
  (``load_ibug(DIR).split(0.1, by="subject", seed=0)``; a MUCT-only model is scored on the
  points the schemes share), with ``predict``'s face detection; and how far each variant's
  points are from float32's (median and maximum, pixels);
* speed, in ``--rounds`` alternating rounds (every item once per round, the order shifting):
  each stage's raw interpreter on a prepared input, and ``predict_faces`` on the benchmark
  photo (``examples/astronaut.png`` on a 480x640 canvas), medians of wall and CPU time.

Prints tables and the ratios to float32; no picture is written. Never asserts.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import (  # noqa: E402
    benchmark_image,
    header,
    interleaved,
    load_detector,
    log,
    ms,
    stage_inputs,
)

VARIANTS = ("float32", "float16", "int8")


def detectors(weights: str, folder: Path, threads: int | None) -> dict[str, object]:
    """One detector per variant found in ``folder``, its stages on that variant's files."""
    from facelandmarks.lite import LiteModel

    out = {}
    for variant in VARIANTS:
        det = load_detector(weights, "tflite", threads)
        name = det.spec.name if det.spec is not None else Path(weights).stem
        files = [
            folder / f"{name}.stage{k}.{variant}.tflite" for k in range(len(det.config.stages))
        ]
        if not all(f.is_file() for f in files):
            log(f"{variant}: not found ({files[0].name} ...); run tools/quantize.py")
            continue
        engines = det._engines
        engines._lite = {k: LiteModel(f, num_threads=threads) for k, f in enumerate(files)}
        out[variant] = det
        sizes = ", ".join(f"{f.stat().st_size / 1e6:.2f} MB" for f in files)
        log(f"{variant}: {', '.join(f.name for f in files)} ({sizes})")
    return out


def accuracy(dets: dict, label: str, data, limit: int) -> None:
    """NME of each variant on ``data`` (its first ``limit`` faces; 0: all)."""
    if limit:
        data = data.subset(np.arange(min(limit, len(data))))
    log(f"\n== {label}: {len(data)} faces (scheme {data.scheme}) ==")
    log(
        f"{'variant':<9}{'NME':>9}{'median':>9}{'fail@.10':>10}{'missed':>8}"
        f"{'NME - f32':>11}{'pts vs f32 med / max px':>26}{'s':>7}"
    )
    base = None
    for variant, det in dets.items():
        t0 = time.perf_counter()
        scores = det.evaluate(data, return_predictions=True)
        took = time.perf_counter() - t0
        pred = scores["predictions"]
        if base is None:
            base = scores
        dist = np.linalg.norm(pred - base["predictions"], axis=-1)
        dist = dist[np.isfinite(dist)]
        med, top = (float(np.median(dist)), float(dist.max())) if dist.size else (np.nan, np.nan)
        log(
            f"{variant:<9}{scores['nme']:>9.5f}{scores['median_nme']:>9.5f}"
            f"{scores['failure_rate@0.10']:>10.4f}{scores['n_missed']:>8d}"
            f"{scores['nme'] - base['nme']:>+11.5f}{med:>13.3f} / {top:>8.3f}{took:>9.1f}"
        )


def speed(dets: dict, rounds: int) -> None:
    """Raw stage interpreters and predict_faces of each variant, alternating rounds."""
    from facelandmarks import inference

    rgb = benchmark_image()
    items: dict[str, Callable] = {}
    for variant, det in dets.items():
        finder, name = det._detector()
        place = inference.placement_of(finder.detect(rgb)[0], name)
        for k, (_, crops) in enumerate(stage_inputs(det, [rgb], [place])):
            items[f"{variant} interpreter stage {k}"] = lambda e=det._engines[k], c=crops[:1]: e(c)
        items[f"{variant} predict_faces"] = lambda d=det: d.predict_faces(rgb)
    names = list(items)
    times = interleaved(items, n=1, rounds=rounds, warmup=1)
    wall = {k: w for k, (w, _) in times.items()}
    cpu = {k: c for k, (_, c) in times.items()}
    log(f"\n== speed: {rounds} alternating rounds, ms per call ==")
    log(f"{'item':<34}{'median':>9}{'p90':>9}{'CPU med':>9}{'/ float32':>11}")
    for k in names:
        variant, what = k.split(" ", 1)
        ref = f"float32 {what}"
        ratio = ms(cpu[k]) / ms(cpu[ref]) if ref in cpu else float("nan")
        log(f"{k:<34}{ms(wall[k]):>9.3f}{ms(wall[k], 90):>9.3f}{ms(cpu[k]):>9.3f}{ratio:>11.2f}")
    log("(/ float32: CPU-time median over float32's, same item)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where tools/quantize.py wrote the files")
    parser.add_argument("--weights", default="default", help="the detector they came from")
    parser.add_argument("--muct", type=Path, help="MUCT folder (held-out subjects scored)")
    parser.add_argument("--wild", type=Path, help="300-W folder (validation faces scored)")
    parser.add_argument("--n-muct", type=int, default=0, help="first N held-out faces (0: all)")
    parser.add_argument("--n-wild", type=int, default=0, help="first N validation faces")
    parser.add_argument("--rounds", type=int, default=200, help="speed rounds (0: none)")
    parser.add_argument("--threads", type=int, default=None, help="interpreter threads")
    args = parser.parse_args(argv)
    log(header())
    dets = detectors(args.weights, args.folder, args.threads)
    if "float32" not in dets:
        raise SystemExit("no float32 files: the reference is needed")
    if args.muct:
        from facelandmarks import load_muct

        _, test = load_muct(args.muct).split(0.3, by="subject", seed=0)
        accuracy(dets, "MUCT held-out subjects (split 0.3 by subject, seed 0)", test, args.n_muct)
    if args.wild:
        from facelandmarks import load_ibug

        _, val = load_ibug(args.wild).split(0.1, by="subject", seed=0)
        accuracy(dets, "in-the-wild validation (split 0.1 by subject, seed 0)", val, args.n_wild)
    if args.rounds:
        speed(dets, args.rounds)


if __name__ == "__main__":
    main()
