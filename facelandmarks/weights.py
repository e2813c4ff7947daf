"""Pretrained weight files: presets, cache location, download and verification.

This module turns a preset name such as ``"muct-resnet50-2019"`` into a *verified local
file path*. Building a model and loading the file into it is the job of another module.

The flow mirrors what Keras (``keras.utils.get_file``) and timm do:

1. :func:`get_spec` looks the name up in :data:`PRESETS` (a :class:`WeightSpec` per preset).
2. :func:`download_weights` looks for the file in the cache directory (see :func:`cache_dir`)
   and verifies it. A verified file is returned at once, without network access.
3. Otherwise, holding a file lock (``<file>.lock``) so that concurrent processes do not
   download the same file twice or corrupt each other's work, it downloads into a temporary
   ``<file>.part-<pid>-<random>`` in the same directory, fsyncs, verifies it and atomically
   renames it into place. Nothing half-written ever sits at the final name.

Verification (:func:`check_weights_file`) checks the size and the SHA-256 when the spec knows
them, and always the format's magic bytes (HDF5 for ``"legacy-h5"``, zip for ``"keras"``).
When a spec knows neither size nor SHA-256 (as for the 2019 weights, whose Google Drive copy
could not be measured when this was written), it instead requires a plausible size (more than
1 MB) besides the magic bytes. That catches HTML error pages and truncated transfers, but not
a different, complete file of the same format.

Every download failure raises :class:`WeightsDownloadError`, whose message says where to put a
manually downloaded copy. A cache directory that cannot be written (read-only, full disk)
raises :class:`WeightsCacheError`.

Keras and TensorFlow are not imported here (``keras.utils.Progbar`` is imported only while an
http download with ``verbose`` runs), so this module can be used from light-weight tools.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import importlib.resources
import inspect
import logging
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_HOME",
    "PRESETS",
    "WeightSpec",
    "WeightsCacheError",
    "WeightsDownloadError",
    "WeightsIntegrityError",
    "cache_dir",
    "check_weights_file",
    "describe_weights",
    "download_weights",
    "get_spec",
    "list_weights",
    "register_preset",
    "resolve_weights",
]

ENV_HOME = "FACELANDMARKS_HOME"
"""Environment variable naming the library's home; weights are cached in ``<it>/weights``."""

DEFAULT_TIMEOUT = 60.0
"""Default socket timeout, in seconds, for connecting and for each read of an http download."""

FORMATS = ("legacy-h5", "keras")
PREPROCESSINGS = ("scale_01", "backbone")

_MAGIC: dict[str, bytes] = {
    "legacy-h5": b"\x89HDF\r\n\x1a\n",
    "keras": b"PK\x03\x04",
}
_FORMAT_LABEL = {"legacy-h5": "HDF5", "keras": "zip (.keras)"}
_MIN_PLAUSIBLE_SIZE = 1_000_000  # bytes; used only when neither size nor sha256 is known
_CHUNK = 1 << 16
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_GDRIVE_PREFIX = "gdrive:"
# Errors of local file operations (raised from inside gdown) that mean "choose another
# cache directory" rather than "the download failed".
_DISK_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
)


# --------------------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------------------


