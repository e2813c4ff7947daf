"""Load the original 2019 project's ``weights.h5`` (Keras 2.2.4 ``save_weights``) into Keras 3.

The 2019 project trained, with Keras 2.2.4 + keras-applications 1.0.6 + TensorFlow 1.10::

    Input(320, 240, 3) -> x / 255 -> ResNet50(include_top=False)  (nested model "resnet50")
      -> GlobalAveragePooling2D -> Dense(152, sigmoid)

and published ``model.save_weights("weights.h5")``. Keras 3's ``load_weights`` cannot read that
file into the equivalent Keras 3 model (the layer names and the weight order of ResNet50
changed), so this module maps every weight by name, checks every shape, and builds the model
with :func:`facelandmarks.model.build_model` (``preprocessing="scale_01"``,
``bn_epsilon=1e-3``). Reading and checking the file (the layout and the name mapping below) is
done by its private helper :mod:`facelandmarks._legacy_h5`.

**The file layout** (Keras 2 HDF5 ``save_weights``): root attributes ``layer_names`` (the
top-level layers), ``backend`` and ``keras_version``; one group per top-level layer with the
attribute ``weight_names`` (split into ``weight_names0``, ``weight_names1``, ... when it is
larger than an HDF5 object header allows); the dataset of each weight at
``<layer group>/<weight name>``. The nested ResNet50 is one top-level layer: its group lists all
inner weights (trainable first, then non-trainable), named ``<old layer>/<weight>:0``, e.g.
``res2a_branch2a/kernel:0`` or ``bn2a_branch2a/moving_mean:0``.

**Name mapping** (keras-applications 1.0.6 -> Keras 3)::

    conv1                         -> conv1_conv
    bn_conv1                      -> conv1_bn
    res{s}{b}_branch2a / 2b / 2c  -> conv{s}_block{n}_1_conv / _2_conv / _3_conv
    res{s}{b}_branch1             -> conv{s}_block{n}_0_conv       (shortcut, block "a" only)
    bn{s}{b}_branch...            -> conv{s}_block{n}_..._bn
    block letter a, b, c, ...     -> n = 1, 2, 3, ...   (stages 2..5 have 3, 4, 6, 3 blocks)

Conv weights are ``kernel``/``bias``, BatchNormalization weights ``gamma``/``beta``/
``moving_mean``/``moving_variance``. A ``_<digits>`` suffix that TensorFlow 1 appended to a
layer's variable scope when a name was taken (``res2a_branch2a_1/kernel:0``) is accepted; any
leading scopes of a weight name are ignored, only ``<layer>/<weight>`` counts. The head is the
only layer with weights whose name is not an old ResNet50 name (``dense_1`` in the original); it
must hold exactly ``kernel`` (2048, 152) and ``bias`` (152,).

**Topology check** against the source of keras-applications 1.0.6
(``keras_applications/resnet50.py``) versus Keras 3.15 (``keras/src/applications/resnet.py``),
everything that affects outputs:

* conv1: both ``ZeroPadding2D(3)`` then a 7x7 stride-2 ``valid`` Conv2D with bias. Same.
* first max-pool: both ``ZeroPadding2D(1)`` then ``MaxPooling2D(3, strides=2)`` ``valid``.
  Same.
* conv (projection) blocks: both put the stride on the first 1x1 conv (``branch2a`` /
  ``_1_conv``) and on the 1x1 shortcut conv; the 3x3 conv is ``same`` with stride 1. Same.
* biases: every Conv2D has a bias in both. Same.
* residual addition: ``add([x, shortcut])`` versus ``Add()([shortcut, x])``; floating-point
  addition of two operands is commutative, so same. keras-applications builds the shortcut
  after branch 2c; build order does not change the graph.
* ``include_top=False, pooling=None``: keras-applications 1.0.6 applies **no** pooling (it only
  warns that the output changed in Keras 2.2.0); Keras 3 neither. So no
  ``AveragePooling2D((7, 7))`` runs before the head's GlobalAveragePooling2D. Same.
* BatchNormalization epsilon: **different**, Keras 2's default ``1e-3`` versus Keras 3
  ResNet50's ``1.001e-5``. The model is built with ``bn_epsilon=1e-3``; with the wrong epsilon
  the landmarks move by ~4e-3 of the frame (~1.4 px at 320x240).
* preprocessing ``x / 255`` versus ``Rescaling(1/255)`` (``x * (1/255)``): equal up to one
  float32 rounding.

Other Keras versions built a *different* ResNet50 that the weights alone cannot reveal:
keras-applications 1.0.2 (Keras 2.2.0) had no ``pool1_pad`` before the first max-pool, and Keras
before 2.2.0 (and old ``tf.keras``) applied ``AveragePooling2D((7, 7))`` even with
``include_top=False``. keras-applications 1.0.8 (Keras 2.3) has the same topology as 1.0.6.
Keras 2.2.1 - 2.2.3 (keras-applications 1.0.4 / 1.0.5) were not checked. So only files whose
``keras_version`` is standalone Keras ``2.2.4`` or ``2.3.x`` (both require keras-applications
>= 1.0.6) with backend ``tensorflow`` are loaded; others raise :class:`LegacyWeightsError`.

``tests/test_legacy.py`` rebuilds the old topology from keras-applications 1.0.6 on Keras 3,
fills it with random weights (random BatchNormalization statistics included), writes the Keras
2.2.4 layout and checks that the loaded model reproduces it: max abs difference of the sigmoid
outputs ~1e-7 to 3e-7 (64x48 and 320x240 inputs), versus > 1e-4 with epsilon ``1.001e-5``.

Example:
    >>> from facelandmarks.legacy import is_legacy_h5, load_legacy_model
    >>> if is_legacy_h5("weights.h5"):
    ...     model = load_legacy_model("weights.h5")  # (B, 320, 240, 3) -> (B, 152) in [0, 1]
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import h5py
import numpy as np

from facelandmarks._legacy_h5 import FEATURES as FEATURES
from facelandmarks._legacy_h5 import (
    HEAD_UNITS,
    LegacyWeightsError,
    _expected_backbone_shapes,
    _keras2_version,
    _read_legacy_weights,
)

if TYPE_CHECKING:  # pragma: no cover
    import keras

logger = logging.getLogger(__name__)

__all__ = ["LegacyWeightsError", "check_legacy_h5", "is_legacy_h5", "load_legacy_model"]

BACKBONE_NAME = "resnet50"
"""Name of the nested backbone model in the Keras 3 model."""


def is_legacy_h5(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Keras 2 ``save_weights`` HDF5 file, judged by its content.

    True when the file is HDF5 and its root has the attribute ``layer_names`` and a
    ``keras_version`` starting with ``"2."``; whether it holds the 2019 model is left to
    :func:`load_legacy_model`. The file name is never looked at. Keras 3 ``.keras`` (zip) and
    ``.weights.h5`` files, Keras 2 *full-model* files (weights under ``model_weights``), non-HDF5
    files and missing paths give False; this function does not raise for an unreadable file.

    Example:
        >>> is_legacy_h5("weights.h5")
        True
    """
    try:
        if not os.path.isfile(path) or not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r") as f:
            return _keras2_version(f) is not None
    except (OSError, ValueError, TypeError, UnicodeDecodeError) as err:
        # Not readable as a 2019 file; the caller reports what the file could be instead.
        logger.debug("%s is not a readable Keras 2 HDF5 weights file: %s", path, err)
        return False


