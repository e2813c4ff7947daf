"""Tests of the ``facelandmarks`` command line (facelandmarks.cli), run in-process via main()."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks.cli import _common, main
from facelandmarks.points import NUM_POINTS


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("facelandmarks: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[str]:
    """Two small noise images of different sizes (a PNG and a JPEG)."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    a = folder / "a.png"
    b = folder / "b.jpg"
    Image.fromarray(rng.integers(0, 256, (60, 40, 3), dtype=np.uint8)).save(a)
    Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(b)
    return [str(a), str(b)]


@pytest.fixture()
def text_file(tmp_path: Path) -> str:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n")
    return str(path)


# ---------------------------------------------------------------------- no model needed


def test_help_exits_0(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("predict", "evaluate", "train", "download", "weights"):
        assert command in out
    code, out, _ = run(capsys, "predict", "--help")
    assert code == 0 and "--draw" in out and "--detect" in out


def test_version(capsys) -> None:
    from facelandmarks import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["predict"],
        ["predict", "x.jpg", "--batch-size", "0"],
        ["predict", "x.jpg", "--json", "--csv"],
        ["evaluate"],
        ["evaluate", "--muct", "d", "--split", "camera"],
    ],
)
def test_bad_usage_exits_2_with_one_line(capsys, argv) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "--help")


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["predict", "x.jpg", "--batch-size", "0"],
            "--batch-size: expected a positive integer, got '0'",
        ),
        (
            ["video", "a", "--max-faces", "two"],
            "--max-faces: expected a positive integer, got 'two'",
        ),
        (
            ["evaluate", "--muct", "d", "--seed", "-1"],  # NumPy's words, without the option
            "--seed: expected 0 or a positive integer, got '-1'",
        ),
        (
            ["video", "a", "--json", "--detect-every", "-1"],
            "--detect-every: expected 0 or a positive integer, got '-1'",
        ),
        (
            ["evaluate", "--muct", "d", "--test-fraction", "1"],
            "expected a number in (0, 1), got '1'",
        ),
        (
            ["evaluate", "--muct", "d", "--test-fraction", "x"],
            "expected a number in (0, 1), got 'x'",
        ),
        # nothing for them to act on: refused, not silently ignored
        (["predict", "x.jpg", "--indices"], "--indices numbers the points of the --draw pictures"),
        (["video", "a", "--json", "--indices"], "the annotated video: give OUT"),
        # no split, so nothing for them to choose: refused, not silently ignored
        (["evaluate", "--muct", "d", "--split", "all", "--seed", "0"], "give no --test-fraction"),
        (["evaluate", "--muct", "d", "--split", "all", "--test-fraction", ".2"], "or --seed"),
    ],
)
def test_bad_option_values_name_what_was_expected(capsys, argv, expected) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, expected)


def test_weights_lists_presets(capsys) -> None:
    code, out, err = run(capsys, "weights")
    assert code == 0 and err == ""
    line = next(line for line in out.splitlines() if line.startswith("muct-resnet50-2019"))
    assert "ResNet50" in line  # the description is shown
    marks = {line.split()[0]: line for line in out.splitlines() if "(default" in line}
    assert set(marks) == {"wild-mnv3s", "wild-mnv3s-2stage"}, out
    assert marks["wild-mnv3s"].endswith("(default)")
    assert marks["wild-mnv3s-2stage"].endswith("(default for --scheme ibug68)")


def test_weights_json(capsys) -> None:
    code, out, _ = run(capsys, "weights", "--json")
    assert code == 0
    rows = json.loads(out)
    names = [row["name"] for row in rows]
    assert "muct-resnet50-2019" in names
    assert all({"description", "url", "default", "default_for_schemes"} <= set(row) for row in rows)
    by_name = {row["name"]: row for row in rows}
    assert [n for n in names if by_name[n]["default"]] == ["wild-mnv3s"]
    assert by_name["wild-mnv3s-2stage"]["default_for_schemes"] == ["ibug68"]
    assert by_name["wild-mnv3s"]["default_for_schemes"] == []


