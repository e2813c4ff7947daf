"""Tests for facelandmarks.weights and facelandmarks.cache: presets, cache directory, download
(with gdown), verification, locking.

Everything is offline: http downloads run the real gdown against a ``ThreadingHTTPServer`` on
127.0.0.1 that this module starts, serving payloads generated here; Google Drive downloads are
tested by replacing ``gdown.download`` with fakes (gdown always talks to drive.google.com).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from facelandmarks import shipped_weights, weights
from facelandmarks.weights import (
    WeightsCacheError,
    WeightsDownloadError,
    WeightsIntegrityError,
    WeightSpec,
)

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TIMEOUT = 10.0  # seconds; generous for loaded machines, never waited for when tests pass
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>"
    b"<body>Too many users have viewed or downloaded this file recently.</body></html>"
)


def make_payload(n: int = 300_000, seed: int = 0) -> bytes:
    """A fake legacy-h5 weights file: the HDF5 magic followed by deterministic noise."""
    noise = hashlib.sha256(str(seed).encode()).digest() * (n // 32 + 1)
    return HDF5_MAGIC + noise[: n - len(HDF5_MAGIC)]


PAYLOAD = make_payload()
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


# --------------------------------------------------------------------------------------
# A tiny configurable HTTP server
# --------------------------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 whose responses are set per path by the test."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()  # unblocks stalled handlers at teardown
        hits_lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with hits_lock:
                    server.hits[self.path] += 1
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                route(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # aborted connections are the point of some tests

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.running = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.release.set()
            self.httpd.shutdown()
            self.httpd.server_close()


def serve_bytes(
    data: bytes,
    *,
    content_type: str = "application/octet-stream",
    chunk: int = 1 << 16,
    delay: float = 0.0,
    announce: int | None = None,
    send: int | None = None,
    reset: bool = False,
    content_length: bool = True,
) -> Route:
    """Route sending ``data[:send]`` after announcing ``announce`` bytes; may end with a RST."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if content_length:
            handler.send_header("Content-Length", str(len(data) if announce is None else announce))
        handler.end_headers()
        body = data if send is None else data[:send]
        for start in range(0, len(body), chunk):
            handler.wfile.write(body[start : start + chunk])
            handler.wfile.flush()
            if delay:
                time.sleep(delay)
        handler.close_connection = True
        if reset:
            # SO_LINGER with a zero timeout makes close() send a TCP RST: the server "dies".
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.connection.close()

    return route


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Private preset registry and cache environment for every test."""
    monkeypatch.setattr(weights, "PRESETS", dict(weights.PRESETS))
    monkeypatch.delenv("FACELANDMARKS_HOME", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # requests honours proxy variables
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-should-not-be-used"))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def http_spec(url: str, *, name: str = "test-http", **changes: Any) -> WeightSpec:
    fields: dict[str, Any] = {
        "name": name,
        "description": "fake weights for tests",
        "source": url,
        "format": "legacy-h5",
        "sha256": PAYLOAD_SHA,
        "size": len(PAYLOAD),
        "point_scheme": "muct76",
        "training_data": "none",
        "license": "test",
    }
    fields.update(changes)
    fields.setdefault("filename", f"{name}-{(fields['sha256'] or PAYLOAD_SHA)[:8]}.h5")
    spec = WeightSpec(**fields)
    weights.register_preset(spec, overwrite=True)
    return spec


def leftovers(directory: Path) -> list[str]:
    """Files in the cache other than finished weights and lock files."""
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if ".part" in p.name)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------
# http downloads
# --------------------------------------------------------------------------------------


def test_good_download_puts_verified_file_in_place(server: FakeServer, cache: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))

    path = weights.download_weights("test-http", cache_dir=cache, verbose=0, timeout=TIMEOUT)

    assert path == cache / spec.filename
    assert path.read_bytes() == PAYLOAD
    assert leftovers(cache) == []
    assert {p.name for p in cache.iterdir()} <= {spec.filename, spec.filename + ".lock"}
    assert server.hits["/w.h5"] == 1
    # Second call: a cache hit, no request.
    assert weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT) == path
    assert server.hits["/w.h5"] == 1


def test_nothing_at_final_name_during_transfer(server: FakeServer, cache: Path) -> None:
    spec = http_spec(server.url("/w.h5"))
    final = cache / spec.filename
    seen: dict[str, Any] = {}

    def observed(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(PAYLOAD)))
        handler.end_headers()
        handler.wfile.write(PAYLOAD[:100_000])
        handler.wfile.flush()
        deadline = time.monotonic() + 5.0  # wait until the client has written something
        while time.monotonic() < deadline and not any(
            p.stat().st_size for p in cache.glob("*.part-*")
        ):
            time.sleep(0.01)
        seen["final_exists"] = final.exists()
        seen["parts"] = [p.name for p in cache.glob("*.part-*")]
        handler.wfile.write(PAYLOAD[100_000:])

    server.routes["/w.h5"] = observed
    weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert seen["final_exists"] is False
    (part,) = seen["parts"]
    assert part.startswith(f"{spec.filename}.part-{os.getpid()}-")
    assert final.read_bytes() == PAYLOAD


def test_force_downloads_again(server: FakeServer, cache: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT, force=True)
    assert server.hits["/w.h5"] == 2
    assert leftovers(cache) == []


@pytest.mark.parametrize(
    ("route", "needle"),
    [
        (serve_bytes(PAYLOAD, announce=len(PAYLOAD) + 5000), "incomplete"),
        (serve_bytes(PAYLOAD, send=len(PAYLOAD) // 2), "incomplete"),
        (serve_bytes(PAYLOAD, send=100_000, reset=True), "incomplete|connection broke"),
        (
            serve_bytes(PAYLOAD, send=100_000, reset=True, content_length=False),
            "incomplete|connection broke|verification",
        ),
        (serve_bytes(PAYLOAD, send=len(PAYLOAD) - 1, content_length=False), "verification"),
    ],
    ids=["length-larger-than-body", "closed-halfway", "reset", "reset-no-length", "short-body"],
)
def test_broken_transfers_leave_nothing_behind(
    server: FakeServer, cache: Path, route: Route, needle: str
) -> None:
    server.routes["/w.h5"] = route
    spec = http_spec(server.url("/w.h5"))
    with pytest.raises(WeightsDownloadError, match=needle) as info:
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert not (cache / spec.filename).exists()
    assert leftovers(cache) == []
    assert info.value.preset == "test-http"
    assert info.value.path == cache / spec.filename


def test_html_page_instead_of_file(server: FakeServer, cache: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(HTML_PAGE, content_type="text/html")
    spec = http_spec(server.url("/w.h5"))
    with pytest.raises(WeightsDownloadError, match="web page") as info:
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert "HTML" in str(info.value)
    assert not (cache / spec.filename).exists()
    assert leftovers(cache) == []


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"sha256": "0" * 64}, "sha256"),
        ({"size": len(PAYLOAD) + 1}, "bytes, expected"),
        ({"format": "keras"}, "not a zip"),
    ],
    ids=["sha256", "size", "format"],
)
def test_verification_failure_is_a_download_error(
    server: FakeServer, cache: Path, changes: dict[str, Any], needle: str
) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"), **changes)
    with pytest.raises(WeightsDownloadError, match=needle):
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert not (cache / spec.filename).exists()
    assert leftovers(cache) == []


def test_http_error_status(server: FakeServer, cache: Path) -> None:
    spec = http_spec(server.url("/missing.h5"))
    with pytest.raises(WeightsDownloadError, match="HTTP error 404"):
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert list(cache.glob("*.h5")) == []


@pytest.mark.parametrize("timeout", [0, -1, "10", float("nan"), float("inf"), 1e300, True])
def test_a_bad_timeout_is_refused_before_anything_is_fetched(cache: Path, timeout: Any) -> None:
    spec = http_spec(f"http://127.0.0.1:{unused_port()}/w.h5")  # a fetch would fail otherwise
    with pytest.raises(ValueError) as info:
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=timeout)
    assert str(info.value).endswith(f"seconds, > 0 and <= 1e9. Received: timeout={timeout!r}")
    assert not cache.exists()


def test_stalled_server_times_out(server: FakeServer, cache: Path) -> None:
    def stall(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(PAYLOAD)))
        handler.end_headers()
        handler.wfile.write(PAYLOAD[:1000])
        handler.wfile.flush()
        server.release.wait(5)

    server.routes["/w.h5"] = stall
    spec = http_spec(server.url("/w.h5"))
    start = time.monotonic()
    with pytest.raises(WeightsDownloadError, match="stalled"):
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=0.3)
    assert time.monotonic() - start < 5
    assert leftovers(cache) == []


def test_unreachable_host_error_names_preset_url_and_manual_path(cache: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/w.h5"
    spec = http_spec(url)
    final = cache / spec.filename
    with pytest.raises(WeightsDownloadError) as info:
        weights.download_weights("test-http", cache_dir=cache, verbose=0, timeout=TIMEOUT)
    message = str(info.value)
    assert "'test-http'" in message
    assert url in message
    assert str(final) in message
    # for both audiences: the environment variable, cache_dir= in Python, --cache-dir on the CLI
    assert "FACELANDMARKS_HOME" in message
    assert "--cache-dir DIR to `facelandmarks download`" in message
    assert "cache_dir=... in Python" in message
    assert "cannot reach the server" in message
    assert info.value.url == url
    assert not final.exists()
    assert isinstance(info.value, RuntimeError)


def test_a_process_waiting_on_the_lock_of_a_failed_download_still_keeps_others_out(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock file was deleted after a failed download: a process that had opened it and was
    waiting then locked a deleted file, while a later one created a new lock file and locked
    that, so both downloaded at once."""
    import gdown
    from filelock import FileLock, Timeout

    fcntl = pytest.importorskip("fcntl")
    spec = http_spec("http://127.0.0.1:1/w.h5")
    lock_path, waiting = cache / f"{spec.filename}.lock", []

    def fails(url: str, *, output: str, **kwargs: Any) -> str:
        waiting.append(os.open(lock_path, os.O_RDWR))  # another process, waiting on the lock
        raise ConnectionError("refused")

    monkeypatch.setattr(gdown, "download", fails)
    with pytest.raises(WeightsDownloadError, match="refused"):
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    try:
        fcntl.flock(waiting[0], fcntl.LOCK_EX | fcntl.LOCK_NB)  # it gets the lock: its turn
        with pytest.raises(Timeout):  # and a process arriving now must wait for it
            FileLock(str(lock_path)).acquire(timeout=0)
    finally:
        os.close(waiting[0])


