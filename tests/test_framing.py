"""facelandmarks.framing: rotated frames, one set of maths for NumPy and TensorFlow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from facelandmarks.framing import (
    Framing,
    calibrate_roi_from_points,
    crop_to_image_matrix,
    eye_angle,
    points_box,
    roi_from_box,
    roi_from_points,
    rolled_points_frame,
)

ANGLES = [0.0, 0.3, -1.2, math.pi / 2, 2.9]


def random_framing(seed: int) -> Framing:
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-50, 300, 2)
    w, h = rng.uniform(5, 400, 2)
    out = tuple(int(v) for v in rng.integers(8, 200, 2))
    return Framing((x0, y0, x0 + w, y0 + h), out, angle=float(rng.uniform(-3, 3)))


@pytest.mark.parametrize("seed", range(10))
def test_rotated_round_trip(seed: int) -> None:
    f = random_framing(seed)
    xy = np.random.default_rng(seed).uniform(-100, 500, (7, 2))
    np.testing.assert_allclose(f.to_pixels(f.to_normalized(xy)), xy, atol=1e-3)


@pytest.mark.parametrize("seed", range(10))
def test_center_matrix_maps_crop_pixel_centres_like_to_pixels(seed: int) -> None:
    f = random_framing(seed)
    w, h = f.out_size
    u = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w / 3, h / 2]], np.float64)
    via_matrix = (f.center_matrix() @ np.c_[u, np.ones(len(u))].T).T[:, :2]
    via_normalised = f.to_pixels((u + f.pixel_offset) / np.array([w, h]))
    np.testing.assert_allclose(via_matrix, via_normalised, atol=1e-3)


def test_frame_corners_land_on_the_rotated_box() -> None:
    f = Framing((10.0, 20.0, 110.0, 70.0), (50, 25), angle=math.pi / 2)
    # rotated a quarter turn clockwise about (60, 45): the frame's top-left corner (local
    # (-50, -25)) goes to (60 + 25, 45 - 50) in edge coordinates.
    np.testing.assert_allclose(f.to_pixels(np.array([0.0, 0.0])) + 0.5, [85.0, -5.0], atol=1e-4)
    np.testing.assert_allclose(f.to_pixels(np.array([0.5, 0.5])) + 0.5, [60.0, 45.0], atol=1e-4)


def test_zero_angle_matches_the_axis_aligned_formulas() -> None:
    f = Framing((-6.0, -10.0, 24.0, 30.0), (30, 40))
    sx, sy = f.scale
    expected = np.array(
        [[sx, 0.0, -6.0 + 0.5 * sx - 0.5], [0.0, sy, -10.0 + 0.5 * sy - 0.5], [0, 0, 1]]
    )
    np.testing.assert_allclose(f.center_matrix(), expected, atol=1e-12)


@pytest.mark.parametrize("angle", ANGLES)
def test_pil_affine_with_rotation_samples_where_the_matrix_says(angle: float) -> None:
    """One bright pixel in the image shows up in PIL's transformed crop where the framing
    maps it."""
    img = np.zeros((120, 160), np.uint8)
    img[40, 90] = 255
    f = Framing.square((85.0, 55.0), 60.0, angle, (60, 60))
    out = np.asarray(
        Image.fromarray(img).transform((60, 60), Image.Transform.AFFINE, f.pil_affine())
    )
    target = f.to_normalized(np.array([90.0, 40.0])) * 60 - 0.5
    got = np.unravel_index(np.argmax(out), out.shape)
    assert out.max() > 0
    np.testing.assert_allclose([got[1], got[0]], target, atol=1.01)


def test_numpy_and_tensorflow_build_the_same_matrix() -> None:
    tnp = pytest.importorskip("tensorflow.experimental.numpy")
    import tensorflow as tf

    for angle in ANGLES:
        args = (33.0, -7.5, 120.0, 90.0, angle)
        a = crop_to_image_matrix(*args, 64, 48)
        b = crop_to_image_matrix(*(tf.constant(v, tf.float32) for v in args), 64, 48, xp=tnp)
        np.testing.assert_allclose(np.asarray(b), a, atol=1e-4)
    pts = np.array([[1.0, 2.0], [np.nan, 5.0], [30.0, -4.0]])
    np.testing.assert_allclose(
        np.asarray(points_box(tf.constant(pts, tf.float32), 0.1, 0.75, xp=tnp)),
        points_box(pts, 0.1, 0.75),
        atol=1e-4,
    )


def test_eye_angle_is_zero_for_level_eyes_and_follows_the_tilt() -> None:
    assert eye_angle(np.array([10.0, 50.0]), np.array([60.0, 50.0])) == 0.0
    tilt = eye_angle(np.array([10.0, 50.0]), np.array([60.0, 100.0]))
    assert tilt == pytest.approx(math.pi / 4)


def test_roi_from_box_scale_offset_and_roll() -> None:
    box = np.array([[100.0, 100.0, 200.0, 200.0]])
    left, right = np.array([[120.0, 130.0]]), np.array([[180.0, 130.0]])
    roi = roi_from_box(box, left, right, scale=1.5, offset=(0.0, 0.1))
    np.testing.assert_allclose(roi[0], [150.0, 160.0, 150.0, 0.0])
    # the same face rolled a quarter turn: the offset follows the face's own "down"
    left, right = np.array([[170.0, 120.0]]), np.array([[170.0, 180.0]])
    roi = roi_from_box(box, left, right, scale=1.5, offset=(0.0, 0.1))
    np.testing.assert_allclose(roi[0], [140.0, 150.0, 150.0, math.pi / 2], atol=1e-9)
    upright = roi_from_box(box, None, None, scale=2.0)
    np.testing.assert_allclose(upright[0], [150.0, 150.0, 200.0, 0.0])


def _face(angle: float, scale: float, shift) -> np.ndarray:
    """A toy 5-point face (two eyes of 2 points each, and a chin), rolled and placed."""
    local = np.array([[-30, 0], [-20, 0], [20, 0], [30, 0], [0, 60]], np.float64)
    c, s = math.cos(angle), math.sin(angle)
    rot = local @ np.array([[c, s], [-s, c]])
    return rot * scale + np.asarray(shift)


EYES = ((0, 1), (2, 3))


def test_roi_from_points_is_equivariant_to_roll_scale_and_shift() -> None:
    calib = (1.4, 0.05, -0.1)
    base = roi_from_points(_face(0.0, 1.0, (0, 0))[None], EYES, calib)[0]
    moved = roi_from_points(_face(0.7, 2.0, (300, 100))[None], EYES, calib)[0]
    assert moved[2] == pytest.approx(2 * base[2])
    assert moved[3] == pytest.approx(0.7)
    # the centre moves with the face: same place relative to the chin
    f0 = Framing.square(base[:2], base[2], base[3], (10, 10))
    f1 = Framing.square(moved[:2], moved[2], moved[3], (10, 10))
    np.testing.assert_allclose(
        f0.to_normalized(_face(0.0, 1.0, (0, 0))),
        f1.to_normalized(_face(0.7, 2.0, (300, 100))),
        atol=1e-6,
    )


def test_calibration_recovers_the_rule_that_made_the_rois() -> None:
    rng = np.random.default_rng(0)
    faces = np.stack(
        [
            _face(rng.uniform(-0.5, 0.5), rng.uniform(0.5, 3), rng.uniform(0, 500, 2))
            for _ in range(30)
        ]
    )
    faces[3, 4] = np.nan  # a missing point changes nothing but that face's extent
    truth = (1.7, -0.02, 0.15)
    rois = roi_from_points(faces, EYES, truth)
    np.testing.assert_allclose(calibrate_roi_from_points(faces, EYES, rois), truth, atol=1e-9)
    with pytest.raises(ValueError, match="at least one face"):
        calibrate_roi_from_points(faces, EYES, np.full_like(rois, np.nan))


@pytest.mark.parametrize("box", [(0, 0, 0, 5), (0, 0, np.nan, 5), (3, 3, 1, 1)])
def test_bad_boxes_and_angles_are_refused(box) -> None:
    with pytest.raises(ValueError, match="box"):
        Framing(box, (10, 10))
    with pytest.raises(ValueError, match="angle"):
        Framing((0, 0, 5, 5), (10, 10), angle=float("inf"))


def test_rolled_points_frame_without_roll_is_points_box() -> None:
    pts = np.array([[1.0, 2.0], [np.nan, 5.0], [30.0, -4.0], [12.0, 40.0]])
    box = points_box(pts, 0.1, 0.75)
    cx, cy, w, h = rolled_points_frame(pts, 0.0, 0.1, 0.75)
    np.testing.assert_allclose([cx, cy], [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    np.testing.assert_allclose([w, h], [box[2] - box[0], box[3] - box[1]])


@pytest.mark.parametrize("angle", ANGLES)
def test_a_rolled_face_in_its_rolled_frame_looks_like_the_upright_face(angle: float) -> None:
    """Turned by its roll, the frame of a rolled, moved face puts every point where the
    upright face's frame puts it (the frame's size and the face's place in it do not change)."""
    upright, rolled = _face(0.0, 1.0, (0, 0)), _face(angle, 1.0, (300, 100))
    frames = []
    for pts, a in [(upright, 0.0), (rolled, angle)]:
        cx, cy, w, h = (float(v) for v in rolled_points_frame(pts, a, 0.2, 0.8))
        frames.append(Framing((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), (40, 50), angle=a))
    np.testing.assert_allclose(frames[1].size, frames[0].size, atol=1e-9)
    np.testing.assert_allclose(
        frames[1].to_normalized(rolled), frames[0].to_normalized(upright), atol=1e-9
    )
    inside = frames[0].to_normalized(upright)
    assert inside.min() > 0 and inside.max() < 1


