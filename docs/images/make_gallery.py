"""Draws the pictures of docs/quickstart.md from public-domain and synthetic images only.

    python docs/images/make_gallery.py

Writes, next to this script:

* ``astronaut-landmarks.png``: ``examples/astronaut.png`` (a NASA portrait, public domain)
  through ``predict_faces`` with the shipped default model and the default face detector,
  cropped around the face and enlarged 2x so the 76 points are visible.
* ``group-landmarks.png``: a synthetic "group photo" made from the same portrait at three
  scales, one mirrored, on a plain background, through ``predict_faces``.
* ``whole-image-vs-detected.png``: the original's whole-image framing
  (``predict(framing="image")``) next to detection first (``predict``, the default) on the
  uncropped portrait.

Never use a dataset photo here (no MUCT or 300-W picture, nor a crop of one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from facelandmarks import LandmarkDetector
from facelandmarks.drawing import draw_landmarks

HERE = Path(__file__).resolve().parent
ASTRONAUT = HERE.parents[1] / "examples" / "astronaut.png"


def _label(img: Image.Image, text: str) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, 8 + 6 * len(text), 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return out


def main() -> None:
    det = LandmarkDetector()
    photo = Image.open(ASTRONAUT).convert("RGB")

    faces = det.predict_faces(photo)[0]
    drawn = draw_landmarks(
        photo, [f.landmarks for f in faces], boxes=[f.box for f in faces], radius=1.5
    )
    x0, y0, x1, y1 = faces[0].box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.9 * max(x1 - x0, y1 - y0)
    crop = drawn.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    crop.resize((crop.width * 2, crop.height * 2), Image.LANCZOS).save(
        HERE / "astronaut-landmarks.png"
    )

    canvas = Image.new("RGB", (960, 420), (200, 205, 210))
    for scale, mirror, x in [(0.75, False, 0), (0.5, True, 390), (0.35, False, 700)]:
        face = photo.crop((120, 0, 330, 260))
        if mirror:
            face = face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        face = face.resize((round(face.width * scale * 2), round(face.height * scale * 2)))
        canvas.paste(face, (x, 20 + round((1 - scale) * 120)))
    faces = det.predict_faces(canvas)[0]
    draw_landmarks(
        canvas, [f.landmarks for f in faces], boxes=[f.box for f in faces], radius=1.5
    ).save(HERE / "group-landmarks.png")

    whole = det.predict(photo, framing="image")[0]
    detected = det.predict(photo)[0]
    left = _label(draw_landmarks(photo, whole, radius=1.5), "framing='image': whole image")
    right = _label(draw_landmarks(photo, detected, radius=1.5), "framing='detect': face first")
    pair = Image.new("RGB", (photo.width * 2 + 8, photo.height), (255, 255, 255))
    pair.paste(left, (0, 0))
    pair.paste(right, (photo.width + 8, 0))
    pair.resize((pair.width // 2, pair.height // 2), Image.LANCZOS).save(
        HERE / "whole-image-vs-detected.png"
    )
    print(f"{len(faces)} faces in the group picture; wrote 3 images to {HERE}")
    assert np.isfinite(whole).all() and np.isfinite(detected).all()


if __name__ == "__main__":
    main()
