"""Tests for facelandmarks.legacy: loading the 2019 Keras 2.2.4 ``weights.h5`` exactly.

Without the real file, the slow tests rebuild the OLD topology from keras-applications 1.0.6's
``resnet50.py`` (run on Keras 3, no shims needed), wrap it as the 2019 project did
(Input -> x / 255 -> resnet50 -> GlobalAveragePooling2D -> Dense(152, sigmoid)), fill it with
random weights (random BatchNormalization statistics included), write the Keras 2.2.4
``save_weights`` HDF5 layout with h5py and check that :func:`load_legacy_model` reproduces the
old model's outputs. The fast tests use tiny hand-written HDF5 files.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from facelandmarks import _legacy_h5
from facelandmarks.legacy import LegacyWeightsError, is_legacy_h5, load_legacy_model

H, W = 64, 48
"""Small input for speed; the weights do not depend on the input size."""

TOL = 1e-5
"""Equal "to float32 rounding": the old wrapper divides by 255, Rescaling multiplies by 1/255."""

RESNET_GROUP = "resnet50"
HEAD = "dense_1"


# --------------------------------------------------------------------------------------------
# Helpers: the old model and the Keras 2.2.4 file layout
# --------------------------------------------------------------------------------------------


def _names(names: list[str]) -> np.ndarray:
    """A name list as Keras 2 + h5py 2 stored it: a fixed-length bytes array."""
    return np.array([n.encode("utf8") for n in names], dtype=bytes)


def write_keras2_weights(
    path: Path,
    groups: Iterable[tuple[str, list[tuple[str, np.ndarray]]]],
    *,
    keras_version: str = "2.2.4",
    backend: str = "tensorflow",
    values: bool = True,
) -> Path:
    """Write Keras 2's ``save_weights`` HDF5 layout, as Keras 2.2.4 did.

    ``groups``: ``(top-level layer name, [(weight name like "conv1/kernel:0", array), ...])``
    in model order; layers without weights have an empty list. ``values=False`` writes the
    datasets' shapes and dtypes only (HDF5 stores no data; they read as zeros): a tiny file
    with the complete layout, for the tests that expect a refusal.
    """
    groups = list(groups)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = _names([name for name, _ in groups])
        f.attrs["backend"] = backend.encode("utf8")
        f.attrs["keras_version"] = keras_version.encode("utf8")
        for name, weights in groups:
            g = f.create_group(name)
            g.attrs["weight_names"] = _names([w for w, _ in weights])
            for w, value in weights:
                if values:
                    g.create_dataset(w, data=value)
                else:
                    g.create_dataset(w, shape=value.shape, dtype=value.dtype)
    return path


def build_old_model(height: int, width: int) -> keras.Model:
    """The 2019 model with keras-applications 1.0.6's ResNet50, built on Keras 3."""
    kr = pytest.importorskip(
        "keras_applications.resnet50",
        reason="keras-applications==1.0.6 (test dependency) is needed to rebuild the old ResNet50",
    )
    with warnings.catch_warnings():  # "output shape ... changed since Keras 2.2.0"
        warnings.simplefilter("ignore", UserWarning)
        base = kr.ResNet50(
            include_top=False,
            weights=None,
            input_shape=(height, width, 3),
            backend=keras.backend,
            layers=keras.layers,
            models=keras.models,
            utils=keras.utils,
        )
    inputs = keras.Input((height, width, 3), name="input_1")
    x = keras.layers.Lambda(lambda t: t / 255.0, name="lambda_1")(inputs)
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pooling2d_1")(x)
    outputs = keras.layers.Dense(152, activation="sigmoid", name=HEAD)(x)
    return keras.Model(inputs, outputs, name="model_1")


