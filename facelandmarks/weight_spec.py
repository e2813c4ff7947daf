"""``WeightSpec``: what one set of pretrained weights is and where to get it, checked.

The preset registry (:data:`facelandmarks.weights.PRESETS`) holds one per preset;
:mod:`facelandmarks.weights` re-exports the class, its public home. Importing this module
imports neither Keras nor gdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from facelandmarks import saving

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_GDRIVE_PREFIX = "gdrive:"


def _is_plain_file_name(value: Any) -> bool:
    """A non-empty file name without directories (safe to join to a cache or package dir)."""
    return isinstance(value, str) and value not in ("", ".", "..") and not {"/", "\\"} & set(value)


@dataclass(frozen=True)
class WeightSpec:
    """Description of one set of pretrained weights (what a file is and where to get it).

    What the model is (backbone, input size, preprocessing, stages) is stored in the file's own
    config (:class:`facelandmarks.DetectorConfig`), not here.

    Attributes:
        name: preset name, e.g. ``"muct-resnet50-2019"``.
        description: one-line human description.
        source: ``"gdrive:<file id>"`` or an ``http(s)://`` URL; ``None`` for weights shipped
            inside the package (then ``embedded`` names the file).
        filename: file name in the cache directory; when ``sha256`` is known it must contain
            the hash's first 8 hex digits (``"...-1a2b3c4d.keras"``), so that a new release
            never collides with a cached old one.
        format: ``"keras"`` (a file written by :meth:`facelandmarks.LandmarkDetector.save`) or
            ``"legacy-h5"`` (the 2019 project's Keras 2.2.4 HDF5); see
            :mod:`facelandmarks.saving`.
        sha256: lower-case hex SHA-256 of the file, or ``None`` when unknown.
        size: file size in bytes, or ``None`` when unknown.
        point_scheme: landmark scheme of the default output, e.g. ``"muct76"`` (a model with
            several heads lists them all in its config; ``LandmarkDetector(scheme=...)`` picks).
        training_data: what the weights were trained on, and how it was split.
        license: license of the weights, as far as known.
        embedded: file name inside ``facelandmarks/presets/`` for weights shipped with the
            package (``source`` is then ``None``).
        embedded_tflite: for embedded presets, the TensorFlow Lite conversion of each stage
            shipped next to the weights, as ``(file name, sha256)`` pairs in stage order;
            ``()`` when none is shipped.

    Raises:
        ValueError: a field has an invalid value (the message names it).
    """

    name: str
    description: str
    source: str | None
    filename: str
    format: str
    sha256: str | None
    size: int | None
    point_scheme: str
    training_data: str
    license: str
    embedded: str | None = None
    embedded_tflite: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        def refuse(expected: str, field_name: str) -> None:
            value = getattr(self, field_name)
            raise ValueError(f"WeightSpec expects {expected}. Received: {field_name}={value!r}")

        if not isinstance(self.name, str) or not self.name.strip():
            refuse("a non-empty `name`", "name")
        if (self.source is None) == (self.embedded is None):
            raise ValueError(
                "WeightSpec expects exactly one of `source` (download) and `embedded` (shipped "
                f"file). Received: source={self.source!r}, embedded={self.embedded!r}"
            )
        if self.source is not None:
            drive_id = self.source.startswith(_GDRIVE_PREFIX) and self.source[len(_GDRIVE_PREFIX) :]
            if not (drive_id or self.source.startswith(("https://", "http://"))):
                refuse("`source` 'gdrive:<file id>' (non-empty id) or an http(s):// URL", "source")
        for field_name in ("filename", "embedded"):
            value = getattr(self, field_name)
            if not (value is None and field_name == "embedded") and not _is_plain_file_name(value):
                refuse(f"`{field_name}` to be a plain file name without directories", field_name)
        if self.format not in saving.FORMATS:
            refuse(f"`format` in {saving.FORMATS}", "format")
        if self.embedded_tflite and not (
            self.embedded is not None
            and all(
                isinstance(pair, tuple)
                and len(pair) == 2
                and _is_plain_file_name(pair[0])
                and pair[0].endswith(".tflite")
                and isinstance(pair[1], str)
                and _SHA256_RE.match(pair[1]) is not None
                for pair in self.embedded_tflite
            )
        ):
            refuse(
                "`embedded_tflite` (embedded presets only) as ((file name ending .tflite, "
                "sha256), ...) in stage order",
                "embedded_tflite",
            )
        if self.sha256 is not None:
            if not (isinstance(self.sha256, str) and _SHA256_RE.match(self.sha256)):
                refuse("`sha256` to be 64 lower-case hex digits or None", "sha256")
            if self.sha256[:8] not in self.filename:
                refuse(f"`filename` to contain the sha256 prefix {self.sha256[:8]!r}", "filename")
        if self.size is not None and (
            isinstance(self.size, bool) or not isinstance(self.size, int) or self.size <= 0
        ):
            refuse("`size` to be a positive int or None", "size")

    @property
    def url(self) -> str | None:
        """Human-readable URL of the source (``None`` for embedded weights); Google Drive
        sources give ``https://drive.google.com/uc?id=<id>``."""
        if self.source is not None and self.source.startswith(_GDRIVE_PREFIX):
            return f"https://drive.google.com/uc?id={self.source[len(_GDRIVE_PREFIX) :]}"
        return self.source
