"""Predict the 76 landmarks of the faces in a photo and save an annotated copy.

    python examples/predict_photo.py [IMAGE] [OUT.png]

Uses the model shipped inside the package (no network). Face detection needs the optional
extra: pip install "facelandmarks[detect]"; without it, the whole image is taken as the face.
"""

from __future__ import annotations

import sys
from pathlib import Path

from facelandmarks import LandmarkDetector
from facelandmarks.drawing import draw_landmarks

here = Path(__file__).resolve().parent
image = sys.argv[1] if len(sys.argv) > 1 else str(here / "astronaut.png")
out = sys.argv[2] if len(sys.argv) > 2 else "landmarks.png"

det = LandmarkDetector()  # the default preset, loaded from the package
try:
    faces = det.predict_faces(image)[0]  # list of Face(box, score, landmarks (76, 2) pixels)
    points = [f.landmarks for f in faces]
    boxes = [f.box for f in faces]
except ImportError as err:  # the [detect] extra is not installed
    print(f"{err}; using the whole image")
    points, boxes = [det.predict(image)[0]], None

print(f"{len(points)} face(s) in {image}")
for k, xy in enumerate(points):
    print(f"face {k}: nose tip at ({xy[67, 0]:.1f}, {xy[67, 1]:.1f}) px")
if points:
    draw_landmarks(image, points, boxes=boxes).save(out)
    print(f"wrote {out}")
