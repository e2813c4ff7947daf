"""facelandmarks.evaluation: misses are counted, other schemes are scored on shared points."""

from __future__ import annotations

import numpy as np
import pytest

from facelandmarks.evaluation import auc_with_misses, score_faces
from facelandmarks.metrics import auc
from facelandmarks.schemes import IBUG68, MUCT76


def _faces(n: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(100, 300, (n, k, 2)).astype(np.float32)


def test_a_missed_face_is_counted_not_averaged() -> None:
    truth = _faces(4, 68)
    pred = truth + 1.0
    pred[2] = np.nan  # the detector missed face 2
    scores, nme = score_faces(pred, truth, pred_scheme="ibug68", true_scheme="ibug68")
    assert scores["n_missed"] == 1 and scores["n_images"] == 3
    assert np.isnan(nme[2]) and np.isfinite(nme[[0, 1, 3]]).all()
    # 1 of 4 faces missed, none of the found ones fails
    assert scores["missed_or_failed@0.10"] == pytest.approx(0.25)
    assert scores["failure_rate@0.10"] == 0.0
    assert auc_with_misses(nme) < auc_with_misses(nme[[0, 1, 3]])


def test_auc_with_misses_is_the_exact_ced_area() -> None:
    # 4 faces: NMEs 0.02 and 0.06 and two misses. The CED is 0 below 0.02, 1/4 up to 0.06,
    # 1/2 up to 0.10: area (0.04 * 0.25 + 0.04 * 0.5) / 0.10 = 0.30.
    nme = np.array([0.02, np.nan, 0.06, np.nan])
    assert auc_with_misses(nme) == pytest.approx(0.30, rel=1e-12)
    # without misses it is the AUC evaluate reports (a 1001-point trapezoid was 1e-4 off)
    found = nme[[0, 2]]
    assert auc_with_misses(found) == pytest.approx(auc(found, max_threshold=0.10), rel=1e-12)


def test_other_scheme_is_scored_on_the_shared_points() -> None:
    truth68 = _faces(3, 68, seed=1)
    pred76 = np.full((3, 76, 2), 5000.0, np.float32)  # every point far off ...
    mine, theirs = MUCT76.correspondence(IBUG68)
    pred76[:, mine] = truth68[:, theirs] + [3.0, 4.0]  # ... except the 8 shared ones: 5 px
    scores, nme = score_faces(pred76, truth68, pred_scheme="muct76", true_scheme="ibug68")
    assert scores["scored_points"] == len(mine) == 8
    iod = np.linalg.norm(truth68[:, 36] - truth68[:, 45], axis=-1)
    np.testing.assert_allclose(nme, 5.0 / iod, rtol=1e-5)


def test_all_missed_and_bad_shapes() -> None:
    truth = _faces(2, 68)
    scores, nme = score_faces(
        np.full_like(truth, np.nan), truth, pred_scheme="ibug68", true_scheme="ibug68"
    )
    assert scores["n_missed"] == 2 and "nme" not in scores
    assert scores["missed_or_failed@0.10"] == 1.0 and np.isnan(nme).all()
    with pytest.raises(ValueError, match="shape"):
        score_faces(truth[:1], truth, pred_scheme="ibug68", true_scheme="ibug68")


def test_unlabelled_eye_corners_name_the_callers_face_found_or_not() -> None:
    truth = _faces(4, 68)
    pred = truth + 1.0
    pred[0] = np.nan  # missed: the faces found are 1, 2, 3
    truth[2, 36] = np.nan  # the caller's face 2 (the second face found)
    with pytest.raises(ValueError, match=r"evaluate cannot normalise image 2 .*true_xy\[2, 36\]"):
        score_faces(pred, truth, pred_scheme="ibug68", true_scheme="ibug68")
    truth = _faces(2, 76)
    truth[0] = np.nan  # an unlabelled face raises whether the detector finds it or not
    for found in (truth + 1.0, np.full_like(truth, np.nan)):
        with pytest.raises(ValueError, match="normalise image 0 by 'inter_ocular'"):
            score_faces(found, truth, pred_scheme="muct76", true_scheme="muct76")
    truth = _faces(2, 76)
    truth[1, 31] = np.nan  # MUCT's pupils are normalising points too (nme_pupil)
    with pytest.raises(ValueError, match="normalise image 1 by 'inter_pupil'"):
        score_faces(np.full_like(truth, np.nan), truth, pred_scheme="muct76", true_scheme="muct76")


def test_annotated_faces_picks_the_found_face_nearest_the_annotation():
    from facelandmarks import Face
    from facelandmarks.evaluation import annotated_faces

    truth = np.zeros((3, 4, 2), np.float32)
    truth[0] = [[10, 10], [20, 10], [15, 20], [np.nan, np.nan]]  # centre (15, 13.3)
    truth[1] = [[100, 100], [120, 100], [110, 120], [110, 110]]
    truth[2] = truth[1]
    near = Face((5.0, 5.0, 25.0, 25.0), 0.5, np.full((4, 2), 1.0, np.float32))
    far = Face((60.0, 60.0, 160.0, 160.0), 0.9, np.full((4, 2), 2.0, np.float32))
    got = annotated_faces([[far, near], [far, near], []], truth, 4)
    assert got.shape == (3, 4, 2) and got.dtype == np.float32
    np.testing.assert_array_equal(got[0], near.landmarks)  # the NaN point is ignored
    np.testing.assert_array_equal(got[1], far.landmarks)
    assert np.isnan(got[2]).all()  # no face found: a miss
    with pytest.raises(ValueError, match="one entry per image"):
        annotated_faces([[near]], truth, 4)
