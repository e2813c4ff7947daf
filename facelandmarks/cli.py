"""The ``facelandmarks`` command line: predict, video, evaluate, train, export, download, weights.

Usage (``python -m facelandmarks`` works the same; ``COMMAND --help`` for every option)::

    facelandmarks predict photo.jpg [more.jpg|DIR ...] [--framing detect|image] [--json | --csv]
        [--draw OUT] [--indices] [--weights W] [--runtime auto|keras|tflite] [--batch-size N]
    facelandmarks evaluate --muct ../shared/muct [--weights W] [--split subject|image|all]
    facelandmarks train configs/muct-mnv3s-2stage.json [--output DIR] [--muct DIR]
    facelandmarks video IN [OUT] [--json] [--detect-every N] [--no-smoothing] [--scheme S]
    facelandmarks export OUT_DIR [--weights W] [--format tflite|saved_model]
    facelandmarks download muct-resnet50-2019 [--cache-dir DIR]
    facelandmarks weights

Exit status: 0 success; 2 bad usage or bad input (a missing file, a file that is not an
image, an unknown preset, a bad config), reported as one line
``facelandmarks: error: <reason>`` on stderr, without a traceback; 1 any other failure (one
line as well; ``--debug`` adds the traceback); 130 interrupted.

This module is the only part of the library that prints (``python -m facelandmarks`` runs it
too). Results go to stdout, messages and
logs (``--verbose``: INFO level) to stderr. TensorFlow is imported only by the commands that
need a model, so ``--help``, ``weights`` and ``download`` start fast. Without ``--verbose`` or
``--debug``, TensorFlow's start-up lines are kept off stderr (``TF_CPP_MIN_LOG_LEVEL=3`` unless
set, and :mod:`facelandmarks._quiet` for the lines no setting silences).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

PROG = "facelandmarks"

logger = logging.getLogger(__name__)

_BAD_INPUT_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class CLIError(Exception):
    """A failure the CLI reports as one line, with exit status ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors become :class:`CLIError` (one line, status 2)."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')", 2)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"missing key {exc.args[0]!r}"
    return _one_line(str(exc)) or type(exc).__name__


# What the library raises for an unreadable input file or a bad argument value (predict and
# evaluate document these for bad inputs only).
_BAD_FILE_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, PermissionError)


@contextlib.contextmanager
def _bad_input(
    prefix: str = "", errors: tuple[type[BaseException], ...] = _BAD_INPUT_ERRORS
) -> Iterator[None]:
    """Turn ``errors`` (caused by what the user passed) into exit status 2."""
    try:
        yield
    except errors as exc:
        raise CLIError(f"{prefix}{_message(exc)}", 2) from exc


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


# --------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------


def _num(value: float) -> float | int | None:
    """Round to 2 decimals for output; NaN/inf become ``None`` (JSON ``null``); ints stay."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _csv_num(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        return ""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")


def _print_json(obj: Any, *, indent: int | None = None) -> None:
    _emit(json.dumps(obj, indent=indent, allow_nan=False, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """Replace non-finite floats (anywhere in a nested structure) by ``None``."""
    if isinstance(obj, Mapping):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# --------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------


def _draw_targets(out: str, images: Sequence[str]) -> list[Path]:
    """Output file of the annotated picture for each input image."""
    from PIL import Image

    target = Path(out)
    if len(images) == 1 and not target.is_dir():
        suffix = target.suffix.lower()
        if suffix not in Image.registered_extensions():
            raise CLIError(
                f"--draw: cannot tell the image format from {out!r}; give a file name ending "
                "in e.g. .png or .jpg (or an existing directory)",
                2,
            )
        return [target]
    if target.exists() and not target.is_dir():
        raise CLIError(
            f"--draw: with several images OUT must be a directory, but {out!r} is a file", 2
        )
    paths: list[Path] = []
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
    return paths


def _refuse_overwriting_inputs(targets: Sequence[Path], images: Sequence[str]) -> None:
    """--draw must never replace one of the user's photos with an annotated copy."""
    inputs = {Path(i).resolve() for i in images}
    for t in targets:
        if t.resolve() in inputs:
            raise CLIError(
                f"--draw: {str(t)!r} is one of the input images; choose another file or "
                "directory for the annotated copies",
                2,
            )


