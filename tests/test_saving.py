"""facelandmarks.saving: detector files by content, and checks that catch damaged files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from facelandmarks import legacy, saving
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.model import build_stage


def test_a_good_legacy_layout_passes_and_is_sniffed(tmp_path: Path, legacy_layout) -> None:
    path = legacy_layout(tmp_path / "w.h5")
    assert path.stat().st_size > 1_000_000
    assert saving.sniff_format(path) == "legacy-h5"
    assert saving.check_file(path, "legacy-h5") is None


@pytest.mark.parametrize("keep", [0.999, 0.9, 0.5, 0.1])
def test_a_truncated_legacy_file_fails_the_check(
    tmp_path: Path, keep: float, legacy_layout
) -> None:
    data = legacy_layout(tmp_path / "good.h5").read_bytes()
    bad = tmp_path / "w.h5"
    bad.write_bytes(data[: int(len(data) * keep)])
    problem = saving.check_file(bad, "legacy-h5")
    assert problem is not None and "truncated or damaged" in problem
    with pytest.raises(legacy.LegacyWeightsError, match="truncated or damaged"):
        saving.load_detector(bad)


def test_garbage_behind_an_hdf5_signature_fails_the_check(tmp_path: Path) -> None:
    bad = tmp_path / "w.h5"
    noise = np.random.default_rng(1).integers(0, 256, 1_500_000, dtype=np.uint8).tobytes()
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + noise)
    assert saving.sniff_format(bad) == "legacy-h5"
    assert "truncated or damaged" in saving.check_file(bad, "legacy-h5")


def test_a_legacy_file_with_a_wrong_shape_fails_the_check(tmp_path: Path, legacy_layout) -> None:
    path = legacy_layout(tmp_path / "w.h5", head_shape=(2048, 136))
    assert "(2048, 136)" in saving.check_file(path, "legacy-h5")


def test_wrong_kind_of_file(tmp_path: Path, legacy_layout) -> None:
    page = tmp_path / "w.h5"
    page.write_bytes(b"\n<!DOCTYPE html><html>quota</html>")
    assert saving.sniff_format(page) is None
    assert "web page" in saving.check_file(page, "legacy-h5")
    assert "web page" in saving.check_file(page, "keras")
    h5 = legacy_layout(tmp_path / "x.h5")
    assert "not a zip (.keras) file" in saving.check_file(h5, "keras")
    zipped = _archive(tmp_path / "z.keras", {"format_version": 1})
    assert "not a HDF5 file" in saving.check_file(zipped, "legacy-h5")
    with pytest.raises(ValueError, match="neither a detector saved"):
        saving.load_detector(page)
    other = tmp_path / "other.h5"  # HDF5, but not the 2019 weights: refused when read
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(legacy.LegacyWeightsError, match="expects a Keras 2 save_weights"):
        saving.read_config(other)
    with pytest.raises(FileNotFoundError, match="absent"):
        saving.load_detector(tmp_path / "absent.keras")


def _archive(path: Path, meta: dict | None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.weights.h5", b"\0" * 200_000)
        if meta is not None:
            zf.writestr(saving.META_NAME, json.dumps(meta))
    return path


def test_keras_container_checks(tmp_path: Path) -> None:
    ok = _archive(tmp_path / "ok.keras", {"format_version": 1, "config": {}})
    assert saving.check_file(ok, "keras") is None
    plain = _archive(tmp_path / "plain.keras", None)
    assert "not a facelandmarks detector" in saving.check_file(plain, "keras")
    newer = _archive(tmp_path / "newer.keras", {"format_version": saving.FORMAT_VERSION + 1})
    assert "newer facelandmarks" in saving.check_file(newer, "keras")
    for path in (plain, newer):
        with pytest.raises(ValueError, match=path.name):
            saving.load_detector(path)
    # a config this version cannot build (a newer version's stage field, no config at all)
    for meta in ({"format_version": 1, "config": {"stages": [{"warp": True}]}}, {}):
        odd = _archive(tmp_path / "odd.keras", meta)
        with pytest.raises(ValueError, match=r"odd\.keras.*newer facelandmarks") as info:
            saving.read_config(odd)
        assert "warp" in str(info.value) or "'config'" in str(info.value)
    # settings that are not JSON (or not an object) were the parser's words, or an AttributeError
    for name, text in (("bad.keras", "{not json"), ("list.keras", "[1, 2]")):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            zf.writestr(saving.META_NAME, text)
        pattern = rf"{name}' cannot be loaded as a detector: its settings \(facelandmarks\.json"
        with pytest.raises(ValueError, match=pattern + r" inside\) are damaged: not a valid JSON"):
            saving.read_config(tmp_path / name)
        assert "save the detector again" in saving.check_file(tmp_path / name, "keras")
    assert "(it holds [1, 2])" in saving.check_file(tmp_path / "list.keras", "keras")
    for version in ('"2"', "null", "true", "1.5"):  # compared with a number: a raw TypeError
        odd = _archive(tmp_path / "v.keras", {"format_version": json.loads(version)})
        with pytest.raises(ValueError, match=rf"damaged: format_version {version} is no integer"):
            saving.read_config(odd)
    data = ok.read_bytes()
    truncated = tmp_path / "t.keras"
    truncated.write_bytes(data[: len(data) // 2])
    assert "truncated or damaged" in saving.check_file(truncated, "keras")
    with pytest.raises(ValueError, match="truncated or damaged"):
        saving.load_detector(truncated)
    flipped = bytearray(data)
    flipped[1000] ^= 0xFF  # inside the first member's data: its CRC no longer matches
    (tmp_path / "f.keras").write_bytes(bytes(flipped))
    assert "damaged" in saving.check_file(tmp_path / "f.keras", "keras")
    # refused when read, naming the file, not on first use by Keras (a raw BadZipFile)
    with pytest.raises(ValueError, match=r"f\.keras.*'model\.weights\.h5' is damaged"):
        saving.read_config(tmp_path / "f.keras")


def test_a_points_stage_may_roll_and_files_from_before_roll_read_upright() -> None:
    face = StageConfig(framing="face")
    rolled = StageConfig(framing="points", roll=True)
    config = DetectorConfig(stages=(face, rolled))
    assert DetectorConfig.from_dict(config.to_dict()) == config
    older = config.to_dict()
    del older["stages"][1]["roll"]  # a file saved before roll existed
    assert DetectorConfig.from_dict(older).stages[1].roll is False
    for framing in ("face", "image"):
        with pytest.raises(ValueError, match="roll=True turns a 'points' frame"):
            StageConfig(framing=framing, roll=True)


def test_a_config_mirror_must_be_its_own_inverse() -> None:
    """Test-time flip maps the mirrored face's points back with the same permutation: one that
    is not its own inverse averaged each point with another one, without a word."""
    config = DetectorConfig(num_points=3, point_scheme="three", mirror=(2, 1, 0))
    assert config.mirror == (2, 1, 0)
    for bad in ((1, 2, 0), (0, 1), (0, 1, 3)):
        with pytest.raises(ValueError, match=r"permutation of 0\.\.2 that is its own inverse"):
            DetectorConfig(num_points=3, point_scheme="three", mirror=bad)


def test_a_config_of_p_points_does_not_borrow_the_default_schemes_name() -> None:
    """DetectorConfig(num_points=5) made a 5-point head called 'muct76': fit then scored its
    validation NME by MUCT's eye corners 27 and 32 (IndexError) and looked for a 'muct76'
    correspondence of the user's registered scheme."""
    with pytest.raises(ValueError, match=r"point_scheme 'muct76' has 76 points.*\('muct76', 5\)"):
        DetectorConfig(num_points=5)
    assert DetectorConfig(num_points=5, point_scheme="mine").heads == (("mine", 5),)
    assert DetectorConfig(num_points=68, point_scheme="ibug68").heads == (("ibug68", 68),)


@pytest.mark.slow
def test_save_load_round_trip_keeps_config_and_weights(tmp_path: Path) -> None:
    stage = StageConfig(
        backbone="mobilenetv3small",
        input_size=(32, 32),
        preprocessing="backbone",
        normalization="group",
    )
    second = StageConfig(**{**stage.__dict__, "framing": "points", "roll": True})
    config = DetectorConfig(stages=(stage, second))
    models = [build_stage(s, config, f"stage{i}") for i, s in enumerate(config.stages)]
    path = saving.save_detector(tmp_path / "d.keras", config, models)
    assert saving.check_file(path, "keras") is None
    loaded_config, loaded = saving.load_detector(path)
    assert loaded_config == config
    for a, b in zip(models, loaded, strict=True):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match=r"must end in '\.keras'"):
        saving.save_detector(tmp_path / "d.h5", config, models)
