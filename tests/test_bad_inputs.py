"""A corpus of bad inputs: every one gets a clear error naming it (or a warning, where the input
is usable but probably not what the user meant), and never costs the good inputs their results.

Targets (issue 11): 0 unclear errors and 0 lost results, through the API (``on_error="raise"``
and ``"skip"``) and the command line (exit status 2, each bad file named once on stderr and in
its own output record, every good file's record printed). The default model runs on TensorFlow
Lite, so nothing here imports TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks import images as fl_images
from facelandmarks.cli import main
from facelandmarks.images import load_image

REPO = Path(__file__).resolve().parent.parent
ASTRONAUT = REPO / "examples" / "astronaut.png"

# the error types the API raises for a bad input; anything else (OSError from Pillow, h5py,
# struct.error, DecompressionBombError, ...) would be an unclear error
CLEAR = (ValueError, TypeError, FileNotFoundError, IsADirectoryError)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _encoded(pixels: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


# name -> (bytes, or None for a folder / a missing file, fragment of the expected error)
def _bad_files(photo: np.ndarray) -> dict[str, tuple[bytes | None, str]]:
    jpeg, png = _encoded(photo, "JPEG"), _encoded(photo, "PNG")
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + _png_chunk(b"IEND", b"")
    )
    return {
        "cut.jpg": (jpeg[: len(jpeg) // 2], "corrupt or truncated"),
        "cut.png": (png[: len(png) // 2], "corrupt or truncated"),
        "header-only.jpg": (jpeg[:40], "corrupt or truncated"),
        "notes.jpg": (b"this is not an image\n", "not an image file"),
        "empty.jpg": (b"", "not an image file"),
        "empty.png": (b"", "not an image file"),
        "garbage.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an image file"),
        "bomb.png": (bomb, "10000.0 megapixels"),
        "missing.jpg": (None, "not found"),
    }


BAD_ARRAYS = {
    "float": (np.full((40, 40, 3), 0.5, np.float32), "Scale floats to 0..255"),
    "channels-first": (np.zeros((3, 40, 40), np.uint8), "channels-first"),
    "bool": (np.zeros((40, 40), bool), "uint8 or uint16"),
    "int64": (np.zeros((40, 40, 3), np.int64), ".astype(np.uint8)"),
    "empty": (np.zeros((0, 0, 3), np.uint8), "zero size"),
    "two-channels": (np.zeros((40, 40, 2), np.uint8), "channels last"),
}


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_image(ASTRONAUT)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, photo) -> dict[str, object]:
    """The files: ``bad`` {path: expected fragment}, ``warn`` {path: warning fragment},
    ``good`` [paths], and the ``folder`` with one good and one bad image."""
    root = tmp_path_factory.mktemp("corpus")
    bad = {}
    for name, (data, fragment) in _bad_files(photo).items():
        if data is not None:
            (root / name).write_bytes(data)
        bad[str(root / name)] = fragment
    (root / "folder.jpg").mkdir()  # a folder with an image's name: read as its images
    warn = {}
    Image.fromarray(photo[:1, :1]).save(root / "one-pixel.png")
    warn[str(root / "one-pixel.png")] = "only 1x1 pixels"
    Image.fromarray((photo[..., 0] // 2).astype(np.uint16)).save(root / "sixteen-low.png")
    warn[str(root / "sixteen-low.png")] = "looks like 8-bit data"
    good = [str(ASTRONAUT)]
    (root / "astronaut.jpg").write_bytes(_encoded(photo, "JPEG"))
    (root / "png-named.jpg").write_bytes(_encoded(photo, "PNG"))  # Pillow reads the content
    grey16 = photo.mean(axis=2).astype(np.uint16) * 257  # a real 16-bit picture
    Image.fromarray(grey16).save(root / "sixteen.png")
    good += [str(root / n) for n in ("astronaut.jpg", "png-named.jpg", "sixteen.png")]
    sub = root / "batch"
    sub.mkdir()
    (sub / "a.png").write_bytes(_encoded(photo, "PNG"))
    (sub / "b.jpg").write_bytes(b"not a picture")
    return {
        "bad": bad,
        "warn": warn,
        "good": good,
        "folder": sub,
        "empty_folder": root / "folder.jpg",
    }


@pytest.fixture(scope="module")
def det():
    from facelandmarks import LandmarkDetector

    return LandmarkDetector(verbose=0)


def _single_line_naming(err: BaseException, name: str, fragment: str) -> None:
    message = str(err)
    assert isinstance(err, CLEAR) and type(err).__module__ == "builtins", repr(err)
    assert name in message, message
    assert fragment in message, message
    assert "\n" not in message and "<_io." not in message, message  # no file object's repr


# ------------------------------------------------------------------------------ the API
def test_every_bad_file_gets_a_clear_error_naming_it(corpus, det) -> None:
    for path, fragment in corpus["bad"].items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not leak
            with pytest.raises(CLEAR) as info:
                load_image(path)
            _single_line_naming(info.value, path, fragment)
            with pytest.raises(CLEAR) as info:
                det.predict(path)
            _single_line_naming(info.value, path, fragment)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_image(corpus["empty_folder"])


@pytest.mark.parametrize("kind", sorted(BAD_ARRAYS))
def test_every_bad_array_gets_a_clear_error_naming_it(det, photo, kind) -> None:
    array, fragment = BAD_ARRAYS[kind]
    with pytest.raises(CLEAR) as info:
        det.predict([photo, array])
    _single_line_naming(info.value, "<array #1>", fragment)


def test_bad_arguments_name_what_was_received(det, photo) -> None:
    with pytest.raises(TypeError, match=r"images\[1\].*int"):
        det.predict([photo, 3])
    with pytest.raises(ValueError, match=r"boxes for <array #0> .*nan"):
        det.predict_faces(photo, boxes=[[(np.nan, 0, 10, 10)]])
    with pytest.raises(ValueError, match=r"boxes for <array #0> .*x1 > x0"):
        det.predict_faces(photo, boxes=[[(50, 50, 10, 90)]])
    assert det.predict([]).shape == (0, det.num_points, 2) and det.predict_faces([]) == []


def test_usable_but_suspicious_inputs_are_named_in_a_warning(corpus, det, caplog) -> None:
    arrays = {
        "<array #2>": (np.zeros((8, 8, 3), np.uint8), "only 8x8 pixels"),
        "<array #3>": (
            (np.arange(48 * 48 * 3) % 256).reshape(48, 48, 3).astype(np.uint16),
            "8-bit",
        ),
    }
    for framing in ("detect", "image"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="facelandmarks"):
            out = det.predict([*corpus["warn"], *(a for a, _ in arrays.values())], framing=framing)
        assert out.shape == (4, det.num_points, 2)
        messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        expected = {**corpus["warn"], **{k: f for k, (_, f) in arrays.items()}}
        for name, fragment in expected.items():
            assert any(name in m and fragment in m for m in messages), (framing, name, messages)


def test_skip_keeps_every_good_result_and_names_every_bad_input(corpus, det, photo) -> None:
    bad_files = list(corpus["bad"])
    items: list[object] = []
    for k, path in enumerate(bad_files):
        items += [corpus["good"][k % len(corpus["good"])], path]
    items += [photo, BAD_ARRAYS["float"][0], str(corpus["folder"])]
    results = list(det.iter_faces(items, on_error="skip"))
    # the folder stands for its two files, in name order
    names = [r.name for r in results]
    assert names[-2:] == [str(corpus["folder"] / "a.png"), str(corpus["folder"] / "b.jpg")]
    bad_names = {*bad_files, f"<array #{len(items) - 2}>", names[-1]}
    assert len(results) == len(items) + 1
    for r in results:
        if r.name in bad_names:
            assert r.error is not None and r.name in r.error, r
            assert r.faces == [] and r.size is None
        else:  # the same faces as when it is predicted alone
            assert r.error is None, r
            item = items[r.index] if r.index < len(items) - 1 else r.name
            alone = det.predict_faces(item)[0]
            assert len(r.faces) == len(alone) >= 1, r.name
            np.testing.assert_allclose(r.faces[0].landmarks, alone[0].landmarks, atol=1e-3)
    rows = det.predict(items, on_error="skip")
    bad_rows = [i for i, n in enumerate(names) if n in bad_names]
    assert np.isnan(rows[bad_rows]).all()
    assert np.isfinite(np.delete(rows, bad_rows, axis=0)).all()


# ------------------------------------------------------------------------- the command line
def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_every_good_record_and_names_each_bad_file_once(corpus, capsys) -> None:
    files = [p for pair in zip(corpus["good"] * 3, corpus["bad"], strict=False) for p in pair]
    files += [*corpus["warn"], str(corpus["folder"])]
    code, out, err = _run(capsys, "predict", *files)
    assert code == 2, err
    records = [json.loads(line) for line in out.splitlines()]
    expanded = [*files[:-1], str(corpus["folder"] / "a.png"), str(corpus["folder"] / "b.jpg")]
    assert [r["image"] for r in records] == expanded
    bad = [*corpus["bad"], str(corpus["folder"] / "b.jpg")]
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "Warning" not in err
    for name in bad:
        named = [ln for ln in lines if name in ln]
        assert len(named) == 1 and named[0].startswith("facelandmarks: ERROR: "), (name, lines)
    for r in records:
        if r["image"] in bad:
            assert r["faces"] == [] and r["image"] in r["error"]
        elif r["image"] in corpus["warn"]:
            assert "error" not in r
        else:
            assert "error" not in r and len(r["faces"]) == 1, r
    assert lines[-1] == (
        f"facelandmarks: error: {len(bad)} of {len(expanded)} images could not be read (named "
        "above and in their output rows); the others' results are printed"
    )


def test_cli_csv_gives_every_input_a_row(corpus, capsys) -> None:
    files = [corpus["good"][0], *corpus["bad"], corpus["good"][1]]
    code, out, _ = _run(capsys, "predict", "--csv", *files)
    assert code == 2
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["image"] for r in rows] == files
    for r in rows:
        if r["image"] in corpus["bad"]:
            assert r["image"] in r["error"] and r["face"] == ""
        else:
            assert r["error"] == "" and r["face"] == "0" and r["x00"]


def test_cli_bomb_alone_exits_2_with_its_name(corpus, capsys) -> None:
    bomb = next(p for p in corpus["bad"] if p.endswith("bomb.png"))
    code, out, err = _run(capsys, "predict", bomb)
    assert code == 2
    (error_line,) = [ln for ln in err.splitlines() if "ERROR" in ln]
    assert bomb in error_line and "FACELANDMARKS_MAX_PIXELS" in error_line
    assert json.loads(out)["error"]


def test_a_folder_without_images_is_named_in_a_warning(corpus, det, capsys, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="facelandmarks"):
        assert det.predict([corpus["good"][0], corpus["empty_folder"]]).shape[0] == 1
    assert any(str(corpus["empty_folder"]) in r.getMessage() for r in caplog.records)
    code, out, err = _run(capsys, "predict", corpus["good"][0], str(corpus["empty_folder"]))
    assert code == 0
    assert len(out.splitlines()) == 1
    assert str(corpus["empty_folder"]) in err and "no image files" in err


# ------------------------------------------------------------------------- the pixel limit
def _noise_file(path: Path, width: int, height: int) -> str:
    pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def test_the_pixel_limit_is_read_from_the_environment(tmp_path, monkeypatch) -> None:
    path = _noise_file(tmp_path / "photo.png", 40, 30)  # 1200 pixels
    monkeypatch.setenv("FACELANDMARKS_MAX_PIXELS", "1000")
    with pytest.raises(ValueError) as info:
        load_image(path)
    message = str(info.value)
    for fragment in (path, "40x30", "above the limit of 0.001 megapixels", "=1200"):
        assert fragment in message, message
    assert fl_images.image_size(path) == (40, 30)  # the header alone is still read
    monkeypatch.setenv("FACELANDMARKS_MAX_PIXELS", "1200")
    assert load_image(path).shape == (30, 40, 3)
    monkeypatch.setenv("FACELANDMARKS_MAX_PIXELS", "none")
    assert fl_images.max_pixels() is None and load_image(path).shape == (30, 40, 3)
    for bad in ("-5", "lots", "1e9"):
        monkeypatch.setenv("FACELANDMARKS_MAX_PIXELS", bad)
        with pytest.raises(ValueError, match=f"FACELANDMARKS_MAX_PIXELS='{bad}'"):
            load_image(path)
    monkeypatch.delenv("FACELANDMARKS_MAX_PIXELS")
    assert fl_images.max_pixels() == fl_images.MAX_PIXELS == 150_000_000


def test_pillows_bomb_warning_never_leaks_and_its_error_is_explained(tmp_path, monkeypatch):
    """Below our limit an image is decoded without Pillow's DecompressionBombWarning (issued
    above PIL.Image.MAX_IMAGE_PIXELS); above twice that Pillow refuses to open it at all, and
    the error says which setting to raise."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    warned = _noise_file(tmp_path / "warned.png", 40, 30)  # 1200: Pillow warns
    refused = _noise_file(tmp_path / "refused.png", 50, 50)  # 2500 > 2 x 1000: Pillow refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(warned).shape == (30, 40, 3)
        assert fl_images.image_size(warned) == (40, 30)
        with pytest.raises(ValueError) as info:
            load_image(refused)
    message = str(info.value)
    assert refused in message and "PIL.Image.MAX_IMAGE_PIXELS" in message, message
    assert "\n" not in message

    # a Pillow that words its refusal without the pixel count: its words, not "0.0 megapixels"
    def refuse(*args, **kwargs):
        raise Image.DecompressionBombError("image too large")

    with monkeypatch.context() as m:
        m.setattr(Image, "open", refuse)
        with pytest.raises(ValueError) as info:
            load_image(refused)
    message = str(info.value)
    assert "image too large" in message and "PIL.Image.MAX_IMAGE_PIXELS" in message, message
    assert "megapixels" not in message, message
