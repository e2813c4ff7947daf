"""Detector configuration: what a saved detector needs to be rebuilt and fed correctly.

Plain dataclasses, serialised to JSON inside saved detector files. No Keras import.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from facelandmarks._scheme_checks import is_mirror_map
from facelandmarks.points import NUM_POINTS
from facelandmarks.scaling import DEFAULT_PIXEL_OFFSET

logger = logging.getLogger(__name__)

BACKBONE_NAMES = ("resnet50", "mobilenetv3small", "mobilenetv3large", "efficientnetb0")
"""The backbones :mod:`facelandmarks.model` builds (its ``BACKBONES`` keys)."""
FRAMINGS = ("image", "points", "face")
HEADS = ("gap", "spatial")
COLORS = ("rgb", "gray")
PREPROCESSING = ("scale_01", "backbone")
NORMALIZATIONS = ("batch", "group")
LOSSES = ("euclidean", "wing")
"""The loss names :func:`facelandmarks.losses.get_loss` builds."""


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
            (or, in training, around the ground truth with random jitter) is cut out;
            ``"face"``: a square face frame, rotated upright, placed by a face detector's box
            and eye keypoints (or, when tracking video, by the previous frame's landmarks):
            see ``face_scale`` and :mod:`facelandmarks.framing`.
        box_margin: for ``"points"`` framing, fraction of the points' extent added on each side.
        roll: for ``"points"`` framing: turn the box to the line between the eye centres of
            the previous stage's points (of the ground truth, in training), so that a rolled
            face comes out upright; ``False``: an axis-aligned box.
        box_jitter: for ``"points"`` and ``"face"`` framing in training: standard deviation of
            the random frame centre shift and log-scale change, as fractions of the frame size,
            that simulate the previous stage's (or the detector's) errors.
        angle_jitter: for ``"face"`` and rolled ``"points"`` framing in training: standard
            deviation of the random roll of the frame, in degrees (the detector's eye keypoints
            and the previous stage's eyes are not exact).
        face_scale: for ``"face"`` framing: side of the square frame over the side of the face
            detector's box (``sqrt(w * h)``).
        face_offset: for ``"face"`` framing: ``(dx, dy)`` shift of the frame centre from the
            box centre, in box sides, along the upright face's axes (``dy > 0``: towards the
            chin).
        head: the landmark head on the backbone: ``"gap"`` (global average pooling + dense,
            the original's) or ``"spatial"`` (a 1x1 convolution, then dense over every cell of
            the last feature map, which keeps where features are).
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
    angle_jitter: float = 0.0
    face_scale: float = 1.5
    face_offset: tuple[float, float] = (0.0, 0.0)
    head: str = "gap"
    roll: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_size", check_input_size(self.input_size))
        object.__setattr__(self, "face_offset", tuple(float(v) for v in self.face_offset))
        for name, allowed in (
            ("backbone", BACKBONE_NAMES),
            ("preprocessing", (*PREPROCESSING, None)),  # None: the backbone's (build_model)
            ("normalization", NORMALIZATIONS),
            ("framing", FRAMINGS),
            ("color", COLORS),
            ("head", HEADS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}. Received: {name}={value!r}")
        if self.roll not in (True, False) or (self.roll and self.framing != "points"):
            raise ValueError(
                "roll=True turns a 'points' frame (face frames are always turned). "
                f"Received: roll={self.roll!r}, framing={self.framing!r}"
            )
        if not (self.face_scale > 0 and len(self.face_offset) == 2):
            raise ValueError(
                "face_scale must be > 0 and face_offset a pair (dx, dy). "
                f"Received: face_scale={self.face_scale!r}, face_offset={self.face_offset!r}"
            )

    @property
    def out_size(self) -> tuple[int, int]:
        """``(width, height)`` of the input, the order :class:`Framing` uses."""
        return self.input_size[1], self.input_size[0]


@dataclass(frozen=True)
class DetectorConfig:
    """A whole detector: its stages, point schemes and training loss.

    Attributes:
        stages: the regression stages, coarse to fine; the first frames the whole image
            (``"image"``) or a face (``"face"``).
        num_points: landmarks per face ``P`` of the default (first) head.
        point_scheme: the default head's scheme name (``"muct76"``).
        loss: ``"euclidean"`` (the original's) or ``"wing"``.
        description: free text, shown in ``repr`` and model cards.
        mirror: the left-right point permutation over *all* heads' points side by side (index
            ``i`` of a mirrored face = index ``mirror[i]`` of the original), used by flip
            augmentation and test-time flips; defaults to the registered schemes' (MUCT's for
            one 76-point head), else ``None``.
        heads: ``((scheme name, point count), ...)``: the model predicts every head's points
            side by side, ``(x0, y0, x1, y1, ...)`` head after head. Default: one head,
            ``((point_scheme, num_points),)``. ``point_scheme``/``num_points`` always name the
            first head.
        roi_from_points: for ``"face"`` framing: per scheme, ``(scale, dx, dy)`` that place a
            face frame from that scheme's landmarks as the face detector would place it (see
            :func:`facelandmarks.face_rois.roi_from_points`); used to track video and calibrated
            on the training data.
        face_detector: the face detector whose boxes the ``"face"`` stage was trained on.
    """

    stages: tuple[StageConfig, ...] = field(default_factory=lambda: (StageConfig(),))
    num_points: int = NUM_POINTS
    point_scheme: str = "muct76"
    loss: str = "euclidean"
    description: str = ""
    mirror: tuple[int, ...] | None = None
    heads: tuple[tuple[str, int], ...] = ()
    roi_from_points: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    face_detector: str = ""

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages:
            raise ValueError("A detector needs at least one stage.")
        if stages[0].framing not in ("image", "face"):
            raise ValueError(
                "The first stage must use framing='image' or 'face' (no earlier points). "
                f"Received: framing={stages[0].framing!r}"
            )
        object.__setattr__(self, "stages", stages)
        if self.loss not in LOSSES:  # checked before the data is read and framed
            raise ValueError(f"loss must be 'euclidean' or 'wing'. Received: loss={self.loss!r}")
        heads = tuple((str(n), int(k)) for n, k in self.heads) or (
            (self.point_scheme, int(self.num_points)),
        )
        if len({n for n, _ in heads}) != len(heads) or any(k < 1 for _, k in heads):
            raise ValueError(f"heads must have distinct names and counts >= 1. Received: {heads}")
        from facelandmarks.schemes import find_scheme

        known = find_scheme(heads[0][0])
        if not self.heads and known and known.num_points != heads[0][1]:
            raise ValueError(  # it would lend the head its eye corners, mirror map, correspondences
                f"point_scheme {known.name!r} has {known.num_points} points: name the scheme of "
                f"your {heads[0][1]} points (registered or not). Received: {heads[0]}"
            )
        object.__setattr__(self, "heads", heads)
        object.__setattr__(self, "point_scheme", heads[0][0])
        object.__setattr__(self, "num_points", heads[0][1])
        object.__setattr__(
            self,
            "roi_from_points",
            {str(k): tuple(float(x) for x in v) for k, v in dict(self.roi_from_points).items()},
        )
        mirror = self.mirror
        if mirror is None:  # the registered schemes' permutations, head after head
            known = list(_registered(heads))
            if all(s is not None and s.mirror is not None for _, s in known):
                mirror = [start + i for start, s in known for i in s.mirror]
        if mirror is not None:
            mirror = tuple(int(i) for i in mirror)
            if not is_mirror_map(mirror, self.total_points):  # test-time flip undoes it by itself
                raise ValueError(
                    f"mirror must be a permutation of 0..{self.total_points - 1} that is its own "
                    f"inverse (flipped point i is point mirror[i]). Received: {mirror!r}"
                )
        object.__setattr__(self, "mirror", mirror)

    @property
    def total_points(self) -> int:
        """Points of all heads together (the model's output is ``2 * total_points`` wide)."""
        return sum(k for _, k in self.heads)

    @property
    def scheme_names(self) -> tuple[str, ...]:
        """The heads' scheme names, in output order."""
        return tuple(n for n, _ in self.heads)

    def head_slice(self, scheme: str) -> slice:
        """The points of ``scheme``'s head within all heads' points.

        Raises:
            ValueError: the detector has no head for ``scheme``.
        """
        start = 0
        for name, k in self.heads:
            if name == scheme:
                return slice(start, start + k)
            start += k
        raise ValueError(
            f"this detector predicts {list(self.scheme_names)}. Received: scheme={scheme!r}"
        )

    def eye_groups(self) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The image-left and image-right eye points of every registered head with eyes,
        indexed in all heads' points side by side; ``None`` when no head defines eyes."""
        left: list[int] = []
        right: list[int] = []
        for start, scheme in _registered(self.heads):
            if scheme is not None and scheme.eyes is not None:
                left += [start + i for i in scheme.eyes[0]]
                right += [start + i for i in scheme.eyes[1]]
        return (tuple(left), tuple(right)) if left and right else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        data = dict(data)
        raw_stages = data.pop("stages", None)
        if not isinstance(raw_stages, (list, tuple)) or not all(
            isinstance(s, dict) for s in raw_stages
        ):
            raise ValueError(f"'stages' must be a list of objects. Received: {raw_stages!r}")
        stages = tuple(StageConfig(**s) for s in raw_stages)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            # Files written by a newer version may carry fields this one does not know.
            logger.warning("DetectorConfig: ignoring unknown fields %s", unknown)
        return cls(stages=stages, **{k: v for k, v in data.items() if k in known})


def check_input_size(size: Any) -> tuple[int, int]:
    """``(height, width)`` as ints; ValueError unless ``size`` is two integers >= 32."""
    values = () if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") else tuple(size)
    if len(values) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 32 for v in values
    ):
        raise ValueError(f"input_size must be (height, width), integers >= 32. Received: {size!r}")
    return int(values[0]), int(values[1])


def _registered(heads: tuple[tuple[str, int], ...]) -> Iterator[tuple[int, Any]]:
    """Each head's first index in all heads' points, with its registered
    :class:`~facelandmarks.schemes.PointScheme` (``None``: unregistered, or another count)."""
    from facelandmarks.schemes import find_scheme

    start = 0
    for name, k in heads:
        scheme = find_scheme(name)
        yield start, scheme if scheme is not None and scheme.num_points == k else None
        start += k


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
