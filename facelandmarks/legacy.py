"""Load the original 2019 project's ``weights.h5`` (Keras 2.2.4 ``save_weights``) into Keras 3.

The 2019 project trained, with Keras 2.2.4 + keras-applications 1.0.6 + TensorFlow 1.10::

    Input(320, 240, 3) -> x / 255 -> ResNet50(include_top=False)  (nested model "resnet50")
      -> GlobalAveragePooling2D -> Dense(152, sigmoid)

and published ``model.save_weights("weights.h5")``. Keras 3's ``load_weights`` cannot read that
file into the equivalent Keras 3 model (the layer names and the weight order of ResNet50
changed), so this module maps every weight by name, checks every shape, and builds the model
with :func:`facelandmarks.model.build_model` (``preprocessing="scale_01"``,
``bn_epsilon=1e-3``).

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
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

logger = logging.getLogger(__name__)

__all__ = ["LegacyWeightsError", "check_legacy_h5", "is_legacy_h5", "load_legacy_model"]

HEAD_UNITS = 152
"""Units of the original head: 76 points x (x, y)."""

FEATURES = 2048
"""Channels of ResNet50's last feature map (the head's input)."""

BACKBONE_NAME = "resnet50"
"""Name of the nested backbone model in the Keras 3 model."""

_STAGES: tuple[tuple[int, int, int], ...] = ((2, 64, 3), (3, 128, 4), (4, 256, 6), (5, 512, 3))
"""ResNet50 stages: (stage number, bottleneck filters, blocks)."""

_SUPPORTED_VERSIONS = re.compile(r"^2\.(?:2\.4|3\.\d+)$")
_BRANCH_TO_INDEX = {"2a": 1, "2b": 2, "2c": 3, "1": 0}
_CONV_WEIGHTS = ("kernel", "bias")
_BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")

# Old layer names; the optional "_<digits>" is TF1's suffix for a taken variable scope.
_OLD_BLOCK = re.compile(r"^(res|bn)([2-5])([a-z])_branch(2a|2b|2c|1)(?:_\d+)?$")
_OLD_CONV1 = re.compile(r"^conv1(?:_\d+)?$")
_OLD_BN1 = re.compile(r"^bn_conv1(?:_\d+)?$")
_WEIGHT = re.compile(r"^(\w+?)(?::\d+)?$")
_NEW_STYLE = re.compile(r"^conv[1-5]_(?:conv|bn|block\d+_\d_(?:conv|bn))$")


class LegacyWeightsError(ValueError):
    """A file is not the original project's Keras 2 weights, or does not fit the model.

    The message says what was found in the file and what was expected.
    """


@dataclass(frozen=True)
class _Source:
    """Where one weight was found in the file (for messages)."""

    group: str
    name: str


@dataclass(frozen=True)
class _Meta:
    """Shape and dtype of a weight whose values were not read."""

    shape: tuple[int, ...]
    dtype: np.dtype


def _expected_backbone_shapes() -> dict[tuple[str, str], tuple[int, ...]]:
    """Keras 3 ResNet50 weights ``{(layer name, weight name): shape}``, input-size independent.

    Written out independently of Keras; :func:`_assign` cross-checks it against the built model.
    """
    shapes: dict[tuple[str, str], tuple[int, ...]] = {}

    def conv(layer: str, k: int, cin: int, cout: int) -> None:
        shapes[(f"{layer}_conv", "kernel")] = (k, k, cin, cout)
        shapes[(f"{layer}_conv", "bias")] = (cout,)
        for w in _BN_WEIGHTS:
            shapes[(f"{layer}_bn", w)] = (cout,)

    conv("conv1", 7, 3, 64)
    cin = 64
    for stage, filters, blocks in _STAGES:
        for n in range(1, blocks + 1):
            prefix = f"conv{stage}_block{n}"
            if n == 1:
                conv(f"{prefix}_0", 1, cin, 4 * filters)
            conv(f"{prefix}_1", 1, cin, filters)
            conv(f"{prefix}_2", 3, filters, filters)
            conv(f"{prefix}_3", 1, filters, 4 * filters)
            cin = 4 * filters
    return shapes


_BLOCKS_PER_STAGE = {stage: blocks for stage, _, blocks in _STAGES}


def _map_old_layer(old: str) -> tuple[str, tuple[str, ...]] | None:
    """Map an old keras-applications layer name to ``(Keras 3 name, allowed weight names)``.

    Returns ``None`` for a name that is not an old ResNet50 layer name at all. A name of the
    old form whose block does not exist in ResNet50 (``res4g_...``, ``res2b_branch1``) maps to a
    Keras 3 name that the caller will not find among the expected weights.
    """
    if _OLD_CONV1.match(old):
        return "conv1_conv", _CONV_WEIGHTS
    if _OLD_BN1.match(old):
        return "conv1_bn", _BN_WEIGHTS
    m = _OLD_BLOCK.match(old)
    if m is None:
        return None
    kind, stage, letter, branch = m.groups()
    n = ord(letter) - ord("a") + 1
    suffix = "conv" if kind == "res" else "bn"
    new = f"conv{stage}_block{n}_{_BRANCH_TO_INDEX[branch]}_{suffix}"
    return new, (_CONV_WEIGHTS if kind == "res" else _BN_WEIGHTS)


def _old_weight_name(new: str) -> str:
    """Inverse of :func:`_map_old_layer`, for messages: ``conv1_bn/gamma`` -> ``bn_conv1/gamma``."""
    layer, weight = new.split("/")
    if layer in ("conv1_conv", "conv1_bn"):
        return ("conv1" if layer.endswith("conv") else "bn_conv1") + f"/{weight}"
    m = re.match(r"^conv(\d)_block(\d+)_(\d)_(conv|bn)$", layer)
    if m is None:
        return new
    stage, n, k, kind = m.groups()
    branch = {v: b for b, v in _BRANCH_TO_INDEX.items()}[int(k)]
    prefix = "res" if kind == "conv" else "bn"
    return f"{prefix}{stage}{chr(ord('a') + int(n) - 1)}_branch{branch}/{weight}"


def _decode(value) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf8")
    return str(value)


def _read_name_list(group, name: str) -> list[str] | None:
    """Read a Keras 2 list attribute, possibly chunked as ``name0``, ``name1``, ...

    Returns:
        The list of names, or ``None`` if the attribute is absent.
    """
    if name in group.attrs:
        return [_decode(v) for v in np.atleast_1d(group.attrs[name])]
    if f"{name}0" not in group.attrs:
        return None
    names: list[str] = []
    i = 0
    while f"{name}{i}" in group.attrs:
        names.extend(_decode(v) for v in np.atleast_1d(group.attrs[f"{name}{i}"]))
        i += 1
    return names


def _root_version(f) -> str | None:
    if "keras_version" not in f.attrs:
        return None
    return _decode(f.attrs["keras_version"])


def _is_keras2_weights(f: h5py.File) -> bool:
    version = _root_version(f)
    return "layer_names" in f.attrs and version is not None and version.startswith("2.")


def is_legacy_h5(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Keras 2 ``save_weights`` HDF5 file, judged by its content.

    True when the file is HDF5 and its root has the attribute ``layer_names`` and a
    ``keras_version`` starting with ``"2."``. The file name is never looked at. Keras 3
    ``.keras`` (zip) and ``.weights.h5`` files, Keras 2 *full-model* files (weights under
    ``model_weights``), non-HDF5 files and missing paths give False; this function does not raise
    for an unreadable file.

    Args:
        path: file path.

    Returns:
        True for a Keras 2 weights-only HDF5 file, else False. It does not check that the file
        holds the 2019 model; :func:`load_legacy_model` does.

    Example:
        >>> is_legacy_h5("weights.h5")
        True
    """
    try:
        if not os.path.isfile(path) or not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r") as f:
            return _is_keras2_weights(f)
    except (OSError, ValueError, TypeError, UnicodeDecodeError) as err:
        # Not readable as a 2019 file; the caller reports what the file could be instead.
        logger.debug("%s is not a readable Keras 2 HDF5 weights file: %s", path, err)
        return False


