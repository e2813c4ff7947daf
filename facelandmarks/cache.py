"""The weights cache: where downloaded files live, how they are verified and fetched.

:mod:`facelandmarks.weights` (the preset registry) calls this module; users call the functions
re-exported there. Downloads use ``gdown`` (Google Drive and plain http(s) alike: confirmation
pages, incomplete transfers, timeouts) into ``<file>.part-<pid>-<random>`` next to the final
file, which is verified and renamed into place; a ``filelock`` lock makes concurrent processes
fetch a file once (gdown's own ``cached_download`` locks only its final rename, in
``~/.cache/gdown``, and returns an existing file unchecked when there is no hash, so it is not
used). Importing this module imports neither Keras nor gdown.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facelandmarks import saving
from facelandmarks.fileio import atomic_write_bytes, sha256_of

if TYPE_CHECKING:  # pragma: no cover
    from facelandmarks.weights import WeightSpec

logger = logging.getLogger(__name__)

ENV_HOME = "FACELANDMARKS_HOME"
"""Environment variable naming the library's home; weights are cached in ``<it>/weights``."""

DEFAULT_TIMEOUT = 60.0
"""Seconds a download may wait for the server (to connect, and between bytes)."""

# Errors of local file operations that mean "choose another cache directory", in words.
_DISK_REASONS = dict.fromkeys(
    (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)), "the disk is full (or over quota)"
) | dict.fromkeys(
    (errno.EACCES, errno.EPERM, errno.EROFS),
    "the directory is not writable (read-only or no permission)",
)
_ELSEWHERE = (
    f"To keep weights in another directory, set the {ENV_HOME} environment variable (weights "
    "then go to $FACELANDMARKS_HOME/weights), or pass it as cache_dir=... in Python or "
    "--cache-dir DIR to `facelandmarks download`."
)


