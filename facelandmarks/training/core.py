"""Training a detector's stages on several datasets at once: what ``LandmarkDetector.fit`` and
``facelandmarks train`` share.

Several datasets in different point schemes train one model: each face supervises the points its
annotation defines, in its own scheme's head and, through the schemes' exact correspondences
(:meth:`facelandmarks.schemes.PointScheme.transfer`), in the other heads; everything else is
masked out of the loss (:class:`facelandmarks.losses.MultiHeadLoss`). Face-framed stages are
trained on the crops the face detector's boxes give (:mod:`facelandmarks.training.faces`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.training.config import FitOptions, fit_options

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Part:
    """One dataset's sides (``"train"``, ``"val"``, maybe ``"test"``) with per-side targets in
    all heads and face frames."""

    name: str
    scheme: str
    sides: dict[str, LandmarkDataset]
    repeat: int = 1
    targets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    rois: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    found: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def union_targets(data: LandmarkDataset, config: DetectorConfig) -> np.ndarray:
    """float32 ``(N, total_points, 2)``: ``data``'s points in every head of ``config``, through
    the exact correspondences between schemes (NaN where a head's point has none).

    Raises:
        ValueError: the dataset's scheme is not a head and shares no point with one, or a
            dataset without a scheme whose point count is not the first head's (where such a
            dataset's points go).
    """
    from facelandmarks.schemes import find_scheme, get_scheme

    out = np.full((len(data), config.total_points, 2), np.nan, np.float32)
    heads = dict(config.heads)
    if data.scheme in heads or not data.scheme:
        name = data.scheme or config.point_scheme
        if heads[name] != data.num_points:
            raise ValueError(
                f"the training data has {data.num_points} points per face; this detector's "
                f"{name!r} head predicts {heads[name]}"
            )
    if not data.scheme:
        out[:, config.head_slice(config.point_scheme)] = data.landmarks
        return out
    own = get_scheme(data.scheme)
    shared = 0
    for name in heads:
        if name == data.scheme:
            out[:, config.head_slice(name)] = data.landmarks
        elif find_scheme(name) is not None and len(own.correspondence(name)[0]):
            out[:, config.head_slice(name)] = own.transfer(data.landmarks, name)
        else:
            continue
        shared += 1
    if not shared:
        raise ValueError(
            f"training data in scheme {data.scheme!r} has no point in this detector's heads "
            f"{list(heads)}"
        )
    return out


def frame_parts(
    parts: list[Part],
    config: DetectorConfig,
    stage: StageConfig,
    face_detector: Any,
    cache_dir: str | os.PathLike | None,
) -> DetectorConfig:
    """Face ROIs for every side of every part, from the face detector's boxes; returns the
    config with the measured landmarks-to-ROI calibration (``roi_from_points``, used to track
    video) and the detector's name."""
    from facelandmarks.face_detection import get_face_detector
    from facelandmarks.schemes import get_scheme
    from facelandmarks.training.faces import detect_training_faces, training_rois

    detector = face_detector
    if detector is None or isinstance(detector, str):
        detector = get_face_detector(detector or config.face_detector or "default")
    calibration = dict(config.roi_from_points)
    for part in parts:
        eyes = get_scheme(part.scheme).eyes
        for side in sorted(part.sides, key=lambda s: s != "train"):  # train first: calibrates
            data = part.sides[side]
            dets = detect_training_faces(
                data.image_paths, data.landmarks, detector, cache_dir=cache_dir
            )
            given = calibration.get(part.scheme) if side != "train" else None
            part.rois[side], used = training_rois(dets, data.landmarks, eyes, stage, given)
            calibration.setdefault(part.scheme, used)
            part.found[side] = dets.found
    return dataclasses.replace(
        config, roi_from_points=calibration, face_detector=str(detector.name)
    )


def _concat(parts: list[Part], side: str) -> tuple[LandmarkDataset, np.ndarray, Any, np.ndarray]:
    paths: list[str] = []
    targets, rois, repeats = [], [], []
    for part in parts:
        data = part.sides[side]
        paths += list(data.image_paths)
        targets.append(part.targets[side])
        rois.append(part.rois.get(side, np.full((len(data), 4), np.nan, np.float32)))
        repeats.append(np.full(len(data), part.repeat, np.int64))
    t = np.concatenate(targets)
    names = [str(i) for i in range(len(paths))]
    data = LandmarkDataset(paths, t, names, names, [""] * len(paths), scheme="")
    return data, t, np.concatenate(rois), np.concatenate(repeats)


def monitor(parts: list[Part], side: str, stage: StageConfig, config: DetectorConfig, batch: int):
    """A :class:`~facelandmarks.training.fit.FrameNME` over ``side`` of every part, or
    ``None`` when no part has that side or no head has a registered scheme."""
    from facelandmarks.schemes import find_scheme
    from facelandmarks.training.fit import FrameNME
    from facelandmarks.training.pipeline import make_tf_dataset

    heads = [
        (name, config.head_slice(name), scheme.eye_corners)
        for name, _ in config.heads
        if (scheme := find_scheme(name)) is not None
    ]
    sets = [
        (
            p.name,
            make_tf_dataset(
                p.sides[side],
                stage,
                batch_size=batch,
                training=False,
                targets=p.targets[side],
                rois=p.rois.get(side),
                eyes=config.eye_groups(),
            ),
        )
        for p in parts
        if side in p.sides
    ]
    if not sets or not heads:
        return None
    native = {p.name: p.scheme or config.point_scheme for p in parts}
    return FrameNME(sets, heads, stage.out_size, native)


def train_parts(
    config: DetectorConfig,
    models: list[keras.Model],
    parts: list[Part],
    opts: FitOptions,
    *,
    stages: Sequence[int] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    checkpoint_dir: str | os.PathLike | None = None,
    face_detector: Any = None,
    scope: Callable[[], Any] | None = None,
    fresh: Sequence[int] = (),
    verbose: int = 1,
) -> tuple[DetectorConfig, list[Any]]:
    """Train ``models`` (one per stage of ``config``) on ``parts``.

    ``fresh`` lists the stages whose models were just built (their head starts at the mean
    training shape); the others are fine-tuned from the weights they hold.

    Returns:
        ``(config, histories)``: the config with the face-frame calibration measured on the
        training data (for face-framed models), and one ``History`` (or ``None`` for a stage
        already finished in ``checkpoint_dir``) per stage trained.

    Raises:
        ValueError: bad stage indices or data (named).
    """
    from facelandmarks.losses import get_loss
    from facelandmarks.training.fit import fit_stage, resolve_mixed_precision
    from facelandmarks.training.pipeline import make_tf_dataset, steps_per_epoch

    n = len(config.stages)
    # a stage given 0 epochs keeps the weights it holds
    ids = [k for k in range(n) if opts.epochs[k] > 0] if stages is None else list(stages)
    bad = [k for k in ids if not (isinstance(k, int) and 0 <= k < n)]
    if bad:
        raise ValueError(f"stages must be indices below {n}. Received: {bad}")
    untrained = [k for k in fresh if k not in ids or opts.epochs[k] == 0]
    if untrained:
        raise ValueError(
            f"stages {untrained} start from new weights but would not be trained (0 epochs "
            "or not in stages); give them epochs, or start from a trained detector"
        )
    for part in parts:
        for side, data in part.sides.items():
            part.targets[side] = union_targets(data, config)
    if all(np.isnan(p.targets["train"]).all() for p in parts):
        raise ValueError("every training landmark is NaN (unavailable): nothing to learn from")
    face_stage = next((config.stages[k] for k in ids if config.stages[k].framing == "face"), None)
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir)
    if face_stage is not None:
        cache = None if ckpt is None else ckpt / "detections"
        config = frame_parts(parts, config, face_stage, face_detector, cache)
    restore_best = opts.restore_best
    if restore_best is None:
        restore_best = any("val" in p.sides for p in parts)
    precision = resolve_mixed_precision(opts.mixed_precision)
    loss = get_loss(config.loss, [k for _, k in config.heads])
    train, targets, rois, repeats = _concat(parts, "train")
    histories = []
    for k in ids:
        stage, model = config.stages[k], models[k]
        # the stage index in the epoch logs, so log.csv says which stage a row is
        column = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda _, logs, k=k: logs.update(stage=k)
        )
        logger.info(
            "stage %d (%s, %s): %d epochs", k, stage.backbone, stage.framing, opts.epochs[k]
        )
        make_train = functools.partial(
            make_tf_dataset,
            train,
            stage,
            batch_size=opts.batch_size,
            training=True,
            augment=opts.augment[k],
            seed=opts.seed,
            cache=opts.cache,
            mirror=config.mirror,
            targets=targets,
            rois=rois,
            repeats=repeats,
            eyes=config.eye_groups(),
        )
        history = fit_stage(
            model,
            lambda first, make=make_train: make(first_epoch=first),
            epochs=opts.epochs[k],
            steps_per_epoch=steps_per_epoch(repeats, opts.batch_size),
            loss=loss,
            learning_rate=opts.learning_rate,
            lr_schedule=opts.lr_schedule,
            validation=monitor(parts, "val", stage, config, opts.batch_size),
            checkpoint_dir=None if ckpt is None else ckpt / f"stage{k}",
            restore_best=restore_best,
            early_stopping=opts.early_stopping,
            mixed_precision=precision,
            scope=scope,
            callbacks=[column, *callbacks],
            init_head=k in fresh,
            verbose=verbose,
        )
        histories.append(history)
    return config, histories