def _save_atomically(picture: Any, target: Path) -> None:
    """Save the picture so that a failed write never leaves a truncated image at ``target``."""
    from PIL import Image

    from facelandmarks.fileio import atomic_path

    fmt = Image.registered_extensions()[target.suffix.lower()]  # checked by _draw_targets
    with atomic_path(target) as tmp:
        picture.save(tmp, format=fmt)


class _NotTheSkipWarning(logging.Filter):
    """Drops the library's "skipped NAME: reason" warning: predict reports each failed image
    itself, as an ERROR line (one line per bad file, not two)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "facelandmarks.inference" and record.msg == "skipped %s: %s")


def _cmd_predict(args: argparse.Namespace) -> int:
    from facelandmarks import images as fl_images

    inputs = [str(p) for p in args.images]
    listed: list[str] = []
    empty = []
    for item in inputs:  # a folder stands for the images in it
        found = fl_images.folder_images(item) if os.path.isdir(item) else [item]
        listed += found
        if not found:
            empty.append(item)
    if not listed:
        raise CLIError(f"no image files found in {inputs!r}", 2)
    for folder in empty:
        logger.warning("no image files in folder %s", folder)
    targets = _draw_targets(args.draw, listed) if args.draw else None
    if targets is not None:
        _refuse_overwriting_inputs(targets, listed)
    det = _load_detector(args.weights, args.runtime, args.scheme)
    writer = None
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        header = ["image", "scheme", "face", "score", "x0", "y0", "x1", "y1"]
        header += [f"{axis}{i:02d}" for i in range(det.num_points) for axis in ("x", "y")]
        writer.writerow([*header, "error"])
    if targets is not None:
        from facelandmarks.drawing import draw_landmarks
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
                _draw(draw_landmarks, result, targets[result.index], args.indices, det.num_points)
            sys.stdout.flush()
    logger.info("predicted %d images, %d failed", len(listed), failed)
    if failed:
        raise CLIError(
            f"{failed} of {len(listed)} images could not be read (named above and in their "
            "output rows); the others' results are printed",
            2,
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
    if not result.faces:
        writer.writerow([result.name, det.scheme, "", *blank, result.error or "no face"])
    for k, face in enumerate(result.faces):
        score = "" if face.score is None else _csv_num(face.score)
        values = [_csv_num(v) for v in (*face.box, *np.ravel(face.landmarks))]
        writer.writerow([result.name, det.scheme, k, score, *values, ""])


def _draw(draw_landmarks: Any, result: Any, target: Path, indices: bool, k: int) -> None:
    points = np.stack([f.landmarks for f in result.faces]) if result.faces else np.zeros((0, k, 2))
    boxes = np.stack([f.box for f in result.faces]) if result.faces else None
    picture = draw_landmarks(result.image, points, boxes=boxes, indices=indices)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _save_atomically(picture, target)
    except OSError as exc:
        raise CLIError(f"--draw: cannot write {str(target)!r}: {_message(exc)}", 2) from exc
    logger.info("wrote %s", target)


def _load_detector(weights: str, runtime: str = "auto", scheme: str | None = None) -> Any:
    from facelandmarks.detector import LandmarkDetector

    logger.info("loading detector weights=%r runtime=%r scheme=%r", weights, runtime, scheme)
    with _bad_input("--weights/--scheme: "):
        return LandmarkDetector(weights, runtime=runtime, scheme=scheme, verbose=0)


# --------------------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------------------


def _cmd_video(args: argparse.Namespace) -> int:
    from facelandmarks import video as fl_video

    if args.output is None and not args.json:
        raise CLIError("give OUT (an annotated video to write), --json, or both", 2)
    if args.detect_every < 0:
        raise CLIError(f"--detect-every: expected 0 or more, got {args.detect_every}", 2)
    det = _load_detector(args.weights, args.runtime, args.scheme)

    def on_frame(result: Any, info: Any) -> None:
        if args.json:
            record = _record(result, det.scheme)
            del record["image"]
            _print_json({"frame": result.index, "time": _num(result.index / info.fps), **record})
            sys.stdout.flush()

    with _bad_input(errors=_BAD_FILE_ERRORS):
        frames = fl_video.track_video(
            det,
            args.input,
            args.output,
            detect_every=args.detect_every or None,
            smoothing=not args.no_smoothing,
            max_faces=args.max_faces,
            indices=args.indices,
            on_frame=on_frame,
        )
    logger.info("%d frames%s", frames, f", wrote {args.output}" if args.output else "")
    return 0


# --------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------


def _cmd_export(args: argparse.Namespace) -> int:
    det = _load_detector(args.weights)
    # the progress bar goes to stderr: stdout carries only the path
    with _bad_input(errors=(FileExistsError,)), contextlib.redirect_stdout(sys.stderr):
        out = det.export(args.output, format=args.format, verbose=1)
    _emit(str(out))
    return 0


# --------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from facelandmarks.datasets import load_ibug, load_muct

    name, flag = ("MUCT", "--muct") if args.muct is not None else ("iBUG", "--ibug")
    with _bad_input(f"{flag}: "):
        data = load_muct(args.muct) if args.muct is not None else load_ibug(args.ibug)
    if args.split == "all":
        test = data
        what = f"all {len(test)} images"
    else:
        fraction = args.test_fraction
        if fraction is None:
            fraction = 0.3 if args.muct is not None else 0.1
        with _bad_input():
            _, test = data.split(fraction, by=args.split, seed=args.seed)
        what = (
            f"held-out {len(test)} of {len(data)} images (split by {args.split}, "
            f"test fraction {fraction:g}, seed {args.seed})"
        )
    det = _load_detector(args.weights, args.runtime, args.scheme)
    logger.info("evaluating on %s", what)
    with _bad_input(errors=_BAD_FILE_ERRORS), contextlib.redirect_stdout(sys.stderr):
        # a progress bar (images) on stderr; the scores go to stdout after it
        scores = det.evaluate(test, framing=args.framing, batch_size=args.batch_size, verbose=1)
    scores = _clean(dict(scores))
    if args.json:
        _print_json(scores, indent=2)
        return 0
    _emit(f"{name}, {what}, weights={args.weights}, scheme={det.scheme}")
    width = max(len(k) for k in scores)
    for key, value in scores.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        _emit(f"  {key:<{width}}  {shown}")
    return 0


# --------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    from facelandmarks.training.config import FORMATS, TrainConfig

    with _bad_input():
        config = TrainConfig.load(args.config, output=args.output, muct=args.muct)
    for spec in config.data:
        if not spec.resolved_path().is_dir():
            hint = ", or pass --muct DIR" if spec.format == "muct" else ""
            raise CLIError(
                f"{args.config}: dataset {spec.name!r}: folder not found: "
                f"{str(spec.resolved_path())!r} (fix its path in the config, or set "
                f"{spec.env or FORMATS[spec.format]}{hint})"
            )
    from facelandmarks.training import run as fl_run

    logger.info("training into %s", config.output)
    result = fl_run.run(config, verbose=2)
    _print_json(_clean({k: v for k, v in result.items() if k != "test_subjects"}), indent=2)
    return 0


# --------------------------------------------------------------------------------------
# download / weights
# --------------------------------------------------------------------------------------


def _cmd_download(args: argparse.Namespace) -> int:
    from facelandmarks.weights import download_weights

    # The progress bar goes to stderr: stdout carries only the path, for $(...) in scripts.
    with _bad_input(), contextlib.redirect_stdout(sys.stderr):
        path = download_weights(args.name, cache_dir=args.cache_dir, verbose=1)
    _emit(str(path))
    return 0


def _cmd_weights(args: argparse.Namespace) -> int:
    from facelandmarks import weights as fl_weights

    rows = fl_weights.describe_weights()
    default = fl_weights.DEFAULT_PRESET
    if args.json:
        _print_json(_clean([{**row, "default": row["name"] == default} for row in rows]), indent=2)
        return 0
    if not rows:
        _emit("(no presets registered)")
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        mark = " (default)" if row["name"] == default else ""
        _emit(f"{row['name']:<{width}}  {row.get('description', '')}{mark}")
    return 0


# --------------------------------------------------------------------------------------
# Parser and entry point
# --------------------------------------------------------------------------------------


def _add_runtime_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runtime",
        choices=("auto", "keras", "tflite"),
        default="auto",
        help="inference engine: auto (default) runs TensorFlow Lite where no conversion is "
        "needed (the shipped model), TensorFlow otherwise; tflite converts once and caches; "
        "keras is TensorFlow",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``facelandmarks`` argument parser (usage errors raise :class:`CLIError`)."""
    from facelandmarks import __version__

    common = _Parser(add_help=False)
    common.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log progress (INFO level) to stderr",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of a failure",
    )

    parser = _Parser(
        prog=PROG,
        description="2D face landmark localization (76 MUCT points, or 68 iBUG points).",
        epilog="Exit status: 0 ok, 2 bad usage or input, 1 other failure.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "predict",
        parents=[common],
        help="predict landmarks of images",
        description="Find the faces in each image and predict their landmarks (76 MUCT points "
        "by default, --scheme ibug68 for the 68 iBUG points). Prints one JSON object per "
        "image (JSON lines) or CSV rows. Coordinates are (x, y) pixels of the image as viewed "
        "(EXIF orientation applied), origin top-left, rounded to 2 decimals. An image that "
        "cannot be read gets an 'error' field, the others go on, and the exit status is 2.",
    )
    p.add_argument(
        "images", nargs="+", metavar="IMAGE", help="image files (a folder: the images in it)"
    )
    p.add_argument(
        "--scheme",
        default=None,
        help="point scheme: muct76 (default) or ibug68 (the model's heads)",
    )
    p.add_argument(
        "--weights", default="default", help="preset name or detector file (default: %(default)s)"
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON lines output (the default)")
    fmt.add_argument(
        "--csv",
        action="store_true",
        help="CSV output: image,scheme,face,score,x0,y0,x1,y1,x00,y00,...,error (one row per "
        "face; an image without a face gets one row with an empty face column)",
    )
    p.add_argument(
        "--draw",
        metavar="OUT",
        help="write annotated images: a file with one image, a directory with several",
    )
    p.add_argument("--indices", action="store_true", help="with --draw, number the points")
    p.add_argument(
        "--framing",
        choices=("detect", "image"),
        default="detect",
        help="detect: find the faces (default); image: each image is already a face crop",
    )
    p.add_argument("--detect", action="store_true", help="the same as --framing detect")
    p.add_argument(
        "--face-detector",
        default=None,
        metavar="NAME",
        help="blazeface (default), blazeface-short, blazeface-full, mtcnn, opencv-haar",
    )
    p.add_argument(
        "--max-faces",
        type=_positive_int,
        default=None,
        metavar="N",
        help="the N most prominent faces only (largest visible, nearest the centre)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        metavar="N",
        help="faces per model call (default: %(default)s)",
    )
    _add_runtime_argument(p)
    p.set_defaults(handler=_cmd_predict)

    p = sub.add_parser(
        "evaluate",
        parents=[common],
        help="score a detector on MUCT or iBUG .pts data",
        description="Evaluate on the held-out part of a split of MUCT or of iBUG .pts faces "
        "(the images a model trained with the same split never saw), or on all images. A "
        "dataset in another scheme than the model's is scored on the points they share.",
    )
    dataset = p.add_mutually_exclusive_group(required=True)
    dataset.add_argument("--muct", metavar="DIR", help="MUCT root folder")
    dataset.add_argument("--ibug", metavar="DIR", help="folder of iBUG .pts faces (300-W layout)")
    p.add_argument(
        "--scheme", default=None, help="the model's head to score: muct76 (default) or ibug68"
    )
    p.add_argument(
        "--weights", default="default", help="preset name or detector file (default: %(default)s)"
    )
    p.add_argument(
        "--split",
        choices=("subject", "image", "all"),
        default="subject",
        help="held-out part of a split by subject (default) or image, or all images",
    )
    p.add_argument(
        "--test-fraction",
        type=_fraction,
        default=None,
        metavar="F",
        help="held-out share of the split (default: 0.3 for MUCT, 0.1 for iBUG: the shipped "
        "model's splits)",
    )
    p.add_argument("--seed", type=int, default=0, help="split seed (default: %(default)s)")
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        metavar="N",
        help="images per model call (default: %(default)s)",
    )
    p.add_argument(
        "--framing",
        choices=("detect", "image"),
        default="detect",
        help="detect: find each face first (default; faces missed are counted); image: each "
        "image is the model's frame (the whole-image MUCT models on MUCT photos)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    _add_runtime_argument(p)
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser(
        "video",
        parents=[common],
        help="landmarks through a video",
        description="Follow the faces of a video file frame by frame (the face detector runs "
        "on the first frame, every --detect-every frames and when a face is lost) and write "
        "an annotated copy to OUT and/or print one JSON object per frame (--json: frame, time "
        "in seconds, faces with box, score and landmarks in pixels of the frame). Needs "
        'PyAV: pip install "facelandmarks[video]".',
    )
    p.add_argument("input", metavar="IN", help="video file to read")
    p.add_argument("output", metavar="OUT", nargs="?", help="annotated video to write")
    p.add_argument("--json", action="store_true", help="print JSON lines, one per frame")
    p.add_argument("--scheme", default=None, help="point scheme (the model's heads)")
    p.add_argument(
        "--weights", default="default", help="preset name or detector file (default: %(default)s)"
    )
    p.add_argument(
        "--detect-every",
        type=int,
        default=30,
        metavar="N",
        help="run the face detector every N frames while following faces (default: "
        "%(default)s; 0: only on the first frame and when a face is lost)",
    )
    p.add_argument("--no-smoothing", action="store_true", help="raw points (no One Euro filter)")
    p.add_argument(
        "--max-faces", type=_positive_int, default=1, metavar="N", help="faces to follow (1)"
    )
    p.add_argument("--indices", action="store_true", help="number the points in OUT")
    _add_runtime_argument(p)
    p.set_defaults(handler=_cmd_video)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="export a detector for deployment",
        description="Write each stage as a TensorFlow Lite file (or SavedModel) plus "
        "detector.json with the framing between stages, into the new directory OUT; "
        "prints its path.",
    )
    p.add_argument("output", metavar="OUT", help="directory to create (must not exist)")
    p.add_argument(
        "--weights", default="default", help="preset name or detector file (default: %(default)s)"
    )
    p.add_argument(
        "--format",
        choices=("tflite", "saved_model"),
        default="tflite",
        help="default: %(default)s",
    )
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser(
        "train",
        parents=[common],
        help="train a detector from a JSON config",
        description="Train and evaluate a detector as a JSON config says (see "
        "docs/training.md and facelandmarks.training.config). Re-running an interrupted run "
        "resumes it.",
    )
    p.add_argument("config", metavar="CONFIG.json", help="training config")
    p.add_argument("--output", metavar="DIR", help="override the config's output directory")
    p.add_argument("--muct", metavar="DIR", help="override the config's MUCT folder")
    p.set_defaults(handler=_cmd_train)

    p = sub.add_parser(
        "download",
        parents=[common],
        help="download pretrained weights",
        description="Download (or find in the cache) a preset's weights; prints the file path.",
    )
    p.add_argument("name", metavar="NAME", help="preset name (see 'facelandmarks weights')")
    p.add_argument("--cache-dir", metavar="DIR", help="cache directory")
    p.set_defaults(handler=_cmd_download)

    p = sub.add_parser(
        "weights",
        parents=[common],
        help="list pretrained weight presets",
        description="List the registered weight presets with their descriptions.",
    )
    p.add_argument("--json", action="store_true", help="all preset fields as JSON")
    p.set_defaults(handler=_cmd_weights)
    return parser


