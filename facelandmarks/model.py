"""Model construction: a backbone from ``keras.applications`` and the landmark regression head.

Architecture (the original 2019 project's, for ``backbone="resnet50"``)::

    uint8/float pixels (B, H, W, 3) in [0, 255]
      -> preprocessing layer(s)            (inside the model: a saved model can't be fed wrongly)
      -> backbone(include_top=False)       (a nested keras.Model named after the backbone)
      -> GlobalAveragePooling2D
      -> Dense(2P, sigmoid)                (B, 2P) interleaved (x0, y0, x1, y1, ...) in [0, 1]

The head's outputs are *normalised* coordinates of the model input frame (see
:mod:`facelandmarks.scaling`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import keras
import numpy as np

from facelandmarks.config import (
    COLORS,
    HEADS,
    NORMALIZATIONS,
    PREPROCESSING,
    DetectorConfig,
    StageConfig,
    check_input_size,
)
from facelandmarks.points import NUM_POINTS


@dataclass(frozen=True)
class BackboneInfo:
    """How to build one backbone and what input preprocessing it expects."""

    constructor: Callable[..., keras.Model]
    default_preprocessing: str
    extra_kwargs: dict


_MOBILENET = {"include_preprocessing": True, "minimalistic": False}

BACKBONES: dict[str, BackboneInfo] = {
    # The original used x/255 with ResNet50 (not Keras' caffe-style preprocess_input).
    "resnet50": BackboneInfo(keras.applications.ResNet50, "scale_01", {}),
    "mobilenetv3small": BackboneInfo(keras.applications.MobileNetV3Small, "backbone", _MOBILENET),
    "mobilenetv3large": BackboneInfo(keras.applications.MobileNetV3Large, "backbone", _MOBILENET),
    "efficientnetb0": BackboneInfo(keras.applications.EfficientNetB0, "backbone", {}),
}
"""Backbones by name. ``default_preprocessing``: ``"scale_01"`` = a ``Rescaling(1/255)`` layer;
``"backbone"`` = the backbone's own preprocessing, built into it (MobileNetV3 and EfficientNet
include theirs) or added as a layer (ResNet50: Keras' caffe-style ``preprocess_input``)."""


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}. Received: {name}={value!r}")


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R BT.601 luma weights of R, G, B."""


@keras.saving.register_keras_serializable(package="facelandmarks")
class CaffePreprocess(keras.layers.Layer):
    """ResNet50's ImageNet preprocessing: RGB -> BGR, subtract the ImageNet channel means."""

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        mean = keras.ops.convert_to_tensor([103.939, 116.779, 123.68], dtype="float32")
        return keras.ops.flip(x, axis=-1) - mean


@keras.saving.register_keras_serializable(package="facelandmarks")
class Grayscale(keras.layers.Layer):
    """RGB -> luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B), copied to three channels so the
    backbone's input shape does not change. Works on any value range (it is linear)."""

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        luma = keras.ops.sum(x * keras.ops.convert_to_tensor(_LUMA), axis=-1, keepdims=True)
        return keras.ops.repeat(luma, 3, axis=-1)


@keras.saving.register_keras_serializable(package="facelandmarks")
class GroupNorm(keras.layers.GroupNormalization):
    """GroupNormalization that accepts the ``mask``/``training`` call arguments of the
    BatchNormalization it replaces in a cloned functional graph."""

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs)


@keras.saving.register_keras_serializable(package="facelandmarks")
class LiteGroupNorm(keras.layers.Layer):
    """The inference maths of :class:`GroupNorm` (channels last) in ops that TensorFlow Lite's
    XNNPACK delegate runs without a reshape.

    Keras' GroupNormalization reshapes ``(B, H, W, C)`` to ``(B, H, W, G, C/G)`` with the
    batch size read at run time, which the converter turns into ``SHAPE``/``RESHAPE`` ops and
    the delegate into separate partitions (37 for the shipped model). Here a group's mean is
    each channel's spatial mean (``MEAN`` over ``H, W``) averaged over the group's channels by a
    fixed 1x1 convolution (``C -> G``) and handed back to them by another (``G -> C``). Two
    passes like ``keras.ops.moments`` (the group mean, then the mean square of the centred
    values), so no digits are lost when the mean is large against the spread. Same weights
    (``gamma``, ``beta``), same outputs within float32 rounding (tested); used only for
    conversion (:func:`lite_ready`), never trained.
    """

    def __init__(self, groups: int, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = int(groups)
        self.epsilon = float(epsilon)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])
        if channels % self.groups:
            raise ValueError(
                f"LiteGroupNorm needs channels divisible by groups. Received: "
                f"channels={channels}, groups={self.groups}"
            )
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")
        size = channels // self.groups
        member = (np.arange(channels)[:, None] // size == np.arange(self.groups)).astype(np.float32)
        self._pool = (member / size)[None, None]  # (1, 1, C, G): channel means -> group means
        self._spread = member.T[None, None]  # (1, 1, G, C): group means -> their channels

    def call(self, x: Any, training: Any = None, mask: Any = None) -> Any:
        ops = keras.ops
        pool = ops.convert_to_tensor(self._pool)
        spread = ops.convert_to_tensor(self._spread)

        def group_mean(values: Any) -> Any:  # (B, H, W, C) -> (B, 1, 1, C)
            return ops.conv(ops.conv(ops.mean(values, axis=(1, 2), keepdims=True), pool), spread)

        centred = x - group_mean(x)
        variance = group_mean(centred * centred)
        return centred * (self.gamma * ops.rsqrt(variance + self.epsilon)) + self.beta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="facelandmarks")
