"""Tests for facelandmarks.metrics on hand-made cases whose answers are worked out here."""

from __future__ import annotations

import ast
import doctest
import math
from pathlib import Path

import numpy as np
import pytest

from facelandmarks import metrics
from facelandmarks.metrics import (
    auc,
    ced_curve,
    evaluate_landmarks,
    failure_rate,
    per_image_nme,
    point_errors,
)

P = 76
# Hand-placed normalising points: outer eye corners 100 px apart, pupils 80 px apart.
OUTER_LEFT, OUTER_RIGHT = (100.0, 120.0), (200.0, 120.0)
PUPIL_LEFT, PUPIL_RIGHT = (110.0, 120.0), (190.0, 120.0)


def make_face(seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """One (76, 2) ground-truth face: random points plus the four normalising points above."""
    rng = np.random.default_rng(seed)
    face = rng.uniform(50.0, 250.0, size=(P, 2))
    face[27], face[32] = OUTER_LEFT, OUTER_RIGHT
    face[31], face[36] = PUPIL_LEFT, PUPIL_RIGHT
    return face * scale


def make_batch(n: int = 3) -> np.ndarray:
    return np.stack([make_face(seed=i) for i in range(n)])


# ---------------------------------------------------------------------------------------------
# point_errors / per_image_nme on known offsets
# ---------------------------------------------------------------------------------------------


def test_point_errors_known_offset_and_nan():
    true = make_batch(2)
    true[1, 5] = np.nan
    pred = true.copy()
    pred[..., 0] += 3.0
    pred[..., 1] -= 4.0  # every point 5 px off
    pred[1, 5] = (0.0, 0.0)  # NaN truth: the prediction may be anything finite
    err = point_errors(pred, true)
    assert err.shape == (2, P)
    assert err.dtype == np.float64
    assert np.isnan(err[1, 5])
    mask = np.ones((2, P), bool)
    mask[1, 5] = False
    np.testing.assert_allclose(err[mask], 5.0)


def test_single_image_is_read_as_batch_of_one():
    true = make_face()
    pred = true + np.array([6.0, 8.0])  # 10 px off
    np.testing.assert_allclose(point_errors(pred, true), np.full((1, P), 10.0))
    np.testing.assert_allclose(per_image_nme(pred, true), [0.1])


def test_float32_input_gives_float64_output():
    true = make_batch(2).astype(np.float32)
    out = per_image_nme(true + np.float32(1.0), true)
    assert out.dtype == np.float64 and out.shape == (2,)


@pytest.mark.parametrize("dx, dy", [(3.0, 4.0), (0.0, 2.0), (-5.0, 12.0)])
def test_known_offset_gives_expected_nme(dx, dy):
    true = make_batch(3)
    pred = true + np.array([dx, dy])
    expected_px = math.hypot(dx, dy)
    np.testing.assert_allclose(per_image_nme(pred, true), expected_px / 100.0)
    np.testing.assert_allclose(
        per_image_nme(pred, true, normalization="inter_pupil"), expected_px / 80.0
    )


def test_mean_over_points_then_over_images():
    # Image 0: half the points 2 px off, half 6 px off -> mean 4 px -> NME 0.04.
    # Image 1: all points exact -> NME 0.  Dataset NME = 0.02, not a pooled point mean.
    true = make_batch(2)
    pred = true.copy()
    pred[0, :38, 0] += 2.0
    pred[0, 38:, 1] += 6.0
    np.testing.assert_allclose(per_image_nme(pred, true), [0.04, 0.0], atol=1e-12)
    result = evaluate_landmarks(pred, true)
    assert result["nme"] == pytest.approx(0.02)
    assert result["median_nme"] == pytest.approx(0.02)
    assert result["mean_error_px"] == pytest.approx(2.0)


def test_normalising_distance_is_per_image_ground_truth():
    # Image 1 is the same face at twice the size with twice the error: same NME.
    small = make_face(seed=4)
    big = make_face(seed=4, scale=2.0)
    true = np.stack([small, big])
    pred = true + np.array([[[3.0, 4.0]], [[6.0, 8.0]]])
    np.testing.assert_allclose(per_image_nme(pred, true), [0.05, 0.05])
    # Moving the *predicted* eye corners must not change the normaliser.
    pred2 = pred.copy()
    pred2[:, 27] = pred2[:, 32]
    nme2 = per_image_nme(pred2, true)
    assert np.all(nme2 > 0.05)


def test_inter_ocular_vs_inter_pupil_ratio():
    true = make_batch(4)
    rng = np.random.default_rng(7)
    pred = true + rng.normal(0.0, 3.0, size=true.shape)
    ocular = per_image_nme(pred, true)
    pupil = per_image_nme(pred, true, normalization="inter_pupil")
    # Same mean pixel error, divided by 100 px and 80 px respectively.
    np.testing.assert_allclose(pupil, ocular * 100.0 / 80.0)
    result = evaluate_landmarks(pred, true)
    assert result["nme_pupil"] == pytest.approx(result["nme"] * 1.25)


def test_caller_distances_work_for_any_point_count():
    true = np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], [[5.0, 5.0], [9.0, 9.0], [1.0, 1.0]]])
    pred = true + np.array([0.0, 2.0])
    np.testing.assert_allclose(per_image_nme(pred, true, normalization=[4.0, 8.0]), [0.5, 0.25])
    np.testing.assert_allclose(point_errors(pred, true), np.full((2, 3), 2.0))