def _assign(
    model: keras.Model,
    backbone: dict[tuple[str, str], np.ndarray],
    head: dict[str, np.ndarray],
) -> int:
    """Assign every weight of ``model`` exactly once; raise if the model does not fit."""
    expected = _expected_backbone_shapes()
    base = model.get_layer(BACKBONE_NAME)
    dense = model.get_layer("landmarks")
    plan: list[tuple[keras.Variable, np.ndarray]] = []
    for layer in base.layers:
        for var in layer.weights:
            key = (layer.name, var.name)
            if key not in expected or tuple(var.shape) != expected[key]:
                raise LegacyWeightsError(
                    f"The Keras 3 model's weight {layer.name}/{var.name} {tuple(var.shape)} is "
                    "not part of the expected ResNet50 layout; facelandmarks.model.build_model "
                    "no longer builds the ResNet50 this loader maps to."
                )
            plan.append((var, backbone[key]))
    for name in ("kernel", "bias"):
        var = getattr(dense, name)
        if tuple(var.shape) != head[name].shape:
            raise LegacyWeightsError(
                f"The model's head {name} has shape {tuple(var.shape)}; the file's has "
                f"{head[name].shape}."
            )
        plan.append((var, head[name]))

    targets = {id(v) for v, _ in plan}
    all_vars = {id(v) for v in model.weights}
    if len(targets) != len(plan) or targets != all_vars or len(plan) != len(expected) + 2:
        raise LegacyWeightsError(
            f"Weight assignment plan covers {len(targets)} distinct of the model's "
            f"{len(all_vars)} weights ({len(plan)} assignments); expected each of "
            f"{len(expected) + 2} weights ({len(expected)} ResNet50 + 2 head) once."
        )
    for var, value in plan:
        var.assign(value.astype(var.dtype, copy=False))
    return len(plan)


