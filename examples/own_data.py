"""Train on your own images and landmarks (any number of points).

Your data: image files plus an (N, P, 2) array of (x, y) pixel coordinates in each file,
NaN where a point is not labelled. Here a tiny synthetic set stands in for it: squares whose
four corners are the "landmarks".

    python examples/own_data.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from facelandmarks import DetectorConfig, LandmarkDataset, LandmarkDetector, StageConfig
from facelandmarks.metrics import per_image_nme
from facelandmarks.training import Augmentation

rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp())
paths, points = [], []
for i in range(200):
    w, h = 96, 96
    cx, cy, r = rng.uniform(30, 66), rng.uniform(30, 66), rng.uniform(12, 25)
    corners = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])
    img = Image.new("RGB", (w, h), (20, 20, 20))
    ImageDraw.Draw(img).polygon([tuple(c) for c in corners], fill=(230, 200, 40))
    img.save(folder / f"{i}.png")
    paths.append(str(folder / f"{i}.png"))
    points.append(corners)

ds = LandmarkDataset(
    image_paths=paths,
    landmarks=np.array(points, np.float32),  # (N, 4, 2) pixels
    names=[Path(p).stem for p in paths],
    subjects=[str(i) for i in range(len(paths))],
    cameras=[""] * len(paths),
)
train, val = ds.split(0.2, by="image", seed=0)

config = DetectorConfig(
    num_points=4,
    point_scheme="square-corners",
    stages=(
        StageConfig(
            backbone="mobilenetv3small",
            input_size=(64, 64),
            preprocessing="backbone",
            normalization="group",
        ),
    ),
)
det = LandmarkDetector(weights=None, config=config)
# A left-right flip maps corners 0<->1 and 2<->3.
det.fit(
    train,
    val,
    epochs=8,
    batch_size=16,
    learning_rate=3e-3,
    augment=Augmentation(mirror=(1, 0, 3, 2), rotation=0),
    verbose=2,
)

pred = det.predict(val)  # (N, 4, 2) pixels
# NME normalised by the square's side (the 0-1 corner distance of the ground truth):
side = np.linalg.norm(val.landmarks[:, 0] - val.landmarks[:, 1], axis=-1)
print(
    "NME (by side length):", float(np.mean(per_image_nme(pred, val.landmarks, normalization=side)))
)
