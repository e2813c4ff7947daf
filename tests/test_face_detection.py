"""Tests for facelandmarks.face_detection: the OpenCV face detector and the MUCT-like framing.

Tests that run the detector need the optional extra (``pip install "facelandmarks[detect]"``)
and skip without it; the framing geometry, name checks and the missing-extra message do not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from facelandmarks import face_detection
from facelandmarks.face_detection import (
    FRAME_ASPECT,
    FRAME_FROM_BOX,
    FaceBox,
    FaceDetector,
    frame_from_box,
    get_face_detector,
)
from facelandmarks.images import load_image

ASTRONAUT = Path(__file__).resolve().parents[1] / "examples" / "astronaut.png"
# The face in examples/astronaut.png (512x512, NASA, public domain), read off the picture:
# forehead to chin about y 65..180, cheek to cheek about x 180..265; the nose near (222, 125).
ASTRONAUT_NOSE = (222.0, 125.0)
ASTRONAUT_FACE_REGION = (140.0, 30.0, 310.0, 230.0)


DETECTORS = ("mtcnn", "opencv-haar")
_EXTRAS = {
    "mtcnn": ("mtcnn", 'mtcnn not installed: pip install "facelandmarks[detect]"'),
    "opencv-haar": ("cv2", 'OpenCV not installed: pip install "opencv-python-headless>=4.5.4,<5"'),
}


def _need(name: str) -> None:
    module, reason = _EXTRAS[name]
    pytest.importorskip(module, reason=reason)


def _build(name: str, **kwargs) -> FaceDetector:
    _need(name)
    cls = face_detection.MTCNNFaceDetector if name == "mtcnn" else face_detection.OpenCVFaceDetector
    return cls(**kwargs)


@pytest.fixture(scope="module", params=DETECTORS)
def detector(request) -> FaceDetector:
    # One instance per detector for the whole module: building MTCNN takes a second.
    return _build(request.param)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_image(ASTRONAUT)


def _contains(outer: tuple[float, ...], inner: tuple[float, ...]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


# --------------------------------------------------------------------------------------
# The detector on real pictures
# --------------------------------------------------------------------------------------


def test_astronaut_has_exactly_one_face(detector, astronaut):
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert isinstance(face, FaceBox)
    x0, y0, x1, y1 = face.box
    assert all(isinstance(v, float) for v in face.box)
    assert x0 <= ASTRONAUT_NOSE[0] <= x1 and y0 <= ASTRONAUT_NOSE[1] <= y1
    assert _contains(ASTRONAUT_FACE_REGION, face.box)
    assert 60.0 <= face.width <= 170.0
    assert 0.7 <= face.height / face.width <= 1.4
    assert face.score > 0


def test_boxes_are_in_pixels_of_the_image_as_given(detector, astronaut):
    (small,) = detector.detect(astronaut)
    big = np.repeat(np.repeat(astronaut, 2, axis=0), 2, axis=1)  # 1024x1024
    (large,) = detector.detect(big)
    np.testing.assert_allclose(np.array(large.box) / 2.0, small.box, atol=6.0)

    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    (flipped,) = detector.detect(mirrored)
    w = astronaut.shape[1]
    back = (w - flipped.box[2], flipped.box[1], w - flipped.box[0], flipped.box[3])
    np.testing.assert_allclose(back, small.box, atol=8.0)


@pytest.mark.parametrize("name", DETECTORS)
def test_min_size_filters_small_faces(name, astronaut):
    assert len(_build(name, min_size=60).detect(astronaut)) == 1
    assert _build(name, min_size=150).detect(astronaut) == []


def test_detect_is_deterministic(detector, astronaut):
    assert detector.detect(astronaut) == detector.detect(astronaut.copy())


@pytest.mark.parametrize("kind", ["black", "grey", "noise", "tiny"])
def test_no_face_in_blank_or_noise(detector, kind):
    rng = np.random.default_rng(7)
    image = {
        "black": np.zeros((480, 640, 3), np.uint8),
        "grey": np.full((640, 480, 3), 128, np.uint8),
        "noise": rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8),
        "tiny": np.zeros((5, 7, 3), np.uint8),
    }[kind]
    assert detector.detect(image) == []


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ([[[0, 0, 0]]], TypeError),
        (np.zeros((64, 64, 3), np.float32), ValueError),
        (np.zeros((64, 64), np.uint8), ValueError),
        (np.zeros((64, 64, 4), np.uint8), ValueError),
        (np.zeros((0, 64, 3), np.uint8), ValueError),
    ],
)
def test_detect_rejects_bad_images(detector, image, error):
    with pytest.raises(error, match="image"):
        detector.detect(image)


@pytest.mark.parametrize(
    ("kwargs", "argname"),
    [
        ({"min_size": 0}, "min_size"),
        ({"min_size": 2.5}, "min_size"),
        ({"max_side": 10}, "max_side"),
        ({"max_side": True}, "max_side"),
        ({"nms_iou": 0.0}, "nms_iou"),
        ({"nms_iou": 1.5}, "nms_iou"),
    ],
)
@pytest.mark.parametrize(
    "cls", [face_detection.MTCNNFaceDetector, face_detection.OpenCVFaceDetector]
)
def test_detectors_reject_bad_arguments(cls, kwargs, argname):
    # Arguments are checked before the optional package is imported: runs without the extra.
    with pytest.raises(ValueError, match=rf"{argname}.*Received: {argname}="):
        cls(**kwargs)


@pytest.mark.parametrize(
    ("cls", "kwargs", "argname"),
    [
        (face_detection.MTCNNFaceDetector, {"min_score": 1.5}, "min_score"),
        (face_detection.MTCNNFaceDetector, {"min_score": "high"}, "min_score"),
        (face_detection.MTCNNFaceDetector, {"device": ""}, "device"),
        (face_detection.OpenCVFaceDetector, {"cascade": "eyes"}, "cascade"),
        (face_detection.OpenCVFaceDetector, {"profile": "sometimes"}, "profile"),
        (face_detection.OpenCVFaceDetector, {"min_neighbors": -1}, "min_neighbors"),
        (face_detection.OpenCVFaceDetector, {"scale_factor": 1.0}, "scale_factor"),
        (face_detection.OpenCVFaceDetector, {"min_neighbors": True}, "min_neighbors"),
        (face_detection.OpenCVFaceDetector, {"min_neighbors": 2.0}, "min_neighbors"),
        (face_detection.OpenCVFaceDetector, {"scale_factor": True}, "scale_factor"),
    ],
)
def test_detector_specific_bad_arguments(cls, kwargs, argname):
    with pytest.raises(ValueError, match=rf"{argname}.*Received: {argname}="):
        cls(**kwargs)


def test_haar_takes_numpy_numbers_like_the_other_size_arguments():
    _need("opencv-haar")
    haar = face_detection.OpenCVFaceDetector(
        min_neighbors=np.int64(3), scale_factor=np.float32(1.25), min_size=np.int32(20)
    )
    assert (haar.min_neighbors, haar.scale_factor) == (3, 1.25)
    assert type(haar.min_neighbors) is int and type(haar.scale_factor) is float


def test_get_face_detector_names():
    default = get_face_detector()
    assert isinstance(default, FaceDetector)
    assert isinstance(default, face_detection.BlazeFaceDetector)
    assert default.name == "blazeface" == face_detection.DEFAULT_DETECTOR
    _need("mtcnn")
    det = get_face_detector("mtcnn")
    assert isinstance(det, face_detection.MTCNNFaceDetector) and det.name == "mtcnn"
    _need("opencv-haar")
    haar = get_face_detector("haar")
    assert isinstance(haar, FaceDetector)
    assert haar.name == "opencv-haar"
    assert {det.name, haar.name} <= set(FRAME_FROM_BOX)


def test_get_face_detector_rejects_unknown_name():
    with pytest.raises(ValueError, match=r"name must be one of .*opencv-haar.*Received: name='x'"):
        get_face_detector("x")


# --------------------------------------------------------------------------------------
# Missing optional dependency
# --------------------------------------------------------------------------------------


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "mtcnn", None)  # makes `import mtcnn` raise ImportError
    hint = r'pip install "facelandmarks\[detect\]"'
    with pytest.raises(ImportError, match=hint):
        face_detection.MTCNNFaceDetector()
    with pytest.raises(ImportError, match=hint):
        get_face_detector("mtcnn")
    # The default detector and the pure-NumPy parts keep working without the extra.
    assert get_face_detector().name == "blazeface"
    assert len(frame_from_box((0.0, 0.0, 10.0, 10.0))) == 4


def test_missing_opencv_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ImportError, match=r'pip install "opencv-python-headless>=4.5.4,<5"'):
        face_detection.OpenCVFaceDetector()
    with pytest.raises(ImportError, match="opencv-python-headless") as info:
        get_face_detector("opencv-haar")
    assert "[detect]" not in str(info.value)  # that is MTCNN; the default, BlazeFace, is shipped


def test_opencv_without_cascades_says_which_version(monkeypatch, tmp_path):
    # OpenCV 5 wheels no longer ship the Haar cascades: simulate that with an empty folder.
    _need("opencv-haar")
    import cv2

    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(ImportError, match=r"opencv-python-headless>=4.5.4,<5"):
        face_detection.OpenCVFaceDetector()


# --------------------------------------------------------------------------------------
# Sorting and non-maximum suppression
# --------------------------------------------------------------------------------------


def test_sort_and_nms_keeps_best_of_overlaps():
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], dtype=float
    )
    scores = np.array([3.0, 9.0, 5.0, 1.0])
    out = face_detection.base.sort_and_nms(boxes, scores, 0.3)
    assert [f.score for f in out] == [9.0, 5.0]
    assert out[0].box == (1.0, 1.0, 11.0, 11.0)
    assert face_detection.base.sort_and_nms(np.zeros((0, 4)), np.zeros(0), 0.3) == []


# --------------------------------------------------------------------------------------
# frame_from_box geometry (pure NumPy)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FRAME_FROM_BOX))
def test_frame_from_box_geometry_properties(name, rng):
    for _ in range(200):
        x0, y0 = rng.uniform(-100, 2000, size=2)
        w = rng.uniform(1, 800)
        h = w * rng.uniform(0.8, 1.25)
        box = (x0, y0, x0 + w, y0 + h)
        frame = frame_from_box(box, name)
        fw, fh = frame[2] - frame[0], frame[3] - frame[1]
        assert fw / fh == pytest.approx(FRAME_ASPECT, rel=1e-9)
        assert _contains(frame, box)
        # Equivariant under shift and scale of the box.
        a, t = rng.uniform(0.1, 5), rng.uniform(-50, 50, size=2)
        moved = frame_from_box(tuple(np.array(box) * a + np.tile(t, 2)), name)
        np.testing.assert_allclose(moved, np.array(frame) * a + np.tile(t, 2), rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FRAME_FROM_BOX))
def test_frame_from_box_follows_the_calibration(name):
    dx, dy, sw, sh = FRAME_FROM_BOX[name]
    frame = frame_from_box((100.0, 200.0, 200.0, 300.0), name)
    assert (frame[0] + frame[2]) / 2 == pytest.approx(150.0 + 100.0 * dx)
    assert (frame[1] + frame[3]) / 2 == pytest.approx(250.0 + 100.0 * dy)
    assert frame[2] - frame[0] == pytest.approx(100.0 * sw, rel=0.01)
    assert frame[3] - frame[1] == pytest.approx(100.0 * sh, rel=0.01)
    face = FaceBox(box=(100.0, 200.0, 200.0, 300.0), score=1.0)
    assert frame_from_box(face, name) == frame
    default = FRAME_FROM_BOX[face_detection.DEFAULT_DETECTOR]
    assert frame_from_box(face) == frame_from_box(face, "default")
    assert frame_from_box((0.0, 0.0, 1.0, 1.0), "default")[2] == pytest.approx(
        0.5 + default[0] + 0.5 * (default[2] + default[3] * 0.75) / 2
    )


@pytest.mark.parametrize(
    "box",
    [
        (0.0, 0.0, 0.0, 10.0),
        (10.0, 0.0, 5.0, 10.0),
        (0.0, 0.0, 10.0, float("nan")),
        (0.0, 0.0, 10.0),
        "abcd",
        None,
    ],
)
def test_frame_from_box_rejects_bad_boxes(box):
    with pytest.raises(ValueError, match="box"):
        frame_from_box(box, "opencv-haar")


def test_frame_from_box_rejects_unknown_detector():
    with pytest.raises(ValueError, match=r"detector_name must be one of .*Received: detector_name"):
        frame_from_box((0.0, 0.0, 10.0, 10.0), "yolo")


# --------------------------------------------------------------------------------------
# Real MUCT images (read from ../shared/muct; nothing is written)
# --------------------------------------------------------------------------------------


@pytest.mark.muct
def test_finds_the_face_on_muct_and_frames_it(muct, detector):
    picks = [i for cam in "abcde" for i in np.flatnonzero(np.array(muct.cameras) == cam)[:3]]
    widths, centres = [], []
    for i in picks:
        image = load_image(muct.image_paths[i])
        faces = detector.detect(image)
        assert faces, muct.names[i]
        nose = muct.landmarks[i, 67] + 0.5  # pixel centre -> edge coordinates
        x0, y0, x1, y1 = faces[0].box
        assert x0 <= nose[0] <= x1 and y0 <= nose[1] <= y1, muct.names[i]
        fx0, fy0, fx1, fy1 = frame_from_box(faces[0], detector.name)
        widths.append((fx1 - fx0) / 480.0)
        centres.append(((fx0 + fx1) / 2 - 240.0, (fy0 + fy1) / 2 - 320.0))
    # The calibrated frame lands near the real MUCT frame (0, 0, 480, 640): typically within
    # 15 % in size and 0.15 frame widths in position, and never wildly off.
    widths, centres = np.array(widths), np.array(centres) / 480.0
    assert np.median(widths) == pytest.approx(1.0, abs=0.15)
    assert np.all(np.abs(np.median(centres, axis=0)) < 0.15)
    assert np.all((widths > 0.5) & (widths < 1.5))
    assert np.all(np.abs(centres) < 0.5)


def test_old_import_path_still_works_with_a_deprecation_warning():
    sys.modules.pop("facelandmarks.detection", None)
    with pytest.warns(DeprecationWarning, match="renamed facelandmarks.face_detection"):
        from facelandmarks import detection as old
    assert old.FaceBox is FaceBox and old.frame_from_box is frame_from_box
    assert set(old.__all__) == set(face_detection.__all__)
