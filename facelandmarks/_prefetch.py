"""Running an iterator a step ahead on a background thread, so that its work (decoding images,
finding faces, cutting crops: Pillow, NumPy and TensorFlow Lite release the GIL) overlaps the
caller's (the landmark model's forward passes); :class:`WriteBehind` is the other end.

With a single CPU there is nothing to overlap, so :func:`worth_a_thread` says no. The gains are
measured in benchmarks/README.md (``python benchmarks/throughput.py``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_POLL_S = 0.05  # how often a blocked producer checks whether the consumer has gone
_SPACE_POLL_S = (5e-5, 2e-4, 4e-4, 8e-4)
"""How long after the consumer's next take (expected at its last pace, at most
:data:`_PACE_MAX_S` away) a producer with ``depth`` items waiting looks for space again, before
it blocks until a take wakes it (see :class:`_Handoff`)."""
_PACE_MAX_S = 0.005  # a slower consumer leaves the producer blocked (woken by its take)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def worth_a_thread() -> bool:
    """Whether a producer thread can run beside the caller: at least 2 usable CPUs."""
    return usable_cpus() >= 2


class _Handoff:
    """The items between one producer thread and one consumer thread, up to ``depth``.

    A consumer that takes an item does not wake the producer (a futex wake costs about 40 us
    on this project's machines, on the engine's thread, once per batch); the producer, having
    run ahead, instead looks for space after short sleeps (:data:`_SPACE_POLL_S`) and only
    then blocks until a take wakes it (a consumer slow enough to leave it blocked pays for
    the wake-up out of its own slowness). At one face a batch this took the landmark step from
    87 to 92 % of the raw interpreter's rate against a ``queue.Queue`` (benchmarks/README.md).
    """

    def __init__(self, depth: int) -> None:
        self.items: deque = deque()
        self.depth = depth
        self.cond = threading.Condition(threading.Lock())
        self.consumer_waits = False
        self.producer_waits = False
        self.taken_at = time.perf_counter()  # when the consumer last took an item
        self.pace = 0.0  # the time between its last two takes

    def put(self, entry: Any, stop: threading.Event) -> bool:
        """Add ``entry`` once there is space; ``False`` if ``stop`` was set first."""
        polls = iter(_SPACE_POLL_S)
        while len(self.items) >= self.depth and not stop.is_set():
            delay = next(polls, None)
            if delay is not None:
                # sleep until just after the consumer's next take, going by its last pace
                due = self.taken_at + self.pace - time.perf_counter()
                time.sleep(min(max(due, 0.0), _PACE_MAX_S) + delay)
                continue
            with self.cond:
                if len(self.items) >= self.depth and not stop.is_set():
                    self.producer_waits = True
                    self.cond.wait(_POLL_S)
                    self.producer_waits = False
        if stop.is_set():
            return False
        with self.cond:
            self.items.append(entry)
            if self.consumer_waits:
                self.cond.notify()
        return True

    def take(self) -> Any:
        """The next entry, waiting for one."""
        with self.cond:
            while not self.items:
                self.consumer_waits = True
                self.cond.wait()
                self.consumer_waits = False
            entry = self.items.popleft()
            if self.producer_waits:
                self.cond.notify()
        now = time.perf_counter()
        self.pace, self.taken_at = now - self.taken_at, now
        return entry


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
    ready = _Handoff(depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for item in items:
                if not ready.put((item, None), stop):
                    return
            ready.put((end, None), stop)
        except BaseException as err:  # handed to the consumer, raised there
            ready.put((end, err), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="facelandmarks-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, err = ready.take()
            if item is end:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        with ready.cond:
            ready.cond.notify_all()  # a producer blocked for space sees the stop now
        worker.join()


class WriteBehind:
    """Calls ``consume(item)`` for each item handed to :meth:`put`, in order, on a daemon
    thread, up to ``depth`` items behind the caller: the other end of :func:`prefetch` (drawing
    and encoding video frames while the next frame is tracked).

    An exception raised by ``consume`` is raised by the next :meth:`put` or by :meth:`close`;
    the items after it are dropped. Use :meth:`close` when every item is handed over (it waits
    for them), :meth:`abandon` when giving up (it waits for the item being consumed, drops the
    rest and raises nothing).

    Raises:
        ValueError: ``depth < 1``.
    """

    def __init__(self, consume: Callable[[Any], None], depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1. Received: {depth!r}")
        self._consume = consume
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._dropping = False
        self._end = object()
        self._thread = threading.Thread(target=self._run, name="facelandmarks-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._end:
                return
            if self._error is None and not self._dropping:
                try:
                    self._consume(item)
                except BaseException as err:  # raised in the caller's thread
                    self._error = err

    def put(self, item: Any) -> None:
        """Hand one item over (blocks while ``depth`` items wait)."""
        if self._error is not None:
            raise self._error
        if not self._thread.is_alive():
            raise RuntimeError("put after close or abandon")
        self._queue.put(item)

    def close(self) -> None:
        """Wait until every item is consumed; raise ``consume``'s exception, if any."""
        self._finish()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Drop the items not yet consumed and stop; raises nothing."""
        self._dropping = True
        self._finish()

    def _finish(self) -> None:
        if self._thread.is_alive():
            self._queue.put(self._end)
            self._thread.join()
