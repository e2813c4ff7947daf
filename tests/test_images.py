"""Tests for facelandmarks.images on synthetic images built in tmp_path (no real photos)."""

from __future__ import annotations

import ast
import doctest
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps, PngImagePlugin

from facelandmarks import _image_lists
from facelandmarks import images as fio
from facelandmarks.images import as_image_list, count_images, image_size, iter_images, load_image

ORIENTATION = 0x0112

# A 2 x 3 grid of clearly different colours; each cell is an 8 x 8 block, so a JPEG stores every
# cell as flat DCT blocks and keeps its colour almost exactly.
GRID = np.array(
    [
        [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        [[255, 255, 0], [255, 0, 255], [0, 255, 255]],
    ],
    dtype=np.uint8,
)
CELL = 8


def grid_image() -> np.ndarray:
    """(16, 24, 3) uint8: GRID with every cell blown up to CELL x CELL pixels."""
    return np.repeat(np.repeat(GRID, CELL, axis=0), CELL, axis=1)


def cell_colours(rgb: np.ndarray) -> np.ndarray:
    """Colour at the centre of every CELL x CELL cell of an image made of such cells."""
    return rgb[CELL // 2 :: CELL, CELL // 2 :: CELL].astype(int)


def save_with_orientation(pixels: np.ndarray, path: Path, orientation: int) -> Path:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    kwargs = {"quality": 95, "subsampling": 0} if path.suffix == ".jpg" else {}
    Image.fromarray(pixels).save(path, exif=exif, **kwargs)
    return path


def random_rgb(seed: int, shape: tuple[int, ...] = (5, 7, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_bytes(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc))
    return b"".join(out)


def assert_rgb(result: np.ndarray, expected: np.ndarray) -> None:
    assert result.dtype == np.uint8
    assert result.ndim == 3 and result.shape[2] == 3
    assert result.flags.c_contiguous and result.flags.writeable
    np.testing.assert_array_equal(result, expected)


# --------------------------------------------------------------------------------------
# Module hygiene
# --------------------------------------------------------------------------------------


def test_module_imports_only_stdlib_numpy_and_pillow():
    # images.py and its three private helpers; between them, they import only each other.
    helpers = ("_image_files", "_pixels", "_image_lists")
    own = {"facelandmarks.images", *(f"facelandmarks.{name}" for name in helpers)}
    roots = set()
    here = Path(fio.__file__)
    for path in (here, *(here.with_name(f"{name}.py") for name in helpers)):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module not in own:
                roots.add((node.module or "").split(".")[0])
    stdlib = {"__future__", "collections", "contextlib", "logging", "os", "struct", "threading"}
    stdlib |= {"typing", "warnings", "zlib"}
    assert roots <= stdlib | {
        "numpy",
        "PIL",
    }, roots


@pytest.mark.parametrize("module", [fio, _image_lists], ids=lambda m: m.__name__)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------------------
# Pillow modes
# --------------------------------------------------------------------------------------

GREY = np.array([[0, 1, 128], [200, 254, 255]], dtype=np.uint8)


def grey_rgb(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[:, :, None], 3, axis=2)


@pytest.mark.parametrize("as_file", [False, True], ids=["pil", "png"])
def test_grey_l(tmp_path, as_file):
    image = Image.fromarray(GREY, mode="L")
    if as_file:
        image.save(tmp_path / "l.png")
        image = tmp_path / "l.png"
    assert_rgb(load_image(image), grey_rgb(GREY))


@pytest.mark.parametrize("as_file", [False, True], ids=["pil", "png"])
def test_one_bit(tmp_path, as_file):
    bits = np.array([[True, False, True], [False, False, True]])
    image = Image.fromarray(bits).convert("1")
    assert image.mode == "1"
    if as_file:
        image.save(tmp_path / "bits.png")
        image = tmp_path / "bits.png"
    assert_rgb(load_image(image), grey_rgb(bits.astype(np.uint8) * 255))


@pytest.mark.parametrize("mode", ["LA", "La"])
def test_grey_with_alpha_drops_alpha(tmp_path, mode):
    alpha = np.full_like(GREY, 255)
    image = Image.fromarray(np.dstack([GREY, alpha]), mode="LA")
    if mode == "La":
        image = image.convert("La")  # alpha 255: premultiplying changes nothing
    assert image.mode == mode
    assert_rgb(load_image(image), grey_rgb(GREY))
    if mode == "LA":
        transparent = Image.fromarray(np.dstack([GREY, np.zeros_like(GREY)]), mode="LA")
        transparent.save(tmp_path / "la.png")
        assert_rgb(load_image(tmp_path / "la.png"), grey_rgb(GREY))


def test_rgba_with_zero_alpha_keeps_rgb(tmp_path):
    rgb = random_rgb(1)
    alpha = np.zeros(rgb.shape[:2], np.uint8)
    alpha[0, 0] = 255
    Image.fromarray(np.dstack([rgb, alpha]), mode="RGBA").save(tmp_path / "rgba.png")
    assert_rgb(load_image(tmp_path / "rgba.png"), rgb)
    assert_rgb(load_image(Image.open(tmp_path / "rgba.png")), rgb)


@pytest.mark.parametrize("mode", ["RGBX", "RGBa"])
def test_other_four_channel_modes(mode):
    rgb = random_rgb(2)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    image = Image.fromarray(rgba, mode="RGBA").convert(mode)
    assert image.mode == mode
    assert_rgb(load_image(image), rgb)


PALETTE = [10, 20, 30, 40, 50, 60, 200, 100, 0]
INDICES = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
PALETTE_RGB = np.array(PALETTE, dtype=np.uint8).reshape(-1, 3)[INDICES]


def palette_image() -> Image.Image:
    image = Image.frombytes("P", (3, 2), INDICES.tobytes())
    image.putpalette(PALETTE)
    return image


@pytest.mark.parametrize("transparency", [None, 0, b"\x00\x80\xff"], ids=["none", "int", "bytes"])
def test_palette(tmp_path, transparency):
    image = palette_image()
    if transparency is not None:
        image.info["transparency"] = transparency
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "palette transparency" warning leaks out
        assert_rgb(load_image(image), PALETTE_RGB)
        kwargs = {} if transparency is None else {"transparency": transparency}
        image.save(tmp_path / "p.png", **kwargs)
        with Image.open(tmp_path / "p.png") as reopened:
            assert reopened.mode == "P"
            assert ("transparency" in reopened.info) == (transparency is not None)
        assert_rgb(load_image(tmp_path / "p.png"), PALETTE_RGB)


def test_palette_with_alpha_mode_pa():
    image = palette_image().convert("PA")
    assert image.mode == "PA"
    assert_rgb(load_image(image), PALETTE_RGB)


@pytest.mark.parametrize("as_file", [False, True], ids=["pil", "tiff"])
def test_cmyk(tmp_path, as_file):
    cmyk = np.array(
        [[[0, 0, 0, 0], [0, 255, 255, 0]], [[255, 0, 255, 0], [0, 0, 0, 255]]], dtype=np.uint8
    )
    image = Image.fromarray(cmyk, mode="CMYK")
    if as_file:
        image.save(tmp_path / "cmyk.tif")
        image = tmp_path / "cmyk.tif"
    expected = np.array([[[255, 255, 255], [255, 0, 0]], [[0, 255, 0], [0, 0, 0]]], np.uint8)
    assert_rgb(load_image(image), expected)


def test_ycbcr():
    ycc = np.zeros((2, 3, 3), np.uint8)
    ycc[..., 0] = GREY  # neutral chroma: R = G = B = Y
    ycc[..., 1:] = 128
    image = Image.fromarray(ycc, mode="YCbCr")
    result = load_image(image)
    assert_rgb(result, np.asarray(image.convert("RGB")))
    np.testing.assert_allclose(result.astype(int), grey_rgb(GREY).astype(int), atol=1)


SIXTEEN = np.array([[0, 255, 256, 32767], [32768, 65279, 65280, 65535]], dtype=np.uint16)
SIXTEEN_AS_8 = np.array([[0, 0, 1, 127], [128, 254, 255, 255]], dtype=np.uint8)


def test_16_bit_png_gradient_keeps_full_range(tmp_path):
    gradient = np.linspace(0, 65535, 4 * 256).round().astype(np.uint16).reshape(4, 256)
    Image.fromarray(gradient).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as reopened:
        assert reopened.mode == "I;16"
    result = load_image(tmp_path / "g16.png")
    assert_rgb(result, grey_rgb((gradient >> 8).astype(np.uint8)))
    assert result.min() == 0 and result.max() == 255  # full range, no clipping to white
    assert np.all(np.diff(result[..., 0].astype(int).ravel()) >= 0)  # still a gradient
    assert len(np.unique(result)) == 256  # every 8-bit level is used


@pytest.mark.parametrize("dtype", ["<u2", ">u2"])
def test_16_bit_pil_modes(dtype):
    image = Image.fromarray(SIXTEEN.astype(dtype))
    assert image.mode == ("I;16" if dtype == "<u2" else "I;16B")
    assert_rgb(load_image(image), grey_rgb(SIXTEEN_AS_8))


def test_16_bit_tiff(tmp_path):
    Image.fromarray(SIXTEEN).save(tmp_path / "g16.tif")
    assert_rgb(load_image(tmp_path / "g16.tif"), grey_rgb(SIXTEEN_AS_8))


def test_32_bit_integer_mode_is_treated_as_16_bit():
    image = Image.fromarray(SIXTEEN.astype(np.int32))
    assert image.mode == "I"
    assert_rgb(load_image(image), grey_rgb(SIXTEEN_AS_8))


@pytest.mark.parametrize("bad_value", [-1, 65536])
def test_32_bit_integer_mode_out_of_16_bit_range_raises(bad_value):
    values = SIXTEEN.astype(np.int32)
    values[1, 1] = bad_value
    with pytest.raises(ValueError, match=r"<PIL image>.*'I'.*Received: values from"):
        load_image(Image.fromarray(values))


def test_float_mode_raises():
    image = Image.fromarray(np.ones((2, 3), np.float32))
    assert image.mode == "F"
    with pytest.raises(ValueError, match=r"'F'"):
        load_image(image, name="face")


def test_zero_size_pil_image_raises():
    with pytest.raises(ValueError, match="zero size"):
        load_image(Image.new("RGB", (0, 4)))


def test_pil_image_is_not_modified():
    rgb = random_rgb(3)
    image = Image.fromarray(rgb)
    rgba = image.convert("RGBA")
    before = rgba.tobytes()
    result = load_image(rgba)
    result[...] = 0
    assert rgba.mode == "RGBA" and rgba.tobytes() == before


def test_first_frame_of_multi_frame_gif(tmp_path):
    frames = [Image.new("RGB", (4, 3), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    result = load_image(tmp_path / "anim.gif")
    assert result.shape == (3, 4, 3)
    assert result[0, 0].tolist() == [255, 0, 0]


# --------------------------------------------------------------------------------------
# EXIF orientation
# --------------------------------------------------------------------------------------


def expected_cells(orientation: int) -> np.ndarray:
    """GRID as a viewer shows it, written out by hand for the three tested orientations."""
    g = GRID
    if orientation == 3:  # rotate 180: bottom-right cell ends up top-left
        return np.array([[g[1, 2], g[1, 1], g[1, 0]], [g[0, 2], g[0, 1], g[0, 0]]])
    if orientation == 6:  # rotate 90 clockwise: the left column, read upwards, is the top row
        return np.array([[g[1, 0], g[0, 0]], [g[1, 1], g[0, 1]], [g[1, 2], g[0, 2]]])
    if orientation == 8:  # rotate 90 counter-clockwise: the right column is the top row
        return np.array([[g[0, 2], g[1, 2]], [g[0, 1], g[1, 1]], [g[0, 0], g[1, 0]]])
    raise AssertionError(orientation)


@pytest.mark.parametrize(
    ("orientation", "shape"), [(3, (16, 24, 3)), (6, (24, 16, 3)), (8, (24, 16, 3))]
)
def test_exif_orientation_jpeg(tmp_path, orientation, shape):
    path = save_with_orientation(grid_image(), tmp_path / "grid.jpg", orientation)
    result = load_image(path)
    assert result.shape == shape
    assert result.flags.c_contiguous and result.flags.writeable
    np.testing.assert_allclose(cell_colours(result), expected_cells(orientation), atol=12)
    assert image_size(path) == (shape[1], shape[0])
    assert image_size(str(path)) == (shape[1], shape[0])
    # A PIL image opened from the file is oriented too, and is left as it was.
    with Image.open(path) as opened:
        np.testing.assert_array_equal(load_image(opened), result)
        assert image_size(opened) == (shape[1], shape[0])
        assert opened.size == (24, 16)
        assert opened.getexif()[ORIENTATION] == orientation


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_orientations_match_pillow_exif_transpose(tmp_path, orientation, suffix):
    pixels = random_rgb(orientation, (5, 7, 3))
    path = save_with_orientation(pixels, tmp_path / f"o{suffix}", orientation)
    with Image.open(path) as opened:
        reference = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
    result = load_image(path)
    assert_rgb(result, reference)
    assert image_size(path) == (result.shape[1], result.shape[0])


@pytest.mark.parametrize("orientation", [0, 9, 1])
def test_invalid_or_identity_orientation_is_ignored(tmp_path, orientation):
    pixels = random_rgb(4)
    path = save_with_orientation(pixels, tmp_path / "o.png", orientation)
    assert_rgb(load_image(path), pixels)
    assert image_size(path) == (7, 5)


def test_png_exif_after_image_data_is_found_by_image_size(tmp_path):
    pixels = random_rgb(5, (4, 6, 3))
    source = save_with_orientation(pixels, tmp_path / "before.png", 6)
    chunks = png_chunks(source.read_bytes())
    exif = [c for c in chunks if c[0] == b"eXIf"]
    rest = [c for c in chunks if c[0] != b"eXIf"]
    assert len(exif) == 1
    moved = rest[:-1] + exif + rest[-1:]  # eXIf between the last IDAT and IEND
    assert [kind for kind, _ in moved][-2:] == [b"eXIf", b"IEND"]
    path = tmp_path / "after.png"
    path.write_bytes(png_bytes(moved))
    with Image.open(path) as opened:
        assert "exif" not in opened.info  # Pillow only sees it after decoding the pixels
    result = load_image(path)
    assert result.shape == (6, 4, 3)
    assert image_size(path) == (4, 6)


@pytest.mark.parametrize("where", ["before", "after"])
def test_png_xmp_orientation(tmp_path, where):
    # Some tools store the orientation only as XMP tiff:Orientation in an iTXt chunk.
    pixels = random_rgb(13, (4, 6, 3))
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        '02/22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        'tiff:Orientation="8"/></rdf:RDF></x:xmpmeta>'
    )
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    path = tmp_path / "xmp.png"
    Image.fromarray(pixels).save(path, pnginfo=info)
    if where == "after":
        chunks = png_chunks(path.read_bytes())
        text = [c for c in chunks if c[0] == b"iTXt"]
        rest = [c for c in chunks if c[0] != b"iTXt"]
        path.write_bytes(png_bytes(rest[:-1] + text + rest[-1:]))
    with Image.open(path) as opened:
        reference = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
    assert reference.shape == (6, 4, 3)
    assert_rgb(load_image(path), reference)
    assert image_size(path) == (4, 6)


def test_image_size_reads_headers_only(tmp_path):
    # The pixel data of these files is cut in half: decoding fails, the header is intact.
    pixels = random_rgb(12, (64, 80, 3))  # noise: the pixel data is most of the file
    for suffix, orientation, expected in [(".jpg", 6, (64, 80)), (".png", 1, (80, 64))]:
        path = save_with_orientation(pixels, tmp_path / f"full{suffix}", orientation)
        data = path.read_bytes()
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: len(data) // 2])
        assert image_size(cut) == expected
        with pytest.raises(ValueError):
            load_image(cut)


# --------------------------------------------------------------------------------------
# Files that are missing, not images, or broken
# --------------------------------------------------------------------------------------


def test_path_kinds_accepted(tmp_path):
    pixels = random_rgb(6)
    Image.fromarray(pixels).save(tmp_path / "x.png")

    class BytesPath:
        def __fspath__(self) -> bytes:
            return os.fsencode(tmp_path / "x.png")

    for path in [tmp_path / "x.png", str(tmp_path / "x.png"), BytesPath()]:
        assert_rgb(load_image(path), pixels)
        assert image_size(path) == (7, 5)


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere" / "face.jpg"
    with pytest.raises(FileNotFoundError, match=r"face\.jpg"):
        load_image(missing)
    with pytest.raises(FileNotFoundError, match=r"face\.jpg"):
        image_size(str(missing))


@pytest.mark.parametrize("text", ["definitely not a path", "", "https://example.com/face.jpg"])
def test_string_that_is_not_a_path(text):
    with pytest.raises(FileNotFoundError, match="Received: image="):
        load_image(text)


def test_url_gets_a_hint():
    with pytest.raises(FileNotFoundError, match="URLs are not downloaded"):
        load_image("https://example.com/face.jpg")


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        load_image(tmp_path)
    with pytest.raises(IsADirectoryError):
        image_size(str(tmp_path))


@pytest.mark.parametrize("content", [b"name,x,y\nface,1,2\n", b"", b"\x89PNG\r\n\x1a\n"])
def test_file_that_is_not_an_image(tmp_path, content):
    path = tmp_path / "notes.jpg"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"notes\.jpg"):
        load_image(path)
    with pytest.raises(ValueError, match=r"notes\.jpg"):
        image_size(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.5, 0.9, -1])
def test_truncated_files_raise(tmp_path, suffix, keep):
    path = tmp_path / f"full{suffix}"
    Image.fromarray(random_rgb(7, (64, 80, 3))).save(path)
    data = path.read_bytes()
    # keep=-1: only the last 64 bytes are cut (a PNG then lacks only the end of its pixel data)
    size = len(data) - 64 if keep == -1 else int(len(data) * keep)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[:size])
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(ValueError, match=r"cut\..*corrupt or truncated"):
        load_image(cut)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES  # never switched on globally
    assert_rgb(load_image(path), np.asarray(Image.open(path).convert("RGB")))


def test_corrupt_png_data(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(random_rgb(8, (32, 32, 3))).save(path)
    chunks = png_chunks(path.read_bytes())
    broken = [(k, b"\x00garbage" * 20 if k == b"IDAT" else body) for k, body in chunks]
    path.write_bytes(png_bytes(broken))
    with pytest.raises(ValueError, match=r"x\.png"):
        load_image(path)


# --------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------


def test_uint8_array_shapes():
    rgb = random_rgb(9)
    grey = rgb[..., 0]
    assert_rgb(load_image(grey), grey_rgb(grey))
    assert_rgb(load_image(grey[:, :, None]), grey_rgb(grey))
    assert_rgb(load_image(rgb), rgb)
    rgba = np.dstack([rgb, np.zeros_like(grey)])
    assert_rgb(load_image(rgba), rgb)


@pytest.mark.parametrize("seed", range(3))
def test_uint16_arrays_scale_by_shifting(seed):
    values = np.random.default_rng(seed).integers(0, 65536, size=(6, 5, 3), dtype=np.uint16)
    values[0, 0] = [0, 255, 65535]
    expected = (values >> 8).astype(np.uint8)
    assert_rgb(load_image(values), expected)
    assert_rgb(load_image(values.astype(">u2")), expected)
    assert load_image(values)[0, 0].tolist() == [0, 0, 255]
    assert_rgb(load_image(values[..., 0]), grey_rgb(expected[..., 0]))


def test_array_views_and_strides():
    rgb = random_rgb(10, (8, 9, 3))
    assert_rgb(load_image(rgb[..., ::-1]), np.ascontiguousarray(rgb[..., ::-1]))  # BGR view
    assert_rgb(load_image(rgb[::2, 1::3]), np.ascontiguousarray(rgb[::2, 1::3]))
    assert_rgb(load_image(np.asfortranarray(rgb)), rgb)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4)])
