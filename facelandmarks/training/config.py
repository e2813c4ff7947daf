"""The training-run config: a JSON file that says everything a run needs, checked before it runs.

::

    {
      "detector": {... DetectorConfig fields, "stages": [{...StageConfig...}, ...]},
      "data": {"sets": [
          {"name": "muct", "format": "muct", "path": "../shared/muct", "test_fraction": 0.3},
          {"name": "wild", "format": "ibug", "path": "../shared/wild", "test_fraction": 0.1,
           "repeat": 2}],
        "validation_fraction": 0.0},
      "fit": {"epochs": [12, 20], "batch_size": 32, "learning_rate": 0.002,
              "lr_schedule": "cosine", "augment": {... Augmentation fields} | "wild" | true,
              "cache": true, "seed": 0, "early_stopping": null, "mixed_precision": false},
      "face_detector": "blazeface",
      "init": null,
      "output": "runs/default"
    }

``init`` (a preset name or a detector file) starts every stage from that detector's weights
(fine-tuning; its stages and heads must match ``detector``'s) instead of from scratch. The
config may add stages after init's: each starts as a copy of init's last stage (same backbone,
input size, head and colour). A stage given 0 ``epochs`` keeps init's weights.

Relative ``path``, ``output`` and ``init`` values are relative to the config file's folder, not
to the current directory. A set's folder can be moved with an environment variable
(``FACELANDMARKS_MUCT`` for ``muct`` sets, ``FACELANDMARKS_WILD`` for ``ibug`` sets, or the set's
own ``"env"``).
The older single-dataset form ``"data": {"muct": PATH, "test_fraction": ..., "split_by": ...,
"seed": ...}`` is still read.

Every set is split by subject (``test_fraction`` of its subjects held out, stratified by its
groups, seeded); the held-out sides are scored after training. With ``validation_fraction`` > 0
that share of each set's training subjects is split off for ``val_nme`` and the best epoch is kept;
without it the held-out sides are only watched (``val_nme`` per epoch) and the last epoch is kept,
so the reported test scores played no part in choosing the model.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facelandmarks.config import DetectorConfig
from facelandmarks.training.options import Augmentation

FORMATS = {"muct": "FACELANDMARKS_MUCT", "ibug": "FACELANDMARKS_WILD"}
MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16")
"""The Keras dtype policies ``fit(mixed_precision=...)`` may name."""


class TrainConfigError(ValueError):
    """A training config that cannot run; the message names the field."""


def _fail(where: str, message: str) -> TrainConfigError:
    return TrainConfigError(f"{where}: {message}")


def _int_at_least(value: Any, least: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _fraction(value: Any, allow_zero: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (0 <= value < 1) if allow_zero else (0 < value < 1)


@dataclass(frozen=True)
class DataSet:
    """One annotated dataset of a run."""

    name: str
    format: str
    path: str
    test_fraction: float = 0.3
    split_by: str = "subject"
    seed: int = 0
    repeat: int = 1
    env: str | None = ""

    @property
    def variable(self) -> str | None:
        """The environment variable that overrides ``path`` (``env``, else the format's own;
        ``None`` when ``env`` is ``None``: a folder given on the command line wins)."""
        return None if self.env is None else (self.env or FORMATS.get(self.format, ""))

    def resolved_path(self) -> Path:
        """The folder: the environment override when :attr:`variable` is set, else ``path``."""
        override = os.environ.get(self.variable, "") if self.variable else ""
        return Path(override) if override else Path(self.path)


@dataclass(frozen=True)
class FitOptions:
    """Options of :func:`facelandmarks.training.run.run` (see ``LandmarkDetector.fit``)."""

    epochs: tuple[int, ...] = (8,)
    batch_size: int = 16
    learning_rate: float = 1e-3
    lr_schedule: str | None = None
    augment: tuple[Augmentation | None, ...] = (None,)
    cache: bool = False
    seed: int = 0
    early_stopping: int | None = None
    mixed_precision: bool | str = False
    restore_best: bool | None = None


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run (see the module docstring for the JSON form)."""

    detector: DetectorConfig
    data: tuple[DataSet, ...]
    fit: FitOptions = field(default_factory=FitOptions)
    output: str = "runs/run"
    face_detector: str = "blazeface"
    validation_fraction: float = 0.0
    source: str = ""
    init: str | None = None

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides: Any) -> TrainConfig:
        """Read and check a JSON config file; relative paths are taken from its folder.

        Raises:
            FileNotFoundError: no such file.
            TrainConfigError: invalid JSON or an invalid field (named in the message).
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise _fail(str(path), f"not valid JSON: {err}") from err
        return cls.from_dict(raw, base_dir=path.parent.resolve(), where=str(path), **overrides)

    @classmethod
    def from_dict(
        cls,
        raw: Any,
        *,
        base_dir: str | os.PathLike = ".",
        where: str = "config",
        output: str | None = None,
        muct: str | None = None,
    ) -> TrainConfig:
        """Check a config dict and build the config (see :meth:`load`)."""
        if not isinstance(raw, dict):
            raise _fail(where, f"the config must be a JSON object, not {type(raw).__name__}")
        unknown = sorted(set(raw) - {"detector", "data", "fit", "output", "face_detector", "init"})
        if unknown:
            raise _fail(where, f"unknown top-level keys {unknown}")
        base = Path(base_dir)
        if not isinstance(raw.get("detector"), dict):
            raise _fail(where, "the config needs a 'detector' object")
        extra = set(raw["detector"]) - {f.name for f in dataclasses.fields(DetectorConfig)}
        if extra:  # DetectorConfig.from_dict only warns of them (a file from a newer version)
            raise _fail(where, f"unknown 'detector' keys {sorted(extra)}")
        try:
            detector = DetectorConfig.from_dict(raw["detector"])
        except (TypeError, ValueError) as err:
            raise _fail(where, f"bad 'detector' section: {err}") from err
        sets, val_fraction = _data(raw.get("data"), base, where, muct)
        fit = fit_options(raw.get("fit", {}), len(detector.stages), where)
        out = output or raw.get("output", "runs/run")
        if not isinstance(out, str):
            raise _fail(where, f"output must be a path string, not {out!r}")
        face = raw.get("face_detector", "blazeface")
        if not isinstance(face, str):
            raise _fail(where, f"face_detector must be a name, not {face!r}")
        init = raw.get("init")
        if init is not None and not isinstance(init, str):
            raise _fail(where, f"init must be a preset name or a file path, not {init!r}")
        if init is not None:
            from facelandmarks.weights import PRESETS

            if init not in PRESETS and init != "default":
                init = str(base / init)  # a file, relative to the config's folder
        if val_fraction == 0 and (fit.early_stopping is not None or fit.restore_best):
            raise _fail(
                where,
                "fit.early_stopping and fit.restore_best choose an epoch by val_nme, which "
                "needs data.validation_fraction > 0 (without it val_nme is the test split's, "
                "and the test scores would choose the model)",
            )
        return cls(
            detector=detector,
            data=sets,
            fit=fit,
            output=str(out if output else base / out),
            face_detector=face,
            validation_fraction=val_fraction,
            source=where,
            init=init,
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready data (written into the run folder)."""
        fit = dataclasses.asdict(self.fit)
        fit["augment"] = [None if a is None else dataclasses.asdict(a) for a in self.fit.augment]
        return {
            "detector": self.detector.to_dict(),
            "data": {
                "sets": [dataclasses.asdict(s) for s in self.data],
                "validation_fraction": self.validation_fraction,
            },
            "fit": fit,
            "face_detector": self.face_detector,
            "init": self.init,
            "output": self.output,
        }