@pytest.mark.parametrize("seed", range(5))
def test_nme_invariant_to_similarity_transform(seed):
    # Property: rotating, scaling and shifting truth and prediction together keeps the NME.
    rng = np.random.default_rng(seed)
    true = make_batch(2)
    pred = true + rng.normal(0.0, 4.0, size=true.shape)
    angle = rng.uniform(-np.pi, np.pi)
    scale = rng.uniform(0.2, 5.0)
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = rng.uniform(-300.0, 300.0, size=2)
    t_true, t_pred = true @ rot.T + shift, pred @ rot.T + shift
    for norm in ("inter_ocular", "inter_pupil"):
        np.testing.assert_allclose(
            per_image_nme(t_pred, t_true, normalization=norm),
            per_image_nme(pred, true, normalization=norm),
            rtol=1e-9,
        )


# ---------------------------------------------------------------------------------------------
# Unavailable ground truth
# ---------------------------------------------------------------------------------------------


def test_unavailable_points_change_nothing():
    true = make_batch(3)
    pred = true + np.array([3.0, 4.0])
    base = evaluate_landmarks(pred, true)

    missing = [0, 5, 14, 40, 70]
    true_nan = true.copy()
    true_nan[1, missing] = np.nan
    pred_far = pred.copy()
    pred_far[1, missing] = 1e6  # huge errors at the unavailable points
    got = evaluate_landmarks(pred_far, true_nan)

    for key in base:
        if key != "n_points":
            assert got[key] == pytest.approx(base[key]), key
    assert base["n_points"] == 3 * P
    assert got["n_points"] == 3 * P - len(missing)
    assert np.isnan(point_errors(pred_far, true_nan)[1, missing]).all()


def test_unavailable_points_are_not_counted_as_zero_error():
    # Two of four points are scored (errors 2 and 4 px): mean 3 px, not (2+4+0+0)/4.
    true = np.array([[[0.0, 0.0], [1.0, 1.0], [np.nan, np.nan], [5.0, np.nan]]])
    pred = np.array([[[2.0, 0.0], [1.0, 5.0], [0.0, 0.0], [5.0, 5.0]]])
    np.testing.assert_allclose(per_image_nme(pred, true, normalization=[10.0]), [0.3])
    err = point_errors(pred, true)
    assert np.isnan(err[0, 2]) and np.isnan(err[0, 3])  # NaN in one coordinate is enough


# ---------------------------------------------------------------------------------------------
# CED / AUC / failure rate
# ---------------------------------------------------------------------------------------------


def test_auc_hand_worked_example():
    # CED of [0.01, 0.05, 0.2] on [0, 0.1]: 0 on [0, 0.01), 1/3 on [0.01, 0.05), 2/3 on
    # [0.05, 0.1]. Area = 0.04 * 1/3 + 0.05 * 2/3 = 0.14 / 3; divided by 0.1 -> 0.4666...
    expected = (0.04 / 3 + 0.05 * 2 / 3) / 0.1
    assert auc([0.01, 0.05, 0.2], max_threshold=0.1) == pytest.approx(14 / 30, abs=1e-12)
    assert auc([0.01, 0.05, 0.2], max_threshold=0.1) == pytest.approx(expected, abs=1e-12)


