"""Video, and streams with work between results: the background threads
(``facelandmarks._prefetch``) against everything on the calling thread, side by side.

Inputs are made in a temporary folder from the public-domain ``examples/astronaut.png``: a
150-frame 640x480 clip of it moving across a dark canvas (needs PyAV: ``pip install
"facelandmarks[video]"``; skipped otherwise) and 40 800x600 JPEG photos of it. Items, each with
the threads (``_prefetch.worth_a_thread`` true, as on any machine with 2 or more CPUs) and on
one thread (false, as with a single CPU), in alternating rounds (medians):

* ``track_video(det, clip)``: frames decoded ahead while the face is followed;
* ``track_video(det, clip, out.mp4)``: also drawn and encoded behind;
* ``facelandmarks predict`` on the photos, run in-process (its output to ``os.devnull``), as
  JSON lines and with ``--draw`` (each call loads the detector, as the command does).

Prints ms per frame or photo and the ratio one thread / threads. Never asserts.

Example::

    python benchmarks/background_threads.py [--rounds 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import contextlib
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import header, interleaved, log  # noqa: E402
from facelandmarks import LandmarkDetector, _prefetch, cli  # noqa: E402

FRAMES, PHOTOS = 150, 40


def threads(on: bool, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with the background threads on or off."""

    def run() -> object:
        saved = _prefetch.worth_a_thread
        _prefetch.worth_a_thread = lambda: on
        try:
            return fn()
        finally:
            _prefetch.worth_a_thread = saved

    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    log(header())
    with Image.open(REPO / "examples" / "astronaut.png") as im:
        face = im.convert("RGB").resize((240, 240), Image.Resampling.BILINEAR)
    det = LandmarkDetector()
    items: dict[str, Callable[[], object]] = {}
    per: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = work / "photos"
        photos.mkdir()
        for i in range(PHOTOS):
            canvas = Image.new("RGB", (800, 600), (40 + i, 50, 60))
            canvas.paste(face.resize((360, 360)), (100 + 5 * i, 100))
            canvas.save(photos / f"p{i:02d}.jpg", quality=90)

        def command(*extra: str) -> Callable[[], object]:
            def run() -> object:
                with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                    return cli.main(["predict", str(photos), *extra])

            return run

        if importlib.util.find_spec("av") is not None:
            from facelandmarks import video as fl_video

            clip = work / "clip.mp4"
            with fl_video.VideoWriter(clip, fps=25) as out:
                for i in range(FRAMES):
                    canvas = np.zeros((480, 640, 3), np.uint8)
                    canvas[100:340, 100 + i : 340 + i] = np.asarray(face)
                    out.write(canvas)
            for on in (True, False):
                mode = "threads" if on else "one thread"
                name = f"track_video, no copy ({mode})"
                items[name] = threads(on, lambda: fl_video.track_video(det, clip))
                per[name] = FRAMES
                name = f"track_video, copy ({mode})"
                items[name] = threads(on, lambda: fl_video.track_video(det, clip, work / "out.mp4"))
                per[name] = FRAMES
        else:
            log("PyAV is not installed: the video rows are skipped")
        for on in (True, False):
            mode = "threads" if on else "one thread"
            for label, fn in (
                ("predict, JSON lines", command()),
                ("predict --draw", command("--draw", str(work / "drawn"))),
            ):
                items[f"{label} ({mode})"] = threads(on, fn)
                per[f"{label} ({mode})"] = PHOTOS
        times = interleaved(items, n=1, rounds=args.rounds, warmup=1)
    ms = {k: float(np.median(wall)) / per[k] * 1e3 for k, (wall, _) in times.items()}
    log(f"\n== {args.rounds} alternating rounds, medians ==")
    log(f"{'item':<40}{'ms per frame/photo':>20}")
    for name, value in ms.items():
        log(f"{name:<40}{value:>20.2f}")
    log("one thread / threads (wall):")
    for name in ms:
        if name.endswith("(threads)"):
            base = name[: -len("(threads)")]
            log(f"  {base:<38}{ms[base + '(one thread)'] / ms[name]:>8.2f}")


if __name__ == "__main__":
    main()
