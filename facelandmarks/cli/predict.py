"""``facelandmarks predict``: images (files, folders) in, one JSON record or CSV rows per
image out, annotated pictures with ``--draw``."""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facelandmarks.cli._common import (
    CLIError,
    _bad_input,
    _csv_num,
    _load_detector,
    _message,
    _num,
    _print_json,
)

logger = logging.getLogger(__name__)


def _draw_targets(out: str, images: Sequence[str]) -> list[Path]:
    """Output file of the annotated picture for each input image; never one of the inputs."""
    from PIL import Image

    target = Path(out)
    if len(images) == 1 and not target.is_dir():
        if Image.registered_extensions().get(target.suffix.lower()) not in Image.SAVE:
            raise CLIError(
                f"--draw: {out!r} does not end in the extension of an image format Pillow can "
                "write; give a file name ending in e.g. .png or .jpg (or an existing directory)"
            )
        paths = [target]
    else:
        if target.exists() and not target.is_dir():
            raise CLIError(
                f"--draw: with several images OUT must be a directory, but {out!r} is a file"
            )
        paths = []
        used: set[str] = set()
        for image in images:
            stem = Path(image).stem or "image"
            name = f"{stem}.png"
            k = 1
            while name in used:
                name = f"{stem}-{k}.png"
                k += 1
            used.add(name)
            paths.append(target / name)
    inputs = {Path(i).resolve() for i in images}
    for path in paths:
        if path.resolve() in inputs:
            raise CLIError(
                f"--draw: {str(path)!r} is one of the input images; choose another file or "
                "directory for the annotated copies"
            )
    return paths


class _NotTheSkipWarning(logging.Filter):
    """Drops the library's "skipped NAME: reason" warning: predict reports each failed image
    itself, as an ERROR line (one line per bad file, not two)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "facelandmarks.streaming" and record.msg == "skipped %s: %s")


def _cmd_predict(args: argparse.Namespace) -> int:
    from facelandmarks import images as fl_images

    if args.indices and not args.draw:
        raise CLIError("--indices numbers the points of the --draw pictures: give --draw OUT")
    listed: list[str] = []
    empty = []
    for item in args.images:  # a folder stands for the images in it
        found = fl_images.folder_images(item) if os.path.isdir(item) else [item]
        listed += found
        if not found:
            empty.append(item)
    if not listed:
        raise CLIError(f"no image files found in {', '.join(args.images)}")
    for folder in empty:
        logger.warning("no image files in folder %s", folder)
    targets = _draw_targets(args.draw, listed) if args.draw else None
    det = _load_detector(args.weights, args.runtime, args.scheme)
    writer = None
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        header = ["image", "scheme", "face", "score", "x0", "y0", "x1", "y1"]
        header += [f"{axis}{i:02d}" for i in range(det.num_points) for axis in ("x", "y")]
        writer.writerow([*header, "error"])
    failed = 0
    with _bad_input("--face-detector: " if args.face_detector else ""):
        results = det.iter_faces(
            listed,
            framing=args.framing,
            face_detector=args.face_detector,
            max_faces=args.max_faces,
            batch_size=args.batch_size,
            on_error="skip",
            keep_images=targets is not None,
        )
        for result in results:
            if result.error is not None:
                failed += 1
                logger.error("%s: %s", result.name, result.error)
            if writer is not None:
                _csv_rows(writer, result, det)
            else:
                _print_json(_record(result, det.scheme))
            if targets is not None and result.image is not None:
                _draw(result, targets[result.index], args.indices, det.num_points)
            sys.stdout.flush()
    logger.info("predicted %d images, %d failed", len(listed), failed)
    if failed:
        others = "; the others' results are printed" if failed < len(listed) else ""
        raise CLIError(
            f"{failed} of {len(listed)} images could not be read (named above and in their "
            f"output rows){others}"
        )
    return 0


def _record(result: Any, scheme: str) -> dict[str, Any]:
    record: dict[str, Any] = {"image": result.name, "scheme": scheme}
    if result.size is not None:
        record["width"], record["height"] = result.size
    record["faces"] = [
        {
            "box": [_num(v) for v in face.box],
            "score": None if face.score is None else _num(face.score),
            "landmarks": [[_num(x), _num(y)] for x, y in face.landmarks],
        }
        for face in result.faces
    ]
    if result.error is not None:
        record["error"] = result.error
    return record


def _csv_rows(writer: Any, result: Any, det: Any) -> None:
    """One row per face; an image without a face (or unreadable) still gets one row."""
    blank = [""] * (5 + 2 * det.num_points)
    # what stdout cannot encode (a file name's undecodable byte: '\udcff') is escaped as in JSON
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    name, error = (
        t.encode(encoding, "backslashreplace").decode(encoding)
        for t in (result.name, result.error or "no face")
    )
    if not result.faces:
        writer.writerow([name, det.scheme, "", *blank, error])
    for k, face in enumerate(result.faces):
        score = "" if face.score is None else _csv_num(face.score)
        values = [_csv_num(v) for v in (*face.box, *np.ravel(face.landmarks))]
        writer.writerow([name, det.scheme, k, score, *values, ""])


def _draw(result: Any, target: Path, indices: bool, k: int) -> None:
    """Save the annotated picture so that a failed write never leaves a truncated image."""
    from PIL import Image

    from facelandmarks.drawing import draw_landmarks
    from facelandmarks.fileio import atomic_path

    points = np.stack([f.landmarks for f in result.faces]) if result.faces else np.zeros((0, k, 2))
    boxes = np.stack([f.box for f in result.faces]) if result.faces else None
    picture = draw_landmarks(result.image, points, boxes=boxes, indices=indices)
    fmt = Image.registered_extensions()[target.suffix.lower()]  # checked by _draw_targets
    try:
        with atomic_path(target) as tmp:
            picture.save(tmp, format=fmt)
    except (OSError, ValueError) as exc:  # ValueError: a format that cannot hold RGB (BLP)
        raise CLIError(f"--draw: cannot write {str(target)!r}: {_message(exc)}") from exc
    logger.info("wrote %s", target)
