"""The command line's other subcommands: video, export, evaluate, train, download, weights."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

from facelandmarks.cli._common import (
    _BAD_FILE_ERRORS,
    CLIError,
    _bad_input,
    _clean,
    _emit,
    _load_detector,
    _num,
    _print_json,
)
from facelandmarks.cli.predict import _record

logger = logging.getLogger(__name__)


def _cmd_video(args: argparse.Namespace) -> int:
    from facelandmarks import video as fl_video

    if args.output is None and not args.json:
        raise CLIError("give OUT (an annotated video to write), --json, or both")
    if args.indices and args.output is None:
        raise CLIError("--indices numbers the points of the annotated video: give OUT")
    det = _load_detector(args.weights, args.runtime, args.scheme)

    def on_frame(result: Any, info: Any) -> None:
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
            on_frame=on_frame if args.json else None,
        )
    logger.info("%d frames%s", frames, f", wrote {args.output}" if args.output else "")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    det = _load_detector(args.weights)
    # the progress bar goes to stderr: stdout carries only the path
    with (
        _bad_input(errors=(FileExistsError, NotADirectoryError)),
        contextlib.redirect_stdout(sys.stderr),
    ):
        out = det.export(args.output, format=args.format, verbose=1)
    _emit(str(out))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from facelandmarks.datasets import load_ibug, load_muct

    if args.split == "all" and (args.test_fraction is not None or args.seed is not None):
        raise CLIError("--split all evaluates on all images: give no --test-fraction or --seed")
    muct = args.muct is not None
    name, flag, load = ("MUCT", "--muct", load_muct) if muct else ("iBUG", "--ibug", load_ibug)
    with _bad_input(f"{flag}: "):
        try:
            data = load(args.muct if muct else args.ibug, on_error=("raise", "skip")[args.skip_bad])
        except ValueError as exc:  # its advice names the library's keyword: name the option
            raise ValueError(str(exc).replace("on_error='skip'", "--skip-bad")) from exc
    if args.split == "all":
        test = data
        what = f"all {len(test)} images"
    else:
        fraction, seed = args.test_fraction or (0.3 if muct else 0.1), args.seed or 0
        with _bad_input():
            _, test = data.split(fraction, by=args.split, seed=seed)
        what = (
            f"held-out {len(test)} of {len(data)} images (split by {args.split}, "
            f"test fraction {fraction:g}, seed {seed})"
        )
    det = _load_detector(args.weights, args.runtime, args.scheme)
    logger.info("evaluating on %s", what)
    with _bad_input(errors=_BAD_FILE_ERRORS), contextlib.redirect_stdout(sys.stderr):
        # a progress bar (images) on stderr; the scores go to stdout after it
        scores = det.evaluate(test, framing=args.framing, batch_size=args.batch_size, verbose=1)
    scores = _clean(scores)
    if args.json:
        _print_json(scores, indent=2)
        return 0
    weights = args.weights
    if det.spec is not None and det.spec.name != weights:
        weights = f"{weights} ({det.spec.name})"  # what "default" stood for
    _emit(f"{name}, {what}, weights={weights}, scheme={det.scheme}")
    width = max(len(k) for k in scores)
    for key, value in scores.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        _emit(f"  {key:<{width}}  {shown}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from facelandmarks.training.config import TrainConfig

    with _bad_input():
        config = TrainConfig.load(args.config, output=args.output, muct=args.muct)
    for spec in config.data:
        if not spec.resolved_path().is_dir():
            if spec.variable is None:  # the folder came from --muct
                fix = "fix --muct"
            else:
                hint = ", or pass --muct DIR" if spec.format == "muct" else ""
                fix = f"fix its path in the config, or set {spec.variable}{hint}"
            raise CLIError(
                f"{args.config}: dataset {spec.name!r}: folder not found: "
                f"{str(spec.resolved_path())!r} ({fix})"
            )
    from facelandmarks.training import run as fl_run

    logger.info("training into %s", config.output)
    result = fl_run.run(config, verbose=2)
    _print_json({k: v for k, v in result.items() if k != "test_subjects"}, indent=2)
    return 0


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
    for row in rows:
        row["default"] = row["name"] == fl_weights.DEFAULT_PRESET
        row["default_for_schemes"] = sorted(
            s for s, name in fl_weights.SCHEME_DEFAULTS.items() if name == row["name"]
        )
    if args.json:
        _print_json(rows, indent=2)
        return 0
    if not rows:
        _emit("(no presets registered)")
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        marks = ["default"] if row["default"] else []
        marks += [f"default for --scheme {s}" for s in row["default_for_schemes"]]
        mark = f" ({'; '.join(marks)})" if marks else ""
        _emit(f"{row['name']:<{width}}  {row.get('description', '')}{mark}")
    return 0
