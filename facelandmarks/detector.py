"""``LandmarkDetector``: the facade that loads or builds a detector and runs it.

It composes replaceable parts, each in its own module: :mod:`facelandmarks.saving` (files <->
config and stage models), :mod:`facelandmarks.weights` (presets and the cache),
:mod:`facelandmarks.engines` (what runs each stage: TensorFlow Lite or Keras),
:mod:`facelandmarks.face_detection` (where faces are), :mod:`facelandmarks.inference` (frames,
the cascade of stages, batching), :mod:`facelandmarks.tracking` (video) and
:mod:`facelandmarks.training` (``fit``). Keras and TensorFlow are imported only when something
needs them: predicting with the shipped models runs on TensorFlow Lite without them.

Coordinate contract (see docs/coordinates.md): every landmark array that goes in or out is
float32 ``(N, K, 2)`` (``K`` = the point scheme's count: 76 MUCT, 68 iBUG), last axis ``(x, y)``
in pixels of the image *as the caller passed it* (after EXIF orientation for files and PIL
images), origin at the top-left, ``y`` down, pixel centres at integer coordinates. ``NaN`` marks
an unavailable point, or a face that was not found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facelandmarks import finding, inference, saving
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.engines import RUNTIMES, StageEngines, WeightsSource, check_runtime
from facelandmarks.finding import FRAMINGS as FRAMINGS
from facelandmarks.finding import MIN_SIDE as MIN_SIDE
from facelandmarks.inference import Face, ImageFaces

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from facelandmarks.weights import WeightSpec

__all__ = ["RUNTIMES", "Face", "ImageFaces", "LandmarkDetector"]

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "default"


def _resolve_verbose(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


class LandmarkDetector:
    """Face landmark detector: find faces, frame each like the training data, predict points.

    Args:
        weights: ``"default"`` (the model shipped inside the package; no network), a preset
            name (see :func:`facelandmarks.list_weights`; downloaded and cached on first use),
            a path to a file (one saved by :meth:`save`, or the original 2019 project's
            ``weights.h5``, recognised by content), or ``None`` for a fresh, untrained model
            built from the other arguments (no download at all).
        scheme: the point scheme to predict, among the model's heads (:attr:`schemes`):
            ``"muct76"`` (the 76 MUCT points) or ``"ibug68"`` (the 68 points of iBUG / 300-W /
            dlib); default: the model's first head (76 MUCT points for the default model).
        face_detector: how :meth:`predict`, :meth:`predict_faces` and :meth:`track` find faces:
            a name for :func:`facelandmarks.face_detection.get_face_detector` or an object with
            ``detect(rgb) -> list[FaceBox]`` and a ``name``. Default: the detector the model
            was trained with (``"blazeface"``, shipped) or, for older models, ``"blazeface"``.
        backbone: with ``weights=None``: a key of :data:`facelandmarks.model.BACKBONES`
            (``"resnet50"``, the original's, by default).
        input_size: with ``weights=None``: ``(height, width)``; default ``(320, 240)``.
        backbone_weights: with ``weights=None``: ``None`` (random init) or ``"imagenet"``
            (Keras downloads the ImageNet backbone weights: needs network once).
        normalization: with ``weights=None``: ``"batch"`` or ``"group"``.
        config: with ``weights=None``: a full :class:`DetectorConfig` (e.g. several stages or
            heads); overrides the four arguments above.
        cache_dir: where downloaded weights are cached (see
            :func:`facelandmarks.weights.cache_dir`).
        strategy: an optional ``tf.distribute.Strategy``; the model is built and trained under
            its scope, and ``fit``'s ``batch_size`` is the global batch.
        runtime: inference engine. ``"tflite"``: each stage on TensorFlow Lite (LiteRT when
            installed; converted and cached on first use when no file ships with the preset).
            ``"keras"``: TensorFlow. ``"auto"`` (the default): TensorFlow Lite for each stage
            whose conversion costs nothing (shipped or cached), TensorFlow otherwise.
            :attr:`engines` says which. See docs/export.md.
        verbose: download progress: ``"auto"``/1 bar, 0 silent.

    Raises:
        ValueError: unknown preset / scheme / backbone / bad argument, or a file that is not a
            detector.
        FileNotFoundError: a path that does not exist.
        facelandmarks.weights.WeightsDownloadError: a preset could not be downloaded.

    Example:
        >>> det = LandmarkDetector()                             # doctest: +SKIP
        >>> det.predict("examples/astronaut.png").shape          # doctest: +SKIP
        (1, 76, 2)
        >>> LandmarkDetector(scheme="ibug68").num_points         # doctest: +SKIP
        68
    """

    spec: WeightSpec | None = None
    """The preset's :class:`~facelandmarks.WeightSpec` when loaded from a preset, else None."""
    runtime: str = "auto"
    """The runtime chosen with ``runtime=`` or :meth:`set_runtime`."""

    def __init__(
        self,
        weights: str | os.PathLike | None = DEFAULT_WEIGHTS,
        *,
        scheme: str | None = None,
        face_detector: str | Any = None,
        backbone: str = "resnet50",
        input_size: tuple[int, int] = (320, 240),
        backbone_weights: str | None = None,
        normalization: str = "batch",
        config: DetectorConfig | None = None,
        cache_dir: str | os.PathLike | None = None,
        strategy: Any = None,
        runtime: str = "auto",
        verbose: int | str = "auto",
    ) -> None:
        self.strategy = strategy
        check_runtime(runtime)  # before loading: a typo should not cost a download
        self.history: list[Any] = []
        self._models: list[keras.Model] | None = None
        self._source: WeightsSource | None = None
        self._engines: StageEngines | None = None
        self._lite_threads: int | None = None
        self._finder: Any = None
        self._fresh: set[int] = set()  # stages built here, never trained
        if weights is None:
            self.config = config or _single_stage_config(backbone, input_size, normalization)
            with self._scope():
                self._models = _build(self.config, backbone_weights)
            self._fresh = set(range(len(self._models)))
        else:
            self._load(weights, cache_dir, verbose)
        self._scheme = self._check_scheme(scheme)
        self._face_detector = face_detector
        self.set_runtime(runtime)

    def _load(self, weights: Any, cache_dir: Any, verbose: int | str) -> None:
        if not isinstance(weights, (str, os.PathLike)):
            raise TypeError(
                "weights must be None, a preset name or a file path. "
                f"Received: weights of type {type(weights).__name__}"
            )
        from facelandmarks import weights as fl_weights

        name = os.fspath(weights)
        if name == DEFAULT_WEIGHTS:
            name = fl_weights.default_preset_name()
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
        self.set_runtime(self.runtime, num_threads=self._lite_threads)

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

    # ------------------------------------------------------------------ predict
    def iter_faces(
        self,
        images: Any,
        *,
        framing: str = "detect",
        boxes: Sequence[Any] | None = None,
        face_detector: str | Any = None,
        max_faces: int | None = None,
        batch_size: int = 32,
        on_error: str = "raise",
        keep_images: bool = False,
        verbose: int | str = 0,
    ) -> Iterator[ImageFaces]:
        """Faces and landmarks image after image: the streaming form of :meth:`predict_faces`.

        Args:
            images: a path (a folder stands for the images in it), a PIL image, an
                ``(H, W, 3)`` uint8 RGB array (also ``(H, W)`` gray, ``(H, W, 4)`` RGBA), a
                sequence or iterator of these (sizes may differ), an ``(N, H, W, 3)`` uint8
                array, or a :class:`LandmarkDataset`.
            framing: ``"detect"`` (find faces) or ``"image"`` (each image *is* the model's
                input frame: for data already cut the way the model was trained: MUCT
                portraits for the whole-image MUCT model, or for a face-framed model like the
                default, crops about 1.6 face widths across, centred on the face).
            boxes: face boxes instead of running the detector: one entry per image, each a
                sequence of ``(x0, y0, x1, y1)`` edge-coordinate boxes (possibly empty).
            face_detector: overrides the detector chosen at construction.
            max_faces: keep only the ``max_faces`` most prominent faces of each image.
            batch_size: faces per model call.
            on_error: ``"raise"``: an unreadable image raises (naming it); ``"skip"``: it gives
                an :class:`ImageFaces` with ``error`` set (and a logged warning), and the rest
                go on.
            keep_images: put each decoded image in :attr:`ImageFaces.image` (to draw on).
            verbose: 0 silent, 1 a progress bar.

        Returns:
            An iterator of :class:`ImageFaces`, one per image in input order; faces most prominent
            first, each a :class:`Face` with float32 ``(K, 2)`` landmarks in pixels of its image.

        Raises:
            ValueError: bad arguments; with ``on_error="raise"``, an unreadable image.
            ImportError: the chosen face detector's optional dependency is missing.
        """
        if isinstance(images, LandmarkDataset):
            images = images.image_paths
        find = finding.finder_for(framing, boxes, face_detector, max_faces, self._detector)
        return inference.iter_faces(
            self.config,
            self._engines,
            images,
            find,
            scheme=self._scheme,
            batch_size=batch_size,
            on_error=on_error,
            keep_images=keep_images,
            verbose=_resolve_verbose(verbose),
        )

    def predict(
        self,
        images: Any,
        *,
        framing: str = "detect",
        batch_size: int = 32,
        on_error: str = "raise",
        verbose: int | str = 0,
    ) -> np.ndarray:
        """Landmarks of the main face of each image (the most prominent: largest visible area,
        weighted towards the centre; see :func:`facelandmarks.face_detection.prominence`).

        Args:
            images, framing, batch_size, on_error, verbose: as in :meth:`iter_faces`.

        Returns:
            float32 ``(N, K, 2)``: ``(x, y)`` in pixels of *each* input image as given (after
            EXIF orientation), origin top-left, pixel centres at integers, in :attr:`scheme`.
            One image in gives ``(1, K, 2)``; no image, ``(0, K, 2)``. An image where no face
            was found (or, with ``on_error="skip"``, that could not be read) gives a row of
            NaN, and a logged warning names it. Points may fall outside the image when the
            face extends beyond it.

        Raises:
            FileNotFoundError, ValueError, TypeError: an input that is not a readable image
                (the message names it), with ``on_error="raise"``.

        Example:
            >>> det = LandmarkDetector()                                    # doctest: +SKIP
            >>> det.predict(["a.jpg", "b.png"]).shape                       # doctest: +SKIP
            (2, 76, 2)
        """
        rows = []
        for result in self.iter_faces(
            images,
            framing=framing,
            max_faces=1,
            batch_size=batch_size,
            on_error=on_error,
            verbose=verbose,
        ):
            faces = result.faces
            rows.append(
                faces[0].landmarks if faces else np.full((self.num_points, 2), np.nan, np.float32)
            )
        if not rows:
            return np.zeros((0, self.num_points, 2), np.float32)
        return np.stack(rows).astype(np.float32)

    def predict_faces(
        self,
        images: Any,
        *,
        boxes: Sequence[Any] | None = None,
        face_detector: str | Any = None,
        max_faces: int | None = None,
        batch_size: int = 32,
        on_error: str = "raise",
        verbose: int | str = 0,
    ) -> list[list[Face]]:
        """Every face in each image, with its landmarks (group photos, several faces).

        Args:
            images, boxes, face_detector, max_faces, batch_size, on_error, verbose: as in
                :meth:`iter_faces`.

        Returns:
            One list per image (input order) of :class:`Face`, most prominent first; ``[]`` for an
            image without a face (or unreadable, with ``on_error="skip"``: use
            :meth:`iter_faces` to tell the two apart). ``Face.landmarks`` is float32
            ``(K, 2)``, ``(x, y)`` pixels of that image; ``Face.box`` the face box in edge
            coordinates; ``Face.score`` the detector's score (``None`` for given boxes).

        Raises:
            ImportError: the chosen detector's optional dependency is missing.
            ValueError: ``boxes`` without one entry per image, a malformed box, bad arguments.
        """
        results = list(
            self.iter_faces(
                images,
                boxes=boxes,
                face_detector=face_detector,
                max_faces=max_faces,
                batch_size=batch_size,
                on_error=on_error,
                verbose=verbose,
            )
        )
        if boxes is not None and len(results) != len(boxes):
            raise ValueError(
                f"boxes must have one entry per image. Received: {len(boxes)} entries for "
                f"{len(results)} images"
            )
        return [r.faces for r in results]

    def track(self, frames: Iterable[Any], **options: Any) -> Iterator[ImageFaces]:
        """Landmarks through a video: see :class:`facelandmarks.tracking.FaceTracker` for
        ``options`` (``detect_every``, ``smoothing``, ``fps``, ``max_faces``).

        Args:
            frames: any iterable of images (arrays from a video reader, paths, PIL images).

        Returns:
            An iterator of :class:`ImageFaces`, one per frame.
        """
        from facelandmarks.tracking import FaceTracker

        tracker = FaceTracker(self, **options)
        return (tracker.update(frame) for frame in frames)

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        data: LandmarkDataset | tuple[Any, np.ndarray],
        *,
        framing: str = "detect",
        batch_size: int = 32,
        verbose: int | str = 0,
        return_predictions: bool = False,
    ) -> dict[str, Any]:
        """Score predictions against ground truth with the standard metrics.

        Args:
            data: a :class:`LandmarkDataset`, or ``(images, landmarks)`` with ``landmarks``
                float32 ``(N, K, 2)`` pixels of each image (NaN = unavailable) in
                :attr:`scheme`. A dataset in another scheme (say, iBUG 68 for a 76-point
                model) is scored on the points the two schemes share.
            framing: as in :meth:`iter_faces`.
            batch_size, verbose: as in :meth:`predict`.
            return_predictions: also return the float32 ``(N, K, 2)`` pixel predictions
                under ``"predictions"`` (NaN rows: faces not found).

        Returns:
            The dict of :func:`facelandmarks.metrics.evaluate_landmarks` over the faces found
            (``"nme"``: inter-ocular, ``"median_nme"``, ``"failure_rate@0.10"``,
            ``"auc@0.10"``, ...), plus ``"n_missed"`` (faces not found),
            ``"missed_or_failed@0.08"`` and ``"missed_or_failed@0.10"`` (share of all images
            missed or above that NME) and ``"scored_points"`` (``"all"`` or the shared
            points' count); see :func:`facelandmarks.evaluation.score_faces`.

        Raises:
            ValueError: mismatched lengths or shapes, or ground truth without eye corners.
        """
        from facelandmarks.evaluation import score_faces

        scheme = self._scheme
        if isinstance(data, LandmarkDataset):
            images, truth = data.image_paths, data.landmarks
            scheme = data.scheme or scheme
        elif isinstance(data, tuple) and len(data) == 2:
            images, truth = data
        else:
            raise TypeError(
                "evaluate expects a LandmarkDataset or a tuple (images, landmarks). "
                f"Received: {type(data).__name__}"
            )
        pred = self.predict(images, framing=framing, batch_size=batch_size, verbose=verbose)
        scores, _ = score_faces(pred, truth, pred_scheme=self._scheme, true_scheme=scheme)
        if return_predictions:
            scores["predictions"] = pred
        return scores

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        train: LandmarkDataset | Sequence[LandmarkDataset],
        validation_data: LandmarkDataset | Sequence[LandmarkDataset] | None = None,
        *,
        stages: Sequence[int] | None = None,
        callbacks: Iterable[Any] | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        verbose: int | str = "auto",
        **options: Any,
    ) -> Any:
        """Train on landmark datasets (the original recipe by default).

        Several datasets may be given, in any of the model's schemes (each face supervises its
        own scheme's head and, through exact correspondences, the others'). Face-framed stages
        run the face detector over the images first (cached in ``checkpoint_dir``).

        Args:
            train: training images and pixel landmarks (``NaN`` = unavailable: excluded from
                the loss), or a list of such datasets.
            validation_data: optional held-out dataset(s): ``val_nme`` (inference-mode NME,
                per set and scheme) after each epoch.
            stages: indices of the stages to train (default all, first to last).
            callbacks: extra Keras callbacks.
            checkpoint_dir: checkpoints that survive a kill: an interrupted ``fit`` called
                again with the same folder resumes after the last finished epoch, with the
                same best epoch an uninterrupted run would keep. A run killed before its first
                epoch ended starts over from the detector's initial weights, which are random:
                call ``keras.utils.set_random_seed`` before building the detector to make
                them the same in every attempt (``facelandmarks train`` does).
            verbose: Keras ``fit`` verbosity.
            **options: the fields of :class:`facelandmarks.training.config.FitOptions`:
                ``epochs`` (8), ``batch_size`` (16), ``learning_rate`` (1e-3),
                ``lr_schedule`` (None or "cosine"), ``augment`` (an
                :class:`~facelandmarks.training.Augmentation`, True, False/None, or "wild"),
                ``cache``, ``seed``, ``early_stopping`` (patience or None),
                ``mixed_precision`` (False, True, "auto", "mixed_bfloat16"), ``restore_best``
                (keep the best epoch; default True with validation data).

        Returns:
            The ``keras.callbacks.History`` of the last stage trained (all are kept in
            :attr:`history`), or ``None`` when every requested stage was already finished in
            ``checkpoint_dir`` and only loaded.

        Raises:
            TypeError / ValueError: bad data or arguments (named).
        """
        from facelandmarks.training.core import fit_detector

        config, histories = fit_detector(
            self.config,
            self.models,
            train,
            validation_data,
            options=options,
            stages=stages,
            callbacks=list(callbacks or []),
            checkpoint_dir=checkpoint_dir,
            face_detector=self._face_detector,
            scope=self._scope,
            fresh=sorted(self._fresh),
            verbose=_resolve_verbose(verbose),
        )
        self._fresh -= set(range(len(self.config.stages)) if stages is None else stages)
        self.config = config
        self.history.extend(h for h in histories if h is not None)
        # trained weights: no shipped or cached TensorFlow Lite file matches them any more
        self._source = None
        self.set_runtime(self.runtime, num_threads=self._lite_threads)
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
            check_runtime(runtime),
            num_stages=len(self.config.stages),
            num_threads=num_threads,
            source=self._source,
        )
        self.runtime = runtime
        self._lite_threads = num_threads
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


def _single_stage_config(backbone: str, input_size: Any, normalization: str) -> DetectorConfig:
    from facelandmarks.config import BACKBONE_NAMES

    if backbone not in BACKBONE_NAMES:
        raise ValueError(
            f"backbone must be one of {sorted(BACKBONE_NAMES)}. Received: backbone={backbone!r}"
        )
    from facelandmarks.model import BACKBONES

    return DetectorConfig(
        stages=(
            StageConfig(
                backbone=backbone,
                input_size=tuple(input_size),
                preprocessing=BACKBONES[backbone].default_preprocessing,
                normalization=normalization,
            ),
        )
    )


def _build(config: DetectorConfig, backbone_weights: str | None) -> list[Any]:
    from facelandmarks.model import build_stage

    return [
        build_stage(s, config, f"stage{i}", backbone_weights) for i, s in enumerate(config.stages)
    ]
