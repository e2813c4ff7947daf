"""Kill a checkpointed ``LandmarkDetector.fit`` with SIGKILL at random instants, resume it each
time, and compare the end with an uninterrupted run of the same seed.

Used by ``tests/test_kill_resume.py`` (a few kills) and ``benchmarks/kill_resume.py`` (20).

``python tests/_kill_resume.py child WORK RUN`` is the training process: a single-stage model
with a two-convolution backbone (the checkpoint logic does not depend on the backbone, and
MobileNetV3 would add ~30 s of start-up to every child) on 8 noise images whose points are one
face shape plus 3 px of noise, validated on 4 other images with the clean shape: the model first
learns the shape (``val_nme`` falls), then the noise (it rises), so the best epoch comes early
and a resume that forgot the best score would keep a worse epoch. An epoch is two batches, so
checkpoint writes are a large part of the training time. The initial weights come from
``keras.utils.set_random_seed``: ``fit`` does not seed them, so without it a run killed before
its first checkpoint would start again from other weights.

The driver (:func:`run_with_kills`) starts the child again and again in ``WORK/killed``; the
kinds of kill are listed there. Between kills no child may fail on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# Training must outlast the kill windows by more than the start-up time varies on a loaded
# machine (seconds): with 12 epochs (about 4 s of training) a child whose imports ran faster
# than the uninterrupted run's finished before a "random" kill landed (seen once with two
# training runs sharing the 2 CPUs). 40 epochs, as benchmarks/kill_resume.py uses, give ~14 s.
EPOCHS = 40
LEARNING_RATE = 1e-2
SEED = 0
N_TRAIN, N_VAL = 8, 4


def make_data(work: Path) -> None:
    """The images and points (written once, before any child starts: a kill must not cut them)."""
    from PIL import Image

    work.mkdir(parents=True, exist_ok=True)
    for i in range(N_TRAIN + N_VAL):
        path = work / f"{i}.png"
        if not path.exists():
            pixels = np.random.default_rng(i).integers(0, 255, (40, 30, 3), np.uint8)
            Image.fromarray(pixels).save(path)
    # one face shape; training faces carry 3 px of noise, validation faces none: the model
    # first learns the shape (val_nme falls), then the training noise (val_nme rises)
    rng = np.random.default_rng(100)
    points = np.repeat(rng.uniform(8, 22, (1, 76, 2)), N_TRAIN + N_VAL, axis=0)
    points[:N_TRAIN] += rng.normal(0, 3, (N_TRAIN, 76, 2))
    np.save(work / "points.npy", points.astype(np.float32))


def _tiny_backbone(*, include_top: bool, weights: object, input_shape: tuple) -> object:
    """Two convolutions: a backbone that traces in a second (the checkpoint logic does not
    depend on the backbone; MobileNetV3 would spend ~30 s of each child's life starting)."""
    import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.Conv2D(256, 3, strides=2, activation="relu")(x)
    return keras.Model(inputs, x, name="tiny")


def _register_tiny_backbone() -> None:
    from facelandmarks import config, model

    model.BACKBONES["tiny"] = model.BackboneInfo(_tiny_backbone, "scale_01", {})
    config.BACKBONE_NAMES = (*config.BACKBONE_NAMES, "tiny")


def _kill_in_write(after: int, keep: float) -> None:
    """SIGKILL this process inside its ``after``-th ``save_weights`` call, leaving the first
    ``keep`` share of the file's bytes: what a kill in the middle of a write leaves."""
    import keras

    original = keras.Model.save_weights
    calls = [0]

    def save_weights(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)
        calls[0] += 1
        if calls[0] == after:
            size = os.path.getsize(filepath)
            with open(filepath, "r+b") as f:
                f.truncate(int(size * keep))
            os.kill(os.getpid(), signal.SIGKILL)

    keras.Model.save_weights = save_weights


def child(work: Path, run: str) -> None:
    """Train (or resume) in ``work/run/ckpt``; writes ``work/run/done.json`` at the end."""
    import keras

    from facelandmarks import LandmarkDataset, LandmarkDetector

    _register_tiny_backbone()
    if os.environ.get("FL_KILL_IN_WRITE"):
        after, keep = os.environ["FL_KILL_IN_WRITE"].split(",")
        _kill_in_write(int(after), float(keep))
    keras.utils.set_random_seed(SEED)
    points = np.load(work / "points.npy")
    paths = [str(work / f"{i}.png") for i in range(N_TRAIN + N_VAL)]
    names = [str(i) for i in range(N_TRAIN + N_VAL)]

    def subset(idx: range) -> LandmarkDataset:
        pick = list(idx)
        return LandmarkDataset(
            [paths[i] for i in pick],
            points[pick],
            [names[i] for i in pick],
            [names[i] for i in pick],
            ["a"] * len(pick),
        )

    det = LandmarkDetector(weights=None, backbone="tiny", input_size=(32, 32))
    det.fit(
        subset(range(N_TRAIN)),
        subset(range(N_TRAIN, N_TRAIN + N_VAL)),
        epochs=int(os.environ.get("FL_EPOCHS", EPOCHS)),
        batch_size=4,
        learning_rate=float(os.environ.get("FL_LR", LEARNING_RATE)),
        seed=SEED,
        checkpoint_dir=work / run / "ckpt",
        verbose=0,
    )
    (work / run / "done.json").write_text(json.dumps({"ok": True}))


# --------------------------------------------------------------------------------------- driver
def _start(work: Path, run: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(_repo()), **(env or {})}
    return subprocess.Popen(
        [sys.executable, __file__, "child", str(work), run],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=_repo(),
    )


def _repo() -> Path:
    return Path(__file__).resolve().parent.parent


def _stage_dir(work: Path, run: str) -> Path:
    return work / run / "ckpt" / "stage0"


def _state(work: Path, run: str) -> dict | None:
    path = _stage_dir(work, run) / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None


def uninterrupted(work: Path, run: str = "plain") -> dict:
    """Train once without a kill; returns ``{"seconds": total, "first_checkpoint": seconds
    until the first state.json, "epochs": epochs trained}``."""
    t0 = time.monotonic()
    proc = _start(work, run)
    state = _stage_dir(work, run) / "state.json"
    first = None
    while proc.poll() is None:
        if first is None and state.is_file():
            first = time.monotonic() - t0
        time.sleep(0.005)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"uninterrupted run failed ({proc.returncode}): {err[-3000:]}")
    epochs = json.loads(state.read_text())["epochs_done"]
    return {"seconds": time.monotonic() - t0, "first_checkpoint": first, "epochs": epochs}