def randomize(model: keras.Model, rng: np.random.Generator) -> None:
    """Random weights with random, positive BatchNormalization moving statistics.

    Conv kernels are He-normal, biases and betas random; the moving statistics are first set to
    the batch statistics of random images (so activations stay in a sane range), then perturbed
    per channel (mean shifted, variance scaled by 1/1.5 .. 1.5, never below 0.3x the layer's
    median). Small gammas keep the random network from amplifying float32 rounding chaotically.
    """
    base = model.get_layer(RESNET_GROUP)
    bns = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in base.layers:
        if isinstance(layer, keras.layers.Conv2D):
            fan_in = int(np.prod(layer.kernel.shape[:3]))
            layer.kernel.assign(rng.normal(0, np.sqrt(2 / fan_in), layer.kernel.shape))
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape))
    for layer in bns:
        c = layer.gamma.shape
        layer.gamma.assign(rng.uniform(0.02, 0.1, c))
        layer.beta.assign(rng.normal(0, 0.1, c))
        layer.momentum = 0.0  # one training-mode pass sets moving stats = batch stats
    base(rng.uniform(0, 1, (16, *base.input_shape[1:])).astype("float32"), training=True)
    for layer in bns:
        c = layer.gamma.shape
        layer.momentum = 0.99
        var = layer.moving_variance.numpy()
        var = np.maximum(var, 0.3 * np.median(var)) * rng.uniform(1 / 1.5, 1.5, c)
        mean = layer.moving_mean.numpy() + rng.normal(0, 0.1, c) * np.sqrt(var)
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(var)
    dense = model.get_layer(HEAD)
    dense.kernel.assign(rng.normal(0, 1 / np.sqrt(2048), dense.kernel.shape))
    dense.bias.assign(rng.normal(0, 0.1, dense.bias.shape))


def keras2_groups(model: keras.Model) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """What Keras 2.2.4's ``save_weights`` wrote for ``model``: per top-level layer its weights;
    the nested ResNet50 lists trainable weights first, then non-trainable, ``<layer>/<w>:0``."""
    groups: list[tuple[str, list[tuple[str, np.ndarray]]]] = [("input_1", [])]
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            pairs = [(sub, v) for sub in layer.layers for v in sub.trainable_weights]
            pairs += [(sub, v) for sub in layer.layers for v in sub.non_trainable_weights]
        else:
            pairs = [(layer, v) for v in layer.weights]
        groups.append((layer.name, [(f"{sub.name}/{v.name}:0", v.numpy()) for sub, v in pairs]))
    return groups


