"""Detector files: the one module that knows their formats (file <-> config and stage models).

Two formats, told apart by content, never by file name:

* ``"keras"``: what :meth:`facelandmarks.LandmarkDetector.save` writes. A Keras archive (zip)
  holding a container model whose layers are the stages (loadable by
  ``keras.saving.load_model`` after ``import facelandmarks``), plus ``facelandmarks.json``:
  ``{"format_version": 1, "config": DetectorConfig.to_dict(), "stage_layers": [...]}``.
* ``"legacy-h5"``: the original 2019 project's Keras 2.2.4 ``weights.h5`` (HDF5), read by
  :mod:`facelandmarks.legacy` (called from here only).

:func:`check_file` validates a file as far as its content allows without loading a model (the
weights cache uses it on files whose SHA-256 it does not know). Keras is imported only by the
functions that build or load models, so checking files needs no TensorFlow.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from facelandmarks.config import LEGACY_2019_STAGE, DetectorConfig
from facelandmarks.fileio import atomic_path

if TYPE_CHECKING:  # pragma: no cover
    import keras

logger = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "check_file",
    "load_detector",
    "load_models",
    "read_config",
    "save_detector",
    "sniff_format",
]

META_NAME = "facelandmarks.json"
FORMAT_VERSION = 1
FORMATS = ("keras", "legacy-h5")
_MAGIC = {"keras": b"PK\x03\x04", "legacy-h5": b"\x89HDF\r\n\x1a\n"}
_LABEL = {"keras": "zip (.keras)", "legacy-h5": "HDF5"}


def sniff_format(path: str | os.PathLike[str]) -> str | None:
    """The format of a file by its first bytes: ``"keras"``, ``"legacy-h5"`` or ``None``.

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(8)
    return next((fmt for fmt, magic in _MAGIC.items() if head.startswith(magic)), None)


def check_magic(path: str | os.PathLike[str], fmt: str) -> str | None:
    """``None`` if the file starts like a ``fmt`` file, else a short reason it does not."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as err:
        return f"it cannot be read ({err})"
    if head.startswith(_MAGIC[fmt]):
        return None
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        return "it is a web page (HTML), not a weights file"
    return f"it is not a {_LABEL[fmt]} file (wrong magic bytes)"


def check_file(path: str | os.PathLike[str], fmt: str) -> str | None:
    """Validate a detector file of format ``fmt`` (one of :data:`FORMATS`) without a model.

    ``"keras"``: a readable zip whose members all pass their CRC, with a ``facelandmarks.json``
    this version can read. ``"legacy-h5"``: an HDF5 file that opens (a truncated one does not)
    and holds the 2019 model's layers with the expected shapes
    (:func:`facelandmarks.legacy.check_legacy_h5`; weight values are not read).

    Returns:
        ``None`` if the file passes, else a short human-readable reason it does not.
    """
    problem = check_magic(path, fmt)
    if problem is not None:
        return problem
    if fmt == "legacy-h5":
        from facelandmarks import legacy

        try:
            legacy.check_legacy_h5(path)
        except legacy.LegacyWeightsError as err:
            return str(err)
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
        if bad is not None:
            return f"its member {bad!r} is damaged (CRC mismatch)"
        _read_meta(Path(path))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return f"it cannot be read as a zip archive ({err}); it is truncated or damaged"
    except ValueError as err:
        return str(err)
    return None


def _read_meta(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        if META_NAME not in zf.namelist():
            raise ValueError(
                "it is a zip/Keras archive but not a facelandmarks detector "
                f"(no {META_NAME} inside); save detectors with LandmarkDetector.save()"
            )
        try:
            if not isinstance(meta := json.loads(zf.read(META_NAME)), dict):
                raise ValueError(f"it holds {json.dumps(meta)[:40]}")
        except ValueError as err:  # also not UTF-8 text
            raise ValueError(_DAMAGED.format(f"not a valid JSON object ({err})")) from None
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(
            _DAMAGED.format(f"format_version {json.dumps(version)[:40]} is no integer")
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"it was written by a newer facelandmarks (format {version}); "
            f"this version reads format {FORMAT_VERSION}"
        )
    return meta


_DAMAGED = (
    f"its settings ({META_NAME} inside) are damaged: {{}}; use an undamaged copy, or save the "
    "detector again with LandmarkDetector.save()"
)


_LEGACY_CONFIG = DetectorConfig(
    stages=(LEGACY_2019_STAGE,),
    description="The original 2019 project's weights (Keras 2.2.4, ResNet50, MUCT).",
)


def read_config(path: str | os.PathLike[str]) -> tuple[DetectorConfig, str]:
    """The :class:`DetectorConfig` of a detector file and its format, without Keras.

    Returns:
        ``(config, fmt)`` with ``fmt`` one of :data:`FORMATS`.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file is neither format, or is damaged (the message says which).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {str(path)!r}")
    fmt = sniff_format(path)
    if fmt == "legacy-h5":  # both formats are checked here: models are loaded on first use
        from facelandmarks import legacy

        legacy.check_legacy_h5(path)
        return _LEGACY_CONFIG, fmt
    if fmt == "keras":
        if (problem := check_file(path, fmt)) is not None:
            raise ValueError(f"{str(path)!r} cannot be loaded as a detector: {problem}.")
        try:
            return DetectorConfig.from_dict(_read_meta(path)["config"]), fmt
        except (KeyError, TypeError, ValueError) as err:  # e.g. a stage field added later
            raise ValueError(
                f"{str(path)!r} cannot be loaded as a detector: its {META_NAME} holds no config "
                f"this version can build ({type(err).__name__}: {err}); if a newer "
                "facelandmarks saved it, load it with that version."
            ) from err
    raise ValueError(
        f"{str(path)!r} is neither a detector saved by LandmarkDetector.save() (.keras) nor the "
        "original 2019 weights.h5 (Keras 2 HDF5)."
    )


