"""Export for deployment: TensorFlow Lite and SavedModel.

Each stage of a detector is a plain Keras model mapping float32 ``(B, H, W, 3)`` RGB pixels in
``[0, 255]`` to ``(B, 2P)`` normalised coordinates in ``[0, 1]`` (``x0, y0, x1, y1, ...`` of the
stage's input frame; see docs/coordinates.md). Preprocessing (and the grayscale conversion of
``color="gray"`` stages) is inside the model, so an exported stage takes raw pixels.

The framing between stages (which part of the image each stage sees) is not a model: it lives in
:class:`facelandmarks.LandmarkDetector`, and :func:`export_detector` writes it as
``detector.json`` next to the stage files so other runtimes can reproduce it.

TensorFlow Lite conversion uses TensorFlow's own converter (``tf.lite.TFLiteConverter``) on a
SavedModel written by ``keras.Model.export``; :mod:`facelandmarks.lite` runs the result.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from facelandmarks.config import DetectorConfig
from facelandmarks.fileio import atomic_path

if TYPE_CHECKING:  # pragma: no cover
    import keras

logger = logging.getLogger(__name__)

FORMATS = ("tflite", "saved_model")

LITE_GRAPH = 2
"""Version of the graph :func:`tflite_bytes` writes for the same weights (part of the cache key of
conversions): 2 = GroupNormalization and the grayscale input rewritten for the delegate
(:func:`facelandmarks.model.lite_ready`)."""


class Stages(Protocol):
    """What :func:`export_detector` needs of a detector: its config and one model per stage."""

    config: DetectorConfig
    models: list[keras.Model]


def tflite_bytes(model: keras.Model, *, rewrite: bool = True) -> bytes:
    """Convert one stage model to a TensorFlow Lite flatbuffer (float32, batch size free).

    The model is converted through :func:`facelandmarks.model.lite_ready` (same outputs, in ops
    that TensorFlow Lite's XNNPACK delegate runs in one piece); ``rewrite=False`` converts Keras'
    own graph instead. Takes a few seconds per stage on a CPU.

    Raises:
        RuntimeError: TensorFlow's converter failed (the message names the model).
    """
    import tensorflow as tf

    from facelandmarks.model import lite_ready

    if rewrite:
        model = lite_ready(model)

    with tempfile.TemporaryDirectory(prefix="facelandmarks-tflite-") as tmp:
        saved = os.path.join(tmp, "saved_model")
        model.export(saved, format="tf_saved_model", verbose=False)
        try:
            converter = tf.lite.TFLiteConverter.from_saved_model(saved)
            return bytes(converter.convert())
        except Exception as err:  # the converter raises several unrelated types
            raise RuntimeError(
                f"TensorFlow Lite conversion of model {model.name!r} failed: {err}"
            ) from err


def export_detector(
    det: Stages, path: str | os.PathLike[str], *, format: str = "tflite", verbose: int = 0
) -> Path:
    """Write a detector's stages for deployment into the new directory ``path``.

    Layout (``format="tflite"``)::

        path/stage0.tflite, stage1.tflite, ...   one model per stage (see module docstring)
        path/detector.json                       the DetectorConfig (framing, sizes, points)

    With ``format="saved_model"``, ``stage0/``, ``stage1/``... are TensorFlow SavedModels
    (serving signature ``serve``). The directory is written next to ``path`` and renamed into
    place when complete, so a failed export leaves nothing behind; an existing ``path`` is an
    error (nothing of yours is overwritten).

    Args:
        det: anything with ``config`` and ``models`` (a ``LandmarkDetector``).
        path: the directory to create.
        format: ``"tflite"`` or ``"saved_model"``.
        verbose: 0 silent, 1 a Keras progress bar (one step per stage; a stage takes seconds).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: unknown ``format``; FileExistsError: ``path`` exists; RuntimeError: the
        TensorFlow Lite converter failed.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}. Received: format={format!r}")
    out = Path(os.fspath(path)).expanduser()
    if out.exists():
        raise FileExistsError(f"export path {str(out)!r} already exists; choose a new directory")
    import keras

    bar = keras.utils.Progbar(len(det.models), verbose=verbose, unit_name="stage")
    with atomic_path(out, directory=True) as tmp:
        for k, model in enumerate(det.models):
            if format == "tflite":
                (tmp / f"stage{k}.tflite").write_bytes(tflite_bytes(model))
            else:
                model.export(str(tmp / f"stage{k}"), format="tf_saved_model", verbose=False)
            logger.info("exported stage %d (%s) as %s", k, model.name, format)
            bar.add(1)
        meta = {
            "format": format,
            "config": det.config.to_dict(),
            "stages": [
                {
                    "file": f"stage{k}.tflite" if format == "tflite" else f"stage{k}",
                    "input": "float32 (B, H, W, 3) RGB pixels in [0, 255]",
                    "input_size": list(s.input_size),
                    "output": f"float32 (B, {2 * det.config.total_points}) (x0, y0, x1, y1, ...) "
                    "in [0, 1] of the stage's frame, the heads' points side by side ("
                    + ", ".join(f"{name} {n}" for name, n in det.config.heads)
                    + ")",
                }
                for k, s in enumerate(det.config.stages)
            ],
        }
        (tmp / "detector.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out
