"""Tests for the iBUG .pts reader (facelandmarks.datasets.ibug) and the dataset's scheme field.

Synthetic folders are made in ``tmp_path``: hand-written ``.pts`` files next to small images
drawn with Pillow (never a real photo). The ``wild`` tests read the real 300-W training folders
from ``$FACELANDMARKS_WILD`` or ``../shared/wild`` (landmark files and image headers only).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks.datasets import (
    LandmarkDataset,
    PtsFormatError,
    load_ibug,
    load_muct,
    read_pts,
)
from facelandmarks.datasets.ibug import photo_id
from facelandmarks.schemes import IBUG68, register_scheme

W, H = 64, 48  # synthetic image size


def face_points(seed: int, k: int = 68) -> np.ndarray:
    """(K, 2) float64 0-based points inside a W x H image."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0, W - 1, k), rng.uniform(0, H - 1, k)])


def pts_text(xy0: np.ndarray, *, header: str | None = None, newline: str = "\n") -> str:
    """The .pts text of 0-based points (written 1-based, as the format is)."""
    head = header if header is not None else f"version: 1\nn_points:  {len(xy0)}\n"
    body = "".join(f"{x + 1:.6f} {y + 1:.6f}\n" for x, y in xy0)
    return (head + "{\n" + body + "}\n").replace("\n", newline)


def make_face(
    folder: Path,
    stem: str,
    seed: int = 0,
    *,
    suffix: str = ".jpg",
    size: tuple[int, int] = (W, H),
    k: int = 68,
) -> np.ndarray:
    """Write ``stem.pts`` and an image ``stem<suffix>``; return the 0-based points."""
    folder.mkdir(parents=True, exist_ok=True)
    xy = face_points(seed, k)
    (folder / f"{stem}.pts").write_text(pts_text(xy))
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP"}[suffix.lower()]
    Image.new("RGB", size, (seed * 37 % 256, 80, 160)).save(folder / f"{stem}{suffix}", fmt)
    return xy


def make_300w(root: Path) -> dict[str, np.ndarray]:
    """A small 300-W-like tree; returns {relative name: points}."""
    truth = {}
    for i, (sub, stem) in enumerate(
        [
            ("afw", "1051618982_1"),
            ("afw", "111076519_1"),
            ("afw", "111076519_2"),
            ("helen/trainset", "100032540_1"),
            ("helen/trainset", "2908549_3"),
            ("lfpw/trainset", "image_0001"),
            ("lfpw/testset", "image_0001"),
            ("ibug", "image_003_1"),
            ("ibug", "image_003_2"),
        ]
    ):
        truth[f"{sub}/{stem}"] = make_face(root / sub, stem, seed=i)
    return truth


# ---------------------------------------------------------------------- read_pts


