"""Tests for the MUCT reader (facelandmarks.datasets.muct) and LandmarkDataset splits.

Part a) builds tiny MUCT-layout folders in ``tmp_path`` (synthetic JPEGs made with Pillow, a
hand-written ``muct76-opencv.csv``). Part b) reads the real development subset from
``$FACELANDMARKS_MUCT`` or ``../shared/muct`` (marked ``muct``; the conftest fixture skips with a
reason when absent). No MUCT image is ever
copied: the real-data tests only read the CSV and list the ``jpg/`` folder.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks.datasets import LandmarkDataset, MuctFormatError, load_muct
from facelandmarks.datasets.muct import CSV_RELATIVE_PATH, IMAGE_SIZE, TWINS, parse_name
from facelandmarks.points import MIRROR_PERMUTATION, NUM_POINTS, MuctPoint, mirror_points

HEADER = ["name", "tag"] + [f"{a}{i:02d}" for i in range(NUM_POINTS) for a in ("x", "y")]

# Synthetic image stems (without the leading "i"), in sorted order.
STEMS = ("000qa-fn", "000qb-fn", "001se-m2", "002rc-fn", "247rb-fn", "248rb-fn")
NO_MIRROR_ROW = "002rc-fn"


# ============================================================================ part a: synthetic


def make_points(stem: str, mirror: bool = False) -> np.ndarray:
    """Deterministic (76, 2) float64 landmarks with halves, as MUCT stores them (no (0, 0))."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(stem)) + (7 if mirror else 0)
    rng = np.random.default_rng(seed)
    xy = np.round(rng.uniform(1.0, 470.0, size=(NUM_POINTS, 2)) * 2) / 2
    xy[:, 1] += 100.0
    return xy


def format_row(name: str, xy: np.ndarray, tag: str = "0000") -> list[str]:
    """A CSV row; NaN points are written the MUCT way, as exactly ``0,0``."""
    cells = [name, tag]
    for x, y in xy:
        if np.isnan(x) or np.isnan(y):
            cells += ["0", "0"]
        else:
            cells += [f"{x:g}", f"{y:g}"]
    return cells


def write_csv(
    root: Path,
    rows: list[list[str]],
    *,
    newline: str = "\n",
    header: list[str] | None = None,
    bom: bool = False,
) -> Path:
    path = root / CSV_RELATIVE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(HEADER if header is None else header)] + [",".join(r) for r in rows]
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("ascii"))
    return path


def write_images(root: Path, stems: tuple[str, ...] | list[str]) -> None:
    jpg = root / "jpg"
    jpg.mkdir(parents=True, exist_ok=True)
    for k, stem in enumerate(stems):
        Image.new("RGB", (6, 8), (40 * k % 256, 90, 200)).save(jpg / f"i{stem}.jpg", quality=80)


def default_rows(stems: tuple[str, ...] = STEMS) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    """``i`` and ``ir`` rows for ``stems`` (interleaved like MUCT: all i rows, then ir rows)."""
    truth: dict[str, np.ndarray] = {}
    rows: list[list[str]] = []
    for stem in stems:
        xy = make_points(stem)
        truth["i" + stem] = xy
        rows.append(format_row("i" + stem, xy))
    for stem in stems:
        if stem == NO_MIRROR_ROW:
            continue
        xy = make_points(stem, mirror=True)
        truth["ir" + stem] = xy
        rows.append(format_row("ir" + stem, xy))
    return rows, truth


def make_muct(
    root: Path, rows: list[list[str]] | None = None, stems: tuple[str, ...] = STEMS, **csv_kwargs
) -> Path:
    if rows is None:
        rows, _ = default_rows(stems)
    write_images(root, stems)
    write_csv(root, rows, **csv_kwargs)
    return root


def row_number(rows: list[list[str]], name: str) -> int:
    """1-based line number of the row ``name`` in a file written by write_csv (header = 1)."""
    return 2 + [r[0] for r in rows].index(name)


def test_load_synthetic_basic(tmp_path: Path) -> None:
    rows, truth = default_rows()
    ds = load_muct(make_muct(tmp_path, rows))
    assert isinstance(ds, LandmarkDataset)
    assert len(ds) == len(STEMS)
    assert ds.names == tuple("i" + s for s in STEMS)
    assert ds.landmarks.shape == (len(STEMS), NUM_POINTS, 2)
    assert ds.landmarks.dtype == np.float32
    assert ds.mirror_landmarks is not None and ds.mirror_landmarks.dtype == np.float32
    assert ds.image_sizes is not None
    np.testing.assert_array_equal(ds.image_sizes, np.tile(IMAGE_SIZE, (len(STEMS), 1)))
    for name, path, lm in zip(ds.names, ds.image_paths, ds.landmarks, strict=True):
        assert Path(path) == tmp_path / "jpg" / f"{name}.jpg"
        assert Path(path).is_file()
        np.testing.assert_array_equal(lm, truth[name].astype(np.float32))
    assert not np.isnan(ds.landmarks).any()


