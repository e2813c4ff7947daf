"""Weights files shipped inside the package (``facelandmarks/presets/``): found and verified.

An embedded preset (:attr:`WeightSpec.embedded <facelandmarks.weights.WeightSpec.embedded>`)
needs no download: :func:`embedded_path` gives its weights file, :func:`embedded_tflite_bytes`
the TensorFlow Lite conversion of each stage shipped next to it, both checked against the
registry's SHA-256 (:class:`WeightsIntegrityError` otherwise); :mod:`facelandmarks.weights`
re-exports them. Importing this module imports neither Keras nor gdown.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facelandmarks.cache import cache_dir, check_weights_file, store

if TYPE_CHECKING:  # pragma: no cover
    from facelandmarks.weight_spec import WeightSpec


class WeightsIntegrityError(RuntimeError):
    """A weights file shipped inside the package is missing or fails verification."""


def _presets_dir() -> Any:
    """The Traversable of ``facelandmarks/presets`` (replaced in tests)."""
    return importlib.resources.files("facelandmarks").joinpath("presets")


def _present(resource: Any, what: str) -> Any:
    if not resource.is_file():
        raise WeightsIntegrityError(
            f"The {what} is missing from the installed package; reinstall facelandmarks."
        )
    return resource


def shipped_bytes(resource: Any, sha256: str, what: str) -> bytes:
    """The bytes of a file shipped inside the package (an ``importlib.resources`` Traversable),
    checked against ``sha256``; ``what`` names the file in the messages.

    Raises:
        WeightsIntegrityError: the file is missing from the installed package or its SHA-256
            differs.
    """
    data = _present(resource, what).read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise WeightsIntegrityError(
            f"The {what} fails verification: sha256 {got}, expected {sha256}. Reinstall "
            "facelandmarks."
        )
    return data


def embedded_path(spec: WeightSpec, directory: str | os.PathLike[str] | None) -> Path:
    """The verified local file of an embedded preset: inside the installed package, or, for a
    zip install, extracted once into the cache ``directory`` (atomically).

    Raises:
        WeightsIntegrityError: the file is missing from the installed package or fails
            :func:`~facelandmarks.cache.check_weights_file`.
    """
    what = f"weights file {spec.embedded!r} of preset {spec.name!r} (facelandmarks/presets/)"
    resource = _present(_presets_dir().joinpath(spec.embedded or ""), what)
    if isinstance(resource, os.PathLike):
        path = Path(os.fspath(resource))
    else:
        path = cache_dir(directory) / spec.filename
        if check_weights_file(path, spec) is not None:
            store(directory, spec.filename, resource.read_bytes())
    problem = check_weights_file(path, spec)
    if problem is not None:
        raise WeightsIntegrityError(
            f"The weights file {path} shipped for preset {spec.name!r} fails verification: "
            f"{problem}. Reinstall facelandmarks."
        )
    return path


def embedded_tflite_bytes(spec: WeightSpec, stage: int) -> bytes | None:
    """The shipped TensorFlow Lite flatbuffer of ``stage`` of an embedded preset, verified;
    ``None`` when the preset ships none for that stage.

    Raises:
        WeightsIntegrityError: the file is missing from the installed package or its SHA-256
            differs from the registry's.
    """
    if not 0 <= stage < len(spec.embedded_tflite):
        return None
    name, sha = spec.embedded_tflite[stage]
    what = f"TensorFlow Lite file {name!r} of preset {spec.name!r} (facelandmarks/presets/)"
    return shipped_bytes(_presets_dir().joinpath(name), sha, what)
