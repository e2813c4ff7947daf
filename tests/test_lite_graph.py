"""facelandmarks.model.lite_ready: the graph rewritten for TensorFlow Lite keeps the maths."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from facelandmarks.model import (  # noqa: E402
    Grayscale,
    GroupNorm,
    LiteGrayscale,
    LiteGroupNorm,
    build_model,
    lite_ready,
)


def _small_model(head: str):
    """A seeded 64x64 grey MobileNetV3Small-GroupNorm stage, as the shipped model is built."""
    keras.utils.set_random_seed(0)
    return build_model(
        backbone="mobilenetv3small",
        input_size=(64, 64),
        num_points=5,
        preprocessing="backbone",
        normalization="group",
        color="gray",
        head=head,
    )


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


@pytest.mark.parametrize("groups", [1, 4, 8, 16])
@pytest.mark.parametrize("offset, spread", [(0.0, 1.0), (3.0, 20.0), (50.0, 0.5)])
def test_lite_group_norm_equals_group_normalization(groups, offset, spread) -> None:
    rng = np.random.default_rng(groups)
    x = (offset + spread * rng.standard_normal((3, 5, 7, 16))).astype(np.float32)
    reference = GroupNorm(groups=groups, epsilon=1e-3)
    lite = LiteGroupNorm(groups=groups, epsilon=1e-3)
    reference.build(x.shape)
    lite.build(x.shape)
    gamma = rng.uniform(0.5, 2.0, 16).astype(np.float32)
    beta = rng.uniform(-1.0, 1.0, 16).astype(np.float32)
    reference.set_weights([gamma, beta])
    lite.set_weights([gamma, beta])
    want = keras.ops.convert_to_numpy(reference(x))
    got = keras.ops.convert_to_numpy(lite(x))
    # two passes (mean, then centred mean square) as Keras does: float rounding only, even
    # where the mean is 100 times the spread
    np.testing.assert_allclose(got, want, atol=5e-5, rtol=0)
    # and it really normalises: each group of each image has mean beta-ish, not the input's
    assert abs(float(got.mean()) - float(beta.mean())) < 1.0


def test_lite_group_norm_refuses_channels_it_cannot_group() -> None:
    with pytest.raises(ValueError, match="channels=6, groups=4"):
        LiteGroupNorm(groups=4).build((1, 2, 2, 6))


def test_lite_grayscale_equals_grayscale() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 5, 3)).astype(np.float32)
    want = keras.ops.convert_to_numpy(Grayscale()(x))
    got = keras.ops.convert_to_numpy(LiteGrayscale()(x))
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-6)


def test_lite_ready_rewrites_nested_layers_and_keeps_the_outputs() -> None:
    model = _small_model(head="spatial")
    lite = lite_ready(model)
    assert lite is not model
    kinds = [type(layer) for layer in _layers(lite)]
    assert GroupNorm not in kinds and Grayscale not in kinds
    assert kinds.count(LiteGroupNorm) == sum(isinstance(x, GroupNorm) for x in _layers(model)) > 0
    assert LiteGrayscale in kinds
    x = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(
        lite.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5, rtol=0
    )
    # the original is untouched
    assert any(isinstance(layer, GroupNorm) for layer in _layers(model))


def test_lite_ready_leaves_a_model_without_group_norm_alone() -> None:
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])
    assert lite_ready(model) is model


def test_converted_group_norm_model_runs_without_runtime_shape_ops() -> None:
    # The reason for the rewrite: Keras' GroupNormalization reshapes by the batch size read at
    # run time (SHAPE -> RESHAPE), which splits the XNNPACK delegate into dozens of pieces.
    from facelandmarks.export import tflite_bytes
    from facelandmarks.lite import interpreter_class

    model = _small_model(head="gap")
    interpreter = interpreter_class()(model_content=tflite_bytes(model))
    interpreter.allocate_tensors()
    if not hasattr(interpreter, "_get_ops_details"):
        pytest.skip("this interpreter does not list its ops")
    names = [op["op_name"] for op in interpreter._get_ops_details()]
    assert "TILE" not in names
    assert names.count("SHAPE") == 0, names
    x = np.random.default_rng(2).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=1e-5, rtol=0)
