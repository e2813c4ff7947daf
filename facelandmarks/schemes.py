"""Point schemes as data: what each landmark index means, how it mirrors, how it is drawn.

Pure Python/NumPy; imports no Keras. A :class:`PointScheme` holds every fact the library needs
about a landmark layout (the left-right permutation, the contours to draw, which points
normalise the error), so code works from the scheme instead of from hard-coded indices. Two
schemes are built in and registered: :data:`MUCT76` (the 76 MUCT points) and :data:`IBUG68` (the
68 iBUG / 300-W points). Your own (WFLW's 98 points, say) plugs in with :func:`register_scheme`,
and :func:`register_correspondence` says which of its points are the same anatomical points as
another scheme's.

"Left" and "right" in this module mean the image's sides, not the person's. Point names are short
labels within one scheme, made of ``_``-separated words where ``l`` / ``r`` is the image side (a
mirrored face swaps them); equal names in two schemes do not mean the same point: only
:meth:`PointScheme.correspondence` says that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facelandmarks._builtin_schemes import (
    IBUG68_FACTS,
    MUCT76_FACTS,
    MUCT76_TO_IBUG68,
    Ibug68Point,
    MuctPoint,
)
from facelandmarks._scheme_checks import check_fields, check_pairs

__all__ = [
    "IBUG68",
    "MUCT76",
    "Ibug68Point",
    "MuctPoint",
    "PointScheme",
    "find_scheme",
    "get_scheme",
    "list_schemes",
    "register_correspondence",
    "register_scheme",
    "scheme_for_points",
]


@dataclass(frozen=True)
class PointScheme:
    """A landmark layout: ``K`` named points, their mirror map, contours and reference points.

    Sequences given as lists are stored as tuples; everything is checked on construction.

    Attributes:
        name: registry key, lower case (letters, digits, ``_``, ``.``, ``-``), e.g. ``"ibug68"``.
        num_points: ``K``, the number of points.
        point_names: ``K`` distinct short names (``l`` / ``r`` words = image side).
        mirror: left-right permutation of ``range(K)``: point ``i`` of a mirrored face is point
            ``mirror[i]`` of the original. Must be its own inverse.
        eye_corners: ``(image-left outer eye corner, image-right outer eye corner)``; their
            ground-truth distance is the inter-ocular NME's normaliser. Must mirror onto each
            other.
        contours: lines to draw, each ``(indices in drawing order, closed)``.
        pupils: optional ``(image-left pupil, image-right pupil)`` for the inter-pupil NME.
        eyes: optional ``(image-left eye indices, image-right eye indices)``; the mean of each
            is that eye's centre (for framing a face by its eyes and mouth).
        mouth: optional indices whose mean is the mouth centre.
        groups: optional ``(name, indices)`` pairs, regions for per-region error reports.
        description: one line for people.

    Raises:
        ValueError: on construction, a field that breaks these rules (the message names it).

    Example:
        >>> import numpy as np
        >>> from facelandmarks.schemes import IBUG68, MUCT76
        >>> IBUG68.eye_corners, IBUG68.point_names[8], IBUG68.mirror[36]
        ((36, 45), 'chin', 45)
        >>> MUCT76.transfer(np.zeros((2, 76, 2)), IBUG68).shape
        (2, 68, 2)
        >>> five = PointScheme(
        ...     name="my5", num_points=5, mirror=(1, 0, 2, 4, 3), eye_corners=(0, 1),
        ...     point_names=("eye_l", "eye_r", "nose", "mouth_l", "mouth_r"))
        >>> five.mirror_points(np.array([[10.0, 5], [30, 5], [20, 9], [12, 14], [28, 14]]), 41)
        array([[10.,  5.],
               [30.,  5.],
               [20.,  9.],
               [12., 14.],
               [28., 14.]])
    """

    name: str
    num_points: int
    point_names: tuple[str, ...]
    mirror: tuple[int, ...]
    eye_corners: tuple[int, int]
    contours: tuple[tuple[tuple[int, ...], bool], ...] = ()
    pupils: tuple[int, int] | None = None
    eyes: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    mouth: tuple[int, ...] | None = None
    groups: tuple[tuple[str, tuple[int, ...]], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        for key, value in check_fields(self).items():
            object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return f"PointScheme({self.name!r}, {self.num_points} points)"

    def index(self, point_name: str) -> int:
        """The index of the point called ``point_name``.

        Raises:
            KeyError: no point has that name.
        """
        try:
            return self.point_names.index(point_name)
        except ValueError:
            raise KeyError(
                f"Scheme {self.name!r} has no point named {point_name!r}. "
                f"Names: {', '.join(self.point_names)}"
            ) from None

    def _check_xy(self, xy: Any, func: str) -> np.ndarray:
        arr = np.asarray(xy)
        if arr.ndim < 2 or arr.shape[-2:] != (self.num_points, 2):
            raise ValueError(
                f"{func} expects xy of shape (..., {self.num_points}, 2) for the {self.name!r} "
                f"scheme. Received: {arr.shape}"
            )
        return arr

    def mirror_points(self, xy: Any, width: float) -> np.ndarray:
        """Landmarks of this scheme for the image flipped left-right.

        Args:
            xy: float array ``(..., K, 2)`` of ``(x, y)`` pixels (origin top-left, pixel
                centres at integers) in an image ``width`` pixels wide. ``NaN`` stays ``NaN``.
            width: image width in pixels; a pixel centre ``x`` moves to ``width - 1 - x``.

        Returns:
            Array of the same shape and dtype: index ``i`` holds the point that means ``i``
            in the flipped image.

        Raises:
            ValueError: the last two axes are not ``(K, 2)``.
        """
        arr = self._check_xy(xy, "mirror_points")
        out = arr[..., list(self.mirror), :].copy()
        out[..., 0] = (width - 1) - out[..., 0]
        return out

    def correspondence(self, other: str | PointScheme) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the points both schemes define at exactly the same anatomical location.

        Args:
            other: a scheme or registered scheme name.

        Returns:
            ``(self_indices, other_indices)``, two int64 arrays of equal length, sorted by
            ``self_indices``: point ``self_indices[j]`` of this scheme is point
            ``other_indices[j]`` of ``other``. All points when ``other`` is this scheme.

        Raises:
            ValueError: no correspondence between the two is registered
                (:func:`register_correspondence`), or ``other`` is not a registered name.
        """
        target = get_scheme(other)
        if target.name == self.name:
            if target != self:
                raise ValueError(
                    f"Two different schemes are both called {self.name!r}. "
                    f"Received: other={other!r}"
                )
            idx = np.arange(self.num_points, dtype=np.int64)
            return idx, idx.copy()
        pairs = _CORRESPONDENCES.get((self.name, target.name))
        if pairs is None:
            reverse = _CORRESPONDENCES.get((target.name, self.name))
            if reverse is None:
                known = sorted(f"{a}<->{b}" for a, b in _CORRESPONDENCES)
                raise ValueError(
                    f"No point correspondence is registered between {self.name!r} and "
                    f"{target.name!r} (known: {', '.join(known) or 'none'}); add one with "
                    f"facelandmarks.schemes.register_correspondence. Received: other={other!r}"
                )
            pairs = tuple((b, a) for a, b in reverse)
        mine, theirs = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2).T.copy()
        return mine, theirs

    def transfer(self, xy: Any, to: str | PointScheme) -> np.ndarray:
        """Landmarks of this scheme rewritten in another scheme's indexing.

        Args:
            xy: array-like ``(..., K, 2)`` (e.g. ``(N, K, 2)``) of ``(x, y)`` pixels.
            to: the target scheme or its registered name, with ``K_to`` points.

        Returns:
            Float array ``(..., K_to, 2)`` (float32 input stays float32, others become
            float64): the corresponding points where :meth:`correspondence` pairs them,
            ``NaN`` (unavailable) everywhere else.

        Raises:
            ValueError: a bad shape, or no correspondence registered (see
                :meth:`correspondence`).
        """
        arr = self._check_xy(xy, "transfer")
        dtype = arr.dtype if arr.dtype == np.float32 else np.float64
        target = get_scheme(to)
        mine, theirs = self.correspondence(target)
        out = np.full((*arr.shape[:-2], target.num_points, 2), np.nan, dtype=dtype)
        out[..., theirs, :] = arr[..., mine, :]
        return out

    def eye_centers(self, xy: Any) -> np.ndarray:
        """Eye centres ``(..., 2, 2)`` (image-left eye first): the mean of each eye's points.

        ``NaN`` points are left out of the mean; an eye without a finite point is ``NaN``.

        Raises:
            ValueError: the scheme defines no ``eyes``, or ``xy`` is not ``(..., K, 2)``.
        """
        if self.eyes is None:
            raise ValueError(f"Scheme {self.name!r} defines no eyes (eye_centers needs them)")
        arr = self._check_xy(xy, "eye_centers").astype(np.float64)
        return np.stack([_nanmean_points(arr[..., list(e), :]) for e in self.eyes], axis=-2)

    def mouth_center(self, xy: Any) -> np.ndarray:
        """Mouth centre ``(..., 2)``: the mean of the ``mouth`` points (``NaN`` left out).

        Raises:
            ValueError: the scheme defines no ``mouth``, or ``xy`` is not ``(..., K, 2)``.
        """
        if self.mouth is None:
            raise ValueError(f"Scheme {self.name!r} defines no mouth (mouth_center needs it)")
        arr = self._check_xy(xy, "mouth_center").astype(np.float64)
        return _nanmean_points(arr[..., list(self.mouth), :])


