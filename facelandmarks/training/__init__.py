"""Training: the ``tf.data`` pipeline, augmentation, the fit loop and config-file runs.

``Augmentation`` (a plain dataclass) imports no TensorFlow; the pipeline does, so it is loaded on
first use.
"""

from __future__ import annotations

from typing import Any

from facelandmarks.training.options import Augmentation

__all__ = ["Augmentation", "make_example_fn", "make_tf_dataset"]


def __getattr__(name: str) -> Any:
    if name in ("make_example_fn", "make_tf_dataset"):
        from facelandmarks.training import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'facelandmarks.training' has no attribute {name!r}")
