"""Detector configuration: what a saved detector needs to be rebuilt and fed correctly.

Plain dataclasses, serialised to JSON inside saved detector files. No Keras import.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from facelandmarks.points import NUM_POINTS
from facelandmarks.scaling import DEFAULT_PIXEL_OFFSET

FRAMINGS = ("image", "points")


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}. Received: {self.framing!r}")

    @property
    def out_size(self) -> tuple[int, int]:
        """``(width, height)`` of the input, the order :class:`Framing` uses."""
        return self.input_size[1], self.input_size[0]


@dataclass(frozen=True)
class DetectorConfig:
    """A whole detector: its stages, point scheme and training loss."""

    stages: tuple[StageConfig, ...] = field(default_factory=lambda: (StageConfig(),))
    num_points: int = NUM_POINTS
    point_scheme: str = "muct76"
    loss: str = "euclidean"
    description: str = ""

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages:
            raise ValueError("A detector needs at least one stage.")
        if stages[0].framing != "image":
            raise ValueError("The first stage must use framing='image' (no earlier points).")
        object.__setattr__(self, "stages", stages)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        data = dict(data)
        stages = tuple(StageConfig(**s) for s in data.pop("stages"))
        known = {f.name for f in dataclasses.fields(cls)}
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