def test_caller_array_is_never_modified_or_shared(shape):
    original = np.random.default_rng(11).integers(0, 256, size=shape, dtype=np.uint8)
    original.flags.writeable = False  # any in-place write would raise
    snapshot = original.copy()
    result = load_image(original)
    assert not np.shares_memory(result, original)
    result[...] = 7
    np.testing.assert_array_equal(original, snapshot)


@pytest.mark.parametrize(
    ("array", "received"),
    [
        (np.zeros(5), "array of shape (5,) and dtype float64"),
        (np.zeros((4, 4, 3), np.float32), "array of shape (4, 4, 3) and dtype float32"),
        (np.zeros((4, 4, 3), bool), "array of shape (4, 4, 3) and dtype bool"),
        (np.zeros((4, 4, 3), np.int64), "array of shape (4, 4, 3) and dtype int64"),
        (np.zeros((4, 4, 3), np.int8), "array of shape (4, 4, 3) and dtype int8"),
        (np.zeros((4, 4, 3), np.uint32), "array of shape (4, 4, 3) and dtype uint32"),
        (np.zeros((4, 4, 2), np.uint8), "array of shape (4, 4, 2) and dtype uint8"),
        (np.zeros((4, 4, 5), np.uint8), "array of shape (4, 4, 5) and dtype uint8"),
        (np.zeros((3, 4, 6), np.uint8), "array of shape (3, 4, 6) and dtype uint8"),
        (np.zeros((2, 4, 4, 3), np.uint8), "array of shape (2, 4, 4, 3) and dtype uint8"),
        (np.zeros((), np.uint8), "array of shape () and dtype uint8"),
        (np.zeros((0, 4, 3), np.uint8), "array of shape (0, 4, 3) and dtype uint8"),
        (np.zeros((4, 0), np.uint8), "array of shape (4, 0) and dtype uint8"),
    ],
)
def test_wrong_arrays_raise(array, received):
    with pytest.raises(ValueError) as info:
        load_image(array, name="<array #3>")
    message = str(info.value)
    assert "<array #3>" in message
    assert f"Received: {received}" in message
    assert "zero size" in message or "(H, W, 3)" in message
    with pytest.raises(ValueError, match=r"Received: array of shape"):
        image_size(array)