class WeightsDownloadError(RuntimeError):
    """Pretrained weights could not be downloaded, or the download failed verification.

    Attributes:
        preset: Name of the preset.
        url: Human-readable URL of the source.
        path: Full path where the verified file is expected (where a manually downloaded
            copy should be saved).
        cause: Short description of what went wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        preset: str = "",
        url: str | None = None,
        path: Path | None = None,
        cause: str = "",
    ):
        super().__init__(message)
        self.preset = preset
        self.url = url
        self.path = path
        self.cause = cause


class WeightsCacheError(OSError):
    """The weights cache directory cannot be created or written (read-only, full disk, ...).

    ``errno`` is copied from the underlying ``OSError`` when there is one.

    Attributes:
        directory: The cache directory concerned.
    """

    def __init__(self, message: str, *, directory: Path | None = None, errno_: int | None = None):
        super().__init__(message)
        self.directory = directory
        if errno_ is not None:
            self.errno = errno_

    def __reduce__(self) -> tuple[Any, ...]:
        # errno is not in __dict__; keep it (and `directory`) across pickling.
        return (type(self), (self.args[0],), {**self.__dict__, "errno": self.errno})


class WeightsIntegrityError(RuntimeError):
    """A weights file shipped inside the package is missing or fails verification."""


# --------------------------------------------------------------------------------------
# Specs and the preset registry
# --------------------------------------------------------------------------------------


def _is_plain_file_name(value: Any) -> bool:
    """A non-empty file name without directories (safe to join to a cache or package dir)."""
    return (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and "/" not in value
        and "\\" not in value
    )


@dataclass(frozen=True)
class WeightSpec:
    """Description of one set of pretrained weights.

    Attributes:
        name: Preset name, e.g. ``"muct-resnet50-2019"``.
        description: One-line human description.
        source: ``"gdrive:<file id>"`` or an ``http(s)://`` URL; ``None`` for weights shipped
            inside the package (then ``embedded`` names the file).
        filename: File name in the cache directory. When ``sha256`` is known it should carry a
            short hash prefix (e.g. ``"...-1a2b3c4d.h5"``) so a new release never collides
            with a cached old one.
        format: ``"legacy-h5"`` (a Keras 2.2.4 ``save_weights`` HDF5 file) or ``"keras"``
            (a Keras 3 ``.keras`` zip archive).
        sha256: Lower-case hex SHA-256 of the file, or ``None`` when unknown.
        size: File size in bytes, or ``None`` when unknown.
        backbone: Backbone architecture, e.g. ``"resnet50"``.
        input_size: ``(height, width)`` in pixels of the model input.
        preprocessing: ``"scale_01"`` (the model expects ``x / 255``, float32 in [0, 1]) or
            ``"backbone"`` (backbone-specific preprocessing is part of the model).
        point_scheme: Landmark scheme of the output, e.g. ``"muct76"``.
        training_data: What the weights were trained on, and how it was split.
        license: License of the weights, as far as known.
        embedded: File name inside ``facelandmarks/presets/`` for weights shipped with the
            package (``source`` is then ``None``).
        embedded_tflite: For embedded presets, the TensorFlow Lite conversion of each stage
            shipped next to the weights, as ``(file name, sha256)`` pairs in stage order
            (``runtime="auto"``/``"tflite"`` then uses them instead of converting); ``()``
            when none is shipped.

    Raises:
        ValueError: If a field has an invalid value.
    """

    name: str
    description: str
    source: str | None
    filename: str
    format: str
    sha256: str | None
    size: int | None
    backbone: str
    input_size: tuple[int, int]
    preprocessing: str
    point_scheme: str
    training_data: str
    license: str
    embedded: str | None = None
    embedded_tflite: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"WeightSpec expects a non-empty `name`. Received: name={self.name!r}")
        if (self.source is None) == (self.embedded is None):
            raise ValueError(
                "WeightSpec expects exactly one of `source` (download) and `embedded` (shipped "
                f"file). Received: source={self.source!r}, embedded={self.embedded!r}"
            )
        if self.source is not None:
            if self.source.startswith(_GDRIVE_PREFIX):
                if not self.source[len(_GDRIVE_PREFIX) :].strip():
                    raise ValueError(
                        "WeightSpec expects `source='gdrive:<file id>'` with a non-empty id. "
                        f"Received: source={self.source!r}"
                    )
            elif not self.source.startswith(("https://", "http://")):
                raise ValueError(
                    "WeightSpec expects `source` to be 'gdrive:<file id>' or an http(s):// URL. "
                    f"Received: source={self.source!r}"
                )
        for field_name in ("filename", "embedded"):
            value = getattr(self, field_name)
            if value is None and field_name == "embedded":
                continue
            if not _is_plain_file_name(value):
                raise ValueError(
                    f"WeightSpec expects `{field_name}` to be a plain file name without "
                    f"directories. Received: {field_name}={value!r}"
                )
        if self.format not in FORMATS:
            raise ValueError(
                f"WeightSpec expects `format` in {FORMATS}. Received: format={self.format!r}"
            )
        if self.embedded_tflite:
            ok = self.embedded is not None and all(
                isinstance(pair, tuple)
                and len(pair) == 2
                and _is_plain_file_name(pair[0])
                and pair[0].endswith(".tflite")
                and isinstance(pair[1], str)
                and _SHA256_RE.match(pair[1]) is not None
                for pair in self.embedded_tflite
            )
            if not ok:
                raise ValueError(
                    "WeightSpec expects `embedded_tflite` (embedded presets only) as "
                    "((file name ending .tflite, sha256), ...) in stage order. "
                    f"Received: embedded_tflite={self.embedded_tflite!r}"
                )
        if self.preprocessing not in PREPROCESSINGS:
            raise ValueError(
                f"WeightSpec expects `preprocessing` in {PREPROCESSINGS}. "
                f"Received: preprocessing={self.preprocessing!r}"
            )
        if self.sha256 is not None and not (
            isinstance(self.sha256, str) and _SHA256_RE.match(self.sha256)
        ):
            raise ValueError(
                "WeightSpec expects `sha256` to be 64 lower-case hex digits or None. "
                f"Received: sha256={self.sha256!r}"
            )
        if self.size is not None and (
            isinstance(self.size, bool) or not isinstance(self.size, int) or self.size <= 0
        ):
            raise ValueError(
                "WeightSpec expects `size` to be a positive int or None. "
                f"Received: size={self.size!r}"
            )
        size_ok = (
            isinstance(self.input_size, tuple)
            and len(self.input_size) == 2
            and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in self.input_size
            )
        )
        if not size_ok:
            raise ValueError(
                "WeightSpec expects `input_size` to be a (height, width) tuple of positive ints. "
                f"Received: input_size={self.input_size!r}"
            )

    @property
    def url(self) -> str | None:
        """Human-readable URL of the source (``None`` for embedded weights).

        Google Drive sources give ``https://drive.google.com/uc?id=<id>``.
        """
        if self.source is None:
            return None
        if self.source.startswith(_GDRIVE_PREFIX):
            return f"https://drive.google.com/uc?id={self.source[len(_GDRIVE_PREFIX) :]}"
        return self.source


PRESETS: dict[str, WeightSpec] = {}
"""All known presets, by name. Add to it with :func:`register_preset`."""


def register_preset(spec: WeightSpec, *, overwrite: bool = False) -> None:
    """Adds a preset to :data:`PRESETS`.

    Registering a spec equal to the one already registered under that name is a no-op.

    Args:
        spec: The weights description; ``spec.name`` becomes the preset name.
        overwrite: Replace an existing, different preset of the same name.

    Raises:
        TypeError: If ``spec`` is not a :class:`WeightSpec`.
        ValueError: If a different preset with that name exists and ``overwrite`` is False.

    Example:
        Register your own release (fields elided here)::

            register_preset(WeightSpec(name="my-run", source="https://example.org/w.h5", ...))
    """
    if not isinstance(spec, WeightSpec):
        raise TypeError(
            f"register_preset expects a WeightSpec. Received: spec of type {type(spec).__name__}"
        )
    existing = PRESETS.get(spec.name)
    if existing is not None and existing != spec and not overwrite:
        raise ValueError(
            f"A different preset named {spec.name!r} is already registered; pass "
            f"overwrite=True to replace it. Received: spec.name={spec.name!r}"
        )
    PRESETS[spec.name] = spec


def list_weights() -> list[str]:
    """Returns the names of all registered presets, sorted.

    Returns:
        Sorted list of preset names.
    """
    return sorted(PRESETS)


def describe_weights() -> list[dict[str, Any]]:
    """Returns one dict per registered preset (all :class:`WeightSpec` fields plus ``url``).

    Returns:
        List of dicts sorted by ``name``.
    """
    rows = []
    for name in list_weights():
        spec = PRESETS[name]
        row = dataclasses.asdict(spec)
        row["url"] = spec.url
        rows.append(row)
    return rows


def get_spec(name: str) -> WeightSpec:
    """Returns the :class:`WeightSpec` of a registered preset.

    Args:
        name: Preset name, e.g. ``"muct-resnet50-2019"``.

    Returns:
        The spec.

    Raises:
        ValueError: If ``name`` is not a registered preset; the message lists the known names.
    """
    if isinstance(name, str) and name in PRESETS:
        return PRESETS[name]
    known = ", ".join(repr(n) for n in list_weights()) or "(none registered)"
    raise ValueError(
        f"Unknown pretrained weights: expected one of the preset names {known}. "
        f"Received: weights={name!r}"
    )


# --------------------------------------------------------------------------------------
# Cache directory
# --------------------------------------------------------------------------------------


def _resolve_cache_dir(directory: str | os.PathLike[str] | None) -> Path:
    if directory is not None:
        return Path(os.fspath(directory)).expanduser().absolute()
    home = os.environ.get(ENV_HOME, "")
    if home:
        return (Path(home).expanduser() / "weights").absolute()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative paths are invalid and must be ignored.
    if xdg and Path(xdg).expanduser().is_absolute():
        return Path(xdg).expanduser() / "facelandmarks"
    return Path.home() / ".cache" / "facelandmarks"


def cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Returns the directory where downloaded weights are cached.

    Precedence, first match wins:

    1. the ``cache_dir`` argument, used as is;
    2. ``$FACELANDMARKS_HOME/weights`` if the ``FACELANDMARKS_HOME`` environment variable is set
       and not empty;
    3. ``$XDG_CACHE_HOME/facelandmarks`` if ``XDG_CACHE_HOME`` is set to an absolute path;
    4. ``~/.cache/facelandmarks``.

    ``~`` is expanded and the result made absolute. The directory is not created here
    (:func:`download_weights` creates it when it needs to write).

    Args:
        cache_dir: Explicit directory, or ``None`` to use the environment / defaults.

    Returns:
        Absolute path of the cache directory.

    Example:
        >>> cache_dir("/data/weights")
        PosixPath('/data/weights')
    """
    return _resolve_cache_dir(cache_dir)


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html"))