def test_read_pts_subtracts_one(tmp_path: Path) -> None:
    path = tmp_path / "a.pts"
    path.write_text("version: 1\nn_points: 3\n{\n1 1\n2.5 10\n100.25 0.5\n}\n")
    xy = read_pts(path)
    assert xy.dtype == np.float64 and xy.shape == (3, 2)
    np.testing.assert_array_equal(xy, [[0, 0], [1.5, 9], [99.25, -0.5]])
    assert read_pts(path, 3).shape == (3, 2)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_pts_tolerates_layout(tmp_path: Path, newline: str) -> None:
    xy = face_points(1)
    text = "\n" + pts_text(xy).replace("{\n", "{\n\n").replace("\n}", "\n   \n}") + "\n\n"
    path = tmp_path / "a.pts"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", newline).encode())
    np.testing.assert_allclose(read_pts(path), xy, atol=1e-6)
    no_version = tmp_path / "b.pts"
    no_version.write_text(pts_text(xy, header="n_points: 68\n"))
    np.testing.assert_allclose(read_pts(no_version, 68), xy, atol=1e-6)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("version: 1\nn_points: 2\n1 1\n2 2\n", r"line 3: expected 'key: value'"),
        ("version: 1\n{\n1 1\n}\n", r"line 2: '\{' before an 'n_points:'"),
        ("version: 2\nn_points: 1\n{\n1 1\n}\n", r"line 1: unknown version"),
        ("n_points: many\n{\n1 1\n}\n", r"line 1: n_points must be a positive integer"),
        ("n_points: 0\n{\n}\n", r"line 1: n_points must be a positive integer"),
        ("n_points: 2\n{\n1 1\n}\n", r"line 4: n_points is 2 but 1 points precede"),
        ("n_points: 1\n{\n1 1\n2 2\n}\n", r"line 4: more than n_points=1"),
        ("n_points: 1\n{\n1 x\n}\n", r"line 3: expected two numbers 'x y'.*'1 x'"),
        ("n_points: 1\n{\n1 2 3\n}\n", r"line 3: expected two numbers"),
        ("n_points: 1\n{\nnan 2\n}\n", r"line 3: non-finite coordinate"),
        ("n_points: 1\n{\n1 2\n", r"ends without the closing '\}'"),
        ("n_points: 1\n", r"ends without '\{'"),
        ("", r"ends without '\{'"),
        ("n_points: 1\n{\n1 2\n}\nextra\n", r"line 5: text after the closing"),
    ],
)
def test_read_pts_rejects_malformed_files(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.pts"
    path.write_text(text)
    with pytest.raises(PtsFormatError, match=fragment) as info:
        read_pts(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_pts_checks_the_point_count_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.pts"
    path.write_text(pts_text(face_points(0, 5)))
    with pytest.raises(PtsFormatError, match=r"line 2: expected n_points: 68"):
        read_pts(path, 68)
    path.write_bytes(b"n_points: 1\n{\n\xff\xfe 1\n}\n")
    with pytest.raises(PtsFormatError, match="not UTF-8"):
        read_pts(path)


@pytest.mark.parametrize(
    "stem, photo",
    [
        ("100032540_1", "100032540"),
        ("1051618982_12", "1051618982"),
        ("image_003_1", "image_003"),
        ("image_0001", "image_0001"),
        ("image_0001_2", "image_0001"),
        ("face", "face"),
        ("abc_1", "abc_1"),
        ("2908549_123", "2908549_123"),
    ],
)
def test_photo_id(stem: str, photo: str) -> None:
    assert photo_id(stem) == photo


# ---------------------------------------------------------------------- load_ibug


def test_load_300w_layout(tmp_path: Path) -> None:
    truth = make_300w(tmp_path)
    ds = load_ibug(tmp_path)
    assert isinstance(ds, LandmarkDataset) and len(ds) == len(truth)
    assert ds.names == tuple(sorted(truth)) and ds.scheme == "ibug68"
    assert ds.landmarks.shape == (len(truth), 68, 2) and ds.landmarks.dtype == np.float32
    for name, path, lm in zip(ds.names, ds.image_paths, ds.landmarks, strict=True):
        np.testing.assert_allclose(lm, truth[name], atol=1e-4)
        assert Path(path) == tmp_path / f"{name}.jpg"
    assert ds.groups == tuple(n.split("/")[0] for n in ds.names)
    assert Counter(ds.groups) == {"afw": 3, "helen": 2, "lfpw": 2, "ibug": 2}
    assert ds.subjects[ds.names.index("afw/111076519_2")] == "111076519"
    assert ds.subjects[ds.names.index("ibug/image_003_1")] == "image_003"
    assert ds.subjects[ds.names.index("lfpw/testset/image_0001")] == "image_0001"
    assert set(ds.cameras) == {""}
    np.testing.assert_array_equal(ds.image_sizes, np.tile([W, H], (len(ds), 1)))
    assert ds.mirror_landmarks is None


def test_split_keeps_faces_of_one_photo_together(tmp_path: Path) -> None:
    make_300w(tmp_path)
    ds = load_ibug(tmp_path)
    for seed in range(10):
        train, test = ds.split(0.4, seed=seed)
        assert set(train.subjects).isdisjoint(test.subjects)
        assert len(train) + len(test) == len(ds)
        assert train.scheme == test.scheme == "ibug68"


def test_not_recursive_reads_the_top_folder_only(tmp_path: Path) -> None:
    make_300w(tmp_path / "sub")
    top = make_face(tmp_path, "5_1", seed=42)
    ds = load_ibug(tmp_path, recursive=False)
    assert ds.names == ("5_1",) and ds.groups == ("",) and ds.subjects == ("5",)
    np.testing.assert_allclose(ds.landmarks[0], top, atol=1e-4)
    with pytest.raises(PtsFormatError, match="recursive=False"):
        load_ibug(tmp_path / "sub", recursive=False)


def test_symlinked_folders_are_read_once(tmp_path: Path) -> None:
    """os.walk does not enter a link to a folder: a dataset assembled from links (root/afw ->
    /data/afw) lost those faces without a word. A link back to a folder already read (a loop)
    must not read its faces twice."""
    make_300w(tmp_path / "data")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "afw").symlink_to(tmp_path / "data" / "afw", target_is_directory=True)
    (tmp_path / "data" / "afw" / "loop").symlink_to(tmp_path / "data" / "afw")
    make_face(tmp_path / "root" / "own", "5_1")
    ds = load_ibug(tmp_path / "root")
    assert ds.names == ("afw/1051618982_1", "afw/111076519_1", "afw/111076519_2", "own/5_1")


def test_image_types(tmp_path: Path) -> None:
    make_face(tmp_path, "a", 1, suffix=".PNG")
    make_face(tmp_path, "b", 2, suffix=".jpeg")
    make_face(tmp_path, "c", 3, suffix=".bmp")
    make_face(tmp_path, "d", 4, suffix=".png")
    ds = load_ibug(tmp_path)
    assert [Path(p).name for p in ds.image_paths] == ["a.PNG", "b.jpeg", "c.bmp", "d.png"]


@pytest.mark.parametrize("other", ["a.PTS", "a.JPG", "a.png"])
def test_several_files_for_one_face_are_refused_naming_them(tmp_path: Path, other: str) -> None:
    """a.pts + a.PTS kept whichever the directory listing gave last, a.jpg + a.JPG the image it
    gave first, both without a word (a.jpg + a.png took the .jpg): points and image could be
    of two different files."""
    make_face(tmp_path, "a", 1)
    make_face(tmp_path, "b", 2)
    if other.endswith(".PTS"):
        (tmp_path / other).write_text(pts_text(face_points(3)))
    else:
        Image.new("RGB", (W + 10, H)).save(tmp_path / other)
    names = ", ".join(sorted(["a.pts" if other.endswith(".PTS") else "a.jpg", other]))
    with pytest.raises(PtsFormatError, match=rf"a\.(pts|PTS): 2 files for one face.*: {names};"):
        load_ibug(tmp_path)
    assert load_ibug(tmp_path, on_error="skip").names == ("b",)


def test_hidden_files_and_folders_are_ignored(tmp_path: Path) -> None:
    make_face(tmp_path, "a", 1)
    (tmp_path / "._a.pts").write_bytes(b"\x00\x05\x16\x07 not a pts file")
    make_face(tmp_path / ".cache", "b", 2)
    assert load_ibug(tmp_path).names == ("a",)


def test_pts_without_image(tmp_path: Path, caplog) -> None:
    make_face(tmp_path, "a", 1)
    (tmp_path / "lonely.pts").write_text(pts_text(face_points(2)))
    with pytest.raises(PtsFormatError, match=r"lonely.pts: no image next to it.*on_error='skip'"):
        load_ibug(tmp_path)
    with caplog.at_level(logging.WARNING, logger="facelandmarks.datasets.ibug"):
        ds = load_ibug(tmp_path, on_error="skip")
    assert ds.names == ("a",)
    assert "lonely.pts: no image" in caplog.text and "1 .pts files" in caplog.text


def test_image_without_pts_is_reported_not_loaded(tmp_path: Path, caplog) -> None:
    make_face(tmp_path, "a", 1)
    Image.new("RGB", (W, H)).save(tmp_path / "extra.jpg")
    with caplog.at_level(logging.WARNING, logger="facelandmarks.datasets.ibug"):
        ds = load_ibug(tmp_path)
    assert ds.names == ("a",)
    assert (
        "1 images" in caplog.text and "have no .pts file" in caplog.text and "extra" in caplog.text
    )


def test_malformed_file_raises_or_is_skipped(tmp_path: Path, caplog) -> None:
    make_face(tmp_path / "afw", "1_1", 1)
    make_face(tmp_path / "afw", "2_1", 2)
    bad = tmp_path / "afw" / "2_1.pts"
    bad.write_text(pts_text(face_points(2)).replace("\n}", "\n1 1\n}"))
    with pytest.raises(PtsFormatError, match=r"2_1.pts, line 72: more than n_points=68"):
        load_ibug(tmp_path)
    with caplog.at_level(logging.WARNING, logger="facelandmarks.datasets.ibug"):
        ds = load_ibug(tmp_path, on_error="skip")
    assert ds.names == ("afw/1_1",)
    assert "line 72" in caplog.text and "skipped" in caplog.text


def test_all_files_skipped_is_said_so(tmp_path: Path) -> None:
    """on_error='skip' with every face unusable raised 'No .pts files with images found',
    contradicting the warnings about each skipped file just above it."""
    make_face(tmp_path, "a", 1)
    (tmp_path / "a.pts").write_text("version: 1\n")
    (tmp_path / "b.pts").write_text(pts_text(face_points(2)))
    with pytest.raises(
        PtsFormatError,
        match=r"All 2 \.pts files under .* were skipped \(first: "
        r".*a\.pts: file ends without '\{'",
    ):
        load_ibug(tmp_path, on_error="skip")


def test_points_outside_the_image(tmp_path: Path) -> None:
    xy = make_face(tmp_path, "a", 1)
    make_face(tmp_path, "b", 2)
    xy[10] = (-3.0, 5.0)  # 2.5 px beyond the left edge (-0.5): within the default 4 px
    xy[11] = (W - 0.5 + 3.9, 5.0)
    (tmp_path / "a.pts").write_text(pts_text(xy))
    np.testing.assert_allclose(load_ibug(tmp_path).landmarks[0], xy, atol=1e-4)
    xy[12] = (10.0, H + 10.0)
    (tmp_path / "a.pts").write_text(pts_text(xy))
    with pytest.raises(PtsFormatError, match=r"a.pts: 1 points lie more than 4 px outside.*64x48"):
        load_ibug(tmp_path)
    assert load_ibug(tmp_path, on_error="skip").names == ("b",)
    assert len(load_ibug(tmp_path, outside_tolerance=float("inf"))) == 2
    with pytest.raises(PtsFormatError, match="outside"):
        load_ibug(tmp_path, outside_tolerance=1.0)


def test_exif_rotated_or_unreadable_image(tmp_path: Path) -> None:
    make_face(tmp_path, "a", 1)
    make_face(tmp_path, "b", 2)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (W, H)).save(tmp_path / "b.jpg", exif=exif)
    with pytest.raises(PtsFormatError, match=r"b\.jpg: EXIF orientation 6"):
        load_ibug(tmp_path)
    (tmp_path / "b.jpg").write_bytes(b"not an image")
    with pytest.raises(PtsFormatError, match=r"b\.jpg: cannot read the image"):
        load_ibug(tmp_path)
    assert load_ibug(tmp_path, on_error="skip").names == ("a",)