def _nanmean_points(pts: np.ndarray) -> np.ndarray:
    """Mean over axis -2 of the points with both coordinates finite; NaN where none."""
    ok = np.all(np.isfinite(pts), axis=-1, keepdims=True)
    count = ok.sum(axis=-2)
    total = np.where(ok, pts, 0.0).sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

_REGISTRY: dict[str, PointScheme] = {}
_DEFAULT_FOR_POINTS: dict[int, str] = {}
_CORRESPONDENCES: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {}
_BUILT_IN = ("muct76", "ibug68")


def list_schemes() -> tuple[str, ...]:
    """Names of the registered schemes, sorted."""
    return tuple(sorted(_REGISTRY))


def find_scheme(name: str) -> PointScheme | None:
    """The registered scheme called ``name`` (case-insensitive), or ``None`` when there is none
    (:func:`get_scheme` raises instead)."""
    return _REGISTRY.get(name.lower())


def get_scheme(scheme: str | PointScheme) -> PointScheme:
    """The registered scheme called ``scheme`` (case-insensitive), or ``scheme`` itself.

    Raises:
        ValueError: no scheme of that name is registered (the message lists the names).
        TypeError: ``scheme`` is neither a string nor a :class:`PointScheme`.
    """
    if isinstance(scheme, PointScheme):
        return scheme
    if not isinstance(scheme, str):
        raise TypeError(
            f"scheme must be a scheme name or a PointScheme. Received: {type(scheme).__name__}"
        )
    found = find_scheme(scheme)
    if found is None:
        raise ValueError(
            f"Unknown point scheme {scheme!r}. Registered: {', '.join(list_schemes())} "
            f"(add your own with facelandmarks.schemes.register_scheme). Received: {scheme!r}"
        )
    return found