def _read_head(path: Path, n: int = 512) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def check_weights_file(path: str | os.PathLike[str], spec: WeightSpec) -> str | None:
    """Verifies a local file against a spec.

    Checks, in order: the size (if ``spec.size`` is known), the format's magic bytes at offset 0
    (``\\x89HDF\\r\\n\\x1a\\n`` for ``"legacy-h5"``, ``PK\\x03\\x04`` for ``"keras"``), and the
    SHA-256 (if ``spec.sha256`` is known). When neither size nor SHA-256 is known, the file must
    also be larger than 1 MB, which rejects error pages and badly truncated transfers but cannot
    prove the content is the intended release.

    Args:
        path: File to check.
        spec: The expected weights.

    Returns:
        ``None`` if the file passes, else a short human-readable reason it does not.
    """
    path = Path(path)
    try:
        if not path.is_file():
            return f"{path} does not exist or is not a regular file"
        size = path.stat().st_size
        if spec.size is not None and size != spec.size:
            return f"it has {size} bytes, expected {spec.size}"
        head = _read_head(path)
        magic = _MAGIC[spec.format]
        if not head.startswith(magic):
            if _looks_like_html(head):
                return "it is a web page (HTML), not a weights file"
            return f"it is not a {_FORMAT_LABEL[spec.format]} file (wrong magic bytes)"
        if spec.sha256 is not None:
            actual = _sha256_of(path)
            if actual != spec.sha256:
                return f"its sha256 is {actual}, expected {spec.sha256}"
        elif spec.size is None and size <= _MIN_PLAUSIBLE_SIZE:
            return (
                f"it has only {size} bytes, implausibly small for these weights "
                f"(expected more than {_MIN_PLAUSIBLE_SIZE})"
            )
    except OSError as exc:
        return f"it cannot be read ({exc})"
    return None


