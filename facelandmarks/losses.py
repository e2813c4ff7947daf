"""Masked landmark losses (Keras 3 ops, backend-agnostic).

Tensors here are in the model head's space: ``(B, 2P)`` interleaved normalised coordinates
``(x0, y0, x1, y1, ...)`` as in the MUCT CSV, or equivalently ``(B, P, 2)``. In ``y_true`` an
unavailable point is ``NaN`` (the library's convention) or exactly ``(0, 0)`` (the original
project's convention, kept so its data and checkpoints can be used unchanged). Unavailable points
contribute nothing to the loss or to its gradient.
"""

from __future__ import annotations

import keras
from keras import ops

from facelandmarks.config import LOSSES


def _as_points(t):
    t = ops.convert_to_tensor(t)
    return ops.reshape(t, (ops.shape(t)[0], -1, 2))


def _distances(y_true, y_pred):
    """Per-point Euclidean distances ``(B, P)`` and the float mask of available points ``(B, P)``;
    unavailable points have distance 0 and no gradient."""
    true = _as_points(y_true)
    pred = ops.cast(_as_points(y_pred), true.dtype)
    is_nan = ops.any(ops.isnan(true), axis=-1)
    is_zero = ops.all(ops.equal(true, 0.0), axis=-1)
    mask = ops.logical_not(ops.logical_or(is_nan, is_zero))
    maskf = ops.cast(mask, true.dtype)
    # Replace unavailable targets by the prediction itself (stopped), so the difference is 0
    # and no NaN can leak into the gradient through where().
    true = ops.where(mask[..., None], true, ops.stop_gradient(pred))
    # sqrt has an infinite derivative at 0: add a tiny epsilon inside for masked/perfect points.
    return ops.sqrt(ops.sum(ops.square(true - pred), axis=-1) + 1e-12), maskf


def _masked_mean_per_image(per_point, maskf):
    count = ops.sum(maskf, axis=-1)
    total = ops.sum(per_point * maskf, axis=-1)
    return ops.where(count > 0, total / ops.maximum(count, 1.0), ops.zeros_like(total))


@keras.saving.register_keras_serializable(package="facelandmarks")
def masked_euclidean(y_true, y_pred):
    """Mean Euclidean distance between true and predicted points, over available points.

    Per image: the mean, over available points, of ``||true_i - pred_i||``; then the mean over
    the batch. This is the loss the original 2019 project's README defines (its code reshaped
    the 152 outputs to ``[2, 76]`` and so paired wrong numbers; here points are taken as
    interleaved ``(x, y)`` pairs). An image with no available point contributes 0; a batch
    with none at all gives 0, not NaN.

    Args:
        y_true: ``(B, 2P)`` or ``(B, P, 2)`` normalised targets; ``NaN`` or ``(0, 0)``
            = unavailable.
        y_pred: same shape, model outputs.

    Returns:
        Scalar loss (float tensor).
    """
    dist, maskf = _distances(y_true, y_pred)
    return ops.mean(_masked_mean_per_image(dist, maskf))


@keras.saving.register_keras_serializable(package="facelandmarks")
class MaskedWingLoss(keras.losses.Loss):
    """Wing loss (Feng et al., CVPR 2018) on per-point Euclidean distances, masked like
    :func:`masked_euclidean`.

    ``wing(d) = w * ln(1 + d / eps)`` for ``d < w``, else ``d - C`` with
    ``C = w - w * ln(1 + w / eps)``. Distances are in normalised units, so ``w`` and ``eps``
    default to values scaled for ``[0, 1]`` coordinates (10 px and 2 px in a 256 px frame).
    """

    def __init__(
        self, width: float = 0.04, curvature: float = 0.008, name: str = "masked_wing", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.width = float(width)
        self.curvature = float(curvature)

    def call(self, y_true, y_pred):
        dist, maskf = _distances(y_true, y_pred)
        return _masked_mean_per_image(_wing(dist, self.width, self.curvature), maskf)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "curvature": self.curvature}


def _wing(dist, width: float, curvature: float):
    c = width - width * ops.log(1.0 + width / curvature)
    return ops.where(dist < width, width * ops.log(1.0 + dist / curvature), dist - c)


@keras.saving.register_keras_serializable(package="facelandmarks")
class MultiHeadLoss(keras.losses.Loss):
    """The masked loss of a model with several heads (point schemes) side by side.

    For each head: per image, the mean over that head's available points of the per-point
    loss (Euclidean distance, or wing of it); then the mean over the images that have at least
    one available point in that head (an image annotated in another scheme says nothing about
    this head and does not dilute it). The heads' losses are summed with ``weights``.

    Args:
        head_sizes: points per head, in output order (the model outputs ``2 * sum`` values).
        kind: ``"euclidean"`` or ``"wing"``.
        weights: one weight per head (default 1 each).
    """

    def __init__(
        self,
        head_sizes,
        kind: str = "euclidean",
        weights=None,
        name: str = "multi_head",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.head_sizes = [int(k) for k in head_sizes]
        if kind not in LOSSES:
            raise ValueError(f"kind must be 'euclidean' or 'wing'. Received: kind={kind!r}")
        self.kind = kind
        self.head_weights = (
            [1.0] * len(self.head_sizes) if weights is None else [float(w) for w in weights]
        )
        if len(self.head_weights) != len(self.head_sizes) or not self.head_sizes:
            raise ValueError(
                f"weights must have one entry per head ({len(self.head_sizes)}). "
                f"Received: {weights!r}"
            )

    def call(self, y_true, y_pred):
        dist, maskf = _distances(y_true, y_pred)
        if self.kind == "wing":
            dist = _wing(dist, 0.04, 0.008)
        total = ops.zeros((), dtype=dist.dtype)
        start = 0
        for k, w in zip(self.head_sizes, self.head_weights, strict=True):
            d, m = dist[:, start : start + k], maskf[:, start : start + k]
            count = ops.sum(m, axis=-1)
            per_image = ops.sum(d * m, axis=-1) / ops.maximum(count, 1.0)
            labelled = ops.sum(ops.cast(count > 0, dist.dtype))
            total = total + w * ops.sum(per_image) / ops.maximum(labelled, 1.0)
            start += k
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "head_sizes": self.head_sizes,
            "kind": self.kind,
            "weights": self.head_weights,
        }


def get_loss(name: str, head_sizes=None):
    """Loss by name: ``"euclidean"`` (the original's, default) or ``"wing"``; with several
    ``head_sizes``, the :class:`MultiHeadLoss` of that kind.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in LOSSES:
        raise ValueError(f"loss must be 'euclidean' or 'wing'. Received: loss={name!r}")
    if head_sizes is not None and len(head_sizes) > 1:
        return MultiHeadLoss(head_sizes, kind=name)
    if name == "euclidean":
        return masked_euclidean
    return MaskedWingLoss()
