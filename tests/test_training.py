"""The tf.data pipeline: augmentation moves points with pixels; learning on real MUCT."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from facelandmarks.config import StageConfig
from facelandmarks.points import MIRROR_PERMUTATION
from facelandmarks.training import Augmentation, make_example_fn

pytestmark = pytest.mark.slow

FLIP_ONLY = Augmentation(
    flip=1.0, rotation=0, scale=0, shift=0, brightness=0, contrast=0, saturation=0
)


def _run(fn, image, points, seed=(1, 2), roi=None):
    crop, target = fn(
        tf.constant(image),
        tf.constant(points, tf.float32),
        tf.constant(seed, tf.int64),
        None if roi is None else tf.constant(roi, tf.float32),
    )
    return crop.numpy(), target.numpy().reshape(-1, 2)


def _dot_image(points: np.ndarray, w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    for x, y in points:
        if np.isfinite(x):
            cx, cy = round(float(x)), round(float(y))
            img[cy - 1 : cy + 2, cx - 1 : cx + 2] = 255
    return img


@pytest.mark.muct
def test_flip_matches_muct_mirror_rows(muct):
    """Flipping through the pipeline gives exactly MUCT's own mirrored ground truth."""
    stage = StageConfig(backbone="mobilenetv3small", input_size=(640, 480))
    fn = make_example_fn(stage, augment=FLIP_ONLY, mirror=MIRROR_PERMUTATION, jitter=False)
    picks = np.linspace(0, len(muct) - 1, 12).astype(int)
    for i in picks:
        img = np.asarray(tf.io.decode_jpeg(tf.io.read_file(muct.image_paths[i])))
        crop, xyn = _run(fn, img, muct.landmarks[i])
        np.testing.assert_allclose(crop, img[:, ::-1].astype(np.float32), atol=1e-3)
        xy = xyn * [480, 640] - 0.5
        expected = muct.mirror_landmarks[i]
        np.testing.assert_array_equal(np.isnan(xy), np.isnan(expected))
        np.testing.assert_allclose(xy[~np.isnan(xy)], expected[~np.isnan(expected)], atol=0.5)


def test_unavailable_points_stay_unavailable_and_outside_points_are_dropped(rng):
    pts = rng.uniform(20, 100, (76, 2)).astype(np.float32)
    pts[[3, 40]] = np.nan
    pts[5] = (-30.0, 50.0)  # outside the image: cannot be represented by the sigmoid head
    stage = StageConfig(backbone="mobilenetv3small", input_size=(64, 64))
    aug = Augmentation(rotation=15, scale=0.1, shift=0.05)
    fn = make_example_fn(stage, augment=aug, mirror=MIRROR_PERMUTATION, jitter=True)
    for s in range(5):
        _, xyn = _run(fn, _dot_image(pts, 120, 120), pts, seed=(s, 7))
        flipped = bool(np.isnan(xyn[MIRROR_PERMUTATION[3]]).all() and not np.isnan(xyn[3]).all())
        missing = {MIRROR_PERMUTATION[k] for k in (3, 40)} if flipped else {3, 40}
        for k in missing:
            assert np.isnan(xyn[k]).all()
        finite = xyn[np.isfinite(xyn).all(axis=1)]
        assert np.all((finite >= 0) & (finite <= 1))
        assert np.isnan(xyn).any(axis=1).sum() >= 3


@pytest.mark.parametrize("framing", ["image", "points", "face"])
def test_points_move_with_pixels(framing):
    """Draw a bright dot at one landmark; after a random rotation/scale/shift/flip the brightest
    pixel of the model input sits where the target says that landmark is."""
    w, h = 160, 200
    base = np.full((76, 2), np.nan, np.float32)
    base[:, 0] = np.linspace(40, 120, 76)
    base[:, 1] = np.linspace(60, 150, 76)
    stage = StageConfig(
        backbone="mobilenetv3small", input_size=(96, 80), framing=framing, angle_jitter=10.0
    )
    aug = Augmentation(rotation=20, scale=0.15, shift=0.05, brightness=0, contrast=0, saturation=0)
    fn = make_example_fn(stage, augment=aug, mirror=MIRROR_PERMUTATION, jitter=True)
    roi = (85.0, 100.0, 150.0, 0.4) if framing == "face" else None  # a rolled face frame
    for k, s in [(30, 0), (50, 1), (10, 2), (70, 3)]:
        img = _dot_image(base[[k]], w, h)
        crop, xyn = _run(fn, img, base, seed=(s, 11), roi=roi)
        # the dot carries label k, or its mirror partner if the sample was flipped
        cand = [k, MIRROR_PERMUTATION[k]]
        brightest = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
        got = np.array([brightest[1], brightest[0]], np.float32)
        dists = [np.linalg.norm(xyn[c] * [80, 96] - 0.5 - got) for c in cand]
        assert min(dists) < 2.0, (k, dists)