def test_wrong_array_hints():
    with pytest.raises(ValueError, match="channels-first"):
        load_image(np.zeros((3, 8, 10), np.uint8))
    with pytest.raises(ValueError, match="batch"):
        load_image(np.zeros((2, 8, 10, 3), np.uint8))


def test_image_size_of_arrays_and_pil_images():
    assert image_size(np.zeros((5, 7), np.uint8)) == (7, 5)
    assert image_size(np.zeros((5, 7, 4), np.uint16)) == (7, 5)
    assert image_size(Image.new("L", (9, 4))) == (9, 4)
    assert all(type(v) is int for v in image_size(np.zeros((5, 7, 3), np.uint8)))


# --------------------------------------------------------------------------------------
# Unknown types
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(3, "int"), ({"a": 1}, "dict"), (None, "NoneType"), (b"\xff\xd8", "bytes"), ([[1]], "list")],
)
def test_unknown_types_raise_type_error(value, type_name):
    for func in (load_image, image_size):
        with pytest.raises(TypeError) as info:
            func(value)
        message = str(info.value)
        assert f"Received: object of type {type_name}" in message
        assert "PIL.Image.Image" in message and "numpy.ndarray" in message
        assert "os.PathLike" in message


# --------------------------------------------------------------------------------------
# as_image_list / iter_images / count_images
# --------------------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path):
    """A path, a PIL image and two arrays of different sizes, with their expected pixels."""
    a, b, c = random_rgb(20, (4, 5, 3)), random_rgb(21, (6, 3, 3)), random_rgb(22, (2, 2, 3))
    Image.fromarray(a).save(tmp_path / "a.png")
    items = [tmp_path / "a.png", Image.fromarray(b), c, c[..., 0]]
    expected = [a, b, c, grey_rgb(c[..., 0])]
    names = [str(tmp_path / "a.png"), "<PIL image #1>", "<array #2>", "<array #3>"]
    return items, expected, names


