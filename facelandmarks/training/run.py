"""``facelandmarks train CONFIG.json``: a whole training run from a config file.

The run folder gets ``config.json`` (the checked config), ``checkpoints/`` (resumable: run the
same command again after an interruption; ``checkpoints/detections/`` caches the face
detector's boxes for every image), ``log.csv`` (per epoch and stage: loss, ``val_nme`` per set
and scheme), ``detector.keras`` and ``evaluation.json``. The training itself is
:func:`facelandmarks.training.core.train_parts`, shared with ``LandmarkDetector.fit``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import keras

from facelandmarks.config import DetectorConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.fileio import atomic_write_json
from facelandmarks.training.config import DataSet, TrainConfig
from facelandmarks.training.core import Part, monitor, train_parts

logger = logging.getLogger(__name__)


def load_set(spec: DataSet) -> LandmarkDataset:
    """Read one dataset of a run (MUCT layout or iBUG ``.pts`` folders).

    Raises:
        FileNotFoundError: the folder does not exist (names the config field and variable).
    """
    root = spec.resolved_path()
    if not root.is_dir():
        fix = "check the folder given"
        if spec.variable is not None:
            fix = f"set {spec.variable} or the config's path"
        raise FileNotFoundError(f"dataset {spec.name!r}: folder not found: {str(root)!r} ({fix})")
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


def run(config: TrainConfig, *, verbose: int = 2) -> dict[str, Any]:
    """Train and evaluate as ``config`` says; returns the evaluation dict.

    Raises:
        FileNotFoundError: a dataset folder is missing.
        ValueError: data that cannot train (named).
    """
    from facelandmarks.model import build_stages
    from facelandmarks.saving import save_detector

    out = Path(config.output)
    atomic_write_json(out / "config.json", config.to_dict())
    parts = []
    for spec in config.data:
        data = load_set(spec)
        part = Part(
            spec.name, data.scheme, _split(spec, data, config.validation_fraction), spec.repeat
        )
        parts.append(part)
        logger.info(
            "%s: %s, %d train / %d test faces",
            spec.name,
            part.scheme,
            len(part.sides["train"]),
            len(part.sides["test"]),
        )
    det_cfg = config.detector
    # Seeded initial weights: a run killed before its first checkpoint starts again from the
    # same weights, so it still ends like an uninterrupted run.
    keras.utils.set_random_seed(config.fit.seed)
    if config.init is None:
        models = build_stages(det_cfg)
        fresh = list(range(len(models)))
    else:
        det_cfg, models, copied = _initial_models(config.init, det_cfg)
        fresh = []
        idle = [k for k in copied if config.fit.epochs[k] == 0]
        if idle:
            raise ValueError(
                f"stages {idle} are new (init={config.init!r} has {len(models) - len(copied)}) "
                "but have 0 epochs: a stage added to init must be trained"
            )
    fit = config.fit
    if config.validation_fraction == 0 and fit.restore_best is None:
        # "val_nme" is then the test split's: watched, never used to choose an epoch
        fit = dataclasses.replace(fit, restore_best=False)
    t0 = time.time()
    det_cfg, _ = train_parts(
        det_cfg,
        models,
        parts,
        fit,
        callbacks=[keras.callbacks.CSVLogger(str(out / "log.csv"), append=True)],
        checkpoint_dir=out / "checkpoints",
        face_detector=config.face_detector,
        fresh=fresh,
        verbose=verbose,
    )
    train_seconds = time.time() - t0
    save_detector(out / "detector.keras", det_cfg, models)
    result: dict[str, Any] = {}
    for k, stage in enumerate(det_cfg.stages):
        if fit.epochs[k] == 0:
            continue  # kept as init gave it (a face stage's frames were not even made)
        scores = monitor(parts, "test", stage, det_cfg, config.fit.batch_size)
        if scores is not None:
            scores.set_model(models[k])
            result[f"stage{k}_frame_nme"] = scores.scores()
    result["detector_found"] = {
        p.name: [int(p.found["test"].sum()), len(p.found["test"])]
        for p in parts
        if "test" in p.found
    }
    result["train_seconds"] = round(train_seconds, 1)
    result["n_train"] = {p.name: len(p.sides["train"]) for p in parts}
    result["n_test"] = {p.name: len(p.sides["test"]) for p in parts}
    result["test_subjects"] = {p.name: sorted(set(p.sides["test"].subjects)) for p in parts}
    atomic_write_json(out / "evaluation.json", result)
    return result


def _initial_models(init: str, config: DetectorConfig) -> tuple[DetectorConfig, list, list[int]]:
    """The stage models of the detector ``init`` (preset or file), to fine-tune, and copies of
    its last stage for the stages it lacks (see :mod:`facelandmarks.training.config`).
    Face-frame calibration and the face detector's name come from ``init`` when the run does
    not retrain a face stage.

    Returns:
        ``(config, models, indices of the stages copied)``.

    Raises:
        ValueError: its heads or stages' shapes differ from ``config``'s.
    """
    from facelandmarks.detector import LandmarkDetector
    from facelandmarks.model import build_stage

    start = LandmarkDetector(init, runtime="keras", verbose=0)
    theirs = [(s.backbone, s.input_size, s.head, s.color) for s in start.config.stages]
    mine = [(s.backbone, s.input_size, s.head, s.color) for s in config.stages]
    wanted = theirs + [theirs[-1]] * (len(mine) - len(theirs))
    if start.config.heads != config.heads or mine != wanted:
        raise ValueError(
            f"init={init!r} has heads {start.config.heads} and stages {theirs}; the config asks "
            f"for {config.heads} and {mine} (stages beyond init's copy its last stage, so they "
            "must have its backbone, input size, head and colour)"
        )
    models, last = list(start.models), start.models[-1].get_weights()
    for k in range(len(theirs), len(mine)):
        copy = build_stage(config.stages[k], config, f"stage{k}")
        copy.set_weights(last)
        models.append(copy)
        logger.info("stage %d starts as a copy of init's stage %d", k, len(theirs) - 1)
    config = dataclasses.replace(
        config,
        roi_from_points={**start.config.roi_from_points, **config.roi_from_points},
        face_detector=config.face_detector or start.config.face_detector,
    )
    logger.info("fine-tuning from %s", init)
    return config, models, list(range(len(theirs), len(mine)))
