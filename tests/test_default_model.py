"""The models shipped inside the package: registered, verified, loaded offline, and accurate.

The golden values in ``tests/data/golden_astronaut.json`` pin each shipped model's prediction on
the public-domain sample photo, through the path users run (BlazeFace, then the landmarks), so a
change to loading, detection, framing or rendering that moves a point shows up here. They are
regenerated, deliberately, only when a shipped model changes:
``python tests/data/regenerate_golden.py``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from facelandmarks import shipped_weights
from facelandmarks import weights as fl_weights

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT = REPO / "examples" / "astronaut.png"
GOLDEN = Path(__file__).parent / "data" / "golden_astronaut.json"
EMBEDDED = [n for n in fl_weights.list_weights() if fl_weights.get_spec(n).embedded]
MUCT_ONLY = "muct-mnv3s-2stage"
REFINED = "wild-mnv3s-2stage"  # the default's stage, then a refining stage

# Marked by hand on examples/astronaut.png (512x512) from a 4x zoom with a 10 px grid, about
# +-3 px: MUCT index -> (x, y) pixel centre coordinates. The chin was first marked at y=169,
# on the chin's front; at 4x the jaw's lower edge is at y=178-179 (corrected 2026-12-02).
ASTRONAUT_BY_HAND = {
    27: (194.0, 101.0),  # outer corner of the eye on the image's left
    31: (204.0, 102.0),  # its pupil
    32: (256.0, 102.5),  # outer corner of the other eye
    36: (245.0, 103.0),  # its pupil
    67: (224.0, 125.0),  # nose tip
    48: (205.0, 142.5),  # mouth corner, image's left
    54: (244.0, 142.5),  # mouth corner, image's right
    7: (222.0, 178.5),  # chin (lowest point of the jaw)
}
# the same places in the 68-point iBUG scheme (no pupils there)
IBUG_OF_MUCT = {27: 36, 32: 45, 67: 30, 48: 48, 54: 54, 7: 8}
INTEROCULAR = float(np.hypot(256.0 - 194.0, 102.5 - 101.0))  # 62 px


@pytest.fixture(scope="module")
def default_det():
    from facelandmarks import LandmarkDetector

    return LandmarkDetector()


def _golden(name: str) -> dict:
    golden = json.loads(GOLDEN.read_text())
    assert golden[name]["sha256"] == fl_weights.get_spec(name).sha256, (
        f"The shipped model {name} changed: regenerate with python tests/data/regenerate_golden.py"
    )
    return golden[name]


def test_the_default_is_the_in_the_wild_model_and_the_muct_only_one_stays() -> None:
    assert fl_weights.default_preset_name() == "wild-mnv3s"
    assert set(EMBEDDED) == {"wild-mnv3s", REFINED, MUCT_ONLY}
    # the data terms travel with the weights
    assert "non-commercial" in fl_weights.get_spec("wild-mnv3s").license
    assert "300-W" in fl_weights.get_spec("wild-mnv3s").training_data
    assert "non-commercial" in fl_weights.get_spec(REFINED).license
    assert "300-W" not in fl_weights.get_spec(MUCT_ONLY).training_data


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_presets_verify(name) -> None:
    spec = fl_weights.get_spec(name)
    assert spec.embedded is not None and spec.source is None
    assert spec.sha256 is not None and spec.size is not None
    assert spec.sha256[:8] in spec.filename
    path = fl_weights.download_weights(name, verbose=0)
    assert fl_weights.check_weights_file(path, spec) is None
    assert path.stat().st_size == spec.size
    # small enough to ship in a wheel
    assert spec.size < 16 * 2**20


def test_default_loads_with_the_network_switched_off(monkeypatch) -> None:
    from facelandmarks import LandmarkDetector

    def no_network(*args, **kwargs):
        raise AssertionError("the default model must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    det = LandmarkDetector()
    spec = fl_weights.get_spec(fl_weights.default_preset_name())
    assert det.num_points == 76 and det.scheme == "muct76"
    assert det.schemes == ("muct76", "ibug68")
    # the file's own config says what the model is (the registry does not repeat it)
    stage = det.config.stages[0]
    assert len(det.config.stages) == 1 and stage.framing == "face"
    assert stage.input_size == (128, 128) and "128x128" in spec.description
    assert stage.backbone == "mobilenetv3small" and det.config.face_detector == "blazeface"
    assert spec.name in repr(det)
    # the 68 points' default is the shipped model best at them, the two-stage preset (also
    # shipped: still no network); the default's own 68-point head stays one name away
    det68 = LandmarkDetector(scheme="ibug68")
    assert (det68.num_points, det68.scheme) == (68, "ibug68")
    assert det68.spec.name == fl_weights.SCHEME_DEFAULTS["ibug68"] == REFINED
    assert len(det68.config.stages) == 2
    pts = det68.predict(ASTRONAUT)
    assert pts.shape == (1, 68, 2) and np.isfinite(pts).all()
    fast68 = LandmarkDetector(spec.name, scheme="ibug68")
    assert (fast68.spec.name, fast68.scheme, len(fast68.config.stages)) == (
        spec.name,
        "ibug68",
        1,
    )
    assert LandmarkDetector(scheme="muct76").spec.name == spec.name


@pytest.mark.parametrize("runtime", ["auto", "keras"])
@pytest.mark.parametrize("name", EMBEDDED)
def test_shipped_models_match_their_golden_output(name, runtime) -> None:
    """The golden values were made with TensorFlow; the shipped TensorFlow Lite files that the
    default runtime uses must give the same points, for every head and path."""
    from facelandmarks import LandmarkDetector

    golden = _golden(name)
    paths = [k for k in golden if "/" in k]
    assert any(p.startswith("detect/") for p in paths)
    for path in paths:
        framing, scheme = path.split("/")
        det = LandmarkDetector(name, scheme=scheme, runtime=runtime)
        want = "tflite" if runtime == "auto" else "keras"
        assert det.engines == (want,) * len(det.config.stages)
        pts = det.predict(ASTRONAUT, framing=framing)
        k = det.num_points
        assert pts.shape == (1, k, 2) and pts.dtype == np.float32
        # float32 kernels differ a little between machines; a point moving by 0.05 px is a
        # change
        np.testing.assert_allclose(pts[0], np.array(golden[path]), atol=0.05, err_msg=path)


@pytest.mark.parametrize("name", EMBEDDED)
def test_shipped_tflite_files_verify_and_a_tampered_one_is_never_used(
    name, monkeypatch, tmp_path, caplog
) -> None:
    import logging
    import shutil

    from facelandmarks import LandmarkDetector

    spec = fl_weights.get_spec(name)
    n = len(spec.embedded_tflite)
    assert n >= 1
    for k in range(n):
        assert fl_weights.embedded_tflite_bytes(spec, k)[4:8] == b"TFL3"  # flatbuffer id
    assert fl_weights.embedded_tflite_bytes(spec, n) is None
    # a copy of the installed presets with one byte of the last stage's flatbuffer changed
    presets = tmp_path / "presets"
    shutil.copytree(Path(fl_weights.__file__).parent / "presets", presets)
    bad = presets / spec.embedded_tflite[-1][0]
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(shipped_weights, "_presets_dir", lambda: presets)
    with pytest.raises(fl_weights.WeightsIntegrityError, match="fails verification"):
        fl_weights.embedded_tflite_bytes(spec, n - 1)
    # runtime="tflite" refuses; runtime="auto" warns and runs on TensorFlow
    with pytest.raises(fl_weights.WeightsIntegrityError, match=spec.embedded_tflite[-1][0]):
        LandmarkDetector(name, runtime="tflite").predict(ASTRONAUT)
    det = LandmarkDetector(name, cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="facelandmarks.engines"):
        assert det.engines == ("keras",) * n
    assert "TensorFlow Lite is unavailable" in caplog.text and "fails verification" in caplog.text
    golden = _golden(name)
    np.testing.assert_allclose(det.predict(ASTRONAUT)[0], golden["detect/muct76"], atol=0.05)


def test_auto_runtime_falls_back_when_tflite_cannot_load(monkeypatch, caplog) -> None:
    """Without any TensorFlow Lite interpreter the landmark models run on TensorFlow (BlazeFace
    needs one, so this uses the whole-image path of the MUCT-only model)."""
    import logging

    from facelandmarks import LandmarkDetector
    from facelandmarks import lite as fl_lite

    def missing():
        raise ImportError("no TensorFlow Lite interpreter in this build")

    monkeypatch.setattr(fl_lite, "interpreter_class", missing)
    det = LandmarkDetector(MUCT_ONLY)
    with caplog.at_level(logging.WARNING, logger="facelandmarks.engines"):
        pts = det.predict(ASTRONAUT, framing="image")
        det.predict(ASTRONAUT, framing="image")
    assert det.engines == ("keras", "keras")
    assert "no TensorFlow Lite interpreter" in caplog.text
    assert caplog.text.count("TensorFlow Lite is unavailable") == 1  # said once, not per call
    np.testing.assert_allclose(pts[0], _golden(MUCT_ONLY)["image/muct76"], atol=0.05)
    with pytest.raises(ImportError, match="no TensorFlow Lite interpreter"):
        LandmarkDetector(MUCT_ONLY, runtime="tflite").predict(ASTRONAUT, framing="image")


def test_predict_from_several_threads_matches_one_thread(default_det) -> None:
    """A web server calls one detector from many threads: each call gets its own result."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    base = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    inputs = [base, base[:, ::-1].copy(), base[40:], base[:, 30:]]
    want = [default_det.predict(x)[0] for x in inputs]
    assert np.isfinite(np.stack(want)).all()  # the face is found in every variant
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: default_det.predict(inputs[i % 4])[0], range(16)))
    for i, pts in enumerate(got):
        np.testing.assert_array_equal(pts, want[i % 4])


