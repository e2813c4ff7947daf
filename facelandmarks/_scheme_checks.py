"""Checks and normalisation of :class:`facelandmarks.schemes.PointScheme` fields, and of the
point pairs :func:`facelandmarks.schemes.register_correspondence` is given.

Pure Python/NumPy; imported by :mod:`facelandmarks.schemes` only.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def indices(value: Any, what: str, scheme: str, k: int, *, min_len: int = 1) -> tuple[int, ...]:
    """``value`` as a tuple of distinct ints in ``[0, k)``, or a ValueError naming ``what``."""
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(
            f"PointScheme {scheme!r}: {what} must be a sequence of point indices. "
            f"Received: {what}={value!r}"
        ) from None
    if (
        len(items) < min_len
        or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items)
        or not all(0 <= int(i) < k for i in items)
        or len(set(int(i) for i in items)) != len(items)
    ):
        raise ValueError(
            f"PointScheme {scheme!r}: {what} must hold at least {min_len} distinct int indices "
            f"in 0..{k - 1}. Received: {what}={value!r}"
        )
    return tuple(int(i) for i in items)


def is_mirror_map(mirror: Any, k: int) -> bool:
    """Whether ``mirror`` is a left-right point map of ``k`` points: a permutation of
    ``range(k)`` that is its own inverse (mirroring twice gives the original face)."""
    m = [int(i) for i in mirror]
    return sorted(m) == list(range(k)) and all(m[j] == i for i, j in enumerate(m))


def check_fields(fields: Any) -> dict[str, Any]:
    """Validate a scheme's fields; return them normalised (tuples of ints, bools, strings).

    Raises:
        ValueError: naming the scheme, the field, what was expected and what was received.
    """
    out: dict[str, Any] = {}
    name = fields.name
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            "PointScheme name must be a non-empty lower-case string of letters, digits, "
            f"'_', '.' or '-'. Received: name={name!r}"
        )
    k = fields.num_points
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"PointScheme {name!r}: num_points must be an int >= 1. Received: {k!r}")
    k = int(k)
    out["num_points"] = k
    names = tuple(fields.point_names)
    if len(names) != k or not all(isinstance(n, str) and n for n in names) or len(set(names)) != k:
        raise ValueError(
            f"PointScheme {name!r}: point_names must be {k} distinct non-empty strings. "
            f"Received: {len(names)} names, {len(set(names))} distinct"
        )
    out["point_names"] = names
    # at least k distinct indices in [0, k): exactly a permutation of range(k)
    mirror = indices(fields.mirror, "mirror", name, k, min_len=k)
    bad = [i for i in range(k) if mirror[mirror[i]] != i]
    if bad:
        raise ValueError(
            f"PointScheme {name!r}: mirror must be its own inverse (mirroring twice gives "
            f"the original face). Received: mirror[mirror[{bad[0]}]]="
            f"{mirror[mirror[bad[0]]]}"
        )
    out["mirror"] = mirror
    out["eye_corners"] = _mirror_pair(fields.eye_corners, "eye_corners", name, mirror)
    if fields.pupils is not None:
        out["pupils"] = _mirror_pair(fields.pupils, "pupils", name, mirror)
    if fields.eyes is not None:
        eyes = tuple(fields.eyes)
        if len(eyes) != 2:
            raise ValueError(
                f"PointScheme {name!r}: eyes must be two index sequences (image-left eye, "
                f"image-right eye). Received: eyes={fields.eyes!r}"
            )
        left, right = (indices(e, "eyes", name, k) for e in eyes)
        if {mirror[i] for i in left} != set(right):
            raise ValueError(
                f"PointScheme {name!r}: the two eyes must mirror onto each other. "
                f"Received: eyes={fields.eyes!r}"
            )
        out["eyes"] = (left, right)
    if fields.mouth is not None:
        mouth = indices(fields.mouth, "mouth", name, k)
        if {mirror[i] for i in mouth} != set(mouth):
            raise ValueError(
                f"PointScheme {name!r}: the mouth points must mirror onto themselves. "
                f"Received: mouth={fields.mouth!r}"
            )
        out["mouth"] = mouth
    out["contours"] = tuple(
        (indices(idx, "contour", name, k, min_len=2), bool(closed))
        for idx, closed in (_two(c, "contour", "(indices, closed)", name) for c in fields.contours)
    )
    out["groups"] = tuple(
        (str(group), indices(idx, "group", name, k))
        for group, idx in (_two(g, "group", "(name, indices)", name) for g in fields.groups)
    )
    out["description"] = str(fields.description)
    return out


def _mirror_pair(value: Any, what: str, name: str, mirror: tuple[int, ...]) -> tuple[int, ...]:
    """``value`` as two indices that mirror onto each other, or a ValueError naming ``what``."""
    pair = indices(value, what, name, len(mirror), min_len=2)
    if len(pair) != 2 or mirror[pair[0]] != pair[1]:
        raise ValueError(
            f"PointScheme {name!r}: {what} must be two indices that mirror onto each "
            f"other. Received: {what}={value!r}"
        )
    return pair


def _two(item: Any, what: str, form: str, name: str) -> tuple[Any, Any]:
    """``item`` unpacked into two parts, or a ValueError saying each ``what`` must be ``form``."""
    try:
        first, second = item
    except (TypeError, ValueError):
        raise ValueError(
            f"PointScheme {name!r}: each {what} must be {form}. Received: {item!r}"
        ) from None
    return first, second


def check_pairs(a: Any, b: Any, pairs: Any) -> tuple[tuple[int, int], ...]:
    """``pairs`` as ``(index in a, index in b)`` int pairs, checked against two schemes.

    Raises:
        ValueError: a pair that is not two ints, an index out of range or repeated on its side,
            or pairs not closed under mirroring (naming the first pair without its mirror).
    """
    try:
        clean = tuple((int(i), int(j)) for i, j in pairs)
    except (TypeError, ValueError):
        raise ValueError(
            f"pairs must be (index in {a.name!r}, index in {b.name!r}) int pairs. "
            f"Received: {pairs!r}"
        ) from None
    indices([i for i, _ in clean], "pairs (first indices)", a.name, a.num_points, min_len=0)
    indices([j for _, j in clean], "pairs (second indices)", b.name, b.num_points, min_len=0)
    as_set = set(clean)
    broken = [(i, j) for i, j in clean if (a.mirror[i], b.mirror[j]) not in as_set]
    if broken:
        raise ValueError(
            f"pairs must be closed under mirroring; {broken[0]} has no mirror pair "
            f"({a.mirror[broken[0][0]]}, {b.mirror[broken[0][1]]}). Received: {pairs!r}"
        )
    return clean