def assert_bad_images_reported(out: str, err: str, *names: str) -> list[dict]:
    """Every bad image is named on stderr (one line each, no traceback) and gets a JSON record
    with an ``error`` field; the last stderr line says how many failed."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert lines[-1].startswith("facelandmarks: error: ") and "could not be read" in lines[-1]
    for name in names:
        assert any(name in line and "ERROR" in line for line in lines[:-1]), (name, err)
    records = [json.loads(line) for line in out.splitlines()]
    bad = [r for r in records if "error" in r]
    assert sorted(Path(r["image"]).name for r in bad) == sorted(names)
    assert all(r["faces"] == [] for r in bad)
    return records


def test_missing_image_exits_2(capsys, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jpg")
    code, out, err = run(capsys, "predict", missing)
    assert code == 2
    (record,) = assert_bad_images_reported(out, err, "nope.jpg")
    assert "not found" in record["error"]
    # no word of "the others' results": there are none
    assert err.rstrip().endswith(
        "1 of 1 images could not be read (named above and in their output rows)"
    )


def test_text_file_as_image_exits_2(capsys, text_file: str) -> None:
    code, out, err = run(capsys, "predict", text_file)
    assert code == 2
    (record,) = assert_bad_images_reported(out, err, "notes.jpg")
    assert "not an image" in record["error"]


def test_folder_without_images_exits_2(capsys, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no pictures here")
    code, _, err = run(capsys, "predict", str(tmp_path))
    assert code == 2
    assert_one_line_error(err, f"no image files found in {tmp_path}")
    (tmp_path / "more").mkdir()
    code, _, err = run(capsys, "predict", str(tmp_path), str(tmp_path / "more"))
    assert code == 2  # the folders' names, not a Python list of them
    assert err.rstrip().endswith(f"no image files found in {tmp_path}, {tmp_path / 'more'}")


@pytest.mark.slow
def test_a_folder_is_read_as_its_images(capsys, tiny, images, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b.png", "a.jpg"):
        (folder / name).write_bytes(Path(images[0]).read_bytes())
    (folder / "readme.txt").write_text("not an image")
    # hidden names (macOS AppleDouble, a killed --draw's temporary file) are not the user's photos
    for name in ("._a.jpg", ".b.png.part-x1y2.png"):
        (folder / name).write_bytes(b"\0\5\x16\7")
    (folder / ".hidden.jpg").write_bytes(Path(images[0]).read_bytes())
    code, out, err = run(capsys, "predict", str(folder), "--weights", tiny[0])
    assert code == 0, err
    names = [Path(json.loads(line)["image"]).name for line in out.splitlines()]
    assert names == ["a.jpg", "b.png"]
    code, out, err = run(capsys, "predict", str(folder / ".hidden.jpg"), "--weights", tiny[0])
    assert code == 0 and len(out.splitlines()) == 1, err  # named explicitly: read


@pytest.mark.parametrize("name", ["out.unknownext", "out.xpm", "out.fits"])  # Pillow reads XPM
def test_draw_with_an_extension_pillow_cannot_write_exits_2(capsys, images, name) -> None:
    code, _, err = run(capsys, "predict", images[0], "--draw", name)  # before loading a model
    assert code == 2
    assert_one_line_error(err, "--draw", name, ".png")


def test_a_format_that_cannot_hold_the_drawing_is_named(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from facelandmarks.cli import predict

    result = SimpleNamespace(faces=[], image=np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(_common.CLIError, match=r"--draw: cannot write .*x\.blp"):
        predict._draw(result, tmp_path / "x.blp", False, NUM_POINTS)  # BLP: no RGB (ValueError)
    assert list(tmp_path.iterdir()) == []


def test_a_face_detector_with_the_image_framing_exits_2(capsys, images) -> None:
    argv = ("predict", images[0], "--framing", "image", "--face-detector", "mtcnn")
    code, out, err = run(capsys, *argv)  # the name was accepted, and not used
    assert code == 2 and out == ""
    assert_one_line_error(err, "--face-detector", "framing='image'")


def test_draw_of_several_images_into_a_file_exits_2(capsys, images, tmp_path: Path) -> None:
    (tmp_path / "out.png").write_bytes(b"")
    code, out, err = run(capsys, "predict", *images, "--draw", str(tmp_path / "out.png"))
    assert code == 2 and out == ""
    assert_one_line_error(err, "with several images OUT must be a directory", "out.png")


def test_download_unknown_preset_exits_2(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "download", "no-such-preset", "--cache-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert_one_line_error(err, "no-such-preset", "muct-resnet50-2019")


def test_download_to_a_file_for_a_cache_directory_exits_2(capsys, monkeypatch, tmp_path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")  # was exit 1, "File exists", advising to set FACELANDMARKS_HOME
    for cache in (afile, afile / "sub"):
        code, out, err = run(capsys, "download", "muct-resnet50-2019", "--cache-dir", str(cache))
        assert code == 2 and out == ""
        assert_one_line_error(err, f"'{afile}' is a file, not a folder", f"--cache-dir) '{cache}'")
        assert "FACELANDMARKS_HOME" not in err
    monkeypatch.setenv("FACELANDMARKS_HOME", str(afile))  # the very variable that is wrong
    code, out, err = run(capsys, "download", "muct-resnet50-2019")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"'{afile}' is a file", f"Received: FACELANDMARKS_HOME='{afile}'")
    assert "set the FACELANDMARKS_HOME" not in err and afile.read_text() == "mine"


def test_download_prints_the_path(capsys, monkeypatch, tmp_path: Path) -> None:
    from facelandmarks import weights

    calls = []

    def fake(name, *, cache_dir=None, verbose=1):
        calls.append((name, cache_dir))
        return tmp_path / "w.h5"

    monkeypatch.setattr(weights, "download_weights", fake)
    code, out, _ = run(capsys, "download", "muct-resnet50-2019", "--cache-dir", "cache")
    assert code == 0
    assert out.strip() == str(tmp_path / "w.h5")
    assert calls == [("muct-resnet50-2019", "cache")]


def test_other_failures_exit_1_with_one_line_and_traceback_only_with_debug(
    capsys, monkeypatch
) -> None:
    from facelandmarks import weights

    def offline(name, **kwargs):
        raise weights.WeightsDownloadError("could not reach the host\nsave it to /x by hand")

    monkeypatch.setattr(weights, "download_weights", offline)
    code, out, err = run(capsys, "download", "muct-resnet50-2019")
    assert code == 1 and out == ""
    assert_one_line_error(err, "WeightsDownloadError", "could not reach the host", "--debug")
    code, _, err = run(capsys, "download", "muct-resnet50-2019", "--debug")
    assert code == 1
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("facelandmarks: error: WeightsDownloadError")


def write_config(tmp_path: Path, config) -> str:
    path = tmp_path / "config.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return str(path)


GOOD_DETECTOR = {
    "stages": [{"backbone": "mobilenetv3small", "input_size": [64, 48], "normalization": "group"}]
}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"data": {"muct": "."}}, "'detector'"),
        ({"detector": {}, "data": {"muct": "."}}, "'detector' section"),
        ({"detector": {"stages": [{"framing": "points"}]}, "data": {"muct": "."}}, "detector"),
        ({"detector": {"stages": [{"colour": 1}]}, "data": {"muct": "."}}, "detector"),
        # a typo in the detector section is not a field of a newer version: refused
        ({"detector": {**GOOD_DETECTOR, "head": []}, "data": {"muct": "."}}, "['head']"),
        ({"detector": {**GOOD_DETECTOR, "loss": "wng"}, "data": {"muct": "."}}, "loss='wng'"),
        *(
            ({"detector": {"stages": [stage]}, "data": {"muct": "."}}, fragment)
            for stage, fragment in (
                ({"normalization": "grop"}, "normalization='grop'"),
                ({"input_size": 64}, "input_size must be (height, width)"),
                ({"input_size": [64.9, 48]}, "Received: [64.9, 48]"),  # was cut to 64
            )
        ),
        ({"detector": GOOD_DETECTOR, "data": {"muct": "/no/such/muct"}}, "folder not found"),
        (
            {"detector": GOOD_DETECTOR, "data": {"sets": [{"name": "w", "format": "pts"}]}},
            "format",
        ),
        ({"detector": {"stages": [{"backbone": "vgg-nonexistent"}]}, "data": {}}, "vgg"),
        ({"detector": GOOD_DETECTOR, "data": {"muct": ".", "test_fraction": 2}}, "test_fraction"),
        ({"detector": GOOD_DETECTOR, "data": {"muct": "."}, "fit": {"epochs": [1, 2]}}, "epochs"),
    ],
)
def test_bad_train_config_exits_2(
    capsys, monkeypatch, tmp_path: Path, config, fragment: str
) -> None:
    # the config's own folders are tested: a dataset variable set by the user would win
    monkeypatch.delenv("FACELANDMARKS_MUCT", raising=False)
    monkeypatch.delenv("FACELANDMARKS_WILD", raising=False)
    code, out, err = run(capsys, "train", write_config(tmp_path, config))
    assert code == 2 and out == ""
    assert_one_line_error(err, fragment)


def test_missing_train_config_exits_2(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", str(tmp_path / "missing.json"))
    assert code == 2
    assert_one_line_error(err, "missing.json")


def test_json_rounding_and_nan() -> None:
    assert _common._num(1.23456) == 1.23 and _common._num(np.float32(2.5)) == 2.5
    assert _common._num(7) == 7 and isinstance(_common._num(np.int64(7)), int)
    assert _common._num(float("nan")) is None and _common._num(float("inf")) is None
    assert str(_common._num(-0.001)) == "0.0"
    assert _common._csv_num(float("nan")) == "" and _common._csv_num(-0.001) == "0.00"


# ---------------------------------------------------------------------- with a tiny model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(path, detector): an untrained MobileNetV3Small detector with a 64x48 input, saved."""
    from facelandmarks import LandmarkDetector

    det = LandmarkDetector(
        weights=None, backbone="mobilenetv3small", input_size=(64, 48), normalization="group"
    )
    path = tmp_path_factory.mktemp("weights") / "tiny.keras"
    det.save(path)
    return str(path), det


