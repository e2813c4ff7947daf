"""Cumulative error distribution (CED) plots with matplotlib.

matplotlib is an optional dependency (``pip install "facelandmarks[plot]"``) imported only when
:func:`plot_ced` is called. :func:`plot_ced` is also importable from
:mod:`facelandmarks.drawing`. No Keras, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from facelandmarks import metrics as fl_metrics


def _nme_values(result: Any, index: int, func: str) -> np.ndarray:
    if isinstance(result, Mapping):
        if "per_image_nme" not in result:
            raise ValueError(
                f"{func} expects each result dict to hold 'per_image_nme' (the per-image "
                f"NMEs). Received: a dict with keys {sorted(result)} at position {index}"
            )
        result = result["per_image_nme"]
    values = np.asarray(result, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"{func} expects per-image NMEs as a non-empty 1-D array. Received: shape "
            f"{values.shape} at position {index}"
        )
    return values


def plot_ced(
    results: Mapping[str, Any] | Sequence[Any] | np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    max_threshold: float = 0.10,
    ax: Any = None,
) -> Any:
    """Plot cumulative error distribution (CED) curves with matplotlib.

    Args:
        results: one curve or several. A curve is a dict holding ``"per_image_nme"`` (e.g.
            ``{"per_image_nme": per_image_nme(pred, truth), "label": "ours"}``) or a raw
            array-like ``(N,)`` of per-image NMEs (unitless, finite, >= 0) such as
            :func:`facelandmarks.metrics.per_image_nme` returns. Several curves are
            given as a list of these; a flat list of numbers is one curve.
        labels: one legend label per curve. Default: a dict's ``"label"`` entry, else
            ``"curve 1"``, ``"curve 2"``, ... Each label gets the curve's AUC appended.
        max_threshold: right end of the x axis (NME), > 0; also the AUC's upper limit.
        ax: a matplotlib ``Axes`` to draw into; default a new figure via ``pyplot``.

    Returns:
        The matplotlib ``Axes`` drawn into.

    Raises:
        ImportError: matplotlib is not installed (the message says
            ``pip install "facelandmarks[plot]"``).
        ValueError: a dict without ``"per_image_nme"``, an empty or non-1-D NME array, NaN or
            negative NMEs, a bad ``max_threshold``, or a ``labels`` length that differs from
            the number of curves.

    Example:
        >>> from facelandmarks.metrics import per_image_nme
        >>> scores = det.evaluate(test, return_predictions=True)  # doctest: +SKIP
        >>> ax = plot_ced([per_image_nme(scores["predictions"], test.landmarks),
        ...                [0.03, 0.05, 0.2]], labels=["ours", "baseline"])  # doctest: +SKIP
    """
    func = "plot_ced"
    if isinstance(results, (Mapping, np.ndarray)):
        curves: list[Any] = [results]
    elif isinstance(results, Sequence) and not isinstance(results, (str, bytes)):
        if len(results) and all(np.ndim(r) == 0 and not isinstance(r, Mapping) for r in results):
            curves = [results]
        else:
            curves = list(results)
    else:
        raise ValueError(
            f"{func} expects a result dict, an array of per-image NMEs, or a list of these. "
            f"Received: {type(results).__name__}"
        )
    if not curves:
        raise ValueError(f"{func} expects at least one curve. Received: an empty list")
    arrays = [_nme_values(c, i, func) for i, c in enumerate(curves)]
    if labels is None:
        names = [
            str(c["label"]) if isinstance(c, Mapping) and "label" in c else f"curve {i + 1}"
            for i, c in enumerate(curves)
        ]
    else:
        names = [str(v) for v in labels]
        if len(names) != len(arrays):
            raise ValueError(
                f"{func} expects one label per curve ({len(arrays)}). Received: {len(names)} labels"
            )
    ceds = [fl_metrics.ced_curve(a, max_threshold=max_threshold) for a in arrays]
    aucs = [fl_metrics.auc(a, max_threshold=max_threshold) for a in arrays]

    try:
        import matplotlib  # noqa: F401

        if ax is None:
            import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{func} needs matplotlib, which is not installed. Install it with: "
            'pip install "facelandmarks[plot]"'
        ) from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for (thresholds, fractions), name, area in zip(ceds, names, aucs, strict=True):
        label = f"{name} (AUC@{max_threshold:g} = {area:.3f})"
        ax.step(thresholds, fractions, where="post", label=label)
    ax.set_xlim(0.0, max_threshold)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("NME (inter-ocular)")
    ax.set_ylabel("Fraction of images")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return ax
