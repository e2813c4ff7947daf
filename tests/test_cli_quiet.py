"""The command line's stderr carries its own messages only: no TensorFlow / TensorFlow Lite
start-up lines (facelandmarks._quiet), unless --verbose or --debug asks for everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facelandmarks._quiet import is_noise, native_noise_filtered

REPO = Path(__file__).resolve().parent.parent

NOISE = [
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796203341.325047    5648 port.cc:153] oneDNN custom operations are on.\n",
    b"I0000 00:00:1796203341.325435    5648 cudart_stub.cc:31] Could not find cuda drivers\n",
    b"E0000 00:00:1796202229.869067   30542 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n",
    b"W1202 09:08:25.123456   30542 local_rendezvous.cc:404] Local rendezvous is aborting\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    b"with the appropriate compiler flags.\n",
]
KEPT = [
    b"facelandmarks: error: 1 of 2 images could not be read\n",
    b"F0000 00:00:1796202229.869067   30542 main.cc:1] a fatal error\n",  # fatal lines stay
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU. and more\n",
    b"  I0000 00:00:1.2 1 a.cc:1] indented: not a log line\n",
]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    return env


def test_the_noise_lines_and_only_they_are_dropped() -> None:
    assert all(is_noise(line) for line in NOISE)
    assert not any(is_noise(line) for line in KEPT)


def test_the_filter_drops_noise_written_to_fd_2_and_keeps_the_rest_in_order() -> None:
    script = (
        "import os, sys, time\n"
        "from facelandmarks._quiet import native_noise_filtered\n"
        "with native_noise_filtered():\n"
        f"    for line in {NOISE + KEPT!r}:\n"
        "        os.write(2, line)\n"
        "    sys.stderr.write('python line\\n')\n"
        "    os.write(2, b'partial ')\n"
        "    time.sleep(0.2)\n"
        "    os.write(2, b'bar\\n')\n"
        "os.write(2, b'after the block\\n')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env=_env(), cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"".join(
        [*KEPT, b"python line\n", b"partial bar\n", b"after the block\n"]
    )


def test_without_a_usable_sys_stderr_fd_2_is_left_alone(monkeypatch) -> None:
    def fd_2() -> tuple[int, int]:
        info = os.fstat(2)
        return info.st_dev, info.st_ino

    before = fd_2()
    with native_noise_filtered():
        assert fd_2() != before  # filtered: fd 2 is the pipe's write end
    monkeypatch.setattr(sys, "stderr", None)
    with native_noise_filtered():
        assert fd_2() == before
    assert fd_2() == before


def test_predict_prints_its_json_and_nothing_on_stderr() -> None:
    """The default model runs on TensorFlow Lite: its XNNPACK notice is the one line a plain
    run would print, and it is dropped."""
    proc = subprocess.run(
        [sys.executable, "-m", "facelandmarks", "predict", "examples/astronaut.png"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    (line,) = proc.stdout.splitlines()
    assert len(json.loads(line)["faces"]) == 1
    verbose = subprocess.run(
        [sys.executable, "-m", "facelandmarks", "predict", "examples/astronaut.png", "-v"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=REPO,
        timeout=300,
    )
    assert "XNNPACK" in verbose.stderr and "facelandmarks: INFO:" in verbose.stderr


@pytest.mark.slow
def test_a_command_that_imports_tensorflow_prints_no_start_up_lines(tmp_path: Path) -> None:
    from facelandmarks import LandmarkDetector

    weights = tmp_path / "tiny.keras"
    LandmarkDetector(
        weights=None, backbone="mobilenetv3small", input_size=(64, 48), normalization="group"
    ).save(weights)
    argv = ["predict", "examples/astronaut.png", "--weights", str(weights), "--framing", "image"]
    proc = subprocess.run(
        [sys.executable, "-m", "facelandmarks", *argv],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 1