def test_numpy_and_tensorflow_turn_the_points_frame_alike() -> None:
    tnp = pytest.importorskip("tensorflow.experimental.numpy")
    import tensorflow as tf

    pts = np.array([[1.0, 2.0], [np.nan, 5.0], [30.0, -4.0], [12.0, 40.0]])
    for angle in ANGLES:
        want = rolled_points_frame(pts, angle, 0.1, 0.75)
        got = rolled_points_frame(tf.constant(pts, tf.float32), tf.constant(angle), 0.1, 0.75, tnp)
        np.testing.assert_allclose([float(v) for v in got], want, atol=1e-3)


def test_a_rolled_stage_frames_predicted_points_by_their_eye_line() -> None:
    from facelandmarks.config import StageConfig
    from facelandmarks.inference import points_framing

    rolled = _face(0.4, 2.0, (120, 80))
    stage = StageConfig(framing="points", roll=True, input_size=(48, 48))
    f = points_framing(stage, rolled, EYES)
    assert f.angle == pytest.approx(0.4)
    upright = points_framing(stage, _face(0.0, 2.0, (0, 0)), EYES)
    np.testing.assert_allclose(f.size, upright.size, atol=1e-9)
    # without eyes (an unregistered scheme), or without roll: the upright box
    assert points_framing(stage, rolled, None).angle == 0.0
    plain = StageConfig(framing="points", input_size=(48, 48))
    assert points_framing(plain, rolled, EYES).angle == 0.0
    # a face with no finite point on one eye: upright, not NaN
    one_eye = rolled.copy()
    one_eye[:2] = np.nan
    assert points_framing(stage, one_eye, EYES).angle == 0.0


