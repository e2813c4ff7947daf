"""Input pipeline benchmark: the 2019 load-everything approach vs ``make_tf_dataset``.

Every measurement runs in its own subprocess (this script re-invokes itself with
``--worker NAME``), so a process's peak resident memory belongs to one approach only. All
workers run within one invocation, one after another, and the script prints numbers measured
side by side plus their ratios; it never asserts a timing.

Workers:

* ``original``: the 2019 project's approach. Every image is opened with PIL, resized to
  240x320 (w x h), scaled by 1/255 into a float16 array, and all of them are stacked into one
  float16 array held in RAM. Reports wall time, images/s, the array's bytes and the peak RSS
  growth, then (second pass, untimed) the tracemalloc peak of the same load.
* ``ours`` / ``ours_cache``: ``make_tf_dataset(training=True, augment=Augmentation())``
  without / with ``cache=True``; images/s of each of ``--epochs`` epochs and peak RSS growth.
* ``train``: a MobileNetV3Small (GroupNorm) is trained for ``--steps`` steps (a) from an
  in-memory synthetic, cached, already batched ``tf.data`` of the same shapes (``.repeat()``)
  and (b) from our pipeline (without and with cache). The input-bound share is
  ``1 - t_a / t_b``: the fraction of a training step spent waiting for input.

Example::

    python benchmarks/input_pipeline.py --muct ../shared/muct --n 400 --input 320x240 --batch 16
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULT_TAG = "RESULT "
WORKERS = ("original", "ours", "ours_cache", "train")
FULL_SIZES = (3005, 3755)
"""MUCT images: those distributed with landmarks on disk here (3,005) and the full set (3,755)."""


# --------------------------------------------------------------------------- memory helpers
def _proc_status_kib(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux), or None where unavailable."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakRSS:
    """Peak resident set size growth of this process over a ``with`` block, in bytes.

    On Linux the kernel's high-water mark (``VmHWM``) is reset at the start through
    ``/proc/self/clear_refs`` so that the peak is that of the block alone; elsewhere
    ``resource.getrusage`` gives the process-lifetime peak (an upper bound of the block's).
    """

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.reset = False
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.reset = True
        except OSError:
            pass
        rss = _proc_status_kib("VmRSS")
        self.start_kib = rss if rss is not None else _ru_maxrss_kib()
        self.peak_kib = self.start_kib
        return self

    def __exit__(self, *exc: object) -> None:
        hwm = _proc_status_kib("VmHWM") if self.reset else None
        self.peak_kib = hwm if hwm is not None else _ru_maxrss_kib()
        self.method = "VmHWM" if hwm is not None else "ru_maxrss"

    @property
    def growth_bytes(self) -> int:
        return max(0, self.peak_kib - self.start_kib) * 1024


def _ru_maxrss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes


# --------------------------------------------------------------------------- data
def _parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--input expects HEIGHTxWIDTH, e.g. 320x240. Received: {text!r}"
        ) from None
    return h, w


def _dataset(args: argparse.Namespace):
    """The benchmark's images: ``--n`` MUCT images spread evenly over the sorted list."""
    import numpy as np

    from facelandmarks import load_muct

    data = load_muct(args.muct, on_error="skip")
    n = min(args.n, len(data))
    return data.subset(np.linspace(0, len(data) - 1, n).round().astype(int))


def _stage(args: argparse.Namespace):
    from facelandmarks import StageConfig

    return StageConfig(
        backbone="mobilenetv3small",
        input_size=args.input,
        preprocessing="backbone",
        normalization="group",
        framing="image",
    )


def _tf_info() -> dict[str, Any]:
    import tensorflow as tf

    return {
        "tf": tf.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


# --------------------------------------------------------------------------- workers
def worker_original(args: argparse.Namespace) -> dict[str, Any]:
    """The 2019 approach: all images -> PIL resize -> /255 -> one float16 array in RAM."""
    import tracemalloc

    import numpy as np
    from PIL import Image

    paths = list(_dataset(args).image_paths)
    h, w = args.input

    def load_all() -> np.ndarray:
        images = []
        for p in paths:
            with Image.open(p) as im:
                rgb = im.convert("RGB").resize((w, h), Image.BILINEAR)
            images.append(np.asarray(rgb, dtype=np.float16) / np.float16(255.0))
        return np.stack(images)

    with PeakRSS() as mem:
        t0 = time.perf_counter()
        arr = load_all()
        seconds = time.perf_counter() - t0
    out = {
        "images": len(paths),
        "seconds": seconds,
        "images_per_s": len(paths) / seconds,
        "array_bytes": int(arr.nbytes),
        "array_shape": list(arr.shape),
        "array_dtype": str(arr.dtype),
        "rss_growth_bytes": mem.growth_bytes,
        "rss_method": mem.method,
    }
    del arr
    gc.collect()
    tracemalloc.start()
    arr = load_all()
    out["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del arr
    return out


def _worker_ours(args: argparse.Namespace, cache: bool) -> dict[str, Any]:
    import numpy as np

    from facelandmarks.training import Augmentation, make_tf_dataset

    data = _dataset(args)
    info = _tf_info()
    ds = make_tf_dataset(
        data,
        _stage(args),
        batch_size=args.batch,
        training=True,
        augment=Augmentation(),
        seed=0,
        cache=cache,
    )
    epochs = []
    with PeakRSS() as mem:
        for _ in range(args.epochs):
            count = 0
            t0 = time.perf_counter()
            for x, _y in ds:
                count += int(x.shape[0])
            epochs.append({"images": count, "seconds": time.perf_counter() - t0})
    total_images = sum(e["images"] for e in epochs)
    total_seconds = sum(e["seconds"] for e in epochs)
    sizes = data.image_sizes  # (N, 2) width, height of each stored image
    if sizes is None:
        from facelandmarks.images import image_size

        sizes = np.array([image_size(p) for p in data.image_paths], dtype=np.int64)
    return {
        **info,
        "cache": cache,
        "cache_bytes": int((sizes[:, 0] * sizes[:, 1] * 3).sum()) if cache else 0,
        "epochs": [{**e, "images_per_s": e["images"] / e["seconds"]} for e in epochs],
        "images": total_images,
        "seconds": total_seconds,
        "images_per_s": total_images / total_seconds,
        "rss_growth_bytes": mem.growth_bytes,
        "rss_method": mem.method,
    }


def worker_ours(args: argparse.Namespace) -> dict[str, Any]:
    """``make_tf_dataset`` with augmentation, no cache."""
    return _worker_ours(args, cache=False)


def worker_ours_cache(args: argparse.Namespace) -> dict[str, Any]:
    """``make_tf_dataset`` with augmentation and ``cache=True``."""
    return _worker_ours(args, cache=True)


def worker_train(args: argparse.Namespace) -> dict[str, Any]:
    """Training step time from synthetic in-memory input vs from our pipeline."""
    import keras
    import numpy as np
    import tensorflow as tf

    from facelandmarks.losses import get_loss
    from facelandmarks.model import build_model
    from facelandmarks.training import Augmentation, make_tf_dataset

    info = _tf_info()
    data = _dataset(args)
    # Whole batches only: a short last batch would retrace the train function mid-measurement.
    n_full = len(data) // args.batch * args.batch
    if n_full == 0:
        raise SystemExit(f"--n must be at least --batch ({args.batch}). Received: {len(data)}")
    data = data.subset(np.arange(n_full))
    h, w = args.input
    keras.utils.set_random_seed(0)
    model = build_model(
        backbone="mobilenetv3small",
        input_size=(h, w),
        normalization="group",
        preprocessing="backbone",
        num_points=data.num_points,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=get_loss("euclidean"))

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (args.batch, h, w, 3)).astype(np.float32)
    y = rng.uniform(0.2, 0.8, (args.batch, 2 * data.num_points)).astype(np.float32)
    synthetic = tf.data.Dataset.from_tensors((x, y)).cache().repeat()

    class StepTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.ends: list[float] = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    def run(ds: tf.data.Dataset, steps: int) -> dict[str, Any]:
        timer = StepTimer()
        t0 = time.perf_counter()
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
        wall = time.perf_counter() - t0
        # Intervals between consecutive step ends: the first step (iterator start-up) and
        # --skip more are left out.
        dts = [float(d) for d in np.diff(timer.ends)][args.skip :]
        if not dts:
            raise ValueError(f"{steps} steps leave no interval after skipping {args.skip}")
        return {
            "steps": len(dts),
            "mean_s": statistics.fmean(dts),
            "median_s": statistics.median(dts),
            "wall_s": wall,
            "intervals_s": dts,
        }

    def pipeline(cache: bool) -> tf.data.Dataset:
        return make_tf_dataset(
            data,
            _stage(args),
            batch_size=args.batch,
            training=True,
            augment=Augmentation(),
            seed=0,
            cache=cache,
        ).repeat()

    # Each dataset is built once: later rounds of the cached pipeline read from its cache.
    inputs = {
        "synthetic": synthetic,
        "pipeline": pipeline(cache=False),
        "pipeline_cache": pipeline(cache=True),
    }
    run(synthetic, args.skip + 3)  # trace and compile the train step
    runs = []
    for rnd in range(args.rounds):  # interleaved rounds: drift of the machine hits all alike
        for name, ds in inputs.items():
            runs.append({"input": name, "round": rnd + 1, **run(ds, args.steps)})
    return {**info, "batch": args.batch, "images": n_full, "runs": runs}


WORKER_FUNCS = {
    "original": worker_original,
    "ours": worker_ours,
    "ours_cache": worker_ours_cache,
    "train": worker_train,
}


# --------------------------------------------------------------------------- driver
def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000.0
    raise AssertionError("unreachable")


def _run_worker(name: str, argv: list[str]) -> dict[str, Any] | None:
    cmd = [sys.executable, os.path.abspath(__file__), *argv, "--worker", name]
    print(f"[{name}] running ...", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        print(f"[{name}] FAILED (exit {proc.returncode}); stderr tail:")
        print("\n".join(proc.stderr.strip().splitlines()[-25:]))
        return None
    print(f"[{name}] done in {elapsed:.1f} s", flush=True)
    return json.loads(lines[-1][len(RESULT_TAG) :])


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    """Print the tables and ratios of the workers that ran."""
    if {"original", "ours", "ours_cache"} & set(results):
        _report_loading(results, args)
    if "train" in results:
        _report_train(results["train"], args)


def _report_loading(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    h, w = args.input
    print()
    print(f"== Loading / input throughput ({args.n} images requested, input {h}x{w}) ==")
    print(f"{'approach':<34}{'images':>8}{'seconds':>10}{'images/s':>11}{'peak RSS +':>13}")
    orig = results.get("original")
    if orig:
        print(
            f"{'original (PIL -> float16, once)':<34}{orig['images']:>8}{orig['seconds']:>10.2f}"
            f"{orig['images_per_s']:>11.1f}{_fmt_bytes(orig['rss_growth_bytes']):>13}"
        )
    for key, label in (("ours", "ours (no cache)"), ("ours_cache", "ours (cache=True)")):
        r = results.get(key)
        if not r:
            continue
        print(
            f"{label + ', ' + str(len(r['epochs'])) + ' epochs':<34}{r['images']:>8}"
            f"{r['seconds']:>10.2f}{r['images_per_s']:>11.1f}"
            f"{_fmt_bytes(r['rss_growth_bytes']):>13}"
        )
        for i, e in enumerate(r["epochs"], 1):
            print(
                f"{'  epoch ' + str(i):<34}{e['images']:>8}{e['seconds']:>10.2f}"
                f"{e['images_per_s']:>11.1f}"
            )
    if orig:
        print()
        print(
            f"original array: shape {tuple(orig['array_shape'])} {orig['array_dtype']}, "
            f"{_fmt_bytes(orig['array_bytes'])}; tracemalloc peak "
            f"{_fmt_bytes(orig['tracemalloc_peak_bytes'])} "
            f"(list of per-image arrays + the stacked copy)"
        )
        per_image = orig["array_bytes"] / orig["images"]
        per_image_peak = orig["tracemalloc_peak_bytes"] / orig["images"]
        for full in FULL_SIZES:
            print(
                f"original extrapolated to {full} images: array {_fmt_bytes(per_image * full)}, "
                f"peak while loading ~{_fmt_bytes(per_image_peak * full)} (tracemalloc)"
            )
    oc = results.get("ours_cache")
    if oc:
        per_image = oc["cache_bytes"] / oc["epochs"][0]["images"]
        print(
            f"ours cache: decoded uint8 images, {_fmt_bytes(per_image)} per image "
            f"({_fmt_bytes(oc['cache_bytes'])} for these {oc['epochs'][0]['images']})"
        )
        for full in FULL_SIZES:
            print(
                f"ours (cache=True) extrapolated to {full} images: cache "
                f"~{_fmt_bytes(per_image * full)}"
            )
    print()
    print("Ratios (same run):")
    for key in ("ours", "ours_cache"):
        r = results.get(key)
        if orig and r:
            print(
                f"  {key} images/s over original images/s: "
                f"{_ratio(r['images_per_s'], orig['images_per_s'])}  "
                f"(per epoch: "
                + ", ".join(_ratio(e["images_per_s"], orig["images_per_s"]) for e in r["epochs"])
                + ")"
            )
            if r["rss_growth_bytes"]:
                print(
                    f"  original peak RSS growth over {key}'s: "
                    f"{_ratio(orig['rss_growth_bytes'], r['rss_growth_bytes'])}"
                )
    if results.get("ours") and results.get("ours_cache"):
        print(
            "  ours_cache images/s over ours images/s: "
            f"{_ratio(results['ours_cache']['images_per_s'], results['ours']['images_per_s'])}"
        )


def _report_train(tr: dict[str, Any], args: argparse.Namespace) -> None:
    h, w = args.input
    print()
    print(
        f"== Training step time, MobileNetV3Small-GroupNorm {h}x{w}, batch {tr['batch']}, "
        f"{tr['images']} images =="
    )
    print(
        f"{'input':<32}{'steps':>6}{'mean s':>9}{'median s':>10}{'images/s':>10}   per-round mean s"
    )
    labels = {
        "synthetic": "(a) synthetic, in memory",
        "pipeline": "(b) our pipeline, no cache",
        "pipeline_cache": "(b) our pipeline, cache=True",
    }
    mean_s = {}
    for key, label in labels.items():
        runs = [r for r in tr["runs"] if r["input"] == key]
        dts = [d for r in runs for d in r["intervals_s"]]
        mean_s[key] = statistics.fmean(dts)
        per_round = ", ".join(f"{r['mean_s']:.3f}" for r in runs)
        print(
            f"{label:<32}{len(dts):>6}{mean_s[key]:>9.3f}{statistics.median(dts):>10.3f}"
            f"{tr['batch'] / mean_s[key]:>10.1f}   {per_round}"
        )
    t_a = mean_s["synthetic"]
    syn = [r["mean_s"] for r in tr["runs"] if r["input"] == "synthetic"]
    print(f"noise check: synthetic per-round means spread max/min = {max(syn) / min(syn):.2f}")
    for key, label in (("pipeline", "no cache"), ("pipeline_cache", "cache=True")):
        t_b = mean_s[key]
        print(
            f"  input-bound share, {label}: 1 - t_a/t_b = {1 - t_a / t_b:+.1%} "
            f"(t_b/t_a = {t_b / t_a:.2f})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--muct", default="../shared/muct", help="MUCT root folder")
    parser.add_argument("--n", type=int, default=400, help="images to use")
    parser.add_argument(
        "--input",
        type=_parse_size,
        default=(320, 240),
        help="model input HEIGHTxWIDTH (default 320x240)",
    )
    parser.add_argument("--batch", type=int, default=16, help="batch size")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of our pipeline")
    parser.add_argument("--steps", type=int, default=30, help="training steps per measurement")
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds of the three training inputs"
    )
    parser.add_argument(
        "--skip",
        type=int,
        default=2,
        help="step intervals left out at the start of each measurement",
    )
    parser.add_argument(
        "--only", default=",".join(WORKERS), help=f"comma-separated subset of {','.join(WORKERS)}"
    )
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.n, args.batch, args.epochs, args.rounds) < 1 or args.steps < args.skip + 2:
        parser.error("--n, --batch, --epochs, --rounds must be >= 1; --steps >= --skip + 2")

    if args.worker:
        result = WORKER_FUNCS[args.worker](args)
        print(RESULT_TAG + json.dumps(result), flush=True)
        return

    selected = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(selected) - set(WORKERS))
    if unknown:
        parser.error(f"--only expects names from {WORKERS}. Received: {unknown}")
    if not Path(args.muct, "jpg").is_dir():
        parser.error(f"--muct must be a MUCT root with a jpg/ folder. Received: {args.muct!r}")
    try:
        tf_version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tf_version = "not installed"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(
        f"python {sys.version.split()[0]}, tensorflow {tf_version}, "
        f"os.cpu_count() {os.cpu_count()}, usable CPUs {affinity}, "
        f"TF_NUM_INTRAOP_THREADS={os.environ.get('TF_NUM_INTRAOP_THREADS', 'default')}, "
        f"TF_NUM_INTEROP_THREADS={os.environ.get('TF_NUM_INTEROP_THREADS', 'default')}"
    )
    passthrough = [
        "--muct",
        args.muct,
        "--n",
        str(args.n),
        "--input",
        f"{args.input[0]}x{args.input[1]}",
        "--batch",
        str(args.batch),
        "--epochs",
        str(args.epochs),
        "--steps",
        str(args.steps),
        "--skip",
        str(args.skip),
        "--rounds",
        str(args.rounds),
    ]
    results = {}
    for name in WORKERS:
        if name in selected:
            r = _run_worker(name, passthrough)
            if r is not None:
                results[name] = r
    threads = {
        (r.get("intra_op_threads"), r.get("inter_op_threads"))
        for r in results.values()
        if "intra_op_threads" in r
    }
    if threads:
        print(
            "TF thread settings in workers (intra, inter; 0 = TF default): "
            + ", ".join(str(t) for t in sorted(threads))
        )
    report(results, args)


if __name__ == "__main__":
    main()