@pytest.mark.slow
def test_predict_json_lines(capsys, tiny, images) -> None:
    path, det = tiny
    code, out, err = run(
        capsys, "predict", *images, "--weights", path, "--batch-size", "1", "--framing", "image"
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["image"] for r in records] == images
    expected = det.predict(images, framing="image")
    assert np.isfinite(expected).all()
    for record, size, xy in zip(records, [(40, 60), (70, 50)], expected, strict=True):
        assert set(record) == {"image", "scheme", "width", "height", "faces"}
        assert record["scheme"] == "muct76"
        assert (record["width"], record["height"]) == size
        assert len(record["faces"]) == 1
        face = record["faces"][0]
        assert set(face) == {"box", "score", "landmarks"}
        assert face["box"] == [0, 0, size[0], size[1]] and face["score"] is None
        got = np.array(face["landmarks"], dtype=float)
        assert got.shape == (NUM_POINTS, 2)
        np.testing.assert_allclose(got, xy, atol=0.006)
        np.testing.assert_array_equal(got, np.round(got, 2))


@pytest.mark.slow
def test_predict_csv(capsys, tiny, images) -> None:
    path, det = tiny
    code, out, err = run(
        capsys, "predict", *images, "--weights", path, "--csv", "--verbose", "--framing", "image"
    )
    assert code == 0, err
    assert "facelandmarks: INFO: " in err  # --verbose logs go to stderr, not into the CSV
    rows = list(csv.reader(io.StringIO(out)))
    header = rows[0]
    assert header[:8] == ["image", "scheme", "face", "score", "x0", "y0", "x1", "y1"]
    assert header[8:12] == ["x00", "y00", "x01", "y01"] and header[-3:] == ["x75", "y75", "error"]
    assert len(header) == 9 + 2 * NUM_POINTS
    assert [r[:3] for r in rows[1:]] == [[images[0], "muct76", "0"], [images[1], "muct76", "0"]]
    expected = det.predict(images, framing="image")
    assert np.isfinite(expected).all()
    for row, xy in zip(rows[1:], expected, strict=True):
        assert all(len(v.split(".")[1]) == 2 for v in row[4:-1]) and row[-1] == ""
        values = np.array(row[8:-1], dtype=float).reshape(NUM_POINTS, 2)
        np.testing.assert_allclose(values, xy, atol=0.006)
    # a photo without a face still gets its row (an empty face column), and the exit is 0
    code, out, err = run(capsys, "predict", images[0], "--weights", path, "--csv")
    assert code == 0, err
    (row,) = list(csv.reader(io.StringIO(out)))[1:]
    assert row[:3] == [images[0], "muct76", ""] and row[-1] == "no face"
    assert "no face found" in err and "--framing image" in err  # the advice in the CLI's words
    assert len(row) == len(header)  # the error in the error column, not in y75


