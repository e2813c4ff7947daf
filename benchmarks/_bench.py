"""Shared pieces of the benchmarks: the photo, the detector, interleaved timing, subsets of the
data and turned photos.

Not a benchmark itself. The photo is always ``examples/astronaut.png`` (public domain), never a
dataset face.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT = REPO / "examples" / "astronaut.png"
IMAGE_HW = (480, 640)


@functools.cache
def _astronaut_480() -> np.ndarray:
    from PIL import Image

    with Image.open(ASTRONAUT) as im:
        side = IMAGE_HW[0]
        return np.asarray(im.convert("RGB").resize((side, side), Image.Resampling.BILINEAR))


def benchmark_image(dx: int = 0, dy: int = 0) -> np.ndarray:
    """``examples/astronaut.png`` resized to 480x480 and centred on a black 480x640 canvas.

    Args:
        dx, dy: shift of the picture in pixels (right, down); what leaves the canvas is cut.

    Returns:
        uint8 ``(480, 640, 3)`` RGB, a new C-contiguous array.
    """
    h, w = IMAGE_HW
    pic = _astronaut_480()
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = (w - pic.shape[1]) // 2 + dx, dy
    ys = slice(max(y0, 0), min(y0 + pic.shape[0], h))
    xs = slice(max(x0, 0), min(x0 + pic.shape[1], w))
    out[ys, xs] = pic[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    return out


def load_detector(weights: str, runtime: str, num_threads: int | None = None) -> Any:
    """``LandmarkDetector(weights)`` on ``runtime`` (``"tflite"`` converts once and caches)."""
    from facelandmarks import LandmarkDetector

    det = LandmarkDetector(weights=weights, verbose=0)
    det.set_runtime(runtime, num_threads=num_threads)
    return det


def stage_inputs(det, images: list[np.ndarray], places: list) -> list[tuple[list, np.ndarray]]:
    """Each stage's ``(frames, engine input)`` for these faces, as ``predict_faces`` cuts them:
    one pass of :func:`facelandmarks.inference.predict_batch` with its ``trace`` (so the timed
    crops cannot drift from the library's). ``places``: one ``inference.Placement`` per image."""
    from facelandmarks import inference

    engines = [det._engines[k] for k in range(len(det.config.stages))]
    trace: list[tuple[list, np.ndarray]] = []
    inference.predict_batch(det.config, engines, images, places, det.scheme, trace=trace)
    return trace


def spaced(data: Any, n: int) -> Any:
    """``n`` faces of a :class:`~facelandmarks.LandmarkDataset`, evenly spaced (0: all)."""
    if not n or n >= len(data):
        return data
    return data.subset(np.linspace(0, len(data) - 1, n).astype(int))


def turned(rgb: np.ndarray, xy: np.ndarray, turns: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.rot90(rgb, turns)`` and the points (pixel centres) moved with its pixels."""
    h, w = rgb.shape[:2]
    x, y = xy[..., 0], xy[..., 1]
    moved = [(x, y), (y, w - 1 - x), (w - 1 - x, h - 1 - y), (h - 1 - y, x)][turns]
    return np.ascontiguousarray(np.rot90(rgb, turns)), np.stack(moved, axis=-1)


def header(extra: str = "") -> str:
    """One line: Python, NumPy, the interpreter module, CPUs, load."""
    from facelandmarks.lite import default_num_threads, interpreter_class

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",)
    return (
        f"Python {platform.python_version()}, numpy {np.__version__}, interpreter "
        f"{interpreter_class().__module__}, {cpus} CPUs, default threads "
        f"{default_num_threads()}, load average {', '.join(f'{v:.2f}' for v in load)}"
        + (f"; {extra}" if extra else "")
    )


def interleaved(
    items: dict[Any, Callable[[], object]], *, n: int, rounds: int, warmup: int = 3
) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """Time every item ``n`` times per round, round-robin (the starting item shifts each call),
    ``rounds`` rounds. Returns per item ``(wall seconds, CPU seconds)`` per call, all rounds
    pooled; CPU time is the whole process's (``time.process_time``: every thread), which a busy
    machine inflates less than wall time (no waiting for a core)."""
    names = list(items)
    for _ in range(warmup):
        for fn in items.values():
            fn()
    wall: dict[Any, list[float]] = {k: [] for k in names}
    cpu: dict[Any, list[float]] = {k: [] for k in names}
    perf, proc = time.perf_counter, time.process_time
    for r in range(rounds):
        for i in range(n):
            for j in range(len(names)):
                name = names[(i + j + r) % len(names)]
                fn = items[name]
                t0, c0 = perf(), proc()
                fn()
                c1, t1 = proc(), perf()
                wall[name].append(t1 - t0)
                cpu[name].append(c1 - c0)
    return {k: (np.asarray(wall[k]), np.asarray(cpu[k])) for k in names}


def ms(values: np.ndarray, q: float = 50) -> float:
    """Percentile ``q`` of seconds, in milliseconds."""
    return float(np.percentile(values, q)) * 1e3


def log(*args: Any) -> None:
    print(*args, flush=True)
