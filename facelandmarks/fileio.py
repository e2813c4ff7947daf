"""Atomic writes and file hashes: a reader never sees a half-written file.

Every file the library writes for a user (saved detectors, exported directories, downloaded or
extracted weights, cached TensorFlow Lite conversions, annotated pictures) goes through
:func:`atomic_path`, so a failure or a kill leaves the old file (or nothing), never a truncated
one. Pure standard library.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "remove_leftovers",
    "sha256_of",
]

_NO_ROOM = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)  # name no file


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Lower-case hex SHA-256 of a file's content, read in 1 MiB blocks.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, directory: bool = False, suffix: str = ""
) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed onto ``path`` on success.

    The parent directory is created if needed. The temporary file (or, with ``directory=True``,
    directory) is ``.<name>.part-<random><suffix>`` next to ``path``, so the rename never
    crosses file systems. When the ``with`` block ends without an exception the file is
    fsynced, given the umask's mode and moved onto ``path`` (replacing a file; a directory
    ``path`` must not exist or be empty); otherwise it is removed and the exception propagates
    (an ``OSError`` naming the temporary file, or none as a full disk's, names ``path`` instead).
    A file where the parent folder should be raises ``NotADirectoryError`` naming it.

    Args:
        path: the destination.
        directory: yield an (empty, existing) temporary directory instead of a file path.
        suffix: ending of the temporary name, for writers that insist on one (``".keras"``).

    Example:
        >>> with atomic_path("out.png") as tmp:  # doctest: +SKIP
        ...     picture.save(tmp, format="PNG")
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # os's words, "File exists: 'a'", would not say that is the problem
        raise NotADirectoryError(f"{str(path.parent)!r} is a file, not a folder") from None
    prefix, tmp = f".{path.name}.part-", None
    try:
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=path.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
            os.close(fd)
            tmp = Path(name)
        yield tmp
        if not directory:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp/mkdtemp made it 0600/0700; give it open/mkdir's mode
        os.umask(umask)
        os.chmod(tmp, (0o777 if directory else 0o666) & ~umask)
        os.replace(tmp, path)
    except BaseException as err:
        if directory and tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            with contextlib.suppress(OSError):
                tmp.unlink()
        # an error naming the hidden temporary file, or no file (a full disk), names path instead
        if (
            isinstance(err, OSError)
            and err.errno
            and (prefix in str(err.filename) if err.filename else err.errno in _NO_ROOM)
        ):
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


def remove_leftovers(directory: str | os.PathLike[str]) -> None:
    """Delete the temporary files and folders that processes killed inside :func:`atomic_path`
    left in ``directory`` (nothing else). Only for a folder no other process is writing to."""
    for stale in Path(directory).glob(".*.part-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns ``path``.

    Raises:
        OSError: the directory cannot be created or written (nothing is left behind).
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as UTF-8 JSON (plus a final newline) to ``path`` atomically.

    Raises:
        OSError: the directory cannot be created or written (nothing is left behind).
        TypeError: ``obj`` is not JSON-serialisable (nothing is written).
    """
    text = json.dumps(obj, indent=indent) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))
