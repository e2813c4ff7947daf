"""``LandmarkDetector``: the facade that loads or builds a detector and runs it.

It composes replaceable parts, each in its own module: :mod:`facelandmarks.saving` (files <->
config and stage models), :mod:`facelandmarks.weights` (presets and the cache),
:mod:`facelandmarks.engines` (what runs each stage: TensorFlow Lite or Keras),
:mod:`facelandmarks.inference` (the cascade of stages, test-time flip and batching) and
:mod:`facelandmarks.face_detection`. Training (``fit`` and its helpers) still lives here while it
is being rewritten.

Coordinate contract (see docs/coordinates.md): every landmark array that goes in or out is
float32 ``(N, P, 2)`` (``P = 76`` for the MUCT scheme), last axis ``(x, y)`` in pixels of the
image *as the caller passed it* (after EXIF orientation for files and PIL images), origin at the
top-left, ``y`` down, pixel centres at integer coordinates. ``NaN`` marks an unavailable point.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from facelandmarks import inference, saving
from facelandmarks import metrics as fl_metrics
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.engines import RUNTIMES, StageEngines, WeightsSource, check_runtime
from facelandmarks.inference import Face
from facelandmarks.losses import get_loss
from facelandmarks.model import BACKBONES, build_stage
from facelandmarks.points import NUM_POINTS

if TYPE_CHECKING:  # pragma: no cover
    from facelandmarks.weights import WeightSpec

__all__ = ["RUNTIMES", "Face", "LandmarkDetector"]

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "default"


def _resolve_verbose(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


class LandmarkDetector:
    """Face landmark detector: a Keras model plus the framing that feeds it.

    Args:
        weights: ``"default"`` (the model shipped inside the package; no network),
            a preset name (see :func:`facelandmarks.list_weights`; downloaded and cached on
            first use), a path to a file (one saved by :meth:`save`, or the original 2019
            project's ``weights.h5``, recognised by content), or ``None`` for a fresh, untrained
            model built from the other arguments (no download at all).
        backbone: with ``weights=None``: a key of :data:`facelandmarks.model.BACKBONES`
            (``"resnet50"``, the original's, by default).
        input_size: with ``weights=None``: ``(height, width)``; default ``(320, 240)``.
        backbone_weights: with ``weights=None``: ``None`` (random init) or ``"imagenet"``
            (Keras downloads the ImageNet backbone weights: needs network once).
        normalization: with ``weights=None``: ``"batch"`` or ``"group"``.
        config: with ``weights=None``: a full :class:`DetectorConfig` (e.g. several stages);
            overrides the four arguments above.
        cache_dir: where downloaded weights are cached (see
            :func:`facelandmarks.weights.cache_dir`).
        strategy: an optional ``tf.distribute.Strategy`` (e.g. ``MirroredStrategy()`` for
            several GPUs, ``MultiWorkerMirroredStrategy()`` for several machines configured by
            ``TF_CONFIG``); the model is built and trained under its scope, and ``fit``'s
            ``batch_size`` is the global batch, split across replicas.
        runtime: inference engine of :meth:`predict`. ``"tflite"``: each stage converted to
            TensorFlow Lite and run with the XNNPACK CPU kernels (the forward pass about 4x
            faster at batch 1 on a CPU, outputs equal to about 1e-3 px; a conversion takes
            several seconds per stage on first use and is cached on disk per weights file).
            ``"keras"``: TensorFlow. ``"auto"`` (the default): TensorFlow Lite for each stage
            whose conversion costs nothing (shipped with the preset, as for the default model,
            or already in the cache), TensorFlow otherwise, and TensorFlow for all stages if
            TensorFlow Lite fails to load (logged as a warning). :attr:`engines` says which
            engine each stage uses. Training always uses TensorFlow. See docs/export.md and
            :meth:`set_runtime`.
        verbose: download progress: ``"auto"``/1 bar, 0 silent.

    Raises:
        ValueError: unknown preset / backbone / bad argument, or a file that is not a detector.
        FileNotFoundError: a path that does not exist.
        facelandmarks.weights.WeightsDownloadError: a preset could not be downloaded.

    Example:
        >>> det = LandmarkDetector(weights=None, backbone="mobilenetv3small",
        ...                        input_size=(64, 48))
        >>> det.predict(np.zeros((100, 80, 3), np.uint8)).shape
        (1, 76, 2)
    """

    spec: WeightSpec | None = None
    """The preset's :class:`~facelandmarks.WeightSpec` when loaded from a preset, else None."""
    runtime: str = "auto"
    """The runtime chosen with ``runtime=`` or :meth:`set_runtime`."""
    _source: WeightsSource | None = None  # the weights file the models hold, if unchanged
    _engines: StageEngines | None = None
    _lite_threads: int | None = None

    def __init__(
        self,
        weights: str | os.PathLike | None = DEFAULT_WEIGHTS,
        *,
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
        with self._scope():
            self._init(
                weights,
                backbone,
                input_size,
                backbone_weights,
                normalization,
                config,
                cache_dir,
                verbose,
            )
        self.set_runtime(runtime)

    def _scope(self):
        """The distribution strategy's scope (variables and optimizers are made inside it)."""
        if self.strategy is None:
            return contextlib.nullcontext()
        return self.strategy.scope()

    def _init(
        self,
        weights,
        backbone,
        input_size,
        backbone_weights,
        normalization,
        config,
        cache_dir,
        verbose,
    ) -> None:
        self.history: list[keras.callbacks.History] = []
        self._untrained: set[int] = set()
        if weights is None:
            if config is None:
                if backbone not in BACKBONES:
                    raise ValueError(
                        f"backbone must be one of {sorted(BACKBONES)}. Received: "
                        f"backbone={backbone!r}"
                    )
                config = DetectorConfig(
                    stages=(
                        StageConfig(
                            backbone=backbone,
                            input_size=tuple(input_size),
                            preprocessing=BACKBONES[backbone].default_preprocessing,
                            normalization=normalization,
                        ),
                    )
                )
            self.config = config
            self.models = [
                build_stage(s, config, f"stage{i}", backbone_weights)
                for i, s in enumerate(config.stages)
            ]
            self._untrained = set(range(len(self.models)))
            return
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
        self.config, self.models = saving.load_detector(path)
        self._source = WeightsSource(Path(path), spec, cache_dir)

    # ------------------------------------------------------------------ properties
    @property
    def models(self) -> list[keras.Model]:
        """One Keras model per stage, coarse to fine (see :mod:`facelandmarks.engines` for
        what each maps). Assigning a new list gives them fresh engines under the same runtime;
        they no longer count as the weights file they replace (no shipped or cached
        TensorFlow Lite files)."""
        return self._models

    @models.setter
    def models(self, models: Sequence[keras.Model]) -> None:
        self._models = list(models)
        if self._engines is not None:
            self._source = None
            self.set_runtime(self.runtime, num_threads=self._lite_threads)

    @property
    def model(self) -> keras.Model:
        """The Keras model of the last (finest) stage; all stages are in :attr:`models`."""
        return self.models[-1]

    @property
    def num_points(self) -> int:
        """Landmarks per face ``P``."""
        return self.config.num_points

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the last stage's model input."""
        return self.config.stages[-1].input_size

    def __repr__(self) -> str:
        stages = ", ".join(
            f"{s.backbone}@{s.input_size[0]}x{s.input_size[1]}/{s.framing}"
            for s in self.config.stages
        )
        src = f", weights={self.spec.name!r}" if self.spec else ""
        return f"LandmarkDetector(stages=[{stages}], points={self.num_points}{src})"

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        images: Any,
        *,
        batch_size: int = 32,
        verbose: int | str = 0,
    ) -> np.ndarray:
        """Predict landmarks for one image or many.

        Args:
            images: a path, a PIL image, an ``(H, W, 3)`` uint8 RGB array (also ``(H, W)``
                gray, ``(H, W, 4)`` RGBA), a sequence or iterator of these (sizes may differ),
                an ``(N, H, W, 3)`` uint8 array, or a :class:`LandmarkDataset`. Images stream
                through in batches, so long lists and datasets use bounded memory.
            batch_size: images per model call.
            verbose: 0 silent (default), 1 or ``"auto"`` a Keras progress bar.

        Returns:
            float32 ``(N, P, 2)``: ``(x, y)`` in pixels of *each* input image as given (after
            EXIF orientation), origin top-left, pixel centres at integers. One image in gives
            ``(1, P, 2)``. Points may fall outside the image when the face extends beyond it.

        Raises:
            FileNotFoundError, ValueError, TypeError: an input that is not a readable image
                (the message names it).
        """
        return inference.predict_images(
            self.config,
            self._engines,
            images,
            batch_size=batch_size,
            verbose=_resolve_verbose(verbose),
        )

    def predict_faces(
        self,
        images: Any,
        *,
        boxes: Sequence[Any] | None = None,
        face_detector: str | Any = "default",
        batch_size: int = 32,
        verbose: int | str = 0,
    ) -> list[list[Face]]:
        """Find every face in each image, then predict its landmarks (ordinary photos).

        Each face box is widened to the framing the landmark model was trained on (a MUCT-like
        portrait around the face, see :func:`facelandmarks.face_detection.frame_from_box`), the
        model runs on that crop, and the points are mapped back to the image.

        Args:
            images: as :meth:`predict`.
            boxes: optional face boxes instead of running a detector: one entry per image, each
                a sequence of ``(x0, y0, x1, y1)`` edge-coordinate boxes (possibly empty).
                They are framed with the calibration of ``face_detector`` (boxes from another
                detector: pass the name of the one whose boxes they resemble most).
            face_detector: a name for :func:`facelandmarks.face_detection.get_face_detector`
                (needs ``pip install "facelandmarks[detect]"``) or an object with
                ``detect(rgb) -> list[FaceBox]`` and a ``name`` attribute naming the
                calibration to use.
            batch_size: faces per model call.
            verbose: 0 silent, 1 a progress bar over images.

        Returns:
            One list per image (in input order) of :class:`Face`, best detector score first;
            an image with no face gives ``[]``. ``Face.landmarks`` is float32 ``(P, 2)``,
            ``(x, y)`` in pixels of that image; ``Face.box`` is the face box in edge
            coordinates; ``Face.score`` the detector's score (``None`` for given boxes).

        Raises:
            ImportError: the detection extra is not installed (and no ``boxes`` were given).
            ValueError: ``boxes`` does not have one entry per image, or a malformed box.
        """
        return inference.predict_faces(
            self.config,
            self._engines,
            images,
            boxes=boxes,
            face_detector=face_detector,
            batch_size=batch_size,
            verbose=_resolve_verbose(verbose),
        )

    @property
    def engines(self) -> tuple[str, ...]:
        """The engine each stage's forward pass runs on, ``"tflite"`` or ``"keras"``.

        Resolves the runtime (see the ``runtime`` argument) for every stage; with
        ``runtime="tflite"`` that converts any stage not converted yet.
        """
        return self._engines.names

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        data: LandmarkDataset | tuple[Any, np.ndarray],
        *,
        batch_size: int = 32,
        verbose: int | str = 0,
        return_predictions: bool = False,
    ) -> dict[str, Any]:
        """Score predictions against ground truth with the standard metrics.

        Args:
            data: a :class:`LandmarkDataset`, or ``(images, landmarks)`` where ``landmarks``
                is ``(N, 76, 2)`` pixels of each image (NaN = unavailable).
            batch_size, verbose: as in :meth:`predict`.
            return_predictions: also return the float32 ``(N, P, 2)`` pixel predictions
                under ``"predictions"``.

        Returns:
            The dict of :func:`facelandmarks.metrics.evaluate_landmarks`: ``"nme"``
            (inter-ocular, outer corners 27-32), ``"nme_pupil"`` (31-36), ``"median_nme"``,
            ``"mean_error_px"``, ``"failure_rate@0.08"``, ``"failure_rate@0.10"``,
            ``"auc@0.08"``, ``"auc@0.10"``, ``"n_images"``, ``"n_points"``.

        Raises:
            ValueError: mismatched lengths or shapes, or ground truth without eye corners.
        """
        if isinstance(data, LandmarkDataset):
            images, truth = data.image_paths, data.landmarks
        elif isinstance(data, tuple) and len(data) == 2:
            images, truth = data
        else:
            raise TypeError(
                "evaluate expects a LandmarkDataset or a tuple (images, landmarks). "
                f"Received: {type(data).__name__}"
            )
        pred = self.predict(images, batch_size=batch_size, verbose=verbose)
        truth = np.asarray(truth, dtype=np.float32)
        if truth.shape != pred.shape:
            raise ValueError(
                f"landmarks must have shape {pred.shape} to match the {len(pred)} images. "
                f"Received: {truth.shape}"
            )
        scores: dict[str, Any] = dict(fl_metrics.evaluate_landmarks(pred, truth))
        if return_predictions:
            scores["predictions"] = pred
        return scores

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        train: LandmarkDataset,
        validation_data: LandmarkDataset | None = None,
        *,
        epochs: int = 8,
        batch_size: int = 16,
        learning_rate: float = 1e-3,
        augment: Any = None,
        stages: Sequence[int] | None = None,
        callbacks: Iterable[keras.callbacks.Callback] | None = None,
        monitor_nme: bool = True,
        cache: bool = False,
        lr_schedule: str | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        restore_best: bool = True,
        early_stopping: int | None = None,
        mixed_precision: bool | str = False,
        seed: int = 0,
        verbose: int | str = "auto",
    ) -> keras.callbacks.History:
        """Train on a landmark dataset (the original recipe by default).

        Args:
            train: training images and pixel landmarks (``NaN`` = unavailable: excluded from
                the loss).
            validation_data: optional held-out dataset: validation loss each epoch, and (with
                ``monitor_nme``) the inference-mode NME ``val_nme``.
            epochs, batch_size, learning_rate: Adam, as the original (8, 16, 1e-3).
            augment: a :class:`facelandmarks.training.Augmentation`, ``True`` for the default
                one, or ``None``/``False`` for none (the original used none).
            stages: indices of the stages to train (default all, first to last).
            callbacks: extra Keras callbacks.
            monitor_nme: compute ``val_nme`` in inference mode after each epoch (catches
                normalisation layers whose inference statistics lag behind training); only
                for the 76-point MUCT scheme, whose eye corners normalise it.
            cache: keep decoded images in RAM between epochs.
            lr_schedule: ``None`` (constant, the original) or ``"cosine"`` (cosine decay to 0
                over the run).
            checkpoint_dir: if given, each stage writes ``stage<k>/backup`` (Keras
                ``BackupAndRestore``: an interrupted ``fit`` called again with the same
                directory resumes from the last finished epoch) and ``stage<k>/best.weights.h5``
                (best ``val_nme``, or training loss without validation data).
            restore_best: with ``checkpoint_dir``, load the best checkpoint when a stage ends.
            early_stopping: ``None`` (train every epoch) or a patience: a stage stops after
                that many epochs without a new best of its monitored value (``val_nme``, else
                ``val_loss`` with validation data, else the training ``loss``), and, with
                ``restore_best``, ends with its best epoch's weights. Its count restarts when
                an interrupted ``fit`` resumes.
            mixed_precision: ``False`` (float32 throughout, the default); ``True`` or
                ``"mixed_float16"`` (float16 compute, float32 weights, loss scaling: the fast
                path on NVIDIA GPUs); ``"mixed_bfloat16"`` (TPUs, recent CPUs and GPUs); or
                ``"auto"`` (``"mixed_float16"`` when TensorFlow sees a GPU, else off). The
                output head always computes in float32, and the model is float32 again when
                ``fit`` returns. On a CPU without bfloat16 support it is slower, not faster.
            seed: shuffling and augmentation seed.
            verbose: Keras ``fit`` verbosity.

        Returns:
            The ``keras.callbacks.History`` of the last stage trained (all are kept in
            :attr:`history`), or ``None`` when every requested stage was already finished in
            ``checkpoint_dir`` and only loaded.

        Raises:
            TypeError / ValueError: bad data or arguments.
        """
        from facelandmarks.training import Augmentation, make_tf_dataset

        for name, data in (("train", train), ("validation_data", validation_data)):
            if data is not None and not isinstance(data, LandmarkDataset):
                raise TypeError(
                    f"{name} must be a LandmarkDataset (see facelandmarks.load_muct or "
                    f"LandmarkDataset(...)). Received: {type(data).__name__}"
                )
            if data is not None and data.num_points != self.num_points:
                raise ValueError(
                    f"{name} has {data.num_points} points per image; this detector predicts "
                    f"{self.num_points}."
                )
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not _is_positive_int(value):
                raise ValueError(f"{name} must be a positive integer. Received: {value!r}")
        if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0. Received: {learning_rate!r}")
        if augment is True:
            augment = Augmentation()
        elif augment is False:
            augment = None
        elif augment is not None and not isinstance(augment, Augmentation):
            raise TypeError(
                f"augment must be an Augmentation, True, False or None. "
                f"Received: {type(augment).__name__}"
            )
        if lr_schedule not in (None, "cosine"):
            raise ValueError(f"lr_schedule must be None or 'cosine'. Received: {lr_schedule!r}")
        if early_stopping is not None and not _is_positive_int(early_stopping):
            raise ValueError(
                "early_stopping must be None or a patience in epochs (an int >= 1). "
                f"Received: {early_stopping!r}"
            )
        precision = _resolve_mixed_precision(mixed_precision)
        stage_ids = list(range(len(self.models))) if stages is None else list(stages)
        bad = [k for k in stage_ids if not (isinstance(k, int) and 0 <= k < len(self.models))]
        if bad:
            raise ValueError(f"stages must be indices below {len(self.models)}. Received: {bad}")
        # Training changes the weights: TensorFlow Lite copies are converted again on demand,
        # and no longer match the file they were loaded from.
        self._source = None
        self.set_runtime(self.runtime, num_threads=self._lite_threads)
        verbose = _resolve_verbose(verbose)
        history = None
        for k in stage_ids:
            stage, model = self.config.stages[k], self.models[k]
            logger.info("training stage %d (%s, %s)", k, stage.backbone, stage.framing)
            lr: float | keras.optimizers.schedules.LearningRateSchedule = learning_rate
            if lr_schedule == "cosine":
                steps = -(-len(train) // batch_size) * epochs
                lr = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
            with self._scope():
                optimizer = keras.optimizers.Adam(lr)
                if precision == "mixed_float16":
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            train_ds = make_tf_dataset(
                train,
                stage,
                batch_size=batch_size,
                training=True,
                augment=augment,
                seed=seed,
                cache=cache,
                mirror=self.config.mirror,
            )
            val_ds = None
            cbs = list(callbacks or [])
            if validation_data is not None:
                val_ds = make_tf_dataset(
                    validation_data, stage, batch_size=batch_size, training=False, cache=cache
                )
                if monitor_nme and self.num_points == NUM_POINTS:
                    cbs.insert(0, _NMEMonitor(self, validation_data, k, batch_size))
                elif monitor_nme:
                    logger.info("val_nme needs the 76-point MUCT eye corners; not computed")
            best_path = None
            if checkpoint_dir is not None:
                stage_dir = Path(checkpoint_dir) / f"stage{k}"
                stage_dir.mkdir(parents=True, exist_ok=True)
                done = stage_dir / "final.weights.h5"
                if done.is_file():
                    model.load_weights(str(done))
                    self._untrained.discard(k)
                    logger.info("stage %d already trained in %s: loaded, skipped", k, done)
                    continue
                monitor = _monitored(cbs, validation_data)
                best_path = stage_dir / "best.weights.h5"
                cbs.append(
                    keras.callbacks.ModelCheckpoint(
                        str(best_path),
                        monitor=monitor,
                        mode="min",
                        save_best_only=True,
                        save_weights_only=True,
                    )
                )
                cbs.append(keras.callbacks.BackupAndRestore(str(stage_dir / "backup")))
            if early_stopping is not None:
                cbs.append(
                    keras.callbacks.EarlyStopping(
                        monitor=_monitored(cbs, validation_data),
                        mode="min",
                        patience=early_stopping,
                        restore_best_weights=restore_best,
                        verbose=1 if verbose else 0,
                    )
                )
            if k in self._untrained:
                _init_head_to_mean(model, train, stage)
                self._untrained.discard(k)
            with _dtype_policy(model, precision):
                with self._scope():
                    model.compile(optimizer=optimizer, loss=get_loss(self.config.loss))
                history = model.fit(
                    train_ds,
                    validation_data=val_ds,
                    epochs=epochs,
                    steps_per_epoch=-(-len(train) // batch_size),
                    callbacks=cbs,
                    verbose=verbose,
                    shuffle=False,  # the tf.data pipeline shuffles, deterministically per seed
                )
            if precision is not None:
                # float32 again; compile anew so no function traced under the policy is reused
                with self._scope():
                    model.compile(optimizer=model.optimizer, loss=get_loss(self.config.loss))
            self.history.append(history)
            if best_path is not None:
                if restore_best and best_path.is_file():
                    model.load_weights(str(best_path))
                    logger.info("stage %d: restored best checkpoint %s", k, best_path)
                _atomic_save_weights(model, best_path.parent / "final.weights.h5")
        return history

    # ------------------------------------------------------------------ save / load
    def set_runtime(self, runtime: str, *, num_threads: int | None = None) -> LandmarkDetector:
        """Choose the inference engine of :meth:`predict` (see the ``runtime`` argument).

        Args:
            runtime: ``"auto"``, ``"keras"`` or ``"tflite"``.
            num_threads: TensorFlow Lite interpreter threads (default: the CPU count).

        Returns:
            ``self``, for chaining: ``LandmarkDetector().set_runtime("tflite")``.

        Raises:
            ValueError: an unknown runtime.
        """
        self._engines = StageEngines(
            self.models, runtime, num_threads=num_threads, source=self._source
        )
        self.runtime = runtime
        self._lite_threads = num_threads
        return self

    def set_test_time_flip(
        self, enabled: bool = True, *, stages: Sequence[int] | None = None
    ) -> LandmarkDetector:
        """Average each prediction with the one on the mirrored input (test-time flip).

        Costs one more image per batch through those stages. On the shipped model, flipping
        the last stage lowers held-out NME from 0.0325 to 0.0316 for about 1 ms more per photo
        with ``runtime="tflite"`` (6 ms with TensorFlow); see docs/model-card.md.

        Args:
            enabled: turn the flip on or off.
            stages: stage indices (default: every stage).

        Returns:
            ``self``, for chaining.

        Raises:
            ValueError: bad stage indices, or ``enabled`` for a point scheme without a mirror
                permutation (``config.mirror`` is None).
        """
        ids = list(range(len(self.models))) if stages is None else list(stages)
        bad = [k for k in ids if not (isinstance(k, int) and 0 <= k < len(self.models))]
        if bad:
            raise ValueError(f"stages must be indices below {len(self.models)}. Received: {bad}")
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

    def export(self, path: str | os.PathLike, *, format: str = "tflite") -> Path:
        """Export the stages for deployment: TensorFlow Lite files or SavedModels, plus
        ``detector.json`` (the framing between stages).

        See :func:`facelandmarks.export.export_detector` for the layout and errors.
        """
        from facelandmarks.export import export_detector

        return export_detector(self, path, format=format)

    def save(self, path: str | os.PathLike) -> Path:
        """Save the detector (all stages and the config) to one ``.keras`` file, atomically.

        The file is a Keras archive (loadable by ``keras.saving.load_model`` after
        ``import facelandmarks``) holding a container model whose layers are the stages, plus
        ``facelandmarks.json`` (config and format version). Load with
        ``LandmarkDetector(weights=path)``.

        Args:
            path: destination; must end in ``.keras``.

        Returns:
            The written path.

        Raises:
            ValueError: the path does not end in ``.keras``.
            OSError: the directory is not writable (nothing is left half-written).
        """
        return saving.save_detector(path, self.config, self.models)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _monitored(callbacks: list, validation_data: Any) -> str:
    """The value checkpoints and early stopping watch: val_nme, else val_loss, else loss."""
    if any(isinstance(c, _NMEMonitor) for c in callbacks):
        return "val_nme"
    return "val_loss" if validation_data is not None else "loss"


MIXED_PRECISION_POLICIES = ("mixed_float16", "mixed_bfloat16")


def _resolve_mixed_precision(value: bool | str) -> str | None:
    """``fit``'s ``mixed_precision`` argument -> a Keras dtype policy name, or ``None``."""
    if value is False or value is None:
        return None
    if value is True:
        return "mixed_float16"
    if value == "auto":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            logger.info("mixed precision on: %d GPU(s) visible", len(gpus))
        return "mixed_float16" if gpus else None
    if value in MIXED_PRECISION_POLICIES:
        return value
    raise ValueError(
        "mixed_precision must be False, True, 'auto' or one of "
        f"{MIXED_PRECISION_POLICIES}. Received: {value!r}"
    )


@contextlib.contextmanager
def _dtype_policy(model: keras.Model, policy: str | None) -> Iterator[None]:
    """Train ``model`` under a mixed-precision policy, then put every layer back.

    Every layer computes in the policy's dtype except the output head (the model's last layer),
    which stays float32 so that the sigmoid outputs and the loss are float32. Weights stay
    float32 under both mixed policies, so nothing is converted.
    """
    if policy is None:
        yield
        return
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    head = model.layers[-1]
    saved = [(layer, layer.dtype_policy) for layer in layers]
    logger.info("training %s with the %s policy (head in float32)", model.name, policy)
    try:
        for layer in layers:
            if layer is not head:
                layer.dtype_policy = policy
        yield
    finally:
        for layer, old in saved:
            layer.dtype_policy = old


def _atomic_save_weights(model: keras.Model, path: Path) -> None:
    tmp = path.with_name(path.name.replace(".weights.h5", ".tmp.weights.h5"))
    model.save_weights(str(tmp))
    os.replace(tmp, path)


def _init_head_to_mean(model: keras.Model, data: LandmarkDataset, stage: StageConfig) -> None:
    """Start a fresh head at the mean training shape: bias = logit(mean normalised target).

    Without this the sigmoid head starts at the frame centre (0.5, 0.5) for every point and
    spends the first epochs (and saturating gradients) getting to the mean shape.
    """
    from facelandmarks.training import make_tf_dataset

    sample = data.subset(np.linspace(0, len(data) - 1, min(len(data), 128)).astype(int))
    targets = [t.numpy() for _, t in make_tf_dataset(sample, stage, batch_size=64, training=False)]
    mean = np.nanmean(np.concatenate(targets), axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.5).clip(1e-3, 1 - 1e-3)
    dense = model.get_layer("landmarks")
    kernel, _ = dense.get_weights()
    dense.set_weights([kernel, np.log(mean / (1 - mean)).astype(np.float32)])
    logger.info("head bias set to the mean shape of %d training images", len(sample))


class _NMEMonitor(keras.callbacks.Callback):
    """Adds ``val_nme`` (inference mode, pixels of the original images) to the epoch logs."""

    def __init__(
        self, detector: LandmarkDetector, data: LandmarkDataset, stage: int, batch_size: int
    ) -> None:
        super().__init__()
        self.detector = detector
        self.data = data
        self.stage = stage
        self.batch_size = batch_size

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        det = self.detector
        # Stages up to this one, scored as if this were the last, always on TensorFlow (the
        # weights change every epoch: a TensorFlow Lite copy would be stale).
        sub = object.__new__(LandmarkDetector)
        sub.config = dataclasses.replace(det.config, stages=det.config.stages[: self.stage + 1])
        sub.models = det.models[: self.stage + 1]
        sub.spec = None
        sub.set_runtime("keras")
        scores = sub.evaluate(self.data, batch_size=self.batch_size)
        if logs is not None:
            logs["val_nme"] = scores["nme"]
        logger.info("epoch %d: val_nme %.4f", epoch + 1, scores["nme"])
