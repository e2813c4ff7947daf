"""Old import path of :mod:`facelandmarks.face_detection` (documented in 0.1.0), kept working.

Deprecated: import from ``facelandmarks.face_detection`` (or ``facelandmarks.FaceBox``).
"""

from __future__ import annotations

import warnings

from facelandmarks.face_detection import *  # noqa: F403
from facelandmarks.face_detection import __all__  # noqa: F401

warnings.warn(
    "facelandmarks.detection was renamed facelandmarks.face_detection; import from there",
    DeprecationWarning,
    stacklevel=2,
)
