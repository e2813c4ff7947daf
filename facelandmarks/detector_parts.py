"""What a :class:`~facelandmarks.LandmarkDetector` is made of, and the settings and files of its
parts.

:class:`DetectorParts`, the base class of :class:`facelandmarks.detector.LandmarkDetector`,
holds the detector's config, its stage models (loaded on first use), one engine per stage for
the chosen runtime, its point scheme and its face detector, with the methods that change or
save them (:meth:`~DetectorParts.set_runtime`, :meth:`~DetectorParts.set_test_time_flip`,
:meth:`~DetectorParts.save`, :meth:`~DetectorParts.export`). Keras and TensorFlow are imported
only when something needs them.

Coordinates follow docs/coordinates.md (see :mod:`facelandmarks.detector`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facelandmarks import saving
from facelandmarks.config import DetectorConfig
from facelandmarks.engines import StageEngines, WeightsSource

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from facelandmarks.detector import LandmarkDetector
    from facelandmarks.weights import WeightSpec

# Logged under the facade's name, where these messages have always come from.
logger = logging.getLogger("facelandmarks.detector")

DEFAULT_WEIGHTS = "default"


def _resolve_verbose(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


class DetectorParts:
    """The parts of a :class:`~facelandmarks.LandmarkDetector` and their settings (see the
    module docstring)."""

    config: DetectorConfig
    """The :class:`DetectorConfig`: stages, framing, sizes, heads, calibrations."""
    spec: WeightSpec | None = None
    """The preset's :class:`~facelandmarks.WeightSpec` when loaded from a preset, else None."""
    runtime: str = "auto"
    """The runtime chosen with ``runtime=`` or :meth:`set_runtime`."""

    def __init__(self, strategy: Any = None) -> None:
        """No parts yet: ``LandmarkDetector.__init__`` then builds (:meth:`_build`) or loads
        (:meth:`_load`) them, chooses the scheme and the face detector, and sets the runtime."""
        self.strategy = strategy
        self.history: list[Any] = []
        self._models: list[keras.Model] | None = None
        self._source: WeightsSource | None = None
        self._engines: StageEngines | None = None
        self._finder: Any = None
        self._fresh: set[int] = set()  # stages built here, never trained

    def _build(self, config: DetectorConfig | None, backbone_weights: str | None, one: Any) -> None:
        """Fresh, untrained stage models for ``config``, else for the one stage that ``one``,
        ``(backbone, input_size, normalization)``, describes (Keras is imported here)."""
        from facelandmarks.model import build_stages, single_stage_config

        self.config = config or single_stage_config(*one)
        with self._scope():
            self._models = build_stages(self.config, backbone_weights)
        self._fresh = set(range(len(self._models)))

    def _load(self, weights: Any, cache_dir: Any, verbose: int | str, scheme: Any = None) -> None:
        if not isinstance(weights, (str, os.PathLike)):
            raise TypeError(
                "weights must be None, a preset name or a file path. "
                f"Received: weights of type {type(weights).__name__}"
            )
        from facelandmarks import weights as fl_weights

        name = os.fspath(weights)
        if name == DEFAULT_WEIGHTS:
            name = fl_weights.default_preset_name(scheme)
        path, spec = fl_weights.resolve_weights(
            name, cache_dir=cache_dir, verbose=_resolve_verbose(verbose)
        )
        self.spec = spec
        self.config, _ = saving.read_config(path)
        self._source = WeightsSource(Path(path), spec, cache_dir)

    def _scope(self):
        """The distribution strategy's scope (variables and optimizers are made inside it)."""
        return contextlib.nullcontext() if self.strategy is None else self.strategy.scope()

    def _check_scheme(self, scheme: str | None) -> str:
        if scheme is None:
            return self.config.point_scheme
        if scheme not in self.config.scheme_names:
            raise ValueError(
                f"this model predicts {list(self.config.scheme_names)}. Received: "
                f"scheme={scheme!r} (the shipped default predicts 'muct76' and 'ibug68')"
            )
        return scheme

    # ------------------------------------------------------------------ properties
    @property
    def models(self) -> list[keras.Model]:
        """One Keras model per stage, coarse to fine (loaded on first use: predicting on
        shipped TensorFlow Lite files never needs them). Assigning a new list gives them fresh
        engines under the same runtime; they no longer count as the weights file they replace."""
        if self._models is None:
            with self._scope():
                self._models = saving.load_models(self._source.path)  # type: ignore[union-attr]
        return self._models

    @models.setter
    def models(self, models: Sequence[keras.Model]) -> None:
        self._models = list(models)
        self._fresh = set()
        self._source = None
        self.set_runtime(self.runtime, num_threads=self._engines.num_threads)  # type: ignore[union-attr]

    @property
    def model(self) -> keras.Model:
        """The Keras model of the last (finest) stage; all stages are in :attr:`models`."""
        return self.models[-1]

    @property
    def scheme(self) -> str:
        """The point scheme :meth:`predict` returns (``"muct76"``, ``"ibug68"``, ...)."""
        return self._scheme

    @property
    def schemes(self) -> tuple[str, ...]:
        """Every scheme the model predicts (its heads); pick one with ``scheme=``."""
        return self.config.scheme_names

    @property
    def num_points(self) -> int:
        """Landmarks per face ``K`` of :attr:`scheme`."""
        sl = self.config.head_slice(self._scheme)
        return sl.stop - sl.start

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the last stage's model input."""
        return self.config.stages[-1].input_size

    @property
    def engines(self) -> tuple[str, ...]:
        """The engine each stage's forward pass runs on, ``"tflite"`` or ``"keras"``."""
        return self._engines.names  # type: ignore[union-attr]

    def __repr__(self) -> str:
        stages = ", ".join(
            f"{s.backbone}@{s.input_size[0]}x{s.input_size[1]}/{s.framing}"
            for s in self.config.stages
        )
        src = f", weights={self.spec.name!r}" if self.spec else ""
        return f"LandmarkDetector(stages=[{stages}], scheme={self.scheme!r}{src})"

    # ------------------------------------------------------------------ faces
    def _detector(self, face_detector: Any = None) -> tuple[Any, str]:
        """The face detector object and its name (built once per name)."""
        chosen = face_detector if face_detector is not None else self._face_detector
        if chosen is None:
            chosen = self.config.face_detector or "default"
        if not isinstance(chosen, str):
            return chosen, str(getattr(chosen, "name", "default"))
        from facelandmarks.face_detection import get_face_detector

        if self._finder is None or self._finder[0] != chosen:
            self._finder = (chosen, get_face_detector(chosen))
        det = self._finder[1]
        trained = self.config.face_detector
        if self.config.stages[0].framing == "face" and trained and det.name != trained:
            logger.warning(
                "this model was trained on %s boxes; %s places faces differently, so expect "
                "larger errors",
                trained,
                det.name,
            )
        return det, det.name

    def _trained(
        self, config: DetectorConfig, stages: Sequence[int] | None, histories: list[Any]
    ) -> Any:
        """Take ``fit``'s results: the new config, the histories; the trained stages are no
        longer fresh, and no shipped or cached TensorFlow Lite file matches them any more."""
        self._fresh -= set(range(len(self.config.stages)) if stages is None else stages)
        self.config = config
        self.history.extend(h for h in histories if h is not None)
        self._source = None
        self.set_runtime(self.runtime, num_threads=self._engines.num_threads)  # type: ignore[union-attr]
        return histories[-1] if histories else None

    # ------------------------------------------------------------------ settings, files
    def set_runtime(self, runtime: str, *, num_threads: int | None = None) -> LandmarkDetector:
        """Choose the inference engine (see the ``runtime`` argument).

        Args:
            runtime: ``"auto"``, ``"keras"`` or ``"tflite"``.
            num_threads: TensorFlow Lite interpreter threads (default 1: on a busy or
                2-core CPU one thread is fastest for these small models; see
                :mod:`facelandmarks.lite`).

        Returns:
            ``self``, for chaining: ``LandmarkDetector().set_runtime("tflite")``.

        Raises:
            ValueError: an unknown runtime.
        """
        models: Any = self._models if self._models is not None else (lambda: self.models)
        self._engines = StageEngines(
            models,
            runtime,
            num_stages=len(self.config.stages),
            num_threads=num_threads,
            source=self._source,
        )
        self.runtime = runtime
        return self

    def set_test_time_flip(
        self, enabled: bool = True, *, stages: Sequence[int] | None = None
    ) -> LandmarkDetector:
        """Average each prediction with the one on the mirrored input (test-time flip).

        Costs one more crop and forward pass per face through those stages: the landmark step
        takes about twice as long.

        Args:
            enabled: turn the flip on or off.
            stages: stage indices (default: every stage).

        Returns:
            ``self``, for chaining.

        Raises:
            ValueError: bad stage indices, or ``enabled`` for a point scheme without a mirror
                permutation (``config.mirror`` is None).
        """
        n = len(self.config.stages)
        ids = list(range(n)) if stages is None else list(stages)
        bad = [k for k in ids if not (isinstance(k, int) and 0 <= k < n)]
        if bad:
            raise ValueError(f"stages must be indices below {n}. Received: {bad}")
        if enabled and self.config.mirror is None:
            raise ValueError(
                "test-time flip needs the point scheme's mirror permutation; this detector's "
                "config has mirror=None (set DetectorConfig.mirror)"
            )
        new = tuple(
            dataclasses.replace(s, test_time_flip=bool(enabled)) if k in ids else s
            for k, s in enumerate(self.config.stages)
        )
        self.config = dataclasses.replace(self.config, stages=new)
        return self

    def export(
        self, path: str | os.PathLike, *, format: str = "tflite", verbose: int | str = 0
    ) -> Path:
        """Export the stages for deployment: TensorFlow Lite files or SavedModels, plus
        ``detector.json`` (the framing between stages).

        ``verbose=1`` shows a progress bar (a stage takes seconds to convert). See
        :func:`facelandmarks.export.export_detector` for the layout and errors.
        """
        from facelandmarks.export import export_detector

        return export_detector(self, path, format=format, verbose=_resolve_verbose(verbose))

    def save(self, path: str | os.PathLike) -> Path:
        """Save the detector (all stages and the config) to one ``.keras`` file, atomically.

        Load it with ``LandmarkDetector(weights=path)``.

        Args:
            path: destination; must end in ``.keras``.

        Returns:
            The written path.

        Raises:
            ValueError: the path does not end in ``.keras``.
            OSError: the directory is not writable (nothing is left half-written).
        """
        return saving.save_detector(path, self.config, self.models)
