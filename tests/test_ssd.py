"""face_detection.ssd: anchors, decoding, weighted NMS and letterboxing (pure NumPy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facelandmarks.face_detection.ssd import Letterbox, decode, letterbox, ssd_anchors, weighted_nms

SHORT_LAYERS = ((8, 2), (16, 2), (16, 2), (16, 2))
FULL_LAYERS = ((4, 1),)


def _reference_anchors(size: int, layers) -> np.ndarray:
    """MediaPipe's anchor loop written out plainly (loops are fine in a test)."""
    out = []
    i = 0
    while i < len(layers):
        stride, per_cell = layers[i][0], 0
        while i < len(layers) and layers[i][0] == stride:
            per_cell += layers[i][1]
            i += 1
        cells = math.ceil(size / stride)
        for row in range(cells):
            for col in range(cells):
                for _ in range(per_cell):
                    out.append(((col + 0.5) / cells * size, (row + 0.5) / cells * size))
    return np.array(out)


@pytest.mark.parametrize(
    ("size", "layers", "count"), [(128, SHORT_LAYERS, 896), (192, FULL_LAYERS, 2304)]
)
def test_anchor_count_and_layout(size, layers, count) -> None:
    anchors = ssd_anchors(size, layers)
    assert anchors.shape == (count, 2) and anchors.dtype == np.float32
    np.testing.assert_allclose(anchors, _reference_anchors(size, layers), atol=1e-5)
    assert anchors.min() > 0 and anchors.max() < size


def test_short_range_anchor_grid() -> None:
    a = ssd_anchors(128, SHORT_LAYERS)
    # 16x16 grid, 2 anchors per cell, row-major; then 8x8 grid, 6 anchors per cell
    np.testing.assert_array_equal(a[0], a[1])
    np.testing.assert_array_equal(a[0], [4, 4])
    np.testing.assert_array_equal(a[2], [12, 4])
    np.testing.assert_array_equal(a[32], [4, 12])
    np.testing.assert_array_equal(a[511], [124, 124])
    np.testing.assert_array_equal(a[512:518], np.tile([8, 8], (6, 1)))
    np.testing.assert_array_equal(a[518], [24, 8])
    np.testing.assert_array_equal(a[-1], [120, 120])


def test_full_range_anchor_grid() -> None:
    a = ssd_anchors(192, FULL_LAYERS)
    np.testing.assert_array_equal(a[[0, 1, 48, 2303]], [[2, 2], [6, 2], [2, 6], [190, 190]])


def test_decode_hand_made_output() -> None:
    anchors = np.array([[10.0, 20.0], [50.0, 60.0]])
    raw = np.zeros((2, 16))
    raw[1, :4] = [3.0, -4.0, 20.0, 30.0]  # centre offset, width, height
    raw[1, 4:] = np.arange(12) - 6.0  # keypoint offsets
    boxes, keypoints, scores = decode(raw, np.array([[0.0], [2.0]]), anchors)
    np.testing.assert_allclose(boxes[1], [53 - 10, 56 - 15, 53 + 10, 56 + 15])
    np.testing.assert_allclose(boxes[0], [10, 20, 10, 20])  # zero size at the anchor
    np.testing.assert_allclose(keypoints[1], anchors[1] + (np.arange(12) - 6.0).reshape(6, 2))
    np.testing.assert_allclose(scores, [0.5, 1 / (1 + math.exp(-2))])


def test_decode_clips_extreme_logits() -> None:
    _, _, scores = decode(np.zeros((2, 16)), np.array([1e6, -1e6]), np.zeros((2, 2)))
    assert np.all(np.isfinite(scores))
    assert scores[0] == 1.0 and 0.0 <= scores[1] < 1e-40


def _boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    keypoints = rng.uniform(0, 140, (n, 6, 2))
    return boxes, keypoints, rng.uniform(0.05, 1.0, n)


def test_weighted_nms_keeps_disjoint_boxes_sorted() -> None:
    boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float)
    kps = np.zeros((3, 6, 2))
    out_b, out_k, out_s = weighted_nms(boxes, kps, np.array([0.2, 0.9, 0.5]), 0.3)
    np.testing.assert_array_equal(out_s, [0.9, 0.5, 0.2])
    np.testing.assert_array_equal(out_b, boxes[[1, 2, 0]])
    assert out_k.shape == (3, 6, 2)


def test_weighted_nms_averages_a_cluster_by_score() -> None:
    a, b = np.array([0.0, 0.0, 10.0, 10.0]), np.array([1.0, 1.0, 11.0, 11.0])
    kps = np.stack([np.zeros((6, 2)), np.ones((6, 2))])
    out_b, out_k, out_s = weighted_nms(np.stack([a, b]), kps, np.array([0.9, 0.1]), 0.3)
    np.testing.assert_allclose(out_b, [0.9 * a + 0.1 * b])
    np.testing.assert_allclose(out_k, np.full((1, 6, 2), 0.1))
    np.testing.assert_allclose(out_s, [0.9])