def counting(items, pulled: list[int]):
    for item in items:
        pulled[0] += 1
        yield item


def test_as_image_list_single_images(tmp_path):
    pil = Image.new("RGB", (2, 2))
    arr = np.zeros((2, 2, 3), np.uint8)
    for single in ["x.jpg", tmp_path / "x.jpg", pil, arr, arr[..., 0]]:
        result = as_image_list(single)
        assert len(result) == 1 and result[0] is single


def test_as_image_list_sequences(mixed):
    items, _, _ = mixed
    result = as_image_list(items)
    assert all(x is y for x, y in zip(result, items, strict=True))
    assert result is not items
    assert [x is y for x, y in zip(as_image_list(tuple(items)), items, strict=True)] == [True] * 4
    assert as_image_list([]) == []


def test_as_image_list_batch():
    batch = np.stack([random_rgb(i, (3, 4, 3)) for i in range(5)])
    result = as_image_list(batch)
    assert len(result) == 5
    for i, item in enumerate(result):
        np.testing.assert_array_equal(item, batch[i])


def test_as_image_list_refuses_iterators_and_bad_types():
    pulled = [0]
    with pytest.raises(TypeError, match="iter_images"):
        as_image_list(counting(["a.jpg"], pulled))
    assert pulled == [0]
    with pytest.raises(TypeError, match="iter_images"):
        as_image_list(iter(["a.jpg"]))
    for bad, type_name in [(3, "int"), (None, "NoneType"), ({"a.jpg": 1}, "dict")]:
        with pytest.raises(TypeError, match=f"Received: object of type {type_name}"):
            as_image_list(bad)
    with pytest.raises(TypeError, match="no order"):
        as_image_list({"a.jpg", "b.jpg"})
    with pytest.raises(TypeError, match=r"images\[1\].*Received: object of type int"):
        as_image_list(["a.jpg", 5])