def _hand_errors(pts: np.ndarray, index: dict[int, int] | None = None) -> dict[int, float]:
    """Distance of each hand-marked point from the prediction, in eye distances."""
    out = {}
    for muct, xy in ASTRONAUT_BY_HAND.items():
        if index is not None and muct not in index:
            continue
        k = muct if index is None else index[muct]
        out[muct] = float(np.hypot(*(pts[k] - np.array(xy)))) / INTEROCULAR
    return out


@pytest.mark.parametrize("scheme", ["muct76", "ibug68"])
def test_default_places_the_points_on_an_ordinary_photo(default_det, scheme) -> None:
    """The user's first call: predict on a photo, no options."""
    from facelandmarks import LandmarkDetector

    det = default_det if scheme == "muct76" else LandmarkDetector(scheme=scheme)
    pts = det.predict(ASTRONAUT)[0]
    errors = _hand_errors(pts, None if scheme == "muct76" else IBUG_OF_MUCT)
    by_point = {k: round(v, 3) for k, v in errors.items()}
    # Each hand-marked point within 12% of the eye distance (7 px), on average within 7%; the
    # hand marks themselves are good to about 5%. (Measured 2026-12-02, wild-mnv3s: max 0.086
    # and 0.076, mean 0.038 and 0.042 for the two heads.)
    assert max(errors.values()) < 0.12, by_point
    assert np.mean(list(errors.values())) < 0.07, by_point