def test_other_schemes(tmp_path: Path, scheme_registry, five_points) -> None:
    make_face(tmp_path, "a", 1, k=5)
    with pytest.raises(PtsFormatError, match="expected n_points: 68"):
        load_ibug(tmp_path)
    with pytest.raises(PtsFormatError, match="expected n_points: 76"):
        load_ibug(tmp_path, scheme="muct76")
    with pytest.raises(ValueError, match="Unknown point scheme 'test5'"):
        load_ibug(tmp_path, scheme="test5")
    register_scheme(five_points)
    ds = load_ibug(tmp_path, scheme="test5")
    assert ds.scheme == "test5" and ds.landmarks.shape == (1, 5, 2)
    assert ds.point_scheme is five_points


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"on_error": "ignore"}, ValueError, "on_error must be 'raise' or 'skip'"),
        ({"outside_tolerance": -1}, ValueError, "outside_tolerance must be a number >= 0"),
        ({"outside_tolerance": "4"}, ValueError, "outside_tolerance must be a number >= 0"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs, error, fragment) -> None:
    make_face(tmp_path, "a", 1)
    with pytest.raises(error, match=fragment):
        load_ibug(tmp_path, **kwargs)


def test_missing_or_empty_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_ibug(tmp_path / "nowhere")
    with pytest.raises(PtsFormatError, match=r"No \.pts files with images"):
        load_ibug(tmp_path)