def _wait_for(proc: subprocess.Popen, stage: Path, how: str, limit: float) -> None:
    """Wait for the trigger ``how`` (``tmp``: a temporary checkpoint file appears; ``state``:
    state.json changes), polling every 2 ms, or for the child's end, or ``limit`` seconds."""
    state = stage / "state.json"
    before = state.stat().st_mtime_ns if state.is_file() else None
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if how == "tmp":
            with contextlib.suppress(FileNotFoundError):
                if any(".part-" in p.name for p in stage.iterdir()):
                    return
        else:
            with contextlib.suppress(FileNotFoundError):
                if state.stat().st_mtime_ns != before:
                    return
        time.sleep(0.002)


KINDS = ("random", "tmp", "state", "write")


def run_with_kills(work: Path, kills: int, plain: dict, *, seed: int = 0) -> dict:
    """Kill a run ``kills`` times at seeded random instants, resuming after each, then let it
    finish; returns what happened (``"failures"``: every child that failed on its own).

    Kinds of kill (drawn in turn from a seeded generator): ``random``: after a delay uniform
    over the start-up (imports, model, resume) and the first two epochs of a child, as timed by
    :func:`uninterrupted`;
    ``tmp``: the moment a checkpoint's temporary file appears (mid-write); ``state``: the moment
    state.json changes (before the old epoch file is removed); ``write``: the child kills
    itself inside its 1st-3rd ``save_weights``, leaving a random share of the file's bytes.
    The first three add a random 0-40 ms.

    Args:
        work: the folder with :func:`make_data`'s files; the run goes to ``work/killed``.
        kills: how many SIGKILLs land while the child is still training.
        plain: what :func:`uninterrupted` returned.
        seed: the kill schedule's seed.
    """
    per_epoch = (plain["seconds"] - plain["first_checkpoint"]) / plain["epochs"]
    window = plain["first_checkpoint"] + 2 * per_epoch
    seconds = plain["seconds"]
    rng = np.random.default_rng(seed)
    run = "killed"
    stage = _stage_dir(work, run)
    log: list[dict] = []
    failures: list[str] = []
    attempts = 0
    while len(log) < kills and attempts < 4 * kills:
        attempts += 1
        kind = KINDS[int(rng.integers(len(KINDS)))]
        delay = float(rng.uniform(0.0, window))
        extra = float(rng.uniform(0.0, 0.04))
        env = {}
        if kind == "write":
            env["FL_KILL_IN_WRITE"] = f"{int(rng.integers(1, 4))},{rng.uniform(0, 1):.3f}"
        before = _state(work, run)
        proc = _start(work, run, env)
        if kind == "random":
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=delay + extra)
        elif kind in ("tmp", "state"):
            _wait_for(proc, stage, kind, limit=3 * seconds)
            time.sleep(extra)
        else:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=3 * seconds)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode == -signal.SIGKILL:
            after = _state(work, run)
            log.append(
                {
                    "kind": kind,
                    "epochs_before": before and before["epochs_done"],
                    "epochs_after": after and after["epochs_done"],
                    "leftovers": sorted(p.name for p in stage.glob(".*")) if stage.is_dir() else [],
                }
            )
        elif proc.returncode != 0:
            failures.append(f"{kind}: exit {proc.returncode}: {err[-2000:]}")
            break
        elif (work / run / "done.json").exists():
            break  # finished before this kill landed
    proc = _start(work, run)
    _, err = proc.communicate()
    if proc.returncode != 0:
        failures.append(f"final resume: exit {proc.returncode}: {err.decode()[-2000:]}")
    return {"kills": len(log), "attempts": attempts, "log": log, "failures": failures}


