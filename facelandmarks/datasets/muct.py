"""Reader for the MUCT face database in its official layout.

This is the only module that knows MUCT's file format. Layout expected under ``root``::

    root/jpg/i000qa-fn.jpg ...                 480 wide x 640 high JPEGs
    root/muct-landmarks/muct76-opencv.csv      name,tag,x00,y00,...,x75,y75

Facts encoded here (see docs/muct.md):

* Coordinates are full-resolution pixels, origin top-left, y down (``opencv`` file).
* A point at exactly ``(0, 0)`` is *unavailable* (hidden); it becomes ``NaN`` here, once.
* Each image has a row ``i<stem>`` and a row ``ir<stem>`` for its left-right mirror; no
  mirrored JPEG exists. Mirror rows are kept as :attr:`LandmarkDataset.mirror_landmarks`.
* File name ``i000qa-fn``: subject = characters 1-3, lighting set = 4, camera = 5 (fixed
  positions; a few names break the suffix pattern, e.g. ``i001se-m2``).
* Subjects 247 and 248 are identical twins and are kept on one side of every split.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from pathlib import Path

import numpy as np

from facelandmarks.datasets.base import LandmarkDataset, _check_reader_args, _outside_image
from facelandmarks.points import NUM_POINTS

logger = logging.getLogger(__name__)

CSV_RELATIVE_PATH = Path("muct-landmarks") / "muct76-opencv.csv"
IMAGE_DIR = "jpg"
IMAGE_SIZE = (480, 640)  # (width, height) of every MUCT image
TWINS = ("247", "248")

_NAME_RE = re.compile(r"^i(r?)(\d{3})([a-z])([a-z])")


class MuctFormatError(ValueError):
    """The MUCT CSV or image folder does not have the expected content."""


def parse_name(name: str) -> tuple[str, str, str, bool]:
    """Split a MUCT row name into ``(subject, lighting, camera, is_mirror)``.

    Args:
        name: e.g. ``"i000qa-fn"`` or ``"ir000qa-fn"``.

    Raises:
        MuctFormatError: if the fixed-position fields are not present.
    """
    m = _NAME_RE.match(name)
    if m is None:
        raise MuctFormatError(
            f"MUCT image name must start with 'i' or 'ir', 3 subject digits, a lighting letter "
            f"and a camera letter (e.g. 'i000qa-fn'). Received: {name!r}"
        )
    mirror, subject, lighting, camera = m.groups()
    return subject, lighting, camera, bool(mirror)


def load_muct(
    root: str | os.PathLike,
    *,
    on_error: str = "raise",
    cameras: str | None = None,
    outside_tolerance: float = 4.0,
) -> LandmarkDataset:
    """Read MUCT landmarks and the list of images present under ``root``.

    Args:
        root: folder holding ``jpg/`` and ``muct-landmarks/muct76-opencv.csv``.
        on_error: ``"raise"`` (default): a malformed row or a listed image missing on disk
            (or present twice: ``.jpg`` and ``.JPG``) raises :class:`MuctFormatError` naming
            the file and row. ``"skip"``: such rows are logged (warning, with file and row)
            and left out, with a count at the end. The ``ir`` (mirror) rows never need an
            image. Images in ``jpg/`` without a landmark row are not loaded (a warning says
            how many).
        cameras: optional string of camera letters to keep, e.g. ``"ade"`` for the views where
            every point is available.
        outside_tolerance: how far, in pixels, a point may lie outside the 480x640 image
            (beyond the edges at -0.5 and W - 0.5) before its row counts as malformed (an
            error or, with ``on_error="skip"``, a skipped row); the official CSV's points all
            lie inside. ``float("inf")`` accepts any finite coordinate.

    Returns:
        A :class:`LandmarkDataset`, images sorted by name; ``landmarks`` float32 ``(N, 76, 2)``
        in full-resolution pixels (480x640 images), ``NaN`` = unavailable;
        ``mirror_landmarks`` the ``ir`` rows, i.e. the ground truth of each image flipped
        left-right, in pixels of the flipped image.

    Raises:
        FileNotFoundError: ``root``, its ``jpg/`` folder or the CSV does not exist.
        MuctFormatError: malformed CSV (with ``on_error="raise"``).
        ValueError: bad ``on_error``, ``cameras`` or ``outside_tolerance``.
    """
    _check_reader_args(on_error, outside_tolerance)
    if cameras is not None and (not cameras or set(cameras) - set("abcde")):
        raise ValueError(f"cameras must be letters from 'abcde'. Received: cameras={cameras!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MUCT root folder not found: {str(root)!r}")
    csv_path = root / CSV_RELATIVE_PATH
    image_dir = root / IMAGE_DIR
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"MUCT landmark file not found: {str(csv_path)!r} (expected the official layout "
            f"root/{CSV_RELATIVE_PATH.as_posix()})"
        )
    if not image_dir.is_dir():
        raise FileNotFoundError(f"MUCT image folder not found: {str(image_dir)!r}")

    on_disk: dict[str, list[Path]] = {}  # i000qa-fn.jpg and i000qa-fn.JPG: which is meant?
    for path in image_dir.glob("i*"):
        if path.suffix.lower() == ".jpg":
            on_disk.setdefault(path.stem[1:], []).append(path)
    rows, mirror_rows, row_lines = _read_csv(csv_path, on_error, float(outside_tolerance))

    names: list[str] = []
    skipped = 0
    for stem in sorted(rows):
        if cameras is not None and parse_name("i" + stem)[2] not in cameras:
            continue
        if len(found := on_disk.get(stem, [])) != 1:
            msg = f"{csv_path}, row {row_lines[stem]}: row for 'i{stem}' " + (
                f"has {len(found)} images, their names differing only in the suffix: "
                f"{', '.join(sorted(p.name for p in found))}; keep one"
                if found
                else "lists an image that is missing on disk: "
                f"{str(image_dir / ('i' + stem + '.jpg'))!r}"
            )
            if on_error == "raise":
                raise MuctFormatError(msg + " (pass on_error='skip' to leave such rows out)")
            logger.warning("%s; skipped", msg)
            skipped += 1
            continue
        names.append(stem)
    if skipped:
        logger.warning("%d rows of %s skipped (see the warnings above)", skipped, csv_path)
    extra = sorted(set(on_disk) - set(rows))
    if extra:
        logger.warning(
            "%d images in %s have no landmark row and are not loaded (first: %s)",
            len(extra),
            image_dir,
            on_disk[extra[0]][0].name,
        )
    if not names:
        raise MuctFormatError(f"No MUCT images with landmarks found under {str(root)!r}")

    nan_rows = np.full((NUM_POINTS, 2), np.nan, dtype=np.float32)
    subjects, lighting_sets, camera_letters, _ = zip(
        *(parse_name("i" + s) for s in names), strict=True
    )
    return LandmarkDataset(
        image_paths=tuple(str(on_disk[s][0]) for s in names),
        landmarks=np.stack([rows[s] for s in names]),
        names=tuple("i" + s for s in names),
        subjects=subjects,
        cameras=camera_letters,
        groups=lighting_sets,
        mirror_landmarks=np.stack([mirror_rows.get(s, nan_rows) for s in names]),
        image_sizes=np.tile(np.array(IMAGE_SIZE, dtype=np.int64), (len(names), 1)),
        source=f"MUCT ({root})",
        split_groups={"twins-247-248": TWINS},
        scheme="muct76",
    )


def _read_csv(
    csv_path: Path, on_error: str, tolerance: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:
    """Parse the landmark CSV: ``{stem: (76, 2) float32}`` for image rows and mirror rows."""
    try:
        text = csv_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MuctFormatError(f"{csv_path}: not UTF-8/ASCII text ({exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise MuctFormatError(f"{csv_path}: file is empty") from None
    expected_coords = [f"{axis}{i:02d}" for i in range(NUM_POINTS) for axis in ("x", "y")]
    missing = [c for c in ["name", *expected_coords] if c not in header]
    if missing:
        raise MuctFormatError(
            f"{csv_path}: header lacks columns {missing[:6]}{'...' if len(missing) > 6 else ''}; "
            f"expected name,tag,x00,y00,...,x75,y75"
        )
    name_col = header.index("name")
    coord_cols = [header.index(c) for c in expected_coords]

    rows: dict[str, np.ndarray] = {}
    mirror_rows: dict[str, np.ndarray] = {}
    row_lines: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            if len(row) != len(header):
                raise MuctFormatError(f"has {len(row)} columns, expected {len(header)}")
            name = row[name_col].strip()
            _, _, _, is_mirror = parse_name(name)
            try:
                values = np.array([float(row[c]) for c in coord_cols], dtype=np.float64)
            except ValueError as exc:
                raise MuctFormatError(f"non-numeric coordinate ({exc})") from None
            if not np.all(np.isfinite(values)):
                raise MuctFormatError("non-finite coordinate")
            xy = values.reshape(NUM_POINTS, 2)
            xy[np.all(xy == 0.0, axis=1)] = np.nan  # (0, 0) marks an unavailable point
            if problem := _outside_image(xy, IMAGE_SIZE, tolerance):
                raise MuctFormatError(problem)
            stem = name[2:] if is_mirror else name[1:]
            target = mirror_rows if is_mirror else rows
            if stem in target:
                raise MuctFormatError(f"duplicate row for {name!r}")
            target[stem] = xy.astype(np.float32)
            if not is_mirror:
                row_lines[stem] = line_no
        except MuctFormatError as exc:
            msg = f"{csv_path}, row {line_no}: {exc}"
            if on_error == "raise":
                raise MuctFormatError(msg) from None
            logger.warning("%s; row skipped", msg)
    return rows, mirror_rows, row_lines


def scores_by_camera(pred_xy: np.ndarray, data: LandmarkDataset) -> dict[str, dict]:
    """Scores overall and per MUCT camera group (a/d/e: frontal-ish; b/c: with hidden points).

    Args:
        pred_xy: float32 ``(N, 76, 2)`` predictions in pixels of ``data``'s images.
        data: the MUCT images scored (its ``cameras`` say the groups).

    Returns:
        ``{"all": ..., "cameras_ade": ..., "cameras_bc": ...}``, each the dict of
        :func:`facelandmarks.metrics.evaluate_landmarks` (groups without images left out).
    """
    from facelandmarks.metrics import evaluate_landmarks

    out = {"all": evaluate_landmarks(pred_xy, data.landmarks)}
    cams = np.array(data.cameras)
    for group in ("ade", "bc"):
        idx = np.flatnonzero(np.isin(cams, list(group)))
        if len(idx):
            out[f"cameras_{group}"] = evaluate_landmarks(pred_xy[idx], data.landmarks[idx])
    return out
