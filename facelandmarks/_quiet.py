"""Keep native libraries' start-up chatter off the command line's stderr.

TensorFlow and TensorFlow Lite write some lines to file descriptor 2 from C++, whatever Python's
logging says, and no setting silences them all. :func:`native_noise_filtered` passes file
descriptor 2 through a pipe and drops exactly the lines :data:`NOISE` matches; everything else
(the command's own messages, Python warnings, Keras progress bars) goes through unchanged and in
order.

Used by :mod:`facelandmarks.cli` only (the library never touches the process's streams); POSIX
only (elsewhere it does nothing).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import threading
from collections.abc import Iterator

NOISE = re.compile(
    rb"(?:INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWE]\d{4} [\d:.]+ +\d+ [\w.\-]+:\d+\] .*"
    rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate "
    rb"compiler flags\.)\r?\n"
)
"""The lines dropped: TensorFlow Lite's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
(no setting silences it); absl's "WARNING: All log messages before absl::InitializeLog() ..." and
its log lines of levels I, W and E ("I0000 ... cudart_stub.cc:31] Could not find cuda drivers",
"E0000 ... failed call to cuInit"; F, fatal, is kept), which TensorFlow writes before its logging
starts, so ``TF_CPP_MIN_LOG_LEVEL=3`` misses them; TensorFlow's CPU-instructions advice."""

_QUIET_AFTER = 0.05  # seconds without data after which a partial line (a progress bar) is shown


def is_noise(line: bytes) -> bool:
    """Whether one complete line (with its newline) is start-up chatter to drop."""
    return NOISE.fullmatch(line) is not None


@contextlib.contextmanager
def native_noise_filtered() -> Iterator[None]:
    """Within the block, lines written to file descriptor 2 that :func:`is_noise` are dropped.

    Python's ``sys.stderr`` is flushed on entry and exit; a partial line is passed on after
    50 ms without more output (so progress bars still move).
    """
    saved = None
    if os.name == "posix":
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
            saved = os.dup(2)
    if saved is None:  # not POSIX, or no usable stderr: nothing is filtered
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    thread = threading.Thread(target=_pump, args=(read_end, saved), daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes: the pump reads to its end
        thread.join(timeout=5)
        os.close(read_end)
        os.close(saved)


def _pump(read_end: int, out: int) -> None:
    buffer = b""
    while True:
        ready, _, _ = select.select([read_end], [], [], _QUIET_AFTER if buffer else None)
        if not ready:
            _write(out, buffer)  # a partial line that stayed partial: show it
            buffer = b""
            continue
        data = os.read(read_end, 65536)
        if not data:
            break
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        kept = b"".join(line + b"\n" for line in lines if not is_noise(line + b"\n"))
        _write(out, kept)
    _write(out, buffer)


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except OSError:
            return
