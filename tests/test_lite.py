"""facelandmarks.lite: loading and running TensorFlow Lite models."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from facelandmarks import lite
from facelandmarks.lite import LiteModel, default_num_threads, interpreter_class

REPO = Path(__file__).resolve().parents[1]
SHORT = REPO / "facelandmarks" / "models" / "face_detection_short_range.tflite"
HAS_LITERT = importlib.util.find_spec("ai_edge_litert") is not None


@pytest.fixture(scope="module")
def tiny_bytes() -> bytes:
    """A tiny Keras model (8x8x3 -> 3), converted with a dynamic batch dimension."""
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.fixture(scope="module")
def tiny(tiny_bytes: bytes) -> LiteModel:
    return LiteModel(tiny_bytes, num_threads=1)


@pytest.fixture(scope="module")
def short() -> LiteModel:
    return LiteModel(SHORT, num_threads=1)


def _batch(rng: np.random.Generator, model: LiteModel, size: int) -> np.ndarray:
    return rng.uniform(-1, 1, (size, *model.input_shape)).astype(np.float32)


def test_interpreter_class_prefers_litert() -> None:
    cls = interpreter_class()
    expected = "ai_edge_litert" if HAS_LITERT else "tensorflow"
    assert cls.__module__.startswith(expected)


def test_interpreter_class_falls_back_to_tensorflow(monkeypatch) -> None:
    pytest.importorskip("tensorflow")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    import tensorflow as tf

    assert interpreter_class() is tf.lite.Interpreter


def test_interpreter_class_names_what_to_install(monkeypatch) -> None:
    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tensorflow"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match="pip install ai-edge-litert"):
        interpreter_class()


@pytest.mark.skipif(not HAS_LITERT, reason="ai-edge-litert is not installed")
def test_import_and_run_do_not_import_tensorflow() -> None:
    code = (
        "import sys, numpy as np\n"
        "import facelandmarks.lite as fl\n"
        f"m = fl.LiteModel({str(SHORT)!r})\n"
        "m.run(np.zeros((2, 128, 128, 3), np.float32))\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("threads", [1, 2])
def test_dynamic_batch_equals_per_item(tiny_bytes: bytes, threads: int, rng) -> None:
    # one thread: one invoke per item (as fast or faster); several: resized to the batch
    model = LiteModel(tiny_bytes, num_threads=threads)
    assert model.batching == ("loop" if threads == 1 else "resize")
    assert model.input_shape == (8, 8, 3)
    assert model.input_dtype == np.float32
    x = _batch(rng, model, 5)
    one_by_one = np.concatenate([model(x[i : i + 1]) for i in range(5)])
    for size in (5, 2, 5, 1):  # sizes change back and forth
        out = model(x[:size])
        assert out.shape == (size, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, one_by_one[:size], rtol=1e-5, atol=1e-6)
    assert model.batching == ("loop" if threads == 1 else "resize")


def test_batch_resolved_only_at_invoke_is_still_resized(rng) -> None:
    # Flatten (as in the "spatial" head) reshapes by the runtime batch size, so the interpreter
    # knows the outputs' batch only after an invoke: the check must come after it, not before.
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    from facelandmarks.export import tflite_bytes

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    lite_model = LiteModel(tflite_bytes(model), num_threads=2)
    x = _batch(rng, lite_model, 4)
    out = lite_model(x)
    assert lite_model.batching == "resize"
    one_by_one = np.concatenate([lite_model(x[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(out, one_by_one, rtol=1e-5, atol=1e-5)


def test_fixed_batch_model_loops_and_equals_per_item(short: LiteModel, rng) -> None:
    assert short.batching == "loop"
    assert short.input_shape == (128, 128, 3)
    assert short.output_names == ("regressors", "classificators")
    x = _batch(rng, short, 3)
    raw, logits = short.run(x)
    assert raw.shape == (3, 896, 16) and logits.shape == (3, 896, 1)
    for i in range(3):
        r, s = short.run(x[i : i + 1])
        np.testing.assert_array_equal(raw[i : i + 1], r)
        np.testing.assert_array_equal(logits[i : i + 1], s)


def test_batch_that_does_not_come_out_first_falls_back_to_loop(rng) -> None:
    # BlazeFace resized to B returns (1, B * 896, 16), anchors grouped per feature map: a
    # model that claims a dynamic batch but does that must not be trusted with batches.
    model = LiteModel(SHORT, num_threads=1)
    x = _batch(rng, model, 3)
    expected = [model.run(x[i : i + 1]) for i in range(3)]
    model._resizable = True  # what a model with a dynamic signature would report
    raw, logits = model.run(x)
    assert model.batching == "loop"
    np.testing.assert_array_equal(raw, np.concatenate([e[0] for e in expected]))
    np.testing.assert_array_equal(logits, np.concatenate([e[1] for e in expected]))


def test_empty_batch(tiny: LiteModel, short: LiteModel) -> None:
    assert tiny(np.zeros((0, 8, 8, 3), np.float32)).shape == (0, 3)
    raw, logits = short.run(np.zeros((0, 128, 128, 3), np.float32))
    assert raw.shape == (0, 896, 16) and logits.shape == (0, 896, 1)


def test_integer_input_is_converted_for_float_models(tiny: LiteModel, rng) -> None:
    x = rng.integers(0, 3, (2, 8, 8, 3))
    np.testing.assert_allclose(tiny(x), tiny(x.astype(np.float32)), rtol=1e-6)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_counts_give_the_same_outputs(tiny_bytes: bytes, tiny: LiteModel, threads, rng):
    model = LiteModel(tiny_bytes, num_threads=threads)
    assert model.num_threads == threads
    x = _batch(rng, model, 4)
    np.testing.assert_allclose(model(x), tiny(x), rtol=1e-5, atol=1e-6)


def test_default_thread_count(tiny_bytes: bytes) -> None:
    assert 1 <= default_num_threads() <= lite.DEFAULT_NUM_THREADS
    assert LiteModel(tiny_bytes).num_threads == default_num_threads()


def test_concurrent_calls_of_different_sizes(tiny_bytes: bytes, rng) -> None:
    model = LiteModel(tiny_bytes, num_threads=1)
    inputs = [_batch(rng, model, 1 + i % 4) for i in range(8)]
    expected = [model(x) for x in inputs]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = model(inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, want in enumerate(expected):
        np.testing.assert_allclose(results[i], want, rtol=1e-5, atol=1e-6)


def test_model_from_path_and_bytes_agree(short: LiteModel, rng) -> None:
    from_bytes = LiteModel(SHORT.read_bytes(), num_threads=1)
    assert short.source == str(SHORT)
    assert from_bytes.source.endswith("bytes>")
    x = _batch(rng, short, 1)
    np.testing.assert_array_equal(short.run(x)[1], from_bytes.run(x)[1])


@pytest.mark.parametrize(
    ("batch", "match"),
    [
        (np.zeros((8, 8, 3), np.float32), "shape"),  # no batch axis
        (np.zeros((1, 8, 8, 1), np.float32), "shape"),
        (np.zeros((1, 9, 8, 3), np.float32), "shape"),
        (np.zeros((1, 8, 8, 3), bool), "dtype"),
        (np.zeros((1, 8, 8, 3), np.complex64), "dtype"),
        (np.full((1, 8, 8, 3), "a"), "dtype"),
    ],
)
def test_bad_batches_are_rejected(tiny: LiteModel, batch, match) -> None:
    with pytest.raises(ValueError, match=match) as info:
        tiny(batch)
    assert "Received" in str(info.value)


def test_call_on_a_multi_output_model_points_to_run(short: LiteModel) -> None:
    with pytest.raises(ValueError, match=r"2 outputs .* use \.run"):
        short(np.zeros((1, 128, 128, 3), np.float32))


def test_bad_models_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="model"):
        LiteModel(123)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"missing\.tflite"):
        LiteModel(tmp_path / "missing.tflite")
    with pytest.raises(ValueError, match="valid TensorFlow Lite"):
        LiteModel(b"not a flatbuffer at all")


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_rejected(threads) -> None:
    with pytest.raises((TypeError, ValueError), match="num_threads"):
        LiteModel(SHORT, num_threads=threads)