# ---------------------------------------------------------------------- LandmarkDataset.scheme


def dataset(k: int, n: int = 3, **kwargs) -> LandmarkDataset:
    return LandmarkDataset(
        image_paths=[f"/x/{i}.jpg" for i in range(n)],
        landmarks=np.zeros((n, k, 2)),
        names=[str(i) for i in range(n)],
        subjects=[str(i) for i in range(n)],
        cameras=[""] * n,
        **kwargs,
    )


def test_dataset_scheme_is_inferred_or_checked(scheme_registry, five_points) -> None:
    assert dataset(76).scheme == "muct76" and dataset(68).scheme == "ibug68"
    assert dataset(68).point_scheme is IBUG68
    assert dataset(4).scheme == "" and dataset(4).point_scheme is None
    assert dataset(68, scheme=IBUG68).scheme == "ibug68"
    assert dataset(68, scheme="IBUG68").scheme == "ibug68"
    assert "68 points (ibug68)" in repr(dataset(68))
    with pytest.raises(
        ValueError, match=r"scheme 'muct76' has 76 points but the landmarks have 68"
    ):
        dataset(68, scheme="muct76")
    with pytest.raises(ValueError, match="Unknown point scheme 'wflw98'"):
        dataset(98, scheme="wflw98")
    with pytest.raises(ValueError, match="'test5' must be registered first"):
        dataset(5, scheme=five_points)
    register_scheme(five_points)
    assert dataset(5, scheme=five_points).scheme == "test5"
    assert dataset(5).scheme == ""  # registered, but not the default for 5 points
    ds = dataset(68, n=6)
    assert ds.subset([0, 2]).scheme == "ibug68"
    assert all(part.scheme == "ibug68" for part in ds.split(0.5, by="image"))