def test_iter_images_mixed_list(mixed):
    items, expected, names = mixed
    results = list(iter_images(items))
    assert [name for name, _ in results] == names
    for (_, rgb), want in zip(results, expected, strict=True):
        assert_rgb(rgb, want)


def test_iter_images_single_and_batch(mixed):
    items, expected, names = mixed
    [(name, rgb)] = list(iter_images(items[0]))
    assert name == names[0]
    assert_rgb(rgb, expected[0])
    [(name, rgb)] = list(iter_images(items[1]))
    assert name == "<PIL image #0>"
    batch = np.stack([random_rgb(i, (3, 4, 3)) for i in range(3)])
    results = list(iter_images(batch))
    assert [name for name, _ in results] == ["<array #0>", "<array #1>", "<array #2>"]
    for i, (_, rgb) in enumerate(results):
        assert_rgb(rgb, batch[i])
        assert not np.shares_memory(rgb, batch)


def test_iter_images_pulls_one_item_at_a_time(mixed):
    items, expected, names = mixed
    pulled = [0]
    stream = iter_images(counting(items, pulled))
    assert pulled == [0]  # creating the iterator loads nothing
    for i in range(len(items)):
        name, rgb = next(stream)
        assert pulled == [i + 1]  # never ahead of what has been yielded
        assert name == names[i]
        assert_rgb(rgb, expected[i])
    with pytest.raises(StopIteration):
        next(stream)


