"""facelandmarks.face_detection.blazeface: the shipped BlazeFace detectors, decoded in NumPy."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

from facelandmarks.face_detection import FaceBox, blazeface, get_face_detector
from facelandmarks.face_detection.blazeface import KEYPOINT_NAMES, BlazeFaceDetector
from facelandmarks.images import load_image
from facelandmarks.weights import WeightsIntegrityError

REPO = Path(__file__).resolve().parents[1]
WILD_ROOT = Path(os.environ.get("FACELANDMARKS_WILD", REPO.parent / "shared" / "wild"))
MODELS = REPO / "facelandmarks" / "models"
RIGHT_EYE, LEFT_EYE, NOSE, MOUTH, RIGHT_EAR, LEFT_EAR = range(6)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_image(REPO / "examples" / "astronaut.png")


@pytest.fixture(scope="module")
def detectors() -> dict[str, BlazeFaceDetector]:
    return {m: BlazeFaceDetector(m, num_threads=1) for m in ("short", "full", "auto")}


class _Stub:
    """Stands in for a LiteModel: returns fixed raw outputs, counts calls."""

    def __init__(self, raw: np.ndarray, logits: np.ndarray) -> None:
        self.outputs = [raw[None].astype(np.float32), logits[None, :, None].astype(np.float32)]
        self.num_threads = 1
        self.calls = 0

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        self.calls += 1
        return self.outputs


def _stubbed(model: str, stubs: list[_Stub]) -> BlazeFaceDetector:
    det = BlazeFaceDetector(model, num_threads=1)
    det._stages = [s._replace(lite=stub) for s, stub in zip(det._stages, stubs, strict=True)]
    return det


def test_shipped_files_match_their_hashes_and_are_package_data() -> None:
    for variant in blazeface._VARIANTS.values():
        data = (MODELS / variant.filename).read_bytes()
        assert hashlib.sha256(data).hexdigest() == variant.sha256
    assert (MODELS / "LICENSE-mediapipe-Apache-2.0.txt").read_text().startswith(" " * 33 + "Apache")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["facelandmarks"]
    assert {"models/*.tflite", "models/LICENSE-*.txt"} <= set(patterns)


@pytest.mark.skipif(
    importlib.util.find_spec("ai_edge_litert") is None, reason="ai-edge-litert is not installed"
)
def test_detection_does_not_import_tensorflow() -> None:
    code = (
        "import sys\n"
        "from facelandmarks.face_detection import get_face_detector\n"
        "from facelandmarks.images import load_image\n"
        "faces = get_face_detector('blazeface').detect(load_image('examples/astronaut.png'))\n"
        "print(len(faces), 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "False", "False"]


@pytest.mark.parametrize("model", ["short", "full", "auto"])
def test_astronaut_one_sensible_face(astronaut, detectors, model: str) -> None:
    det = detectors[model]
    assert det.name == {"short": "blazeface-short", "full": "blazeface-full"}.get(
        model, "blazeface"
    )
    faces = det.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    assert 60 < face.width < 160 and 0.8 < face.height / face.width < 1.25
    assert face.score > 0.8
    kp = face.keypoints
    assert kp is not None and kp.shape == (6, 2) and kp.dtype == np.float32
    assert not kp.flags.writeable
    assert face.keypoint_names == KEYPOINT_NAMES
    inside = (kp[:, 0] > x0) & (kp[:, 0] < x1) & (kp[:, 1] > y0) & (kp[:, 1] < y1)
    assert inside[[RIGHT_EYE, LEFT_EYE, NOSE, MOUTH]].all()
    # the subject's right eye appears on the image's left; ears outside the eyes
    assert kp[RIGHT_EAR, 0] < kp[RIGHT_EYE, 0] < kp[NOSE, 0] < kp[LEFT_EYE, 0] < kp[LEFT_EAR, 0]
    assert max(kp[RIGHT_EYE, 1], kp[LEFT_EYE, 1]) < kp[NOSE, 1] < kp[MOUTH, 1]


@pytest.mark.parametrize("model", ["short", "full"])
def test_flipped_image_mirrors_the_face(astronaut, detectors, model: str) -> None:
    det = detectors[model]
    face = det.detect(astronaut)[0]
    flipped = det.detect(np.ascontiguousarray(astronaut[:, ::-1]))
    assert len(flipped) == 1
    mirrored_box = np.array([512 - flipped[0].box[2], flipped[0].box[1]])
    mirrored_box = np.concatenate([mirrored_box, [512 - flipped[0].box[0], flipped[0].box[3]]])
    np.testing.assert_allclose(mirrored_box, face.box, atol=0.05 * face.width)
    # keypoints: x -> W - 1 - x (pixel centres), right and left swap
    kp = flipped[0].keypoints.copy()
    kp[:, 0] = 511 - kp[:, 0]
    kp = kp[[LEFT_EYE, RIGHT_EYE, NOSE, MOUTH, LEFT_EAR, RIGHT_EAR]]
    iod = np.linalg.norm(face.keypoints[LEFT_EYE] - face.keypoints[RIGHT_EYE])
    # the models are not exactly mirror-symmetric: short range's eyes move by up to 0.21 IOD
    assert np.linalg.norm(kp - face.keypoints, axis=1).max() < 0.3 * iod


def test_padding_and_scale_do_not_move_the_face(astronaut, detectors) -> None:
    """The same face, letterboxed differently, maps back to the same pixels."""
    det = detectors["full"]
    face = det.detect(astronaut)[0]
    wide = np.zeros((512, 768, 3), np.uint8)
    wide[:, 100:612] = astronaut
    moved = det.detect(wide)[0]
    np.testing.assert_allclose(
        np.array(moved.box) - [100, 0, 100, 0], face.box, atol=0.05 * face.width
    )
    iod = np.linalg.norm(face.keypoints[LEFT_EYE] - face.keypoints[RIGHT_EYE])
    np.testing.assert_allclose(moved.keypoints - [100, 0], face.keypoints, atol=0.15 * iod)


def test_decode_of_a_hand_made_output_maps_to_image_pixels() -> None:
    # image 256 high x 512 wide -> 128x64 inside the 128x128 input, 32 px padding on top;
    # input pixels = image pixels / 4 (edge coordinates) + (0, 32)
    anchors = blazeface._anchors("short")
    k = 512 + 6 * (3 * 8 + 4)  # 8x8 grid, row 3, column 4: centre (72, 56)
    np.testing.assert_array_equal(anchors[k], [72, 56])
    raw = np.zeros((896, 16))
    logits = np.full(896, -20.0)
    raw[k, :4] = [2.0, -3.0, 24.0, 20.0]
    raw[k, 4:] = np.array([[-6, -4], [6, -4], [0, 1], [0, 5], [-11, 0], [11, 0]]).ravel()
    logits[k] = 3.0
    # the same cell's next anchor: the same face 4 px to the right, weaker; IoU 0.71: merged
    raw[k + 1] = raw[k]
    raw[k + 1, 0] += 4.0
    raw[k + 1, 4::2] += 4.0
    logits[k + 1] = 1.0
    logits[7] = 0.0  # score 0.5 < short range's default 0.55: dropped
    det = _stubbed("short", [_Stub(raw, logits)])
    faces = det.detect(np.zeros((256, 512, 3), np.uint8))
    assert len(faces) == 1
    w1, w2 = 1 / (1 + np.exp(-3.0)), 1 / (1 + np.exp(-1.0))
    shift = 4.0 * w2 / (w1 + w2)  # the weighted mean moves x by this, in input pixels
    cx, cy = 72 + 2 + shift, 56 - 3
    expected_box = np.array([cx - 12, cy - 10 - 32, cx + 12, cy + 10 - 32]) * 4
    np.testing.assert_allclose(faces[0].box, expected_box, atol=1e-4)
    assert faces[0].score == pytest.approx(w1)
    kp_input = np.array([72 + shift, 56]) + raw[k, 4:].reshape(6, 2)
    expected_kp = (kp_input - [0, 32]) * 4 - 0.5  # edge -> pixel-centre coordinates
    np.testing.assert_allclose(faces[0].keypoints, expected_kp, atol=1e-3)


def test_auto_runs_full_range_only_when_short_range_finds_nothing(astronaut) -> None:
    nothing = _Stub(np.zeros((896, 16)), np.full(896, -20.0))
    full = BlazeFaceDetector("full", num_threads=1)
    auto = _stubbed("auto", [nothing, full._stages[0].lite])
    small = np.zeros((1024, 1024, 3), np.uint8)  # the face ~10 % of the side
    small[256:768, 256:768] = astronaut
    faces = auto.detect(small)
    assert nothing.calls == 1
    assert len(faces) == 1
    assert [f.box for f in faces] == [f.box for f in full.detect(small)]
    # faces wider than a fifth of the side are short range's: full range's are dropped
    assert full.detect(astronaut)[0].width > 0.2 * 512
    assert auto.detect(astronaut) == []

    short = BlazeFaceDetector("short", num_threads=1)
    never = _Stub(np.zeros((2304, 16)), np.full(2304, 20.0))
    auto = _stubbed("auto", [short._stages[0].lite, never])
    assert [f.box for f in auto.detect(astronaut)] == [f.box for f in short.detect(astronaut)]
    assert never.calls == 0


def test_max_faces_keeps_the_best(astronaut, detectors) -> None:
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)  # faces ~10 % of 1024 px
    faces = detectors["full"].detect(pair)
    assert len(faces) == 2
    assert faces[0].score >= faces[1].score
    best = BlazeFaceDetector("full", max_faces=1, num_threads=1).detect(pair)
    assert len(best) == 1 and best[0] == faces[0]


def test_min_score_filters(astronaut) -> None:
    strict = BlazeFaceDetector("short", min_score=0.99, num_threads=1)
    assert strict.detect(astronaut) == []
    loose = BlazeFaceDetector("short", min_score=0.0, num_threads=1).detect(astronaut)
    assert len(loose) >= 1 and all(0.0 <= f.score <= 1.0 for f in loose)


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (8, 8), (3, 4000), (4000, 3), (480, 640)])
@pytest.mark.parametrize("value", [0, 200])
def test_tiny_huge_aspect_and_blank_images(detectors, shape, value: int) -> None:
    image = np.full((*shape, 3), value, np.uint8)
    for det in detectors.values():
        assert det.detect(image) == []


def test_noise_gives_no_face(detectors, rng) -> None:
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for det in detectors.values():
        assert det.detect(image) == []


def test_thread_counts_agree(astronaut, detectors) -> None:
    two = BlazeFaceDetector("short", num_threads=2).detect(astronaut)
    one = detectors["short"].detect(astronaut)
    np.testing.assert_allclose(two[0].box, one[0].box, atol=1e-3)


def test_faceboxes_with_keypoints_compare_and_hash(astronaut, detectors) -> None:
    a = detectors["short"].detect(astronaut)[0]
    b = detectors["short"].detect(astronaut)[0]
    assert a == b and hash(a) == hash(b)
    assert FaceBox(a.box, a.score).keypoints is None


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ([[[0, 0, 0]]], TypeError),
        (np.zeros((8, 8, 3), np.float32), ValueError),
        (np.zeros((8, 8), np.uint8), ValueError),
        (np.zeros((8, 8, 4), np.uint8), ValueError),
        (np.zeros((0, 8, 3), np.uint8), ValueError),
    ],
)
def test_bad_images_are_rejected(detectors, image, error) -> None:
    with pytest.raises(error, match="image"):
        detectors["short"].detect(image)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"model": "medium"}, "model"),
        ({"model": 1}, "model"),
        ({"min_score": 1.0}, "min_score"),
        ({"min_score": -0.1}, "min_score"),
        ({"min_score": True}, "min_score"),
        ({"min_score": "0.5"}, "min_score"),
        ({"nms_iou": 1.0}, "nms_iou"),
        ({"nms_iou": None}, "nms_iou"),
        ({"max_faces": 0}, "max_faces"),
        ({"max_faces": 1.5}, "max_faces"),
        ({"max_faces": True}, "max_faces"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, name: str) -> None:
    with pytest.raises((TypeError, ValueError), match=name) as info:
        BlazeFaceDetector(**kwargs)
    assert "Received" in str(info.value)


def test_corrupt_or_missing_model_file_is_named(monkeypatch) -> None:
    short = blazeface._VARIANTS["short"]
    monkeypatch.setitem(blazeface._VARIANTS, "short", dataclasses.replace(short, sha256="0" * 64))
    with pytest.raises(WeightsIntegrityError, match=r"face_detection_short_range\.tflite"):
        BlazeFaceDetector("short")
    gone = dataclasses.replace(short, filename="gone.tflite")
    monkeypatch.setitem(blazeface._VARIANTS, "short", gone)
    with pytest.raises(WeightsIntegrityError, match=r"gone\.tflite.*missing"):
        BlazeFaceDetector("short")


@pytest.mark.parametrize(
    ("name", "model"),
    [("blazeface", "auto"), ("blazeface-short", "short"), ("blazeface-full", "full")],
)
def test_get_face_detector_names(name: str, model: str) -> None:
    det = get_face_detector(name)
    assert isinstance(det, BlazeFaceDetector) and det.model == model and det.name == name


# --------------------------------------------------------------------------------------
# Real photos (read only; skipped when the folders are absent)
# --------------------------------------------------------------------------------------


def _read_pts(path: Path) -> np.ndarray:
    numbers = path.read_text().split("{")[1].split("}")[0].split()
    return np.asarray(numbers, dtype=np.float64).reshape(-1, 2) - 1.0  # 1-based -> 0-based


def _recall_and_eye_error(
    det: BlazeFaceDetector, photos: list[tuple[Path, np.ndarray, np.ndarray]]
) -> tuple[float, np.ndarray]:
    found, errors = 0, []
    for path, box, eyes in photos:
        for face in det.detect(load_image(path)):
            cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
            if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                found += 1
                iod = np.linalg.norm(eyes[1] - eyes[0])
                errors += list(np.linalg.norm(face.keypoints[:2] - eyes, axis=1) / iod)
                break
    return found / len(photos), np.array(errors)


@pytest.fixture(scope="module")
def wild_photos() -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """Every 5th photo (sorted): path, point box (edges), eye centres (subject's right, left)."""
    paths = sorted(WILD_ROOT.rglob("*.pts")) if WILD_ROOT.is_dir() else []
    if not paths:
        pytest.skip(f"in-the-wild photos not found at {WILD_ROOT} (set FACELANDMARKS_WILD)")
    out = []
    for pts in paths[::5]:
        xy = _read_pts(pts)
        box = np.concatenate([xy.min(axis=0) - 0.5, xy.max(axis=0) + 0.5])
        eyes = np.stack([xy[36:42].mean(axis=0), xy[42:48].mean(axis=0)])
        out.append((pts.with_suffix(".jpg"), box, eyes))
    return out


@pytest.mark.wild
@pytest.mark.parametrize(
    # measured on these 403 photos: recall 1.0 / 0.990 / 1.0, eye error median 0.057 / 0.056 /
    # 0.057 and p90 0.121 / 0.118 / 0.121 inter-ocular distances
    ("model", "min_recall", "max_median", "max_p90"),
    [("short", 0.995, 0.062, 0.13), ("full", 0.985, 0.062, 0.13), ("auto", 0.995, 0.062, 0.13)],
)
def test_wild_recall_and_eye_keypoints(
    wild_photos, model: str, min_recall: float, max_median: float, max_p90: float
) -> None:
    recall, errors = _recall_and_eye_error(BlazeFaceDetector(model), wild_photos)
    assert recall >= min_recall
    assert np.median(errors) <= max_median
    assert np.percentile(errors, 90) <= max_p90


@pytest.mark.muct
def test_muct_recall_and_pupils(muct_root: Path) -> None:
    photos = []
    for line in (muct_root / "muct-landmarks" / "muct76-opencv.csv").read_text().split()[1::40]:
        cells = line.split(",")
        if not cells[0].startswith("i") or cells[0].startswith("ir"):
            continue
        xy = np.asarray(cells[2:], dtype=np.float64).reshape(-1, 2)
        seen = xy[~np.all(xy == 0, axis=1)]
        box = np.concatenate([seen.min(axis=0) - 0.5, seen.max(axis=0) + 0.5])
        photos.append((muct_root / "jpg" / f"{cells[0]}.jpg", box, xy[[31, 36]]))
    recall, errors = _recall_and_eye_error(BlazeFaceDetector("auto"), photos)
    # measured on these 76 photos: recall 1.0, pupil error median 0.046, p90 0.092
    assert len(photos) > 50
    assert recall == 1.0
    assert np.median(errors) <= 0.05 and np.percentile(errors, 90) <= 0.10


def test_auto_loads_its_full_range_model_only_when_needed(monkeypatch, astronaut) -> None:
    full = blazeface._VARIANTS["full"]
    monkeypatch.setitem(blazeface._VARIANTS, "full", dataclasses.replace(full, sha256="0" * 64))
    det = BlazeFaceDetector("auto", num_threads=1)  # full range not read yet
    assert len(det.detect(astronaut)) == 1  # short range finds the face
    with pytest.raises(WeightsIntegrityError, match=r"face_detection_full_range_sparse"):
        det.detect(np.zeros((64, 64, 3), np.uint8))  # nothing for short range: full is loaded
