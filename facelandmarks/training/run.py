"""``facelandmarks train CONFIG.json``: a whole training run from a config file.

The run folder gets ``config.json`` (the checked config), ``detections/`` (the face detector's
boxes for every image, cached), ``checkpoints/stage<k>/`` (resumable: run the same command again
after an interruption), ``log.csv`` (per epoch and stage: loss, ``val_nme`` per set and scheme),
``detector.keras`` and ``evaluation.json``.

Several datasets in different point schemes train one model: each face supervises the points its
annotation defines, in its own scheme's head and, through the schemes' exact correspondences
(:meth:`facelandmarks.schemes.PointScheme.transfer`), in the other heads; everything else is
masked out of the loss.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.training.config import DataSet, TrainConfig

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class _Part:
    """One dataset's train / validation / test sides, with targets and frames per side."""

    spec: DataSet
    scheme: str
    sides: dict[str, LandmarkDataset]
    targets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    rois: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    found: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def load_set(spec: DataSet) -> LandmarkDataset:
    """Read one dataset of a run (MUCT layout or iBUG ``.pts`` folders).

    Raises:
        FileNotFoundError: the folder does not exist (names the config field and variable).
    """
    from facelandmarks.training.config import FORMATS

    root = spec.resolved_path()
    if not root.is_dir():
        raise FileNotFoundError(
            f"dataset {spec.name!r}: folder not found: {str(root)!r} (set "
            f"{spec.env or FORMATS[spec.format]} or the config's path)"
        )
    if spec.format == "muct":
        from facelandmarks.datasets.muct import load_muct

        return load_muct(root)
    from facelandmarks.datasets.ibug import load_ibug

    return load_ibug(root)


def _split(spec: DataSet, data: LandmarkDataset, val_fraction: float) -> dict[str, Any]:
    train, test = data.split(spec.test_fraction, by=spec.split_by, seed=spec.seed)
    sides = {"train": train, "test": test, "val": test}
    if val_fraction > 0:
        sides["train"], sides["val"] = train.split(
            val_fraction, by=spec.split_by, seed=spec.seed + 1
        )
    return sides


def union_targets(data: LandmarkDataset, scheme: str, config: DetectorConfig) -> np.ndarray:
    """float32 ``(N, total_points, 2)``: ``data``'s points in every head of ``config``, through
    the exact correspondences between schemes (NaN where a head's point has none)."""
    from facelandmarks.schemes import get_scheme

    out = np.full((len(data), config.total_points, 2), np.nan, np.float32)
    own = get_scheme(scheme)
    for name, _ in config.heads:
        sl = config.head_slice(name)
        out[:, sl] = data.landmarks if name == scheme else own.transfer(data.landmarks, name)
    return out


def _frames(parts: list[_Part], config: TrainConfig, stage: StageConfig, out: Path) -> dict:
    """Face ROIs for every side of every part; returns the per-scheme calibration."""
    from facelandmarks.face_detection import get_face_detector
    from facelandmarks.schemes import get_scheme
    from facelandmarks.training.faces import detect_training_faces, training_rois

    detector = get_face_detector(config.face_detector)
    calibration: dict[str, tuple[float, float, float]] = {}
    for part in parts:
        for side in ("train", "val", "test"):
            data = part.sides[side]
            dets = detect_training_faces(
                data.image_paths, data.landmarks, detector, cache_dir=out / "detections"
            )
            eyes = get_scheme(part.scheme).eyes
            if side == "train" and part.scheme not in calibration:
                _, calibration[part.scheme] = training_rois(dets, data.landmarks, eyes, stage)
            part.rois[side], _ = training_rois(
                dets, data.landmarks, eyes, stage, calibration.get(part.scheme)
            )
            part.found[side] = dets.found
    return calibration


def _concat(parts: list[_Part], side: str) -> tuple[LandmarkDataset, np.ndarray, Any, np.ndarray]:
    paths: list[str] = []
    targets, rois, repeats = [], [], []
    for part in parts:
        data = part.sides[side]
        paths += list(data.image_paths)
        targets.append(part.targets[side])
        rois.append(part.rois.get(side, np.full((len(data), 4), np.nan, np.float32)))
        repeats.append(np.full(len(data), part.spec.repeat, np.int64))
    t = np.concatenate(targets)
    names = [f"{i}" for i in range(len(paths))]
    data = LandmarkDataset(paths, t, names, names, [""] * len(paths), scheme="")
    return data, t, np.concatenate(rois), np.concatenate(repeats)


