"""``LandmarkDetector``: the facade that loads or builds a detector and runs it.

It composes replaceable parts, each in its own module: :mod:`facelandmarks.saving` (files <->
config and stage models), :mod:`facelandmarks.weights` (presets and the cache),
:mod:`facelandmarks.engines` (what runs each stage: TensorFlow Lite or Keras),
:mod:`facelandmarks.face_detection` (where faces are), :mod:`facelandmarks.inference` (frames,
the cascade of stages), :mod:`facelandmarks.streaming` (images in, batches, results out),
:mod:`facelandmarks.tracking` (video),
:mod:`facelandmarks.evaluation` (``evaluate``) and :mod:`facelandmarks.training` (``fit``).
Holding them, with their settings and files (runtime, test-time flip, ``save``, ``export``), is
its base class :class:`~facelandmarks.detector_parts.DetectorParts`; this module builds them
and adds what a detector does. Keras and TensorFlow are imported only when something needs
them: predicting with the shipped models runs on TensorFlow Lite without them.

Coordinate contract (see docs/coordinates.md): every landmark array that goes in or out is
float32 ``(N, K, 2)`` (``K`` = the point scheme's count: 76 MUCT, 68 iBUG), last axis ``(x, y)``
in pixels of the image *as the caller passed it* (after EXIF orientation for files and PIL
images), origin at the top-left, ``y`` down, pixel centres at integer coordinates. ``NaN`` marks
an unavailable point, or a face that was not found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from facelandmarks import finding, streaming
from facelandmarks.config import DetectorConfig
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.detector_parts import DEFAULT_WEIGHTS, DetectorParts, _resolve_verbose
from facelandmarks.engines import RUNTIMES, check_runtime
from facelandmarks.finding import FRAMINGS as FRAMINGS
from facelandmarks.finding import MIN_SIDE as MIN_SIDE
from facelandmarks.images import iter_items
from facelandmarks.inference import Face, ImageFaces

__all__ = ["RUNTIMES", "Face", "ImageFaces", "LandmarkDetector"]


class LandmarkDetector(DetectorParts):
    """Face landmark detector: find faces, frame each like the training data, predict points.

    Args:
        weights: ``"default"`` (the model shipped inside the package; no network), a preset
            name (see :func:`facelandmarks.list_weights`; downloaded and cached on first use),
            a path to a file (one saved by :meth:`save`, or the original 2019 project's
            ``weights.h5``, recognised by content), or ``None`` for a fresh, untrained model
            built from the other arguments (no download at all).
        scheme: the point scheme to predict, among the model's heads (:attr:`schemes`):
            ``"muct76"`` (76 MUCT points) or ``"ibug68"`` (68 iBUG / 300-W / dlib points);
            default: the model's first head. With ``weights="default"``, ``"ibug68"`` loads
            the preset best at it (:data:`facelandmarks.weights.SCHEME_DEFAULTS`).
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
        cache_dir: where downloads are cached (see :func:`facelandmarks.weights.cache_dir`).
        strategy: an optional ``tf.distribute.Strategy``; the model is built and trained under
            its scope, and ``fit``'s ``batch_size`` is the global batch.
        runtime: inference engine. ``"tflite"``: each stage on TensorFlow Lite (LiteRT when
            installed; converted and cached on first use when no file ships with the preset).
            ``"keras"``: TensorFlow. ``"auto"`` (the default): TensorFlow Lite for each stage
            whose conversion costs nothing (shipped or cached), TensorFlow otherwise.
            :attr:`engines` says which. See docs/export.md.
        verbose: download progress: ``"auto"``/1 bar, 0 silent.

    Raises:
        ValueError: unknown preset / scheme / backbone / bad argument, a path that does not
            exist (the message lists the presets) or a file that is not a detector.
        facelandmarks.weights.WeightsDownloadError: a preset could not be downloaded.

    Example:
        >>> det = LandmarkDetector()                             # doctest: +SKIP
        >>> det.predict("examples/astronaut.png").shape          # doctest: +SKIP
        (1, 76, 2)
        >>> LandmarkDetector(scheme="ibug68").num_points         # doctest: +SKIP
        68
    """

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
        check_runtime(runtime)  # before loading: a typo should not cost a download
        super().__init__(strategy)
        if weights is None:
            self._build(config, backbone_weights, (backbone, input_size, normalization))
        else:
            self._load(weights, cache_dir, verbose, scheme)
        self._scheme = self._check_scheme(scheme)
        self._face_detector = face_detector
        self.set_runtime(runtime)

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
        prefetch: bool | None = None,
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
            batch_size: faces per model call at most (with prefetch: 8, 16, ... at first, and 8
                for a one-thread TensorFlow Lite model, which runs face by face anyway).
            on_error: ``"raise"``: an unreadable image raises (naming it); ``"skip"``: it gives
                an :class:`ImageFaces` with ``error`` set (and a logged warning), and the rest
                go on.
            keep_images: put each decoded image in :attr:`ImageFaces.image` (to draw on).
            verbose: 0 silent, 1 a progress bar.
            prefetch: decode the next images, find their faces and cut their crops on a
                background thread while the landmark model runs (the face detector then runs
                there); ``None`` (default): when there are several images and at least 2 usable
                CPUs (1.2-1.7x the faces per second on a 2-core machine,
                ``benchmarks/throughput.py``).

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
        return streaming.iter_faces(
            self.config,
            self._engines,
            images,
            find,
            scheme=self._scheme,
            batch_size=batch_size,
            on_error=on_error,
            keep_images=keep_images,
            verbose=_resolve_verbose(verbose),
            prefetch=prefetch,
        )

    def predict(
        self,
        images: Any,
        *,
        framing: str = "detect",
        batch_size: int = 32,
        on_error: str = "raise",
        verbose: int | str = 0,
        prefetch: bool | None = None,
    ) -> np.ndarray:
        """Landmarks of the main face of each image (the most prominent: largest visible area,
        weighted towards the centre; see :func:`facelandmarks.face_detection.prominence`).

        Args:
            images, framing, batch_size, on_error, verbose, prefetch: as in :meth:`iter_faces`.

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
        results = self.iter_faces(
            images,
            framing=framing,
            max_faces=1,
            batch_size=batch_size,
            on_error=on_error,
            verbose=verbose,
            prefetch=prefetch,
        )
        return streaming.main_landmarks(results, self.num_points)

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
        prefetch: bool | None = None,
    ) -> list[list[Face]]:
        """Every face in each image, with its landmarks (group photos, several faces).

        Args:
            images, boxes, face_detector, max_faces, batch_size, on_error, verbose, prefetch:
                as in :meth:`iter_faces`.

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
                prefetch=prefetch,
            )
        )
        if boxes is not None and len(results) != len(boxes):
            raise ValueError(
                f"boxes must have one entry per image. Received: {len(boxes)} entries for "
                f"{len(results)} images"
            )
        return [r.faces for r in results]

    def track(self, frames: Any, **options: Any) -> Iterator[ImageFaces]:
        """Landmarks through a video: see :class:`facelandmarks.tracking.FaceTracker` for
        ``options`` (``detect_every``, ``smoothing``, ``fps``, ``max_faces``).

        Args:
            frames: the frames (a video reader, ...), as :meth:`iter_faces` takes images.

        Returns:
            An iterator of :class:`ImageFaces`, one per frame.
        """
        from facelandmarks.tracking import FaceTracker

        tracker = FaceTracker(self, **options)
        return (tracker.update(frame) for _, _, frame in iter_items(frames))

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
            framing, batch_size, verbose: as in :meth:`iter_faces`.
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
        from facelandmarks.evaluation import evaluate_detector

        return evaluate_detector(
            self,
            data,
            framing=framing,
            batch_size=batch_size,
            verbose=verbose,
            return_predictions=return_predictions,
        )

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
            stages: indices of the stages to train (default: all with epochs, in order).
            callbacks: extra Keras callbacks.
            checkpoint_dir: checkpoints that survive a kill: an interrupted ``fit`` called
                again with the same folder resumes after the last finished epoch, with the
                same best epoch an uninterrupted run would keep. A run killed before its first
                epoch ended starts over from the detector's initial weights, which are random:
                call ``keras.utils.set_random_seed`` before building the detector to make
                them the same in every attempt (``facelandmarks train`` does).
            verbose: Keras ``fit`` verbosity.
            **options: the fields of :class:`facelandmarks.training.config.FitOptions`:
                ``epochs`` (8, or one per stage: 0 leaves a stage as it is), ``batch_size`` (16),
                ``learning_rate`` (1e-3), ``lr_schedule`` (None or "cosine"), ``augment`` (an
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
        return self._trained(config, stages, histories)
