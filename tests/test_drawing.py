"""Tests of facelandmarks.drawing: annotated images, CED plots, the point chart."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks.drawing import CONTOURS, draw_landmarks, draw_point_chart, plot_ced
from facelandmarks.points import GROUPS, NUM_POINTS

H, W = 60, 80


def cluster_points(rng: np.random.Generator, x0=10, y0=12, x1=30, y1=28) -> np.ndarray:
    """76 points inside the box [x0, x1] x [y0, y1] (pixels)."""
    xy = np.empty((NUM_POINTS, 2))
    xy[:, 0] = rng.uniform(x0, x1, NUM_POINTS)
    xy[:, 1] = rng.uniform(y0, y1, NUM_POINTS)
    return xy


def changed(before: np.ndarray, after: Image.Image) -> np.ndarray:
    """bool (H, W): pixels that differ."""
    return np.any(np.asarray(after) != before, axis=-1)


@pytest.fixture()
def gray() -> np.ndarray:
    return np.full((H, W, 3), 40, np.uint8)


def test_returns_new_rgb_image_of_same_size_and_leaves_input_alone(gray, rng) -> None:
    xy = cluster_points(rng)
    before = gray.copy()
    out = draw_landmarks(gray, xy, indices=True, boxes=[0, 0, W, H])
    assert isinstance(out, Image.Image)
    assert out.mode == "RGB" and out.size == (W, H)
    np.testing.assert_array_equal(gray, before)

    pil = Image.fromarray(gray)
    pil_bytes = pil.tobytes()
    out2 = draw_landmarks(pil, xy)
    assert out2 is not pil
    assert pil.tobytes() == pil_bytes


def test_accepts_a_path_and_gray_images(tmp_path: Path, gray, rng) -> None:
    path = tmp_path / "g.png"
    Image.fromarray(gray[..., 0]).save(path)
    out = draw_landmarks(path, cluster_points(rng))
    assert out.size == (W, H) and out.mode == "RGB"
    assert draw_landmarks(str(path), cluster_points(rng)).size == (W, H)


@pytest.mark.parametrize("contours", [True, False])
def test_pixels_change_at_the_points_and_nowhere_far(gray, rng, contours: bool) -> None:
    xy = cluster_points(rng)
    out = draw_landmarks(gray, xy, contours=contours, radius=1.5, color=(0, 255, 0))
    arr = np.asarray(out)
    for x, y in xy:
        assert tuple(arr[round(y), round(x)]) == (0, 255, 0)
    diff = changed(gray, out)
    ys, xs = np.nonzero(diff)
    # Dots and lines stay within the points' bounding box grown by radius and line width.
    assert xs.min() >= xy[:, 0].min() - 3 and xs.max() <= xy[:, 0].max() + 3
    assert ys.min() >= xy[:, 1].min() - 3 and ys.max() <= xy[:, 1].max() + 3


def test_contours_add_lines_between_points(gray) -> None:
    xy = np.full((NUM_POINTS, 2), np.nan)
    xy[0], xy[1] = (10, 30), (50, 30)  # jaw 0-1: one segment
    without = changed(gray, draw_landmarks(gray, xy, contours=False, radius=1))
    with_lines = changed(gray, draw_landmarks(gray, xy, contours=True, radius=1))
    assert not without[30, 30] and with_lines[30, 30]
    assert with_lines.sum() > without.sum()


def test_nan_points_are_skipped(gray) -> None:
    xy = np.full((NUM_POINTS, 2), np.nan)
    xy[5] = (40, 30)
    xy[6] = (np.nan, 10)  # half-NaN: skipped too
    xy[7] = (np.inf, 10)
    out = draw_landmarks(gray, xy, radius=2)
    ys, xs = np.nonzero(changed(gray, out))
    assert len(xs) > 0
    assert np.all(np.abs(xs - 40) <= 2) and np.all(np.abs(ys - 30) <= 2)


def test_points_and_boxes_far_off_the_image_do_not_overflow_pillow(gray, rng) -> None:
    """Pillow's coordinates are 32-bit: past about 2.1e9 px it raised OverflowError."""
    xy = cluster_points(rng)
    far = xy.copy()
    far[::2] = 1e12  # beyond what any drawing can show: skipped like NaN, lines included
    far[1] = -1e300
    gone = xy.copy()
    gone[::2] = gone[1] = np.nan
    for indices in (False, True):
        kept = draw_landmarks(gray, gone, radius=1, indices=indices)
        assert np.array_equal(draw_landmarks(gray, far, radius=1, indices=indices), kept)
    nothing = np.full((NUM_POINTS, 2), np.nan)
    # a box running far off the image shows the same two edges as one running just off it
    out = draw_landmarks(gray, nothing, boxes=[5, 6, 1e15, 1e12], radius=1)
    assert np.array_equal(out, draw_landmarks(gray, nothing, boxes=[5, 6, 1e9, 1e9], radius=1))