def check_legacy_h5(path: str | os.PathLike) -> None:
    """Check that ``path`` is a readable 2019 ``weights.h5`` without reading weight values.

    Opens the file (HDF5 refuses a truncated one) and checks the Keras version and backend,
    every layer and weight name and every shape against the 2019 model, as
    :func:`load_legacy_model` does before it builds anything. Fast (milliseconds): no array is
    read and no model is built. Damage inside the weight values themselves is not detected.

    Raises:
        LegacyWeightsError: what is wrong with the file (unreadable, not Keras 2 weights, or
            not the 2019 model's layers and shapes).
    """
    _read_legacy_weights(path, values=False)


def load_legacy_model(
    path: str | os.PathLike, *, input_size: tuple[int, int] = (320, 240)
) -> keras.Model:
    """Build the 2019 model and load the original project's Keras 2 ``weights.h5`` into it.

    The file is validated completely before the model is built, and no weight is assigned unless
    every one of them fits: a failure never leaves a partly loaded model.

    Args:
        path: a Keras 2.2.4 / 2.3 ``save_weights`` HDF5 file of the 2019 model (see the module
            docstring for the layout).
        input_size: ``(height, width)`` of the model input in pixels; default ``(320, 240)``, the
            size the original was trained at. The weights fit any size >= 32.

    Returns:
        A ``keras.Model`` (:func:`facelandmarks.model.build_model` with ``backbone="resnet50"``,
        ``preprocessing="scale_01"``, ``bn_epsilon=1e-3``) mapping float32 ``(B, H, W, 3)`` RGB
        pixels in ``[0, 255]`` to ``(B, 152)`` normalised coordinates
        ``(x0, y0, x1, y1, ...)`` in ``[0, 1]`` of the model input frame.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        LegacyWeightsError: the file is not a Keras 2 weights file (see :func:`is_legacy_h5`),
            was written by a Keras version whose ResNet50 differs, or its weights do not match
            the model: an unknown layer or weight, a missing or duplicated weight, a wrong shape,
            or a head other than one Dense(2048 -> 152). The message says what was found and
            what was expected.
        ValueError: a bad ``input_size``.

    Example:
        >>> model = load_legacy_model("weights.h5")
        >>> model.predict(images).shape  # images: float32 (B, 320, 240, 3) in [0, 255]
        (B, 152)
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_legacy_model: no such file. Received: path={path!r}")
    from facelandmarks.model import build_model

    backbone, head, head_layer = _read_legacy_weights(path)
    model = build_model(
        backbone="resnet50",
        input_size=input_size,
        num_points=HEAD_UNITS // 2,
        preprocessing="scale_01",
        bn_epsilon=1e-3,
    )
    count = _assign(model, backbone, head)
    logger.info(
        "Loaded %d legacy weights from %s (head layer %r) into %s",
        count,
        os.fspath(path),
        head_layer,
        model.name,
    )
    return model