class WeightsDownloadError(RuntimeError):
    """Pretrained weights could not be downloaded, or the download failed verification.

    Attributes:
        preset: name of the preset.
        url: human-readable URL of the source.
        path: where the verified file is expected (where to save a copy fetched by hand).
        cause: short description of what went wrong.
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
        self.preset, self.url, self.path, self.cause = preset, url, path, cause


class WeightsCacheError(OSError):
    """The weights cache directory cannot be created or written (read-only, full disk, ...).

    Attributes:
        directory: the cache directory concerned; ``errno`` is the underlying error's.
    """

    def __init__(self, message: str, *, directory: Path | None = None, errno_: int | None = None):
        super().__init__(message)
        self.directory = directory
        if errno_ is not None:
            self.errno = errno_

    def __reduce__(self) -> tuple[Any, ...]:
        # errno is not in __dict__; keep it (and `directory`) across pickling.
        return (type(self), (self.args[0],), {**self.__dict__, "errno": self.errno})


class _CacheNotAFolderError(WeightsCacheError, NotADirectoryError):
    """A file where the cache directory should be: a wrong setting (the command line's exit 2)."""


def cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The directory where downloaded weights are cached (not created here).

    Precedence, first match wins: the ``cache_dir`` argument; ``$FACELANDMARKS_HOME/weights``
    if that variable is set and not empty; ``$XDG_CACHE_HOME/facelandmarks`` if that is an
    absolute path; ``~/.cache/facelandmarks``. ``~`` is expanded and the result made absolute.

    Example:
        >>> cache_dir("/data/weights")
        PosixPath('/data/weights')
    """
    return _chosen(cache_dir)[0]


def _chosen(cache_dir: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """:func:`cache_dir`'s answer, and the setting that chose it (for messages)."""
    if cache_dir is not None:
        chosen = os.fspath(cache_dir)
        return Path(chosen).expanduser().absolute(), f"cache_dir (--cache-dir) {chosen!r}"
    home = os.environ.get(ENV_HOME, "")
    if home:
        return (Path(home).expanduser() / "weights").absolute(), f"{ENV_HOME}={home!r}"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative paths are invalid and must be ignored.
    if xdg and Path(xdg).expanduser().is_absolute():
        return Path(xdg).expanduser() / "facelandmarks", f"XDG_CACHE_HOME={xdg!r}"
    return Path.home() / ".cache" / "facelandmarks", f"the default (no {ENV_HOME} is set)"


def check_weights_file(path: str | os.PathLike[str], spec: WeightSpec) -> str | None:
    """Verify a local file against a spec.

    Checks the format's magic bytes (naming a web page as such), the size when ``spec.size``
    is known, then the SHA-256 when ``spec.sha256`` is known, else the content as far as the
    format allows (:func:`facelandmarks.saving.check_file`).

    Returns:
        ``None`` if the file passes, else a short human-readable reason it does not.
    """
    path = Path(path)
    try:
        if not path.is_file():
            return f"{path} does not exist or is not a regular file"
        problem = saving.check_magic(path, spec.format)  # first: says "web page" when it is
        size = path.stat().st_size
        if problem is None and spec.size is not None and size != spec.size:
            problem = f"it has {size} bytes, expected {spec.size}"
        if problem is None and spec.sha256 is None:
            problem = saving.check_file(path, spec.format)
        elif problem is None and (actual := sha256_of(path)) != spec.sha256:
            problem = f"its sha256 is {actual}, expected {spec.sha256}"
        return problem
    except OSError as exc:
        return f"it cannot be read ({exc})"


def _download_error(
    spec: WeightSpec, final: Path, cause: str, note: str = ""
) -> WeightsDownloadError:
    url = spec.url
    message = (
        f"Could not download the pretrained weights {spec.name!r} from {url}: {cause}.\n{note}"
        f"To install them by hand, download {url} (e.g. in a browser) and save the file as\n"
        f"    {final}\n"
        f"It is verified when next used. {_ELSEWHERE}"
    )
    return WeightsDownloadError(message, preset=spec.name, url=url, path=final, cause=cause)


def _cache_error(directory: Path, exc: OSError, what: str) -> WeightsCacheError:
    reason = _DISK_REASONS.get(exc.errno) or exc.strerror or str(exc)
    message = (
        f"Cannot {what} in the weights cache directory {directory}: {reason} ({exc}).\n{_ELSEWHERE}"
    )
    return WeightsCacheError(message, directory=directory, errno_=exc.errno)


def _why(exc: Exception, received: int, timeout: float) -> str:
    """What a gdown/requests exception means, in words (by class name: requests is gdown's
    dependency, not ours)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    response = getattr(exc, "response", None)
    if "HTTPError" in kinds and response is not None:
        return f"HTTP error {response.status_code} {response.reason}"
    if "RequestException" in kinds and "timed out" in str(exc):
        return f"the server sent nothing for {timeout} s after {received} bytes (stalled)"
    if "ConnectionError" in kinds:
        if received:
            return f"the connection broke after {received} bytes ({text})"
        return f"cannot reach the server ({text})"
    if "incomplete" in text.lower():
        return f"incomplete transfer ({text})"
    if type(exc).__name__ == "FileURLRetrievalError":
        return f"Google Drive did not hand out the file (gdown {type(exc).__name__}: {text})"
    return f"{type(exc).__name__}: {text}"


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _fetch(spec: WeightSpec, final: Path, verbose: int, timeout: float, note: str) -> None:
    """Download with gdown into a temp file next to ``final``, verify, rename into place."""
    import gdown

    tmp = final.with_name(f"{final.name}.part-{os.getpid()}-{secrets.token_hex(4)}")
    received = [0]
    bar: list[Any] = []

    def progress(done: int, total: int | None) -> None:
        received[0] = done
        if verbose:
            if not bar:
                from keras.utils import Progbar  # the Keras way; imported only to show it

                bar.append(Progbar(total, unit_name="B"))
            bar[0].update(done)

    logger.info("Downloading pretrained weights %r from %s to %s", spec.name, spec.url, final)
    try:
        try:
            # quiet: this library never prints (progress goes to the Keras bar)
            gdown.download(
                spec.url,
                output=str(tmp),
                quiet=True,
                use_cookies=False,
                timeout=timeout,
                progress=progress,
            )
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno in _DISK_REASONS:
                raise _cache_error(final.parent, exc, "write the downloaded file") from exc
            raise _download_error(spec, final, _why(exc, received[0], timeout), note) from exc
        problem = check_weights_file(tmp, spec)
        if problem is not None:
            if "web page" in problem and "drive.google.com" in (spec.url or ""):
                problem += (
                    ": Google Drive sent a page, probably a quota or permission page ('too "
                    "many users have viewed or downloaded this file recently'); try again "
                    "later, or download it in a browser"
                )
            cause = f"the downloaded file failed verification: {problem}"
            raise _download_error(spec, final, cause, note)
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise _cache_error(final.parent, exc, "move the downloaded file into place") from exc
    finally:  # the temp file unless renamed, and gdown's own .part of it
        for leftover in final.parent.glob(f"{glob.escape(tmp.name)}*"):
            _remove(leftover)
    logger.info("Saved verified pretrained weights %r to %s", spec.name, final)


def _make_dir(directory: Path, chosen_by: str) -> None:
    """Create the cache ``directory`` (chosen by the setting ``chosen_by``) or raise
    :class:`WeightsCacheError`, a :class:`NotADirectoryError` too where a file blocks it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a wrong setting, not a disk problem
        file = next(p for p in (directory, *directory.parents) if os.path.lexists(p))
        message = f"{str(file)!r} is a file, not a folder. Received: {chosen_by}"
        raise _CacheNotAFolderError(
            f"Cannot create the directory {directory} for the weights cache: {message}",
            directory=directory,
            errno_=errno.ENOTDIR,
        ) from exc
    except OSError as exc:
        raise _cache_error(directory, exc, "create the directory") from exc


def store(cache_dir: str | os.PathLike[str] | None, filename: str, data: bytes) -> Path:
    """Write ``data`` atomically as ``filename`` in the cache (:func:`cache_dir`); its path.

    Raises:
        WeightsCacheError: the directory cannot be created or written.
    """
    directory, chosen_by = _chosen(cache_dir)
    _make_dir(directory, chosen_by)
    try:
        return atomic_write_bytes(directory / filename, data)
    except OSError as exc:
        raise _cache_error(directory, exc, "write") from exc


def download(
    spec: WeightSpec,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """The verified cached copy of a downloadable ``spec``, downloaded first if needed, as
    :func:`facelandmarks.weights.download_weights` describes; the lock is ``<file>.lock``."""
    directory, chosen_by = _chosen(cache_dir)
    final = directory / spec.filename
    cached = check_weights_file(final, spec)
    if not force and cached is None:  # also in a read-only cache
        logger.debug("Using cached weights %s", final)
        return final
    why = ""  # for the cache's errors: why it must be written at all
    if cached and final.exists():
        why = f" (to replace the corrupt cached file {final}: {cached})"
    _make_dir(directory, chosen_by)

    from filelock import FileLock, Timeout

    lock = FileLock(str(final.with_name(final.name + ".lock")))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            logger.info("Waiting for another process that is downloading %s", final)
            lock.acquire()
    except OSError as exc:
        raise _cache_error(directory, exc, "create the lock file" + why) from exc
    try:
        note = ""
        problem = check_weights_file(final, spec) if final.exists() else None
        if final.exists() and problem is None and not force:
            return final  # another process downloaded it while we waited
        if problem is not None:
            logger.warning(
                "The cached file %s of the weights %r is corrupt (%s); it was removed and is "
                "downloaded again.",
                final,
                spec.name,
                problem,
            )
            note = f"The cached file {final} was corrupt ({problem}) and has been removed.\n"
            _remove(final)
        for stale in final.parent.glob(f"{glob.escape(final.name)}.part-*"):  # killed runs
            _remove(stale)
        _fetch(spec, final, verbose, timeout, note)
        return final
    finally:  # the lock file stays: a process waiting on it must share it with later ones
        lock.release()