def test_corrupt_cached_file_is_replaced(
    server: FakeServer, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    cache.mkdir()
    final = cache / spec.filename
    for bad in (PAYLOAD[:-10], HTML_PAGE, PAYLOAD[:-1] + b"\x00"):
        final.write_bytes(bad)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="facelandmarks.cache"):
            path = weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
        assert path.read_bytes() == PAYLOAD
        assert any("is corrupt" in r.getMessage() for r in caplog.records)
    assert server.hits["/w.h5"] == 3
    assert leftovers(cache) == []


def test_cache_hit_needs_no_network_and_no_lock(
    server: FakeServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    path = weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    server.stop()

    import filelock

    def no_lock(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a verified cache hit must not need the lock (read-only caches)")

    monkeypatch.setattr(filelock, "FileLock", no_lock)
    assert weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT) == path
    assert weights.resolve_weights("test-http", cache_dir=cache, verbose=0) == (path, spec)


def test_stale_partial_files_are_removed(server: FakeServer, cache: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    cache.mkdir()
    stale = cache / f"{spec.filename}.part-99999-deadbeef"
    stale.write_bytes(b"half")
    weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert not stale.exists()


def test_concurrent_threads_download_once(server: FakeServer, cache: Path) -> None:
    """Threads each create their own FileLock instance, as separate processes would."""
    server.routes["/w.h5"] = serve_bytes(PAYLOAD, chunk=30_000, delay=0.02)  # ~0.2 s
    spec = http_spec(server.url("/w.h5"))
    results: list[Path] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(
                weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert results == [cache / spec.filename] * 4
    assert (cache / spec.filename).read_bytes() == PAYLOAD
    assert server.hits["/w.h5"] == 1
    assert leftovers(cache) == []


def test_concurrent_processes_download_once(server: FakeServer, cache: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD, chunk=30_000, delay=0.05)  # ~0.5 s
    spec = http_spec(server.url("/w.h5"))
    ctx = multiprocessing.get_context("spawn")
    kwargs = {"cache_dir": str(cache), "verbose": 0, "timeout": TIMEOUT}
    procs = [
        ctx.Process(target=weights.download_weights, args=(spec,), kwargs=kwargs) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0]
    assert (cache / spec.filename).read_bytes() == PAYLOAD
    assert server.hits["/w.h5"] == 1
    assert leftovers(cache) == []


def test_quiet_without_verbose_and_a_keras_progress_bar_with_it(
    server: FakeServer, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Library code never prints: verbose=0 writes nothing; verbose=1 is a Keras Progbar (on
    stdout), and gdown's own messages stay off."""
    import re

    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert capsys.readouterr() == ("", "")
    weights.download_weights(spec, cache_dir=cache, verbose=1, timeout=TIMEOUT, force=True)
    out, err = capsys.readouterr()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert f"{len(PAYLOAD)}/{len(PAYLOAD)}" in plain and err == ""


# --------------------------------------------------------------------------------------
# Cache directory problems
# --------------------------------------------------------------------------------------


def test_unwritable_cache_directory_chmod(server: FakeServer, tmp_path: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not make the directory read-only")
        with pytest.raises(WeightsCacheError, match="not writable"):
            weights.download_weights(spec, cache_dir=ro, verbose=0, timeout=TIMEOUT)
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize(
    ("code", "needle"),
    [(errno.EACCES, "not writable"), (errno.EROFS, "not writable"), (errno.ENOSPC, "disk is full")],
)
def test_disk_errors_while_downloading_are_cache_errors(
    cache: Path, monkeypatch: pytest.MonkeyPatch, code: int, needle: str
) -> None:
    """A read-only or full cache (chmod does not stop root, which runs these tests): gdown's
    partial file is removed and the error says how to use another directory."""
    import gdown

    spec = http_spec("http://127.0.0.1:1/w.h5")

    def fails(url: str, *, output: str, **kwargs: Any) -> str:
        Path(output + "abcdefgh.part").write_bytes(PAYLOAD[:1000])
        raise OSError(code, os.strerror(code), output)

    monkeypatch.setattr(gdown, "download", fails)
    with pytest.raises(WeightsCacheError, match=needle) as info:
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert info.value.directory == cache
    assert info.value.errno == code
    assert str(cache) in str(info.value)
    assert "cache_dir=" in str(info.value) and "FACELANDMARKS_HOME" in str(info.value)
    assert isinstance(info.value, OSError)
    assert leftovers(cache) == []
    assert not (cache / spec.filename).exists()


def test_corrupt_cached_file_in_a_read_only_cache_is_named(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared read-only cache holding a corrupt file: the error says that file is corrupt
    (the reason it must be written at all), not only that the lock cannot be created."""
    import filelock

    spec = http_spec("http://127.0.0.1:1/w.h5")
    cache.mkdir()
    (cache / spec.filename).write_bytes(PAYLOAD[:-10])

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(cache / "x.lock"))

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)
    with pytest.raises(WeightsCacheError, match="not writable") as info:
        weights.download_weights(spec, cache_dir=cache, verbose=0, timeout=TIMEOUT)
    assert f"corrupt cached file {cache / spec.filename}" in str(info.value)
    assert f"expected {len(PAYLOAD)}" in str(info.value)


def test_cache_directory_that_cannot_be_created(server: FakeServer, tmp_path: Path) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(WeightsCacheError, match="create the directory") as info:
        weights.download_weights(spec, cache_dir=blocker / "sub", verbose=0, timeout=TIMEOUT)
    assert isinstance(info.value, NotADirectoryError)  # a wrong setting: the CLI's exit 2
    assert f"'{blocker}' is a file, not a folder" in str(info.value)
    assert "FACELANDMARKS_HOME" not in str(info.value)  # not the variable's fault here


def test_exceptions_pickle() -> None:
    err = WeightsDownloadError("m", preset="p", url="u", path=Path("/x"), cause="c")
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.preset, back.url, back.path, back.cause) == (
        "m",
        "p",
        "u",
        Path("/x"),
        "c",
    )
    cerr = WeightsCacheError("m", directory=Path("/d"), errno_=errno.ENOSPC)
    back2 = pickle.loads(pickle.dumps(cerr))
    assert (str(back2), back2.directory, back2.errno) == ("m", Path("/d"), errno.ENOSPC)


# --------------------------------------------------------------------------------------
# Google Drive (gdown)
# --------------------------------------------------------------------------------------


@pytest.fixture
def fake_gdown(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replaces gdown.download; the test sets ``state["behaviour"]``.

    gdown cannot be pointed at a loopback URL for Drive (it always talks to
    drive.google.com), so the Drive path is tested with fakes that (a) write the payload, (b)
    write an HTML quota page, (c) raise gdown's error, (d) leave gdown's own partial file and
    raise, (e) write nothing, and the assertions check how the cache handles each.
    """
    import gdown
    import requests

    state: dict[str, Any] = {"calls": [], "behaviour": "payload", "payload": PAYLOAD}

    def download(url: str, *, output: str, quiet: bool, **kwargs: Any) -> str:
        state["calls"].append({"url": url, "output": output, "quiet": quiet, **kwargs})
        behaviour = state["behaviour"]
        if behaviour == "payload":
            Path(output).write_bytes(state["payload"])
        elif behaviour == "html":
            Path(output).write_bytes(HTML_PAGE)
        elif behaviour == "raise":
            raise gdown.exceptions.FileURLRetrievalError(
                "Failed to retrieve file url:\n\n\tCannot retrieve the public link of the file."
            )
        elif behaviour == "partial-then-raise":
            Path(output + "abcdefgh.part").write_bytes(b"half")
            raise requests.ConnectionError("connection reset by peer")
        elif behaviour != "nothing":
            raise AssertionError(behaviour)
        return output

    monkeypatch.setattr(gdown, "download", download)
    return state


DRIVE_URL = "https://drive.google.com/uc?id=1aEZX1TzmLlsHuN6vLe3neRxlp9_f6486"


def test_gdown_fetches_the_2019_preset_and_its_layout_is_checked(
    fake_gdown: dict[str, Any], cache: Path, tmp_path: Path, legacy_layout: Any
) -> None:
    """The registered 2019 preset (unknown size and sha256): a file with its layout passes."""
    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    fake_gdown["payload"] = good
    path = weights.download_weights("muct-resnet50-2019", cache_dir=cache, verbose=0)
    assert path == cache / "muct-resnet50-2019.h5"
    assert path.read_bytes() == good
    (call,) = fake_gdown["calls"]
    assert call["url"] == DRIVE_URL
    assert call["quiet"] is True and call["timeout"] == weights.DEFAULT_TIMEOUT
    assert Path(call["output"]).parent == cache
    assert Path(call["output"]).name.startswith("muct-resnet50-2019.h5.part-")
    assert leftovers(cache) == []


@pytest.mark.parametrize("kind", ["noise", "truncated", "other layout"])
def test_a_downloaded_2019_file_that_is_not_the_model_is_refused(
    fake_gdown: dict[str, Any], cache: Path, tmp_path: Path, legacy_layout: Any, kind: str
) -> None:
    """Over 1 MB with the HDF5 signature used to pass (issue 11, item 5); now it must open and
    hold the 2019 layers and shapes."""
    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    payload = {
        "noise": make_payload(1_500_000, seed=3),
        "truncated": good[: int(len(good) * 0.9)],
        "other layout": legacy_layout(tmp_path / "o.h5", head_shape=(2048, 136)).read_bytes(),
    }[kind]
    assert len(payload) > 1_000_000 and payload.startswith(HDF5_MAGIC)
    fake_gdown["payload"] = payload
    with pytest.raises(WeightsDownloadError, match="failed verification"):
        weights.download_weights("muct-resnet50-2019", cache_dir=cache, verbose=0)
    assert list(cache.iterdir()) == [cache / "muct-resnet50-2019.h5.lock"]  # nothing else


def test_a_corrupt_cached_2019_file_is_reported_removed_and_replaced(
    fake_gdown: dict[str, Any],
    cache: Path,
    tmp_path: Path,
    legacy_layout: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    cache.mkdir()
    final = cache / "muct-resnet50-2019.h5"
    final.write_bytes(good[: len(good) - 4096])  # a real truncated file, over 1 MB
    fake_gdown["payload"] = good
    with caplog.at_level(logging.WARNING, logger="facelandmarks.cache"):
        path = weights.download_weights("muct-resnet50-2019", cache_dir=cache, verbose=0)
    assert path == final and final.read_bytes() == good
    assert len(fake_gdown["calls"]) == 1
    (record,) = caplog.records
    assert str(final) in record.getMessage()
    assert "is corrupt" in record.getMessage() and "truncated or damaged" in record.getMessage()
    assert "removed" in record.getMessage()


def test_a_corrupt_cached_file_while_offline_says_so_and_is_gone(
    fake_gdown: dict[str, Any], cache: Path, tmp_path: Path, legacy_layout: Any
) -> None:
    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    cache.mkdir()
    final = cache / "muct-resnet50-2019.h5"
    final.write_bytes(good[: len(good) // 2])
    fake_gdown["behaviour"] = "partial-then-raise"
    with pytest.raises(WeightsDownloadError) as info:
        weights.download_weights("muct-resnet50-2019", cache_dir=cache, verbose=0)
    message = str(info.value)
    assert f"The cached file {final} was corrupt" in message and "has been removed" in message
    assert f"save the file as\n    {final}" in message
    assert list(cache.iterdir()) == [cache / "muct-resnet50-2019.h5.lock"]  # the others: gone


def test_cli_download_of_a_corrupt_cached_file_no_longer_succeeds(
    fake_gdown: dict[str, Any],
    cache: Path,
    tmp_path: Path,
    legacy_layout: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from facelandmarks.cli import main

    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    cache.mkdir()
    (cache / "muct-resnet50-2019.h5").write_bytes(good[:-100_000])
    fake_gdown["behaviour"] = "raise"
    assert main(["download", "muct-resnet50-2019", "--cache-dir", str(cache)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "was corrupt" in err and "--cache-dir" in err
    fake_gdown["behaviour"] = "payload"
    fake_gdown["payload"] = good
    assert main(["download", "muct-resnet50-2019", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(cache / "muct-resnet50-2019.h5")


@pytest.mark.slow
def test_the_detector_reports_a_corrupt_cached_2019_file(
    fake_gdown: dict[str, Any], cache: Path, tmp_path: Path, legacy_layout: Any
) -> None:
    """Loading used to fail with "is neither a detector ... nor the original 2019 weights.h5"."""
    from facelandmarks import LandmarkDetector

    good = legacy_layout(tmp_path / "good.h5").read_bytes()
    cache.mkdir()
    (cache / "muct-resnet50-2019.h5").write_bytes(good[:1_100_000])
    fake_gdown["behaviour"] = "raise"
    with pytest.raises(WeightsDownloadError, match="was corrupt"):
        LandmarkDetector("muct-resnet50-2019", cache_dir=cache, verbose=0)


@pytest.mark.parametrize(
    ("behaviour", "needle"),
    [
        ("html", "Drive sent a page, probably a quota or permission page"),
        ("raise", "Google Drive did not hand out the file.*FileURLRetrievalError"),
        ("partial-then-raise", "cannot reach the server.*connection reset"),
        ("nothing", "does not exist"),
    ],
)
def test_gdown_failures(
    fake_gdown: dict[str, Any], cache: Path, behaviour: str, needle: str
) -> None:
    fake_gdown["behaviour"] = behaviour
    with pytest.raises(WeightsDownloadError, match=needle) as info:
        weights.download_weights("muct-resnet50-2019", cache_dir=cache, verbose=0)
    message = str(info.value)
    assert DRIVE_URL in message
    assert str(cache / "muct-resnet50-2019.h5") in message
    assert list(cache.iterdir()) == [cache / "muct-resnet50-2019.h5.lock"]


# --------------------------------------------------------------------------------------
# Embedded presets
# --------------------------------------------------------------------------------------


def embedded_spec(sha: str | None, name: str = "test-embedded") -> WeightSpec:
    spec = WeightSpec(
        name=name,
        description="shipped test weights",
        source=None,
        embedded="tiny.h5",
        filename=f"tiny-{sha[:8]}.h5" if sha else "tiny.h5",
        format="legacy-h5",
        sha256=sha,
        size=None,
        point_scheme="muct76",
        training_data="none",
        license="test",
    )
    weights.register_preset(spec)
    return spec


def test_embedded_preset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "tiny.h5").write_bytes(PAYLOAD)
    monkeypatch.setattr(shipped_weights, "_presets_dir", lambda: presets)
    spec = embedded_spec(PAYLOAD_SHA)
    assert weights.resolve_weights("test-embedded", cache_dir=tmp_path / "c") == (
        presets / "tiny.h5",
        spec,
    )
    assert not (tmp_path / "c").exists()  # nothing copied, nothing downloaded

    weights.register_preset(
        replace(spec, sha256="1" * 64, filename="tiny-11111111.h5"), overwrite=True
    )
    with pytest.raises(WeightsIntegrityError, match="sha256"):
        weights.download_weights("test-embedded")
    weights.register_preset(replace(spec, embedded="absent.h5"), overwrite=True)
    with pytest.raises(WeightsIntegrityError, match="missing"):
        weights.download_weights("test-embedded")


@contextlib.contextmanager
def zip_installed_preset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The package as a zip (a zipapp or zipimport install) shipping the 'test-embedded'
    preset: its file is unpacked into the cache to be read."""
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("facelandmarks/presets/tiny.h5", PAYLOAD)
    with zipfile.ZipFile(archive) as zf:
        monkeypatch.setattr(
            shipped_weights, "_presets_dir", lambda: zipfile.Path(zf, "facelandmarks/presets/")
        )
        embedded_spec(PAYLOAD_SHA)
        yield


def test_embedded_preset_inside_zip_is_extracted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with zip_installed_preset(monkeypatch, tmp_path):
        path = weights.download_weights("test-embedded", cache_dir=tmp_path / "c")
    assert path == tmp_path / "c" / f"tiny-{PAYLOAD_SHA[:8]}.h5"
    assert path.read_bytes() == PAYLOAD


def test_embedded_preset_inside_zip_with_a_file_where_the_cache_should_be(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """FACELANDMARKS_HOME naming a file: unpacking a shipped preset was reported as a disk
    problem advising to set FACELANDMARKS_HOME, the very variable at fault (as download did)."""
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("FACELANDMARKS_HOME", str(blocker))
    with (
        zip_installed_preset(monkeypatch, tmp_path),
        pytest.raises(WeightsCacheError, match="create the directory") as info,
    ):
        weights.download_weights("test-embedded")
    assert isinstance(info.value, NotADirectoryError)  # a wrong setting: the CLI's exit 2
    message = str(info.value)
    assert f"'{blocker}' is a file, not a folder. Received: FACELANDMARKS_HOME=" in message
    assert "set the FACELANDMARKS_HOME" not in message


# --------------------------------------------------------------------------------------
# Registry, specs, resolution, cache directory
# --------------------------------------------------------------------------------------


def test_registered_2019_preset() -> None:
    spec = weights.get_spec("muct-resnet50-2019")
    assert spec.source == "gdrive:1aEZX1TzmLlsHuN6vLe3neRxlp9_f6486"
    assert spec.url == "https://drive.google.com/uc?id=1aEZX1TzmLlsHuN6vLe3neRxlp9_f6486"
    assert (spec.format, spec.point_scheme) == ("legacy-h5", "muct76")
    assert spec.sha256 is None and spec.size is None
    assert "same people" in spec.training_data
    assert "unknown" in spec.license
    assert "muct-resnet50-2019" in weights.list_weights()
    (row,) = [r for r in weights.describe_weights() if r["name"] == "muct-resnet50-2019"]
    assert row["url"] == spec.url and row["filename"] == "muct-resnet50-2019.h5"
    # what the model is (backbone, input size, preprocessing) is in the file's own config
    assert not {"backbone", "input_size", "preprocessing"} & set(row)


def test_get_spec_unknown_name_lists_presets() -> None:
    with pytest.raises(ValueError, match="Received: weights='foo'") as info:
        weights.get_spec("foo")
    assert "'muct-resnet50-2019'" in str(info.value)


def test_list_weights_sorted() -> None:
    http_spec("http://127.0.0.1:1/a.h5", name="aaa")
    http_spec("http://127.0.0.1:1/z.h5", name="zzz")
    names = weights.list_weights()
    assert names == sorted(names)
    assert {"aaa", "zzz", "muct-resnet50-2019"} <= set(names)


def test_register_preset_refuses_silent_replacement() -> None:
    spec = http_spec("http://127.0.0.1:1/a.h5", name="dup")
    weights.register_preset(spec)  # identical: fine
    other = replace(spec, description="changed")
    with pytest.raises(ValueError, match="overwrite=True"):
        weights.register_preset(other)
    weights.register_preset(other, overwrite=True)
    assert weights.get_spec("dup") is other


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "h5"},
        {"format": "onnx"},
        {"source": "ftp://example.org/w.h5"},
        {"source": "gdrive:"},
        {"source": None},
        {"embedded": "x.h5"},
        {"sha256": "ABC"},
        {"size": 0},
        {"filename": "../evil.h5"},
        {"filename": "no-hash-prefix.h5"},  # a known sha256 must show in the file name
        # shipped TensorFlow Lite files: embedded presets only, plain .tflite names, real sha256
        {"embedded_tflite": (("s0.tflite", "a" * 64),)},
        {"source": None, "embedded": "w.keras", "embedded_tflite": (("../s0.tflite", "a" * 64),)},
        {"source": None, "embedded": "w.keras", "embedded_tflite": (("s0.bin", "a" * 64),)},
        {"source": None, "embedded": "w.keras", "embedded_tflite": (("s0.tflite", "nope"),)},
        {"source": None, "embedded": "w.keras", "embedded_tflite": ("s0.tflite",)},
    ],
)
def test_spec_validation(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="WeightSpec expects"):
        http_spec("http://127.0.0.1:1/a.h5", **changes)


def test_resolve_weights_variants(tmp_path: Path) -> None:
    assert weights.resolve_weights(None) == (None, None)
    own = tmp_path / "mine.h5"
    own.write_bytes(b"anything")
    assert weights.resolve_weights(str(own)) == (own, None)
    assert weights.resolve_weights(own) == (own, None)

    with pytest.raises(ValueError, match="does not exist") as info:
        weights.resolve_weights(str(tmp_path / "nope.h5"))
    assert "'muct-resnet50-2019'" in str(info.value)
    assert "Received: weights=" in str(info.value)
    with pytest.raises(ValueError, match="does not exist"):
        weights.resolve_weights("muct-resnet50-2018")
    with pytest.raises(ValueError, match="is a directory"):
        weights.resolve_weights(tmp_path)
    with pytest.raises(ValueError, match=r"'' is not a preset and is empty\. Received: weights=''"):
        weights.resolve_weights("")  # not the folder "." that Path("") names
    if Path("/dev/zero").exists():  # it exists, but is no file a model can be read from
        with pytest.raises(ValueError, match=r"'/dev/zero' is not a preset and is not a regular"):
            weights.resolve_weights("/dev/zero")
    with pytest.raises(TypeError, match="Received: weights=3"):
        weights.resolve_weights(3)  # type: ignore[arg-type]


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert weights.cache_dir() == tmp_path / "home" / ".cache" / "facelandmarks"

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert weights.cache_dir() == tmp_path / "home" / ".cache" / "facelandmarks"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_dir() == tmp_path / "xdg" / "facelandmarks"

    monkeypatch.setenv("FACELANDMARKS_HOME", "")
    assert weights.cache_dir() == tmp_path / "xdg" / "facelandmarks"
    monkeypatch.setenv("FACELANDMARKS_HOME", str(tmp_path / "flhome"))
    assert weights.cache_dir() == tmp_path / "flhome" / "weights"

    assert weights.cache_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert weights.cache_dir("~/w") == tmp_path / "home" / "w"
    assert not (tmp_path / "flhome").exists()  # resolving does not create anything


def test_env_home_is_used_by_downloads(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server.routes["/w.h5"] = serve_bytes(PAYLOAD)
    spec = http_spec(server.url("/w.h5"))
    monkeypatch.setenv("FACELANDMARKS_HOME", str(tmp_path / "flhome"))
    path = weights.download_weights(spec, verbose=0, timeout=TIMEOUT)
    assert path == tmp_path / "flhome" / "weights" / spec.filename


def test_check_weights_file_detects_every_single_byte_change(tmp_path: Path) -> None:
    spec = http_spec("http://127.0.0.1:1/a.h5")
    f = tmp_path / "w.h5"
    f.write_bytes(PAYLOAD)
    assert weights.check_weights_file(f, spec) is None
    for pos in range(0, len(PAYLOAD), 9973):
        data = bytearray(PAYLOAD)
        data[pos] ^= 0x01
        f.write_bytes(bytes(data))
        assert weights.check_weights_file(f, spec) is not None, pos
    assert weights.check_weights_file(tmp_path / "absent", spec) is not None


def test_module_does_not_import_keras() -> None:
    """weights.py itself (loaded without the package __init__) pulls in no Keras/TF/gdown."""
    import subprocess

    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('fl_weights', {weights.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['fl_weights'] = module\n"
        "spec.loader.exec_module(module)\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'gdown', 'filelock') if m in sys.modules]\n"
        "sys.exit(f'imported {heavy}' if heavy else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