def test_all_nan_draws_nothing(gray) -> None:
    out = draw_landmarks(gray, np.full((NUM_POINTS, 2), np.nan), indices=True)
    assert not changed(gray, out).any()


def test_several_faces_are_all_drawn(gray, rng) -> None:
    a = cluster_points(rng, 5, 5, 20, 20)
    b = cluster_points(rng, 50, 35, 70, 55)
    out = np.asarray(draw_landmarks(gray, np.stack([a, b]), radius=1))
    for x, y in np.concatenate([a, b]):
        assert tuple(out[round(y), round(x)]) == (0, 255, 0)


def test_boxes_are_drawn_on_their_edges(gray) -> None:
    nothing = np.full((NUM_POINTS, 2), np.nan)
    out = np.asarray(
        draw_landmarks(gray, nothing, boxes=[[5, 6, 50, 40]], radius=1, box_color=(255, 0, 0))
    )
    red = (255, 0, 0)
    assert tuple(out[20, 5]) == red  # left edge, first covered column
    assert tuple(out[20, 49]) == red  # right edge: last covered column is x1 - 1
    assert tuple(out[6, 30]) == red and tuple(out[39, 30]) == red
    assert tuple(out[20, 50]) == (40, 40, 40)  # just outside
    assert tuple(out[20, 30]) == (40, 40, 40)  # inside is not filled
    # A 1-D box, a NaN box (skipped) and a whole-image box.
    out2 = draw_landmarks(gray, nothing, boxes=[0, 0, W, H])
    assert tuple(np.asarray(out2)[H - 1, W - 1]) == red
    assert not changed(gray, draw_landmarks(gray, nothing, boxes=[[np.nan, 0, 5, 5]])).any()


def test_indices_draw_numbers(gray) -> None:
    xy = np.full((NUM_POINTS, 2), np.nan)
    xy[42] = (30, 30)
    plain = changed(gray, draw_landmarks(gray, xy, radius=2))
    numbered = changed(gray, draw_landmarks(gray, xy, radius=2, indices=True))
    assert numbered.sum() > plain.sum() + 10


def test_default_radius_scales_with_image_size(rng) -> None:
    small = np.zeros((60, 80, 3), np.uint8)
    big = np.zeros((600, 800, 3), np.uint8)
    xy = np.full((NUM_POINTS, 2), np.nan)
    xy[0] = (30, 30)
    n_small = changed(small, draw_landmarks(small, xy)).sum()
    n_big = changed(big, draw_landmarks(big, xy)).sum()
    assert n_big > 4 * n_small


@pytest.mark.parametrize(
    "points",
    [
        np.zeros((75, 2)),
        np.zeros((76, 3)),
        np.zeros((2, 2, 76, 2)),
        np.zeros(152),
        [["a", "b"]] * 76,
    ],
)
def test_bad_point_shapes_raise(gray, points) -> None:
    with pytest.raises(ValueError, match="points"):
        draw_landmarks(gray, points)


@pytest.mark.parametrize("boxes", [np.zeros(3), np.zeros((2, 5)), np.zeros((1, 1, 4))])
def test_bad_box_shapes_raise(gray, boxes) -> None:
    with pytest.raises(ValueError, match="boxes"):
        draw_landmarks(gray, np.zeros((76, 2)), boxes=boxes)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"radius": 0},
        {"radius": -1},
        {"radius": float("nan")},
        {"color": (0, 0)},
        {"contour_color": (0, 0, 300)},
    ],
)
def test_bad_radius_or_color_raise(gray, kwargs) -> None:
    with pytest.raises(ValueError):
        draw_landmarks(gray, np.zeros((76, 2)), **kwargs)


