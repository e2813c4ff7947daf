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

This package is the only part of the library that prints. Results go to stdout, messages and
logs (``--verbose``: INFO level) to stderr. TensorFlow is imported only by the commands that
need a model, so ``--help``, ``weights`` and ``download`` start fast. Without ``--verbose`` or
``--debug``, TensorFlow's start-up lines are kept off stderr (``TF_CPP_MIN_LOG_LEVEL=3`` unless
set, and :mod:`facelandmarks._quiet` for the lines no setting silences).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from facelandmarks._quiet import native_noise_filtered
from facelandmarks.cli._common import PROG, CLIError, _message, _one_line
from facelandmarks.cli.parser import build_parser
from facelandmarks.cli.predict import _NotTheSkipWarning


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
        with native_noise_filtered() if quiet else contextlib.nullcontext():
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