def test_weighted_nms_identical_boxes_merge_into_one() -> None:
    box = np.tile([5.0, 5.0, 25.0, 30.0], (4, 1))
    out_b, _, out_s = weighted_nms(box, np.zeros((4, 6, 2)), np.array([0.3, 0.8, 0.5, 0.6]), 0.3)
    np.testing.assert_allclose(out_b, box[:1])
    np.testing.assert_allclose(out_s, [0.8])


def test_weighted_nms_properties(rng) -> None:
    boxes, kps, scores = _boxes(rng, 60)
    out_b, out_k, out_s = weighted_nms(boxes, kps, scores, 0.3)
    assert 1 <= len(out_b) <= 60 and out_k.shape == (len(out_b), 6, 2)
    assert np.all(np.diff(out_s) <= 0)  # best first
    assert set(out_s) <= set(scores)  # each face keeps its best member's score
    assert np.isclose(out_s[0], scores.max())
    # merged boxes stay inside the hull of the input boxes
    assert np.all(out_b[:, :2] >= boxes[:, :2].min(axis=0) - 1e-9)
    assert np.all(out_b[:, 2:] <= boxes[:, 2:].max(axis=0) + 1e-9)
    # the input order does not matter
    perm = rng.permutation(60)
    p_b, p_k, p_s = weighted_nms(boxes[perm], kps[perm], scores[perm], 0.3)
    np.testing.assert_allclose(p_b, out_b)
    np.testing.assert_allclose(p_k, out_k)
    np.testing.assert_allclose(p_s, out_s)


def test_weighted_nms_threshold_extremes(rng) -> None:
    boxes, kps, scores = _boxes(rng, 30)
    # distinct random boxes never overlap by IoU > 0.999: nothing merges
    assert len(weighted_nms(boxes, kps, scores, 0.999)[0]) == 30
    # 30 boxes of 5-40 px in a 140 px square overlap: with threshold 0 some merge
    assert len(weighted_nms(boxes, kps, scores, 0.0)[0]) < 30


def test_weighted_nms_empty() -> None:
    b, k, s = weighted_nms(np.zeros((0, 4)), np.zeros((0, 6, 2)), np.zeros(0), 0.3)
    assert b.shape == (0, 4) and k.shape == (0, 6, 2) and s.shape == (0,)


@pytest.mark.parametrize(
    ("h", "w"), [(480, 640), (640, 480), (512, 512), (1, 1), (8, 8), (3, 4000), (4000, 3)]
)
def test_letterbox_geometry(h: int, w: int) -> None:
    image = np.full((h, w, 3), 255, np.uint8)
    x, lb = letterbox(image, 128)
    assert x.shape == (128, 128, 3) and x.dtype == np.float32
    # the image's corners land on the edges of the non-padded area, centred
    x0, y0 = lb.to_input(np.array([0.0, 0.0]))
    x1, y1 = lb.to_input(np.array([w, h], float))
    assert min(x0, y0) >= 0 and max(x1, y1) <= 128
    assert math.isclose(x0, 128 - x1, abs_tol=1) and math.isclose(y0, 128 - y1, abs_tol=1)
    assert math.isclose(max(x1 - x0, y1 - y0), 128)
    # white inside, black (-1) padding outside
    inside = np.zeros((128, 128), bool)
    inside[round(y0) : round(y1), round(x0) : round(x1)] = True
    np.testing.assert_allclose(x[inside], 1.0)
    np.testing.assert_array_equal(x[~inside], -1.0)


def test_letterbox_values_and_round_trip(rng) -> None:
    image = rng.integers(0, 256, (100, 60, 3), dtype=np.uint8)
    x, lb = letterbox(image, 128)
    assert x.min() >= -1.0 and x.max() <= 1.0
    pts = rng.uniform(-50, 200, (20, 2))
    np.testing.assert_allclose(lb.to_image(lb.to_input(pts)), pts, atol=1e-9)
    np.testing.assert_allclose(lb.to_input(lb.to_image(pts)), pts, atol=1e-9)


def test_letterbox_of_input_size_is_a_plain_rescale() -> None:
    image = np.arange(128 * 128 * 3, dtype=np.int64).reshape(128, 128, 3) % 256
    x, lb = letterbox(image.astype(np.uint8), 128)
    assert lb == Letterbox(1.0, 1.0, 0.0, 0.0)
    np.testing.assert_allclose(x, image / 127.5 - 1.0, atol=1e-6)