def fit_detector(
    config: DetectorConfig,
    models: list[keras.Model],
    train: LandmarkDataset | Sequence[LandmarkDataset],
    validation: LandmarkDataset | Sequence[LandmarkDataset] | None,
    *,
    options: dict[str, Any],
    **kwargs: Any,
) -> tuple[DetectorConfig, list[Any]]:
    """:meth:`facelandmarks.LandmarkDetector.fit`: check the data and options, then
    :func:`train_parts`.

    Raises:
        TypeError: data that is not a :class:`LandmarkDataset` (or a list of them).
        ValueError: bad options (named), mismatched train and validation lists, or data no
            head can learn from.
    """
    trains = _datasets(train, "train")
    vals = None if validation is None else _datasets(validation, "validation_data")
    if vals is not None and len(vals) != len(trains):
        raise ValueError(
            f"validation_data must have one dataset per training dataset ({len(trains)}). "
            f"Received: {len(vals)}"
        )
    opts = fit_options(options, len(config.stages), where="fit")
    parts = []
    for i, data in enumerate(trains):
        sides = {"train": data} if vals is None else {"train": data, "val": vals[i]}
        label = data.scheme or f"set{i}"
        if any(p.name == label for p in parts):
            label = f"{label}-{i}"
        parts.append(Part(label, data.scheme, sides))
    return train_parts(config, models, parts, opts, **kwargs)


def _datasets(value: Any, name: str) -> list[LandmarkDataset]:
    items = [value] if isinstance(value, LandmarkDataset) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(
            f"{name} must be a LandmarkDataset or a non-empty list of them (see "
            f"facelandmarks.load_muct, load_ibug or LandmarkDataset(...)). Received: "
            f"{type(value).__name__}"
        )
    for item in items:
        if not isinstance(item, LandmarkDataset):
            raise TypeError(
                f"{name} must hold LandmarkDataset objects. Received: {type(item).__name__}"
            )
        if len(item) == 0:
            raise ValueError(f"{name} holds an empty dataset ({item.source or 'no source'})")
    return list(items)
