"""Quantised TensorFlow Lite variants of a detector's stages: float16 and dynamic-range int8.

    python tools/quantize.py OUT_DIR [--weights default] [--variants float32,float16,int8]

For every stage of the detector, writes ``OUT_DIR/<name>.stage<k>.<variant>.tflite``:

* ``float32``: the plain conversion (:func:`facelandmarks.export.tflite_bytes`; for a preset
  that ships TensorFlow Lite files, those files), the reference;
* ``float16``: weights stored as float16 (``Optimize.DEFAULT`` with
  ``supported_types=[tf.float16]``): half the size; interpreters on CPUs without float16
  arithmetic widen them to float32 when the model loads;
* ``int8``: dynamic-range quantisation (``Optimize.DEFAULT``, no representative data): int8
  weights, activations quantised on the fly where a kernel supports it, about a quarter of the
  size.

Inputs and outputs stay float32 (``(B, H, W, 3)`` pixels in ``[0, 255]`` -> ``(B, 2P)``
normalised coordinates), so each file drops in for the stage's engine. Prints one line per
file (path, bytes). Nothing is shipped by this script; ``benchmarks/quantized.py`` measures the
files' accuracy and speed. Needs TensorFlow.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

VARIANTS = ("float32", "float16", "int8")


def convert(model, variant: str) -> bytes:
    """One stage model as a TensorFlow Lite flatbuffer of ``variant`` (see the module notes)."""
    import tensorflow as tf

    from facelandmarks.export import tflite_bytes

    if variant == "float32":
        return tflite_bytes(model)
    with tempfile.TemporaryDirectory(prefix="facelandmarks-quantize-") as tmp:
        saved = os.path.join(tmp, "saved_model")
        model.export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif variant != "int8":
            raise ValueError(f"variant must be one of {VARIANTS}. Received: {variant!r}")
        return bytes(converter.convert())


def quantize(weights: str, out_dir: Path, variants: list[str]) -> list[Path]:
    """Write every stage of ``weights`` in every variant to ``out_dir``; returns the paths."""
    from facelandmarks import LandmarkDetector
    from facelandmarks import weights as fl_weights
    from facelandmarks.fileio import atomic_write_bytes

    det = LandmarkDetector(weights, verbose=0)
    name = det.spec.name if det.spec is not None else Path(weights).stem
    written = []
    for k, model in enumerate(det.models):
        for variant in variants:
            content = None
            if variant == "float32" and det.spec is not None:
                content = fl_weights.embedded_tflite_bytes(det.spec, k)
            if content is None:
                content = convert(model, variant)
            path = atomic_write_bytes(out_dir / f"{name}.stage{k}.{variant}.tflite", content)
            print(f"{path}\t{len(content)} bytes", flush=True)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the .tflite files")
    parser.add_argument("--weights", default="default", help="preset name or detector file")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        parser.error(f"--variants: unknown {bad}; choose from {list(VARIANTS)}")
    quantize(args.weights, args.out_dir, variants)


if __name__ == "__main__":
    main()
