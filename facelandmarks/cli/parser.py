"""The ``facelandmarks`` argument parser: every subcommand, its options and its handler."""

from __future__ import annotations

import argparse

from facelandmarks.cli._common import PROG, _count, _fraction, _Parser, _positive_int
from facelandmarks.cli.commands import (
    _cmd_download,
    _cmd_evaluate,
    _cmd_export,
    _cmd_train,
    _cmd_video,
    _cmd_weights,
)
from facelandmarks.cli.predict import _cmd_predict
from facelandmarks.weights import SCHEME_DEFAULTS

# what --weights default stands for per scheme, from the registry (not a second copy of it)
_SCHEME_DEFAULTS_HELP = "".join(
    f"; with --weights default, {scheme} loads the preset {name}"
    for scheme, name in SCHEME_DEFAULTS.items()
)


def _add_model_arguments(p: argparse.ArgumentParser, scheme_help: str | None) -> None:
    """--weights, and unless ``scheme_help`` is None --scheme and --runtime."""
    p.add_argument(
        "--weights", default="default", help="preset name or detector file (default: %(default)s)"
    )
    if scheme_help is None:
        return
    p.add_argument("--scheme", default=None, help=scheme_help + _SCHEME_DEFAULTS_HELP)
    p.add_argument(
        "--runtime",
        choices=("auto", "keras", "tflite"),
        default="auto",
        help="inference engine: auto (default) runs TensorFlow Lite where no conversion is "
        "needed (the shipped model), TensorFlow otherwise; tflite converts once and caches; "
        "keras is TensorFlow",
    )


def _add_batch_size(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        metavar="N",
        help=f"{what} per model call (default: %(default)s)",
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
    _add_model_arguments(p, "point scheme: muct76 (default) or ibug68 (the model's heads)")
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
    p.add_argument(
        "--detect",
        dest="framing",
        action="store_const",
        const="detect",
        help="the same as --framing detect",
    )
    p.add_argument(
        "--face-detector",
        default=None,
        metavar="NAME",
        help="blazeface (default), blazeface-short, blazeface-full, mtcnn, opencv-haar; "
        "any of them + -any-orientation (e.g. blazeface-any-orientation) for photos that "
        "may be turned by 90 or 180 degrees (4 detections a photo)",
    )
    p.add_argument(
        "--max-faces",
        type=_positive_int,
        default=None,
        metavar="N",
        help="the N most prominent faces only (largest visible, nearest the centre)",
    )
    _add_batch_size(p, "faces")
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
    _add_model_arguments(p, "the model's head to score: muct76 (default) or ibug68")
    p.add_argument(
        "--split",
        choices=("subject", "image", "all"),
        default="subject",
        help="held-out part of a split by subject (default) or image, or all images (no split: "
        "no --test-fraction or --seed)",
    )
    p.add_argument(
        "--test-fraction",
        type=_fraction,
        default=None,
        metavar="F",
        help="held-out share of the split (default: 0.3 for MUCT, 0.1 for iBUG: the shipped "
        "model's splits)",
    )
    p.add_argument("--seed", type=_count, default=None, help="split seed (default: 0)")
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out the faces whose annotation or image is broken (each named in a "
        "warning) instead of stopping at the first",
    )
    _add_batch_size(p, "images")
    p.add_argument(
        "--framing",
        choices=("detect", "image"),
        default="detect",
        help="detect: find each face first (default; faces missed are counted); image: each "
        "image is the model's frame (the whole-image MUCT models on MUCT photos)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
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
    _add_model_arguments(p, "point scheme (the model's heads)")
    p.add_argument(
        "--detect-every",
        type=_count,
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
    _add_model_arguments(p, None)
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