def test_the_batched_frame_to_pixel_map_matches_each_framing() -> None:
    """``inference._to_pixels`` (one affine map per face, on the engine's thread) gives what
    :meth:`Framing.to_pixels` gives face by face: turned frames, both pixel offsets mixed."""
    from facelandmarks.inference import _to_pixels

    rng = np.random.default_rng(3)
    framings = [
        Framing((x0, y0, x0 + w, y0 + w * aspect), (128, 96), pixel_offset=offset, angle=angle)
        for x0, y0, w, aspect, offset, angle in zip(
            rng.uniform(-50, 400, 6),
            rng.uniform(-50, 300, 6),
            rng.uniform(20, 300, 6),
            rng.uniform(0.75, 1.3, 6),
            [0.5, 0.0, 0.5, 0.5, 0.0, 0.5],
            [0.0, 0.3, -1.2, math.pi, 2.5, 0.01],
            strict=True,
        )
    ]
    xyn = rng.uniform(-0.2, 1.2, (6, 76, 2)).astype(np.float32)
    got = _to_pixels(framings, xyn)
    assert got.dtype == np.float32 and got.shape == (6, 76, 2)
    want = np.stack([f.to_pixels(p) for f, p in zip(framings, xyn, strict=True)])
    np.testing.assert_allclose(got, want, atol=1e-3)
    # and it is the inverse of to_normalized (image_to_frame, written independently)
    back = np.stack([f.to_normalized(p) for f, p in zip(framings, got, strict=True)])
    np.testing.assert_allclose(back, xyn, atol=1e-5)