def register_scheme(
    scheme: PointScheme, *, default: bool = False, replace: bool = False
) -> PointScheme:
    """Make ``scheme`` known by name to datasets, metrics and drawing.

    Registering an equal scheme again is a no-op.

    Args:
        scheme: the scheme.
        default: also make it what :func:`scheme_for_points` returns for its point count
            (refused when another scheme already is).
        replace: allow replacing a different, user-registered scheme of the same name (the
            built-in ``muct76`` and ``ibug68`` are never replaced; with another point count it
            stops being the default for the old count).

    Returns:
        The registered scheme: ``scheme``, or the equal one registered before.

    Raises:
        ValueError: the name is taken by a different scheme (and ``replace`` is false or the
            name is built in), or ``default`` conflicts with an existing default.
        TypeError: ``scheme`` is not a :class:`PointScheme`.
    """
    if not isinstance(scheme, PointScheme):
        raise TypeError(f"register_scheme expects a PointScheme. Received: {type(scheme).__name__}")
    old = _REGISTRY.get(scheme.name)
    if old is not None and old != scheme and (not replace or scheme.name in _BUILT_IN):
        raise ValueError(
            f"A different scheme named {scheme.name!r} is already registered"
            + ("" if scheme.name in _BUILT_IN else " (pass replace=True to replace it)")
            + f". Received: {scheme!r}"
        )
    current = _DEFAULT_FOR_POINTS.get(scheme.num_points)
    if default and current not in (None, scheme.name):
        raise ValueError(
            f"{current!r} is already the default scheme for {scheme.num_points} points. "
            f"Received: default=True for {scheme.name!r}"
        )
    if old != scheme:
        for key in [k for k in _CORRESPONDENCES if scheme.name in k]:
            del _CORRESPONDENCES[key]  # indices of an old definition mean nothing now
        stale = old.num_points if old is not None else 0  # the name's count until now
        if stale != scheme.num_points and _DEFAULT_FOR_POINTS.get(stale) == scheme.name:
            del _DEFAULT_FOR_POINTS[stale]
        _REGISTRY[scheme.name] = scheme
    if default:
        _DEFAULT_FOR_POINTS[scheme.num_points] = scheme.name
    return _REGISTRY[scheme.name]


