"""Inference engines: what runs each stage's forward pass, and the TensorFlow Lite cache.

An engine is a callable ``engine(batch) -> xyn``: float32 ``(B, H, W, 3)`` RGB pixels in
``[0, 255]`` in, float32 ``(B, 2P)`` normalised coordinates ``(x0, y0, x1, y1, ...)`` in
``[0, 1]`` of the stage's frame out (docs/coordinates.md). It is a :class:`KerasEngine` or a
:class:`~facelandmarks.lite.LiteModel` on a TensorFlow Lite flatbuffer either shipped with the
preset or converted once per weights file, stage and TensorFlow version and kept on disk
(:func:`cached_tflite_bytes`), keyed by the SHA-256 of the weights, never by anything that
changes between processes.

:class:`StageEngines` chooses one engine per stage for a runtime (``"auto"``, ``"keras"``,
``"tflite"``; see :class:`facelandmarks.LandmarkDetector`). A new runtime plugs in as another
engine kind there.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import operator
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facelandmarks.fileio import atomic_write_bytes, sha256_of
from facelandmarks.lite import LiteModel

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from facelandmarks.weights import WeightSpec

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "keras", "tflite")
_CHECK = 32  # bytes of SHA-256 appended to cached flatbuffers


def check_runtime(runtime: Any) -> str:
    """``runtime`` if it is one of :data:`RUNTIMES`, else a ``ValueError`` naming it."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}. Received: runtime={runtime!r}")
    return runtime


def tensorflow_version() -> str:
    """The installed TensorFlow's version, for cache keys: read from the package metadata (so
    a cache hit does not import TensorFlow), else from ``tensorflow.__version__``.

    Raises:
        ImportError: TensorFlow is not installed.
    """
    import importlib.metadata  # imported here, where needed: about 10 ms of start-up

    try:
        return importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        import tensorflow as tf

        return str(tf.__version__)


