"""Inference latency benchmark: raw forward pass vs the whole ``LandmarkDetector.predict``.

For ONE 480x640 image (``examples/astronaut.png`` letterboxed to 480x640 when present, a
synthetic image otherwise; never a dataset face), after a warm-up, in one process and
interleaved round-robin, ``--n`` times each:

* ``forward stage k``: ``det._engines[k](x)`` (the stage's engine) on a prepared
  ``(1, H, W, 3)`` input: the compiled model call plus the tensor conversion, nothing else;
* ``render stage k``: ``imageops.render_numpy`` cutting that stage's input out of the image;
* ``predict(array)``: ``det.predict(image)`` end to end (input checks, per stage: framing,
  render, forward, inverse map);
* ``predict(file)``: the same from a JPEG file in a temporary folder (adds reading and
  decoding);
* the same forward passes and ``predict`` calls with ``runtime="tflite"`` (each stage's
  TensorFlow Lite file, shipped with the default preset or converted before timing; see
  docs/export.md). The default ``runtime="auto"`` runs these for the shipped model; the
  TensorFlow rows are ``runtime="keras"``.

Then the batch throughput of ``predict`` on 64 images with ``batch_size=32`` and, for
reference, of the raw forward pass at batch 32. Prints medians, 90th percentiles and ratios;
never asserts a timing.

Example::

    python benchmarks/latency.py --n 50
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import copy
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT = REPO / "examples" / "astronaut.png"
CONFIG = REPO / "configs" / "muct-mnv3s-2stage.json"
IMAGE_HW = (480, 640)


def make_image() -> tuple[np.ndarray, str]:
    """The benchmark image: uint8 ``(480, 640, 3)`` RGB, and a description of its source."""
    from PIL import Image

    h, w = IMAGE_HW
    if ASTRONAUT.is_file():
        with Image.open(ASTRONAUT) as im:
            im = im.convert("RGB")
            scale = min(w / im.width, h / im.height)
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            im = im.resize(size, Image.BILINEAR)
            canvas = Image.new("RGB", (w, h))
            canvas.paste(im, ((w - size[0]) // 2, (h - size[1]) // 2))
        return np.asarray(canvas), f"{ASTRONAUT.name} letterboxed to {h}x{w}"
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / w * 200, yy / h * 200, (xx + yy) / (w + h) * 120], axis=-1) + 30
    face = ((xx - w / 2) / (w * 0.2)) ** 2 + ((yy - h / 2) / (h * 0.33)) ** 2 < 1
    base[face] = (210, 170, 140)
    image = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    return image, f"synthetic {h}x{w} (no {ASTRONAUT.relative_to(REPO)} found)"


def _plausible_head(det) -> None:
    """Give an untrained detector a constant, face-sized output (an ellipse of points).

    The kernel of each head is zeroed and its bias set to the points' logits, so every stage
    predicts the same plausible shape; later stages then crop a realistically sized box
    instead of a degenerate one. The forward pass costs exactly the same.
    """
    t = np.linspace(0, 2 * np.pi, det.num_points, endpoint=False)
    xyn = np.stack([0.5 + 0.18 * np.cos(t), 0.5 + 0.25 * np.sin(t)], axis=-1).reshape(-1)
    for model in det.models:
        dense = model.get_layer("landmarks")
        kernel, _ = dense.get_weights()
        dense.set_weights([np.zeros_like(kernel), np.log(xyn / (1 - xyn)).astype(np.float32)])


def make_detector(weights: str):
    """The detector to time, and a description of it."""
    from facelandmarks import DetectorConfig, LandmarkDetector

    if weights not in ("default", "untrained"):
        return LandmarkDetector(weights=weights, verbose=0), f"weights={weights!r}"
    if weights == "default":
        try:
            return LandmarkDetector(weights="default", verbose=0), "weights='default'"
        except ValueError as err:
            note = f"no default weights shipped ({type(err).__name__}); "
    else:
        note = ""
    config = DetectorConfig.from_dict(json.loads(CONFIG.read_text())["detector"])
    det = LandmarkDetector(weights=None, config=config)
    _plausible_head(det)
    return det, note + f"untrained model from {CONFIG.relative_to(REPO)} (same speed)"


def stage_inputs(det, rgb: np.ndarray) -> list[tuple[str, object, np.ndarray, np.ndarray]]:
    """Per stage: label, index, framing matrix and model input, made as ``predict`` makes them.

    Returns:
        ``[(label, stage index, float64 (3, 3) crop-centre -> image-centre matrix,
        float32 (1, H, W, 3) input in [0, 255]), ...]``.
    """
    from facelandmarks.imageops import render_numpy
    from facelandmarks.scaling import Framing, box_from_points

    h, w = rgb.shape[:2]
    out = []
    xy = None
    for k, stage in enumerate(det.config.stages):
        if stage.framing == "image":
            f = Framing.whole_image((w, h), stage.out_size, pixel_offset=stage.pixel_offset)
        else:
            aspect = stage.out_size[0] / stage.out_size[1]
            box = box_from_points(xy, margin=stage.box_margin, aspect=aspect)
            f = Framing(box, stage.out_size, pixel_offset=stage.pixel_offset)
        m = f.center_matrix()
        x = render_numpy(rgb, m, stage.input_size)[None]
        xyn = np.asarray(det._engines[k](x), np.float32).reshape(det.num_points, 2)
        xy = f.to_pixels(xyn)
        hh, ww = stage.input_size
        label = f"stage{k} {stage.backbone} {hh}x{ww} {stage.framing}"
        out.append((label, k, m, x))
    return out


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights",
        default="default",
        help="'default' (falls back to an untrained model of configs/muct-mnv3s-2stage.json "
        "when none is shipped), 'untrained', a preset name or a file",
    )
    parser.add_argument("--n", type=int, default=50, help="timed runs of each item")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each item first")
    parser.add_argument("--batch-images", type=int, default=64, help="images for throughput")
    parser.add_argument("--batch-size", type=int, default=32, help="predict batch_size")
    parser.add_argument("--batch-runs", type=int, default=3, help="timed throughput runs")
    args = parser.parse_args(argv)
    if min(args.n, args.batch_images, args.batch_size, args.batch_runs) < 1 or args.warmup < 0:
        parser.error("--n, --batch-images, --batch-size, --batch-runs must be >= 1")

    import tensorflow as tf

    from facelandmarks.imageops import render_numpy

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(
        f"python {sys.version.split()[0]}, tensorflow {tf.__version__}, "
        f"os.cpu_count() {os.cpu_count()}, usable CPUs {affinity}, TF threads intra_op "
        f"{tf.config.threading.get_intra_op_parallelism_threads()} / inter_op "
        f"{tf.config.threading.get_inter_op_parallelism_threads()} (0 = TF default), "
        f"TF_NUM_INTRAOP_THREADS={os.environ.get('TF_NUM_INTRAOP_THREADS', 'unset')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    rgb, source = make_image()
    det, desc = make_detector(args.weights)
    auto_engines = det.engines  # what the default runtime="auto" runs for these weights
    det.set_runtime("keras")
    print(f"image: {source}; detector: {desc}")
    print(f"  {det!r}")
    print(f"  runtime='auto' (the default) runs these weights on: {', '.join(auto_engines)}")

    stages = stage_inputs(det, rgb)
    # The same weights through the TensorFlow Lite runtime (converted once, before timing).
    lite = copy.copy(det).set_runtime("tflite")
    for _label, k, _m, x in stages:
        lite._engines[k](x)
    with tempfile.TemporaryDirectory() as tmp:
        from PIL import Image

        path = Path(tmp) / "bench.jpg"
        Image.fromarray(rgb).save(path, quality=95)
        items: dict[str, Callable[[], object]] = {}
        for label, k, _m, x in stages:
            items[f"forward {label}"] = lambda k=k, x=x: det._engines[k](x)
        for (label, _k, m, _x), stage in zip(stages, det.config.stages, strict=True):
            items[f"render  {label}"] = lambda m=m, size=stage.input_size: render_numpy(
                rgb, m, size
            )
        for label, k, _m, x in stages:
            items[f"forward tflite {label}"] = lambda k=k, x=x: lite._engines[k](x)
        items["predict(array)"] = lambda: det.predict(rgb)
        items["predict(file .jpg)"] = lambda: det.predict(path)
        items["predict(array) tflite"] = lambda: lite.predict(rgb)
        items["predict(file .jpg) tflite"] = lambda: lite.predict(path)

        names = list(items)
        for _ in range(args.warmup):
            for name in names:
                items[name]()
        samples: dict[str, list[float]] = {name: [] for name in names}
        for i in range(args.n):
            # Round-robin, starting one item later each run: no item always follows another.
            for j in range(len(names)):
                name = names[(i + j) % len(names)]
                samples[name].append(timed(items[name]))

        # Batch throughput, interleaved as well.
        batch = [rgb] * args.batch_images
        bitems: dict[str, tuple[int, Callable[[], object]]] = {
            f"predict {args.batch_images} images, batch_size {args.batch_size}": (
                args.batch_images,
                lambda: det.predict(batch, batch_size=args.batch_size),
            ),
            f"predict tflite {args.batch_images} images, batch_size {args.batch_size}": (
                args.batch_images,
                lambda: lite.predict(batch, batch_size=args.batch_size),
            ),
        }
        for label, k, _m, x in stages:
            xb = np.repeat(x, args.batch_size, axis=0)
            bitems[f"forward {label}, batch {args.batch_size}"] = (
                args.batch_size,
                lambda k=k, xb=xb: det._engines[k](xb),
            )
        for _, fn in bitems.values():
            fn()
        bsamples: dict[str, list[float]] = {name: [] for name in bitems}
        for _ in range(args.batch_runs):
            for name, (_, fn) in bitems.items():
                bsamples[name].append(timed(fn))

    med = {k: float(np.median(v)) * 1e3 for k, v in samples.items()}
    p90 = {k: float(np.percentile(v, 90)) * 1e3 for k, v in samples.items()}
    width = max(len(n) for n in names) + 2
    print()
    print(
        f"== One {IMAGE_HW[0]}x{IMAGE_HW[1]} image, {args.n} interleaved runs each "
        f"(after {args.warmup} warm-up) =="
    )
    print(f"{'item':<{width}}{'median ms':>11}{'p90 ms':>10}")
    for name in names:
        print(f"{name:<{width}}{med[name]:>11.2f}{p90[name]:>10.2f}")
    fwd = sum(med[n] for n in names if n.startswith("forward stage"))
    fwd_lite = sum(med[n] for n in names if n.startswith("forward tflite"))
    pred_lite = med["predict(array) tflite"]
    ren = sum(med[n] for n in names if n.startswith("render "))
    pred = med["predict(array)"]
    print(f"{'forward, all stages (sum)':<{width}}{fwd:>11.2f}")
    print(f"{'render, all stages (sum)':<{width}}{ren:>11.2f}")
    print(f"{'forward tflite, all stages (sum)':<{width}}{fwd_lite:>11.2f}")
    print()
    print("Ratios (medians, same run):")
    print(f"  predict(array) / raw forward of all stages = {pred / fwd:.2f}")
    print(f"  predict(file)  / raw forward of all stages = {med['predict(file .jpg)'] / fwd:.2f}")
    print(
        f"  share of predict(array): forward {fwd / pred:.0%}, render {ren / pred:.0%}, "
        f"rest (input checks, framing, inverse map, Python) {(pred - fwd - ren) / pred:.0%}"
    )
    print(f"  tflite forward / TF forward, all stages = {fwd_lite / fwd:.2f}")
    print(f"  predict(array) tflite / predict(array) = {pred_lite / pred:.2f}")
    print(
        f"  predict(array) tflite / raw tflite forward of all stages = {pred_lite / fwd_lite:.2f}"
    )

    print()
    print(f"== Throughput ({args.batch_runs} interleaved runs, median) ==")
    bwidth = max(len(n) for n in bitems) + 2
    print(f"{'item':<{bwidth}}{'ms/run':>10}{'images/s':>10}")
    ips = {}
    for name, (count, _) in bitems.items():
        t = float(np.median(bsamples[name]))
        ips[name] = count / t
        print(f"{name:<{bwidth}}{t * 1e3:>10.1f}{ips[name]:>10.1f}")
    fwd_all = sum(count / ips[n] for n, (count, _) in bitems.items() if n.startswith("forward"))
    batched_lite = ips[f"predict tflite {args.batch_images} images, batch_size {args.batch_size}"]
    print(
        f"{'forward, all stages (sum), batch ' + str(args.batch_size):<{bwidth}}"
        f"{fwd_all * 1e3:>10.1f}{args.batch_size / fwd_all:>10.1f}"
    )
    single = 1e3 / pred
    print(f"{'predict one image at a time':<{bwidth}}{pred:>10.1f}{single:>10.1f}")
    batched = next(iter(ips.values()))
    print(f"  batched predict / one-at-a-time predict (images/s) = {batched / single:.2f}")
    print(f"  batched predict tflite / batched predict (images/s) = {batched_lite / batched:.2f}")
    print(
        f"  batched predict / batched raw forward of all stages (images/s) = "
        f"{batched / (args.batch_size / fwd_all):.2f}"
    )


if __name__ == "__main__":
    main()