@pytest.mark.slow
def test_predict_csv_escapes_a_file_name_that_is_not_utf8(capsys, tiny, images, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    odd = folder / os.fsdecode(b"a\xff.png")  # '\udcff' in Python: strict UTF-8 refuses it
    for path in (odd, folder / "b.png"):
        path.write_bytes(Path(images[0]).read_bytes())
    whole = ("--weights", tiny[0], "--framing", "image")
    code, out, err = run(capsys, "predict", str(folder), "--csv", *whole)  # capsys: strict
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert [r[0] for r in rows] == [str(folder / "a\\udcff.png"), str(folder / "b.png")]
    code, out, err = run(capsys, "predict", str(folder), *whole)
    assert json.loads(out.splitlines()[0])["image"] == str(odd)  # written as "\\udcff" too


@pytest.mark.slow
def test_predict_draw_one_file_and_a_directory(capsys, tiny, images, tmp_path: Path) -> None:
    path, _ = tiny
    single = tmp_path / "sub" / "one.jpg"
    whole = ("--framing", "image")
    code, _, err = run(
        capsys, "predict", images[0], "--weights", path, "--draw", str(single), *whole
    )
    assert code == 0, err
    with Image.open(single) as im:
        assert im.size == (40, 60) and im.format == "JPEG"

    # Two inputs with the same file name from different folders, with --indices.
    twin = tmp_path / "other" / Path(images[0]).name
    twin.parent.mkdir()
    Image.open(images[0]).save(twin)
    out_dir = tmp_path / "drawn"
    code, out, err = run(
        capsys,
        "predict",
        *images,
        str(twin),
        "--weights",
        path,
        "--draw",
        str(out_dir),
        "--indices",
        *whole,
    )
    assert code == 0, err
    assert len(out.splitlines()) == 3
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["a-1.png", "a.png", "b.png"]
    with Image.open(out_dir / "b.png") as im:
        assert im.size == (70, 50)
    original = np.asarray(Image.open(images[0]).convert("RGB"))
    assert np.any(np.asarray(Image.open(out_dir / "a.png").convert("RGB")) != original)


@pytest.mark.slow
def test_a_drawing_that_cannot_be_written_exits_2(capsys, tiny, images, tmp_path) -> None:
    path, _ = tiny
    out_dir = tmp_path / "drawn"
    (out_dir / "b.png").mkdir(parents=True)  # a folder where the picture of b should go
    code, _, err = run(
        capsys, "predict", *images, "--weights", path, "--draw", str(out_dir),
        "--framing", "image",
    )  # fmt: skip
    assert code == 2
    assert_one_line_error(err, "--draw", "b.png")
    assert (out_dir / "a.png").is_file() and (out_dir / "b.png").is_dir()
    assert not [t for t in threading.enumerate() if t.name.startswith("facelandmarks-")]


@pytest.mark.slow
def test_predict_bad_image_among_good_ones_exits_2(capsys, tiny, images, text_file, tmp_path):
    """Good files always get their results; each bad one is named; the exit status says so."""
    path, _ = tiny
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(Path(images[1]).read_bytes()[:200])
    argv = [images[0], text_file, images[1], str(truncated), "--weights", path]
    for batch in ("1", "32"):
        code, out, err = run(capsys, "predict", *argv, "--framing", "image", "--batch-size", batch)
        assert code == 2
        records = assert_bad_images_reported(out, err, "notes.jpg", "cut.jpg")
        assert err.rstrip().endswith(
            "2 of 4 images could not be read (named above and in their output rows); "
            "the others' results are printed"
        )
        assert [r["image"] for r in records] == [images[0], text_file, images[1], str(truncated)]
        good = [r for r in records if "error" not in r]
        assert len(good) == 2 and all(len(r["faces"]) == 1 for r in good)


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["no-such-preset", "missing/file.keras"])
def test_predict_unknown_weights_exits_2(capsys, images, weights: str) -> None:
    code, out, err = run(capsys, "predict", images[0], "--weights", weights)
    assert code == 2 and out == ""
    assert_one_line_error(err, weights, "muct-resnet50-2019")


