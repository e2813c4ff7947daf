"""``python -m facelandmarks.train CONFIG.json``: reproduce a model from a config file.

The config (JSON) holds everything a run needs::

    {
      "detector": {... DetectorConfig fields, "stages": [{...StageConfig...}, ...]},
      "data": {"muct": "../shared/muct", "test_fraction": 0.3, "split_by": "subject",
               "seed": 0},
      "fit": {"epochs": [12, 20], "batch_size": 32, "learning_rate": 0.002,
              "lr_schedule": "cosine", "augment": {... Augmentation fields} | true | false,
              "cache": true, "seed": 0},
      "output": "runs/default"
    }

``epochs`` may be one number for every stage or a list with one per stage. The run directory
gets ``checkpoints/`` (resumable: run the same command again after an interruption),
``log.csv`` (per-epoch loss, val_loss and inference-mode val_nme per stage),
``detector.keras`` and ``evaluation.json`` (held-out NME overall and per camera group).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


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
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    data_cfg = config["data"]
    data = load_muct(data_cfg["muct"])
    train, test = data.split(
        data_cfg.get("test_fraction", 0.3),
        by=data_cfg.get("split_by", "subject"),
        seed=data_cfg.get("seed", 0),
    )
    det = LandmarkDetector(weights=None, config=DetectorConfig.from_dict(config["detector"]))
    fit = dict(config.get("fit", {}))
    epochs = fit.pop("epochs", 8)
    n_stages = len(det.models)
    epochs = list(epochs) if isinstance(epochs, list) else [epochs] * n_stages
    aug = fit.pop("augment", None)
    if isinstance(aug, dict):
        aug = Augmentation(**aug)
    csv = keras.callbacks.CSVLogger(str(out_dir / "log.csv"), append=True)
    t0 = time.time()
    for k in range(n_stages):
        logger.info("stage %d: %d epochs", k, epochs[k])
        det.fit(
            train,
            test,
            stages=[k],
            epochs=epochs[k],
            augment=aug,
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
    result["n_test"] = len(test)
    result["test_subjects"] = sorted(set(test.subjects))
    (out_dir / "evaluation.json").write_text(json.dumps(result, indent=2))
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