def test_the_refined_preset_keeps_the_default_as_its_first_stage() -> None:
    """wild-mnv3s-2stage ships no first-stage TensorFlow Lite file of its own: it uses the
    default's, which is right only while its first stage holds the default's weights exactly."""
    from facelandmarks import LandmarkDetector

    default = LandmarkDetector("wild-mnv3s", runtime="keras")
    refined = LandmarkDetector(REFINED, runtime="keras")
    shared = fl_weights.get_spec("wild-mnv3s").embedded_tflite[0]
    assert fl_weights.get_spec(REFINED).embedded_tflite[0] == shared
    assert refined.config.stages[0] == default.config.stages[0]
    assert refined.config.roi_from_points == default.config.roi_from_points
    assert [s.framing for s in refined.config.stages] == ["face", "points"]
    want, got = default.models[0].get_weights(), refined.models[0].get_weights()
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    # and the second stage was trained: it is not a copy of the first
    second = refined.models[1].get_weights()
    assert max(float(np.abs(a - b).max()) for a, b in zip(second, want, strict=True)) > 1e-3


@pytest.mark.parametrize("scheme", ["muct76", "ibug68"])
def test_the_refined_preset_places_the_points_on_an_ordinary_photo(scheme) -> None:
    from facelandmarks import LandmarkDetector

    pts = LandmarkDetector(REFINED, scheme=scheme).predict(ASTRONAUT)[0]
    errors = _hand_errors(pts, None if scheme == "muct76" else IBUG_OF_MUCT)
    by_point = {k: round(v, 3) for k, v in errors.items()}
    # the default's bounds (measured 2026-12-04, wild-mnv3s-2stage with its rolled, flipped
    # second stage: max 0.082 and 0.077, mean 0.035 and 0.036 for the two heads)
    assert max(errors.values()) < 0.12, by_point
    assert np.mean(list(errors.values())) < 0.07, by_point