@pytest.mark.slow
def test_predict_weights_file_that_is_not_a_detector_exits_2(capsys, images, text_file) -> None:
    code, _, err = run(capsys, "predict", images[0], "--weights", text_file)
    assert code == 2
    assert_one_line_error(err, "notes.jpg")


@pytest.mark.slow
def test_predict_detect_flag(capsys, tiny) -> None:
    pytest.importorskip("cv2", reason="needs the [detect] extra (opencv-python-headless)")
    photo = Path(__file__).resolve().parents[1] / "examples" / "astronaut.png"
    code, out, err = run(capsys, "predict", str(photo), "--weights", tiny[0], "--detect")
    assert code == 0, err
    record = json.loads(out.strip().splitlines()[0])
    assert record["width"] == 512 and record["height"] == 512
    assert len(record["faces"]) == 1
    face = record["faces"][0]
    assert face["score"] is not None and len(face["landmarks"]) == 76
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512


def test_predict_detect_flag_sets_the_framing() -> None:
    # --detect used to be parsed and never read, so "--framing image --detect" cropped nothing
    from facelandmarks.cli.parser import build_parser

    parse = build_parser().parse_args
    assert parse(["predict", "a.jpg", "--framing", "image", "--detect"]).framing == "detect"
    assert parse(["predict", "a.jpg", "--framing", "image"]).framing == "image"
    assert parse(["predict", "a.jpg"]).framing == "detect"


