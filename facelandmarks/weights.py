"""Pretrained weights: the preset registry, and what ``weights=`` arguments resolve to.

:data:`PRESETS` holds a :class:`WeightSpec` per preset. :func:`download_weights` and
:func:`resolve_weights` turn a name into a verified local file: downloaded into the cache
(:mod:`facelandmarks.cache`) or shipped in the package (:mod:`facelandmarks.shipped_weights`).
The public names of those modules and :mod:`facelandmarks.weight_spec` are re-exported here.
Importing this module imports neither Keras nor gdown.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from pathlib import Path
from typing import Any

from facelandmarks import cache
from facelandmarks.cache import (
    DEFAULT_TIMEOUT,
    ENV_HOME,
    WeightsCacheError,
    WeightsDownloadError,
    cache_dir,
    check_weights_file,
)
from facelandmarks.shipped_weights import WeightsIntegrityError, embedded_path
from facelandmarks.shipped_weights import embedded_tflite_bytes as embedded_tflite_bytes
from facelandmarks.weight_spec import WeightSpec

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_HOME",
    "PRESETS",
    "WeightSpec",
    "WeightsCacheError",
    "WeightsDownloadError",
    "WeightsIntegrityError",
    "cache_dir",
    "check_weights_file",
    "describe_weights",
    "download_weights",
    "get_spec",
    "list_weights",
    "register_preset",
    "resolve_weights",
]


PRESETS: dict[str, WeightSpec] = {}
"""All known presets, by name. Add to it with :func:`register_preset`."""


def register_preset(spec: WeightSpec, *, overwrite: bool = False) -> None:
    """Add a preset to :data:`PRESETS` (registering an equal spec again is a no-op).

    Args:
        spec: the weights description; ``spec.name`` becomes the preset name.
        overwrite: replace an existing, different preset of the same name.

    Raises:
        TypeError: ``spec`` is not a :class:`WeightSpec`.
        ValueError: a different preset with that name exists and ``overwrite`` is False.

    Example:
        Register your own release (fields elided here)::

            register_preset(WeightSpec(name="my-run", source="https://example.org/w.keras", ...))
    """
    if not isinstance(spec, WeightSpec):
        raise TypeError(
            f"register_preset expects a WeightSpec. Received: spec of type {type(spec).__name__}"
        )
    existing = PRESETS.get(spec.name)
    if existing is not None and existing != spec and not overwrite:
        raise ValueError(
            f"A different preset named {spec.name!r} is already registered; pass "
            f"overwrite=True to replace it. Received: spec.name={spec.name!r}"
        )
    PRESETS[spec.name] = spec


def list_weights() -> list[str]:
    """The names of all registered presets, sorted."""
    return sorted(PRESETS)


def describe_weights() -> list[dict[str, Any]]:
    """One dict per registered preset, sorted by name: every :class:`WeightSpec` field plus
    ``url``."""
    return [{**dataclasses.asdict(PRESETS[n]), "url": PRESETS[n].url} for n in list_weights()]


def get_spec(name: str) -> WeightSpec:
    """The :class:`WeightSpec` of a registered preset.

    Raises:
        ValueError: ``name`` is not a registered preset (the message lists the known names).
    """
    if isinstance(name, str) and name in PRESETS:
        return PRESETS[name]
    known = ", ".join(repr(n) for n in list_weights()) or "(none registered)"
    raise ValueError(
        f"Unknown pretrained weights: expected one of the preset names {known}. "
        f"Received: weights={name!r}"
    )


def download_weights(
    name_or_spec: str | WeightSpec,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """The path of a verified local copy of pretrained weights, downloading it if needed.

    A cached file that passes :func:`check_weights_file` is returned without network access or
    lock. A cached file that fails it is reported as corrupt (a warning), removed and
    downloaded again. The check-and-download runs under a file lock, so a second process asking
    for the same weights waits and then uses the first one's file; a failed download leaves
    nothing behind but the empty lock file. Downloads use ``gdown`` (see
    :mod:`facelandmarks.cache`).

    Args:
        name_or_spec: preset name (see :func:`list_weights`) or a :class:`WeightSpec`.
        cache_dir: cache directory; see :func:`cache_dir` for the default.
        force: download again even if a verified copy is cached.
        verbose: 0 silent; 1 a Keras progress bar while downloading.
        timeout: seconds to wait for the server to connect, and between bytes.

    Returns:
        Absolute path of the verified file (inside the package for embedded presets).

    Raises:
        ValueError: ``name_or_spec`` is not a known preset name, or a bad ``timeout``.
        WeightsDownloadError: the download failed in any way (offline, unreachable host, HTTP
            error, web page instead of the file, interrupted transfer, failed verification);
            the message says how to get the file by hand and where to put it.
        WeightsCacheError: the cache directory cannot be created or written (also a
            ``NotADirectoryError`` when a file is in its way: it names the file and the setting
            that chose the directory).
        WeightsIntegrityError: an embedded (shipped) weights file is missing or corrupt.

    Example:
        Needs network access the first time (about 94 MB from Google Drive)::

            path = download_weights("muct-resnet50-2019")
            path.name  # 'muct-resnet50-2019.h5'
    """
    if isinstance(timeout, bool) or not (isinstance(timeout, numbers.Real) and 0 < timeout <= 1e9):
        raise ValueError(f"timeout must be seconds, > 0 and <= 1e9. Received: timeout={timeout!r}")
    spec = name_or_spec if isinstance(name_or_spec, WeightSpec) else get_spec(name_or_spec)
    if spec.embedded is not None:
        return embedded_path(spec, cache_dir)
    return cache.download(spec, cache_dir=cache_dir, force=force, verbose=verbose, timeout=timeout)


def resolve_weights(
    weights: str | os.PathLike[str] | WeightSpec | None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    verbose: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[Path | None, WeightSpec | None]:
    """Turn a user's ``weights=`` argument into a local file path.

    Args:
        weights: ``None`` (no pretrained weights); a preset name or a :class:`WeightSpec`
            (downloaded and verified, see :func:`download_weights`); or the path of an
            existing weights file (``~`` is expanded; not verified). A string that is a preset
            name is treated as the preset.
        cache_dir, verbose, timeout: as :func:`download_weights`.

    Returns:
        ``(None, None)`` for ``None``; ``(path, None)`` for a file path; ``(path, spec)`` for a
        preset.

    Raises:
        ValueError: ``weights`` is neither a preset name nor an existing file (the message
            lists the presets).
        TypeError: ``weights`` has an unsupported type.
        WeightsDownloadError, WeightsCacheError, WeightsIntegrityError: as
            :func:`download_weights`.

    Example:
        >>> resolve_weights(None)
        (None, None)
    """
    if weights is None:
        return None, None
    spec = PRESETS.get(weights) if isinstance(weights, str) else weights
    if isinstance(spec, WeightSpec):
        return download_weights(spec, cache_dir=cache_dir, verbose=verbose, timeout=timeout), spec
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` expects None, a preset name, a WeightSpec or the path of a weights "
            f"file. Received: weights={weights!r} of type {type(weights).__name__}"
        )
    name = os.fspath(weights)
    path = Path(name).expanduser()
    if name and path.is_file():  # Path("") is "."
        return path, None
    known = ", ".join(repr(n) for n in list_weights()) or "(none registered)"
    kind = "a directory, not a file" if path.is_dir() else "not a regular file"  # /dev/zero
    state = "is empty" if not name else f"is {kind}" if path.exists() else "does not exist"
    raise ValueError(
        f"`weights` expects None, one of the preset names {known}, or the path of an existing "
        f"weights file; {name and str(path)!r} is not a preset and {state}. "
        f"Received: weights={weights!r}"
    )


_WILD_LICENSE = (
    "MIT for the code, but the weights are trained on 300-W faces and inherit their condition: "
    "non-commercial research use only. For other uses pick the MUCT-only preset "
    "muct-mnv3s-2stage (and check MUCT's terms, www.milbo.org/muct)"
)
_WILD_STAGE0_TFLITE = (
    "wild-mnv3s.stage0.tflite",
    "55475d11e5a2b33c3c7e6ad3ff5056b5ca6f93465317e9dc11036dcbe68b1a36",
)

# The presets this version knows (more can be added with register_preset).
for _spec in (
    WeightSpec(
        name="muct-resnet50-2019",
        description=(
            "ResNet50 landmark regressor of the original 2019 project (Keras 2.2.4 weights), "
            "76 MUCT points from a 320x240 (height x width) RGB input scaled to [0, 1]."
        ),
        source="gdrive:1aEZX1TzmLlsHuN6vLe3neRxlp9_f6486",
        # sha256 unknown, so no hash in the name; a future verified release gets a new name.
        filename="muct-resnet50-2019.h5",
        format="legacy-h5",
        sha256=None,  # Drive was unreachable when this was written; about 94 MB
        size=None,
        point_scheme="muct76",
        training_data=(
            "MUCT, random 70/30 split by image: the same people appear in train and test, "
            "so its test scores are optimistic"
        ),
        license=(
            "unknown: published by the original project's author without a license; "
            "check before redistributing"
        ),
    ),
    WeightSpec(
        name="muct-mnv3s-2stage",
        description=(
            "Two-stage MobileNetV3Small (GroupNorm, grayscale input) trained from scratch on "
            "MUCT: a 128x96 whole-frame pass, then a 128x128 crop around its points; 76 MUCT "
            "points. Held-out-subject NME 0.0325 (docs/model-card.md)."
        ),
        source=None,
        embedded="muct-mnv3s-2stage.keras",
        # tools/bundle_tflite.py: the same conversion runtime="tflite" makes, shipped so that
        # the default runtime="auto" runs TensorFlow Lite with no conversion step.
        embedded_tflite=(
            (
                "muct-mnv3s-2stage.stage0.tflite",
                "e4d99c20d160d3fc276fc157e2003f93d5e44a39d7953e11e9d7d77b2abf8f21",
            ),
            (
                "muct-mnv3s-2stage.stage1.tflite",
                "1a6d9c331ef9c2f3964965e7131a24a5f8509707572f97f013a2a18e96920b53",
            ),
        ),
        # Used only when the package is installed as a zip and the file must be extracted.
        filename="muct-mnv3s-2stage-0547a1fe.keras",
        format="keras",
        sha256="0547a1fe419c25fffce68621a2389b336649a1383568e9b5c423d72d09a677a5",
        size=9195854,
        point_scheme="muct76",
        training_data=(
            "MUCT development copy (3,005 images, 221 subjects), split by subject with seed 0: "
            "2,080 images trained on, 925 images of 68 other subjects held out for the "
            "reported scores; configs/muct-mnv3s-2stage.json"
        ),
        license=(
            "MIT, like the code; trained on the MUCT database (Milborrow, Morkel and "
            "Nicolls, 2010): check its terms (www.milbo.org/muct) for your use"
        ),
    ),
    WeightSpec(
        name="wild-mnv3s",
        description=(
            "One-stage MobileNetV3Small (GroupNorm, grayscale 128x128 input) on face crops framed "
            "by BlazeFace's box and eyes, trained from scratch on MUCT and 300-W's in-the-wild "
            "training faces: a 76-point MUCT head and a 68-point iBUG head (docs/model-card.md)."
        ),
        source=None,
        embedded="wild-mnv3s.keras",
        # tools/bundle_tflite.py (see muct-mnv3s-2stage): both heads in one flatbuffer
        embedded_tflite=(_WILD_STAGE0_TFLITE,),
        filename="wild-mnv3s-38487fee.keras",
        format="keras",
        sha256="38487feec7fcebe8925de1a00c15650ebfeb2d41cd69f9bb634e5bf5ce1f38a8",
        size=6251843,
        point_scheme="muct76",
        training_data=(
            "MUCT (split by subject, seed 0: 2,080 images trained on, 925 of 68 other subjects "
            "held out) and ../shared/wild, 2,012 faces of 300-W's training sets HELEN, AFW and "
            "LFPW (10 % of each held out, seed 0: 1,819 trained on, 193 held out); "
            "configs/wild-mnv3s.json (120 epochs), then configs/wild-mnv3s-ft.json (24 more), "
            "configs/wild-mnv3s-ft2.json (20 more, light augmentation), "
            "configs/wild-mnv3s-ft3.json (20 more, lower learning rate) and "
            "configs/wild-mnv3s-ft4.json (20 more, with synthetic occlusion)"
        ),
        license=_WILD_LICENSE,
    ),
    WeightSpec(
        name="wild-mnv3s-2stage",
        description=(
            "wild-mnv3s (its first stage, unchanged) followed by a refining stage of the same "
            "shape (MobileNetV3Small-GroupNorm, grayscale 128x128) on a tighter crop around "
            "the first stage's points, turned to their eye line and averaged with its mirror "
            "image: about 13 % lower error in the wild for two more forward passes per face; "
            "76-point MUCT and 68-point iBUG heads (docs/model-card.md)."
        ),
        source=None,
        embedded="wild-mnv3s-2stage.keras",
        # tools/bundle_tflite.py for stage 1. Stage 0 holds wild-mnv3s's weights unchanged
        # (tests/test_default_model.py checks), so both presets share its conversion.
        embedded_tflite=(
            _WILD_STAGE0_TFLITE,
            (
                "wild-mnv3s-2stage.stage1.tflite",
                "0ca818ab103bfdf1d983f892cec8fbd3c4d9bc8f94e6edce5cde3d15984a360a",
            ),
        ),
        filename="wild-mnv3s-2stage-f059d45d.keras",
        format="keras",
        sha256="f059d45d6098004c976b911ac9870800f2cfa2245a9e7ac2012b3279e62c4b42",
        size=12497905,
        point_scheme="muct76",
        training_data=(
            "as wild-mnv3s (MUCT and 300-W's HELEN, AFW and LFPW training faces, the same "
            "held-out faces); the second stage alone was trained, 30 epochs upright from a "
            "copy of the first (configs/wild-mnv3s-2stage.json), then 15 turned to the eye "
            "line (configs/wild-mnv3s-2stage-roll.json) and 30 more at a lower learning rate "
            "(configs/wild-mnv3s-2stage-roll2.json)"
        ),
        license=_WILD_LICENSE,
    ),
):
    register_preset(_spec)
del _spec


DEFAULT_PRESET: str | None = "wild-mnv3s"
"""The preset ``LandmarkDetector()`` loads when no ``weights`` are given (shipped in the
package, so no network is needed)."""

SCHEME_DEFAULTS: dict[str, str] = {"ibug68": "wild-mnv3s-2stage"}
"""The preset ``LandmarkDetector(scheme=...)`` loads for a scheme whose best shipped model is not
:data:`DEFAULT_PRESET`: the 68 iBUG points come from the two-stage preset (NME 0.0399 on the
held-out in-the-wild faces against the default's 0.0459, for about twice its time a face)."""


def default_preset_name(scheme: str | None = None) -> str:
    """Name of the preset ``weights="default"`` stands for, for ``scheme`` (``None``: the
    default model's own first scheme).

    Raises:
        ValueError: if this installation ships no default model.
    """
    if scheme in SCHEME_DEFAULTS and SCHEME_DEFAULTS[scheme] in PRESETS:
        return SCHEME_DEFAULTS[scheme]
    if DEFAULT_PRESET is None or DEFAULT_PRESET not in PRESETS:
        raise ValueError(
            "This version of facelandmarks ships no default model. Pass weights=None to build "
            f"an untrained model, a file path, or one of the presets {list_weights()}."
        )
    return DEFAULT_PRESET
