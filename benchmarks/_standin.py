"""A stand-in for a one-stage face-framed model: untrained, but with the shape and speed of one.

``python benchmarks/_standin.py OUT.keras`` builds a detector of one 128x128 grey MobileNetV3
Small stage framed by BlazeFace (heads ``muct76`` and ``ibug68``), whose heads always output the
shipped default model's landmarks of the benchmark photo (``examples/astronaut.png`` in
480x640) in that face's frame, with a ``roi_from_points`` calibration measured on that one face.
So on the benchmark photo and its shifted copies it places plausible points where the face is
and video tracking follows the face as a trained model would: the forward pass, the crops and
the tracking cost exactly what a trained model of that shape costs. Its accuracy is meaningless.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._bench import benchmark_image  # noqa: E402


def build_standin(out: Path) -> Path:
    """Build the stand-in (see the module docstring) and save it to ``out`` (``.keras``)."""
    from facelandmarks import LandmarkDetector, inference
    from facelandmarks.config import DetectorConfig, StageConfig
    from facelandmarks.framing import calibrate_roi_from_points
    from facelandmarks.schemes import get_scheme

    rgb = benchmark_image()
    xy = LandmarkDetector(verbose=0).predict(rgb)[0].astype(np.float64)  # (76, 2) muct76
    stage = StageConfig(
        backbone="mobilenetv3small",
        input_size=(128, 128),
        preprocessing="backbone",
        normalization="group",
        framing="face",
        face_scale=1.6,
        face_offset=(0, 0.06),
        color="gray",
        head="spatial",
    )
    config = DetectorConfig(
        heads=(("muct76", 76), ("ibug68", 68)), stages=(stage,), face_detector="blazeface"
    )
    det = LandmarkDetector(weights=None, config=config)
    finder, name = det._detector()
    place = inference.placement_of(finder.detect(rgb)[0], name)
    frame = inference.first_framing(stage, rgb, place)
    roi = np.array([[*frame.center, frame.size[0], frame.angle]])
    calibration = calibrate_roi_from_points(xy[None], get_scheme("muct76").eyes, roi)
    ibug = get_scheme("muct76").transfer(xy, "ibug68")
    ibug = np.where(np.isfinite(ibug), ibug, np.nanmean(ibug, axis=0))
    xyn = np.clip(frame.to_normalized(np.concatenate([xy, ibug])), 0.02, 0.98).reshape(-1)
    dense = det.models[0].get_layer("landmarks")
    kernel, _ = dense.get_weights()
    dense.set_weights([np.zeros_like(kernel), np.log(xyn / (1 - xyn)).astype(np.float32)])
    import dataclasses

    det.config = dataclasses.replace(config, roi_from_points={"muct76": calibration})
    return det.save(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to save the .keras file")
    args = parser.parse_args(argv)
    print(build_standin(args.out))


if __name__ == "__main__":
    main()