# --------------------------------------------------------------------------------------
# Errors with instructions
# --------------------------------------------------------------------------------------


def _download_error(spec: WeightSpec, final: Path, cause: str) -> WeightsDownloadError:
    url = spec.url
    message = (
        f"Could not download the pretrained weights {spec.name!r} from {url}: {cause}.\n"
        f"To install them by hand, download {url} (e.g. in a browser) and save the file as\n"
        f"    {final}\n"
        f"It is verified on the next use. To use another directory, set the {ENV_HOME} "
        f"environment variable (files go to $FACELANDMARKS_HOME/weights) or pass cache_dir=."
    )
    return WeightsDownloadError(message, preset=spec.name, url=url, path=final, cause=cause)


def _cache_error(directory: Path, exc: OSError, what: str) -> WeightsCacheError:
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        reason = "the disk is full (or over quota)"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "the directory is not writable (read-only or no permission)"
    else:
        reason = exc.strerror or str(exc)
    message = (
        f"Cannot {what} in the weights cache directory {directory}: {reason} ({exc}).\n"
        f"Choose another directory with cache_dir=... or the {ENV_HOME} environment variable "
        f"(weights then go to $FACELANDMARKS_HOME/weights)."
    )
    return WeightsCacheError(message, directory=directory, errno_=code)


# --------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------


def _open_part(path: Path) -> IO[bytes]:
    """Creates the temporary file exclusively (a seam the tests use to simulate disk errors)."""
    return open(path, "xb")