def load_models(path: str | os.PathLike[str]) -> list[keras.Model]:
    """The stages' Keras models of a detector file (imports Keras).

    Raises:
        FileNotFoundError, ValueError: as :func:`read_config`;
            :class:`facelandmarks.legacy.LegacyWeightsError` (a ``ValueError``) for an HDF5
            file that is not the 2019 model.
    """
    path = Path(path)
    _, fmt = read_config(path)
    if fmt == "legacy-h5":
        from facelandmarks import legacy

        return [legacy.load_legacy_model(path)]
    import keras

    from facelandmarks import model as _registers_custom_layers  # noqa: F401

    meta = _read_meta(path)
    container = keras.saving.load_model(path, compile=False)
    return [container.get_layer(n) for n in meta["stage_layers"]]


def load_detector(path: str | os.PathLike[str]) -> tuple[DetectorConfig, list[keras.Model]]:
    """Read a detector file of either format (told apart by content): ``(config, models)``.

    Raises:
        FileNotFoundError, ValueError: as :func:`read_config` and :func:`load_models`.
    """
    return read_config(path)[0], load_models(path)


def save_detector(
    path: str | os.PathLike[str], config: DetectorConfig, models: list[keras.Model]
) -> Path:
    """Write ``config`` and the stage ``models`` to one ``.keras`` file, atomically.

    The stages are copied into fresh models first (no optimizer state, which would triple the
    file size).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: ``path`` does not end in ``.keras``.
        OSError: the directory is not writable (nothing is left half-written).
    """
    import keras

    from facelandmarks.model import build_stages

    path = Path(path).expanduser()  # as loading and export_detector read it
    if path.suffix != ".keras":
        raise ValueError(f"save path must end in '.keras'. Received: {str(path)!r}")
    stages = build_stages(config)
    for copy, m in zip(stages, models, strict=True):
        copy.set_weights(m.get_weights())
    inputs = [keras.Input(m.input_shape[1:], name=f"input{i}") for i, m in enumerate(stages)]
    outputs = [m(x) for m, x in zip(stages, inputs, strict=True)]
    container = keras.Model(inputs, outputs, name="facelandmarks_detector")
    meta = {
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "stage_layers": [m.name for m in stages],
    }
    with atomic_path(path, suffix=".keras") as tmp:
        container.save(tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(META_NAME, json.dumps(meta, indent=2))
    logger.info("saved detector to %s", path)
    return path