def test_zero_zero_becomes_nan_and_other_values_are_kept(tmp_path: Path) -> None:
    rows, truth = default_rows()
    xy = truth["i000qb-fn"].copy()
    xy[40] = (0.0, 0.0)
    xy[41] = (0.0, 5.0)  # only one coordinate zero: a real point on the image border
    xy[42] = (7.0, 0.0)
    xy[43] = (340.5, 0.5)
    rows[1] = format_row("i000qb-fn", xy)
    assert rows[1][2 + 2 * 40 : 2 + 2 * 40 + 2] == ["0", "0"]
    ds = load_muct(make_muct(tmp_path, rows))
    lm = ds.landmarks[ds.names.index("i000qb-fn")]
    assert np.isnan(lm[40]).all()
    np.testing.assert_array_equal(lm[41], (0.0, 5.0))
    np.testing.assert_array_equal(lm[42], (7.0, 0.0))
    np.testing.assert_array_equal(lm[43], (340.5, 0.5))
    expected = xy.astype(np.float32)
    expected[40] = np.nan
    np.testing.assert_array_equal(lm, expected)
    assert ds.available[ds.names.index("i000qb-fn")].sum() == NUM_POINTS - 1
    assert ds.available.sum() == len(STEMS) * NUM_POINTS - 1


def test_zero_zero_in_mirror_rows_becomes_nan(tmp_path: Path) -> None:
    rows, truth = default_rows()
    xy = truth["ir000qa-fn"].copy()
    xy[5] = (0.0, 0.0)
    idx = row_number(rows, "ir000qa-fn") - 2
    rows[idx] = format_row("ir000qa-fn", xy)
    ds = load_muct(make_muct(tmp_path, rows))
    mlm = ds.mirror_landmarks[ds.names.index("i000qa-fn")]
    assert np.isnan(mlm[5]).all() and np.isnan(mlm).sum() == 2


@pytest.mark.parametrize("bom", [False, True])
def test_crlf_and_lf_read_the_same(tmp_path: Path, bom: bool) -> None:
    rows, _ = default_rows()
    a = load_muct(make_muct(tmp_path / "lf", rows, newline="\n"))
    b = load_muct(make_muct(tmp_path / "crlf", rows, newline="\r\n", bom=bom))
    assert (tmp_path / "crlf" / CSV_RELATIVE_PATH).read_bytes().count(b"\r\n") == len(rows) + 1
    assert a.names == b.names and a.subjects == b.subjects and a.cameras == b.cameras
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.mirror_landmarks, b.mirror_landmarks)


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    rows, _ = default_rows()
    padded = [*rows[:2], [""], *rows[2:], [""]]
    a = load_muct(make_muct(tmp_path / "a", rows))
    b = load_muct(make_muct(tmp_path / "b", padded))
    np.testing.assert_array_equal(a.landmarks, b.landmarks)


def test_subject_camera_lighting_from_fixed_positions(tmp_path: Path) -> None:
    ds = load_muct(make_muct(tmp_path))
    by_name = {
        n: (s, c, g)
        for n, s, c, g in zip(ds.names, ds.subjects, ds.cameras, ds.groups, strict=True)
    }
    assert by_name["i000qa-fn"] == ("000", "a", "q")
    assert by_name["i000qb-fn"] == ("000", "b", "q")
    assert by_name["i001se-m2"] == ("001", "e", "s")
    assert by_name["i002rc-fn"] == ("002", "c", "r")
    assert by_name["i247rb-fn"] == ("247", "b", "r")
    assert by_name["i248rb-fn"] == ("248", "b", "r")
    assert ds.split_groups and set(TWINS) in [set(v) for v in ds.split_groups.values()]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("i000qa-fn", ("000", "q", "a", False)),
        ("ir000qa-fn", ("000", "q", "a", True)),
        ("i001se-m2", ("001", "s", "e", False)),
        ("ir003se-f3", ("003", "s", "e", True)),
        ("i624zd-fn", ("624", "z", "d", False)),
    ],
)
def test_parse_name(name: str, expected: tuple[str, str, str, bool]) -> None:
    assert parse_name(name) == expected


@pytest.mark.parametrize("name", ["", "000qa-fn", "x000qa-fn", "i00qa-fn", "i000q", "I000QA-FN"])
def test_parse_name_rejects_bad_names(name: str) -> None:
    with pytest.raises(MuctFormatError, match="i000qa-fn"):
        parse_name(name)


def test_mirror_rows_land_in_mirror_landmarks(tmp_path: Path) -> None:
    rows, truth = default_rows()
    ds = load_muct(make_muct(tmp_path, rows))
    assert ds.mirror_landmarks.shape == ds.landmarks.shape
    for name, mlm in zip(ds.names, ds.mirror_landmarks, strict=True):
        if name == "i" + NO_MIRROR_ROW:
            assert np.isnan(mlm).all()
        else:
            np.testing.assert_array_equal(mlm, truth["ir" + name[1:]].astype(np.float32))
            assert not np.array_equal(mlm, truth[name].astype(np.float32))