def test_iter_images_errors_are_lazy_and_name_the_item(tmp_path, mixed):
    items, _, _ = mixed
    missing = tmp_path / "missing.jpg"
    stream = iter_images([items[0], missing, items[2]])
    next(stream)
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg"):
        next(stream)
    stream = iter_images(counting([items[2], np.zeros(5)], [0]))
    next(stream)
    with pytest.raises(ValueError, match=r"<array #1>.*Received: array of shape \(5,\)"):
        next(stream)
    stream = iter_images(counting([items[2], 7], [0]))
    next(stream)
    with pytest.raises(TypeError, match=r"<int #1>.*Received: object of type int"):
        next(stream)


def test_iter_images_checks_the_container_eagerly():
    for bad in (3, None, {"a.jpg": 1}, b"\xff\xd8"):
        with pytest.raises(TypeError, match="Received: object of type"):
            iter_images(bad)


def test_count_images(mixed):
    items, _, _ = mixed
    assert count_images(items[0]) == 1
    assert count_images(items[1]) == 1
    assert count_images(items[2]) == 1
    assert count_images(items) == 4
    assert count_images(tuple(items)) == 4
    assert count_images([]) == 0
    assert count_images(np.zeros((7, 2, 2, 3), np.uint8)) == 7
    pulled = [0]
    assert count_images(counting(items, pulled)) is None
    assert pulled == [0]
    with pytest.raises(TypeError):
        count_images(42)
