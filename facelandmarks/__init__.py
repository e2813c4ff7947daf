"""facelandmarks: 2D face landmarks (76 MUCT points, 68 iBUG points) on Keras 3 / TensorFlow.

Quick start::

    from facelandmarks import LandmarkDetector
    det = LandmarkDetector()                 # the shipped default model, no network needed
    xy = det.predict("photo.jpg")            # float32 (1, 76, 2): (x, y) pixels of the photo
    det68 = LandmarkDetector(scheme="ibug68")   # the same model's 68 iBUG points

See docs/coordinates.md for the coordinate contract every array follows. Importing the package
does not import TensorFlow: predicting with the shipped model runs on TensorFlow Lite; Keras is
loaded when a Keras model is needed (training, ``runtime="keras"``).
"""

from __future__ import annotations

import logging

from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets import (
    LandmarkDataset,
    MuctFormatError,
    PtsFormatError,
    load_ibug,
    load_muct,
)
from facelandmarks.detector import LandmarkDetector
from facelandmarks.face_detection import FaceBox
from facelandmarks.inference import Face, ImageFaces
from facelandmarks.metrics import evaluate_landmarks
from facelandmarks.points import MIRROR_PERMUTATION, NUM_POINTS, MuctPoint
from facelandmarks.schemes import Ibug68Point, PointScheme, get_scheme, register_scheme
from facelandmarks.tracking import FaceTracker
from facelandmarks.training.options import Augmentation
from facelandmarks.weights import WeightSpec, describe_weights, download_weights, list_weights

__version__ = "0.1.0"

__all__ = [
    "MIRROR_PERMUTATION",
    "NUM_POINTS",
    "Augmentation",
    "DetectorConfig",
    "Face",
    "FaceBox",
    "FaceTracker",
    "Ibug68Point",
    "ImageFaces",
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
