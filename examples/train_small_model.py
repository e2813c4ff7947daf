"""Train a small landmark model on MUCT in a few minutes on a CPU, and evaluate it on people
it never saw.

    python examples/train_small_model.py /path/to/muct

MUCT (https://github.com/StephenMilborrow/muct) must be in its official layout: jpg/ and
muct-landmarks/muct76-opencv.csv.
"""

from __future__ import annotations

import sys

from facelandmarks import LandmarkDetector, load_muct

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/muct"
data = load_muct(root)
train, test = data.split(0.3, by="subject", seed=0)  # whole people held out
print(f"{len(train)} training images, {len(test)} test images")

det = LandmarkDetector(
    weights=None,  # a fresh model, built without any download
    backbone="mobilenetv3small",
    input_size=(128, 96),  # (height, width)
    normalization="group",  # see docs/training.md: BatchNorm trained from scratch can collapse
)
det.fit(
    train,
    test,
    epochs=6,
    batch_size=32,
    learning_rate=2e-3,
    augment=True,
    lr_schedule="cosine",
    cache=True,
)
scores = det.evaluate(test)
print({k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()})
det.save("small-model.keras")
