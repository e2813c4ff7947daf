"""Running an iterator a step ahead on a background thread, so that its work (decoding images,
finding faces, cutting crops: Pillow, NumPy and TensorFlow Lite release the GIL) overlaps the
caller's (the landmark model's forward passes).

Measured on this project's 2-core machine (``python benchmarks/throughput.py``, 256 faces): with
one interpreter thread (the default), cutting the crops of the next batch while the interpreter
runs this one takes the landmark step from 1.01-1.02 to 0.67-0.76 ms a face (the interpreter
alone: 0.59 ms), and ``predict`` with face detection from 2.25-2.62 to 1.74-1.83 ms a face.
With two interpreter threads the gain is 0.98-1.36x. With a single CPU there is nothing to
overlap, so :func:`worth_a_thread` says no.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.05  # how often a blocked producer checks whether the consumer has gone


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worth_a_thread() -> bool:
    """Whether a producer thread can run beside the caller: at least 2 usable CPUs."""
    return usable_cpus() >= 2


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of ``items``, in order, produced on a daemon thread up to ``depth`` ahead.

    An exception raised by ``items`` is raised here, at the point of the stream where it
    happened (the items before it are yielded first). Closing this generator (a ``break`` in
    the caller's loop, garbage collection) stops the producer after the item it is working on
    and closes ``items`` on its own thread.

    Args:
        items: an iterator that nothing else advances while this one runs.
        depth: how many finished items may wait for the consumer (>= 1).

    Raises:
        ValueError: ``depth < 1``.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1. Received: {depth!r}")
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def hand_over(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((end, None))
        except BaseException as err:  # handed to the consumer, raised there
            hand_over((end, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="facelandmarks-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, err = ready.get()
            if item is end:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        worker.join()