def make_fake_muct(root: Path, subjects: int = 4) -> None:
    """A MUCT-shaped folder of small noise images with random landmarks (not MUCT data)."""
    rng = np.random.default_rng(5)
    (root / "jpg").mkdir(parents=True)
    (root / "muct-landmarks").mkdir()
    header = ["name", "tag"] + [f"{a}{i:02d}" for i in range(NUM_POINTS) for a in ("x", "y")]
    rows = [header]
    for s in range(subjects):
        stem = f"{s:03d}qa-fn"
        Image.fromarray(rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)).save(
            root / "jpg" / f"i{stem}.jpg"
        )
        xy = np.column_stack([rng.uniform(5, 43, NUM_POINTS), rng.uniform(5, 59, NUM_POINTS)])
        xy[27], xy[32], xy[31], xy[36] = (10, 20), (38, 20), (14, 20), (34, 20)
        rows.append([f"i{stem}", "0000", *(f"{v:.1f}" for v in xy.ravel())])
    with open(root / "muct-landmarks" / "muct76-opencv.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.slow
def test_evaluate(capsys, tiny, tmp_path: Path) -> None:
    root = tmp_path / "muct"
    make_fake_muct(root)
    whole = ("--framing", "image")  # noise pictures: nothing for a face detector to find
    code, out, err = run(
        capsys, "evaluate", "--muct", str(root), "--weights", tiny[0], "--json", *whole
    )
    assert code == 0, err
    scores = json.loads(out)  # the progress bar went to stderr
    assert f"{scores['n_images']}/{scores['n_images']}" in err and "image" in err
    assert {"nme", "median_nme", "auc@0.08", "failure_rate@0.10", "n_images"} <= set(scores)
    assert 1 <= scores["n_images"] < 4  # the held-out subjects only
    assert scores["n_missed"] == 0

    code, out, err = run(
        capsys, "evaluate", "--muct", str(root), "--weights", tiny[0], "--split", "all", *whole
    )
    assert code == 0, err
    assert "all 4 images" in out.splitlines()[0]
    assert any(line.split()[:1] == ["nme"] for line in out.splitlines()[1:])


def test_evaluate_on_ibug_faces_with_either_head(capsys, tmp_path: Path) -> None:
    from test_ibug import make_300w

    truth = make_300w(tmp_path / "w")
    whole = ("--framing", "image", "--split", "all", "--json")  # plain-colour pictures
    code, out, err = run(capsys, "evaluate", "--ibug", str(tmp_path / "w"), *whole)
    assert code == 0, err
    scores = json.loads(out)
    # the default 76-point head on 68-point faces: the 8 points the schemes share
    assert scores["n_images"] == len(truth) and scores["scored_points"] == 8
    code, out, err = run(
        capsys, "evaluate", "--ibug", str(tmp_path / "w"), "--scheme", "ibug68", *whole
    )
    assert code == 0, err
    assert json.loads(out)["scored_points"] == "all"
    code, out, err = run(capsys, "evaluate", "--ibug", str(tmp_path / "w"), "--split", "all")
    assert code == 0, err  # the text report names the data, the model and the head
    head = f"iBUG, all {len(truth)} images, weights=default (wild-mnv3s), scheme=muct76"
    assert out.startswith(head)
    args = ("--split", "all", "--scheme", "ibug68")
    code, out, err = run(capsys, "evaluate", "--ibug", str(tmp_path / "w"), *args)
    assert code == 0, err  # the 68 points' default is the two-stage preset
    head = f"iBUG, all {len(truth)} images, weights=default (wild-mnv3s-2stage), scheme=ibug68"
    assert out.startswith(head)


def test_evaluate_names_its_own_option_for_skipping_a_broken_face(capsys, tmp_path) -> None:
    from test_ibug import make_300w

    truth = make_300w(tmp_path / "w")
    (tmp_path / "w" / "ibug" / "image_003_1.pts").write_text("version: 1\nn_points: 68\n{\n")
    whole = ("--ibug", str(tmp_path / "w"), "--framing", "image", "--split", "all", "--json")
    code, out, err = run(capsys, "evaluate", *whole)
    assert code == 2 and out == ""
    assert_one_line_error(err, "image_003_1.pts", "pass --skip-bad to leave it out")
    code, out, err = run(capsys, "evaluate", *whole, "--skip-bad")
    assert code == 0, err
    assert json.loads(out)["n_images"] == len(truth) - 1 and "image_003_1.pts" in err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--muct", "{root}", "--ibug", "{root}"], "not allowed with argument"),
        (["--split", "all"], "one of the arguments --muct --ibug is required"),
        (["--ibug", "{root}", "--scheme", "dlib5"], "dlib5"),
    ],
)
def test_evaluate_needs_exactly_one_dataset_and_a_real_head(capsys, tmp_path, args, named):
    from test_ibug import make_300w

    make_300w(tmp_path / "w")
    argv = [a.format(root=tmp_path / "w") for a in args]
    code, out, err = run(capsys, "evaluate", *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, named)