def _data(data: Any, base: Path, where: str, muct: str | None) -> tuple[tuple[DataSet, ...], float]:
    if not isinstance(data, dict):
        raise _fail(where, "the config needs a 'data' object")
    if "sets" not in data:  # the single-MUCT form of earlier configs
        legacy = {k: data[k] for k in ("test_fraction", "split_by", "seed") if k in data}
        entries = [{"name": "muct", "format": "muct", "path": data.get("muct"), **legacy}]
        extra = sorted(set(data) - {"muct", "validation_fraction", *legacy})
    else:
        entries = data["sets"]
        extra = sorted(set(data) - {"sets", "validation_fraction"})
    if extra:
        raise _fail(where, f"unknown 'data' keys {extra}")
    if not isinstance(entries, list) or not entries:
        raise _fail(where, "data.sets must be a non-empty list")
    sets = []
    names = set()
    fields = {f.name for f in dataclasses.fields(DataSet)}
    for i, e in enumerate(entries):
        at = f"data.sets[{i}]"
        if not isinstance(e, dict):
            raise _fail(where, f"{at} must be an object")
        bad = sorted(set(e) - fields)
        if bad:
            raise _fail(where, f"unknown {at} keys {bad}; allowed: {sorted(fields)}")
        if e.get("format") not in FORMATS:
            raise _fail(
                where, f"{at}.format must be one of {sorted(FORMATS)}, not {e.get('format')!r}"
            )
        cli_override = muct is not None and e["format"] == "muct"
        path = muct if cli_override else e.get("path")
        if not isinstance(path, str):
            raise _fail(where, f"{at}.path must be a folder path, not {path!r}")
        # A folder typed on the command line is relative to the current directory (and beats
        # the environment variable); one written in the config file, to the file's folder.
        one = DataSet(
            **{**e, "path": path, "env": None} if cli_override else {**e, "path": str(base / path)}
        )
        if not one.name or one.name in names:
            raise _fail(where, f"{at}.name must be a unique non-empty label, not {one.name!r}")
        names.add(one.name)
        if not _fraction(one.test_fraction):
            raise _fail(where, f"{at}.test_fraction must be in (0, 1), not {one.test_fraction!r}")
        if one.split_by not in ("subject", "image"):
            raise _fail(where, f"{at}.split_by must be 'subject' or 'image', not {one.split_by!r}")
        if not _int_at_least(one.repeat, 0):
            raise _fail(where, f"{at}.repeat must be an integer >= 0, not {one.repeat!r}")
        sets.append(one)
    val = data.get("validation_fraction", 0.0)
    if not _fraction(val, allow_zero=True):
        raise _fail(where, f"data.validation_fraction must be in [0, 1), not {val!r}")
    return tuple(sets), float(val)