def test_a_rolled_points_frame_turns_with_the_faces_eyes(tmp_path):
    """A ``roll=True`` stage frames a rolled face as it frames the face upright: the targets
    (and the dots drawn at the points) land in the same places; an upright frame does not."""
    from PIL import Image

    from facelandmarks import LandmarkDataset
    from facelandmarks.training import make_tf_dataset

    local = np.array([[-30, 0], [-20, 0], [20, 0], [30, 0], [0, 60], [-25, 40]], np.float64)
    pts = []
    for angle in (0.0, 0.6):
        c, s = np.cos(angle), np.sin(angle)
        pts.append(local @ np.array([[c, s], [-s, c]]) + (100.0, 90.0))
    pts = np.stack(pts).astype(np.float32)
    paths = []
    for i, p in enumerate(pts):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(_dot_image(p, 200, 200)).save(paths[-1])
    data = LandmarkDataset(paths, pts, ["a", "b"], ["a", "b"], ["", ""], scheme="")
    eyes = ((0, 1), (2, 3))

    def targets(roll):
        stage = StageConfig(input_size=(64, 64), framing="points", box_margin=0.2, roll=roll)
        ds = make_tf_dataset(data, stage, batch_size=2, training=False, targets=pts, eyes=eyes)
        x, y = next(iter(ds))
        return x.numpy(), y.numpy().reshape(2, -1, 2)

    crops, xyn = targets(True)
    np.testing.assert_allclose(xyn[1], xyn[0], atol=1e-5)
    for k in range(2):  # each dot is where its target says
        u, v = np.round(xyn[k, 4] * 64 - 0.5).astype(int)
        assert crops[k][v, u, 0] > 100
    _, upright = targets(False)
    assert np.abs(upright[1] - upright[0]).max() > 0.05
    stage = StageConfig(input_size=(64, 64), framing="points", roll=True)
    with pytest.raises(ValueError, match="roll=True stage needs eyes"):
        make_tf_dataset(data, stage, batch_size=2, training=False, targets=pts)


def _noise_dataset(folder):
    """Six 30x40 noise images with random points, one subject each."""
    from PIL import Image

    from facelandmarks import LandmarkDataset

    paths = []
    for i in range(6):
        p = folder / f"{i}.png"
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (40, 30, 3), np.uint8)).save(p)
        paths.append(str(p))
    lm = np.random.default_rng(0).uniform(5, 25, (6, 76, 2)).astype(np.float32)
    return LandmarkDataset(paths, lm, list("abcdef"), list("abcdef"), ["a"] * 6)


def test_pipeline_is_deterministic_for_a_seed(tmp_path):
    """What "deterministic" promises (docs/training.md): for a seed, the same order, the same
    random draws and so the same targets; the pixels equal to float rounding (multi-threaded
    kernels may sum in another order: up to 1.5e-5 of 255 was seen), not bit for bit."""
    from facelandmarks.training import make_tf_dataset

    ds = _noise_dataset(tmp_path)
    stage = StageConfig(backbone="mobilenetv3small", input_size=(32, 32))
    aug = Augmentation(blur=0.5, noise=0.5, occlusion=0.5, background=0.5, lowres=0.5)

    def first_batch(seed):
        d = make_tf_dataset(ds, stage, batch_size=6, training=True, augment=aug, seed=seed)
        x, y = next(iter(d))
        return x.numpy(), y.numpy()

    a, b, c = first_batch(0), first_batch(0), first_batch(1)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-3)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-5)
    np.testing.assert_array_equal(np.isnan(a[1]), np.isnan(b[1]))
    # another seed: other draws (not a rounding difference)
    assert np.abs(a[0] - c[0]).max() > 10