def test_evaluate_missing_muct_exits_2(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "evaluate", "--muct", str(tmp_path / "nowhere"))
    assert code == 2
    assert_one_line_error(err, "--muct", "nowhere")


def test_train_wraps_run_with_overrides(capsys, monkeypatch, tmp_path: Path) -> None:
    from facelandmarks.training import run as fl_run

    seen = {}

    def fake_run(config, *, verbose=2):
        seen["config"] = config
        return {"stage0_frame_nme": {"val_nme": 0.05}, "n_train": 3, "test_subjects": ["001"]}

    monkeypatch.setattr(fl_run, "run", fake_run)
    config = {
        "detector": GOOD_DETECTOR,
        "data": {"muct": "/no/such/folder"},
        "fit": {"epochs": 1, "batch_size": 2, "augment": {"flip": 0.0}},
        "output": "ignored",
    }
    muct = tmp_path / "muct"
    muct.mkdir()
    # a folder typed on the command line beats the environment's (which beats the config's)
    monkeypatch.setenv("FACELANDMARKS_MUCT", str(tmp_path / "elsewhere"))
    code, out, err = run(
        capsys,
        "train",
        write_config(tmp_path, config),
        "--output",
        str(tmp_path / "run"),
        "--muct",
        str(muct),
    )
    assert code == 0, err
    assert seen["config"].output == str(tmp_path / "run")
    assert seen["config"].data[0].resolved_path() == muct
    monkeypatch.setenv("FACELANDMARKS_MUCT", str(muct))
    code, _, err = run(capsys, "train", write_config(tmp_path, config), "--output", "x")
    assert code == 0, err  # without --muct, the variable beats the config's missing folder
    assert seen["config"].data[0].resolved_path() == muct
    code, _, err = run(capsys, "train", write_config(tmp_path, config), "--muct", "/no/such")
    assert code == 2
    assert_one_line_error(err, "folder not found", "/no/such", "fix --muct")
    assert json.loads(out) == {"stage0_frame_nme": {"val_nme": 0.05}, "n_train": 3}


