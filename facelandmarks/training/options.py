"""Training options as plain dataclasses (no TensorFlow import: cheap to import and validate)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

_PROBABILITIES = ("flip", "blur", "noise", "jpeg", "lowres", "grayscale", "occlusion", "background")


@dataclass(frozen=True)
class Augmentation:
    """Random augmentation applied in training (never at inference).

    Geometry (points move with the pixels):

    Attributes:
        flip: probability of a left-right flip (points re-indexed by ``mirror``).
        rotation: maximum rotation in degrees (uniform in ``[-rotation, rotation]``).
        scale: maximum relative zoom (uniform log-scale in ``[-scale, scale]``).
        shift: maximum shift as a fraction of the frame size (uniform, per axis).
        brightness: maximum additive brightness change, in fractions of 255.
        contrast: maximum relative contrast change.
        saturation: maximum relative saturation change.
        blur: probability of a Gaussian blur, sigma uniform in 0.4-1.8 crop pixels.
        noise: probability of additive Gaussian noise, sigma uniform in 2-12 (of 255).
        jpeg: probability of a JPEG round trip at quality 25-90.
        lowres: probability of a down- and up-sampling by 0.25-0.6 (small faces, video).
        grayscale: probability of turning the crop grey (for RGB models).
        occlusion: probability of a rectangle (15-50 % of the crop side) of random texture or
            colour over part of the face; the points under it stay supervised, as annotators
            of in-the-wild sets place hidden points at their best guess.
        background: probability of replacing everything outside an ellipse around the face's
            points by random texture (MUCT's studio backgrounds are plain: without this the
            model learns that a face is whatever is not grey).
        mirror: the point permutation for flips (``None``: taken from the data's scheme).
    """

    flip: float = 0.5
    rotation: float = 10.0
    scale: float = 0.10
    shift: float = 0.05
    brightness: float = 0.15
    contrast: float = 0.2
    saturation: float = 0.2
    blur: float = 0.0
    noise: float = 0.0
    jpeg: float = 0.0
    lowres: float = 0.0
    grayscale: float = 0.0
    occlusion: float = 0.0
    background: float = 0.0
    mirror: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(
                    f"Augmentation.{name} is a probability in [0, 1]. Received: {name}={value!r}"
                )
        for name in ("rotation", "scale", "shift", "brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0 and math.isfinite(value)):
                raise ValueError(
                    f"Augmentation.{name} must be a finite number >= 0. Received: {name}={value!r}"
                )
        if self.mirror is not None:
            object.__setattr__(self, "mirror", tuple(int(i) for i in self.mirror))

    @classmethod
    def none(cls) -> Augmentation:
        """No augmentation at all."""
        return cls(**{f.name: 0.0 for f in fields(cls) if f.name != "mirror"})

    @classmethod
    def wild(cls) -> Augmentation:
        """The recipe used for the shipped in-the-wild models (see docs/training.md)."""
        return cls(
            flip=0.5,
            rotation=20.0,
            scale=0.15,
            shift=0.06,
            brightness=0.25,
            contrast=0.4,
            saturation=0.4,
            blur=0.2,
            noise=0.2,
            jpeg=0.2,
            lowres=0.15,
            grayscale=0.1,
            occlusion=0.3,
            background=0.3,
        )
