"""Rewrites tests/data/default_astronaut.json from the shipped default model.

Run only when the shipped model changes on purpose (the golden test says so):

    python tests/data/regenerate_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

from facelandmarks import LandmarkDetector
from facelandmarks import weights as fl_weights

HERE = Path(__file__).resolve().parent
ASTRONAUT = HERE.parents[1] / "examples" / "astronaut.png"


def main() -> None:
    spec = fl_weights.get_spec(fl_weights.default_preset_name())
    det = LandmarkDetector(runtime="keras")  # TensorFlow; the test checks both runtimes
    pts = det.predict(ASTRONAUT)[0]
    out = {
        "preset": spec.name,
        "sha256": spec.sha256,
        "image": "examples/astronaut.png",
        "what": "LandmarkDetector(runtime='keras').predict(image)[0]: (76, 2) float32 (x, y) "
        "pixel centres, whole image, no face detection",
        "whole_image": [[round(float(x), 3), round(float(y), 3)] for x, y in pts],
    }
    text = json.dumps(out, indent=1)
    # one point per line
    text = text.replace("[\n   ", "[").replace(",\n   ", ", ").replace("\n  ]", "]")
    (HERE / "default_astronaut.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
