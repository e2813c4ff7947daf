"""The fit loop of one stage: optimizer, checkpoints that survive a kill, validation NME.

:func:`fit_stage` trains one Keras model on a ``tf.data`` pipeline. With a checkpoint folder it
resumes after the last finished epoch and keeps the best one
(:class:`~facelandmarks.training.checkpoint.RunCheckpoint`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facelandmarks.training.checkpoint import (
    RunCheckpoint,
    load_checkpoint_weights,
    save_weights_atomically,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- validation NME
class FrameNME(keras.callbacks.Callback):
    """Adds inference-mode NME on validation sets to the epoch logs.

    Errors are measured in the model's crop (frame-normalised coordinates scaled to crop pixels):
    the frames of a face stage are similarities of the image, so the ratio error / eye distance
    is the same as in the original image's pixels. For a stage framed by the previous stage's
    points the validation frames come from the ground truth (no jitter), so it scores the stage
    alone.

    Logs ``val_nme_<set>_<scheme>`` for every set and head with labelled faces, and
    ``val_nme``: the mean over each set's own scheme (``native``).

    Args:
        sets: ``[(label, dataset)]``: validation pipelines yielding ``(crops, targets)``.
        heads: the model's heads: ``[(scheme name, slice of its points in the output, its
            outer eye corners' head-local indices)]``.
        crop_size: ``(width, height)`` of the model input.
        native: label -> the scheme the set is annotated in.
    """

    def __init__(
        self,
        sets: Sequence[tuple[str, Any]],
        heads: Sequence[tuple[str, slice, tuple[int, int]]],
        crop_size: tuple[int, int],
        native: dict[str, str],
    ) -> None:
        super().__init__()
        self.sets = list(sets)
        self.heads = list(heads)
        self.scale = np.asarray(crop_size, np.float64)
        self.native = dict(native)

    def scores(self) -> dict[str, float]:
        """``{"val_nme_<set>_<scheme>": nme, ..., "val_nme": mean of native ones}``."""
        out: dict[str, float] = {}
        native = []
        for label, ds in self.sets:
            preds, trues = [], []
            for x, y in ds:
                preds.append(np.asarray(self.model(x, training=False), np.float64))
                trues.append(np.asarray(y, np.float64))
            pred = np.concatenate(preds).reshape(-1, preds[0].shape[1] // 2, 2) * self.scale
            true = np.concatenate(trues).reshape(pred.shape) * self.scale
            for name, points, eye_corners in self.heads:
                nme = frame_nme(pred[:, points], true[:, points], eye_corners)
                if nme is not None:
                    out[f"val_nme_{label}_{name}"] = nme
                    if self.native.get(label) == name:
                        native.append(nme)
        if native:
            out["val_nme"] = float(np.mean(native))
        return out

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        scores = self.scores()
        if logs is not None:
            logs.update(scores)
        logger.info("epoch %d: %s", epoch + 1, ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))


def frame_nme(pred: np.ndarray, true: np.ndarray, eye_corners: tuple[int, int]) -> float | None:
    """Mean over faces of (mean point error / outer-eye-corner distance), faces whose two eye
    corners and at least one other point are labelled; ``None`` when there are none."""
    a, b = eye_corners
    iod = np.linalg.norm(true[:, a] - true[:, b], axis=-1)
    err = np.linalg.norm(pred - true, axis=-1)
    ok = np.isfinite(err)
    count = ok.sum(axis=1)
    use = np.isfinite(iod) & (iod > 0) & (count > 0)
    if not use.any():
        return None
    per_face = np.where(ok, err, 0.0).sum(axis=1)[use] / count[use] / iod[use]
    return float(per_face.mean())


# --------------------------------------------------------------------------- the loop
def fit_stage(
    model: keras.Model,
    make_train: Callable[[int], Any],
    *,
    epochs: int,
    steps_per_epoch: int,
    loss: Any,
    learning_rate: float = 1e-3,
    lr_schedule: str | None = None,
    validation: FrameNME | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    restore_best: bool = True,
    early_stopping: int | None = None,
    mixed_precision: str | None = None,
    scope: Any = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    init_head: bool = False,
    verbose: int = 1,
) -> keras.callbacks.History | None:
    """Train one stage's model.

    Args:
        model: the stage's Keras model (output ``(B, 2P)`` sigmoid).
        make_train: ``first_epoch -> dataset``: the endless training pipeline of
            ``(crops, targets)`` batches from that epoch on (see
            :func:`facelandmarks.training.pipeline.make_tf_dataset`), built after a resume so
            every epoch gets the same samples as in an uninterrupted run.
        epochs: epochs in all (a resumed run trains the ones not done yet).
        steps_per_epoch: batches per epoch.
        loss: the Keras loss.
        learning_rate: Adam's (peak) learning rate.
        lr_schedule: ``None`` (constant) or ``"cosine"`` (to 0 over all epochs).
        validation: a :class:`FrameNME` adding ``val_nme`` (watched for the best epoch).
        checkpoint_dir: the stage's checkpoint folder (resumable, see :class:`RunCheckpoint`);
            ``final.weights.h5`` there marks the stage done (loaded, not trained again).
        restore_best: end with the best epoch's weights (by ``val_nme``, else ``loss``)
            instead of the last.
        early_stopping: stop after this many epochs without a new best, or ``None``.
        mixed_precision: a Keras dtype policy name (see :func:`resolve_mixed_precision`).
        scope: a ``tf.distribute`` strategy scope factory (``strategy.scope``) or ``None``.
        callbacks: more Keras callbacks (after the validation callback: they see ``val_nme``).
        init_head: start the head's bias at the mean training shape (fresh models).
        verbose: Keras ``fit`` verbosity.

    Returns:
        The ``History`` of this call, or ``None`` when the stage was already finished in
        ``checkpoint_dir`` and only loaded.

    Raises:
        RuntimeError: an unreadable checkpoint (named, with what to do).
    """
    scope = scope or contextlib.nullcontext
    ckpt = None
    final = None if checkpoint_dir is None else Path(checkpoint_dir) / "final.weights.h5"
    if final is not None and final.is_file():
        load_checkpoint_weights(model, final)
        logger.info("%s already trained in %s: loaded, skipped", model.name, final)
        return None
    monitor = "loss" if validation is None else "val_nme"
    lr: Any = learning_rate
    if lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, steps_per_epoch * epochs)
    done = 0
    cbs = list(callbacks) if validation is None else [validation, *callbacks]
    with dtype_policy(model, mixed_precision):
        with scope():
            optimizer = keras.optimizers.Adam(lr)
            if mixed_precision == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            model.compile(optimizer=optimizer, loss=loss)
            model.optimizer.build(model.trainable_variables)
        if final is not None:
            ckpt = RunCheckpoint(final.parent, monitor, early_stopping)
            done = ckpt.resume(model)
            cbs.append(ckpt)
        elif early_stopping is not None or restore_best:
            # patience=epochs never stops: it only keeps the best weights
            cbs.append(
                keras.callbacks.EarlyStopping(
                    monitor=monitor,
                    mode="min",
                    patience=early_stopping or epochs,
                    restore_best_weights=restore_best,
                )
            )
        train_ds = make_train(done)
        if init_head and done == 0:
            init_head_to_mean(model, train_ds)
        history = model.fit(
            train_ds,
            epochs=epochs,
            initial_epoch=done,
            steps_per_epoch=steps_per_epoch,
            callbacks=cbs,
            shuffle=False,  # the pipeline shuffles, per (seed, epoch)
            verbose=verbose,
        )
    if mixed_precision is not None:
        # float32 again; compile anew so no function traced under the policy is reused
        with scope():
            model.compile(optimizer=model.optimizer, loss=loss)
    if ckpt is not None:
        if restore_best and ckpt.best_path.is_file():
            load_checkpoint_weights(model, ckpt.best_path)
            logger.info("%s: restored best epoch %s", model.name, ckpt.state["best_epoch"])
        save_weights_atomically(model, final)
    return history


# --------------------------------------------------------------------------- precision
def resolve_mixed_precision(value: bool | str | None) -> str | None:
    """``fit``'s ``mixed_precision`` argument, as :func:`~facelandmarks.training.config.fit_options`
    checked it -> a Keras dtype policy name, or ``None``."""
    if value is True:
        return "mixed_float16"
    if value == "auto":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            logger.info("mixed precision on: %d GPU(s) visible", len(gpus))
        return "mixed_float16" if gpus else None
    return value or None


@contextlib.contextmanager
def dtype_policy(model: keras.Model, policy: str | None) -> Iterator[None]:
    """Train ``model`` under a mixed-precision policy, then put every layer back.

    Every layer computes in the policy's dtype except the output head (the model's last layer),
    which stays float32 so that the sigmoid outputs and the loss are float32. Weights stay
    float32 under both mixed policies, so nothing is converted.
    """
    if policy is None:
        yield
        return
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    head = model.layers[-1]
    saved = [(layer, layer.dtype_policy) for layer in layers]
    logger.info("training %s with the %s policy (head in float32)", model.name, policy)
    try:
        for layer in layers:
            if layer is not head:
                layer.dtype_policy = policy
        yield
    finally:
        for layer, old in saved:
            layer.dtype_policy = old


def init_head_to_mean(model: keras.Model, train_ds: Any, batches: int = 4) -> None:
    """Start a fresh head at the mean training shape: bias = logit(mean normalised target).

    Without this the sigmoid head starts at the frame centre (0.5, 0.5) for every point and
    spends the first epochs (and saturating gradients) getting to the mean shape.
    """
    targets = [np.asarray(t) for _, t in train_ds.take(batches)]
    with warnings.catch_warnings():  # a point no batch labels: NaN (then 0.5)
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.concatenate(targets), axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.5).clip(1e-3, 1 - 1e-3)
    dense = model.get_layer("landmarks")
    kernel, _ = dense.get_weights()
    dense.set_weights([kernel, np.log(mean / (1 - mean)).astype(np.float32)])
    logger.info("head bias set to the mean shape of %d training batches", len(targets))
