"""A/B: the same calls on two source trees of facelandmarks, alternating rounds, CPU and wall time.

Measures what a code change gains, on a busy machine: each tree runs in its own worker process
(``PYTHONPATH`` set to the tree), both load the same ``--weights``; the parent alternates short
rounds between them (``--rounds`` x ``--n`` calls of each item) so slow spells hit both alike, and
prints medians of wall time and of the process's CPU time per call (CPU time is what the code
costs; wall time adds waiting for a core) and the ratios B / A.

Items: ``predict_faces`` (detect + landmarks) and ``predict_faces(boxes)`` on the benchmark
photo, ``track`` per frame on the synthetic video of ``benchmarks/latency.py``, ``predict 32``
(32 copies of the photo, ``batch_size=32``; per image).

Example::

    git archive HEAD~3 | tar -x -C /tmp/base   # the tree to compare against
    python benchmarks/compare_trees.py /tmp/base . --weights default
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def worker(weights: str, runtime: str) -> None:
    sys.path.insert(1, str(REPO))  # benchmarks._bench, after the tree under test
    from benchmarks._bench import benchmark_image, load_detector
    from benchmarks.latency import video_frames

    det = load_detector(weights, runtime)
    rgb = benchmark_image()
    box = det.predict_faces(rgb)[0][0].box
    frames = itertools.cycle(video_frames())
    tracked = det.track(frames, detect_every=30)
    batch = [rgb] * 32
    items = {
        "predict_faces": (1, lambda: det.predict_faces(rgb)),
        "predict_faces(boxes)": (1, lambda: det.predict_faces(rgb, boxes=[[box]])),
        "track (per frame)": (1, lambda: next(tracked)),
        "predict 32 (per image)": (32, lambda: det.predict(batch, batch_size=32)),
    }
    for _, fn in items.values():
        fn()
    print(json.dumps({"ready": list(items)}), flush=True)
    for line in sys.stdin:
        name, n = line.rsplit(" ", 1)
        count, fn = items[name]
        wall, cpu = [], []
        for _ in range(int(n)):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu.append((time.process_time() - c0) / count)
            wall.append((time.perf_counter() - w0) / count)
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="tree A (the baseline), a folder holding facelandmarks/")
    parser.add_argument("b", help="tree B (the change)")
    parser.add_argument("--weights", default="default")
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--n", type=int, default=20, help="calls per item per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--items", default="", help="comma-separated subset of the items")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.weights, args.runtime)
        return
    procs = {}
    for label, tree in (("A", args.a), ("B", args.b)):
        env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
        cmd = [sys.executable, __file__, "x", "x", "--worker", "--weights", args.weights]
        procs[label] = subprocess.Popen(
            [*cmd, "--runtime", args.runtime],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=tree,
        )
    names = None
    for p in procs.values():
        names = json.loads(p.stdout.readline())["ready"]
    if args.items:
        names = [n for n in names if n in args.items.split(",")]
    res = {(lab, n): {"wall": [], "cpu": []} for lab in procs for n in names}
    for r in range(args.rounds):
        order = list(procs) if r % 2 == 0 else list(procs)[::-1]
        for name in names:
            for lab in order:
                p = procs[lab]
                p.stdin.write(f"{name} {args.n}\n")
                p.stdin.flush()
                got = json.loads(p.stdout.readline())
                for k in ("wall", "cpu"):
                    res[lab, name][k].extend(got[k])
    for p in procs.values():
        p.stdin.close()
        p.wait(timeout=60)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"A = {args.a}, B = {args.b}; weights {args.weights}; load average {load}")
    print(f"{args.rounds} alternating rounds x {args.n} calls; medians in ms (per image)")
    print(f"{'item':<24}{'A wall':>9}{'B wall':>9}{'B/A':>7}{'A cpu':>9}{'B cpu':>9}{'B/A':>7}")
    for name in names:
        a, b = res["A", name], res["B", name]
        aw, bw = np.median(a["wall"]) * 1e3, np.median(b["wall"]) * 1e3
        ac, bc = np.median(a["cpu"]) * 1e3, np.median(b["cpu"]) * 1e3
        print(f"{name:<24}{aw:>9.3f}{bw:>9.3f}{bw / aw:>7.2f}{ac:>9.3f}{bc:>9.3f}{bc / ac:>7.2f}")


if __name__ == "__main__":
    main()
