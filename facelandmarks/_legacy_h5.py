"""The 2019 ``weights.h5`` read and checked: its HDF5 layout, and its weight names mapped onto
Keras 3's ResNet50.

Private helper of :mod:`facelandmarks.legacy`, whose module docstring describes the file layout,
the name mapping and the topology check; it re-exports :class:`LegacyWeightsError`,
:data:`HEAD_UNITS` and :data:`FEATURES`, defined here. Reading needs h5py, not Keras: a file is
validated completely before any model is built.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import h5py
import numpy as np

HEAD_UNITS = 152
"""Units of the original head: 76 points x (x, y)."""

FEATURES = 2048
"""Channels of ResNet50's last feature map (the head's input)."""

_STAGES: tuple[tuple[int, int, int], ...] = ((2, 64, 3), (3, 128, 4), (4, 256, 6), (5, 512, 3))
"""ResNet50 stages: (stage number, bottleneck filters, blocks)."""

_SUPPORTED_VERSIONS = re.compile(r"^2\.(?:2\.4|3\.\d+)$")
_BRANCH_TO_INDEX = {"2a": 1, "2b": 2, "2c": 3, "1": 0}
_CONV_WEIGHTS = ("kernel", "bias")
_BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")

# Old layer names; the optional "_<digits>" is TF1's suffix for a taken variable scope.
_OLD_BLOCK = re.compile(r"^(res|bn)([2-5])([a-z])_branch(2a|2b|2c|1)(?:_\d+)?$")
_OLD_STEM = re.compile(r"^(conv1|bn_conv1)(?:_\d+)?$")
_WEIGHT = re.compile(r"^(\w+?)(?::\d+)?$")
_NEW_STYLE = re.compile(r"^conv[1-5]_(?:conv|bn|block\d+_\d_(?:conv|bn))$")


class LegacyWeightsError(ValueError):
    """A file is not the original project's Keras 2 weights, or does not fit the model.

    The message says what was found in the file and what was expected.
    """


def _expected_backbone_shapes() -> dict[tuple[str, str], tuple[int, ...]]:
    """Keras 3 ResNet50 weights ``{(layer name, weight name): shape}``, input-size independent.

    Written out independently of Keras; :func:`facelandmarks.legacy._assign` cross-checks it
    against the built model.
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


def _map_old_layer(old: str) -> tuple[str, tuple[str, ...]] | None:
    """Map an old keras-applications layer name to ``(Keras 3 name, allowed weight names)``.

    Returns ``None`` for a name that is not an old ResNet50 layer name at all. A name of the
    old form whose block does not exist in ResNet50 (``res4g_...``, ``res2b_branch1``) maps to a
    Keras 3 name that the caller will not find among the expected weights.
    """
    if m := _OLD_STEM.match(old):
        new = "conv1_conv" if m[1] == "conv1" else "conv1_bn"
    elif m := _OLD_BLOCK.match(old):
        kind, stage, letter, branch = m.groups()
        n = ord(letter) - ord("a") + 1
        suffix = "conv" if kind == "res" else "bn"
        new = f"conv{stage}_block{n}_{_BRANCH_TO_INDEX[branch]}_{suffix}"
    else:
        return None
    return new, (_CONV_WEIGHTS if new.endswith("_conv") else _BN_WEIGHTS)


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
    return value.decode("utf8") if isinstance(value, bytes | np.bytes_) else str(value)


def _read_name_list(group, name: str) -> list[str]:
    """A Keras 2 list attribute, possibly chunked as ``name0``, ``name1``, ...; ``[]`` if absent."""
    chunks = itertools.takewhile(
        group.attrs.__contains__, (f"{name}{i}" for i in itertools.count())
    )
    keys = [name] if name in group.attrs else chunks
    return [_decode(v) for key in keys for v in np.atleast_1d(group.attrs[key])]


