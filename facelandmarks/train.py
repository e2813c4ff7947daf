"""``python -m facelandmarks.train CONFIG.json``: reproduce a model from a config file.

The config (JSON) holds everything a run needs::

    {
      "detector": {... DetectorConfig fields, "stages": [{...StageConfig...}, ...]},
      "data": {"muct": "../shared/muct", "test_fraction": 0.3, "split_by": "subject",
               "seed": 0, "validation_fraction": 0.0},
      "fit": {"epochs": [12, 20], "batch_size": 32, "learning_rate": 0.002,
              "lr_schedule": "cosine", "augment": {... Augmentation fields} | true | false,
              "cache": true, "seed": 0, "early_stopping": null, "mixed_precision": false},
      "output": "runs/default"
    }

``epochs`` may be one number for every stage or a list with one per stage; so may ``augment``
(a list with one entry per stage: e.g. stronger shifts for the whole-image stage, which must
cope with a face detector's framing, than for the refining stage).

With ``validation_fraction`` > 0, that share of the training subjects is split off for
``val_nme`` and the best epoch is kept (``restore_best``). Without it, the held-out test split is
only watched during training and the last epoch is kept, so the test scores in
``evaluation.json`` played no part in choosing the model. The run directory
gets ``checkpoints/`` (resumable: run the same command again after an interruption),
``log.csv`` (per-epoch loss, val_loss and inference-mode val_nme per stage),
``detector.keras`` and ``evaluation.json`` (held-out NME overall and per camera group).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _write_json(path: Path, obj: Any) -> None:
    """Write JSON next to ``path`` and rename it into place (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def evaluate_by_camera(det, data) -> dict[str, Any]:
    """Scores overall and per MUCT camera group (a/d/e: frontal-ish; b/c: with hidden points)."""
    scores = det.evaluate(data, return_predictions=True)
    pred = scores.pop("predictions")
    from facelandmarks.metrics import evaluate_landmarks

    out: dict[str, Any] = {"all": scores}
    cams = np.array(data.cameras)
    for group in ("ade", "bc"):
        idx = np.flatnonzero(np.isin(cams, list(group)))
        if len(idx):
            out[f"cameras_{group}"] = evaluate_landmarks(pred[idx], data.landmarks[idx])
    return out


def run(config: dict[str, Any], *, verbose: int = 2) -> dict[str, Any]:
    """Train and evaluate as ``config`` says; returns the evaluation dict."""
    import keras

    from facelandmarks import DetectorConfig, LandmarkDetector, load_muct
    from facelandmarks.training import Augmentation

    out_dir = Path(config.get("output", "runs/run"))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "config.json", config)
    data_cfg = config["data"]
    data = load_muct(data_cfg["muct"])
    train, test = data.split(
        data_cfg.get("test_fraction", 0.3),
        by=data_cfg.get("split_by", "subject"),
        seed=data_cfg.get("seed", 0),
    )
    det = LandmarkDetector(weights=None, config=DetectorConfig.from_dict(config["detector"]))
    fit = dict(config.get("fit", {}))
    val_fraction = float(data_cfg.get("validation_fraction", 0.0))
    if val_fraction > 0:
        # Model selection (best epoch) on subjects of the training side only.
        train, val = train.split(
            val_fraction, by=data_cfg.get("split_by", "subject"), seed=data_cfg.get("seed", 0) + 1
        )
        fit.setdefault("restore_best", True)
    else:
        # The held-out split is only watched (val_nme per epoch): the last epoch is kept, so
        # the reported test scores were not used to pick anything.
        val = test
        if fit.setdefault("restore_best", False):
            logger.warning(
                "restore_best with the test split as validation data: the best epoch is "
                "picked on the test images, so the reported scores are optimistic"
            )
    epochs = fit.pop("epochs", 8)
    n_stages = len(det.models)
    epochs = list(epochs) if isinstance(epochs, list) else [epochs] * n_stages
    aug = fit.pop("augment", None)
    augs = list(aug) if isinstance(aug, list) else [aug] * n_stages
    if len(augs) != n_stages or len(epochs) != n_stages:
        raise ValueError(
            f"fit.epochs and fit.augment lists need one entry per stage ({n_stages}). "
            f"Received: epochs={epochs!r}, augment of length {len(augs)}"
        )
    augs = [Augmentation(**a) if isinstance(a, dict) else a for a in augs]
    csv = keras.callbacks.CSVLogger(str(out_dir / "log.csv"), append=True)
    t0 = time.time()
    for k in range(n_stages):
        logger.info("stage %d: %d epochs", k, epochs[k])
        det.fit(
            train,
            val,
            stages=[k],
            epochs=epochs[k],
            augment=augs[k],
            callbacks=[csv],
            checkpoint_dir=out_dir / "checkpoints",
            verbose=verbose,
            **fit,
        )
    train_seconds = time.time() - t0
    det.save(out_dir / "detector.keras")
    result = evaluate_by_camera(det, test)
    result["train_seconds"] = round(train_seconds, 1)
    result["n_train"] = len(train)
    result["n_validation"] = 0 if val is test else len(val)
    result["n_test"] = len(test)
    result["test_subjects"] = sorted(set(test.subjects))
    _write_json(out_dir / "evaluation.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m facelandmarks.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="JSON config file")
    parser.add_argument("--output", help="override the config's output directory")
    parser.add_argument("--muct", help="override the config's MUCT root")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = json.loads(Path(args.config).read_text())
    if args.output:
        config["output"] = args.output
    if args.muct:
        config["data"]["muct"] = args.muct
    result = run(config)
    print(json.dumps({k: v for k, v in result.items() if k != "test_subjects"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