def test_mirror_row_without_image_row_is_not_an_image(tmp_path: Path) -> None:
    rows, _ = default_rows()
    rows.append(format_row("ir999qa-fn", make_points("999qa-fn")))
    ds = load_muct(make_muct(tmp_path, rows))
    assert "i999qa-fn" not in ds.names and len(ds) == len(STEMS)


def corrupt(rows: list[list[str]], kind: str) -> tuple[list[list[str]], str]:
    """Return rows with one bad row of the given kind, and that row's name."""
    rows = [list(r) for r in rows]
    name = "i001se-m2"
    i = [r[0] for r in rows].index(name)
    if kind == "columns":
        rows[i] = rows[i][:-1]
    elif kind == "number":
        rows[i][2 + 2 * 30 + 1] = "12a"
    elif kind == "nonfinite":
        rows[i][10] = "nan"
    elif kind == "name":
        rows[i][0] = name = "face001"
    elif kind == "duplicate":
        rows.append(list(rows[i]))
    elif kind == "outside":  # x of point 3 far right of the 480 px wide image
        rows[i][2 + 2 * 3] = "4800"
    elif kind == "negative":  # y of point 7 above the image (0,0 alone means unavailable)
        rows[i][2 + 2 * 7 + 1] = "-20"
    else:  # pragma: no cover - test helper misuse
        raise AssertionError(kind)
    return rows, name


BAD_ROW_KINDS = ["columns", "number", "nonfinite", "name", "duplicate", "outside", "negative"]


def test_points_outside_the_image_are_named_and_can_be_accepted(tmp_path: Path) -> None:
    rows, name = corrupt(default_rows()[0], "outside")
    root = make_muct(tmp_path, rows)
    with pytest.raises(MuctFormatError, match=r"point 3 at \(4800, .*outside_tolerance"):
        load_muct(root)
    ds = load_muct(root, outside_tolerance=float("inf"))
    assert ds.landmarks[ds.names.index(name), 3, 0] == 4800
    # within the tolerance (4 px beyond the edge at 479.5): accepted
    rows[row_number(rows, name) - 2][2 + 2 * 3] = "483"
    write_csv(root, rows)
    assert load_muct(root).landmarks[list(load_muct(root).names).index(name), 3, 0] == 483
    for bad in (-1, "4", None, float("nan"), True):
        with pytest.raises(ValueError, match="outside_tolerance"):
            load_muct(root, outside_tolerance=bad)


@pytest.mark.parametrize("kind", BAD_ROW_KINDS)
def test_bad_row_raises_naming_file_and_row(tmp_path: Path, kind: str) -> None:
    rows, name = corrupt(default_rows()[0], kind)
    line = row_number(rows, name) if kind != "duplicate" else len(rows) + 1
    root = make_muct(tmp_path, rows)
    with pytest.raises(MuctFormatError) as info:
        load_muct(root)
    msg = str(info.value)
    assert str(root / CSV_RELATIVE_PATH) in msg
    assert f"row {line}" in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kind", BAD_ROW_KINDS)
def test_bad_row_skipped_with_warning(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    rows, name = corrupt(default_rows()[0], kind)
    line = row_number(rows, name) if kind != "duplicate" else len(rows) + 1
    root = make_muct(tmp_path, rows)
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        ds = load_muct(root, on_error="skip")
    if kind == "duplicate":
        assert len(ds) == len(STEMS)  # the first of the two rows is kept
    else:
        assert "i001se-m2" not in ds.names and len(ds) == len(STEMS) - 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        str(root / CSV_RELATIVE_PATH) in r.getMessage() and f"row {line}" in r.getMessage()
        for r in warnings
    ), [r.getMessage() for r in warnings]


def test_listed_but_missing_image_raises_naming_files(tmp_path: Path) -> None:
    rows, _ = default_rows()
    root = make_muct(tmp_path, rows)
    (root / "jpg" / "i000qb-fn.jpg").unlink()
    with pytest.raises(MuctFormatError) as info:
        load_muct(root)
    msg = str(info.value)
    assert str(root / CSV_RELATIVE_PATH) in msg
    assert str(root / "jpg" / "i000qb-fn.jpg") in msg


def test_listed_but_missing_image_error_names_row_number(tmp_path: Path) -> None:
    rows, _ = default_rows()
    root = make_muct(tmp_path, rows)
    (root / "jpg" / "i000qb-fn.jpg").unlink()
    with pytest.raises(MuctFormatError, match=rf"row {row_number(rows, 'i000qb-fn')}\b"):
        load_muct(root)


def test_listed_but_missing_image_skipped_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_muct(tmp_path)
    (root / "jpg" / "i000qb-fn.jpg").unlink()
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        ds = load_muct(root, on_error="skip")
    assert ds.names == tuple("i" + s for s in STEMS if s != "000qb-fn")
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("i000qb-fn" in m for m in messages), messages