def fit_options(fit: Any, n_stages: int, where: str = "fit") -> FitOptions:
    """Check a dict of fit options (a config's ``"fit"`` section, or ``fit``'s keywords) and
    build :class:`FitOptions` (``epochs`` and ``augment`` become one entry per stage).

    Raises:
        TrainConfigError: an unknown key or a bad value (named).
    """
    if not isinstance(fit, dict):
        raise _fail(where, "'fit' must be an object")
    allowed = {f.name for f in dataclasses.fields(FitOptions)}
    unknown = sorted(set(fit) - allowed)
    if unknown:
        raise _fail(where, f"unknown 'fit' keys {unknown}; allowed: {sorted(allowed)}")
    epochs = fit.get("epochs", 8)
    values = list(epochs) if isinstance(epochs, (list, tuple)) else [epochs] * n_stages
    # 0 epochs keeps a stage as ``init`` gave it (checked against init when the run starts)
    ok = all(_int_at_least(e, 0) for e in values)
    if not ok or len(values) != n_stages or not any(values):
        raise _fail(
            where,
            f"fit.epochs must be a positive integer or a list of {n_stages} (one per stage, "
            f"0 for a stage kept as 'init' gave it), not {epochs!r}",
        )
    aug = fit.get("augment")
    augs = aug if isinstance(aug, (list, tuple)) else [aug] * n_stages
    if len(augs) != n_stages:
        raise _fail(where, f"fit.augment as a list needs one entry per stage ({n_stages})")
    parsed = []
    names = {f.name for f in dataclasses.fields(Augmentation)}
    for a in augs:
        if isinstance(a, Augmentation):
            parsed.append(a)
        elif a is None or a is False:
            parsed.append(None)
        elif a is True:
            parsed.append(Augmentation())
        elif a == "wild":
            parsed.append(Augmentation.wild())
        elif isinstance(a, dict):
            bad = sorted(set(a) - names)
            if bad:
                raise _fail(where, f"unknown 'fit.augment' keys {bad}; allowed: {sorted(names)}")
            try:
                parsed.append(Augmentation(**a))
            except (TypeError, ValueError) as err:
                raise _fail(where, f"bad fit.augment: {err}") from err
        else:
            raise _fail(
                where,
                'fit.augment must be an object, true, false, null, "wild", or a list of '
                f"those with one per stage, not {a!r}",
            )
    opts = FitOptions(
        **{k: v for k, v in fit.items() if k not in ("epochs", "augment")},
        epochs=tuple(values),
        augment=tuple(parsed),
    )
    if not _int_at_least(opts.batch_size):
        raise _fail(where, f"fit.batch_size must be a positive integer, not {opts.batch_size!r}")
    lr = opts.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise _fail(where, f"fit.learning_rate must be a finite number > 0, not {lr!r}")
    if opts.lr_schedule not in (None, "cosine"):
        raise _fail(where, f"fit.lr_schedule must be null or 'cosine', not {opts.lr_schedule!r}")
    if opts.early_stopping is not None and not _int_at_least(opts.early_stopping):
        raise _fail(
            where,
            "early_stopping must be None or a patience in epochs (an int >= 1; null in a "
            f"config file), not {opts.early_stopping!r}",
        )
    if not _int_at_least(opts.seed, 0):
        raise _fail(where, f"fit.seed must be an integer >= 0, not {opts.seed!r}")
    for name, value in (("cache", opts.cache), ("restore_best", opts.restore_best)):
        if not (isinstance(value, bool) or (value is None and name == "restore_best")):
            raise _fail(where, f"fit.{name} must be true or false, not {value!r}")
    mixed = opts.mixed_precision
    if not (mixed is None or isinstance(mixed, bool) or mixed in ("auto", *MIXED_PRECISION)):
        raise _fail(
            where,
            f"fit.mixed_precision must be false, true, 'auto' or one of {MIXED_PRECISION}, "
            f"not {mixed!r}",
        )
    return opts
