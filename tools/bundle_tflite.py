"""Writes the TensorFlow Lite files shipped with an embedded preset (maintainers only).

Converts each stage of the preset's ``.keras`` file with :func:`facelandmarks.export.tflite_bytes`
(the same conversion ``runtime="tflite"`` caches) into ``facelandmarks/presets/NAME.stageK.tflite``
and prints the ``embedded_tflite=`` value for the preset's entry in ``facelandmarks/weights.py``.
Run it whenever a shipped ``.keras`` file changes; ``tests/test_default_model.py`` checks that
the shipped files match the registry and give the Keras model's outputs.

    python tools/bundle_tflite.py [NAME]      # NAME: default preset when omitted
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from facelandmarks import LandmarkDetector, export
from facelandmarks import weights as fl_weights
from facelandmarks.fileio import atomic_write_bytes

PRESETS = Path(__file__).resolve().parents[1] / "facelandmarks" / "presets"


def main(argv: list[str]) -> int:
    name = argv[0] if argv else fl_weights.default_preset_name()
    spec = fl_weights.get_spec(name)
    if spec.embedded is None:
        sys.stderr.write(f"preset {name!r} is not embedded in the package\n")
        return 2
    det = LandmarkDetector(weights=name, runtime="keras", verbose=0)
    # another preset's shipped file with the same bytes (a stage copied unchanged, as
    # wild-mnv3s-2stage's first stage is wild-mnv3s's) is named instead of written again
    shipped = {
        sha: file
        for other in fl_weights.list_weights()
        if other != name
        for file, sha in fl_weights.get_spec(other).embedded_tflite
    }
    pairs = []
    for k, model in enumerate(det.models):
        data = export.tflite_bytes(model)
        sha = hashlib.sha256(data).hexdigest()
        if sha in shipped:
            pairs.append((shipped[sha], sha))
            sys.stdout.write(f"stage {k}: the same bytes as the shipped {shipped[sha]}\n")
            continue
        out = PRESETS / f"{name}.stage{k}.tflite"
        atomic_write_bytes(out, data)  # never a half-written shipped file
        pairs.append((out.name, sha))
        sys.stdout.write(f"wrote {out} ({len(data):,} bytes)\n")
    sys.stdout.write("embedded_tflite=(\n")
    for file, sha in pairs:
        sys.stdout.write(f'    ("{file}", "{sha}"),\n')
    sys.stdout.write(")\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