def test_auc_limits():
    assert auc([0.0, 0.0], max_threshold=0.08) == pytest.approx(1.0)
    assert auc([0.08, 0.5], max_threshold=0.08) == 0.0
    # One image at half the cut-off: the CED is 1 on the second half only.
    assert auc(np.array([0.04]), max_threshold=0.08) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(3))
def test_auc_matches_fine_riemann_sum_of_ced(seed):
    nme = np.random.default_rng(seed).uniform(0.0, 0.15, size=25)
    t, frac = ced_curve(nme, max_threshold=0.1, num_steps=200_001)
    approx = np.trapezoid(frac, t) / 0.1 if hasattr(np, "trapezoid") else np.trapz(frac, t) / 0.1
    assert auc(nme, max_threshold=0.1) == pytest.approx(approx, abs=1e-4)


def test_ced_curve_hand_worked_example():
    t, frac = ced_curve([0.01, 0.05, 0.2], max_threshold=0.1, num_steps=11)
    np.testing.assert_allclose(t, np.linspace(0.0, 0.1, 11))
    # Thresholds 0, .01, .02, ..., .1; nme <= t (0.01 and 0.05 count at equality).
    expected = [0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    np.testing.assert_allclose(frac, np.array(expected) / 3)
    assert t.dtype == np.float64 and frac.dtype == np.float64


def test_ced_curve_default_grid_is_monotone():
    t, frac = ced_curve(np.random.default_rng(0).uniform(0, 0.2, size=50))
    assert t.shape == frac.shape == (1000,)
    assert t[0] == 0.0 and t[-1] == pytest.approx(0.10)
    assert np.all(np.diff(frac) >= 0) and frac[0] >= 0.0 and frac[-1] <= 1.0


def test_failure_rate_boundary_is_not_a_failure():
    assert failure_rate([0.05, 0.1, 0.2, 0.3], threshold=0.1) == 0.5
    assert failure_rate([0.08], threshold=0.08) == 0.0
    assert failure_rate([np.nextafter(0.08, 1.0)], threshold=0.08) == 1.0
    assert failure_rate([0.0, 0.01], threshold=0.08) == 0.0


# ---------------------------------------------------------------------------------------------
# evaluate_landmarks
# ---------------------------------------------------------------------------------------------


def test_evaluate_landmarks_stable_keys_and_types():
    true = make_batch(2)
    result = evaluate_landmarks(true + np.array([1.0, 0.0]), true)
    assert set(result) == {
        "nme",
        "nme_pupil",
        "median_nme",
        "mean_error_px",
        "failure_rate@0.08",
        "auc@0.08",
        "failure_rate@0.10",
        "auc@0.10",
        "n_images",
        "n_points",
    }
    assert isinstance(result["n_images"], int) and result["n_images"] == 2
    assert isinstance(result["n_points"], int) and result["n_points"] == 2 * P
    for key, value in result.items():
        if not key.startswith("n_"):
            assert type(value) is float, key


def test_evaluate_landmarks_values_and_custom_thresholds():
    # Per-image NMEs 0.02, 0.07, 0.12 (errors 2, 7, 12 px over a 100 px inter-ocular distance).
    true = make_batch(3)
    pred = true.copy()
    for i, px in enumerate((2.0, 7.0, 12.0)):
        pred[i, :, 0] += px
    result = evaluate_landmarks(pred, true, thresholds=(0.05, 0.07))
    assert result["nme"] == pytest.approx(0.07)
    assert result["median_nme"] == pytest.approx(0.07)
    assert result["mean_error_px"] == pytest.approx(7.0)
    assert result["nme_pupil"] == pytest.approx(7.0 / 80.0)
    assert result["failure_rate@0.05"] == pytest.approx(2 / 3)
    assert result["failure_rate@0.07"] == pytest.approx(1 / 3)  # 0.07 itself is no failure
    assert result["auc@0.05"] == pytest.approx((0.03 / 3) / 0.05)
    assert result["auc@0.07"] == pytest.approx((0.05 / 3) / 0.07)
    assert "auc@0.10" not in result


# ---------------------------------------------------------------------------------------------
# Error paths
# ---------------------------------------------------------------------------------------------


def _good() -> tuple[np.ndarray, np.ndarray]:
    true = make_batch(2)
    return true + 1.0, true


def test_shape_mismatch_raises():
    pred, true = _good()
    with pytest.raises(ValueError, match=r"same shape.*pred_xy.shape=\(2, 76, 2\).*\(3, 76, 2\)"):
        point_errors(pred, make_batch(3))
    with pytest.raises(ValueError, match="same shape"):
        evaluate_landmarks(pred[:, :70], true)


@pytest.mark.parametrize(
    "shape, name",
    [((2, 76, 3), "pred_xy"), ((76,), "pred_xy"), ((1, 2, 76, 2), "pred_xy")],
)
def test_wrong_last_axis_or_rank_raises(shape, name):
    _, true = _good()
    with pytest.raises(ValueError, match=rf"{name} of shape \(N, P, 2\).*Received"):
        point_errors(np.zeros(shape), true)


def test_wrong_last_axis_in_truth_raises():
    pred, _ = _good()
    with pytest.raises(
        ValueError, match=r"true_xy of shape \(N, P, 2\).*true_xy.shape=\(2, 76, 1\)"
    ):
        per_image_nme(pred, np.zeros((2, 76, 1)))


def test_empty_batch_raises():
    empty = np.zeros((0, 76, 2))
    with pytest.raises(ValueError, match=r"at least one image \(N >= 1\).*\(0, 76, 2\)"):
        evaluate_landmarks(empty, empty)


def test_non_numeric_input_raises():
    _, true = _good()
    with pytest.raises(ValueError, match="pred_xy to be a numeric array-like"):
        point_errors("not an array", true)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_prediction_raises(bad):
    pred, true = _good()
    pred[1, 40, 0] = bad
    for func in (point_errors, per_image_nme, evaluate_landmarks):
        with pytest.raises(ValueError, match=r"finite predictions.*pred_xy\[1, 40, 0\]"):
            func(pred, true)


def test_infinite_truth_raises():
    pred, true = _good()
    true[0, 3, 1] = np.inf
    with pytest.raises(ValueError, match=r"true_xy to be finite or NaN.*true_xy\[0, 3, 1\]"):
        point_errors(pred, true)


@pytest.mark.parametrize("normalization, point", [("inter_ocular", 32), ("inter_pupil", 31)])
def test_unavailable_normalising_point_names_image(normalization, point):
    pred, true = _good()
    true[1, point] = np.nan
    with pytest.raises(ValueError, match=rf"image 1 by '{normalization}'.*not NaN"):
        per_image_nme(pred, true, normalization=normalization)
    with pytest.raises(ValueError, match=r"image 1 by"):
        evaluate_landmarks(pred, true)


def test_zero_normalising_distance_names_image():
    pred, true = _good()
    true[0, 32] = true[0, 27]
    with pytest.raises(ValueError, match=r"image 0 by 'inter_ocular'.*distance is 0"):
        per_image_nme(pred, true)
    true2 = make_batch(2)
    true2[1, 36] = true2[1, 31]
    with pytest.raises(ValueError, match=r"image 1 by 'inter_pupil'.*distance is 0"):
        evaluate_landmarks(true2 + 1.0, true2)


def test_image_without_available_points_raises():
    true = np.zeros((2, 3, 2))
    true[0] = [[0, 0], [1, 0], [0, 1]]
    true[1] = np.nan
    with pytest.raises(ValueError, match=r"at least one available.*true_xy\[1\] is NaN at all 3"):
        per_image_nme(np.zeros_like(true), true, normalization=[1.0, 1.0])


def test_named_normalization_needs_a_known_scheme():
    # 68 points became the iBUG scheme (tests/test_schemes_metrics.py); 70 has no scheme.
    true = np.ones((1, 70, 2))
    with pytest.raises(ValueError, match=r"76-point MUCT scheme.*68-point iBUG.*Received: P=70"):
        per_image_nme(true, true)
    with pytest.raises(ValueError, match=r"76-point MUCT scheme.*P=70"):
        evaluate_landmarks(true, true)


def test_unknown_normalization_name_raises():
    pred, true = _good()
    with pytest.raises(ValueError, match=r"normalization to be one of.*'box'"):
        per_image_nme(pred, true, normalization="box")


@pytest.mark.parametrize(
    "dists, fragment",
    [
        ([1.0], r"shape \(N,\)=\(2,\).*normalization.shape=\(1,\)"),
        ([1.0, 0.0], r"finite and > 0.*normalization\[1\]=0.0 for image 1"),
        ([-1.0, 1.0], r"normalization\[0\]=-1.0 for image 0"),
        ([1.0, np.nan], r"normalization\[1\]=nan for image 1"),
    ],
)
def test_bad_caller_distances_raise(dists, fragment):
    pred, true = _good()
    with pytest.raises(ValueError, match=fragment):
        per_image_nme(pred, true, normalization=dists)


@pytest.mark.parametrize(
    "nme, fragment",
    [
        ([], r"at least one value in nme"),
        ([[0.1, 0.2]], r"nme of shape \(N,\).*\(1, 2\)"),
        ([0.1, np.nan], r"finite values in nme.*nme\[1\]=nan"),
        ([0.1, -0.2], r"non-negative.*nme\[1\]=-0.2"),
    ],
)
def test_bad_nme_raises(nme, fragment):
    with pytest.raises(ValueError, match=fragment):
        auc(nme, max_threshold=0.1)
    with pytest.raises(ValueError, match=fragment):
        failure_rate(nme, threshold=0.1)
    with pytest.raises(ValueError, match=fragment):
        ced_curve(nme)


@pytest.mark.parametrize("bad", [0.0, -0.1, np.inf, np.nan, "x", True, None])
def test_bad_thresholds_raise(bad):
    with pytest.raises(ValueError, match="max_threshold"):
        auc([0.1], max_threshold=bad)
    with pytest.raises(ValueError, match="max_threshold"):
        ced_curve([0.1], max_threshold=bad)
    with pytest.raises(ValueError, match="threshold"):
        failure_rate([0.1], threshold=bad)
    true = make_batch(1)
    with pytest.raises(ValueError, match="thresholds"):
        evaluate_landmarks(true, true, thresholds=(0.08, bad))


@pytest.mark.parametrize("steps", [1, 0, 2.5, True])
def test_bad_num_steps_raises(steps):
    with pytest.raises(ValueError, match=r"num_steps to be an integer >= 2"):
        ced_curve([0.1], num_steps=steps)


@pytest.mark.parametrize(
    "thresholds",
    [0.1, np.float32(0.1), np.array(0.1), np.array([0.05, 0.1]), (t for t in (0.05, 0.1))],
)
def test_thresholds_as_a_number_an_array_or_any_iterable(thresholds):
    true = make_batch(1)
    keys = {k for k in evaluate_landmarks(true + 1.0, true, thresholds=thresholds) if "@" in k}
    assert keys >= {"failure_rate@0.10", "auc@0.10"} and keys <= {
        f"{m}@{t}" for m in ("failure_rate", "auc") for t in ("0.05", "0.10")
    }


@pytest.mark.parametrize("bad", ["abc", None, [[0.1, 0.2]], {0.1: "x"}.values()])
def test_thresholds_that_are_not_numbers_name_the_argument(bad):
    with pytest.raises(ValueError, match=r"evaluate_landmarks expects thresholds to be a positive"):
        evaluate_landmarks(make_batch(1), make_batch(1), thresholds=bad)


def test_thresholds_with_colliding_keys_raise():
    true = make_batch(1)
    with pytest.raises(ValueError, match="differ at two decimals"):
        evaluate_landmarks(true, true, thresholds=(0.081, 0.084))


# ---------------------------------------------------------------------------------------------
# Module hygiene
# ---------------------------------------------------------------------------------------------


def test_module_imports_no_keras_or_tensorflow():
    tree = ast.parse(Path(metrics.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"keras", "tensorflow", "tf_keras"}


def test_docstring_examples_run():
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------------------------
# Point schemes (iBUG 68, your own) and scoring a subset of the points
# ---------------------------------------------------------------------------------------------


def make_ibug_face(seed: int = 0) -> np.ndarray:
    """One (68, 2) face: random points, outer eye corners 36 and 45 exactly 100 px apart."""
    rng = np.random.default_rng(seed)
    face = rng.uniform(50.0, 250.0, size=(68, 2))
    face[36], face[45] = OUTER_LEFT, OUTER_RIGHT
    return face


def test_ibug68_uses_its_own_eye_corners_and_has_no_pupil_nme():
    true = np.stack([make_ibug_face(0), make_ibug_face(1)])
    pred = true + np.array([3.0, 4.0])  # 5 px everywhere: NME 0.05
    np.testing.assert_allclose(per_image_nme(pred, true), [0.05, 0.05])
    result = evaluate_landmarks(pred, true)
    assert "nme_pupil" not in result
    assert result["nme"] == pytest.approx(0.05) and result["n_points"] == 2 * 68
    assert result == evaluate_landmarks(pred, true, scheme="ibug68")
    with pytest.raises(ValueError, match=r"'inter_pupil' needs a scheme with pupils.*'ibug68'"):
        per_image_nme(pred, true, normalization="inter_pupil")
    true[1, 45] = np.nan
    with pytest.raises(ValueError, match=r"image 1 by 'inter_ocular'.*points 36 and 45"):
        evaluate_landmarks(pred, true)


def test_explicit_scheme_must_match_the_point_count():
    true = make_batch(1)
    with pytest.raises(ValueError, match=r"\(N, 68, 2\) for the scheme 'ibug68'.*P=76"):
        per_image_nme(true, true, scheme="ibug68")
    with pytest.raises(ValueError, match="Unknown point scheme"):
        evaluate_landmarks(true, true, scheme="nope")


def test_a_registered_scheme_of_your_own(scheme_registry, five_points):
    true = np.array([[[100.0, 120.0], [200.0, 120.0], [150, 160], [120, 200], [180, 200]]])
    pred = true + np.array([0.0, 10.0])
    with pytest.raises(ValueError, match=r"76-point MUCT scheme.*P=5"):
        evaluate_landmarks(pred, true)
    result = evaluate_landmarks(pred, true, scheme=five_points)
    assert result["nme"] == pytest.approx(0.1) and "nme_pupil" not in result
    scheme_registry.register_scheme(five_points, default=True)
    assert evaluate_landmarks(pred, true) == result


def test_points_scores_a_subset_normalised_by_the_full_truth():
    true = make_batch(2)
    pred = true.copy()
    shared = [7, 27, 29, 32, 34, 48, 54, 67]
    pred[:, 27] += [6.0, 8.0]  # 10 px at one of the 8 points, 0 elsewhere
    pred[:, 40] += 50.0  # not scored
    np.testing.assert_allclose(per_image_nme(pred, true, points=shared), [10 / 8 / 100] * 2)
    result = evaluate_landmarks(pred, true, points=np.array(shared))
    assert result["n_points"] == 16
    assert result["nme"] == pytest.approx(10 / 8 / 100)
    assert result["nme_pupil"] == pytest.approx(10 / 8 / 80)
    assert result["mean_error_px"] == pytest.approx(10 / 8)
    full = evaluate_landmarks(pred, true, points=range(76))
    assert full == evaluate_landmarks(pred, true)


def test_points_allows_nan_predictions_elsewhere_as_transfer_leaves_them():
    from facelandmarks.schemes import IBUG68, MUCT76

    true76 = make_batch(2)
    pred76 = true76 + np.array([0.0, 2.0])
    true68 = MUCT76.transfer(true76, IBUG68)  # NaN except the 8 shared points
    pred68 = MUCT76.transfer(pred76, IBUG68)
    _, shared = MUCT76.correspondence(IBUG68)
    cross = evaluate_landmarks(pred68, true68, scheme="ibug68", points=shared)
    same = evaluate_landmarks(pred76, true76, points=MUCT76.correspondence(IBUG68)[0])
    assert cross["nme"] == pytest.approx(same["nme"]) == pytest.approx(0.02)
    assert cross["n_points"] == same["n_points"] == 16
    with pytest.raises(ValueError, match="finite predictions"):
        evaluate_landmarks(pred68, true68, scheme="ibug68")
    pred68[1, 30, 0] = np.nan
    with pytest.raises(ValueError, match=r"finite predictions.*pred_xy\[1, 30, 0\]"):
        per_image_nme(pred68, true68, points=shared)


@pytest.mark.parametrize("points", [[], [76], [-1], [3, 3], [[1, 2]], [1.0, 2.0], [True, False]])
def test_bad_points_raise(points):
    true = make_batch(1)
    with pytest.raises(ValueError, match=r"points to be a non-empty 1-D sequence of distinct int"):
        evaluate_landmarks(true, true, points=points)
