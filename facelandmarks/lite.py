"""Loading and running TensorFlow Lite models, without TensorFlow when LiteRT is installed.

The one module that owns TensorFlow Lite interpreters. Of third-party packages it imports only
NumPy: the interpreter class comes from ``ai_edge_litert`` (LiteRT, a ~10 MB wheel, imports in
milliseconds) when that is installed, and from TensorFlow (seconds to import) only when it is not.

:class:`LiteModel` wraps one flatbuffer: it checks the input, runs batches of any size and returns
the outputs in the model's own, stable order (:attr:`LiteModel.output_names`).

Batches. With more than one thread, a model whose batch dimension is dynamic
(``shape_signature[0] == -1``) is resized to the batch and invoked once; with one thread (the
default) it runs one invoke per item: there a resized batch is at best a few per cent faster and
a large one can be slower (its activations no longer fit the caches), while with two threads the
interpreter parallelises a batch better than one image. ``resize_tensor_input`` +
``allocate_tensors`` costs about 0.06 ms and the first invoke after it is no slower than the
next, so only the current size is kept. Models converted with a fixed batch of 1 (MediaPipe's
BlazeFace) often bake that 1 into reshapes (resized to B, BlazeFace short range returns
``(1, B * 896, 16)``); such models, and any whose resized outputs do not come out batch-first,
run one invoke per image.

Threads: the default is 1 (:data:`DEFAULT_NUM_THREADS`). Two threads make BlazeFace full range
and batched crops faster on an idle machine (pass ``num_threads=2`` there), but were up to 2x
slower whenever another process used the second core; one thread is never far from the best and
never pathological. The measurements are in benchmarks/README.md (``lite_batching.py``).
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from facelandmarks._prefetch import usable_cpus

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_NUM_THREADS", "LiteModel", "default_num_threads", "interpreter_class"]

DEFAULT_NUM_THREADS = 1
"""Interpreter threads used when ``num_threads=None`` (capped by the CPUs available; see the
module notes for the measurements behind 1)."""


def interpreter_class() -> type:
    """The TensorFlow Lite ``Interpreter`` class to use.

    Returns:
        ``ai_edge_litert.interpreter.Interpreter`` when ``ai-edge-litert`` is installed, else
        ``tensorflow.lite.Interpreter`` (TensorFlow is imported only in that case).

    Raises:
        ImportError: neither is installed (the message names ``pip install ai-edge-litert``).

    Example:
        >>> cls = interpreter_class()
        >>> cls.__name__
        'Interpreter'
    """
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        return Interpreter  # type: ignore[no-any-return]
    try:
        import tensorflow as tf
    except ImportError as err:
        raise ImportError(
            "Running TensorFlow Lite models needs an interpreter: install LiteRT with `pip install "
            "ai-edge-litert` (small, preferred) or TensorFlow (`pip install tensorflow`)."
        ) from err
    return tf.lite.Interpreter  # type: ignore[no-any-return]


def default_num_threads() -> int:
    """``min(DEFAULT_NUM_THREADS, CPUs this process may run on)``, at least 1."""
    return max(1, min(DEFAULT_NUM_THREADS, usable_cpus()))


def _check_threads(num_threads: Any) -> int:
    if num_threads is None:
        return default_num_threads()
    message = f"num_threads must be a positive int or None. Received: num_threads={num_threads!r}"
    if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)):
        raise TypeError(message)
    if num_threads < 1:
        raise ValueError(message)
    return int(num_threads)


def _read_model(model: Any) -> tuple[bytes, str]:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), f"<{len(model)} bytes>"
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        try:
            return path.read_bytes(), str(path)
        except OSError as err:
            raise FileNotFoundError(
                f"model must be TensorFlow Lite flatbuffer bytes or the path of a readable "
                f".tflite file. Received: model={str(model)!r} ({err.strerror or err})"
            ) from err
    raise TypeError(
        "model must be TensorFlow Lite flatbuffer bytes or a path (str or os.PathLike). "
        f"Received: model of type {type(model).__name__}"
    )


def _join(items: list[np.ndarray]) -> np.ndarray:
    """Per-item outputs to one batch: along their batch axis of 1, or stacked without one."""
    if items[0].ndim > 0 and items[0].shape[0] == 1:
        return np.concatenate(items, axis=0)
    return np.stack(items, axis=0)


class LiteModel:
    """One TensorFlow Lite model with one input, ready to run on NumPy batches.

    Calls from several threads take turns (a lock around each run: one interpreter holds one
    set of tensors); for parallel inference, build one ``LiteModel`` per thread.

    Args:
        model: the flatbuffer (``bytes``) or the path of a ``.tflite`` file.
        num_threads: interpreter threads, or ``None`` (default) for :func:`default_num_threads`
            (1; see the module notes for the measurements).

    Attributes:
        source: the path the model came from, or ``"<N bytes>"``.
        num_threads: the interpreter's thread count.

    Raises:
        TypeError: ``model`` or ``num_threads`` has the wrong type.
        FileNotFoundError: ``model`` is a path that cannot be read.
        ValueError: ``model`` is not a valid flatbuffer, has more or fewer than one input, or
            ``num_threads < 1``.
        ImportError: no interpreter is installed (see :func:`interpreter_class`).

    Example:
        >>> m = LiteModel("face_detection_short_range.tflite")  # doctest: +SKIP
        >>> m.input_shape, m.output_names  # doctest: +SKIP
        ((128, 128, 3), ('regressors', 'classificators'))
        >>> raw, logits = m.run(np.zeros((1, 128, 128, 3), np.float32))  # doctest: +SKIP
    """

    def __init__(
        self, model: bytes | str | os.PathLike[str], *, num_threads: int | None = None
    ) -> None:
        threads = _check_threads(num_threads)
        content, self.source = _read_model(model)
        cls = interpreter_class()
        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that it is deprecated in favour of LiteRT, which we use
            # first whenever it is installed.
            warnings.simplefilter("ignore", UserWarning)
            try:
                interp = cls(model_content=content, num_threads=threads)
                interp.allocate_tensors()
            except (ValueError, RuntimeError) as err:
                raise ValueError(
                    "model must be a valid TensorFlow Lite flatbuffer. Received: "
                    f"model={self.source!r}, which the interpreter rejects: {err}"
                ) from err
        inputs = interp.get_input_details()
        if len(inputs) != 1:
            raise ValueError(
                f"LiteModel runs models with exactly one input. Received: model={self.source!r} "
                f"with {len(inputs)} inputs"
            )
        self._content = content  # the interpreter reads the buffer; keep it alive
        self._interp = interp
        detail = inputs[0]
        self._outputs = interp.get_output_details()
        self.num_threads = threads
        signature = detail.get("shape_signature", detail["shape"])
        # Only a dynamic batch dimension is safe to resize, and only with several threads does
        # it pay (see the module notes).
        self._resizable = len(signature) > 0 and int(signature[0]) == -1 and threads > 1
        self._batch = int(detail["shape"][0])
        # looked up on every run: kept as plain Python values
        self._item_shape = tuple(int(v) for v in detail["shape"][1:])
        self._dtype = np.dtype(detail["dtype"])
        self._in_index = int(detail["index"])
        self._out_indices = [int(d["index"]) for d in self._outputs]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"LiteModel({self.source!r}, num_threads={self.num_threads}, "
            f"input_shape={self.input_shape}, outputs={self.output_names})"
        )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input item, without the batch axis (e.g. ``(128, 128, 3)``)."""
        return self._item_shape

    @property
    def input_dtype(self) -> np.dtype:
        """The input's dtype (e.g. ``float32``)."""
        return self._dtype

    @property
    def output_names(self) -> tuple[str, ...]:
        """The outputs' tensor names, in the order :meth:`run` returns them."""
        return tuple(str(d["name"]) for d in self._outputs)

    @property
    def batching(self) -> str:
        """``"resize"`` (one invoke per batch) or ``"loop"`` (one invoke per item)."""
        return "resize" if self._resizable else "loop"

    def _check_batch(self, batch: Any) -> np.ndarray:
        if (
            type(batch) is np.ndarray
            and batch.dtype == self._dtype
            and batch.shape[1:] == self._item_shape
            and batch.flags.c_contiguous
        ):
            return batch  # the common case, checked in a few microseconds
        x = np.asarray(batch)
        expected = f"(B, {', '.join(map(str, self.input_shape))}) {self.input_dtype}"
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"batch must be an array of shape {expected}. Received: batch of shape {x.shape}"
            )
        if x.dtype == self.input_dtype:
            return np.ascontiguousarray(x)
        numeric = np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
        if np.issubdtype(self.input_dtype, np.floating) and numeric:
            return np.ascontiguousarray(x, dtype=self.input_dtype)
        raise ValueError(
            f"batch must be an array of shape {expected} (floating models also take other real "
            f"number dtypes). Received: batch of dtype {x.dtype}"
        )

    def _invoke(self, x: np.ndarray) -> list[np.ndarray]:
        """One invoke on ``x`` (the interpreter must already have x's shape); holds the lock."""
        interp = self._interp
        interp.set_tensor(self._in_index, x)
        interp.invoke()
        return [interp.get_tensor(i) for i in self._out_indices]  # copies, owned

    def _resize(self, size: int) -> None:
        self._interp.resize_tensor_input(self._in_index, [size, *self.input_shape])
        self._interp.allocate_tensors()
        self._outputs = self._interp.get_output_details()
        self._out_indices = [int(d["index"]) for d in self._outputs]
        self._batch = size

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run the model on a batch.

        Args:
            batch: array of shape ``(B, *input_shape)``, ``B >= 0``, of :attr:`input_dtype`
                (a floating model also takes ints and other floats, converted).

        Returns:
            One array per output, in :attr:`output_names` order, each with ``B`` first: item
            ``i`` of every output belongs to ``batch[i]``, exactly as if run alone.

        Raises:
            ValueError: ``batch`` has the wrong shape or dtype.
        """
        x = self._check_batch(batch)
        size = x.shape[0]
        if size == 0:
            return [np.zeros((0, *d["shape"][1:]), dtype=d["dtype"]) for d in self._outputs]
        with self._lock:
            if self._resizable:
                if size != self._batch:
                    self._resize(size)
                outputs = self._invoke(x)
                # Output shapes are known only after the invoke (the interpreter propagates
                # the new batch size through the graph when it runs).
                if all(o.ndim > 0 and o.shape[0] == size for o in outputs):
                    return outputs
                # The batch does not come out first: treat the model as batch-1 from now on.
                logger.debug("%s: outputs do not follow a resized batch; looping", self.source)
                self._resizable = False
            if self._batch != 1:
                self._resize(1)
            per_item = [self._invoke(x[i : i + 1]) for i in range(size)]
        return [_join([item[k] for item in per_item]) for k in range(len(self._outputs))]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Run a single-output model on a batch (see :meth:`run`); returns that output.

        Raises:
            ValueError: the model has several outputs (use :meth:`run`), or ``batch`` has the
                wrong shape or dtype.
        """
        if len(self._outputs) != 1:
            raise ValueError(
                f"Calling a LiteModel returns its only output, but this model has "
                f"{len(self._outputs)} outputs {self.output_names}: use .run(batch). "
                f"Received: model={self.source!r}"
            )
        return self.run(batch)[0]
