"""Detector configuration: what a saved detector needs to be rebuilt and fed correctly.

Plain dataclasses, serialised to JSON inside saved detector files. No Keras import.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from facelandmarks.points import MIRROR_PERMUTATION, NUM_POINTS
from facelandmarks.scaling import DEFAULT_PIXEL_OFFSET

logger = logging.getLogger(__name__)

FRAMINGS = ("image", "points")
COLORS = ("rgb", "gray")


@dataclass(frozen=True)
class StageConfig:
    """One regression stage.

    Attributes:
        backbone: a key of :data:`facelandmarks.model.BACKBONES`.
        input_size: ``(height, width)`` of the stage's model input in pixels.
        preprocessing: ``"scale_01"`` or ``"backbone"`` (applied inside the model).
        normalization: ``"batch"`` or ``"group"`` (see :func:`facelandmarks.model.build_model`).
        framing: ``"image"``: the whole image is stretched onto the input (the original
            project's behaviour); ``"points"``: a square box around the previous stage's points
            (or, in training, around the ground truth with random jitter) is cut out.
        box_margin: for ``"points"`` framing, fraction of the points' extent added on each side.
        box_jitter: for ``"points"`` framing in training: standard deviation of the random box
            centre shift and log-scale change, as fractions of the box size, that simulate the
            previous stage's errors.
        pixel_offset: coordinate convention of the head (0.5 = pixel centres, ours; 0.0 = the
            2019 project's ``x / W``).
        bn_epsilon: BatchNormalization epsilon override (the 2019 weights need 1e-3).
        test_time_flip: at inference, also run the stage on the left-right mirrored input and
            average the two predictions (needs the detector's ``mirror`` permutation; the
            model call is one batch of two, not two calls).
        color: ``"rgb"`` (the backbone sees colour) or ``"gray"`` (the model's first layer
            turns RGB into luma, ITU-R BT.601 weights, copied to three channels): the same
            inside the model in training, inference and export, and blind to colour casts
            that a small training set (MUCT's lab lighting) does not cover.
    """

    backbone: str = "resnet50"
    input_size: tuple[int, int] = (320, 240)
    preprocessing: str = "scale_01"
    normalization: str = "batch"
    framing: str = "image"
    box_margin: float = 0.15
    box_jitter: float = 0.05
    pixel_offset: float = DEFAULT_PIXEL_OFFSET
    bn_epsilon: float | None = None
    test_time_flip: bool = False
    color: str = "rgb"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}. Received: {self.framing!r}")
        if self.color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}. Received: {self.color!r}")

    @property
    def out_size(self) -> tuple[int, int]:
        """``(width, height)`` of the input, the order :class:`Framing` uses."""
        return self.input_size[1], self.input_size[0]


@dataclass(frozen=True)
class DetectorConfig:
    """A whole detector: its stages, point scheme and training loss.

    Attributes:
        stages: the regression stages, coarse to fine; the first frames the whole image.
        num_points: landmarks per face ``P``.
        point_scheme: a name for the scheme (``"muct76"``).
        loss: ``"euclidean"`` (the original's) or ``"wing"``.
        description: free text, shown in ``repr`` and model cards.
        mirror: the left-right point permutation of the scheme (index ``i`` of a mirrored
            face = index ``mirror[i]`` of the original), used by flip augmentation and
            test-time flips; defaults to MUCT's for ``num_points=76``, else ``None``.
    """

    stages: tuple[StageConfig, ...] = field(default_factory=lambda: (StageConfig(),))
    num_points: int = NUM_POINTS
    point_scheme: str = "muct76"
    loss: str = "euclidean"
    description: str = ""
    mirror: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages:
            raise ValueError("A detector needs at least one stage.")
        if stages[0].framing != "image":
            raise ValueError("The first stage must use framing='image' (no earlier points).")
        object.__setattr__(self, "stages", stages)
        mirror = self.mirror
        if mirror is None and self.num_points == NUM_POINTS:
            mirror = MIRROR_PERMUTATION
        if mirror is not None:
            mirror = tuple(int(i) for i in mirror)
            if sorted(mirror) != list(range(self.num_points)):
                raise ValueError(
                    f"mirror must be a permutation of 0..{self.num_points - 1}. "
                    f"Received: {mirror!r}"
                )
        object.__setattr__(self, "mirror", mirror)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        data = dict(data)
        stages = tuple(StageConfig(**s) for s in data.pop("stages"))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            # Files written by a newer version may carry fields this one does not know.
            logger.warning("DetectorConfig: ignoring unknown fields %s", unknown)
        return cls(stages=stages, **{k: v for k, v in data.items() if k in known})


LEGACY_2019_STAGE = StageConfig(
    backbone="resnet50",
    input_size=(320, 240),
    preprocessing="scale_01",
    normalization="batch",
    framing="image",
    pixel_offset=0.0,
    bn_epsilon=1e-3,
)
"""The original 2019 project's model: whole 240x320 image, x/255, targets ``x / W`` (no
half-pixel shift), Keras 2 BatchNormalization epsilon 1e-3."""
