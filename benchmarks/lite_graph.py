"""Keras' own TensorFlow Lite graph against the rewritten one (``lite_ready``), per stage.

    python benchmarks/lite_graph.py [--weights NAME_OR_PATH] [--rounds 15] [--n 40]

Converts each stage of ``--weights`` (default: the default preset) twice with
:func:`facelandmarks.export.tflite_bytes`: ``rewrite=False`` (Keras' GroupNormalization and
grayscale layers as the converter sees them) and ``rewrite=True`` (what the package ships and
caches). Prints, per stage: the ops and XNNPACK partitions of each file, the largest difference
of their outputs on the benchmark photo's face crop and on noise, and the median wall and CPU
time of one invoke (batch 1, default threads), both files alternated in ``--rounds`` rounds of
``--n`` calls in one run. Then the ratio rewritten / Keras. Never asserts.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import _bench  # noqa: E402


def _ops(lite) -> tuple[int, int]:
    """(ops in the file, delegate partitions) of a LiteModel's interpreter, (-1, -1) if unknown."""
    interpreter = lite._interp  # private: the op list is a diagnostic, not API
    if not hasattr(interpreter, "_get_ops_details"):
        return -1, -1
    names = collections.Counter(op["op_name"] for op in interpreter._get_ops_details())
    partitions = names.pop("DELEGATE", 0)
    return sum(names.values()), partitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", default=None, help="preset name or file (default: the default preset)"
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args(argv)

    from facelandmarks import LandmarkDetector
    from facelandmarks import weights as fl_weights
    from facelandmarks.export import tflite_bytes
    from facelandmarks.lite import LiteModel

    weights = args.weights or fl_weights.default_preset_name()
    det = LandmarkDetector(weights=weights, runtime="keras", verbose=0)
    _bench.log("### lite_graph" + (f" --weights {args.weights}" if args.weights else ""))
    _bench.log(_bench.header())
    _bench.log(f"detector: {det!r}")
    image = _bench.benchmark_image()
    faces = det.predict_faces([image])[0]
    for k, model in enumerate(det.models):
        keras_graph = LiteModel(tflite_bytes(model, rewrite=False))
        rewritten = LiteModel(tflite_bytes(model, rewrite=True))
        h, w = model.input_shape[1:3]
        # the face's box (the whole photo if none was found), resized to the stage's input
        box = tuple(round(v) for v in faces[0].box) if faces else (0, 0, *image.shape[1::-1])
        face = Image.fromarray(image).crop(box).resize((w, h))
        crop = np.asarray(face, dtype=np.float32)[None]
        noise = np.random.default_rng(0).uniform(0, 255, (1, h, w, 3)).astype(np.float32)
        diffs = [float(np.abs(keras_graph(x) - rewritten(x)).max()) for x in (crop, noise)]
        times = _bench.interleaved(
            {
                "keras graph": lambda a=keras_graph, x=crop: a(x),
                "rewritten": lambda b=rewritten, x=crop: b(x),
            },
            n=args.n,
            rounds=args.rounds,
        )
        _bench.log(
            f"\n== stage {k}: {model.name}, input {h}x{w}; {args.rounds} rounds x "
            f"{args.n} calls, interleaved =="
        )
        _bench.log(f"{'graph':<14}{'ops':>6}{'parts':>7}{'median ms':>11}{'CPU ms':>9}")
        for name, lite in (("keras graph", keras_graph), ("rewritten", rewritten)):
            ops, parts = _ops(lite)
            wall, cpu = times[name]
            _bench.log(
                f"{name:<14}{ops:>6}{parts:>7}{_bench.ms(wall):>11.3f}{_bench.ms(cpu):>9.3f}"
            )
        ratio = np.median(times["rewritten"][0]) / np.median(times["keras graph"][0])
        ratio_cpu = np.median(times["rewritten"][1]) / np.median(times["keras graph"][1])
        _bench.log(
            f"largest output difference (normalised coordinates): face crop "
            f"{diffs[0]:.2e}, noise {diffs[1]:.2e}"
        )
        _bench.log(f"rewritten / keras graph = {ratio:.2f} wall, {ratio_cpu:.2f} CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