def _report(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {_one_line(message)}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (never raises ``SystemExit``).

    Args:
        argv: arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        0 success, 2 bad usage or bad input, 1 other failure, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except CLIError as exc:
        _report(str(exc))
        return exc.code
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    verbose = getattr(args, "verbose", False)
    debug = getattr(args, "debug", False)

    quiet = not (verbose or debug)
    if quiet:
        # before anything imports TensorFlow: its C++ INFO/WARNING/ERROR start-up lines
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    package_logger = logging.getLogger("facelandmarks")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    handler.addFilter(_NotTheSkipWarning())
    old_level = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO if verbose else logging.WARNING)
    failure: BaseException
    try:
        if not quiet:
            return int(args.handler(args) or 0)
        from facelandmarks._quiet import native_noise_filtered

        with native_noise_filtered():
            return int(args.handler(args) or 0)
    except CLIError as exc:
        failure, code, message = exc, exc.code, str(exc)
    except KeyboardInterrupt as exc:
        failure, code, message = exc, 130, "interrupted"
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        failure, code = exc, 1
        hint = "" if debug else " (run with --debug for the traceback)"
        message = f"{type(exc).__name__}: {_message(exc)}{hint}"
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(old_level)
    if debug:
        traceback.print_exception(type(failure), failure, failure.__traceback__)
    _report(message)
    return code
