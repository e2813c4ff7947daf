"""Checkpoints of one stage's fit that survive a kill.

After every epoch, :class:`RunCheckpoint` keeps the weights with the optimizer state and a small
JSON state (epochs done, best score and its epoch, early-stopping count), each written through
:func:`facelandmarks.fileio.atomic_path` (a temporary file renamed into place), so a process
killed at any instant leaves a run that resumes where the last finished epoch left it, with the
same best epoch as an uninterrupted run.
:func:`facelandmarks.training.fit.fit_stage` uses it.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import keras

from facelandmarks.fileio import atomic_path, atomic_write_json, remove_leftovers

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"


class RunCheckpoint(keras.callbacks.Callback):
    """Per-epoch checkpoint of one stage that a kill cannot corrupt (see the module docstring).

    Files in ``directory``: ``epoch-NNNN.weights.h5`` (the last finished epoch: weights and
    optimizer state), ``state.json`` (which file that is, epochs done, best value/epoch,
    early-stopping wait), ``best.weights.h5`` (weights of the best epoch so far).

    Args:
        directory: the stage's checkpoint folder.
        monitor: the log value to minimise (``val_nme`` or ``loss``).
        patience: early stopping after this many epochs without a new best, or ``None``.
    """

    def __init__(self, directory: Path, monitor: str, patience: int | None = None) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.monitor = monitor
        self.patience = patience
        self.state: dict[str, Any] = {
            "epochs_done": 0,
            "best": None,
            "best_epoch": None,
            "wait": 0,
            "monitor": monitor,
            "weights": None,
        }

    def resume(self, model: keras.Model) -> int:
        """Load the last finished epoch if there is one; returns the epochs already done.

        Temporary files that a kill in mid-write left are removed first
        (:func:`~facelandmarks.fileio.remove_leftovers`).

        Raises:
            RuntimeError: a state or weights file exists but cannot be read (names the file and
                says how to start the stage over).
        """
        remove_leftovers(self.directory)
        path = self.directory / STATE_FILE
        if not path.is_file():
            return 0
        try:
            state = json.loads(path.read_text())
            if not isinstance(state, dict) or not isinstance(state.get("weights"), str):
                raise ValueError(f"{STATE_FILE} holds no checkpoint state: {state!r:.200}")
            int(state["epochs_done"]), state["best"], state["best_epoch"], int(state["wait"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise checkpoint_error(self.directory, err) from err
        load_checkpoint_weights(model, self.directory / state["weights"])
        if state.get("monitor") != self.monitor:
            logger.warning(
                "checkpoint monitored %r, this run monitors %r: best score reset",
                state.get("monitor"),
                self.monitor,
            )
            state.update(best=None, best_epoch=None, wait=0, monitor=self.monitor)
        self.state = state
        logger.info(
            "resumed %s after epoch %d (best %s at epoch %s)",
            self.directory,
            state["epochs_done"],
            state["best"],
            state["best_epoch"],
        )
        return int(state["epochs_done"])

    @property
    def best_path(self) -> Path:
        return self.directory / "best.weights.h5"

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            logger.warning("epoch %d: no finite %r to checkpoint on", epoch + 1, self.monitor)
            value = None
        best = self.state["best"]
        improved = value is not None and (best is None or float(value) < best)
        if improved:
            save_weights_atomically(self.model, self.best_path)
            self.state.update(best=float(value), best_epoch=epoch + 1, wait=0)
        else:
            self.state["wait"] = int(self.state["wait"]) + 1
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        save_weights_atomically(self.model, self.directory / name)
        old = self.state["weights"]
        self.state.update(epochs_done=epoch + 1, weights=name)
        atomic_write_json(self.directory / STATE_FILE, self.state)
        if old and old != name:
            (self.directory / old).unlink(missing_ok=True)
        if self.patience is not None and self.state["wait"] >= self.patience:
            logger.info(
                "early stopping after epoch %d: no new best %s for %d epochs",
                epoch + 1,
                self.monitor,
                self.patience,
            )
            self.model.stop_training = True


def checkpoint_error(directory: Path, err: BaseException) -> RuntimeError:
    """The error for a checkpoint that cannot be read: names the folder, says how to restart."""
    return RuntimeError(
        f"cannot resume from the checkpoint in {str(directory)!r}: "
        f"{type(err).__name__}: {' '.join(str(err).split())}. Delete that folder to train this "
        "stage from the start."
    )


def load_checkpoint_weights(model: keras.Model, path: Path) -> None:
    """``model.load_weights(path)`` for a file of a checkpoint folder.

    Raises:
        RuntimeError: the file is missing, truncated or not a weights file of this model
            (:func:`checkpoint_error`), never a bare HDF5 error.
    """
    try:
        model.load_weights(str(path))
    except Exception as err:  # h5py and Keras raise OSError, ValueError, KeyError, ...
        raise checkpoint_error(Path(path).parent, err) from err


def save_weights_atomically(model: keras.Model, path: Path) -> None:
    """``model.save_weights`` (with the optimizer state, once compiled) through
    :func:`~facelandmarks.fileio.atomic_path`: the file is always the old or the new one, whole."""
    with atomic_path(path, suffix=".weights.h5") as tmp:  # Keras insists on the suffix
        model.save_weights(str(tmp))
