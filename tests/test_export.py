"""Export (TensorFlow Lite, SavedModel) and the TensorFlow Lite inference runtime."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from facelandmarks import DetectorConfig, LandmarkDetector, StageConfig
from facelandmarks import engines as fl_engines
from facelandmarks import export as fl_export

pytestmark = pytest.mark.slow


def _two_stage() -> LandmarkDetector:
    stage = dict(backbone="mobilenetv3small", preprocessing="backbone", normalization="group")
    config = DetectorConfig(
        stages=(
            StageConfig(input_size=(64, 48), **stage),
            StageConfig(input_size=(64, 64), framing="points", color="gray", **stage),
        )
    )
    return LandmarkDetector(weights=None, config=config)


@pytest.fixture(scope="module")
def det():
    return _two_stage()


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(5)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(120, 90), (80, 80)]]


def test_tflite_runtime_matches_keras(det, images, tmp_path) -> None:
    keras_out = det.predict(images, batch_size=2, framing="image")
    assert np.isfinite(keras_out).all()
    saved = tmp_path / "d.keras"
    det.save(saved)
    lite = LandmarkDetector(weights=saved, runtime="tflite", cache_dir=tmp_path / "cache")
    out = lite.predict(images, batch_size=2, framing="image")
    # float32 kernels differ (XNNPACK vs oneDNN); 1e-2 px on a ~100 px image
    np.testing.assert_allclose(out, keras_out, atol=1e-2)
    one = lite.predict(images[1], framing="image")  # batch size changes: the interpreter is resized
    np.testing.assert_allclose(one[0], keras_out[1], atol=1e-2)
    # the conversion was cached, one file per stage, and is used by the next detector
    cached = sorted((tmp_path / "cache" / "tflite").glob("*.tflite"))
    assert [p.name.split("-")[1] for p in cached] == ["stage0", "stage1"]
    again = LandmarkDetector(weights=saved, runtime="tflite", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again.predict(images, batch_size=2, framing="image"), out)


def test_auto_runtime_never_converts_but_uses_a_cached_conversion(
    det, images, tmp_path, monkeypatch
) -> None:
    saved = tmp_path / "d.keras"
    det.save(saved)
    cache = tmp_path / "cache"
    real_convert = fl_export.tflite_bytes

    def no_conversion(model):
        raise AssertionError("runtime='auto' must not convert")

    monkeypatch.setattr(fl_export, "tflite_bytes", no_conversion)
    auto = LandmarkDetector(weights=saved, cache_dir=cache)
    assert auto.runtime == "auto" and auto.engines == ("keras", "keras")
    keras_out = auto.predict(images, batch_size=2, framing="image")
    assert not (cache / "tflite").exists()
    # once runtime="tflite" has converted (and cached) these weights, auto uses the cache
    monkeypatch.setattr(fl_export, "tflite_bytes", real_convert)
    lite = LandmarkDetector(weights=saved, runtime="tflite", cache_dir=cache)
    lite_out = lite.predict(images, batch_size=2, framing="image")
    monkeypatch.setattr(fl_export, "tflite_bytes", no_conversion)
    auto = LandmarkDetector(weights=saved, cache_dir=cache)
    assert auto.engines == ("tflite", "tflite")
    np.testing.assert_array_equal(auto.predict(images, batch_size=2, framing="image"), lite_out)
    np.testing.assert_allclose(lite_out, keras_out, atol=1e-2)
    # training changes the weights: the conversion no longer matches them
    from PIL import Image

    from facelandmarks import LandmarkDataset

    paths = []
    for i, img in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(img).save(paths[-1])
    pts = np.random.default_rng(1).uniform(10, 60, (2, 76, 2)).astype(np.float32)
    data = LandmarkDataset(paths, pts, ["a", "b"], ["a", "b"], ["a", "a"])
    auto.fit(data, epochs=1, batch_size=2, verbose=0)
    assert auto.engines == ("keras", "keras")


def test_set_runtime_checks_and_chains(det) -> None:
    with pytest.raises(ValueError, match="runtime must be one of"):
        det.set_runtime("onnx")
    with pytest.raises(ValueError, match="runtime must be one of"):
        LandmarkDetector(weights=None, backbone="mobilenetv3small", runtime="gpu")
    assert det.set_runtime("keras") is det and det.runtime == "keras"


def test_corrupt_cache_file_is_converted_again(det, tmp_path, caplog) -> None:
    model = det.models[0]
    directory = tmp_path / "tflite"
    first = fl_engines.cached_tflite_bytes(model, "k", directory)
    path = directory / "k.tflite"
    assert path.stat().st_size == len(first) + 32
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with caplog.at_level(logging.WARNING, logger="facelandmarks.engines"):
        second = fl_engines.cached_tflite_bytes(model, "k", directory)
    assert "corrupt" in caplog.text
    assert len(second) == len(first)
    assert path.stat().st_size == len(first) + 32  # replaced by a good file
    assert fl_engines.cached_tflite_bytes(model, "k", directory) == second


def test_unwritable_cache_still_converts(det, tmp_path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="facelandmarks.engines"):
        content = fl_engines.cached_tflite_bytes(det.models[0], "k", blocker / "tflite")
    assert len(content) > 10_000
    assert "could not cache" in caplog.text


def test_export_tflite_directory(det, images, tmp_path) -> None:
    out = det.export(tmp_path / "exported")
    assert sorted(os.listdir(out)) == ["detector.json", "stage0.tflite", "stage1.tflite"]
    meta = json.loads((out / "detector.json").read_text())
    assert DetectorConfig.from_dict(meta["config"]) == det.config
    from facelandmarks.lite import LiteModel

    stage = LiteModel((out / "stage1.tflite").read_bytes())
    assert stage.input_shape == (64, 64, 3)
    x = np.random.default_rng(0).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(stage(x), np.asarray(det.models[1](x)), atol=1e-4)
    with pytest.raises(ValueError, match=r"shape \(B, 64, 64, 3\) float32"):
        stage(x[:, :32])
    # nothing of the user's is overwritten, and no partial directory is left
    with pytest.raises(FileExistsError):
        det.export(out)
    with pytest.raises(ValueError, match="format must be one of"):
        det.export(tmp_path / "other", format="onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exported"]


def test_export_saved_model(det, tmp_path) -> None:
    import tensorflow as tf

    out = det.export(tmp_path / "sm", format="saved_model")
    loaded = tf.saved_model.load(str(out / "stage0"))
    x = np.random.default_rng(1).uniform(0, 255, (2, 64, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(
        loaded.serve(tf.constant(x)).numpy(), np.asarray(det.models[0](x)), atol=1e-5
    )


def _weights_with_cached_conversion(tmp_path):
    """A stand-in weights file and, in ``tmp_path/tflite``, a valid cache entry under the key
    the current code computes for its stage 0 (the flatbuffer is BlazeFace's, any will do)."""
    import hashlib
    from pathlib import Path

    from facelandmarks.fileio import sha256_of

    weights = tmp_path / "detector.keras"
    weights.write_bytes(b"stands in for a saved detector")
    flatbuffer = (
        Path(fl_engines.__file__).parent / "models" / "face_detection_short_range.tflite"
    ).read_bytes()
    key = (
        f"{sha256_of(weights)[:16]}-stage0-tf{fl_engines.tensorflow_version()}"
        f"-g{fl_export.LITE_GRAPH}"
    )
    (tmp_path / "tflite").mkdir()
    (tmp_path / "tflite" / f"{key}.tflite").write_bytes(
        flatbuffer + hashlib.sha256(flatbuffer).digest()
    )
    return weights


def test_cached_conversion_needs_no_keras_model(tmp_path) -> None:
    """A cache hit runs on TensorFlow Lite without loading the stage models (no TensorFlow)."""
    from facelandmarks.lite import LiteModel

    weights = _weights_with_cached_conversion(tmp_path)

    def never() -> list:
        raise AssertionError("the Keras models were loaded")

    source = fl_engines.WeightsSource(weights, None, tmp_path)
    for runtime in ("auto", "tflite"):
        engines = fl_engines.StageEngines(never, runtime, num_stages=1, source=source)
        assert isinstance(engines[0], LiteModel) and engines.names == ("tflite",)
        # iterating ends at the last stage without reaching for a Keras model for the next
        assert [type(e) for e in engines] == [LiteModel]
        assert engines[-1] is engines[0]
        with pytest.raises(IndexError, match="stage 1 of a 1-stage model"):
            engines[1]


def test_a_conversion_cached_before_a_graph_change_is_not_reused(tmp_path, monkeypatch) -> None:
    """The cache key carries LITE_GRAPH: after the conversion recipe changes, a file converted
    by the old one (same weights, same TensorFlow) is neither used nor mistaken for current."""
    weights = _weights_with_cached_conversion(tmp_path)
    monkeypatch.setattr(fl_export, "LITE_GRAPH", fl_export.LITE_GRAPH + 1)
    loaded = []

    def models() -> list:
        loaded.append(True)
        raise RuntimeError("conversion needed the Keras models")

    source = fl_engines.WeightsSource(weights, None, tmp_path)
    engines = fl_engines.StageEngines(models, "auto", num_stages=1, source=source)
    assert engines.names == ("keras",)  # "auto" never converts: the old file was not taken
    with pytest.raises(RuntimeError, match="conversion needed the Keras models"):
        fl_engines.StageEngines(models, "tflite", num_stages=1, source=source)[0]
    assert loaded


@pytest.mark.slow
def test_export_of_a_two_head_model_says_its_real_output_width(tmp_path) -> None:
    """The shipped default predicts 76 MUCT and 68 iBUG points side by side: detector.json
    must describe the (B, 288) output the file really has, not the default head's 152."""
    from facelandmarks import LandmarkDetector
    from facelandmarks.lite import LiteModel

    det = LandmarkDetector()
    out = det.export(tmp_path / "exported")
    meta = json.loads((out / "detector.json").read_text())
    assert meta["stages"][0]["output"].startswith("float32 (B, 288)")
    assert "muct76 76, ibug68 68" in meta["stages"][0]["output"]
    stage = LiteModel((out / "stage0.tflite").read_bytes())
    x = np.zeros((1, 128, 128, 3), np.float32)
    assert stage(x).shape == (1, 288)