@pytest.mark.parametrize(
    "mirror", [MIRROR_PERMUTATION[:-1], (*MIRROR_PERMUTATION[:-1], 76), np.roll(np.arange(76), 1)]
)
def test_a_flip_permutation_that_is_no_mirror_map_is_refused_before_training(tmp_path, mirror):
    """Too short or out of range, Augmentation(mirror=...) failed inside TensorFlow's graph
    (a shape ValueError or InvalidArgumentError naming GatherV2); a permutation that is not
    its own inverse trained on flips with the points scrambled, without a word."""
    from facelandmarks.training import make_tf_dataset

    stage = StageConfig(backbone="mobilenetv3small", input_size=(32, 32))
    aug = Augmentation(flip=1.0, mirror=mirror)
    with pytest.raises(ValueError, match=r"mirror must be a permutation of 0\.\.75"):
        make_tf_dataset(_noise_dataset(tmp_path), stage, batch_size=2, training=True, augment=aug)


def _script(tmp_path, mode, **env):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("_train_script.py")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), mode],
        capture_output=True,
        text=True,
        timeout=600,
        # the checkout's package, installed or not (the script's folder is tests/)
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(script.parent.parent), os.environ.get("PYTHONPATH")) if p
            ),
            **env,
        },
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    return proc.returncode, (json.loads(lines[-1][7:]) if lines else None), proc.stderr


def test_fit_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    code, out, err = _script(tmp_path, "mirrored", FL_TWO_CPUS="1")
    assert code == 0, err[-2000:]
    assert out["replicas"] == 2 and out["epochs_run"] == 3 and out["pred_shape"] == [2, 76, 2]


def test_killed_fit_resumes_from_last_finished_epoch(tmp_path):
    code, out, err = _script(tmp_path, "kill")
    assert code == 17 and out is None, err[-2000:]
    assert (tmp_path / "ckpt" / "stage0" / "state.json").is_file()
    assert (tmp_path / "ckpt" / "stage0" / "best.weights.h5").is_file()
    code, out, err = _script(tmp_path, "resume")
    assert code == 0, err[-2000:]
    assert out["epochs_run"] == 1  # epochs 1-2 restored from the checkpoint, only epoch 3 ran
    assert (tmp_path / "ckpt" / "stage0" / "final.weights.h5").is_file()


def test_two_stage_fit_with_validation_scores_each_stage(tmp_path):
    """Every stage of a multi-stage fit is scored in inference mode on the validation data
    (an earlier stage alone, as if it were the last)."""
    import csv

    import keras

    from facelandmarks import DetectorConfig, LandmarkDetector

    ds = _noise_dataset(tmp_path)
    kw = dict(backbone="mobilenetv3small", preprocessing="backbone", normalization="group")
    config = DetectorConfig(
        stages=(
            StageConfig(input_size=(32, 32), **kw),
            StageConfig(input_size=(32, 32), framing="points", color="gray", **kw),
        )
    )
    det = LandmarkDetector(weights=None, config=config)
    log = tmp_path / "log.csv"
    det.fit(
        ds.subset(range(4)),
        ds.subset([4, 5]),
        epochs=1,
        batch_size=2,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(log), append=True)],
    )
    assert len(det.history) == 2
    for h in det.history:
        assert np.isfinite(h.history["val_nme"]).all()
    # log.csv says which stage each row is (facelandmarks train writes it the same way)
    rows = list(csv.DictReader(log.open()))
    assert [r["stage"] for r in rows] == ["0", "1"] and all(r["val_nme"] for r in rows)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_pipeline_applies_exif_orientation_like_predict(tmp_path, suffix):
    """Training sees a rotated phone photo upright, as predict and evaluate do, so landmarks
    given in the viewed frame line up with the pixels in both."""
    from PIL import Image

    from facelandmarks import LandmarkDataset
    from facelandmarks.images import exif_orientation, load_image
    from facelandmarks.training import make_tf_dataset

    stored = np.zeros((32, 48, 3), np.uint8)  # stored 48 wide, 32 high
    stored[:, :16] = (255, 0, 0)  # red band on the stored image's left
    exif = Image.Exif()
    exif[0x0112] = 6  # view = stored rotated 90 degrees clockwise: 32 wide, 48 high
    path = tmp_path / f"turned{suffix}"
    Image.fromarray(stored).save(path, exif=exif, quality=95, subsampling=0)
    upright = tmp_path / f"plain{suffix}"
    Image.fromarray(stored).save(upright, quality=95, subsampling=0)
    assert exif_orientation(path) == 6 and exif_orientation(upright) == 1
    viewed = load_image(path)
    assert viewed.shape == (48, 32, 3)
    lm = np.full((2, 76, 2), 10.0, np.float32)
    ds = LandmarkDataset([str(path), str(upright)], lm, ["a", "b"], ["a", "b"], ["a", "a"])
    stage = StageConfig(backbone="mobilenetv3small", input_size=(48, 32))  # the viewed size
    x, _ = next(iter(make_tf_dataset(ds, stage, batch_size=2, training=False)))
    x = x.numpy()
    # the red band is now at the top of the viewed image, as load_image shows it
    np.testing.assert_allclose(x[0], viewed, atol=1.0)
    assert x[0][:16, :, 0].mean() > 200 and x[0][-16:, :, 0].mean() < 50