class _Progress:
    """A Keras progress bar when Keras can be imported, else INFO log lines every 10%."""

    def __init__(self, total: int | None, label: str, verbose: int):
        self._bar: Any = None
        self._label = label
        self._total = total
        self._next_log = 0.1
        self._last_log_time = time.monotonic()
        if not verbose:
            self._enabled = False
            return
        self._enabled = True
        try:
            from keras.utils import Progbar  # lazy: Keras is heavy and optional here

            self._bar = Progbar(total, unit_name="B")
        except ImportError:
            self._bar = None

    def update(self, done: int) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(done)
            return
        if self._total:
            fraction = done / self._total
            if fraction >= self._next_log or done >= self._total:
                logger.info(
                    "%s: %d / %d bytes (%.0f%%)", self._label, done, self._total, 100 * fraction
                )
                while self._next_log <= fraction:
                    self._next_log += 0.1
        elif time.monotonic() - self._last_log_time > 5:
            self._last_log_time = time.monotonic()
            logger.info("%s: %d bytes", self._label, done)


def _fetch_http(spec: WeightSpec, tmp: Path, final: Path, verbose: int, timeout: float) -> None:
    assert spec.source is not None  # guaranteed by the caller
    request = urllib.request.Request(
        spec.source, headers={"User-Agent": "facelandmarks-weights/1 (python urllib)"}
    )
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # scheme checked by WeightSpec
    except urllib.error.HTTPError as exc:
        raise _download_error(spec, final, f"HTTP error {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _download_error(spec, final, f"cannot reach the server ({exc.reason})") from exc
    except TimeoutError as exc:
        raise _download_error(spec, final, f"no answer within {timeout} s") from exc
    except OSError as exc:
        raise _download_error(spec, final, f"network error ({exc})") from exc
    with response:
        length_header = response.headers.get("Content-Length")
        expected: int | None = None
        if length_header is not None:
            with contextlib.suppress(ValueError):
                expected = int(length_header)
        try:
            out = _open_part(tmp)
        except OSError as exc:
            raise _cache_error(final.parent, exc, "create a temporary file") from exc
        with out:
            progress = _Progress(expected, f"Downloading {spec.name}", verbose)
            received = 0
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except TimeoutError as exc:
                    raise _download_error(
                        spec, final, f"the transfer stalled for {timeout} s after {received} bytes"
                    ) from exc
                except Exception as exc:  # http.client.IncompleteRead, ConnectionResetError, ...
                    raise _download_error(
                        spec,
                        final,
                        f"the connection broke after {received} bytes "
                        f"({type(exc).__name__}: {exc})",
                    ) from exc
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _cache_error(final.parent, exc, "write the downloaded file") from exc
                received += len(chunk)
                progress.update(received)
            if expected is not None and received != expected:
                raise _download_error(
                    spec,
                    final,
                    f"the connection was closed after {received} of {expected} bytes "
                    "(incomplete transfer)",
                )
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise _cache_error(final.parent, exc, "write the downloaded file") from exc


def _fetch_gdrive(spec: WeightSpec, tmp: Path, final: Path, verbose: int, timeout: float) -> None:
    assert spec.source is not None  # guaranteed by the caller
    file_id = spec.source[len(_GDRIVE_PREFIX) :]
    try:
        import gdown
    except ImportError as exc:  # pragma: no cover - gdown is a dependency
        raise _download_error(spec, final, "the 'gdown' package is not installed") from exc
    kwargs: dict[str, Any] = {"id": file_id, "output": str(tmp), "quiet": not verbose}
    with contextlib.suppress(TypeError, ValueError):
        if "timeout" in inspect.signature(gdown.download).parameters:
            kwargs["timeout"] = timeout
    try:
        result = gdown.download(**kwargs)
    except OSError as exc:
        if exc.errno in _DISK_ERRNOS:
            raise _cache_error(final.parent, exc, "write the downloaded file") from exc
        raise _download_error(spec, final, f"gdown failed ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # gdown.exceptions.FileURLRetrievalError, requests errors, ...
        text = str(exc).strip().splitlines()
        short = text[0] if text else ""
        raise _download_error(spec, final, f"gdown failed ({type(exc).__name__}: {short})") from exc
    if result is None or not tmp.is_file():
        raise _download_error(spec, final, "gdown did not produce a file")
    if tmp.stat().st_size == 0:
        raise _download_error(spec, final, "Google Drive returned an empty file")
    try:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    except OSError as exc:
        raise _cache_error(final.parent, exc, "write the downloaded file") from exc


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _part_files(final: Path, prefix: str | None = None) -> Iterator[Path]:
    stem = prefix if prefix is not None else f"{final.name}.part-"
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            if entry.name.startswith(stem):
                yield entry


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fetch(spec: WeightSpec, final: Path, verbose: int, timeout: float) -> None:
    """Downloads into a temp file next to ``final``, verifies, and renames into place."""
    tmp = final.with_name(f"{final.name}.part-{os.getpid()}-{secrets.token_hex(4)}")
    fetcher: Callable[[WeightSpec, Path, Path, int, float], None]
    is_drive = spec.source is not None and spec.source.startswith(_GDRIVE_PREFIX)
    fetcher = _fetch_gdrive if is_drive else _fetch_http
    logger.info("Downloading pretrained weights %r from %s to %s", spec.name, spec.url, final)
    try:
        fetcher(spec, tmp, final, verbose, timeout)
        try:
            head = _read_head(tmp)
        except OSError as exc:
            raise _download_error(
                spec, final, f"the downloaded file cannot be read ({exc})"
            ) from exc
        if _looks_like_html(head):
            if is_drive:
                cause = (
                    "Google Drive returned a web page, probably a quota or permission page "
                    "(e.g. 'too many users have viewed or downloaded this file recently'), "
                    "instead of the file; try again later, or download it in a browser"
                )
            else:
                cause = "the server returned a web page (HTML) instead of the weights file"
            raise _download_error(spec, final, cause)
        problem = check_weights_file(tmp, spec)
        if problem is not None:
            raise _download_error(
                spec, final, f"the downloaded file failed verification: {problem}"
            )
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise _cache_error(final.parent, exc, "move the downloaded file into place") from exc
        _fsync_dir(final.parent)
    except BaseException:
        _remove_quietly(tmp)
        # gdown writes its own "<output><random>.part" next to the output and may leave it.
        for leftover in _part_files(final, prefix=tmp.name):
            _remove_quietly(leftover)
        raise
    logger.info("Saved verified pretrained weights %r to %s", spec.name, final)


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


def _as_spec(name_or_spec: str | WeightSpec) -> WeightSpec:
    if isinstance(name_or_spec, WeightSpec):
        return name_or_spec
    return get_spec(name_or_spec)


def _presets_dir() -> Any:
    """Returns the Traversable of ``facelandmarks/presets`` (replaced in tests)."""
    return importlib.resources.files("facelandmarks").joinpath("presets")


def _shipped_file(spec: WeightSpec, name: str, what: str) -> Any:
    """The Traversable of ``facelandmarks/presets/<name>``; an integrity error if it is missing."""
    resource = _presets_dir().joinpath(name)
    if not resource.is_file():
        raise WeightsIntegrityError(
            f"The {what} file {name!r} of preset {spec.name!r} is missing from the installed "
            "package (facelandmarks/presets/); reinstall facelandmarks."
        )
    return resource


def _embedded_path(
    spec: WeightSpec, directory: str | os.PathLike[str] | None, timeout: float
) -> Path:
    assert spec.embedded is not None  # guaranteed by the caller
    resource = _shipped_file(spec, spec.embedded, "weights")
    if isinstance(resource, os.PathLike):
        path = Path(os.fspath(resource))
    else:
        # Installed as a zip (zipimport): extract once into the cache directory, atomically.
        path = _resolve_cache_dir(directory) / spec.filename
        if check_weights_file(path, spec) is not None:
            _write_atomically(path, resource.read_bytes())
    problem = check_weights_file(path, spec)
    if problem is not None:
        raise WeightsIntegrityError(
            f"The weights file {path} shipped for preset {spec.name!r} fails verification: "
            f"{problem}. Reinstall facelandmarks."
        )
    return path


def embedded_tflite_bytes(spec: WeightSpec, stage: int) -> bytes | None:
    """The shipped TensorFlow Lite flatbuffer of ``stage`` of an embedded preset, verified.

    Returns ``None`` when the preset ships none for that stage.

    Raises:
        WeightsIntegrityError: the file is missing from the installed package or its SHA-256
            differs from the registry's.
    """
    if not 0 <= stage < len(spec.embedded_tflite):
        return None
    name, sha = spec.embedded_tflite[stage]
    data = _shipped_file(spec, name, "TensorFlow Lite").read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != sha:
        raise WeightsIntegrityError(
            f"The TensorFlow Lite file {name!r} shipped for preset {spec.name!r} fails "
            f"verification: sha256 {got}, expected {sha}. Reinstall facelandmarks."
        )
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.part-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _open_part(tmp) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise _cache_error(path.parent, exc, "write") from exc


def download_weights(
    name_or_spec: str | WeightSpec,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Returns the path of a verified local copy of pretrained weights, downloading if needed.

    A cached file that passes :func:`check_weights_file` is returned without network access.
    A cached file that fails it is reported with a warning and downloaded again. Downloads go
    to ``<file>.part-<pid>-<random>`` in the cache directory, are fsynced and verified, then
    atomically renamed to the final name; a failed download leaves nothing behind (besides
    the ``<file>.lock`` lock file). The check-and-download runs under a file lock, so a
    second process asking for the same weights waits and then uses the first one's file.

    Google Drive sources are fetched with ``gdown``; http(s) sources with ``urllib``.

    Args:
        name_or_spec: Preset name (see :func:`list_weights`) or a :class:`WeightSpec`.
        cache_dir: Cache directory; see :func:`cache_dir` for the default.
        force: Download again even if a verified copy is cached.
        verbose: 0 for silence; 1 for a progress bar (``keras.utils.Progbar`` for http
            sources if Keras is importable, else INFO log lines; gdown's own bar for Drive).
        timeout: Socket timeout in seconds for http(s) connections and reads (and for
            gdown, where it supports one).

    Returns:
        Absolute path of the verified file (inside the package for embedded presets).

    Raises:
        ValueError: If ``name_or_spec`` is not a known preset name.
        WeightsDownloadError: If the download fails in any way (offline, unreachable host, HTTP
            error, web page instead of the file, interrupted transfer, failed verification).
            The message says where to save a manually downloaded copy.
        WeightsCacheError: If the cache directory cannot be created or written.
        WeightsIntegrityError: If an embedded (shipped) weights file is missing or corrupt.

    Example:
        Needs network access the first time (about 94 MB from Google Drive)::

            path = download_weights("muct-resnet50-2019")
            path.name  # 'muct-resnet50-2019.h5'
    """
    spec = _as_spec(name_or_spec)
    if spec.embedded is not None:
        return _embedded_path(spec, cache_dir, timeout)
    directory = _resolve_cache_dir(cache_dir)
    final = directory / spec.filename

    # Fast path without the lock: also works in a read-only, pre-populated cache.
    if not force and final.exists() and check_weights_file(final, spec) is None:
        logger.debug("Using cached weights %s", final)
        return final

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cache_error(directory, exc, "create the directory") from exc

    from filelock import FileLock, Timeout  # lazy: only needed when writing

    lock = FileLock(str(final) + ".lock")
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            logger.info("Waiting for another process that is downloading %s", final)
            lock.acquire()
    except OSError as exc:
        raise _cache_error(directory, exc, "create the lock file") from exc
    try:
        if final.exists():
            problem = check_weights_file(final, spec)
            if problem is None and not force:
                logger.debug("Using weights %s (downloaded by another process)", final)
                return final
            if problem is not None:
                logger.warning(
                    "Cached weights %s for %r are invalid (%s); downloading them again.",
                    final,
                    spec.name,
                    problem,
                )
        # Temp files of killed earlier runs: nobody else writes them while we hold the lock.
        for stale in _part_files(final):
            logger.debug("Removing stale partial download %s", stale)
            _remove_quietly(stale)
        _fetch(spec, final, verbose, timeout)
        return final
    finally:
        lock.release()


def resolve_weights(
    weights: str | os.PathLike[str] | WeightSpec | None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    verbose: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[Path | None, WeightSpec | None]:
    """Turns a user's ``weights=`` argument into a local file path.

    Args:
        weights: ``None`` (no pretrained weights); a preset name (downloaded and verified,
            see :func:`download_weights`); a :class:`WeightSpec`; or the path of an existing
            weights file (``str`` or ``os.PathLike``; ``~`` is expanded; not verified). A
            string that is a preset name is treated as the preset.
        cache_dir: Cache directory for presets; see :func:`cache_dir`.
        verbose: Progress display for downloads (see :func:`download_weights`).
        timeout: Socket timeout in seconds for downloads.

    Returns:
        ``(None, None)`` for ``None``; ``(path, None)`` for a file path; ``(path, spec)``
        for a preset.

    Raises:
        ValueError: If ``weights`` is neither a preset name nor an existing file; the message
            lists the presets.
        TypeError: If ``weights`` has an unsupported type.
        WeightsDownloadError, WeightsCacheError, WeightsIntegrityError: As
            :func:`download_weights`.

    Example:
        >>> resolve_weights(None)
        (None, None)
        >>> path, spec = resolve_weights("muct-resnet50-2019")  # doctest: +SKIP
    """
    if weights is None:
        return None, None
    if isinstance(weights, WeightSpec):
        return download_weights(
            weights, cache_dir=cache_dir, verbose=verbose, timeout=timeout
        ), weights
    if isinstance(weights, str) and weights in PRESETS:
        spec = PRESETS[weights]
        return download_weights(spec, cache_dir=cache_dir, verbose=verbose, timeout=timeout), spec
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` expects None, a preset name, a WeightSpec or the path of a weights "
            f"file. Received: weights={weights!r} of type {type(weights).__name__}"
        )
    path = Path(os.fspath(weights)).expanduser()
    if path.is_file():
        return path, None
    known = ", ".join(repr(n) for n in list_weights()) or "(none registered)"
    state = "is a directory, not a file" if path.is_dir() else "does not exist"
    raise ValueError(
        f"`weights` expects None, one of the preset names {known}, or the path of an existing "
        f"weights file; {str(path)!r} is not a preset and {state}. Received: weights={weights!r}"
    )


# --------------------------------------------------------------------------------------
# Registered presets
# --------------------------------------------------------------------------------------

register_preset(
    WeightSpec(
        name="muct-resnet50-2019",
        description=(
            "ResNet50 landmark regressor of the original 2019 project (Keras 2.2.4 weights), "
            "76 MUCT points from a 320x240 (height x width) RGB input scaled to [0, 1]."
        ),
        source="gdrive:1aEZX1TzmLlsHuN6vLe3neRxlp9_f6486",
        # sha256 unknown, so no hash in the name; a future verified release gets a new name.
        filename="muct-resnet50-2019.h5",
        format="legacy-h5",
        sha256=None,  # Drive was unreachable when this was written; about 94 MB
        size=None,
        backbone="resnet50",
        input_size=(320, 240),
        preprocessing="scale_01",
        point_scheme="muct76",
        training_data=(
            "MUCT, random 70/30 split by image: the same people appear in train and test, "
            "so its test scores are optimistic"
        ),
        license=(
            "unknown: published by the original project's author without a license; "
            "check before redistributing"
        ),
    )
)


register_preset(
    WeightSpec(
        name="muct-mnv3s-2stage",
        description=(
            "Two-stage MobileNetV3Small (GroupNorm, grayscale input) trained from scratch on "
            "MUCT: a 128x96 whole-frame pass, then a 128x128 crop around its points; 76 MUCT "
            "points. Held-out-subject NME 0.0325 (docs/model-card.md)."
        ),
        source=None,
        embedded="muct-mnv3s-2stage.keras",
        # tools/bundle_tflite.py: the same conversion runtime="tflite" makes, shipped so that
        # the default runtime="auto" runs TensorFlow Lite with no conversion step.
        embedded_tflite=(
            (
                "muct-mnv3s-2stage.stage0.tflite",
                "afa8891a86908745ba7036ac2331b40dbdfad6ef81b869ff6749bea23ed3f910",
            ),
            (
                "muct-mnv3s-2stage.stage1.tflite",
                "fe40ed25ce550ea3d9c9f82e15fa8eb2a7159b57619fda807e77101d9aed947f",
            ),
        ),
        # Used only when the package is installed as a zip and the file must be extracted.
        filename="muct-mnv3s-2stage-0547a1fe.keras",
        format="keras",
        sha256="0547a1fe419c25fffce68621a2389b336649a1383568e9b5c423d72d09a677a5",
        size=9195854,
        backbone="mobilenetv3small",
        input_size=(128, 96),
        preprocessing="backbone",
        point_scheme="muct76",
        training_data=(
            "MUCT development copy (3,005 images, 221 subjects), split by subject with seed 0: "
            "2,080 images trained on, 925 images of 68 other subjects held out for the "
            "reported scores; configs/muct-mnv3s-2stage.json"
        ),
        license=(
            "MIT, like the code; trained on the MUCT database (Milborrow, Morkel and "
            "Nicolls, 2010): check its terms (www.milbo.org/muct) for your use"
        ),
    )
)


DEFAULT_PRESET: str | None = "muct-mnv3s-2stage"
"""The preset ``LandmarkDetector()`` loads when no ``weights`` are given (shipped in the
package, so no network is needed)."""


def default_preset_name() -> str:
    """Name of the default preset.

    Raises:
        ValueError: if this installation ships no default model.
    """
    if DEFAULT_PRESET is None or DEFAULT_PRESET not in PRESETS:
        raise ValueError(
            "This version of facelandmarks ships no default model. Pass weights=None to build "
            f"an untrained model, a file path, or one of the presets {list_weights()}."
        )
    return DEFAULT_PRESET