def compare(work: Path, a: str = "plain", b: str = "killed") -> dict:
    """Best epochs and the largest weight differences between the two runs' files: ``final``
    (the best epoch's weights) and the last epoch's (weights and optimizer state)."""
    import h5py

    def arrays(path: Path) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda name, obj: (
                    out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
                )
            )
        return out

    sa, sb = _state(work, a), _state(work, b)
    result: dict = {
        "best_epoch": [sa["best_epoch"], sb["best_epoch"]],
        "best": [sa["best"], sb["best"]],
        "epochs_done": [sa["epochs_done"], sb["epochs_done"]],
    }
    for label, name in (("final", "final.weights.h5"), ("last", sa["weights"])):
        xa = arrays(_stage_dir(work, a) / name)
        xb = arrays(_stage_dir(work, b) / name)
        if set(xa) != set(xb):
            result[f"{label}_max_abs_diff"] = None
            continue
        diffs = [
            float(np.max(np.abs(np.asarray(xa[k], np.float64) - np.asarray(xb[k], np.float64))))
            for k in xa
            if np.size(xa[k])
        ]
        result[f"{label}_max_abs_diff"] = max(diffs)
        result[f"{label}_bit_equal"] = all(np.array_equal(xa[k], xb[k]) for k in xa)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        child(Path(argv[1]), argv[2])
        return 0
    raise SystemExit("usage: _kill_resume.py child WORK RUN")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
