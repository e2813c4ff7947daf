"""LandmarkDetector: inputs, output contract, save/load round trip, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facelandmarks import LandmarkDataset, LandmarkDetector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def det():
    return LandmarkDetector(
        weights=None, backbone="mobilenetv3small", input_size=(64, 48), normalization="group"
    )


def _face_like(w: int, h: int, seed: int = 0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.random.default_rng(seed)
    img = np.stack(
        [(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), r.integers(0, 255, (h, w))],
        axis=-1,
    )
    return img.astype(np.uint8)


def test_predict_shapes_for_every_input_kind(det, tmp_path):
    arr = _face_like(80, 100)
    path = tmp_path / "a.png"
    Image.fromarray(_face_like(120, 90, 1)).save(path)
    pil = Image.fromarray(_face_like(60, 70, 2))
    whole = {"framing": "image"}  # synthetic pictures: no face for a detector to find
    for single in (arr, str(path), path, pil):
        out = det.predict(single, **whole)
        assert out.shape == (1, 76, 2) and out.dtype == np.float32 and np.isfinite(out).all()
    many = det.predict([arr, str(path), pil], batch_size=2, **whole)
    assert many.shape == (3, 76, 2) and np.isfinite(many).all()
    # Same image alone or in a batch of mixed sizes: same answer, up to float32 kernels that
    # differ with the batch size (oneDNN picks them per shape): 1e-3 px, a thousandth of a pixel.
    np.testing.assert_allclose(many[1], det.predict(path, **whole)[0], atol=1e-3)
    batch4d = det.predict(np.stack([arr, arr[:, ::-1]]), **whole)
    assert batch4d.shape == (2, 76, 2) and np.isfinite(batch4d).all()
    gen = det.predict(iter([arr, arr]), verbose=0, **whole)
    assert gen.shape == (2, 76, 2)
    folder = tmp_path / "folder"
    folder.mkdir()
    for name in ("b.png", "a.png", "notes.txt"):
        (folder / name).write_bytes(path.read_bytes())
    # a folder stands for the images in it, sorted by name
    np.testing.assert_allclose(det.predict(folder, **whole), det.predict([path, path], **whole))


def test_predictions_are_in_each_images_own_pixels(det):
    """A whole-image model sees (almost) the same input for an image and its 2x upscale, so
    its pixel outputs must scale with the image: x2 = (x + 0.5) * 2 - 0.5."""
    small = _face_like(96, 128, 3)
    big = np.asarray(Image.fromarray(small).resize((192, 256), Image.NEAREST))
    p_small = det.predict(small, framing="image")[0]
    p_big = det.predict(big, framing="image")[0]
    np.testing.assert_allclose(p_big, (p_small + 0.5) * 2 - 0.5, atol=2.0)
    # and the predictions are inside a sane range of the frame
    assert np.all(p_small > -0.5) and np.all(p_small[:, 0] < 96) and np.all(p_small[:, 1] < 128)


def test_predict_dataset_and_evaluate(det, tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(_face_like(48, 64, i)).save(p)
        paths.append(str(p))
    truth = np.random.default_rng(0).uniform(5, 40, (3, 76, 2)).astype(np.float32)
    truth[0, 3] = np.nan
    ds = LandmarkDataset(paths, truth, ["a", "b", "c"], ["1", "2", "3"], ["a", "a", "a"])
    assert det.predict(ds, framing="image").shape == (3, 76, 2)
    scores = det.evaluate(ds, framing="image", return_predictions=True)
    for key in (
        "nme",
        "nme_pupil",
        "mean_error_px",
        "failure_rate@0.08",
        "failure_rate@0.10",
        "auc@0.08",
        "auc@0.10",
        "n_images",
    ):
        assert key in scores
    assert scores["n_images"] == 3
    assert scores["predictions"].shape == (3, 76, 2)
    with pytest.raises(ValueError, match="landmarks must have shape"):
        det.evaluate((paths, truth[:2]), framing="image")


def test_save_load_round_trip(det, tmp_path):
    img = _face_like(50, 70, 5)
    path = det.save(tmp_path / "sub" / "model.keras")
    again = LandmarkDetector(weights=path)
    before = det.predict(img, framing="image")
    assert np.isfinite(before).all()
    np.testing.assert_array_equal(again.predict(img, framing="image"), before)
    assert again.config == det.config
    assert [p.name for p in path.parent.iterdir()] == ["model.keras"]  # no temp file left
    with pytest.raises(ValueError, match=r"\.keras"):
        det.save(tmp_path / "model.h5")


def test_a_missing_weights_path_is_a_value_error_listing_the_presets(tmp_path):
    # as documented: it may be a misspelt preset name, so the message lists the presets
    with pytest.raises(ValueError, match=r"nope\.keras.*does not exist") as info:
        LandmarkDetector(weights=str(tmp_path / "nope.keras"))
    assert "'wild-mnv3s'" in str(info.value) and not isinstance(info.value, OSError)


def test_save_reads_a_home_path_as_loading_and_export_do(det, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert det.save("~/m.keras") == tmp_path / "home" / "m.keras"
    assert not (tmp_path / "~").exists()
    assert LandmarkDetector(weights="~/m.keras").config == det.config


def test_bad_inputs_raise_clear_errors(det, tmp_path):
    # no image in, no landmarks out: the same shape contract as for N images (and as
    # predict_faces([]) == [])
    assert det.predict([]).shape == (0, 76, 2) and det.predict_faces([]) == []
    with pytest.raises(ValueError, match="framing"):
        det.predict(_face_like(10, 10), framing="whole")
    for ignored in ({"boxes": [[(0, 0, 5, 5)]]}, {"face_detector": "no-such-detector"}):
        with pytest.raises(ValueError, match="framing='image'"):  # it used to be ignored
            det.iter_faces(_face_like(10, 10), framing="image", **ignored)
    with pytest.raises((ValueError, TypeError), match="float64"):
        det.predict(np.zeros((10, 10, 3)))
    with pytest.raises(FileNotFoundError, match=r"nope\.jpg"):
        det.predict(str(tmp_path / "nope.jpg"))
    with pytest.raises(ValueError, match="batch_size"):
        det.predict(_face_like(10, 10), batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):  # at the call, not at the first next()
        det.iter_faces(_face_like(10, 10), batch_size=0)
    with pytest.raises(TypeError, match="LandmarkDataset"):
        det.fit(np.zeros((2, 76, 2)))


def test_a_photo_without_a_face_gives_nan_and_a_warning(det, caplog):
    """predict never invents a face: no face found -> NaN landmarks, and a warning says so."""
    blank = np.full((240, 320, 3), 127, np.uint8)
    with caplog.at_level("WARNING", logger="facelandmarks"):
        out = det.predict([blank, blank])
    assert out.shape == (2, 76, 2) and np.isnan(out).all()
    assert "no face found in <array #0>" in caplog.text
    assert "no face found in <array #1>" in caplog.text


def test_on_error_skip_keeps_the_good_images(det, tmp_path):
    good = _face_like(48, 64, 1)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(ValueError, match=r"broken\.jpg"):
        det.predict([good, str(bad), good], framing="image")
    out = det.predict([good, str(bad), good], framing="image", on_error="skip")
    assert np.isfinite(out[[0, 2]]).all() and np.isnan(out[1]).all()
    results = list(det.iter_faces([good, str(bad)], framing="image", on_error="skip"))
    assert [r.index for r in results] == [0, 1]
    assert results[0].error is None and len(results[0].faces) == 1
    assert "broken.jpg" in results[1].name and results[1].error and results[1].faces == []


def test_weights_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="no-such-preset"):
        LandmarkDetector(weights="no-such-preset")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"junk\.bin"):
        LandmarkDetector(weights=junk)
    with pytest.raises(ValueError, match="backbone"):
        LandmarkDetector(weights=None, backbone="vgg")
    with pytest.raises(TypeError, match="weights"):
        LandmarkDetector(weights=3)


def test_predict_faces_with_given_boxes(det):
    img = _face_like(120, 160, 7)
    faces = det.predict_faces([img, img], boxes=[[(20, 30, 80, 100)], []])
    assert len(faces) == 2 and faces[1] == []
    (face,) = faces[0]
    assert face.score is None and face.box == (20.0, 30.0, 80.0, 100.0)
    assert face.landmarks.shape == (76, 2) and face.landmarks.dtype == np.float32
    # The points come from a crop around the box: they lie near it, in the image's pixels.
    assert np.all(face.landmarks[:, 0] > -60) and np.all(face.landmarks[:, 0] < 160)
    with pytest.raises(ValueError, match="one entry per image"):
        det.predict_faces([img, img], boxes=[[(20, 30, 80, 100)]])
    with pytest.raises(ValueError, match="x1 > x0"):
        det.predict_faces([img], boxes=[[(80, 30, 20, 100)]])


def test_predict_faces_with_a_custom_detector(det):
    from facelandmarks.face_detection import FaceBox

    class TwoFaces:
        name = "default"

        def detect(self, rgb):
            return [FaceBox((10.0, 10.0, 50.0, 60.0), 3.0), FaceBox((60.0, 20.0, 100.0, 70.0), 1.0)]

    class NoFace:
        name = "default"

        def detect(self, rgb):
            return []

    img = _face_like(120, 100, 8)
    faces = det.predict_faces([img, img, img], face_detector=TwoFaces(), batch_size=3)
    assert [len(f) for f in faces] == [2, 2, 2]
    # same size: the face the detector is much surer of comes first (prominence weighs the
    # score squared: 9x), although the other one is nearer the image's centre ...
    assert [f.score for f in faces[0]] == [3.0, 1.0]

    # ... which decides between equally sure faces
    class EquallySure(TwoFaces):
        def detect(self, rgb):
            return [FaceBox(f.box, 2.0) for f in super().detect(rgb)]

    found = det.predict_faces(img, face_detector=EquallySure())[0]
    assert [f.box for f in found] == [(60.0, 20.0, 100.0, 70.0), (10.0, 10.0, 50.0, 60.0)]
    # batching across images does not change a face's answer
    alone = det.predict_faces(img, face_detector=TwoFaces(), batch_size=1)[0]
    # (up to float32 kernels chosen per batch size: CI saw 1.7e-4 px; allow 1e-3 px)
    np.testing.assert_allclose(alone[1].landmarks, faces[2][1].landmarks, atol=1e-3)
    assert det.predict_faces([img], face_detector=NoFace()) == [[]]


def test_the_main_face_is_the_most_prominent_not_the_largest(det):
    """A bigger face cut by the image's edge loses to the whole face in the middle; among
    whole centred faces the bigger one wins."""
    from facelandmarks.face_detection import FaceBox, prominence

    centred = (40.0, 30.0, 80.0, 80.0)  # 40x50, centred in the 120x110 image
    edge = (95.0, 0.0, 165.0, 80.0)  # 70x80, 25x80 of it inside, at the right edge
    big = (30.0, 20.0, 90.0, 95.0)

    class Finder:
        name = "default"

        def __init__(self, boxes):
            self.boxes = boxes

        def detect(self, rgb):
            return [FaceBox(b, 0.9) for b in self.boxes]

    assert prominence(edge, 120, 110) < prominence(centred, 120, 110)
    assert (edge[2] - edge[0]) * (edge[3] - edge[1]) > (centred[2] - centred[0]) * 50
    # a face at a corner counts a quarter; one outside the image not at all
    assert prominence((0, 0, 10, 10), 1000, 1000) == pytest.approx(
        100 * (1 - 0.75 * np.hypot(495, 495) / np.hypot(500, 500))
    )
    assert prominence((-50, -50, -10, -10), 100, 100) == 0.0
    # the detector's score counts squared: a face the detector is less sure of (blurred,
    # half hidden) must be bigger to win; no score (a caller's box) weighs 1
    assert prominence(centred, 120, 110, 0.5) == pytest.approx(prominence(centred, 120, 110) / 4)
    assert prominence(centred, 120, 110, -0.1) == 0.0
    img = _face_like(120, 110, 3)
    faces = det.predict_faces(img, face_detector=Finder([edge, centred]))[0]
    assert [f.box for f in faces] == [centred, edge]
    det._face_detector = Finder([edge, centred])  # as LandmarkDetector(face_detector=...)
    try:
        # the same face (a batch of one against a batch of two: float32 kernels, 1e-3 px)
        np.testing.assert_allclose(det.predict(img)[0], faces[0].landmarks, atol=1e-3)
    finally:
        det._face_detector = None
    two = det.predict_faces(img, face_detector=Finder([centred, big, edge]), max_faces=2)[0]
    assert [f.box for f in two] == [big, centred]

    class Unsure(Finder):  # the bigger face, but the detector is much less sure of it
        def detect(self, rgb):
            return [FaceBox(big, 0.45), FaceBox(centred, 0.9)]

    faces = det.predict_faces(img, face_detector=Unsure([]))[0]
    assert [(f.box, f.score) for f in faces] == [(centred, 0.9), (big, 0.45)]


@pytest.mark.parametrize("pixel_offset, roll", [(0.5, False), (0.0, False), (0.5, True)])
def test_test_time_flip_makes_predictions_exactly_mirror_equivariant(pixel_offset, roll):
    """With flips averaged at every stage, predicting on a mirrored photo gives the mirrored
    prediction (any model, trained or not), which checks the un-mirroring and re-indexing
    (and, with ``roll``, that a mirrored face's second frame is the mirror of its first's)."""
    from facelandmarks import DetectorConfig, StageConfig
    from facelandmarks.points import mirror_points

    stages = (
        StageConfig(
            backbone="mobilenetv3small",
            input_size=(64, 48),
            preprocessing="backbone",
            normalization="group",
            test_time_flip=True,
            pixel_offset=pixel_offset,
        ),
        StageConfig(
            backbone="mobilenetv3small",
            input_size=(48, 48),
            preprocessing="backbone",
            normalization="group",
            framing="points",
            test_time_flip=True,
            pixel_offset=pixel_offset,
            roll=roll,
        ),
    )
    det2 = LandmarkDetector(weights=None, config=DetectorConfig(stages=stages))
    img = _face_like(90, 120, 11)
    a = det2.predict(img, framing="image")[0]
    b = det2.predict(np.ascontiguousarray(img[:, ::-1]), framing="image")[0]
    np.testing.assert_allclose(mirror_points(b, 90), a, atol=0.05)
    # Without the flips the same model is not equivariant (so the check above can fail).
    plain = LandmarkDetector(weights=None, config=DetectorConfig(stages=stages))
    plain.set_runtime("keras", num_threads=2).models = det2.models
    assert plain.runtime == "keras" and plain._engines.num_threads == 2  # new models, same engine
    plain.config = DetectorConfig(
        stages=tuple(StageConfig(**{**s.__dict__, "test_time_flip": False}) for s in stages)
    )
    c = plain.predict(img, framing="image")[0]
    d = plain.predict(np.ascontiguousarray(img[:, ::-1]), framing="image")[0]
    assert np.abs(mirror_points(d, 90) - c).max() > 0.5
    # set_test_time_flip turns the flipped config back on: the same predictions as det2
    assert plain.set_test_time_flip(True) is plain
    assert all(s.test_time_flip for s in plain.config.stages)
    np.testing.assert_allclose(plain.predict(img, framing="image")[0], a, atol=1e-3)
    plain.set_test_time_flip(False, stages=[1])
    assert [s.test_time_flip for s in plain.config.stages] == [True, False]
    with pytest.raises(ValueError, match="stages must be indices below 2"):
        plain.set_test_time_flip(True, stages=[2])


def test_gray_stage_sees_luma_only_and_survives_save(tmp_path):
    from facelandmarks import DetectorConfig, StageConfig

    with pytest.raises(ValueError, match="color must be one of"):
        StageConfig(color="sepia")
    config = DetectorConfig(
        stages=(
            StageConfig(
                backbone="mobilenetv3small",
                input_size=(64, 48),
                preprocessing="backbone",
                normalization="group",
                color="gray",
            ),
        )
    )
    gray_det = LandmarkDetector(weights=None, config=config)
    assert gray_det.models[0].get_layer("grayscale") is not None
    rng = np.random.default_rng(3)
    luma = rng.uniform(40, 200, (64, 48))  # the model input size (height, width)
    # Two images with the same BT.601 luma and very different colours: R and B traded off
    # against each other so that 0.299 R + 0.114 B stays equal, G equal.
    g = luma
    reddish = np.stack([luma + 40, g, luma - 40 * 0.299 / 0.114], -1)
    bluish = np.stack([luma - 40, g, luma + 40 * 0.299 / 0.114], -1)
    assert np.abs(reddish - bluish).max() > 100
    imgs = np.stack([reddish, bluish]).clip(0, 255)
    # keep exact luma after clipping by recomputing G where clipping moved R or B
    y = 0.299 * imgs[..., 0] + 0.587 * imgs[..., 1] + 0.114 * imgs[..., 2]
    imgs[..., 1] += (luma - y) / 0.587
    imgs = imgs.astype(np.float32)
    x = np.stack([imgs[0], imgs[1]])
    out = np.asarray(gray_det.models[0](x))
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)
    path = tmp_path / "gray.keras"
    gray_det.save(path)
    again = LandmarkDetector(weights=path)
    assert again.config.stages[0].color == "gray"
    np.testing.assert_allclose(np.asarray(again.models[0](x)), out, atol=1e-6)