def test_rows_of_subjects_absent_from_disk_raise_unless_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A CSV row whose image is missing is an error even when its whole subject is absent
    (nothing is dropped silently); on_error='skip' leaves such rows out with a warning."""
    held_out = ("300qa-mn", "300qb-mn", "300qc-mn")
    rows, _ = default_rows((*STEMS, *held_out))
    root = tmp_path
    write_images(root, STEMS)
    write_csv(root, rows)
    with pytest.raises(MuctFormatError, match="i300qa-mn"):
        load_muct(root)
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        ds = load_muct(root, on_error="skip")
    assert ds.names == tuple("i" + s for s in STEMS)
    assert any("3 rows" in r.getMessage() for r in caplog.records)


def test_extra_image_without_row_is_not_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_muct(tmp_path)
    write_images(root, ["005qa-fn"])
    (root / "jpg" / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        ds = load_muct(root)
    assert len(ds) == len(STEMS) and "i005qa-fn" not in ds.names
    # the file's own name: the warning said 'first: 005qa-fn', the stem less its leading 'i'
    assert any("(first: i005qa-fn.jpg)" in r.getMessage() for r in caplog.records)


def test_images_stored_as_upper_case_jpg_keep_their_own_paths(tmp_path: Path) -> None:
    """'.JPG' files counted as present, but the paths handed on ended in '.jpg': on a
    case-sensitive file system they did not exist, and training or predicting failed later."""
    root = make_muct(tmp_path)
    for p in (root / "jpg").iterdir():
        p.rename(p.with_suffix(".JPG"))
    ds = load_muct(root)
    assert len(ds) == len(STEMS)
    assert all(Path(p).is_file() and p.endswith(".JPG") for p in ds.image_paths)


def test_an_image_present_as_jpg_and_as_upper_case_jpg_is_refused_naming_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """i000qa-fn.jpg next to i000qa-fn.JPG: one was kept by listing order, without a word
    (load_ibug refuses several files for one face; load_muct now does the same)."""
    root = make_muct(tmp_path)
    Image.new("RGB", (8, 6)).save(root / "jpg" / "i000qa-fn.JPG", format="JPEG")
    with pytest.raises(MuctFormatError, match=r"i000qa-fn\.JPG, i000qa-fn\.jpg") as info:
        load_muct(root)
    assert f"row {row_number(default_rows()[0], 'i000qa-fn')}" in str(info.value)
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        ds = load_muct(root, on_error="skip")
    assert ds.names == tuple("i" + s for s in STEMS if s != "000qa-fn")
    assert any("i000qa-fn.JPG" in r.getMessage() for r in caplog.records)


def test_missing_root_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="root"):
        load_muct(tmp_path / "nowhere")


def test_missing_csv_raises(tmp_path: Path) -> None:
    write_images(tmp_path, STEMS)
    with pytest.raises(FileNotFoundError, match=r"muct76-opencv\.csv"):
        load_muct(tmp_path)


def test_missing_jpg_folder_raises(tmp_path: Path) -> None:
    write_csv(tmp_path, default_rows()[0])
    with pytest.raises(FileNotFoundError, match="jpg"):
        load_muct(tmp_path)


def test_root_that_is_a_file_raises(tmp_path: Path) -> None:
    f = tmp_path / "muct.zip"
    f.write_bytes(b"PK")
    with pytest.raises(FileNotFoundError):
        load_muct(f)


@pytest.mark.parametrize("drop", ["name", "x00", "y75", "x40"])
def test_header_missing_columns_raises(tmp_path: Path, drop: str) -> None:
    rows, _ = default_rows()
    col = HEADER.index(drop)
    header = [h for h in HEADER if h != drop]
    rows = [r[:col] + r[col + 1 :] for r in rows]
    root = make_muct(tmp_path, rows, header=header)
    with pytest.raises(MuctFormatError, match=drop) as info:
        load_muct(root)
    assert str(root / CSV_RELATIVE_PATH) in str(info.value)


def test_header_columns_in_another_order_are_read_by_name(tmp_path: Path) -> None:
    rows, _ = default_rows()
    a = load_muct(make_muct(tmp_path / "a", rows))
    order = [1, 0, *range(HEADER.index("x00"), len(HEADER))]
    header = [HEADER[i] for i in order]
    b = load_muct(make_muct(tmp_path / "b", [[r[i] for i in order] for r in rows], header=header))
    assert a.names == b.names
    np.testing.assert_array_equal(a.landmarks, b.landmarks)


def test_empty_csv_raises(tmp_path: Path) -> None:
    write_images(tmp_path, STEMS)
    (tmp_path / CSV_RELATIVE_PATH).parent.mkdir(parents=True)
    (tmp_path / CSV_RELATIVE_PATH).write_bytes(b"")
    with pytest.raises(MuctFormatError, match="empty"):
        load_muct(tmp_path)


def test_no_rows_raises(tmp_path: Path) -> None:
    root = make_muct(tmp_path, rows=[])
    with pytest.raises(MuctFormatError, match="No MUCT images"):
        load_muct(root)


def test_camera_filter(tmp_path: Path) -> None:
    root = make_muct(tmp_path)
    ds = load_muct(root, cameras="ade")
    assert ds.names == ("i000qa-fn", "i001se-m2")
    assert set(ds.cameras) == {"a", "e"}
    assert load_muct(root, cameras="b").names == ("i000qb-fn", "i247rb-fn", "i248rb-fn")
    assert len(load_muct(root, cameras="abcde")) == len(STEMS)


def test_camera_filter_skips_missing_images_of_other_cameras(tmp_path: Path) -> None:
    root = make_muct(tmp_path)
    (root / "jpg" / "i000qb-fn.jpg").unlink()  # camera b: not asked for, so not an error
    assert load_muct(root, cameras="ade").names == ("i000qa-fn", "i001se-m2")


@pytest.mark.parametrize("cameras", ["", "f", "aZ", "ab1"])
def test_bad_cameras_raise(tmp_path: Path, cameras: str) -> None:
    with pytest.raises(ValueError, match="cameras"):
        load_muct(make_muct(tmp_path), cameras=cameras)


@pytest.mark.parametrize("on_error", ["ignore", "Raise", None])
def test_bad_on_error_raises(tmp_path: Path, on_error) -> None:
    with pytest.raises(ValueError, match="on_error"):
        load_muct(make_muct(tmp_path), on_error=on_error)


# ============================================================================ splits (synthetic)


def synthetic_dataset(
    n_subjects: int = 60, per_subject: int = 5, twins: bool = True, seed: int = 0
) -> LandmarkDataset:
    """Subjects in four lighting strata, each photographed by cameras a..e."""
    rng = np.random.default_rng(seed)
    subjects = [f"{i:03d}" for i in range(n_subjects)]
    if twins:
        subjects[-2:] = list(TWINS)
    names, subj, cams, groups = [], [], [], []
    for k, s in enumerate(subjects):
        lighting = "qtwy"[k % 4]
        for j in range(per_subject):
            cam = "abcde"[j % 5]
            names.append(f"i{s}{lighting}{cam}-fn")
            subj.append(s)
            cams.append(cam)
            groups.append(lighting)
    n = len(names)
    return LandmarkDataset(
        image_paths=tuple(f"/nowhere/{nm}.jpg" for nm in names),
        landmarks=rng.uniform(0, 400, size=(n, NUM_POINTS, 2)).astype(np.float32),
        names=tuple(names),
        subjects=tuple(subj),
        cameras=tuple(cams),
        groups=tuple(groups),
        mirror_landmarks=rng.uniform(0, 400, size=(n, NUM_POINTS, 2)),
        image_sizes=np.tile(IMAGE_SIZE, (n, 1)),
        source="synthetic",
        split_groups={"twins": TWINS} if twins else {},
    )


def check_partition(ds: LandmarkDataset, train: LandmarkDataset, test: LandmarkDataset) -> None:
    """Every image exactly once, with all of its fields carried along."""
    assert len(train) + len(test) == len(ds)
    assert Counter(train.names + test.names) == Counter(ds.names)
    assert len(set(train.names) & set(test.names)) == 0
    index = {n: i for i, n in enumerate(ds.names)}
    for part in (train, test):
        idx = [index[n] for n in part.names]
        np.testing.assert_array_equal(part.landmarks, ds.landmarks[idx])
        if ds.mirror_landmarks is not None:
            np.testing.assert_array_equal(part.mirror_landmarks, ds.mirror_landmarks[idx])
        if ds.image_sizes is not None:
            np.testing.assert_array_equal(part.image_sizes, ds.image_sizes[idx])
        assert part.subjects == tuple(ds.subjects[i] for i in idx)
        assert part.cameras == tuple(ds.cameras[i] for i in idx)
        assert part.groups == tuple(ds.groups[i] for i in idx)
        assert part.image_paths == tuple(ds.image_paths[i] for i in idx)


def check_subject_split(
    ds: LandmarkDataset,
    train: LandmarkDataset,
    test: LandmarkDataset,
    fraction: float = 0.3,
    tol: float = 0.05,
) -> None:
    check_partition(ds, train, test)
    assert set(train.subjects).isdisjoint(test.subjects)
    assert set(train.subjects) | set(test.subjects) == set(ds.subjects)
    twins_sides = {
        side for side, part in (("train", train), ("test", test)) if set(TWINS) & set(part.subjects)
    }
    if set(TWINS) <= set(ds.subjects):
        assert len(twins_sides) == 1
        side = train if twins_sides == {"train"} else test
        assert set(TWINS) <= set(side.subjects)
    share = len(set(test.subjects)) / len(set(ds.subjects))
    assert abs(share - fraction) <= tol, share
    for attr in ("groups", "cameras"):
        assert set(getattr(train, attr)) == set(getattr(ds, attr)), attr
        assert set(getattr(test, attr)) == set(getattr(ds, attr)), attr


@pytest.mark.parametrize("seed", range(6))
def test_subject_split_synthetic(seed: int) -> None:
    ds = synthetic_dataset()
    train, test = ds.split(0.3, by="subject", seed=seed)
    check_subject_split(ds, train, test, 0.3, tol=0.06)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.8])
def test_subject_split_other_fractions(fraction: float) -> None:
    ds = synthetic_dataset(n_subjects=80)
    train, test = ds.split(fraction, seed=1)
    check_subject_split(ds, train, test, fraction, tol=0.06)


def test_subject_split_is_default_and_deterministic() -> None:
    ds = synthetic_dataset()
    a_train, a_test = ds.split(seed=3)
    b_train, b_test = ds.split(0.3, by="subject", seed=3)
    assert a_train.names == b_train.names and a_test.names == b_test.names
    _c_train, c_test = ds.split(seed=4)
    assert set(c_test.subjects) != set(a_test.subjects)
    assert ds.split()[1].names == ds.split(seed=0)[1].names


def test_subject_split_keeps_twins_together_for_many_seeds() -> None:
    ds = synthetic_dataset(n_subjects=12, per_subject=2)
    sides = set()
    for seed in range(40):
        _train, test = ds.split(0.3, seed=seed)
        in_test = [t in test.subjects for t in TWINS]
        assert in_test[0] == in_test[1], seed
        sides.add(in_test[0])
    assert sides == {True, False}  # the twin unit really is drawn, not pinned to one side


def test_subject_split_without_twins_group_can_separate_them() -> None:
    # The twins rule comes from split_groups: without it 247/248 are two ordinary subjects.
    ds = synthetic_dataset(n_subjects=12, per_subject=2, twins=False)
    ds = LandmarkDataset(
        image_paths=ds.image_paths,
        landmarks=ds.landmarks,
        names=ds.names,
        subjects=tuple({"010": "247", "011": "248"}.get(s, s) for s in ds.subjects),
        cameras=ds.cameras,
        groups=tuple("q" for _ in ds.groups),
    )
    apart = 0
    for seed in range(40):
        _, test = ds.split(0.5, seed=seed)
        apart += ("247" in test.subjects) != ("248" in test.subjects)
    assert apart > 0


def test_subject_split_with_ungrouped_dataset() -> None:
    ds = synthetic_dataset(n_subjects=10)
    plain = LandmarkDataset(
        image_paths=ds.image_paths,
        landmarks=ds.landmarks,
        names=ds.names,
        subjects=ds.subjects,
        cameras=ds.cameras,
    )
    assert plain.groups == ("",) * len(ds)
    train, test = plain.split(0.3, seed=0)
    check_partition(plain, train, test)
    assert set(train.subjects).isdisjoint(test.subjects)
    # No split_groups here, so 247/248 are two units: 10 units, one stratum, round(10 * 0.3).
    assert len(set(test.subjects)) == 3


def test_subject_split_two_subjects_puts_one_on_each_side() -> None:
    ds = synthetic_dataset(n_subjects=2, per_subject=3, twins=False)
    for fraction in (0.01, 0.3, 0.99):
        train, test = ds.split(fraction, seed=0)
        assert len(set(train.subjects)) == 1 and len(set(test.subjects)) == 1


def test_subject_split_needs_two_subjects() -> None:
    ds = synthetic_dataset(n_subjects=1, per_subject=4, twins=False)
    with pytest.raises(ValueError, match="subject"):
        ds.split(0.3)
    twins_only = synthetic_dataset(n_subjects=2, per_subject=4, twins=True)
    with pytest.raises(ValueError, match="subject"):
        twins_only.split(0.3)


@pytest.mark.parametrize(("n", "n_test"), [(100, 30), (10, 3), (3005, 902), (2, 1)])
def test_image_split_sizes(n: int, n_test: int) -> None:
    ds = synthetic_dataset(n_subjects=n, per_subject=1, twins=False)
    train, test = ds.split(0.3, by="image", seed=0)
    assert (len(train), len(test)) == (n - n_test, n_test)
    check_partition(ds, train, test)


def test_image_split_deterministic_and_seeded() -> None:
    ds = synthetic_dataset(n_subjects=100, per_subject=1)
    a = ds.split(0.3, by="image", seed=1)[1].names
    assert a == ds.split(0.3, by="image", seed=1)[1].names
    assert a != ds.split(0.3, by="image", seed=2)[1].names


def test_image_split_needs_two_images() -> None:
    ds = synthetic_dataset(n_subjects=1, per_subject=1, twins=False)
    with pytest.raises(ValueError, match="2 images"):
        ds.split(0.3, by="image")


@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), "0.3", None, True])
@pytest.mark.parametrize("by", ["subject", "image"])
def test_bad_test_fraction_raises(fraction, by: str) -> None:
    ds = synthetic_dataset(n_subjects=10)
    with pytest.raises(ValueError, match="test_fraction"):
        ds.split(fraction, by=by)


@pytest.mark.parametrize("by", ["subject", "image"])
def test_a_numpy_float32_fraction_is_a_number(by: str) -> None:
    """np.float32(0.3) was refused as 'must be a number in (0, 1)'."""
    ds = synthetic_dataset(n_subjects=10)
    assert (
        ds.split(np.float32(0.3), by=by, seed=2)[1].names == ds.split(0.3, by=by, seed=2)[1].names
    )


@pytest.mark.parametrize("by", ["subjects", "camera", "", None])
def test_bad_by_raises(by) -> None:
    ds = synthetic_dataset(n_subjects=10)
    with pytest.raises(ValueError, match="by"):
        ds.split(0.3, by=by)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
@pytest.mark.parametrize("by", ["subject", "image"])
def test_bad_seed_raises_naming_it(seed, by: str) -> None:
    """seed=-1 failed inside NumPy ("expected non-negative integer"), naming no argument."""
    ds = synthetic_dataset(n_subjects=10)
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0\. Received: seed="):
        ds.split(0.3, by=by, seed=seed)
    assert ds.split(0.3, by=by, seed=np.int64(2))[1].names == ds.split(0.3, by=by, seed=2)[1].names


def test_split_checks_by_before_seed() -> None:
    with pytest.raises(ValueError, match="by must be"):
        synthetic_dataset(n_subjects=10).split(0.3, by="images", seed=-1)


@pytest.mark.parametrize("attr", ["image_paths", "names", "subjects", "cameras", "groups"])
@pytest.mark.parametrize("value", ["face.jpg", Path("face.jpg"), b"face.jpg"])
def test_a_single_string_is_refused_for_a_per_image_field(attr: str, value) -> None:
    """image_paths="face.jpg" was read as 8 paths, its characters ("N = 8 images")."""
    fields = {a: ["face.jpg"] for a in ("image_paths", "names", "subjects", "cameras", "groups")}
    with pytest.raises(TypeError, match=rf"^{attr} must be a sequence .* Received: {attr}="):
        LandmarkDataset(landmarks=np.zeros((1, 5, 2)), **{**fields, attr: value})
    assert LandmarkDataset(landmarks=np.zeros((1, 5, 2)), **fields).image_paths == ("face.jpg",)


def test_subset_and_validation() -> None:
    ds = synthetic_dataset(n_subjects=4, per_subject=2)
    sub = ds.subset([3, 0])
    assert sub.names == (ds.names[3], ds.names[0])
    np.testing.assert_array_equal(sub.landmarks, ds.landmarks[[3, 0]])
    assert sub.split_groups == ds.split_groups
    with pytest.raises(IndexError):
        ds.subset([len(ds)])
    with pytest.raises(ValueError, match="landmarks"):
        LandmarkDataset(
            image_paths=("a",),
            landmarks=np.zeros((2, 76, 2)),
            names=("a",),
            subjects=("0",),
            cameras=("a",),
        )
    with pytest.raises(ValueError, match="names"):
        LandmarkDataset(
            image_paths=("a",),
            landmarks=np.zeros((1, 76, 2)),
            names=(),
            subjects=("0",),
            cameras=("a",),
        )


# ============================================================================ part b: real data


@pytest.fixture(scope="module")
def muct_subject_split(muct: LandmarkDataset) -> tuple[LandmarkDataset, LandmarkDataset]:
    return muct.split(0.3, by="subject", seed=0)


@pytest.mark.muct
class TestRealMuct:
    def test_size_shapes_dtypes(self, muct: LandmarkDataset) -> None:
        n = 3005  # the development subset here; a full download has 3,755
        assert len(muct) == n
        assert muct.num_points == NUM_POINTS == 76
        assert muct.landmarks.shape == (n, 76, 2) and muct.landmarks.dtype == np.float32
        assert muct.mirror_landmarks.shape == (n, 76, 2)
        assert muct.mirror_landmarks.dtype == np.float32
        assert muct.image_sizes.shape == (n, 2)
        assert np.all(muct.image_sizes == (480, 640))
        assert len(set(muct.names)) == n and list(muct.names) == sorted(muct.names)
        assert len(set(muct.subjects)) == 221
        assert set(muct.cameras) == set("abcde")
        assert set(muct.groups) == set("qrstuvwxyz")
        assert "i001se-m2" in muct.names
        assert all(
            Path(p).name == f"{nm}.jpg" for p, nm in zip(muct.image_paths, muct.names, strict=True)
        )

    def test_coordinates_inside_image(self, muct: LandmarkDataset) -> None:
        for lm in (muct.landmarks, muct.mirror_landmarks):
            x, y = lm[..., 0], lm[..., 1]
            ok = np.isnan(x) | ((x >= 0) & (x <= 479))
            assert ok.all()
            ok = np.isnan(y) | ((y >= 0) & (y <= 639))
            assert ok.all()
            assert np.array_equal(np.isnan(x), np.isnan(y))  # a point is NaN as a whole
            assert not np.any(np.all(lm == 0.0, axis=-1))  # no (0, 0) left

    def test_unavailable_points_only_cameras_b_c_and_never_68_75(
        self, muct: LandmarkDataset
    ) -> None:
        unavailable = ~muct.available
        cams = np.array(muct.cameras)
        per_image = unavailable.any(axis=1)
        assert set(cams[per_image]) == {"b", "c"}
        assert not unavailable[:, 68:76].any()
        assert per_image[cams == "b"].sum() > 0 and per_image[cams == "c"].sum() > 0

    def test_eye_corners_and_pupils_always_available(self, muct: LandmarkDataset) -> None:
        for p in (
            MuctPoint.IMAGE_LEFT_EYE_OUTER,
            MuctPoint.IMAGE_RIGHT_EYE_OUTER,
            MuctPoint.IMAGE_LEFT_PUPIL,
            MuctPoint.IMAGE_RIGHT_PUPIL,
        ):
            assert muct.available[:, p].all(), p
            assert np.isfinite(muct.mirror_landmarks[:, p]).all(), p
        # On the image's left means smaller x.
        lm = muct.landmarks
        assert np.all(
            lm[:, MuctPoint.IMAGE_LEFT_EYE_OUTER, 0] < lm[:, MuctPoint.IMAGE_RIGHT_EYE_OUTER, 0]
        )

    def test_mirror_points_matches_mirror_rows(self, muct: LandmarkDataset) -> None:
        mirrored = mirror_points(muct.landmarks, 480)
        np.testing.assert_array_equal(np.isnan(mirrored), np.isnan(muct.mirror_landmarks))
        diff = np.abs(mirrored - muct.mirror_landmarks)
        assert np.nanmax(diff) <= 0.5
        # A wrong permutation (identity) would be far off: the test can fail.
        wrong = muct.landmarks.copy()
        wrong[..., 0] = 479 - wrong[..., 0]
        assert np.nanmax(np.abs(wrong - muct.mirror_landmarks)) > 10
        assert tuple(MIRROR_PERMUTATION) != tuple(range(76))

    def test_camera_filter_ade_has_no_unavailable_points(self, muct: LandmarkDataset) -> None:
        keep = np.isin(np.array(muct.cameras), list("ade"))
        assert muct.available[keep].all()

    def test_subject_split(self, muct: LandmarkDataset, muct_subject_split) -> None:
        train, test = muct_subject_split
        check_subject_split(muct, train, test, 0.3, tol=0.03)
        assert set(TWINS) <= set(muct.subjects)

    def test_subject_split_seeds(self, muct: LandmarkDataset, muct_subject_split) -> None:
        _, test = muct_subject_split
        assert muct.split(0.3, seed=0)[1].names == test.names
        other_train, other_test = muct.split(0.3, seed=1)
        assert set(other_test.subjects) != set(test.subjects)
        check_subject_split(muct, other_train, other_test, 0.3, tol=0.03)

    def test_image_split(self, muct: LandmarkDataset) -> None:
        train, test = muct.split(0.3, by="image", seed=0)
        assert (len(train), len(test)) == (2103, 902)
        check_partition(muct, train, test)
        # The original project's split shares people between the sides.
        assert set(train.subjects) & set(test.subjects)


def test_subset_takes_a_boolean_mask_as_a_mask() -> None:
    """A mask was cast to indices 0 and 1: the first two images, repeated, came back."""
    ds = synthetic_dataset(n_subjects=4, per_subject=2)
    mask = np.array(ds.names) >= ds.names[5]
    assert ds.subset(mask).names == ds.names[5:]
    assert len(ds.subset([])) == 0 and ds.subset(-1).names == ds.names[-1:]
    for bad in (mask[:-1], [1.5]):  # a mask of another length, a non-integer index
        with pytest.raises(IndexError):
            ds.subset(bad)


def test_per_image_labels_are_strings_whatever_type_they_came_in() -> None:
    """Subject ids read as numbers stayed NumPy ints: split_groups written as strings (their
    documented type) no longer held the twins together, and ids mixing numbers and text made
    the split fail inside sorted()."""
    n = 12
    ds = LandmarkDataset(
        image_paths=[f"/nowhere/{i}.jpg" for i in range(n)],
        landmarks=np.zeros((n, NUM_POINTS, 2), np.float32),
        names=np.arange(n),
        subjects=np.arange(n) // 2,
        cameras=[""] * n,
        split_groups={"twins": ("0", "1")},
    )
    assert ds.names[3] == "3" and ds.subjects[3] == "1"
    for seed in range(8):
        _, test = ds.split(0.5, seed=seed)
        assert ("0" in test.subjects) == ("1" in test.subjects)
    mixed = LandmarkDataset(ds.image_paths, ds.landmarks, ds.names, [1, "b"] * 6, ds.cameras)
    assert sorted(map(len, mixed.split(0.5))) == [6, 6]
