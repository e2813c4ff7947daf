"""Tests for facelandmarks.losses: masked Euclidean and Wing losses, checked by hand in NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from facelandmarks.losses import MaskedWingLoss, get_loss, masked_euclidean  # noqa: E402

P = 76


def batch(b: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved ``(B, 152)`` float32 targets and predictions in ``[0.1, 0.9]``."""
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.1, 0.9, size=(b, 2 * P)).astype(np.float32)
    y_pred = (y_true + rng.normal(0.0, 0.05, size=y_true.shape)).astype(np.float32)
    return y_true, y_pred


def hand_euclidean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The documented loss in float64: points are interleaved (x, y) pairs."""
    t = np.asarray(y_true, np.float64).reshape(len(y_true), -1, 2)
    p = np.asarray(y_pred, np.float64).reshape(len(y_pred), -1, 2)
    avail = ~(np.isnan(t).any(-1) | (t == 0).all(-1))
    dist = np.sqrt(((np.where(avail[..., None], t, p) - p) ** 2).sum(-1))
    per_image = [d[a].mean() if a.any() else 0.0 for d, a in zip(dist, avail, strict=True)]
    return float(np.mean(per_image))


def wrong_pairing_euclidean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """What the 2019 code computed: reshape to [2, 76], pairing x_i with the value 76 later."""
    t = np.asarray(y_true, np.float64).reshape(len(y_true), 2, -1).transpose(0, 2, 1)
    p = np.asarray(y_pred, np.float64).reshape(len(y_pred), 2, -1).transpose(0, 2, 1)
    return float(np.sqrt(((t - p) ** 2).sum(-1)).mean())


def value(loss_fn, y_true, y_pred) -> float:
    return float(keras.ops.convert_to_numpy(loss_fn(y_true, y_pred)))


def grad_wrt_pred(loss_fn, y_true, y_pred) -> tuple[float, np.ndarray]:
    pred = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.constant(y_true), pred)
    return float(loss.numpy()), tape.gradient(loss, pred).numpy()


# --------------------------------------------------------------------------- masked_euclidean


def test_euclidean_single_point_offset_by_hand() -> None:
    y_true, _ = batch(1)
    y_pred = y_true.copy()
    y_pred[0, 0] += 0.3  # x0
    y_pred[0, 1] += 0.4  # y0: point 0 is off by exactly 0.5
    assert value(masked_euclidean, y_true, y_pred) == pytest.approx(0.5 / P, abs=2e-6)
    # Pairing as reshape([2, 76]) gives 0.3 + 0.4 (two points off): the test tells them apart.
    assert wrong_pairing_euclidean(y_true, y_pred) == pytest.approx(0.7 / P)


def test_euclidean_matches_hand_computation() -> None:
    y_true, y_pred = batch(4, seed=1)
    expected = hand_euclidean(y_true, y_pred)
    got = value(masked_euclidean, y_true, y_pred)
    assert got == pytest.approx(expected, rel=1e-5)
    # The wrong pairing differs by far more than the tolerance used above.
    assert abs(wrong_pairing_euclidean(y_true, y_pred) - expected) > 1e-3


def test_euclidean_is_mean_over_images_of_mean_over_points() -> None:
    y_true, _ = batch(2, seed=2)
    y_pred = y_true.copy()
    y_pred[0, ::2] += 0.1  # image 0: every point off by 0.1 in x
    y_pred[1, 0] += 0.6  # image 1: one point off by 0.6
    # (0.1 + 0.6 / 76) / 2
    assert value(masked_euclidean, y_true, y_pred) == pytest.approx((0.1 + 0.6 / P) / 2, abs=2e-6)


def test_euclidean_perfect_prediction_is_zero() -> None:
    y_true, _ = batch(2)
    assert value(masked_euclidean, y_true, y_true) == pytest.approx(0.0, abs=2e-6)


@pytest.mark.parametrize("marker", ["nan", "zero"])
def test_unavailable_targets_contribute_nothing(marker: str) -> None:
    y_true, y_pred = batch(3, seed=3)
    pts = y_true.reshape(3, P, 2)
    masked = [(0, 5), (0, 6), (2, 40), (2, 75)]
    for i, p in masked:
        pts[i, p] = np.nan if marker == "nan" else 0.0
    y_true = pts.reshape(3, 2 * P)
    base = value(masked_euclidean, y_true, y_pred)
    assert math.isfinite(base)
    assert base == pytest.approx(hand_euclidean(y_true, y_pred), rel=1e-5)
    # The mean is over the *available* points (74 in image 0), not over all 76 with zeros.
    d = np.sqrt(((y_true.reshape(3, P, 2) - y_pred.reshape(3, P, 2)) ** 2).sum(-1))
    d[~np.isfinite(d)] = 0.0
    if marker == "zero":
        d[0, [5, 6]] = d[2, [40, 75]] = 0.0
    assert base != pytest.approx(float(d.mean()), rel=1e-4)
    # A huge predicted error at the unavailable points changes nothing.
    wild = y_pred.reshape(3, P, 2).copy()
    for i, p in masked:
        wild[i, p] = (1e6, -1e6)
    assert value(masked_euclidean, y_true, wild.reshape(3, 2 * P)) == pytest.approx(base, rel=1e-6)


def test_zero_only_in_one_coordinate_is_a_real_point() -> None:
    y_true, _ = batch(1)
    y_true[0, 0] = 0.0  # x0 = 0, y0 > 0: on the frame's left edge, not unavailable
    y_pred = y_true.copy()
    y_pred[0, 0] = 0.5
    assert value(masked_euclidean, y_true, y_pred) == pytest.approx(0.5 / P, abs=2e-6)


@pytest.mark.parametrize("marker", ["nan", "zero"])
def test_gradient_finite_and_zero_at_unavailable_points(marker: str) -> None:
    y_true, y_pred = batch(2, seed=4)
    pts = y_true.reshape(2, P, 2)
    pts[0, 10] = np.nan if marker == "nan" else 0.0
    pts[1, 70] = np.nan if marker == "nan" else 0.0
    y_true = pts.reshape(2, 2 * P)
    y_pred[1, 0:2] = y_true[1, 0:2]  # a perfect available point: sqrt'(0) must not blow up
    loss, grad = grad_wrt_pred(masked_euclidean, y_true, y_pred)
    assert math.isfinite(loss)
    assert np.isfinite(grad).all()
    g = grad.reshape(2, P, 2)
    assert np.all(g[0, 10] == 0.0) and np.all(g[1, 70] == 0.0)
    assert np.count_nonzero(g.reshape(-1, 2).any(-1)) >= 2 * P - 3
    # Analytic gradient at an available point: (pred - true) / |pred - true| / (B * n_avail).
    t, p = y_true.reshape(2, P, 2)[0, 3], y_pred.reshape(2, P, 2)[0, 3]
    expected = (p - t) / np.linalg.norm(p - t) / (2 * (P - 1))
    np.testing.assert_allclose(g[0, 3], expected, rtol=1e-3)


def test_all_unavailable_batch_is_zero_with_finite_gradient() -> None:
    _, y_pred = batch(2, seed=5)
    for y_true in (np.full_like(y_pred, np.nan), np.zeros_like(y_pred)):
        loss, grad = grad_wrt_pred(masked_euclidean, y_true, y_pred)
        assert loss == 0.0
        assert np.isfinite(grad).all() and np.all(grad == 0.0)


def test_one_image_without_points_counts_as_zero() -> None:
    y_true, y_pred = batch(2, seed=6)
    y_true[1] = np.nan
    expected = hand_euclidean(y_true[:1], y_pred[:1]) / 2
    assert value(masked_euclidean, y_true, y_pred) == pytest.approx(expected, rel=1e-5)


def test_flat_and_point_shaped_inputs_agree() -> None:
    y_true, y_pred = batch(3, seed=7)
    y_true[1, 20:22] = np.nan
    flat = value(masked_euclidean, y_true, y_pred)
    shaped = value(masked_euclidean, y_true.reshape(3, P, 2), y_pred.reshape(3, P, 2))
    assert flat == pytest.approx(shaped, rel=1e-6)
    mixed = value(masked_euclidean, y_true.reshape(3, P, 2), y_pred)
    assert flat == pytest.approx(mixed, rel=1e-6)


def test_euclidean_float64_prediction_and_registered() -> None:
    y_true, y_pred = batch(2, seed=8)
    got = value(masked_euclidean, y_true, y_pred.astype(np.float64))
    assert got == pytest.approx(hand_euclidean(y_true, y_pred), rel=1e-5)
    assert keras.saving.get_registered_object("facelandmarks>masked_euclidean") is masked_euclidean


# --------------------------------------------------------------------------- MaskedWingLoss


def hand_wing(y_true, y_pred, w: float = 0.04, eps: float = 0.008) -> float:
    t = np.asarray(y_true, np.float64).reshape(len(y_true), -1, 2)
    p = np.asarray(y_pred, np.float64).reshape(len(y_pred), -1, 2)
    avail = ~(np.isnan(t).any(-1) | (t == 0).all(-1))
    d = np.sqrt(((np.where(avail[..., None], t, p) - p) ** 2).sum(-1))
    c = w - w * np.log(1 + w / eps)
    wing = np.where(d < w, w * np.log(1 + d / eps), d - c)
    return float(
        np.mean([x[a].mean() if a.any() else 0.0 for x, a in zip(wing, avail, strict=True)])
    )


def test_wing_single_point_values() -> None:
    loss = MaskedWingLoss()
    assert (loss.width, loss.curvature) == (0.04, 0.008)
    y_true, _ = batch(1)
    for d in (0.01, 0.03, 0.04, 0.2):
        y_pred = y_true.copy()
        y_pred[0, 2] += d  # x1 off by d: the only error
        w, eps = 0.04, 0.008
        c = w - w * math.log(1 + w / eps)
        per_point = w * math.log(1 + d / eps) if d < w else d - c
        # abs: the 1e-12 inside the sqrt puts a floor of w*ln(1 + 1e-6/eps) ~ 5e-6 on every
        # perfectly predicted point (75 of them here), ~5e-6 in total after the mean.
        assert value(loss, y_true, y_pred) == pytest.approx(per_point / P, abs=1e-5), d
    assert value(loss, y_true, y_true) == pytest.approx(0.0, abs=1e-5)


def test_wing_is_continuous_at_width() -> None:
    loss = MaskedWingLoss(width=0.05, curvature=0.01)
    y_true, _ = batch(1)
    values = []
    for d in (0.05 - 1e-4, 0.05 + 1e-4):
        y_pred = y_true.copy()
        y_pred[0, 1] += d
        values.append(value(loss, y_true, y_pred))
    assert values[0] == pytest.approx(values[1], rel=1e-2)


def test_wing_matches_hand_computation_with_masking() -> None:
    y_true, y_pred = batch(3, seed=9)
    y_true[0, 10:12] = np.nan
    y_true[2, 100:102] = 0.0
    expected = hand_wing(y_true, y_pred)
    assert value(MaskedWingLoss(), y_true, y_pred) == pytest.approx(expected, rel=1e-4)
    wild = y_pred.copy()
    wild[0, 10:12] = 1e6
    wild[2, 100:102] = -1e6
    assert value(MaskedWingLoss(), y_true, wild) == pytest.approx(expected, rel=1e-4)
    _loss, grad = grad_wrt_pred(MaskedWingLoss(), y_true, y_pred)
    assert np.isfinite(grad).all()
    assert np.all(grad[0, 10:12] == 0.0) and np.all(grad[2, 100:102] == 0.0)


def test_wing_all_unavailable_and_shapes() -> None:
    _, y_pred = batch(2, seed=10)
    loss, grad = grad_wrt_pred(MaskedWingLoss(), np.full_like(y_pred, np.nan), y_pred)
    assert loss == 0.0 and np.isfinite(grad).all()
    y_true, y_pred = batch(2, seed=11)
    flat = value(MaskedWingLoss(), y_true, y_pred)
    shaped = value(MaskedWingLoss(), y_true.reshape(2, P, 2), y_pred.reshape(2, P, 2))
    assert flat == pytest.approx(shaped, rel=1e-6)


def test_wing_config_round_trip() -> None:
    loss = MaskedWingLoss(width=0.1, curvature=0.02)
    config = loss.get_config()
    assert config["width"] == 0.1 and config["curvature"] == 0.02
    clone = MaskedWingLoss.from_config(config)
    assert (clone.width, clone.curvature, clone.name) == (0.1, 0.02, loss.name)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, MaskedWingLoss) and restored.width == 0.1


# --------------------------------------------------------------------------- get_loss


def test_get_loss_names() -> None:
    assert get_loss("euclidean") is masked_euclidean
    wing = get_loss("wing")
    assert isinstance(wing, MaskedWingLoss)
    assert wing is not get_loss("wing")  # a fresh instance each time


@pytest.mark.parametrize("name", ["l2", "Euclidean", "", "mse"])
def test_get_loss_unknown_name_raises(name: str) -> None:
    with pytest.raises(ValueError, match="euclidean") as info:
        get_loss(name)
    assert repr(name) in str(info.value)