def old_to_new(name: str) -> tuple[str, str]:
    """Test's own mapping of an old weight name to (Keras 3 layer, weight), for cross-checks."""
    layer, weight = name.removesuffix(":0").split("/")
    if layer == "conv1":
        return "conv1_conv", weight
    if layer == "bn_conv1":
        return "conv1_bn", weight
    kind, rest = ("conv", layer[3:]) if layer.startswith("res") else ("bn", layer[2:])
    stage, letter, branch = rest[0], rest[1], rest.split("_branch")[1]
    index = {"2a": 1, "2b": 2, "2c": 3, "1": 0}[branch]
    return f"conv{stage}_block{ord(letter) - 96}_{index}_{kind}", weight


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Eager inference call (reads BatchNormalization.epsilon each time, unlike predict())."""
    return keras.ops.convert_to_numpy(model(images, training=False))


# --------------------------------------------------------------------------------------------
# Module fixtures (ResNet50 is built twice in the whole module)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_model() -> keras.Model:
    model = build_old_model(H, W)
    randomize(model, np.random.default_rng(2019))
    return model


@pytest.fixture(scope="module")
def legacy_file(tmp_path_factory, old_model) -> Path:
    path = tmp_path_factory.mktemp("legacy") / "weights.h5"
    return write_keras2_weights(path, keras2_groups(old_model))


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (3, H, W, 3)).astype("float32")


@pytest.fixture(scope="module")
def loaded(legacy_file) -> keras.Model:
    return load_legacy_model(legacy_file, input_size=(H, W))


@pytest.fixture(scope="module")
def layout_file(tmp_path_factory, old_model) -> Path:
    path = tmp_path_factory.mktemp("layout") / "weights.h5"
    return write_keras2_weights(path, keras2_groups(old_model), values=False)


@pytest.fixture()
def mutable_copy(tmp_path, layout_file) -> Path:
    """A copy of the complete legacy layout (no values) for one test to damage."""
    path = tmp_path / "weights.h5"
    shutil.copyfile(layout_file, path)
    return path


# --------------------------------------------------------------------------------------------
# Slow: exactness against the old topology
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_old_topology_as_read_from_keras_applications(old_model):
    # What the module docstring claims about keras-applications 1.0.6, checked on the real code.
    base = old_model.get_layer(RESNET_GROUP)
    layers = base.layers
    assert not any(isinstance(layer, keras.layers.AveragePooling2D) for layer in layers)
    assert base.output.shape[1:] == (2, 2, 2048)  # no avg_pool before the head's GAP
    bns = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 53 and {layer.epsilon for layer in bns} == {1e-3}
    assert base.get_layer("conv1_pad").padding == ((3, 3), (3, 3))
    assert base.get_layer("pool1_pad").padding == ((1, 1), (1, 1))
    assert base.get_layer("res3a_branch2a").strides == (2, 2)
    assert base.get_layer("res3a_branch2b").strides == (1, 1)
    assert all(layer.use_bias for layer in layers if isinstance(layer, keras.layers.Conv2D))


@pytest.mark.slow
def test_outputs_equal_old_topology(old_model, loaded, images, record_property):
    expected = predict(old_model, images)
    got = predict(loaded, images)
    assert got.shape == (3, 152) and got.dtype == np.float32
    # Not saturated, so that the comparison means something.
    assert expected.std() > 0.02 and expected.min() > 0.05 and expected.max() < 0.95
    diff = float(np.max(np.abs(got - expected)))
    record_property("legacy_max_abs_diff", diff)
    assert diff < TOL, f"max abs diff {diff:.3g}"
    assert loaded.get_layer("scale_01") is not None


@pytest.mark.slow
def test_every_weight_assigned_exactly_from_its_old_name(old_model, loaded, legacy_file):
    base = loaded.get_layer("resnet50")
    assigned = set()
    for _group, weights in keras2_groups(old_model):
        for name, value in weights:
            if name.startswith(f"{HEAD}/"):
                var = getattr(loaded.get_layer("landmarks"), name.split("/")[1][:-2])
            else:
                layer, weight = old_to_new(name)
                var = next(v for v in base.get_layer(layer).weights if v.name == weight)
            np.testing.assert_array_equal(var.numpy(), value, err_msg=name)
            assigned.add(id(var))
    assert assigned == {id(v) for v in loaded.weights} and len(assigned) == 320


@pytest.mark.slow
def test_bn_epsilon_matters(old_model, loaded, images):
    bns = [
        layer
        for layer in loaded.get_layer("resnet50").layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert {layer.epsilon for layer in bns} == {1e-3}
    expected = predict(old_model, images)
    try:
        for layer in bns:
            layer.epsilon = 1.001e-5  # Keras 3 ResNet50's own epsilon
        wrong = predict(loaded, images)
    finally:
        for layer in bns:
            layer.epsilon = 1e-3
    assert np.max(np.abs(wrong - expected)) > 1e-4
    assert np.max(np.abs(predict(loaded, images) - expected)) < TOL


@pytest.mark.slow
def test_swapping_two_same_shaped_blocks_is_detected(old_model, loaded, images):
    # A mapping bug that shapes cannot catch (block b <-> c) must show in the outputs.
    base = loaded.get_layer("resnet50")

    def block_vars(n: int) -> list:
        return [
            v
            for k in (1, 2, 3)
            for kind in ("conv", "bn")
            for v in base.get_layer(f"conv4_block{n}_{k}_{kind}").weights
        ]

    b_vars, c_vars = block_vars(2), block_vars(3)
    saved = [v.numpy() for v in b_vars + c_vars]
    try:
        for i, (vb, vc) in enumerate(zip(b_vars, c_vars, strict=True)):
            vb.assign(saved[len(b_vars) + i])
            vc.assign(saved[i])
        swapped = predict(loaded, images)
    finally:
        for v, x in zip(b_vars + c_vars, saved, strict=True):
            v.assign(x)
    assert np.max(np.abs(swapped - predict(old_model, images))) > 1e-4


# --------------------------------------------------------------------------------------------
# Slow fixture, fast checks: mutated copies of the legacy file
# --------------------------------------------------------------------------------------------


def _edit_group(path: Path, group: str, edit) -> None:
    with h5py.File(path, "a") as f:
        g = f[group]
        names = [n.decode() for n in g.attrs["weight_names"]]
        names = edit(g, names)
        g.attrs["weight_names"] = _names(names)


@pytest.mark.slow
def test_is_legacy_h5_recognises_the_file(legacy_file, tmp_path):
    assert is_legacy_h5(legacy_file)
    renamed = tmp_path / "model.keras"  # content counts, not the name
    shutil.copyfile(legacy_file, renamed)
    assert is_legacy_h5(renamed)


@pytest.mark.slow
def test_missing_weight(mutable_copy):
    def drop(g, names):
        del g["res3b_branch2b/kernel:0"]
        return [n for n in names if n != "res3b_branch2b/kernel:0"]

    _edit_group(mutable_copy, RESNET_GROUP, drop)
    with pytest.raises(LegacyWeightsError, match=r"missing 1 of the 318") as info:
        load_legacy_model(mutable_copy, input_size=(H, W))
    assert "conv3_block2_2_conv/kernel" in str(info.value)
    assert "res3b_branch2b/kernel" in str(info.value)


@pytest.mark.slow
def test_listed_weight_without_dataset(mutable_copy):
    def drop_data(g, names):
        del g["bn_conv1/gamma:0"]
        return names

    _edit_group(mutable_copy, RESNET_GROUP, drop_data)
    with pytest.raises(LegacyWeightsError, match=r"bn_conv1/gamma:0.*no dataset"):
        load_legacy_model(mutable_copy, input_size=(H, W))


@pytest.mark.slow
def test_wrong_shape(mutable_copy):
    def shrink(g, names):
        del g["bn4c_branch2a/gamma:0"]
        g.create_dataset("bn4c_branch2a/gamma:0", data=np.ones(255, "float32"))
        return names

    _edit_group(mutable_copy, RESNET_GROUP, shrink)
    with pytest.raises(LegacyWeightsError) as info:
        load_legacy_model(mutable_copy, input_size=(H, W))
    message = str(info.value)
    assert "bn4c_branch2a/gamma:0" in message and "conv4_block3_1_bn/gamma" in message
    assert "(255,)" in message and "expected (256,)" in message
    assert "missing" not in message  # a wrong shape is not also reported as missing


@pytest.mark.slow
def test_extra_unknown_top_level_layer(mutable_copy):
    with h5py.File(mutable_copy, "a") as f:
        f.attrs["layer_names"] = _names([*(n.decode() for n in f.attrs["layer_names"]), "dense_2"])
        g = f.create_group("dense_2")
        g.attrs["weight_names"] = _names(["dense_2/kernel:0", "dense_2/bias:0"])
        g.create_dataset("dense_2/kernel:0", data=np.zeros((152, 10), "float32"))
        g.create_dataset("dense_2/bias:0", data=np.zeros(10, "float32"))
    with pytest.raises(LegacyWeightsError, match=r"found 2: dense_1, dense_2"):
        load_legacy_model(mutable_copy, input_size=(H, W))


@pytest.mark.parametrize(
    ("name", "shape", "match"),
    [
        ("res4g_branch2a/kernel:0", (1, 1, 1024, 256), r"unknown layer 'res4g_branch2a'"),
        ("res2b_branch1/kernel:0", (1, 1, 256, 256), r"unknown layer 'res2b_branch1'"),
        ("res2a_branch2a/gamma:0", (64,), r"unknown weight .*res2a_branch2a/gamma"),
        ("res2a_branch2a_1/kernel:0", (1, 1, 64, 64), r"appears twice"),
    ],
)
@pytest.mark.slow
def test_extra_weight_in_backbone(mutable_copy, name, shape, match):
    def add(g, names):
        g.create_dataset(name, data=np.zeros(shape, "float32"))
        return [*names, name]

    _edit_group(mutable_copy, RESNET_GROUP, add)
    with pytest.raises(LegacyWeightsError, match=match):
        load_legacy_model(mutable_copy, input_size=(H, W))


@pytest.mark.slow
def test_head_of_another_size(mutable_copy):
    def resize(g, names):
        for n, shape in (("dense_1/kernel:0", (2048, 136)), ("dense_1/bias:0", (136,))):
            del g[n]
            g.create_dataset(n, data=np.zeros(shape, "float32"))
        return names

    _edit_group(mutable_copy, HEAD, resize)
    with pytest.raises(LegacyWeightsError, match=r"\(2048, 136\); expected \(2048, 152\)"):
        load_legacy_model(mutable_copy, input_size=(H, W))


@pytest.mark.slow
def test_chunked_attributes_and_tf_scope_suffix_are_read(tmp_path, legacy_file):
    # Keras 2 splits big attributes into weight_names0, weight_names1, ...; TF1 may suffix a
    # taken variable scope with _1 or nest it in an outer scope. All must read to the same
    # arrays (checked on the parsed file: no model build needed).
    mutable_copy = tmp_path / "weights.h5"
    shutil.copyfile(legacy_file, mutable_copy)
    with h5py.File(mutable_copy, "a") as f:
        g = f[RESNET_GROUP]
        g.move("res5c_branch2c/kernel:0", "res5c_branch2c_1/kernel:0")
        g.require_group("outer/res5c_branch2c")
        g.move("res5c_branch2c/bias:0", "outer/res5c_branch2c/bias:0")
        names = [n.decode() for n in g.attrs["weight_names"]]
        names = [n.replace("res5c_branch2c/kernel", "res5c_branch2c_1/kernel") for n in names]
        names = [n.replace("res5c_branch2c/bias", "outer/res5c_branch2c/bias") for n in names]
        del g.attrs["weight_names"]
        half = len(names) // 2
        g.attrs["weight_names0"] = _names(names[:half])
        g.attrs["weight_names1"] = _names(names[half:])
    got, head, _ = _legacy_h5._read_legacy_weights(mutable_copy)
    want, want_head, head_layer = _legacy_h5._read_legacy_weights(legacy_file)
    assert head_layer == HEAD and got.keys() == want.keys() and len(got) == 318
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
    np.testing.assert_array_equal(head["kernel"], want_head["kernel"])


# --------------------------------------------------------------------------------------------
# Fast: recognition and refusal without ResNet50
# --------------------------------------------------------------------------------------------


def _tiny_keras2_file(path: Path, **kwargs) -> Path:
    rng = np.random.default_rng(0)
    return write_keras2_weights(
        path,
        [
            ("input_1", []),
            ("conv2d_1", [("conv2d_1/kernel:0", rng.normal(size=(3, 3, 3, 8)))]),
            ("dense_1", [("dense_1/kernel:0", rng.normal(size=(8, 152)))]),
        ],
        **kwargs,
    )


def test_is_legacy_h5_by_content(tmp_path):
    assert is_legacy_h5(_tiny_keras2_file(tmp_path / "anything.bin"))
    assert is_legacy_h5(_tiny_keras2_file(tmp_path / "old.h5", keras_version="2.1.6"))
    assert not is_legacy_h5(_tiny_keras2_file(tmp_path / "k3.h5", keras_version="3.15.0"))
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.attrs["keras_version"] = b"2.2.4"  # no layer_names
    assert not is_legacy_h5(tmp_path / "plain.h5")


def test_is_legacy_h5_false_without_raising(tmp_path):
    (tmp_path / "weights.h5").write_bytes(b"<html>quota exceeded</html>")
    assert not is_legacy_h5(tmp_path / "weights.h5")
    (tmp_path / "empty.h5").write_bytes(b"")
    assert not is_legacy_h5(tmp_path / "empty.h5")
    assert not is_legacy_h5(tmp_path / "missing.h5")
    assert not is_legacy_h5(tmp_path)  # a directory
    (tmp_path / "trunc.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert not is_legacy_h5(tmp_path / "trunc.h5")


def test_keras3_files_are_not_legacy(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense_1")])
    model.save_weights(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")  # Keras 3's legacy full-model HDF5
    for name in ("m.weights.h5", "m.keras", "m.h5"):
        assert not is_legacy_h5(tmp_path / name), name
        with pytest.raises(LegacyWeightsError, match="expects a Keras 2 save_weights"):
            load_legacy_model(tmp_path / name)


def test_non_hdf5_and_missing_files_raise(tmp_path):
    (tmp_path / "weights.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(LegacyWeightsError, match=r"Received: path='.*weights.h5'"):
        load_legacy_model(tmp_path / "weights.h5")
    with pytest.raises(FileNotFoundError, match="path="):
        load_legacy_model(tmp_path / "nope.h5")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"keras_version": "2.1.6"}, r"Keras '2.1.6'.*expected standalone Keras '2.2.4'"),
        ({"keras_version": "2.2.0"}, r"no pool1_pad"),
        ({"keras_version": "2.1.6-tf"}, r"Keras '2.1.6-tf'"),
        ({"backend": "theano"}, r"backend 'theano'; expected 'tensorflow'"),
    ],
)
def test_other_keras_versions_and_backends_are_refused(tmp_path, kwargs, match):
    path = _tiny_keras2_file(tmp_path / "w.h5", **kwargs)
    assert is_legacy_h5(path)
    with pytest.raises(LegacyWeightsError, match=match):
        load_legacy_model(path)


def test_weights_of_another_model_are_refused(tmp_path):
    path = _tiny_keras2_file(tmp_path / "w.h5")
    with pytest.raises(LegacyWeightsError) as info:
        load_legacy_model(path)
    message = str(info.value)
    assert "missing 318 of the 318 ResNet50 weights" in message
    assert "res2a_branch2a" not in message or "old names" in message
    assert "found 2: conv2d_1, dense_1" in message
    assert isinstance(info.value, ValueError)


def test_keras3_style_names_get_a_hint(tmp_path):
    path = write_keras2_weights(
        tmp_path / "w.h5",
        [("resnet50", [("conv1_conv/kernel:0", np.zeros((7, 7, 3, 64), "float32"))])],
        keras_version="2.3.1",
    )
    with pytest.raises(LegacyWeightsError, match=r"Keras >= 2.4 / tf.keras ResNet50 layer names"):
        load_legacy_model(path)


def test_name_mapping_round_trips():
    expected = _legacy_h5._expected_backbone_shapes()
    assert len(expected) == 318
    for layer, weight in expected:
        old = _legacy_h5._old_weight_name(f"{layer}/{weight}")
        assert old_to_new(old + ":0") == (layer, weight)
        assert _legacy_h5._map_old_layer(old.split("/")[0])[0] == layer
    assert _legacy_h5._map_old_layer("dense_1") is None
    shortcut = ("conv2_block1_0_conv", ("kernel", "bias"))
    assert _legacy_h5._map_old_layer("res2a_branch1_3") == shortcut
