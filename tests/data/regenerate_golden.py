"""Rewrites the golden predictions of the shipped models on the public-domain sample photo.

Run only when a shipped model changes on purpose (the golden tests say so):

    python tests/data/regenerate_golden.py

Writes ``tests/data/golden_astronaut.json``: per embedded preset, its sha256 and the points
``LandmarkDetector(preset, scheme=..., runtime="keras")`` gives for ``examples/astronaut.png``
through the path users run (the default ``framing="detect"``: BlazeFace, then the landmarks),
for each of the model's heads; the MUCT-only preset also through ``framing="image"`` (the
whole-image path it was trained for). Points are ``(x, y)`` pixel centres of the 512x512 image.
"""

from __future__ import annotations

import json
from pathlib import Path

from facelandmarks import LandmarkDetector
from facelandmarks import weights as fl_weights

HERE = Path(__file__).resolve().parent
ASTRONAUT = HERE.parents[1] / "examples" / "astronaut.png"
OUT = HERE / "golden_astronaut.json"


def _rounded(points) -> list[list[float]]:
    return [[round(float(x), 3), round(float(y), 3)] for x, y in points]


def main() -> None:
    out: dict = {
        "image": "examples/astronaut.png",
        "what": "per preset and path: LandmarkDetector(preset, scheme=..., runtime='keras')"
        ".predict(image, framing=...)[0], (K, 2) float32 (x, y) pixel centres",
    }
    for name in fl_weights.list_weights():
        spec = fl_weights.get_spec(name)
        if spec.embedded is None:
            continue
        entry: dict = {"sha256": spec.sha256}
        base = LandmarkDetector(name, runtime="keras")  # TensorFlow; the tests check both runtimes
        framings = ["detect"] + (["image"] if base.config.stages[0].framing != "face" else [])
        for scheme in base.schemes:
            det = LandmarkDetector(name, scheme=scheme, runtime="keras")
            for framing in framings:
                entry[f"{framing}/{scheme}"] = _rounded(det.predict(ASTRONAUT, framing=framing)[0])
        out[name] = entry
    text = json.dumps(out, indent=1)
    # one point per line
    text = text.replace("[\n    ", "[").replace(",\n    ", ", ").replace("\n   ]", "]")
    OUT.write_text(text + "\n")


if __name__ == "__main__":
    main()