def _not_keras2_weights(path: str | os.PathLike) -> LegacyWeightsError:
    return LegacyWeightsError(
        "load_legacy_model expects a Keras 2 save_weights HDF5 file (root attributes "
        "layer_names and keras_version '2.x'); this is not one (a Keras 3 file, a full-model "
        f"file or not HDF5). Received: path={os.fspath(path)!r}"
    )


def _unreadable(path: str | os.PathLike, err: OSError) -> LegacyWeightsError:
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    return LegacyWeightsError(
        f"{os.fspath(path)!r} has the HDF5 signature but cannot be read as HDF5 ({first}); "
        "the file is truncated or damaged."
    )


def _read_legacy_weights(
    path: str | os.PathLike, *, values: bool = True
) -> tuple[dict[tuple[str, str], Any], dict[str, Any], str]:
    """Read and fully validate the file, before any model is built.

    With ``values=False`` only names, dtypes and shapes are checked: no weight is read, and the
    returned dicts hold :class:`_Meta` stand-ins.

    Returns:
        ``(backbone, head, head_layer)``: backbone arrays keyed by Keras 3
        ``(layer name, weight name)``; the head's ``{"kernel": (2048, 152), "bias": (152,)}``;
        the head's old layer name.

    Raises:
        LegacyWeightsError: any deviation from the expected file (see
            :func:`load_legacy_model`).
    """
    expected = _expected_backbone_shapes()
    backbone: dict[tuple[str, str], np.ndarray] = {}
    where: dict[tuple[str, str], _Source] = {}
    seen: set[tuple[str, str]] = set()
    others: dict[str, dict[str, tuple[_Source, np.ndarray]]] = {}
    problems: list[str] = []

    if not os.path.isfile(path) or not h5py.is_hdf5(path):
        raise _not_keras2_weights(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise _unreadable(path, err) from err
    with f:
        if not _is_keras2_weights(f):
            raise _not_keras2_weights(path)
        version = _root_version(f)
        backend = _decode(f.attrs.get("backend", ""))
        if version is None or not _SUPPORTED_VERSIONS.match(version):
            raise LegacyWeightsError(
                f"{os.fspath(path)!r} was written by Keras {version!r}; expected standalone "
                "Keras '2.2.4' or '2.3.x', whose ResNet50 topology was verified. Other "
                "versions differ or are unverified (Keras 2.2.0 had no pool1_pad; Keras < 2.2.0 "
                "and old tf.keras applied AveragePooling2D((7, 7)) with include_top=False), "
                "and the weights alone cannot tell, so the file is not loaded."
            )
        if backend != "tensorflow":
            raise LegacyWeightsError(
                f"{os.fspath(path)!r} was written with the Keras backend {backend!r}; expected "
                "'tensorflow' (other backends store convolution kernels differently)."
            )
        layer_names = _read_name_list(f, "layer_names") or []
        for group_name in layer_names:
            if group_name not in f:
                raise LegacyWeightsError(
                    f"Layer {group_name!r} is listed in the root attribute layer_names but the "
                    "file has no group of that name; the file is truncated or not a Keras 2 "
                    "save_weights file."
                )
            group = f[group_name]
            weight_names = _read_name_list(group, "weight_names") or []
            for weight_name in weight_names:
                source = _Source(group_name, weight_name)
                if weight_name not in group:
                    raise LegacyWeightsError(
                        f"Weight {weight_name!r} is listed in layer {group_name!r} but has no "
                        "dataset in the file; the file is truncated or damaged."
                    )
                value = group[weight_name]
                if not isinstance(value, h5py.Dataset):
                    raise LegacyWeightsError(
                        f"Weight {weight_name!r} of layer {group_name!r} is not a dataset; the "
                        "file is damaged."
                    )
                try:
                    value = np.asarray(value) if values else _Meta(value.shape, value.dtype)
                except OSError as err:
                    raise _unreadable(path, err) from err
                if not np.issubdtype(value.dtype, np.floating):
                    problems.append(
                        f"{group_name}/{weight_name} has dtype {value.dtype}; expected float"
                    )
                    continue
                parts = weight_name.split("/")
                m = _WEIGHT.match(parts[-1])
                old_layer = parts[-2] if len(parts) >= 2 else ""
                short = m.group(1) if m else parts[-1]
                mapped = _map_old_layer(old_layer)
                if mapped is None:
                    layer_weights = others.setdefault(old_layer or group_name, {})
                    if short in layer_weights:
                        problems.append(f"weight {group_name}/{weight_name} appears twice")
                    layer_weights[short] = (source, value)
                    continue
                new_layer, allowed = mapped
                key = (new_layer, short)
                if key in expected and key not in backbone:
                    seen.add(key)
                if short not in allowed:
                    problems.append(
                        f"unknown weight {group_name}/{weight_name}: a {old_layer!r} layer "
                        f"holds {list(allowed)}"
                    )
                elif key not in expected:
                    problems.append(
                        f"unknown layer {old_layer!r} ({group_name}/{weight_name}; it would be "
                        f"{new_layer!r}), which ResNet50 does not have"
                    )
                elif key in backbone:
                    problems.append(
                        f"weight {new_layer}/{short} appears twice: "
                        f"{where[key].group}/{where[key].name} and {group_name}/{weight_name}"
                    )
                elif tuple(value.shape) != expected[key]:
                    problems.append(
                        f"{group_name}/{weight_name} (-> {new_layer}/{short}) has shape "
                        f"{tuple(value.shape)}; expected {expected[key]}"
                    )
                else:
                    backbone[key] = value
                    where[key] = source

    missing = [f"{layer}/{w}" for layer, w in expected if (layer, w) not in seen]
    if missing:
        old_names = ", ".join(_old_weight_name(m) for m in missing[:6])
        problems.append(
            f"missing {len(missing)} of the {len(expected)} ResNet50 weights: "
            + ", ".join(missing[:6])
            + (", ..." if len(missing) > 6 else "")
            + f" (old names {old_names}{', ...' if len(missing) > 6 else ''})"
        )
    head, head_layer = _check_head(others, problems)
    if any(_NEW_STYLE.match(name) for name in others):
        problems.append(
            "the file uses Keras >= 2.4 / tf.keras ResNet50 layer names (conv2_block1_1_conv, "
            "...); this loader reads the keras-applications 1.0.6 names (res2a_branch2a, ...)"
        )
    if problems:
        shown = problems[:12]
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        raise LegacyWeightsError(
            f"{os.fspath(path)!r} does not hold the 2019 model's weights "
            f"(ResNet50 with {len(expected)} weights + Dense({HEAD_UNITS}) head): "
            f"{len(problems)} problem(s):\n  " + "\n  ".join(shown) + more
        )
    return backbone, head, head_layer


def _check_head(
    others: dict[str, dict[str, tuple[_Source, np.ndarray]]], problems: list[str]
) -> tuple[dict[str, np.ndarray], str]:
    """Find the Dense head among the non-ResNet50 layers; append problems to ``problems``."""
    expected = {"kernel": (FEATURES, HEAD_UNITS), "bias": (HEAD_UNITS,)}
    if len(others) != 1:
        found = ", ".join(sorted(others)[:8]) + (", ..." if len(others) > 8 else "")
        problems.append(
            f"expected exactly one layer with weights besides ResNet50 (the Dense head with "
            f"kernel {expected['kernel']} and bias {expected['bias']}); found {len(others)}"
            + (f": {found}" if others else "")
        )
        return {}, ""
    ((layer, weights),) = others.items()
    if set(weights) != set(expected):
        problems.append(
            f"head layer {layer!r} holds weights {sorted(weights)}; expected "
            f"{sorted(expected)} of a Dense({HEAD_UNITS}) layer"
        )
        return {}, layer
    head: dict[str, np.ndarray] = {}
    for name, shape in expected.items():
        source, value = weights[name]
        if tuple(value.shape) != shape:
            problems.append(
                f"head {source.group}/{source.name} has shape {tuple(value.shape)}; expected "
                f"{shape} (ResNet50 features {FEATURES} -> {HEAD_UNITS} = 76 points x 2)"
            )
        head[name] = value
    return head, layer


def _assign(
    model: keras.Model,
    backbone: dict[tuple[str, str], np.ndarray],
    head: dict[str, np.ndarray],
) -> int:
    """Assign every weight of ``model`` exactly once; raise if the model does not fit."""
    expected = _expected_backbone_shapes()
    base = model.get_layer(BACKBONE_NAME)
    dense = model.get_layer("landmarks")
    plan: list[tuple[keras.Variable, np.ndarray, str]] = []
    for layer in base.layers:
        for var in layer.weights:
            key = (layer.name, var.name)
            if key not in expected or tuple(var.shape) != expected[key]:
                raise LegacyWeightsError(
                    f"The Keras 3 model's weight {layer.name}/{var.name} {tuple(var.shape)} is "
                    "not part of the expected ResNet50 layout; facelandmarks.model.build_model "
                    "no longer builds the ResNet50 this loader maps to."
                )
            plan.append((var, backbone[key], f"{layer.name}/{var.name}"))
    for name in ("kernel", "bias"):
        var = getattr(dense, name)
        if tuple(var.shape) != head[name].shape:
            raise LegacyWeightsError(
                f"The model's head {name} has shape {tuple(var.shape)}; the file's has "
                f"{head[name].shape}."
            )
        plan.append((var, head[name], f"landmarks/{name}"))

    targets = [id(v) for v, _, _ in plan]
    all_vars = {id(v) for v in model.weights}
    if len(set(targets)) != len(targets) or set(targets) != all_vars:
        raise LegacyWeightsError(
            f"Weight assignment plan covers {len(set(targets))} distinct of the model's "
            f"{len(all_vars)} weights ({len(targets)} assignments); expected each weight once."
        )
    if len(backbone) != len(expected) or len(plan) != len(expected) + 2:
        raise LegacyWeightsError(
            f"Assigned {len(plan)} weights; expected {len(expected) + 2} "
            f"({len(expected)} ResNet50 + 2 head)."
        )
    for var, value, _ in plan:
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
