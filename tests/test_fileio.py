"""facelandmarks.fileio: atomic writes keep the old file or the new one, never a mix."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facelandmarks import fileio


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_and_directories_get_the_umask_mode(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        path = fileio.atomic_write_bytes(tmp_path / "a.bin", b"x")
        with fileio.atomic_path(tmp_path / "d", directory=True) as tmp:
            (tmp / "inside").write_bytes(b"y")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "d" / "inside").read_bytes() == b"y"
    assert _names(tmp_path) == ["a.bin", "d"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "picture.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk gone"), fileio.atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("disk gone")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["picture.png"]
    with pytest.raises(KeyboardInterrupt), fileio.atomic_path(tmp_path / "d", directory=True):
        raise KeyboardInterrupt
    assert _names(tmp_path) == ["picture.png"]


def test_replaces_and_creates_parents_with_a_suffix_kept(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "m.keras"
    seen = []
    for content in (b"first", b"second"):
        with fileio.atomic_path(target, suffix=".keras") as tmp:
            seen.append(tmp)
            assert tmp.parent == target.parent and tmp.name.endswith(".keras")
            assert tmp.name.startswith(".m.keras.part-")
            tmp.write_bytes(content)
        assert target.read_bytes() == content
    assert seen[0] != target and _names(target.parent) == ["m.keras"]


def test_a_file_where_the_parent_folder_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    for directory in (False, True):
        error = pytest.raises(NotADirectoryError, match=r"afile' is a file, not a folder")
        with error, fileio.atomic_path(tmp_path / "afile" / "x", directory=directory):
            pass
    assert (tmp_path / "afile").read_text() == "mine"


def test_errors_name_the_users_path_not_the_hidden_temporary_file(tmp_path, monkeypatch) -> None:
    if Path("/proc/self").is_dir():  # a folder where no file can be made, even by root
        with pytest.raises(FileNotFoundError, match=r"directory: '/proc/x\.bin'$"):
            fileio.atomic_write_bytes("/proc/x.bin", b"x")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    target = tmp_path / "m.keras"
    with pytest.raises(OSError, match=r"No space left on device: '.*m\.keras'$") as caught:
        fileio.atomic_write_bytes(target, b"x")
    assert caught.value.errno == 28 and caught.value.filename == str(target)
    assert _names(tmp_path) == []
    other = tmp_path / "source.txt"  # errors about other things are not renamed
    for error in (FileNotFoundError(2, "No such file", str(other)), ConnectionResetError(104, "x")):
        with pytest.raises(type(error)) as caught, fileio.atomic_path(target):
            raise error
        assert caught.value is error


def test_json_round_trip_and_unserialisable_leaves_nothing(tmp_path: Path) -> None:
    obj = {"a": [1, 2.5, None], "b": "é"}
    path = fileio.atomic_write_json(tmp_path / "x.json", obj)
    assert json.loads(path.read_text("utf-8")) == obj
    assert path.read_text("utf-8").endswith("}\n")
    with pytest.raises(TypeError):
        fileio.atomic_write_json(tmp_path / "y.json", {"a": object()})
    assert _names(tmp_path) == ["x.json"]


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 7, 3_000_001])
def test_sha256_of_equals_hashlib_across_block_boundaries(tmp_path: Path, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    (tmp_path / "f").write_bytes(data)
    assert fileio.sha256_of(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_remove_leftovers_clears_what_killed_writes_left_and_nothing_else(tmp_path: Path) -> None:
    # A process killed (os._exit: no cleanup runs) inside atomic_path, for a file and a folder.
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from facelandmarks import fileio\n"
        "d = Path(sys.argv[1])\n"
        "with fileio.atomic_path(d / 'state.json') as a, "
        "fileio.atomic_path(d / 'export', directory=True) as b:\n"
        "    a.write_bytes(b'half'); (b / 'stage0').write_bytes(b'half')\n"
        "    os._exit(9)\n"
    )
    (tmp_path / "state.json").write_bytes(b"whole")
    (tmp_path / ".hidden").write_bytes(b"user's")
    (tmp_path / "notes.part-1.txt").write_bytes(b"user's")
    code = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False).returncode
    assert code == 9
    assert len(_names(tmp_path)) == 5  # two leftovers beside the three files
    fileio.remove_leftovers(tmp_path)
    assert _names(tmp_path) == [".hidden", "notes.part-1.txt", "state.json"]
    assert (tmp_path / "state.json").read_bytes() == b"whole"
    fileio.remove_leftovers(tmp_path / "missing")  # no folder: nothing to do