def _keras2_version(f: h5py.File) -> str | None:
    """The root's ``keras_version`` if ``f`` is a Keras 2 weights file, else ``None``."""
    version = _decode(f.attrs["keras_version"]) if "keras_version" in f.attrs else None
    if "layer_names" in f.attrs and version is not None and version.startswith("2."):
        return version
    return None


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
    returned dicts hold read-only stand-ins of the right shape and dtype (no data).

    Returns:
        ``(backbone, head, head_layer)``: backbone arrays keyed by Keras 3
        ``(layer name, weight name)``; the head's ``{"kernel": (2048, 152), "bias": (152,)}``;
        the head's old layer name.

    Raises:
        LegacyWeightsError: any deviation from the expected file (see
            :func:`facelandmarks.legacy.load_legacy_model`).
    """
    expected = _expected_backbone_shapes()
    backbone: dict[tuple[str, str], np.ndarray] = {}
    where: dict[tuple[str, str], str] = {}  # "group/weight name" in the file, for messages
    seen: set[tuple[str, str]] = set()
    others: dict[str, dict[str, tuple[str, np.ndarray]]] = {}
    problems: list[str] = []

    if not os.path.isfile(path) or not h5py.is_hdf5(path):
        raise _not_keras2_weights(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise _unreadable(path, err) from err
    with f:
        version = _keras2_version(f)
        if version is None:
            raise _not_keras2_weights(path)
        backend = _decode(f.attrs.get("backend", ""))
        if not _SUPPORTED_VERSIONS.match(version):
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
        for group_name in _read_name_list(f, "layer_names"):
            if group_name not in f:
                raise LegacyWeightsError(
                    f"Layer {group_name!r} is listed in the root attribute layer_names but the "
                    "file has no group of that name; the file is truncated or not a Keras 2 "
                    "save_weights file."
                )
            group = f[group_name]
            for weight_name in _read_name_list(group, "weight_names"):
                source = f"{group_name}/{weight_name}"
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
                if not values:  # a stand-in with the dataset's shape and dtype; nothing read
                    value = np.broadcast_to(np.zeros((), value.dtype), value.shape)
                try:
                    value = np.asarray(value)
                except OSError as err:
                    raise _unreadable(path, err) from err
                if not np.issubdtype(value.dtype, np.floating):
                    problems.append(f"{source} has dtype {value.dtype}; expected float")
                    continue
                parts = weight_name.split("/")
                m = _WEIGHT.match(parts[-1])
                old_layer = parts[-2] if len(parts) >= 2 else ""
                short = m.group(1) if m else parts[-1]
                mapped = _map_old_layer(old_layer)
                if mapped is None:
                    layer_weights = others.setdefault(old_layer or group_name, {})
                    if short in layer_weights:
                        problems.append(f"weight {source} appears twice")
                    layer_weights[short] = (source, value)
                    continue
                new_layer, allowed = mapped
                key = (new_layer, short)
                seen.add(key)  # found in the file, even if refused below: not "missing"
                if short not in allowed:
                    problems.append(
                        f"unknown weight {source}: a {old_layer!r} layer holds {list(allowed)}"
                    )
                elif key not in expected:
                    problems.append(
                        f"unknown layer {old_layer!r} ({source}; it would be "
                        f"{new_layer!r}), which ResNet50 does not have"
                    )
                elif key in backbone:
                    problems.append(
                        f"weight {new_layer}/{short} appears twice: {where[key]} and {source}"
                    )
                elif tuple(value.shape) != expected[key]:
                    problems.append(
                        f"{source} (-> {new_layer}/{short}) has shape "
                        f"{tuple(value.shape)}; expected {expected[key]}"
                    )
                else:
                    backbone[key] = value
                    where[key] = source

    missing = [f"{layer}/{w}" for layer, w in expected if (layer, w) not in seen]
    if missing:
        more = ", ..." if len(missing) > 6 else ""
        old_names = ", ".join(_old_weight_name(m) for m in missing[:6])
        problems.append(
            f"missing {len(missing)} of the {len(expected)} ResNet50 weights: "
            f"{', '.join(missing[:6])}{more} (old names {old_names}{more})"
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
    others: dict[str, dict[str, tuple[str, np.ndarray]]], problems: list[str]
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
                f"head {source} has shape {tuple(value.shape)}; expected "
                f"{shape} (ResNet50 features {FEATURES} -> {HEAD_UNITS} = 76 points x 2)"
            )
        head[name] = value
    return head, layer