def test_not_an_image_raises(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an image"):
        draw_landmarks(text, np.zeros((76, 2)))


def test_contours_follow_the_groups() -> None:
    in_groups = set().union(*GROUPS.values())
    drawn = set()
    for name, idx, _closed in CONTOURS:
        assert len(idx) >= 2 and len(set(idx)) == len(idx), name
        assert set(idx) <= in_groups, name
        drawn.update(idx)
        # every line stays inside one feature: its points come from at most two groups
        # (an eye loop uses the eye group and eye_extra)
        owners = {g for g, members in GROUPS.items() if set(idx) & set(members)}
        assert len(owners) <= 2, (name, owners)
    assert dict((n, c) for n, _, c in CONTOURS)["jaw"] is False
    for group in ("jaw", "eye_image_left", "eye_image_right", "eye_extra"):
        assert set(GROUPS[group]) <= drawn, group
    assert set(range(48, 60)) <= drawn and set(range(15, 27)) <= drawn
    assert not drawn & set(GROUPS["pupils"])


# ---------------------------------------------------------------------- point chart


def test_point_chart(tmp_path: Path, rng) -> None:
    xy = cluster_points(rng, 100, 100, 300, 400)
    path = tmp_path / "chart.png"
    chart = draw_point_chart(xy, size=(240, 320), path=path)
    assert chart.size == (240, 320) and chart.mode == "RGB"
    assert Image.open(path).size == (240, 320)
    arr = np.asarray(chart)
    assert tuple(arr[0, 0]) == (255, 255, 255)
    assert (arr < 128).all(axis=-1).sum() > NUM_POINTS  # dark dots
    # fit=False keeps coordinates: a point at (10, 10) is drawn there.
    one = np.full((NUM_POINTS, 2), np.nan)
    one[3] = (10, 10)
    raw = np.asarray(draw_point_chart(one, size=(50, 50), fit=False))
    assert (raw[10, 10] < 128).all()


@pytest.mark.parametrize("fit", [True, False])
def test_point_chart_leaves_out_points_no_drawing_can_show(rng, fit: bool) -> None:
    """A point at 1e300 (fit: the scale clamps at 1e-6) or 1e12 (fit=False) overflowed
    Pillow's 32-bit coordinates."""
    xy = cluster_points(rng, 100, 100, 300, 400)
    far = xy.copy()
    far[3] = 1e300 if fit else 1e12
    gone = xy.copy()
    gone[3] = np.nan
    assert np.array_equal(draw_point_chart(far, fit=fit), draw_point_chart(gone, fit=fit))


@pytest.mark.parametrize("bad", [np.zeros((2, 76, 2)), np.zeros((76, 3)), np.full((76, 2), np.nan)])
def test_point_chart_rejects_bad_points(bad) -> None:
    with pytest.raises(ValueError):
        draw_point_chart(bad)


@pytest.mark.parametrize("size", [(0, 10), (10,), (10.5, 20), "big"])
def test_point_chart_rejects_bad_size(size) -> None:
    with pytest.raises(ValueError, match="size"):
        draw_point_chart(np.zeros((76, 2)), size=size)


# ---------------------------------------------------------------------- CED plot


def test_plot_ced_without_matplotlib_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "facelandmarks\[plot\]"'):
        plot_ced({"per_image_nme": [0.01, 0.05]})


@pytest.mark.parametrize(
    ("results", "kwargs"),
    [
        ({"nme": 0.1}, {}),  # evaluate() output without per-image values
        ([], {}),
        ([[0.1, 0.2], [0.3]], {"labels": ["only one"]}),
        ([0.1, float("nan")], {}),
        ([[0.1, -0.2]], {}),
        ("abc", {}),
        ([0.1, 0.2], {"max_threshold": 0}),
    ],
)
def test_plot_ced_rejects_bad_input(results, kwargs) -> None:
    with pytest.raises(ValueError):
        plot_ced(results, **kwargs)


def test_plot_ced_draws_curves(monkeypatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    nme = np.array([0.01, 0.02, 0.04, 0.2])
    ax = plot_ced([{"per_image_nme": nme, "label": "model"}, [0.05, 0.06]], max_threshold=0.1)
    try:
        lines = ax.get_lines()
        assert len(lines) == 2
        x, y = lines[0].get_data()
        assert x[0] == 0 and x[-1] == pytest.approx(0.1)
        assert y[-1] == pytest.approx(0.75)  # 3 of 4 images at or below 0.1
        assert lines[1].get_data()[1][-1] == pytest.approx(1.0)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0].startswith("model (AUC@0.1 = ") and labels[1].startswith("curve 2")
        assert ax.get_xlim() == pytest.approx((0, 0.1))
        # Drawing into a given Axes returns that Axes; a single raw array is one curve.
        _, ax2 = plt.subplots()
        assert plot_ced([0.03, 0.05], ax=ax2, labels=["raw"]) is ax2
        assert len(ax2.get_lines()) == 1
    finally:
        plt.close("all")


# ---------------------------------------------------------------------- other point schemes


def ibug_face() -> np.ndarray:
    """68 points: all parked at (5, 5) except the image-left eye loop 36-41 (a hexagon)."""
    xy = np.full((68, 2), 5.0)
    angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    xy[36:42] = np.column_stack([40 + 15 * np.cos(angles), 30 + 15 * np.sin(angles)])
    return xy


def test_ibug68_contours_are_drawn(gray) -> None:
    from facelandmarks.schemes import IBUG68

    xy = ibug_face()
    lines = changed(gray, draw_landmarks(gray, xy, radius=0.4, color=(40, 40, 40)))
    near = lambda x, y: lines[round(y) - 1 : round(y) + 2, round(x) - 1 : round(x) + 2].any()  # noqa: E731
    assert near(51.25, 36.5) and near(51.25, 23.5)  # the loop's first edge and closing edge
    assert not lines[25:36, 35:46].any()  # its inside stays untouched
    explicit = draw_landmarks(gray, xy, radius=0.4, color=(40, 40, 40), scheme=IBUG68)
    np.testing.assert_array_equal(
        np.asarray(explicit), np.asarray(draw_landmarks(gray, xy, radius=0.4, color=(40, 40, 40)))
    )
    bare = changed(gray, draw_landmarks(gray, xy, radius=0.4, color=(40, 40, 40), contours=False))
    assert not bare.any()


def test_scheme_must_fit_the_points(gray, scheme_registry, five_points) -> None:
    with pytest.raises(ValueError, match=r"points of shape.*K = 76 \(scheme 'muct76'\).*\(68, 2\)"):
        draw_landmarks(gray, ibug_face(), scheme="muct76")
    xy = np.array([[20.0, 20], [60, 20], [40, 35], [25, 50], [55, 50]])
    with pytest.raises(ValueError, match=r"known scheme \(76: MUCT, 68: iBUG\) or of scheme="):
        draw_landmarks(gray, xy)
    lines = changed(
        gray, draw_landmarks(gray, xy, scheme=five_points, radius=0.4, color=(40, 40, 40))
    )
    assert lines[20, 40] and lines[50, 40] and not lines[35, 30]
    scheme_registry.register_scheme(five_points, default=True)
    assert changed(gray, draw_landmarks(gray, xy, radius=0.4, color=(40, 40, 40)))[20, 40]


def test_ibug68_point_chart(tmp_path: Path) -> None:
    from facelandmarks.schemes import IBUG68

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, size=(68, 2))
    chart = draw_point_chart(xy, size=(200, 220), path=tmp_path / "c.png")
    assert chart.size == (200, 220)
    assert np.asarray(chart).min() < 128  # dots and numbers were drawn
    assert np.array_equal(
        np.asarray(chart), np.asarray(draw_point_chart(xy, size=(200, 220), scheme=IBUG68))
    )
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        draw_point_chart(xy[None], scheme="ibug68")