def test_predict_batch_traces_the_inputs_each_stage_really_ran_on() -> None:
    """``predict_batch(trace=...)`` (what benchmarks time) hands back each stage's frames and
    engine input: the crops those frames render to, and an input that gives the same points."""
    from PIL import Image

    from facelandmarks import LandmarkDetector, inference
    from facelandmarks.crop import render_crop

    rgb = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    # the preset as shipped: its refining stage's input holds the crops, then their mirror images
    det = LandmarkDetector(REFINED, scheme="ibug68")
    assert [s.test_time_flip for s in det.config.stages] == [False, True]
    finder, name = det._detector()
    place = inference.placement_of(finder.detect(rgb)[0], name)
    trace: list = []
    inference.predict_batch(det.config, det._engines, [rgb], [place], "ibug68", trace=trace)
    assert [len(crops) for _, crops in trace] == [1, 2]
    np.testing.assert_array_equal(trace[1][1][1], trace[1][1][0][:, ::-1])
    # without flip, stage by stage
    det.set_test_time_flip(False)
    engines = [det._engines[k] for k in range(2)]
    trace = []
    xy, _ = inference.predict_batch(
        det.config, engines, [rgb, rgb], [place] * 2, "ibug68", trace=trace
    )
    plain, _ = inference.predict_batch(det.config, engines, [rgb], [place], "ibug68")
    np.testing.assert_array_equal(xy[1], plain[0])  # tracing changes nothing
    assert [len(f) for f, _ in trace] == [2, 2] and trace[1][0][0].angle != 0.0  # rolled crop
    for stage, (frames, crops) in zip(det.config.stages, trace, strict=True):
        assert crops.shape == (2, *stage.input_size, 3) and crops.dtype == np.float32
        want = render_crop(rgb, frames[0], gray=stage.color == "gray")
        np.testing.assert_array_equal(crops[0], want)
    # the second stage's frames come from the first stage's points on the traced input
    head = det.config.head_slice("ibug68")
    first = np.asarray(engines[0](trace[0][1]), np.float32).reshape(2, -1, 2)[0, head]
    again = inference.points_framing(
        det.config.stages[1], trace[0][0][0].to_pixels(first), inference._scheme_eyes("ibug68")
    )
    np.testing.assert_allclose(again.center, trace[1][0][0].center, atol=1e-3)
    np.testing.assert_allclose(again.angle, trace[1][0][0].angle, atol=1e-6)
    second = np.asarray(engines[1](trace[1][1]), np.float32).reshape(2, -1, 2)[0, head]
    np.testing.assert_allclose(trace[1][0][0].to_pixels(second), xy[0], atol=1e-3)


def test_the_muct_only_model_still_works_on_a_portrait() -> None:
    """The commercial-friendly preset through BlazeFace (its whole-image path needs a photo
    framed like MUCT's portraits, which this one is not)."""
    from facelandmarks import LandmarkDetector

    errors = _hand_errors(LandmarkDetector(MUCT_ONLY).predict(ASTRONAUT)[0])
    by_point = {k: round(v, 3) for k, v in errors.items()}
    # larger errors on this photo (web lighting, a smile) than the default's: measured max 0.117,
    # mean 0.089
    assert max(errors.values()) < 0.2, by_point
    assert np.mean(list(errors.values())) < 0.1, by_point


def _wild_val(wild):
    return wild.split(0.1, seed=0)[1]


@pytest.mark.muct
@pytest.mark.slow
def test_default_accuracy_on_held_out_muct_subjects(default_det, muct) -> None:
    """The model card's numbers: the subject split the default was trained with (seed 0),
    through the face detector as users run it."""
    _, test = muct.split(test_fraction=0.3, by="subject", seed=0)
    assert len(test) == 925  # the split of the model card; a different folder is not comparable
    from facelandmarks.datasets.muct import scores_by_camera

    pred = default_det.predict(test)
    assert np.isfinite(pred).all()  # every face found
    scores = scores_by_camera(pred, test)
    # The target is NME <= 0.034; measured 0.0322 (0.0313 with test-time flip), a/d/e
    # 0.0299, b/c 0.0356: see docs/model-card.md.
    assert scores["all"]["nme"] <= 0.033, scores["all"]
    assert scores["all"]["failure_rate@0.10"] == 0.0, scores["all"]
    assert scores["cameras_ade"]["nme"] <= 0.031, scores["cameras_ade"]
    assert scores["cameras_bc"]["nme"] <= 0.037, scores["cameras_bc"]


