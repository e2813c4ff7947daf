"""Shared by the command line's modules: :class:`CLIError`, argument types, error
mapping (:func:`_bad_input`), JSON/CSV number output, loading the detector."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

PROG = "facelandmarks"

logger = logging.getLogger(__name__)

# What the library raises for an unreadable input file or a bad argument value (predict and
# evaluate document these for bad inputs only); _bad_input's default adds what a bad config
# or preset name can also raise.
_BAD_FILE_ERRORS = (
    ValueError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
_BAD_INPUT_ERRORS = (*_BAD_FILE_ERRORS, TypeError, KeyError)


class CLIError(Exception):
    """A failure the CLI reports as one line, with exit status ``code`` (default 2: bad input)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors become :class:`CLIError` (one line, status 2)."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"missing key {exc.args[0]!r}"
    return _one_line(str(exc)) or type(exc).__name__


@contextlib.contextmanager
def _bad_input(
    prefix: str = "", errors: tuple[type[BaseException], ...] = _BAD_INPUT_ERRORS
) -> Iterator[None]:
    """Turn ``errors`` (caused by what the user passed) into exit status 2."""
    try:
        yield
    except errors as exc:
        raise CLIError(f"{prefix}{_message(exc)}") from exc


def _checked(convert: Callable[[str], Any], ok: Callable[[Any], bool], expected: str) -> Any:
    """An argparse ``type``: ``convert``, then ``ok`` must hold, else "expected ..., got ..."."""

    def parse(text: str) -> Any:
        with contextlib.suppress(ValueError):
            if ok(value := convert(text)):
                return value
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")

    return parse


_positive_int = _checked(int, lambda value: value >= 1, "a positive integer")
_count = _checked(int, lambda value: value >= 0, "0 or a positive integer")
_fraction = _checked(float, lambda value: 0.0 < value < 1.0, "a number in (0, 1)")


def _num(value: float) -> float | int | None:
    """Round to 2 decimals for output; NaN/inf become ``None`` (JSON ``null``); ints stay."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _csv_num(value: float) -> str:
    """:func:`_num` as CSV text: two decimals, ``""`` for NaN/inf."""
    number = _num(value)
    return "" if number is None else f"{number:.2f}"


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")


def _print_json(obj: Any, *, indent: int | None = None) -> None:
    _emit(json.dumps(_clean(obj), indent=indent, allow_nan=False))


def _clean(obj: Any) -> Any:
    """``obj`` (nested) with plain JSON values: non-finite floats become ``None``, NumPy
    values Python ones, paths strings."""
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, Mapping):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _load_detector(weights: str, runtime: str = "auto", scheme: str | None = None) -> Any:
    from facelandmarks.detector import LandmarkDetector

    logger.info("loading detector weights=%r runtime=%r scheme=%r", weights, runtime, scheme)
    with _bad_input("--weights/--scheme: "):
        return LandmarkDetector(weights, runtime=runtime, scheme=scheme, verbose=0)
