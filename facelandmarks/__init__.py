"""facelandmarks: 2D face landmark localization (76-point MUCT scheme) on Keras 3 / TensorFlow.

Quick start::

    from facelandmarks import LandmarkDetector
    det = LandmarkDetector()                 # the shipped default model, no network needed
    xy = det.predict("photo.jpg")            # float32 (1, 76, 2): (x, y) pixels of the photo

See docs/coordinates.md for the coordinate contract every array follows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets import (
    LandmarkDataset,
    MuctFormatError,
    PtsFormatError,
    load_ibug,
    load_muct,
)
from facelandmarks.face_detection import FaceBox
from facelandmarks.metrics import evaluate_landmarks
from facelandmarks.points import MIRROR_PERMUTATION, NUM_POINTS, MuctPoint
from facelandmarks.schemes import Ibug68Point, PointScheme, get_scheme, register_scheme
from facelandmarks.weights import WeightSpec, describe_weights, download_weights, list_weights

__version__ = "0.1.0"

__all__ = [
    "MIRROR_PERMUTATION",
    "NUM_POINTS",
    "DetectorConfig",
    "Face",
    "FaceBox",
    "Ibug68Point",
    "LandmarkDataset",
    "LandmarkDetector",
    "MuctFormatError",
    "MuctPoint",
    "PointScheme",
    "PtsFormatError",
    "StageConfig",
    "WeightSpec",
    "__version__",
    "describe_weights",
    "download_weights",
    "evaluate_landmarks",
    "get_scheme",
    "list_weights",
    "load_ibug",
    "load_muct",
    "register_scheme",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from facelandmarks.detector import LandmarkDetector
    from facelandmarks.inference import Face


def __getattr__(name: str) -> Any:
    # TensorFlow takes seconds to import: load it only when the detector (or its result type)
    # is first used, so the pure-NumPy parts (datasets, metrics, scaling) stay light.
    if name == "LandmarkDetector":
        from facelandmarks.detector import LandmarkDetector

        return LandmarkDetector
    if name == "Face":
        from facelandmarks.inference import Face

        return Face
    raise AttributeError(f"module 'facelandmarks' has no attribute {name!r}")