@pytest.mark.muct
@pytest.mark.slow
def test_muct_only_preset_accuracy_on_held_out_muct_subjects(muct) -> None:
    from facelandmarks import LandmarkDetector
    from facelandmarks.datasets.muct import scores_by_camera

    _, test = muct.split(test_fraction=0.3, by="subject", seed=0)
    det = LandmarkDetector(MUCT_ONLY)
    scores = scores_by_camera(det.predict(test, framing="image"), test)
    assert scores["all"]["nme"] <= 0.033, scores["all"]  # measured 0.0325
    assert scores["all"]["failure_rate@0.10"] == 0.0, scores["all"]


@pytest.mark.wild
@pytest.mark.slow
def test_default_accuracy_on_held_out_wild_faces(wild) -> None:
    """The 193 in-the-wild faces kept out of training, both heads, through BlazeFace."""
    from facelandmarks import LandmarkDetector
    from facelandmarks.evaluation import annotated_faces, score_faces

    val = _wild_val(wild)
    assert len(val) == 193
    # measured 2026-12-04: muct76 (8 shared points) 0.0349, median 0.0315; ibug68 0.0459,
    # median 0.0422
    for scheme, bound_annotated, bound_median in (
        ("muct76", 0.037, 0.033),
        ("ibug68", 0.048, 0.045),
    ):
        det = LandmarkDetector(fl_weights.DEFAULT_PRESET, scheme=scheme)
        faces = det.predict_faces(val)
        assert all(faces), "BlazeFace finds a face in every held-out photo"
        # the face the annotation is about: the model's own accuracy
        chosen = annotated_faces(faces, val.landmarks, det.num_points)
        scores, nme = score_faces(chosen, val.landmarks, pred_scheme=scheme, true_scheme="ibug68")
        assert scores["nme"] <= bound_annotated, (scheme, scores)
        assert np.median(nme) <= bound_median, (scheme, scores)
        # what predict returns (the most prominent face): the same face in all photos but
        # at most one with a bystander (measured: all 193; 2 differed before the detector's
        # score counted in prominence), and issue 10's "missed or above 0.10 <= 1 %" holds
        # through predict
        main = det.predict(val)
        same = np.all(np.isclose(main, chosen), axis=(1, 2))
        assert same.mean() >= 0.99, np.flatnonzero(~same)
        scores, _ = score_faces(main, val.landmarks, pred_scheme=scheme, true_scheme="ibug68")
        assert scores["missed_or_failed@0.10"] <= 0.01, (scheme, scores)


@pytest.mark.wild
@pytest.mark.slow
def test_refined_preset_accuracy_on_held_out_wild_faces(wild) -> None:
    """The refining stage, with its crop turned to the eye line and its mirror-image average,
    beats the default's bounds above on the same 193 faces, and holds issue 10's 68-point target
    (NME <= 0.040; docs/model-card.md)."""
    from facelandmarks import LandmarkDetector
    from facelandmarks.evaluation import annotated_faces, score_faces

    val = _wild_val(wild)
    # measured 2026-12-04: muct76 (8 shared points) 0.0295, median 0.0267; ibug68 0.0399,
    # median 0.0377 (the first rolled round without flip: 0.0307 and 0.0409; the upright
    # refining stage before it: 0.0321 and 0.0423)
    for scheme, bound, bound_median in (("muct76", 0.030, 0.028), ("ibug68", 0.040, 0.039)):
        det = LandmarkDetector(REFINED, scheme=scheme)
        chosen = annotated_faces(det.predict_faces(val), val.landmarks, det.num_points)
        scores, nme = score_faces(chosen, val.landmarks, pred_scheme=scheme, true_scheme="ibug68")
        assert scores["nme"] <= bound, (scheme, scores)
        assert np.median(nme) <= bound_median, (scheme, scores)
        assert scores["missed_or_failed@0.10"] <= 0.011, (scheme, scores)  # 2 of 193 at most