def _ring(center: tuple[float, float], diameter: float) -> np.ndarray:
    """76 points on a circle: a "face" whose extent is ``diameter``."""
    t = np.linspace(0, 2 * np.pi, NUM_POINTS, endpoint=False)
    return np.stack([center[0] + diameter / 2 * np.cos(t), center[1] + diameter / 2 * np.sin(t)], 1)


def test_default_dots_follow_each_face_not_the_image() -> None:
    """A small face in a large photo gets single-pixel dots (the image-sized default drew
    19 px discs on a 3000 px photo, swamping it); a large face in the same picture gets
    proportionate ones; an explicit radius still applies to every face."""
    small_face, large_face = _ring((60, 60), 30), _ring((400, 400), 300)
    for size in (120, 3000):
        canvas = np.zeros((size, size, 3), np.uint8)
        marks = changed(canvas, draw_landmarks(canvas, small_face, contours=False))
        # the same pixels whatever the image size: at most one per point, all near the ring
        assert marks.sum() <= NUM_POINTS and not marks[:40, :40].any()
        assert marks[44:77, 44:77].sum() == marks.sum()
    canvas = np.zeros((1000, 1000, 3), np.uint8)
    both = np.stack([small_face, large_face])
    marks = changed(canvas, draw_landmarks(canvas, both, contours=False))
    one_large_dot = marks[545:556, 395:406].sum()  # around the point at (550, 400)
    assert (
        one_large_dot
        == changed(canvas, draw_landmarks(canvas, both, contours=False, radius=3))[
            545:556, 395:406
        ].sum()
    )  # radius 3 = 300 px / 100
    assert marks[44:77, 44:77].sum() <= NUM_POINTS
    explicit = changed(canvas, draw_landmarks(canvas, both, contours=False, radius=3))
    assert explicit[44:77, 44:77].sum() > 3 * NUM_POINTS  # the small face's points are discs