@pytest.mark.parametrize(
    ("fit", "fragment"),
    [
        ({"epochz": 3}, "epochz"),
        ({"augment": {"twirl": 1}}, "twirl"),
        ({"augment": [{"flip": 0.5}, {"twirl": 1}]}, "one entry per stage (1)"),
        ({"augment": [{"swirl": 1}]}, "swirl"),
        ({"augment": ["lots"]}, "one per stage"),
        ({"augment": {"blur": 2.0}}, "probability"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr_schedule": "linear"}, "lr_schedule"),
        # checked before the run, not by Keras mid-run or taken as true for being a string
        ({"seed": "0"}, "fit.seed must be an integer >= 0, not '0'"),
        ({"seed": -1}, "fit.seed must be an integer >= 0"),
        ({"cache": "false"}, "fit.cache must be true or false, not 'false'"),
        ({"restore_best": "false"}, "fit.restore_best must be true or false"),
        ({"mixed_precision": "fp16"}, "fit.mixed_precision must be false, true, 'auto'"),
        ({"learning_rate": float("inf")}, "fit.learning_rate must be a finite number > 0"),
    ],
)
def test_train_fit_options_are_checked(capsys, tmp_path: Path, fit, fragment) -> None:
    config = {"detector": GOOD_DETECTOR, "data": {"muct": str(tmp_path)}, "fit": fit}
    code, _, err = run(capsys, "train", write_config(tmp_path, config))
    assert code == 2
    assert_one_line_error(err, fragment)


def test_fit_options_take_one_value_per_stage_as_a_tuple_too() -> None:
    from facelandmarks.training.config import fit_options

    opts = fit_options({"epochs": (0, 2), "augment": (None, True)}, 2)
    assert opts.epochs == (0, 2) and opts.augment[0] is None and opts.augment[1] is not None


def test_python_m_help_subprocess() -> None:
    # -X importtime lists every module imported on stderr: --help must not load TensorFlow.
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "facelandmarks", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: facelandmarks")
    assert "facelandmarks.cli" in proc.stderr
    assert "tensorflow" not in proc.stderr and "keras" not in proc.stderr


def test_predicting_with_the_shipped_model_never_imports_tensorflow(tmp_path: Path) -> None:
    # With several photos the stream prefetches on a second thread; setting that up once
    # loaded the Keras models (and TensorFlow: seconds) although the shipped TFLite file ran.
    photo = Path(__file__).resolve().parents[1] / "examples" / "astronaut.png"
    script = (
        "import sys\n"
        "from facelandmarks import LandmarkDetector, cli\n"
        "det = LandmarkDetector()\n"
        f"points = det.predict([{str(photo)!r}] * 3, prefetch=True)\n"
        f"assert cli.main(['predict', {str(photo)!r}, {str(photo)!r}]) == 0\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}\n"
        "print(points.shape, sorted(loaded), det.engines)\n"
    )
    env = {**os.environ, "FACELANDMARKS_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "(3, 76, 2) [] ('tflite',)"


@pytest.mark.slow
def test_predict_with_the_tflite_runtime(capsys, monkeypatch, tiny, images, tmp_path) -> None:
    path, det = tiny
    monkeypatch.setenv("FACELANDMARKS_HOME", str(tmp_path / "home"))
    code, out, err = run(
        capsys, "predict", *images, "--weights", path, "--runtime", "tflite", "--framing", "image"
    )
    assert code == 0, err
    got = [np.array(json.loads(line)["faces"][0]["landmarks"]) for line in out.splitlines()]
    want = det.predict(images, framing="image")
    assert np.isfinite(want).all()
    np.testing.assert_allclose(np.stack(got), want, atol=0.02)
    assert list((tmp_path / "home").rglob("*.tflite")), "the conversion is cached"


@pytest.mark.slow
def test_export_command(capsys, tiny, tmp_path) -> None:
    path, _ = tiny
    out_dir = tmp_path / "exported"
    code, out, err = run(capsys, "export", str(out_dir), "--weights", path)
    assert code == 0, err
    assert out.strip() == str(out_dir)
    assert "1/1" in err and "stage" in err  # the progress bar, on stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["detector.json", "stage0.tflite"]
    # exporting onto an existing directory is bad usage: exit 2, one line, nothing touched
    code, out, err = run(capsys, "export", str(out_dir), "--weights", path)
    assert code == 2 and "already exists" in err and "Traceback" not in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["detector.json", "stage0.tflite"]
    code, out, err = run(capsys, "export", str(out_dir / "stage0.tflite" / "x"), "--weights", path)
    assert code == 2 and out == ""
    assert_one_line_error(err, "stage0.tflite' is a file, not a folder")


@pytest.mark.slow
def test_draw_never_overwrites_an_input_image(capsys, tiny, images) -> None:
    path, _ = tiny
    before = [Path(i).read_bytes() for i in images]
    code, _, err = run(capsys, "predict", images[0], "--weights", path, "--draw", images[0])
    assert code == 2 and "is one of the input images" in err
    folder = str(Path(images[0]).parent)
    # a.png in the images' own folder would be replaced by a.png's annotated copy
    code, _, err = run(capsys, "predict", *images, "--weights", path, "--draw", folder)
    assert code == 2 and "is one of the input images" in err
    assert [Path(i).read_bytes() for i in images] == before


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.json")),
    ids=lambda p: p.name,
)
def test_committed_training_configs_are_valid(path: Path, monkeypatch, tmp_path: Path) -> None:
    """Every committed recipe parses and checks, wherever the tests run from and whether or not
    the datasets are there (their folders are looked for only when training starts)."""
    from facelandmarks.training.config import TrainConfig

    monkeypatch.chdir(tmp_path)
    config = TrainConfig.load(os.path.relpath(path, tmp_path))
    assert config.data and all(Path(s.path).is_absolute() for s in config.data)
    assert Path(config.output).is_absolute()