class KerasEngine:
    """One stage's forward pass on TensorFlow: the model in inference mode, compiled once.

    Args:
        model: the stage's Keras model.
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self._fn: Any = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if self._fn is None:
            model = self.model
            self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return self._fn(tf.convert_to_tensor(batch, tf.float32)).numpy()


def cached_tflite_bytes(
    model: keras.Model | Callable[[], keras.Model],
    key: str,
    directory: Path,
    *,
    convert: bool = True,
) -> bytes | None:
    """:func:`facelandmarks.export.tflite_bytes` through an on-disk cache (once per machine).

    ``model`` is the Keras model, or a function returning it (called only to convert: a cache
    hit then needs neither Keras nor TensorFlow). ``key`` must identify the weights exactly
    (:class:`StageEngines` uses the SHA-256 of the weights, the stage index and the TensorFlow
    version). Cache files end with the SHA-256 of their content: a truncated or corrupt one is
    converted again and replaced atomically, never used. A cache that cannot be written
    (read-only, full) only costs the conversion next time; it is logged, not raised. With
    ``convert=False``, a missing or corrupt entry returns ``None`` instead of converting.
    """
    from facelandmarks import export

    path = directory / f"{key}.tflite"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if len(data) > _CHECK and hashlib.sha256(data[:-_CHECK]).digest() == data[-_CHECK:]:
        return data[:-_CHECK]
    if data:
        what = "converting again" if convert else "not used"
        logger.warning("cached TensorFlow Lite file %s is corrupt; %s", path, what)
    if not convert:
        return None
    content = export.tflite_bytes(model() if inspect.isfunction(model) else model)
    try:
        atomic_write_bytes(path, content + hashlib.sha256(content).digest())
    except OSError as err:
        logger.warning("could not cache the TensorFlow Lite conversion in %s: %s", directory, err)
    return content


@dataclass
class WeightsSource:
    """Which weights a detector's models hold, so their TensorFlow Lite files can be found.

    Attributes:
        path: the weights file they were loaded from.
        spec: the preset's spec (its SHA-256 and shipped TensorFlow Lite files), if a preset.
        cache_dir: the weights cache directory (conversions go to its ``tflite/``).
    """

    path: Path | None = None
    spec: WeightSpec | None = None
    cache_dir: str | os.PathLike[str] | None = None

    @functools.cached_property
    def sha256(self) -> str | None:
        """SHA-256 of the weights: the preset's, else the file's (hashed on first use)."""
        if self.spec is not None and self.spec.sha256:
            return self.spec.sha256
        return None if self.path is None else sha256_of(self.path)


class StageEngines(Sequence):
    """One engine per stage for a runtime: ``engines[k]`` runs stage ``k``.

    ``"keras"``: :class:`KerasEngine` everywhere. ``"tflite"``: TensorFlow Lite everywhere,
    converting (and caching) stages that have no shipped or cached flatbuffer; errors raise.
    ``"auto"``: TensorFlow Lite where that costs no conversion, Keras elsewhere; if TensorFlow
    Lite fails to load, every stage runs on Keras and one warning says why. Engines are made
    on first use.

    Args:
        models: the stages' Keras models, or a function that loads them (called only when an
            engine needs Keras: with shipped TensorFlow Lite files, predicting never loads
            Keras or TensorFlow).
        runtime: one of :data:`RUNTIMES`.
        num_stages: the number of stages (needed when ``models`` is a function).
        num_threads: TensorFlow Lite interpreter threads (default:
            :func:`facelandmarks.lite.default_num_threads`).
        source: where the weights came from (``None``: unknown, e.g. freshly built or
            trained; then nothing is cached and ``"auto"`` runs Keras).
    """

    def __init__(
        self,
        models: Sequence[keras.Model] | Callable[[], Sequence[keras.Model]],
        runtime: str = "auto",
        *,
        num_stages: int | None = None,
        num_threads: int | None = None,
        source: WeightsSource | None = None,
    ) -> None:
        self._models = models
        self._num_stages = len(models) if num_stages is None else num_stages  # type: ignore[arg-type]
        self.runtime = check_runtime(runtime)
        self.num_threads = num_threads
        self.source = source
        self._keras: dict[int, KerasEngine] = {}
        self._lite: dict[int, Any] = {}
        self._lite_failed = False

    @property
    def models(self) -> Sequence[keras.Model]:
        """The stages' Keras models (loaded on first use when given as a function)."""
        if callable(self._models):
            self._models = self._models()
        return self._models

    def __len__(self) -> int:
        return self._num_stages

    def __getitem__(self, k: int) -> Any:  # type: ignore[override]
        # Out of range must raise IndexError before anything loads: iterating a Sequence
        # calls engines[len(engines)] to find its end (and once loaded the Keras models, and
        # TensorFlow with them, seconds of a prefetching command line's start-up).
        k = operator.index(k)  # TypeError for what is not an integer
        if not -len(self) <= k < len(self):
            raise IndexError(f"stage {k} of a {len(self)}-stage model")
        k %= len(self)
        lite = self._lite_for(k)
        if lite is not None:
            return lite
        engine = self._keras.get(k)
        if engine is None or engine.model is not self.models[k]:
            engine = self._keras[k] = KerasEngine(self.models[k])
        return engine

    @property
    def names(self) -> tuple[str, ...]:
        """``"tflite"`` or ``"keras"`` per stage (resolves, and with ``"tflite"`` converts,
        every stage first: one TensorFlow Lite failure under ``"auto"`` turns them all off)."""
        for k in range(len(self)):
            self._lite_for(k)
        return tuple("keras" if self._lite_for(k) is None else "tflite" for k in range(len(self)))

    def _lite_for(self, k: int) -> Any:
        if self.runtime == "keras" or self._lite_failed:
            return None
        if k in self._lite:
            return self._lite[k]
        try:
            content = self._lite_bytes(k, convert=self.runtime == "tflite")
            engine = None if content is None else LiteModel(content, num_threads=self.num_threads)
        except Exception as err:
            if self.runtime == "tflite":
                raise
            logger.warning(
                "TensorFlow Lite is unavailable (%s: %s); predict runs on TensorFlow "
                '(runtime="keras"), which is about 2x slower on a CPU',
                type(err).__name__,
                err,
            )
            self._lite_failed = True
            return None
        self._lite[k] = engine
        return engine

    def _lite_bytes(self, k: int, convert: bool) -> bytes | None:
        """Stage ``k``'s flatbuffer shipped with the preset, else cached, else converted (only
        with ``convert``; else ``None``)."""
        from facelandmarks import export
        from facelandmarks import weights as fl_weights

        source = self.source or WeightsSource()
        spec = source.spec
        if spec is not None and spec.sha256:
            shipped = fl_weights.embedded_tflite_bytes(spec, k)
            if shipped is not None:
                logger.info("stage %d: TensorFlow Lite file shipped with %s", k, spec.name)
                return shipped
        if source.sha256 is None:
            if not convert:
                return None
            logger.info("converting %s to TensorFlow Lite", self.models[k].name)
            return export.tflite_bytes(self.models[k])
        key = f"{source.sha256[:16]}-stage{k}-tf{tensorflow_version()}-g{export.LITE_GRAPH}"
        directory = fl_weights.cache_dir(source.cache_dir) / "tflite"
        # the Keras models are loaded only when the cache misses and conversion is allowed
        return cached_tflite_bytes(lambda: self.models[k], key, directory, convert=convert)
