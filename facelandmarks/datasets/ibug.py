"""Reader for iBUG ``.pts`` landmark files in the 300-W folder layout.

This is the only module that knows the ``.pts`` format. Every ``NAME.pts`` under ``root`` (at
any depth: ``helen/trainset``, ``afw``, ``lfpw/testset``, ``ibug``, ...) belongs to the image
``NAME.jpg`` (or ``.jpeg``, ``.png``, ``.bmp``, any case) in the same folder. A file reads::

    version: 1
    n_points:  68
    {
    171.44 201.52        <- K lines "x y"
    ...
    }

Facts encoded here:

* Coordinates are 1-based: the first pixel's centre is ``(1, 1)``. They are returned 0-based
  (``x - 1, y - 1``), the library's convention (pixel centres at integers from 0), in the
  image's stored pixel frame.
* Every point is annotated (300-W has no missing values); points the annotators could not see
  are their best guess.
* HELEN and AFW names are ``<photo id>_<face>``: several faces cut from one photo share the
  photo id, which becomes the subject so they stay on one side of a split. LFPW names
  (``image_0001``) are the photo id themselves; 300-W's ``ibug`` set is ``image_003_1``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np

from facelandmarks._image_files import _file_header
from facelandmarks.datasets.base import LandmarkDataset, _check_reader_args, _outside_image
from facelandmarks.schemes import PointScheme, get_scheme

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
"""Image file types looked for next to a ``.pts`` file (any case; exactly one must exist)."""

_FACE_SUFFIX_RE = re.compile(r"^(.*\d.*)_(\d{1,2})$")


class PtsFormatError(ValueError):
    """A ``.pts`` file or its image does not have the expected content."""


def photo_id(stem: str) -> str:
    """The photo a 300-W face file was cut from: ``"100032540_1"`` -> ``"100032540"``.

    A trailing ``_<1 or 2 digits>`` is a face number when what precedes it holds a digit
    (HELEN, AFW, ``image_003_1`` of 300-W's ibug set); otherwise (LFPW's ``image_0001``) the
    stem is the photo id.
    """
    m = _FACE_SUFFIX_RE.match(stem)
    return m.group(1) if m else stem


def read_pts(path: str | os.PathLike, num_points: int | None = None) -> np.ndarray:
    """Read one ``.pts`` file.

    Args:
        path: the file.
        num_points: if given, the ``n_points`` the file must declare.

    Returns:
        float64 ``(K, 2)``: ``(x, y)`` in pixels, 0-based (the file's values minus 1), origin
        top-left, pixel centres at integers.

    Raises:
        PtsFormatError: malformed file (the message names the file and line), or ``n_points``
            other than ``num_points``.
        FileNotFoundError: no such file.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PtsFormatError(f"{path}: not UTF-8/ASCII text ({exc})") from None
    # (where, text) of each non-blank line; the header, the points and the rest read it in turn
    numbered = enumerate(text.splitlines(), start=1)
    lines = ((f"{path}, line {n}", raw.strip()) for n, raw in numbered if raw.strip())
    n_declared = -1
    for where, line in lines:
        if line == "{":
            if n_declared < 0:
                raise PtsFormatError(f"{where}: '{{' before an 'n_points:' line")
            break
        key, sep, value = line.partition(":")
        if not sep:
            raise PtsFormatError(
                f"{where}: expected 'key: value' or '{{' in the header. Received: {line!r}"
            )
        key, value = key.strip().lower(), value.strip()
        if key == "version" and value != "1":
            raise PtsFormatError(f"{where}: unknown version. Received: {line!r}")
        if key == "n_points":
            try:
                n_declared = int(value)
            except ValueError:
                n_declared = 0
            if n_declared < 1:
                raise PtsFormatError(
                    f"{where}: n_points must be a positive integer. Received: {line!r}"
                )
            if num_points is not None and n_declared != num_points:
                raise PtsFormatError(
                    f"{where}: expected n_points: {num_points} for this scheme. Received: {line!r}"
                )
    else:
        raise PtsFormatError(f"{path}: file ends without '{{'")
    rows: list[tuple[float, float]] = []
    for where, line in lines:
        if line == "}":
            if len(rows) != n_declared:
                raise PtsFormatError(
                    f"{where}: n_points is {n_declared} but {len(rows)} points precede '}}'"
                )
            break
        try:
            x, y = (float(v) for v in line.split())
        except ValueError:
            raise PtsFormatError(
                f"{where}: expected two numbers 'x y'. Received: {line!r}"
            ) from None
        if not (np.isfinite(x) and np.isfinite(y)):
            raise PtsFormatError(f"{where}: non-finite coordinate. Received: {line!r}")
        if len(rows) == n_declared:
            raise PtsFormatError(f"{where}: more than n_points={n_declared} points")
        rows.append((x, y))
    else:
        raise PtsFormatError(f"{path}: file ends without the closing '}}'")
    for where, line in lines:
        raise PtsFormatError(f"{where}: text after the closing '}}'. Received: {line!r}")
    return np.asarray(rows, dtype=np.float64) - 1.0


def load_ibug(
    root: str | os.PathLike,
    *,
    on_error: str = "raise",
    recursive: bool = True,
    scheme: str | PointScheme = "ibug68",
    outside_tolerance: float = 4.0,
) -> LandmarkDataset:
    """Read every ``NAME.pts`` under ``root`` that has an image ``NAME.<jpg|jpeg|png|bmp>``.

    Args:
        root: a folder in the 300-W layout (e.g. ``300W/`` with ``afw/``, ``helen/trainset/``,
            ...) or any folder of ``.pts`` files beside their images. Names starting with
            ``.`` (hidden files and folders) are ignored.
        on_error: ``"raise"`` (default): a malformed ``.pts`` file, one without an image,
            several files for one face (``a.pts`` and ``a.PTS``, ``a.jpg`` and ``a.png``), an
            unreadable image, one with an EXIF orientation other than 1 (which frame its
            points are in is then ambiguous), or points outside the image raise
            :class:`PtsFormatError` naming the file (and line). ``"skip"``: each such face is
            logged (warning) and left out, with a count at the end. Images without a
            ``.pts`` file are never loaded (a warning says how many).
        recursive: also read subfolders, at any depth (links to folders too, each folder
            once).
        scheme: the point scheme of the files (a registered name or scheme); each file must
            declare its ``n_points``.
        outside_tolerance: how far, in pixels, a point may lie outside the image (beyond the
            edges at ``-0.5`` and ``W - 0.5``) before the face counts as an error: a little
            slack for annotations on the image border. Pass ``float("inf")`` for data whose
            annotations run off the image on purpose.

    Returns:
        A :class:`LandmarkDataset` sorted by relative path: ``landmarks`` float32 ``(N, K, 2)``
        in pixels of the stored image, 0-based, pixel centres at integers; ``names`` the path
        relative to ``root`` without suffix (``"afw/1051618982_1"``); ``subjects`` the photo id
        (:func:`photo_id`), so faces from one photo stay on one side of a split; ``groups``
        the top-level subfolder (``"afw"``, ``"helen-train"``; ``""`` for files in ``root``
        itself), so splits are stratified by source; ``cameras`` ``""``; ``image_sizes``
        from the image headers; ``scheme`` the scheme's name.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        PtsFormatError: see ``on_error``; also when no usable face is found.
        ValueError: a bad ``on_error`` or ``outside_tolerance``, an unknown ``scheme``.

    Example:
        >>> wild = load_ibug("../shared/wild")  # doctest: +SKIP
        >>> train, val = wild.split(0.1, by="subject", seed=0)  # doctest: +SKIP
    """
    _check_reader_args(on_error, outside_tolerance)
    point_scheme = get_scheme(scheme)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"iBUG .pts root folder not found: {str(root)!r}")
    pts_files, images = _scan(root, recursive)

    kept: list[tuple[str, Path, np.ndarray, tuple[int, int]]] = []
    skipped: list[str] = []  # why each skipped face was left out
    for key, found in sorted(pts_files.items()):
        pts_path, candidates = min(found), images.get(key, [])
        try:
            for files in (found, candidates):  # a.pts + a.PTS, a.jpg + a.png: which one is meant?
                if len(files) > 1:
                    raise PtsFormatError(
                        f"{pts_path}: {len(files)} files for one face, their names differing only "
                        f"in the suffix: {', '.join(sorted(p.name for p in files))}; keep one"
                    )
            if not candidates:
                raise PtsFormatError(
                    f"{pts_path}: no image next to it (looked for {', '.join(IMAGE_SUFFIXES)})"
                )
            image_path = candidates[0]
            xy = read_pts(pts_path, point_scheme.num_points)
            size = _image_size(image_path)
            if problem := _outside_image(xy, size, outside_tolerance, one_based=True):
                raise PtsFormatError(f"{pts_path}: {problem}")
        except PtsFormatError as exc:
            if on_error == "raise":
                raise PtsFormatError(f"{exc} (pass on_error='skip' to leave it out)") from None
            logger.warning("%s; skipped", exc)
            skipped.append(str(exc))
            continue
        kept.append((key, image_path, xy, size))
    if skipped:
        logger.warning(
            "%d .pts files under %s skipped (see the warnings above)", len(skipped), root
        )
    lonely = sorted(set(images) - set(pts_files))
    if lonely:
        logger.warning(
            "%d images under %s have no .pts file and are not loaded (first: %s)",
            len(lonely),
            root,
            lonely[0],
        )
    if not kept:
        if skipped:
            raise PtsFormatError(
                f"All {len(skipped)} .pts files under {str(root)!r} were skipped (first: "
                f"{skipped[0]})"
            )
        hint = "" if recursive else " (subfolders not searched: recursive=False)"
        raise PtsFormatError(f"No .pts files with images found under {str(root)!r}{hint}")

    keys, image_paths, points, sizes = zip(*kept, strict=True)
    return LandmarkDataset(
        image_paths=image_paths,
        landmarks=np.stack(points),
        names=keys,
        subjects=tuple(photo_id(Path(key).name) for key in keys),
        cameras=("",) * len(keys),
        groups=tuple(key.split("/")[0] if "/" in key else "" for key in keys),
        image_sizes=np.array(sizes, dtype=np.int64),
        source=f"iBUG .pts ({root})",
        scheme=point_scheme.name,
    )


def _scan(root: Path, recursive: bool) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """``.pts`` files and images under ``root``, keyed by relative path without suffix."""
    pts_files: dict[str, list[Path]] = {}
    images: dict[str, list[Path]] = {}
    seen: set[str] = set()  # real paths: linked folders are followed, each read once
    for folder, dirs, files in os.walk(root, followlinks=True):
        if (real := os.path.realpath(folder)) in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        rel = Path(folder).relative_to(root)
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            key = (rel / path.stem).as_posix()
            if (suffix := path.suffix.lower()) in (".pts", *IMAGE_SUFFIXES):
                (pts_files if suffix == ".pts" else images).setdefault(key, []).append(path)
    return pts_files, images


def _image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of the stored image; PtsFormatError if unreadable or rotated."""
    try:
        width, height, orientation = _file_header(path, str(path))
    except (OSError, ValueError) as exc:
        raise PtsFormatError(f"{path}: cannot read the image ({exc})") from None
    if orientation != 1:
        raise PtsFormatError(
            f"{path}: EXIF orientation {orientation}, so it is ambiguous whether the .pts "
            "points are in the stored or the rotated frame; re-save the image upright"
        )
    return width, height
