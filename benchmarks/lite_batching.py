"""TensorFlow Lite: one invoke per image vs one invoke per batch, and 1 vs 2 threads.

    python benchmarks/lite_batching.py [--models a.tflite,b.tflite] [--batches 1,4,16]
        [--threads 1,2] [--rounds 15]

For each model, thread count and batch size B: milliseconds per image of (a) B invokes of a
batch-1 interpreter and (b) one invoke of an interpreter resized to B, measured in alternating
rounds (medians), and whether (b)'s outputs equal (a)'s. A model whose resized outputs do not
come out batch-first (BlazeFace bakes its batch of 1 into reshapes) is marked so. These
numbers decide what :class:`facelandmarks.lite.LiteModel` does; see its module notes.

Default models: the shipped BlazeFace files and the default preset's first crop stage.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from facelandmarks.lite import interpreter_class

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = [
    REPO / "facelandmarks" / "models" / "face_detection_short_range.tflite",
    REPO / "facelandmarks" / "models" / "face_detection_full_range_sparse.tflite",
    REPO / "facelandmarks" / "presets" / "muct-mnv3s-2stage.stage0.tflite",
]


def interpreter(path: Path, threads: int, batch: int) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        interp = interpreter_class()(model_path=str(path), num_threads=threads)
    if batch != 1:
        index = interp.get_input_details()[0]["index"]
        shape = list(interp.get_input_details()[0]["shape"])
        interp.resize_tensor_input(index, [batch, *shape[1:]])
    interp.allocate_tensors()
    return interp


def invoke(interp: object, x: np.ndarray) -> list[np.ndarray]:
    interp.set_tensor(interp.get_input_details()[0]["index"], x)  # type: ignore[attr-defined]
    interp.invoke()  # type: ignore[attr-defined]
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(str(p) for p in DEFAULT_MODELS))
    ap.add_argument("--batches", default="1,4,16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    cls = interpreter_class()
    print(
        f"Python {platform.python_version()}, {cls.__module__}, {os.cpu_count()} CPUs; "
        f"ms per image, medians of {args.rounds} alternating rounds"
    )
    rng = np.random.default_rng(0)
    print(f"{'model':42s} {'thr':>3s} {'B':>3s} {'loop':>7s} {'batched':>8s}  outputs")
    for path in (Path(p) for p in args.models.split(",") if p):
        for threads in (int(t) for t in args.threads.split(",")):
            single = interpreter(path, threads, 1)
            shape = list(single.get_input_details()[0]["shape"])  # type: ignore[attr-defined]
            for batch in (int(b) for b in args.batches.split(",")):
                batched = interpreter(path, threads, batch)
                x = rng.uniform(-1, 1, [batch, *shape[1:]]).astype(np.float32)
                loop_t, batch_t = [], []
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    per = [invoke(single, x[i : i + 1]) for i in range(batch)]
                    loop_t.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    out = invoke(batched, x)
                    batch_t.append(time.perf_counter() - t0)
                joined = [np.concatenate([p[k] for p in per]) for k in range(len(out))]
                if any(a.shape != b.shape for a, b in zip(joined, out, strict=True)):
                    verdict = "not batch-first"
                elif all(np.allclose(a, b, atol=1e-4) for a, b in zip(joined, out, strict=True)):
                    verdict = "equal"
                else:
                    verdict = "differ"
                loop_ms = 1000 * np.median(loop_t) / batch
                batch_ms = 1000 * np.median(batch_t) / batch
                print(
                    f"{path.name:42s} {threads:3d} {batch:3d} {loop_ms:7.2f} {batch_ms:8.2f}"
                    f"  {verdict}"
                )


if __name__ == "__main__":
    main()