class LiteGrayscale(keras.layers.Layer):
    """:class:`Grayscale` as one fixed 1x1 convolution (3 -> 3 channels, each the luma), which
    TensorFlow Lite runs inside the delegate instead of a ``TILE`` on the run-time shape."""

    def call(self, x: Any) -> Any:
        kernel = np.repeat(_LUMA[:, None], 3, axis=1)[None, None]  # (1, 1, 3, 3)
        return keras.ops.conv(keras.ops.cast(x, "float32"), keras.ops.convert_to_tensor(kernel))


def _swappable(layer: keras.layers.Layer) -> bool:
    return (
        isinstance(layer, GroupNorm)
        and layer.axis in (-1, 3)
        and bool(layer.scale)
        and bool(layer.center)
    )


def lite_ready(model: keras.Model) -> keras.Model:
    """``model`` with its layers rewritten for TensorFlow Lite conversion: every
    :class:`GroupNorm` (channels last) becomes :class:`LiteGroupNorm` and :class:`Grayscale`
    becomes :class:`LiteGrayscale`, in nested models too, with the same weights. The outputs
    agree within float32 rounding; on this project's CPU the converted landmark model runs
    faster (benchmarks/README.md). Returns ``model`` itself when there is nothing to rewrite.
    """

    def swaps(m: keras.Model) -> bool:
        return any(
            isinstance(layer, Grayscale)
            or _swappable(layer)
            or (isinstance(layer, keras.Model) and swaps(layer))
            for layer in m.layers
        )

    if not swaps(model):
        return model

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        if _swappable(layer):
            return LiteGroupNorm(layer.groups, layer.epsilon, name=layer.name)
        if isinstance(layer, Grayscale):
            return LiteGrayscale(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    lite = keras.models.clone_model(model, clone_function=clone)
    lite.set_weights(model.get_weights())
    return lite


def _to_group_norm(model: keras.Model, groups: int) -> keras.Model:
    """Clone ``model`` with every BatchNormalization replaced by GroupNormalization.

    Trained from scratch on small batches, BatchNormalization's moving statistics can lag far
    behind the batch statistics, so inference-mode predictions collapse to the mean shape while
    the training loss falls (measured on MUCT; see docs). GroupNormalization has no moving
    statistics and behaves the same in training and inference.
    """

    def clone(layer):
        if not isinstance(layer, keras.layers.BatchNormalization):
            return layer.__class__.from_config(layer.get_config())
        g = groups  # halved until it divides the channels
        while layer.built and layer.gamma.shape[-1] % g:
            g //= 2
        return GroupNorm(groups=g, epsilon=layer.epsilon, name=layer.name.replace("bn", "gn"))

    return keras.models.clone_model(model, clone_function=clone)


def build_model(
    *,
    backbone: str = "resnet50",
    input_size: tuple[int, int] = (320, 240),
    num_points: int = NUM_POINTS,
    backbone_weights: str | None = None,
    preprocessing: str | None = None,
    normalization: str = "batch",
    bn_epsilon: float | None = None,
    mean_shape: np.ndarray | None = None,
    name: str | None = None,
    color: str = "rgb",
    head: str = "gap",
) -> keras.Model:
    """Build the landmark regression model.

    Args:
        backbone: a key of :data:`BACKBONES`.
        input_size: ``(height, width)`` of the model input in pixels. Default ``(320, 240)``:
            MUCT's 640x480 portraits halved, as the original.
        num_points: landmarks per face ``P``; the head has ``2P`` sigmoid units.
        backbone_weights: ``None`` (random init, no download) or ``"imagenet"`` (Keras downloads
            ImageNet weights; needs network on first use) or a path to backbone weights.
        preprocessing: ``"scale_01"`` (``x / 255``, the original's) or ``"backbone"``; default
            the backbone's entry in :data:`BACKBONES`.
        normalization: ``"batch"`` (the backbone as published) or ``"group"`` (every
            BatchNormalization replaced by ``GroupNormalization(8)``, for training from scratch).
        bn_epsilon: override BatchNormalization epsilon (the 2019 weights need ``1e-3``).
        mean_shape: optional ``(P, 2)`` normalised mean landmarks; the output bias starts at its
            logit so training starts at the mean shape instead of the centre of the frame.
        name: model name (default ``"facelandmarks_<backbone>"``).
        color: ``"rgb"`` or ``"gray"`` (a :class:`Grayscale` layer first: the model sees luma
            only).
        head: ``"gap"`` (global average pooling, then the dense layer: the original's) or
            ``"spatial"`` (the pooled features side by side with a 1x1 convolution of the last
            feature map to 64 channels, flattened, so the dense layer also sees *where* each
            feature is; global pooling throws that away).

    Returns:
        A ``keras.Model`` mapping float32 ``(B, H, W, 3)`` RGB pixels in ``[0, 255]`` to
        ``(B, 2P)`` normalised coordinates ``(x0, y0, x1, y1, ...)`` in ``[0, 1]``.

    Raises:
        ValueError: unknown backbone, preprocessing or normalization, or a bad size.
    """
    _check_choice("backbone", backbone, BACKBONES)
    _check_choice("normalization", normalization, NORMALIZATIONS)
    _check_choice("color", color, COLORS)
    _check_choice("head", head, HEADS)
    info = BACKBONES[backbone]
    preprocessing = preprocessing or info.default_preprocessing
    _check_choice("preprocessing", preprocessing, PREPROCESSING)
    height, width = check_input_size(input_size)

    kwargs = dict(info.extra_kwargs)
    if preprocessing == "scale_01" and "include_preprocessing" in kwargs:
        kwargs["include_preprocessing"] = False
    base = info.constructor(
        include_top=False,
        weights=backbone_weights,
        input_shape=(height, width, 3),
        **kwargs,
    )
    if bn_epsilon is not None:
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.epsilon = float(bn_epsilon)
    if normalization == "group":
        base = _to_group_norm(base, groups=8)

    inputs = keras.Input((height, width, 3), name="image")
    x = inputs
    if color == "gray":
        x = Grayscale(name="grayscale")(x)
    if preprocessing == "scale_01":
        x = keras.layers.Rescaling(1.0 / 255.0, name="scale_01")(x)
    elif backbone == "resnet50":
        x = CaffePreprocess(name="caffe_preprocess")(x)
    features = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    if head == "spatial":
        cells = keras.layers.Conv2D(64, 1, activation="relu", name="spatial_reduce")(features)
        cells = keras.layers.Flatten(name="spatial_flatten")(cells)
        x = keras.layers.Concatenate(name="spatial_concat")([x, cells])
    bias = "zeros"
    if mean_shape is not None:
        ms = np.clip(np.asarray(mean_shape, dtype=np.float64).reshape(-1), 1e-3, 1 - 1e-3)
        if ms.shape != (2 * num_points,):
            raise ValueError(
                f"mean_shape must be ({num_points}, 2). Received: {np.shape(mean_shape)}"
            )
        bias = keras.initializers.Constant(np.log(ms / (1 - ms)).astype(np.float32))
    outputs = keras.layers.Dense(
        2 * num_points, activation="sigmoid", bias_initializer=bias, name="landmarks"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"facelandmarks_{backbone}")


def build_stage(
    stage: Any, config: Any, name: str, backbone_weights: str | None = None
) -> keras.Model:
    """The Keras model of one stage of a detector (``StageConfig`` in ``DetectorConfig``): all
    the detector's heads side by side, ``2 * config.total_points`` outputs."""
    return build_model(
        backbone=stage.backbone,
        input_size=stage.input_size,
        num_points=config.total_points,
        backbone_weights=backbone_weights,
        preprocessing=stage.preprocessing,
        normalization=stage.normalization,
        bn_epsilon=stage.bn_epsilon,
        name=name,
        color=stage.color,
        head=stage.head,
    )


def single_stage_config(backbone: str, input_size: Any, normalization: str) -> DetectorConfig:
    """The config of a fresh one-stage detector (``LandmarkDetector(weights=None, ...)``):
    ``backbone`` with its default preprocessing, ``input_size`` ``(height, width)``."""
    stage = StageConfig(backbone=backbone, input_size=input_size, normalization=normalization)
    preprocessing = BACKBONES[backbone].default_preprocessing
    return DetectorConfig(stages=(replace(stage, preprocessing=preprocessing),))


def build_stages(config: Any, backbone_weights: str | None = None) -> list[keras.Model]:
    """Fresh Keras models of every stage of a ``DetectorConfig``, named ``stage0``, ``stage1``,
    ... (:func:`build_stage` each)."""
    return [
        build_stage(s, config, f"stage{i}", backbone_weights) for i, s in enumerate(config.stages)
    ]