def test_concat_same_scheme(tmp_path: Path) -> None:
    make_300w(tmp_path)
    ds = load_ibug(tmp_path)
    afw = ds.subset([i for i, g in enumerate(ds.groups) if g == "afw"])
    rest = ds.subset([i for i, g in enumerate(ds.groups) if g != "afw"])
    both = LandmarkDataset.concat(rest, afw)
    assert len(both) == len(ds) and both.scheme == "ibug68"
    assert both.names == rest.names + afw.names and both.groups == rest.groups + afw.groups
    np.testing.assert_array_equal(both.landmarks, np.concatenate([rest.landmarks, afw.landmarks]))
    np.testing.assert_array_equal(both.image_sizes[: len(rest)], rest.image_sizes)
    assert both.mirror_landmarks is None and both.source == ds.source
    assert LandmarkDataset.concat(ds).names == ds.names


def test_concat_fills_and_checks() -> None:
    mirrored = dataset(76, n=2, mirror_landmarks=np.ones((2, 76, 2)), split_groups={"t": ("0",)})
    plain = dataset(76, n=3, image_sizes=np.ones((3, 2)), source="b")
    both = LandmarkDataset.concat(mirrored, plain)
    assert both.mirror_landmarks.shape == (5, 76, 2)
    assert (both.mirror_landmarks[:2] == 1).all() and np.isnan(both.mirror_landmarks[2:]).all()
    assert both.image_sizes is None and both.split_groups == {"t": ("0",)}
    assert both.source == "b"
    with pytest.raises(ValueError, match=r"one point scheme.*'muct76' \(76 points\).*'ibug68'"):
        LandmarkDataset.concat(plain, dataset(68))
    with pytest.raises(ValueError, match="split_groups unit 't' differs"):
        LandmarkDataset.concat(mirrored, dataset(76, split_groups={"t": ("9",)}))
    with pytest.raises(ValueError, match="at least one dataset"):
        LandmarkDataset.concat()
    with pytest.raises(TypeError, match=r"LandmarkDataset arguments.*position 1"):
        LandmarkDataset.concat(plain, "data")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- real data


@pytest.mark.muct
def test_load_muct_sets_the_scheme(muct_root) -> None:
    assert load_muct(muct_root, cameras="a").scheme == "muct76"


@pytest.mark.wild
def test_real_wild_folder(wild) -> None:
    assert len(wild) == 2012 and wild.scheme == "ibug68"
    assert wild.landmarks.shape == (2012, 68, 2) and np.isfinite(wild.landmarks).all()
    assert Counter(wild.groups) == {"helen-train": 870, "afw": 337, "lfpw-train": 805}
    assert len(set(wild.names)) == 2012 and len(set(wild.subjects)) == 1773
    sizes = wild.image_sizes[:, None, :]
    assert (wild.landmarks >= -0.5).all() and (wild.landmarks <= sizes - 0.5).all()
    assert sizes.max() <= 512
    iod = np.linalg.norm(wild.landmarks[:, 36] - wild.landmarks[:, 45], axis=1)
    assert (iod > 5).all()
    train, test = wild.split(0.1, seed=0)
    assert set(train.subjects).isdisjoint(test.subjects)
    assert set(test.groups) == set(wild.groups)