def scheme_for_points(num_points: int) -> PointScheme:
    """The default scheme for ``num_points`` landmarks: 76 -> ``muct76``, 68 -> ``ibug68``.

    Raises:
        ValueError: no default for that count (pass a scheme explicitly, or register yours
            with ``register_scheme(..., default=True)``).
    """
    name = _DEFAULT_FOR_POINTS.get(int(num_points))
    if name is None:
        known = ", ".join(f"{k} -> {v!r}" for k, v in sorted(_DEFAULT_FOR_POINTS.items()))
        raise ValueError(
            f"No default point scheme for {num_points} points ({known}); pass scheme=... "
            f"(a registered name or a PointScheme). Received: num_points={num_points}"
        )
    return _REGISTRY[name]


def register_correspondence(
    a: str | PointScheme, b: str | PointScheme, pairs: Sequence[tuple[int, int]]
) -> None:
    """Declare which points of two registered schemes are the same anatomical points.

    Args:
        a, b: two different registered schemes (or their names).
        pairs: ``(index in a, index in b)`` pairs. Each index may appear once per side, and
            the pairs must be closed under mirroring (if ``i`` is ``j`` then ``a.mirror[i]``
            is ``b.mirror[j]``), since anatomy does not depend on which way the face looks.

    Raises:
        ValueError: unregistered or equal schemes, an index out of range or repeated, or
            pairs not closed under mirroring.
    """
    sa, sb = get_scheme(a), get_scheme(b)
    for s in (sa, sb):
        if _REGISTRY.get(s.name) != s:
            raise ValueError(f"register the scheme {s.name!r} first. Received: {s!r}")
    if sa.name == sb.name:
        raise ValueError(f"a and b must be different schemes. Received: {sa.name!r} twice")
    clean = check_pairs(sa, sb, pairs)
    _CORRESPONDENCES.pop((sb.name, sa.name), None)
    _CORRESPONDENCES[(sa.name, sb.name)] = clean


MUCT76 = register_scheme(PointScheme(**MUCT76_FACTS), default=True)
"""The 76 MUCT points (Milborrow et al., 2010): docs/points.md."""

IBUG68 = register_scheme(PointScheme(**IBUG68_FACTS), default=True)
"""The 68 iBUG / 300-W points (Sagonas et al., 2013), the layout of dlib's 68-point model."""

register_correspondence(MUCT76, IBUG68, MUCT76_TO_IBUG68)