def run(config: TrainConfig, *, verbose: int = 2) -> dict[str, Any]:
    """Train and evaluate as ``config`` says; returns the evaluation dict.

    Raises:
        FileNotFoundError: a dataset folder is missing.
        ValueError: data that cannot train (named).
    """
    from facelandmarks.losses import get_loss
    from facelandmarks.model import build_stage
    from facelandmarks.schemes import get_scheme
    from facelandmarks.training.fit import (
        HeadSpec,
        fit_stage,
        resolve_mixed_precision,
        write_json_atomically,
    )
    from facelandmarks.training.pipeline import make_tf_dataset, steps_per_epoch

    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / "config.json", config.to_dict())
    det_cfg = config.detector
    parts = []
    for spec in config.data:
        data = load_set(spec)
        part = _Part(spec, data.scheme, _split(spec, data, config.validation_fraction))
        for side, d in part.sides.items():
            part.targets[side] = union_targets(d, part.scheme, det_cfg)
        parts.append(part)
        logger.info(
            "%s: %s, %d train / %d test faces",
            spec.name,
            part.scheme,
            len(part.sides["train"]),
            len(part.sides["test"]),
        )
    face_stage = next((s for s in det_cfg.stages if s.framing == "face"), None)
    if face_stage is not None:
        calibration = _frames(parts, config, face_stage, out)
        det_cfg = dataclasses.replace(
            det_cfg, roi_from_points=calibration, face_detector=config.face_detector
        )
    heads = [
        HeadSpec(name, det_cfg.head_slice(name), get_scheme(name).eye_corners)
        for name, _ in det_cfg.heads
    ]
    fit = config.fit
    restore_best = fit.restore_best
    if restore_best is None:
        restore_best = config.validation_fraction > 0
    precision = resolve_mixed_precision(fit.mixed_precision)
    loss = get_loss(det_cfg.loss, [k for _, k in det_cfg.heads])
    train, targets, rois, repeats = _concat(parts, "train")
    models = [build_stage(s, det_cfg, f"stage{i}") for i, s in enumerate(det_cfg.stages)]
    csv_log = keras.callbacks.CSVLogger(str(out / "log.csv"), append=True)
    t0 = time.time()
    for k, (stage, model) in enumerate(zip(det_cfg.stages, models, strict=True)):
        epochs, augment = fit.epochs[k], fit.augment[k]
        logger.info("stage %d: %d epochs", k, epochs)
        make_train = functools.partial(
            make_tf_dataset,
            train,
            stage,
            batch_size=fit.batch_size,
            training=True,
            augment=augment,
            seed=fit.seed,
            cache=fit.cache,
            mirror=det_cfg.mirror,
            targets=targets,
            rois=rois,
            repeats=repeats,
        )
        monitor = _monitor(parts, "val", stage, heads, fit.batch_size, make_tf_dataset)
        fit_stage(
            model,
            lambda first, make=make_train: make(first_epoch=first),
            epochs=epochs,
            steps_per_epoch=steps_per_epoch(repeats, fit.batch_size),
            loss=loss,
            learning_rate=fit.learning_rate,
            lr_schedule=fit.lr_schedule,
            validation=monitor,
            checkpoint_dir=out / "checkpoints" / f"stage{k}",
            restore_best=restore_best,
            early_stopping=fit.early_stopping,
            mixed_precision=precision,
            callbacks=[_StageColumn(k), csv_log],
            init_head=True,
            verbose=verbose,
        )
    train_seconds = time.time() - t0
    _save(det_cfg, models, out / "detector.keras")
    result: dict[str, Any] = {}
    for k, stage in enumerate(det_cfg.stages):
        monitor = _monitor(parts, "test", stage, heads, fit.batch_size, make_tf_dataset)
        monitor.set_model(models[k])
        result[f"stage{k}_frame_nme"] = monitor.scores()
    result["detector_found"] = {
        p.spec.name: [int(p.found["test"].sum()), len(p.found["test"])]
        for p in parts
        if "test" in p.found
    }
    result["train_seconds"] = round(train_seconds, 1)
    result["n_train"] = {p.spec.name: len(p.sides["train"]) for p in parts}
    result["n_test"] = {p.spec.name: len(p.sides["test"]) for p in parts}
    result["test_subjects"] = {p.spec.name: sorted(set(p.sides["test"].subjects)) for p in parts}
    write_json_atomically(out / "evaluation.json", result)
    return result


def _monitor(parts, side, stage, heads, batch_size, make_tf_dataset):
    from facelandmarks.training.fit import FrameNME

    sets = []
    for part in parts:
        data = part.sides[side]
        ds = make_tf_dataset(
            data,
            stage,
            batch_size=batch_size,
            training=False,
            targets=part.targets[side],
            rois=part.rois.get(side),
        )
        sets.append((part.spec.name, ds))
    native = {p.spec.name: p.scheme for p in parts}
    return FrameNME(sets, heads, stage.out_size, native)


class _StageColumn(keras.callbacks.Callback):
    """Adds the stage index to the epoch logs (so log.csv says which stage a row is)."""

    def __init__(self, stage: int) -> None:
        super().__init__()
        self.stage = stage

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["stage"] = self.stage


def _save(config: DetectorConfig, models: list, path: Path) -> None:
    from facelandmarks.detector import LandmarkDetector

    det = LandmarkDetector(weights=None, config=config)
    for mine, trained in zip(det.models, models, strict=True):
        mine.set_weights(trained.get_weights())
    det.save(path)
