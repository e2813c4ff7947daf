"""A landmark dataset: image paths plus pixel landmarks, and subject-aware splits.

Pure NumPy; imports no Keras. Format readers (:func:`facelandmarks.load_muct`), or your own
code (docs/training.md), build :class:`LandmarkDataset`; training, evaluation and ``predict``
consume it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from facelandmarks.schemes import PointScheme, find_scheme, get_scheme, scheme_for_points

logger = logging.getLogger(__name__)

_PER_IMAGE = ("image_paths", "names", "subjects", "cameras", "groups")
"""The per-image string fields, one entry per image."""


@dataclass(frozen=True, eq=False)
class LandmarkDataset:
    """Images on disk and their ground-truth landmarks.

    Attributes:
        image_paths: ``N`` paths, one per image.
        landmarks: float32 ``(N, P, 2)``: ``(x, y)`` in pixels of the full-size image as stored
            on disk (origin top-left, pixel centres at integers). ``NaN`` = unavailable point.
        names: ``N`` image identifiers (for MUCT the file stem, e.g. ``"i000qa-fn"``).
        subjects: ``N`` subject (identity) ids, stored as strings like every per-image label
            (numbers become their text); splits by subject keep an id on one side.
        cameras: ``N`` camera/view labels (MUCT: ``"a"`` .. ``"e"``), or ``""`` where unknown.
        groups: ``N`` stratification labels for splits (MUCT: lighting set ``"q"`` .. ``"z"``).
        mirror_landmarks: optional float32 ``(N, P, 2)``: ground truth for each image flipped
            left-right, in that flipped image's pixels (MUCT's ``ir`` rows); ``NaN`` rows where
            the source has none.
        image_sizes: optional int ``(N, 2)`` ``(width, height)`` when known from the format.
        source: where the dataset came from (for messages).
        split_groups: subjects that must stay on one side of a split together, ``{unit name:
            subject ids}`` (MUCT: the twins 247 and 248).
        scheme: name of the registered point scheme of the landmarks
            (:mod:`facelandmarks.schemes`), e.g. ``"muct76"`` or ``"ibug68"``. A
            :class:`~facelandmarks.schemes.PointScheme` may be passed; it is stored by name and
            must be the registered one. Default: the scheme for ``P`` points
            (:func:`~facelandmarks.schemes.scheme_for_points`: 76 -> ``"muct76"``, 68 ->
            ``"ibug68"``), or ``""`` (no scheme: your own points) when ``P`` has none.

    Raises:
        ValueError: mismatched lengths or shapes, an unknown scheme, or a scheme whose point
            count is not ``P``.
        TypeError: a single string or path where a per-image sequence is expected.
    """

    image_paths: tuple[str, ...]
    landmarks: np.ndarray
    names: tuple[str, ...]
    subjects: tuple[str, ...]
    cameras: tuple[str, ...]
    groups: tuple[str, ...] = ()
    mirror_landmarks: np.ndarray | None = None
    image_sizes: np.ndarray | None = None
    source: str = ""
    split_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scheme: str = ""

    def __post_init__(self) -> None:
        for attr in _PER_IMAGE:  # one str would pass as a sequence of its characters
            if isinstance(value := getattr(self, attr), (str, bytes, os.PathLike)):
                raise TypeError(
                    f"{attr} must be a sequence with one entry per image, not a single "
                    f"{type(value).__name__}. Received: {attr}={value!r}"
                )
        n = len(self.image_paths)
        lm = np.asarray(self.landmarks, dtype=np.float32)
        if lm.ndim != 3 or lm.shape[0] != n or lm.shape[2] != 2:
            raise ValueError(
                f"landmarks must be float32 (N, P, 2) with N = {n} images. "
                f"Received: shape {lm.shape}"
            )
        object.__setattr__(self, "landmarks", lm)
        if not len(self.groups):
            object.__setattr__(self, "groups", ("",) * n)
        for attr in _PER_IMAGE:
            values = tuple(map(str, getattr(self, attr)))  # paths, and ids read as numbers too
            if len(values) != n:
                raise ValueError(f"{attr} must have {n} entries. Received: {len(values)}")
            object.__setattr__(self, attr, values)
        if self.mirror_landmarks is not None:
            mlm = np.asarray(self.mirror_landmarks, dtype=np.float32)
            if mlm.shape != lm.shape:
                raise ValueError(
                    f"mirror_landmarks must match landmarks {lm.shape}. Received: {mlm.shape}"
                )
            object.__setattr__(self, "mirror_landmarks", mlm)
        if self.image_sizes is not None:
            sizes = np.asarray(self.image_sizes, dtype=np.int64)
            if sizes.shape != (n, 2):
                raise ValueError(f"image_sizes must be (N, 2). Received: {sizes.shape}")
            object.__setattr__(self, "image_sizes", sizes)
        object.__setattr__(self, "scheme", _scheme_name(self.scheme, lm.shape[1]))

    def __len__(self) -> int:
        return len(self.image_paths)

    def __repr__(self) -> str:
        return (
            f"LandmarkDataset({len(self)} images, {self.num_points} points"
            f"{f' ({self.scheme})' if self.scheme else ''}, "
            f"{len(set(self.subjects))} subjects, source={self.source!r})"
        )

    @property
    def num_points(self) -> int:
        """Number of landmarks per image (``P``)."""
        return int(self.landmarks.shape[1])

    @property
    def point_scheme(self) -> PointScheme | None:
        """The :class:`~facelandmarks.schemes.PointScheme` of :attr:`scheme`, or None."""
        return get_scheme(self.scheme) if self.scheme else None

    @property
    def available(self) -> np.ndarray:
        """bool ``(N, P)``: True where the ground-truth point is available (not NaN)."""
        return ~np.isnan(self.landmarks).any(axis=-1)

    def subset(self, indices: Sequence[int] | np.ndarray) -> LandmarkDataset:
        """A new dataset holding the images at ``indices`` (in that order), or where a boolean
        mask of ``N`` entries is True (``ds.subset(np.array(ds.cameras) == "a")``).

        Raises:
            IndexError: an index out of range or not an integer, or a mask of another length.
        """
        idx = np.asarray(indices)  # NumPy's indexing: a mask's True entries, not indices 0/1
        idx = np.arange(len(self))[idx if idx.size else idx.astype(np.int64)].reshape(-1)
        return replace(
            self,
            landmarks=self.landmarks[idx],
            mirror_landmarks=None if self.mirror_landmarks is None else self.mirror_landmarks[idx],
            image_sizes=None if self.image_sizes is None else self.image_sizes[idx],
            **{attr: tuple(getattr(self, attr)[i] for i in idx) for attr in _PER_IMAGE},
        )

    @classmethod
    def concat(cls, *datasets: LandmarkDataset) -> LandmarkDataset:
        """One dataset holding the images of ``datasets``, in the order given.

        Args:
            *datasets: one or more datasets with the same :attr:`scheme` and point count
                (mixing schemes needs :meth:`facelandmarks.schemes.PointScheme.transfer`
                first).

        Returns:
            A new dataset. ``mirror_landmarks`` is kept when any part has it (``NaN`` rows for
            the parts without); ``image_sizes`` only when every part has them; ``split_groups``
            are merged; ``source`` joins the parts' sources with ``" + "``.

        Raises:
            ValueError: no dataset, schemes or point counts that differ, or two parts that
                define the same ``split_groups`` unit differently.
            TypeError: an argument that is not a :class:`LandmarkDataset`.

        Example:
            >>> both = LandmarkDataset.concat(helen, afw)  # doctest: +SKIP
        """
        if not datasets:
            raise ValueError("concat expects at least one dataset. Received: none")
        first = datasets[0]
        for i, ds in enumerate(datasets):
            if not isinstance(ds, LandmarkDataset):
                raise TypeError(
                    f"concat expects LandmarkDataset arguments. Received: "
                    f"{type(ds).__name__} at position {i}"
                )
            if (ds.scheme, ds.num_points) != (first.scheme, first.num_points):
                raise ValueError(
                    "concat expects datasets of one point scheme. Received: "
                    f"{first.scheme or 'no scheme'!r} ({first.num_points} points) at position 0 "
                    f"and {ds.scheme or 'no scheme'!r} ({ds.num_points} points) at position {i}"
                )
        merged: dict[str, tuple[str, ...]] = {}
        for ds in datasets:
            for unit, members in ds.split_groups.items():
                if unit in merged and set(merged[unit]) != set(members):
                    raise ValueError(
                        f"concat: split_groups unit {unit!r} differs between datasets. "
                        f"Received: {merged[unit]!r} and {members!r}"
                    )
                merged[unit] = tuple(members)
        mirror = None
        if any(ds.mirror_landmarks is not None for ds in datasets):
            mirror = np.concatenate(
                [
                    np.full_like(ds.landmarks, np.nan)
                    if ds.mirror_landmarks is None
                    else ds.mirror_landmarks
                    for ds in datasets
                ]
            )
        sizes = None
        if all(ds.image_sizes is not None for ds in datasets):
            sizes = np.concatenate([ds.image_sizes for ds in datasets])  # type: ignore[misc]
        sources = list(dict.fromkeys(ds.source for ds in datasets if ds.source))
        return cls(
            landmarks=np.concatenate([ds.landmarks for ds in datasets]),
            mirror_landmarks=mirror,
            image_sizes=sizes,
            source=" + ".join(sources),
            split_groups=merged,
            scheme=first.scheme,
            **{attr: tuple(v for ds in datasets for v in getattr(ds, attr)) for attr in _PER_IMAGE},
        )

    def split(
        self, test_fraction: float = 0.3, *, by: str = "subject", seed: int = 0
    ) -> tuple[LandmarkDataset, LandmarkDataset]:
        """Split into ``(train, test)``, deterministically for a ``seed``.

        Args:
            test_fraction: share of images (``by="image"``) or of subjects (``by="subject"``)
                that go to the test side, in ``(0, 1)``.
            by: ``"subject"`` keeps every subject on exactly one side (and subjects linked in
                ``split_groups``, such as MUCT's identical twins 247/248, together), stratified
                by ``groups`` (MUCT: lighting set, each of which holds all five cameras) so
                every stratum appears on both sides where it has at least two subjects.
                ``"image"`` is the original 2019 project's random split of images, which puts
                the same people on both sides (test scores then flatter the model).
            seed: seed for the random permutation, an integer >= 0.

        Returns:
            ``(train, test)`` datasets; every image is in exactly one.

        Raises:
            ValueError: on a bad fraction, an unknown ``by``, a seed that is not an integer
                >= 0, or too few subjects/images to put at least one on each side.
        """
        if not isinstance(test_fraction, (int, float, np.floating)) or not 0 < test_fraction < 1:
            raise ValueError(
                "test_fraction must be a number in (0, 1). "
                f"Received: test_fraction={test_fraction!r}"
            )
        if by not in ("subject", "image"):
            raise ValueError(f"by must be 'subject' or 'image'. Received: by={by!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0. Received: seed={seed!r}")
        rng = np.random.default_rng(seed)
        n = len(self)
        if by == "image":
            if n < 2:
                raise ValueError(f"Need at least 2 images to split. Received: {n}")
            perm = rng.permutation(n)
            n_test = min(max(1, round(n * test_fraction)), n - 1)
            test_idx = np.sort(perm[:n_test])
            train_idx = np.sort(perm[n_test:])
        else:
            train_idx, test_idx = self._split_by_subject(float(test_fraction), rng)
        logger.info(
            "split %s by %s: %d train / %d test images",
            self.source or "dataset",
            by,
            len(train_idx),
            len(test_idx),
        )
        return self.subset(train_idx), self.subset(test_idx)

    def _split_by_subject(
        self, test_fraction: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        # Union subjects that must stay together (e.g. identical twins) into one unit.
        unit_of = {str(m): u for u, members in self.split_groups.items() for m in members}
        units = [unit_of.get(s, s) for s in self.subjects]
        unique_units = sorted(set(units))
        if len(unique_units) < 2:
            raise ValueError(
                f"Need at least 2 subjects to split by subject. Received: {len(unique_units)}"
            )
        # Stratum of a unit: its most common group label.
        stratum: dict[str, str] = {}
        for unit in unique_units:
            labels = [g for u, g in zip(units, self.groups, strict=True) if u == unit]
            values, counts = np.unique(labels, return_counts=True)
            stratum[unit] = str(values[np.argmax(counts)])
        test_units: set[str] = set()
        for label in sorted(set(stratum.values())):
            members = sorted(u for u in unique_units if stratum[u] == label)
            order = rng.permutation(len(members))
            k = round(len(members) * test_fraction)
            if len(members) >= 2:
                k = min(max(k, 1), len(members) - 1)
            test_units.update(members[i] for i in order[:k])
        if not test_units:
            test_units.add(unique_units[int(rng.integers(len(unique_units)))])
        if len(test_units) == len(unique_units):
            test_units.discard(sorted(test_units)[0])
        is_test = np.array([u in test_units for u in units])
        return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _scheme_name(scheme: str | PointScheme | None, num_points: int) -> str:
    """The registered scheme name for ``P`` landmarks (see the ``scheme`` attribute)."""
    if scheme is None or (isinstance(scheme, str) and not scheme):
        try:
            return scheme_for_points(num_points).name
        except ValueError:
            return ""
    found = get_scheme(scheme)
    if isinstance(scheme, PointScheme) and (find_scheme(scheme.name) != scheme):
        raise ValueError(
            f"scheme {scheme.name!r} must be registered first "
            f"(facelandmarks.schemes.register_scheme). Received: scheme={scheme!r}"
        )
    if found.num_points != num_points:
        raise ValueError(
            f"scheme {found.name!r} has {found.num_points} points but the landmarks have "
            f"{num_points}. Received: scheme={found.name!r}, landmarks with P={num_points}"
        )
    return found.name


def _check_reader_args(on_error: str, outside_tolerance: float) -> None:
    """ValueError unless ``on_error`` is ``"raise"``/``"skip"`` and the tolerance a number >= 0."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'. Received: on_error={on_error!r}")
    if (
        isinstance(outside_tolerance, bool)
        or not isinstance(outside_tolerance, (int, float))
        or not outside_tolerance >= 0
    ):
        raise ValueError(
            "outside_tolerance must be a number >= 0 (pixels). "
            f"Received: outside_tolerance={outside_tolerance!r}"
        )


def _outside_image(
    xy: np.ndarray, size: tuple[int, int], tol: float, *, one_based: bool = False
) -> str:
    """Why points ``xy`` ``(K, 2)`` do not fit a ``(width, height)`` image; ``""`` when they do.

    A point fits within ``tol`` px beyond the edges at -0.5 and W - 0.5; NaN always fits.
    ``one_based`` reports the point as its file states it (0-based value + 1).
    """
    width, height = size
    lo = -0.5 - tol
    with np.errstate(invalid="ignore"):
        outside = (xy[:, 0] < lo) | (xy[:, 1] < lo)
        outside |= (xy[:, 0] > width - 0.5 + tol) | (xy[:, 1] > height - 0.5 + tol)
    if not outside.any():
        return ""
    i = int(np.flatnonzero(outside)[0])
    x, y = xy[i] + 1 if one_based else xy[i]
    return (
        f"{int(outside.sum())} points lie more than {tol:g} px outside the {width}x{height} "
        f"image, e.g. point {i} at {'1-based ' if one_based else ''}({x:g}, {y:g}) (pass "
        "outside_tolerance=float('inf') to accept such points)"
    )