def test_pipeline_reads_the_image_formats_predict_reads(tmp_path):
    """TIFF (which predict and the face detection of training read through Pillow) stopped
    the first batch with TensorFlow's "Unknown image file format", naming no file."""
    from PIL import Image

    from facelandmarks.training import make_tf_dataset

    png = _noise_dataset(tmp_path).subset([0, 1])
    for p in png.image_paths:
        Image.open(p).save(p[:-4] + ".tif")
    tif = replace(png, image_paths=[p[:-4] + ".tif" for p in png.image_paths])
    stage = StageConfig(backbone="mobilenetv3small", input_size=(40, 32), framing="image")
    x, y = (next(iter(make_tf_dataset(d, stage, batch_size=2, training=False))) for d in (tif, png))
    np.testing.assert_allclose(x[0].numpy(), y[0].numpy(), atol=1e-3)


def _tiny_detector():
    from facelandmarks import LandmarkDetector

    return LandmarkDetector(
        weights=None, backbone="mobilenetv3small", input_size=(32, 32), normalization="group"
    )


def test_early_stopping_stops_when_the_monitored_value_stalls(tmp_path):
    """One image, no augmentation, a learning rate too small to move a float32 weight: the
    training loss is the same every epoch, so patience 2 ends the stage after 3 epochs."""
    det = _tiny_detector()
    ds = _noise_dataset(tmp_path).subset([0])
    history = det.fit(ds, epochs=10, batch_size=1, learning_rate=1e-30, early_stopping=2, verbose=0)
    assert len(history.epoch) == 3
    assert len(set(np.round(history.history["loss"], 6))) == 1
    # without it, every epoch runs
    history = _tiny_detector().fit(ds, epochs=4, batch_size=1, learning_rate=1e-30, verbose=0)
    assert len(history.epoch) == 4
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="early_stopping must be None or a patience"):
            det.fit(ds, epochs=1, early_stopping=bad)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_fit_with_validation_data_keeps_the_best_epoch(tmp_path, checkpoint):
    """restore_best (default True with validation data) keeps the weights of the epoch with
    the lowest val_nme, with or without a checkpoint folder (without one, fit kept the last
    epoch unless early_stopping was also given)."""
    import keras

    scores = [0.3, 0.1, 0.2]  # epoch 2 is the best
    kept = []

    class Scores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_nme"] = scores[epoch]
            kept.append(self.model.get_weights())

    det = _tiny_detector()
    ds = _noise_dataset(tmp_path)
    det.fit(
        ds.subset([0, 1]),
        ds.subset([2]),
        epochs=3,
        batch_size=2,
        callbacks=[Scores()],
        checkpoint_dir=tmp_path / "ckpt" if checkpoint else None,
        verbose=0,
    )
    final = det.models[0].get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(kept[1], kept[2], strict=True))
    for a, b in zip(final, kept[1], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("policy", [True, "mixed_bfloat16"])
def test_mixed_precision_trains_in_half_and_leaves_a_float32_model(tmp_path, policy):
    import keras

    det = _tiny_detector()
    ds = _noise_dataset(tmp_path)
    model = det.models[0]
    seen = {}

    class Spy(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            layers = list(model._flatten_layers(include_self=False, recursive=True))
            seen["compute"] = {layer.compute_dtype for layer in layers[:-1]}
            seen["head"] = model.layers[-1].compute_dtype
            seen["optimizer"] = type(model.optimizer).__name__

    before = [w.copy() for w in model.get_weights()]
    history = det.fit(
        ds.subset(range(4)),
        ds.subset([4, 5]),  # val_nme is scored in inference mode under the policy too
        epochs=2,
        batch_size=2,
        mixed_precision=policy,
        callbacks=[Spy()],
        verbose=0,
    )
    assert np.isfinite(history.history["val_nme"]).all()
    half = "float16" if policy is True else "bfloat16"
    assert seen["compute"] == {half} and seen["head"] == "float32"
    assert seen["optimizer"] == ("LossScaleOptimizer" if policy is True else "Adam")
    assert np.isfinite(history.history["loss"]).all()
    # back to float32, weights float32 and trained
    for layer in model._flatten_layers(include_self=True, recursive=True):
        assert layer.compute_dtype == "float32", layer.name
    after = model.get_weights()
    assert all(w.dtype == np.float32 for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    pts = det.predict(np.zeros((40, 30, 3), np.uint8), framing="image")
    assert pts.dtype == np.float32 and np.isfinite(pts).all()


def test_mixed_precision_auto_is_off_without_a_gpu_and_bad_values_fail(tmp_path):
    from facelandmarks.training.fit import resolve_mixed_precision as _resolve_mixed_precision

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible: 'auto' turns mixed precision on")
    assert _resolve_mixed_precision("auto") is None
    assert _resolve_mixed_precision(False) is None
    assert _resolve_mixed_precision(True) == "mixed_float16"
    det = _tiny_detector()
    with pytest.raises(ValueError, match="mixed_precision must be"):
        det.fit(_noise_dataset(tmp_path), epochs=1, mixed_precision="float16")


def test_fit_names_a_truncated_jpeg_before_training_starts(tmp_path):
    """TensorFlow's decoder would fail mid-epoch with "jpeg::Uncompress failed" and no name;
    the files are checked (header and end marker) before the first batch."""
    import keras
    from PIL import Image

    from facelandmarks import LandmarkDataset

    paths = []
    for i in range(4):
        p = tmp_path / f"{i}.jpg"
        pixels = np.random.default_rng(i).integers(0, 255, (40, 30, 3), np.uint8)
        Image.fromarray(pixels).save(p, quality=90)
        paths.append(str(p))
    data = (tmp_path / "2.jpg").read_bytes()
    (tmp_path / "2.jpg").write_bytes(data[: len(data) // 2])  # a real JPEG, cut
    lm = np.random.default_rng(0).uniform(5, 25, (4, 76, 2)).astype(np.float32)
    ds = LandmarkDataset(paths, lm, list("abcd"), list("abcd"), ["a"] * 4)
    batches = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            batches.append(batch)

    with pytest.raises(ValueError, match=r"2\.jpg \(truncated JPEG") as info:
        _tiny_detector().fit(ds, epochs=1, batch_size=2, callbacks=[Count()], verbose=0)
    assert "0.jpg" not in str(info.value) and "1 training image(s)" in str(info.value)
    assert batches == []


def test_fit_refuses_training_data_without_one_annotated_point(tmp_path):
    """The masked loss of such data is 0: fit ran every epoch and 'trained' nothing."""
    from dataclasses import replace

    ds = _noise_dataset(tmp_path)
    blank = replace(ds, landmarks=ds.landmarks * np.nan)
    with pytest.raises(ValueError, match="every training landmark is NaN"):
        _tiny_detector().fit(blank, epochs=1, batch_size=2, verbose=0)


def test_fit_fine_tunes_a_loaded_detector_without_resetting_its_head(tmp_path):
    """A fresh model's head starts at the mean training shape; a loaded (trained) one keeps
    its head: fine-tuning must not throw away what it learned."""
    ds = _noise_dataset(tmp_path)
    fresh = _tiny_detector()
    bias_before = fresh.model.get_layer("landmarks").get_weights()[1].copy()
    fresh.fit(ds, epochs=1, batch_size=2, learning_rate=1e-30, verbose=0)
    bias_fresh = fresh.model.get_layer("landmarks").get_weights()[1]
    assert np.abs(bias_fresh - bias_before).max() > 0.1  # moved to the mean shape's logit
    path = fresh.save(tmp_path / "d.keras")
    from facelandmarks import LandmarkDetector

    loaded = LandmarkDetector(weights=path, runtime="keras")
    loaded.fit(ds, epochs=1, batch_size=2, learning_rate=1e-30, verbose=0)
    np.testing.assert_allclose(
        loaded.model.get_layer("landmarks").get_weights()[1], bias_fresh, atol=1e-6
    )


def _tiny_run_config(tmp_path, **fit_and_data):
    """A one-stage whole-image run on a fake MUCT folder (noise pictures)."""
    from test_cli import make_fake_muct

    from facelandmarks.training.config import TrainConfig

    make_fake_muct(tmp_path / "muct", subjects=6)
    val = fit_and_data.pop("validation_fraction", 0.0)
    raw = {
        "detector": {
            "stages": [
                {
                    "backbone": "mobilenetv3small",
                    "input_size": [64, 48],
                    "normalization": "group",
                    "framing": "image",
                }
            ]
        },
        "data": {
            "sets": [{"name": "muct", "format": "muct", "path": "muct", "test_fraction": 0.3}],
            "validation_fraction": val,
        },
        "fit": {"epochs": 1, "batch_size": 2, **fit_and_data},
        "output": "run",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    return TrainConfig.load(path)


@pytest.mark.parametrize(("validation_fraction", "restores"), [(0.0, False), (0.4, None)])
def test_a_run_without_a_validation_split_never_chooses_by_the_test_scores(
    tmp_path, monkeypatch, validation_fraction, restores
):
    """Without data.validation_fraction the per-epoch val_nme is the test split's: the run must
    keep the last epoch (restore_best False), as docs/training.md promises; with a validation
    split the best epoch by val_nme is kept (restore_best left to train_parts: True)."""
    from facelandmarks.training import run as fl_run

    seen = {}

    class StopError(Exception):
        pass

    def fake_train_parts(det_cfg, models, parts, fit, **kwargs):
        seen["restore_best"] = fit.restore_best
        seen["sides"] = sorted(parts[0].sides)
        raise StopError

    monkeypatch.setattr(fl_run, "train_parts", fake_train_parts)
    config = _tiny_run_config(tmp_path, validation_fraction=validation_fraction)
    with pytest.raises(StopError):
        fl_run.run(config, verbose=0)
    assert seen == {"restore_best": restores, "sides": ["test", "train", "val"]}


@pytest.mark.parametrize("fit", [{"early_stopping": 3}, {"restore_best": True}])
def test_choosing_an_epoch_without_a_validation_split_is_refused(tmp_path, fit):
    from facelandmarks.training.config import TrainConfigError

    with pytest.raises(TrainConfigError, match=r"needs data\.validation_fraction > 0"):
        _tiny_run_config(tmp_path, **fit)
    _tiny_run_config(tmp_path / "ok", validation_fraction=0.2, **fit)  # fine with one


def _refine_config(tmp_path, epochs, stage1=None):
    """A run that adds a points-framed stage to a saved one-stage whole-image detector."""
    from test_cli import make_fake_muct

    from facelandmarks import LandmarkDetector
    from facelandmarks.training.config import TrainConfig

    make_fake_muct(tmp_path / "muct", subjects=6)
    init = LandmarkDetector(
        weights=None, backbone="mobilenetv3small", input_size=(64, 48), normalization="group"
    )
    init.save(tmp_path / "init.keras")
    stage0 = {
        "backbone": "mobilenetv3small",
        "input_size": [64, 48],
        "normalization": "group",
        "framing": "image",
    }
    raw = {
        "detector": {"stages": [stage0, {**stage0, "framing": "points", **(stage1 or {})}]},
        "data": {"sets": [{"name": "muct", "format": "muct", "path": "muct"}]},
        "fit": {"epochs": epochs, "batch_size": 2, "learning_rate": 1e-30},
        "init": "init.keras",
        "output": "run",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    return TrainConfig.load(path), init


def test_a_run_can_add_a_refining_stage_to_a_trained_detector(tmp_path):
    """init with fewer stages than the config: the new stage starts as a copy of init's last
    stage (so with a learning rate of 1e-30 it ends equal to it), and the stage given 0 epochs
    is kept exactly as init gave it."""
    from facelandmarks import LandmarkDetector
    from facelandmarks.training.run import run

    config, init = _refine_config(tmp_path, [0, 1])
    result = run(config, verbose=0)
    assert "stage0_frame_nme" not in result and "stage1_frame_nme" in result
    out = LandmarkDetector(tmp_path / "run" / "detector.keras", runtime="keras")
    assert [s.framing for s in out.config.stages] == ["image", "points"]
    want = init.models[0].get_weights()
    for got in (out.models[0].get_weights(), out.models[1].get_weights()):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)
    xy = out.predict(np.zeros((48, 64, 3), np.uint8), framing="image")
    assert xy.shape == (1, 76, 2) and np.isfinite(xy).all()


@pytest.mark.parametrize(
    ("epochs", "stage1", "error"),
    [
        ([0, 0], None, r"fit\.epochs must be a positive integer"),
        ([1, False], None, r"fit\.epochs must be a positive integer"),
        ([1, 0], None, r"stages \[1\] are new .* must be trained"),
        ([0, 1], {"input_size": [32, 32]}, r"stages beyond init's copy its last stage"),
    ],
)
def test_a_refining_run_refuses_stages_it_cannot_start(tmp_path, epochs, stage1, error):
    from facelandmarks.training.config import TrainConfigError
    from facelandmarks.training.run import run

    with pytest.raises((TrainConfigError, ValueError), match=error):
        config, _ = _refine_config(tmp_path, epochs, stage1)
        run(config, verbose=0)


def test_training_faces_are_detected_once_then_read_from_the_cache(tmp_path):
    from PIL import Image

    from facelandmarks.face_detection import FaceBox
    from facelandmarks.training.faces import detect_training_faces

    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (40, 30)).save(paths[-1])
    points = np.array([[[10, 10], [20, 15]], [[np.nan, np.nan], [30, 20]]], np.float32)

    class Detector:
        name, calls = "fake", 0

        def detect(self, image):
            self.calls += 1
            return [FaceBox((0, 0, 4, 4), 0.9), FaceBox((8, 8, 24, 18), 0.8)]

    detector = Detector()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / ".detections-fake-0.npz.part-killed.npz").write_bytes(b"half")
    first = detect_training_faces(paths, points, detector, cache_dir=tmp_path / "cache")
    # the .npz alone: no temporary file left, and a killed run's half-written one removed
    (cache,) = (tmp_path / "cache").iterdir()
    assert cache.name.startswith("detections-fake-") and cache.suffix == ".npz"
    again = detect_training_faces(paths, points, detector, cache_dir=tmp_path / "cache")
    assert detector.calls == 2  # the second call read the cache
    np.testing.assert_array_equal(first.found, [True, False])
    np.testing.assert_array_equal(first.boxes[0], [8, 8, 24, 18])
    np.testing.assert_array_equal(first.scores, np.float32([0.8, 0.0]))
    for name in ("boxes", "eyes", "scores", "found"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))


def test_union_targets_puts_schemeless_points_in_the_first_head_or_says_why_not():
    """Points of a dataset without a scheme fill the first head; with several heads a count
    that does not fit it is refused with a message (it was a raw NumPy broadcast error)."""
    from facelandmarks import LandmarkDataset
    from facelandmarks.config import DetectorConfig
    from facelandmarks.training.core import union_targets

    config = DetectorConfig(heads=(("mine", 10), ("ibug68", 68)))
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 100, (2, 10, 2)).astype(np.float32)
    data = LandmarkDataset(["a.png", "b.png"], pts, ["a", "b"], ["a", "b"], ["", ""], scheme="")
    out = union_targets(data, config)
    assert data.scheme == "" and out.shape == (2, 10 + 68, 2)
    np.testing.assert_array_equal(out[:, :10], pts)
    assert np.isnan(out[:, 10:]).all()
    five = LandmarkDataset(["a.png"], pts[:1, :5], ["a"], ["a"], [""], scheme="")
    with pytest.raises(
        ValueError, match=r"5 points per face; this detector's 'mine' head predicts 10"
    ):
        union_targets(five, config)
