"""facelandmarks.streaming and facelandmarks._prefetch: images in, faces out, with the work before
the model (decoding, finding faces, cutting crops) running ahead on a background thread.

The faces are synthetic: bright discs on a dark canvas, found by a stand-in face finder and
"landmarked" by a stand-in engine that puts every point at the disc's centroid as seen in its
crop, so each result can be checked against the disc's true centre.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import threading
import time
import weakref

import numpy as np
import pytest

from facelandmarks import _prefetch, finding, streaming
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.inference import Placement

RADIUS = 14.0
H, W = 120, 200

FACE = StageConfig(backbone="mobilenetv3small", input_size=(48, 48), framing="face")
POINTS = StageConfig(
    backbone="mobilenetv3small", input_size=(40, 40), framing="points", box_margin=0.5
)
ONE_STAGE = DetectorConfig(stages=(FACE,))
TWO_STAGES = DetectorConfig(stages=(FACE, POINTS))
FLIPPED = DetectorConfig(stages=(dataclasses.replace(FACE, test_time_flip=True),))


def draw(centres: list[tuple[float, float]], out: np.ndarray | None = None) -> np.ndarray:
    """A dark ``(H, W, 3)`` uint8 canvas with a bright disc at each centre."""
    yy, xx = np.mgrid[0:H, 0:W]
    inside = np.zeros((H, W), bool)
    for cx, cy in centres:
        inside |= (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 < RADIUS**2
    frame = np.where(inside[..., None], 230, 20).astype(np.uint8).repeat(3, axis=2)
    if out is None:
        return frame
    out[...] = frame
    return out


def find_discs(index: int, name: str, rgb: np.ndarray) -> list[Placement]:
    """The stand-in face finder: one box per run of bright columns (discs never share one)."""
    cols = np.flatnonzero((rgb[..., 0] > 128).any(axis=0))
    if not len(cols):
        return []
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    places = []
    for run in runs:
        rows = np.flatnonzero((rgb[:, run, 0] > 128).any(axis=1))
        box = (float(run[0]), float(rows[0]), run[-1] + 1.0, rows[-1] + 1.0)
        places.append(Placement(box, None, None, "blazeface", 0.9))
    return places


def centroid_engine(config: DetectorConfig):
    """Every point at the centroid of the bright pixels of each crop, normalised to it."""

    def run(batch: np.ndarray) -> np.ndarray:
        out = np.empty((len(batch), config.total_points * 2), np.float32)
        for i, crop in enumerate(batch):
            weight = np.clip(crop[..., 0] - 100.0, 0, None)
            yy, xx = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]]
            cx = ((xx + 0.5) * weight).sum() / weight.sum() / crop.shape[1]
            cy = ((yy + 0.5) * weight).sum() / weight.sum() / crop.shape[0]
            out[i] = np.tile([cx, cy], config.total_points)
        return out

    return run


def stream(config: DetectorConfig, images, engines=None, **kwargs):
    """``streaming.iter_faces`` with the stand-in finder (and engines, unless given)."""
    engines = engines or [centroid_engine(config)] * len(config.stages)
    return streaming.iter_faces(config, engines, images, find_discs, scheme="muct76", **kwargs)


def run(config: DetectorConfig, images, **kwargs) -> list:
    return list(stream(config, images, **kwargs))


SCENES = [
    [(50.0, 60.0)],
    [],
    [(40.0, 50.0), (140.0, 70.0)],
    [(100.5, 60.5)],
    [(30.0, 40.0), (90.0, 80.0), (160.0, 50.0)],
    [(120.0, 64.0)],
    [],
]


@pytest.mark.parametrize(
    "config", [ONE_STAGE, TWO_STAGES, FLIPPED], ids=["one stage", "two stages", "test-time flip"]
)
@pytest.mark.parametrize("batch_size", [1, 2, 3, 32])
def test_the_prefetched_stream_gives_the_serial_streams_results(config, batch_size) -> None:
    images = [draw(scene) for scene in SCENES]
    serial = run(config, images, batch_size=batch_size, prefetch=False)
    ahead = run(config, images, batch_size=batch_size, prefetch=True)
    assert [r.index for r in serial] == [r.index for r in ahead] == list(range(len(SCENES)))
    for s, a, scene in zip(serial, ahead, SCENES, strict=True):
        assert a.size == s.size == (W, H) and a.error is s.error is None
        assert len(a.faces) == len(s.faces) == len(scene)
        for fs, fa, centre in zip(s.faces, a.faces, scene, strict=True):
            assert fa.box == fs.box and fa.score == fs.score
            np.testing.assert_array_equal(fa.landmarks, fs.landmarks)
            # each face's points at its own disc's centre (pixel centres at integers)
            np.testing.assert_allclose(fa.landmarks, [[c - 0.5 for c in centre]] * 76, atol=0.6)


@pytest.mark.parametrize("config", [ONE_STAGE, TWO_STAGES], ids=["one stage", "two stages"])
@pytest.mark.parametrize("prefetch", [False, True])
def test_a_reused_frame_buffer_gives_each_frame_its_own_landmarks(config, prefetch) -> None:
    """A video reader may hand out one array, overwritten frame after frame: the faces of a
    frame must come from that frame, even when the model runs after the reader moved on."""
    centres = [(40.0 + 15 * i, 50.0 + 3 * i) for i in range(9)]
    buffer = np.empty((H, W, 3), np.uint8)
    frames = (draw([c], out=buffer) for c in centres)
    results = run(config, frames, batch_size=4, prefetch=prefetch)
    assert len(results) == len(centres)
    for result, (cx, cy) in zip(results, centres, strict=True):
        np.testing.assert_allclose(result.faces[0].landmarks[0], [cx - 0.5, cy - 0.5], atol=0.6)


def test_an_unreadable_image_is_named_or_skipped_in_order() -> None:
    images = [draw([(50.0, 60.0)]), "no/such/photo.png", draw([(120.0, 64.0)])]
    with pytest.raises(FileNotFoundError, match=r"no/such/photo\.png"):
        run(ONE_STAGE, images, prefetch=True, batch_size=1)
    skipped = run(ONE_STAGE, images, prefetch=True, on_error="skip")
    assert [r.index for r in skipped] == [0, 1, 2]
    assert skipped[1].faces == [] and "photo.png" in skipped[1].error and skipped[1].size is None
    assert len(skipped[0].faces) == len(skipped[2].faces) == 1


@pytest.mark.parametrize("prefetch", [False, True])
def test_an_object_that_is_no_image_is_named_by_position_or_skipped(prefetch) -> None:
    images = [draw([(50.0, 60.0)]), None, draw([(120.0, 64.0)]), b"\x89PNG"]
    with pytest.raises(TypeError, match=r"^Unsupported image images\[1\]: .*NoneType$"):
        run(ONE_STAGE, images, prefetch=prefetch)
    skipped = run(ONE_STAGE, images, prefetch=prefetch, on_error="skip")
    assert [(r.name, len(r.faces)) for r in skipped] == [
        ("<array #0>", 1), ("images[1]", 0), ("<array #2>", 1), ("images[3]", 0)
    ]  # fmt: skip
    assert "type NoneType" in skipped[1].error and "PIL.Image.open(io.BytesIO" in skipped[3].error


@pytest.mark.parametrize("prefetch", [False, True])
def test_the_images_read_before_a_failing_source_are_done_before_its_error(prefetch) -> None:
    """A camera that dies after 3 frames: their faces (waiting for a full batch) come first."""

    def camera():
        yield from (draw([(40.0 + 20 * i, 60.0)]) for i in range(3))
        raise RuntimeError("camera unplugged")

    results = []
    with pytest.raises(RuntimeError, match="camera unplugged"):
        results.extend(stream(ONE_STAGE, camera(), prefetch=prefetch))
    assert [(r.index, len(r.faces)) for r in results] == [(0, 1), (1, 1), (2, 1)]


def test_keep_images_hands_back_each_frame() -> None:
    images = [draw(scene) for scene in SCENES[:3]]
    for result, image in zip(
        run(ONE_STAGE, images, keep_images=True, prefetch=True), images, strict=True
    ):
        np.testing.assert_array_equal(result.image, image)


def test_stopping_early_stops_the_worker_and_closes_the_reader() -> None:
    closed = threading.Event()

    def endless():
        try:
            for i in itertools.count():
                yield draw([(30.0 + i % 100, 60.0)])
        finally:
            closed.set()

    results = stream(ONE_STAGE, endless(), batch_size=2, prefetch=True)
    assert len(list(itertools.islice(results, 5))) == 5
    results.close()
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "facelandmarks-prefetch"]


def test_a_thread_only_for_several_images_and_a_spare_cpu(monkeypatch) -> None:
    calls = []
    real = _prefetch.prefetch

    def spy(items, depth=1):
        calls.append(depth)
        return real(items, depth)

    monkeypatch.setattr(_prefetch, "prefetch", spy)
    image = draw([(50.0, 60.0)])
    for spare, images, n, expected in (
        (True, image, 1, 0),  # one image: nothing to overlap
        (True, [image], 1, 0),
        (True, [image, image], 2, 1),
        (True, iter([image, image]), 2, 1),  # length unknown
        (False, [image, image], 2, 0),  # one CPU
    ):
        calls.clear()
        monkeypatch.setattr(_prefetch, "worth_a_thread", lambda spare=spare: spare)
        assert len(run(ONE_STAGE, images)) == n
        assert len(calls) == expected, (spare, n)


def test_prefetch_keeps_order_and_raises_where_the_producer_failed() -> None:
    producer = []

    def items():
        for i in range(6):
            producer.append(threading.get_ident())
            yield i
        raise ValueError("the seventh item is broken")

    got = []
    with pytest.raises(ValueError, match="seventh item"):
        for item in _prefetch.prefetch(items(), depth=2):
            got.append(item)
    assert got == list(range(6))
    assert set(producer) and threading.get_ident() not in set(producer)
    assert list(_prefetch.prefetch(iter(range(50)), depth=3)) == list(range(50))
    assert list(_prefetch.prefetch(iter([]))) == []
    with pytest.raises(ValueError, match="depth"):
        next(_prefetch.prefetch(iter([1]), depth=0))


def test_closing_prefetch_early_leaves_the_producer_at_most_a_step_ahead() -> None:
    produced = []

    def items():
        for i in itertools.count():
            produced.append(i)
            yield i

    stream = _prefetch.prefetch(items(), depth=1)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    # consumed 3; at most one waiting in the queue and one in the producer's hands
    assert len(produced) <= 5
    assert not [t for t in threading.enumerate() if t.name == "facelandmarks-prefetch"]


@pytest.mark.parametrize("slow", ["consumer", "producer"])
def test_prefetch_wakes_whichever_side_waits(monkeypatch, slow) -> None:
    """A slow consumer leaves the producer blocked for space (after its short sleeps) until a
    take wakes it; a slow producer leaves the consumer blocked until a put wakes it. With the
    producer's fallback poll made an hour long, a missed wake-up would stall the stream."""
    monkeypatch.setattr(_prefetch, "_POLL_S", 3600.0)

    def items():
        for i in range(6):
            if slow == "producer":
                time.sleep(0.01)
            yield i

    got: list[int] = []

    def consume() -> None:
        for item in _prefetch.prefetch(items(), depth=1):
            if slow == "consumer":
                time.sleep(0.05)  # longer than all of the producer's sleeps together
            got.append(item)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), f"stalled after {got}"
    assert got == list(range(6))


def test_closing_prefetch_wakes_a_producer_blocked_for_space(monkeypatch) -> None:
    monkeypatch.setattr(_prefetch, "_POLL_S", 3600.0)
    stream = _prefetch.prefetch(itertools.count(), depth=1)
    assert next(stream) == 0
    time.sleep(0.05)  # the producer fills the space, sleeps, then blocks
    closer = threading.Thread(target=stream.close, daemon=True)
    closer.start()
    closer.join(timeout=60)
    assert not closer.is_alive(), "close waited for the producer's fallback poll"
    assert not [t for t in threading.enumerate() if t.name == "facelandmarks-prefetch"]


@pytest.mark.parametrize(
    ("prefetch", "batch_size", "batching", "expected"),
    [
        (False, 32, None, [32, 8]),
        (True, 32, None, [8, 16, 16]),
        (True, 16, "resize", [8, 16, 16]),
        (True, 32, "loop", [8] * 5),
        (False, 32, "loop", [32, 8]),
        (True, 4, None, [4] * 10),
        (False, 4, None, [4] * 10),
    ],
)
def test_engine_calls_hold_batch_size_faces_and_a_prefetched_stream_starts_small(
    prefetch, batch_size, batching, expected
) -> None:
    sizes = []
    engine = centroid_engine(ONE_STAGE)

    class Counting:
        def __call__(self, batch: np.ndarray) -> np.ndarray:
            sizes.append(len(batch))
            return engine(batch)

    counting = Counting()
    if batching is not None:
        counting.batching = batching  # as LiteModel says how it runs a batch

    images = [draw([(50.0 + i, 60.0)]) for i in range(40)]
    results = list(stream(ONE_STAGE, images, [counting], batch_size=batch_size, prefetch=prefetch))
    assert sizes == expected and sum(len(r.faces) for r in results) == 40


def test_write_behind_consumes_in_order_on_its_own_thread() -> None:
    got, threads = [], set()

    def consume(item: int) -> None:
        threads.add(threading.get_ident())
        got.append(item)

    sink = _prefetch.WriteBehind(consume, depth=2)
    for i in range(100):
        sink.put(i)
    sink.close()
    assert got == list(range(100))
    assert threads and threading.get_ident() not in threads
    with pytest.raises(RuntimeError, match="after close"):
        sink.put(100)
    with pytest.raises(ValueError, match="depth"):
        _prefetch.WriteBehind(consume, depth=0)


def test_write_behind_raises_the_consumers_error_and_drops_the_rest() -> None:
    got = []

    def consume(item: int) -> None:
        if item == 3:
            raise OSError("disk full")
        got.append(item)

    sink = _prefetch.WriteBehind(consume, depth=1)
    with pytest.raises(OSError, match="disk full"):
        for i in range(1000):  # raised by a put soon after item 3, or by close
            sink.put(i)
        sink.close()
    sink.abandon()
    assert got == [0, 1, 2]


def test_abandoning_write_behind_drops_what_waits() -> None:
    started, release, got = threading.Event(), threading.Event(), []

    def consume(item: int) -> None:
        started.set()
        release.wait(5)
        got.append(item)

    sink = _prefetch.WriteBehind(consume, depth=3)
    for i in range(3):
        sink.put(i)
    started.wait(5)
    threading.Timer(0.05, release.set).start()
    sink.abandon()  # waits for item 0, drops 1 and 2
    assert got == [0]
    assert not [t for t in threading.enumerate() if t.name == "facelandmarks-write"]


def test_decoded_pixels_are_let_go_once_nothing_needs_them() -> None:
    """A folder of large photos must not pile up in memory: without a later stage or
    keep_images, an image's pixels are released as soon as its crops are cut."""
    images = [draw([(50.0 + 10 * i, 60.0)]) for i in range(4)]
    for keep_rgb in (False, True):
        steps = streaming._steps(ONE_STAGE, images, find_discs, "raise", False, 2, 2, keep_rgb)
        entries, chunk = next(steps)
        assert [e.index for e in entries] == [0, 1] and len(chunk.faces) == 2
        assert (entries[0].rgb is None) == (not keep_rgb) and entries[0].size == (W, H)
    refs = []

    def frames():
        for i in range(6):
            frame = draw([(50.0 + 10 * i, 60.0)])
            refs.append(weakref.ref(frame))
            yield frame

    results = stream(ONE_STAGE, frames(), batch_size=2, prefetch=False)
    first = next(results)
    gc.collect()
    assert refs[0]() is None and first.image is None and first.size == (W, H)
    assert len(list(results)) == 5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"prefetch": "yes"}, "prefetch must be True, False or None"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"on_error": "ignore"}, "on_error must be 'raise' or 'skip'"),
    ],
)
def test_bad_arguments_are_named_at_the_call_not_at_the_first_next(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        stream(ONE_STAGE, [draw([(50.0, 60.0)])], **bad)  # no next()


def test_numpy_ints_are_batch_sizes_and_max_faces_and_bools_are_not() -> None:
    images = [draw(scene) for scene in SCENES[:3]]
    got, want = (run(ONE_STAGE, images, batch_size=n) for n in (np.int64(2), 2))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(
            [f.landmarks for f in a.faces], [f.landmarks for f in b.faces]
        )
    finding.finder_for("detect", None, None, np.int64(2), lambda _: (None, "x"))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        run(ONE_STAGE, images, batch_size=True)
    with pytest.raises(ValueError, match=r"max_faces must be None or >= 1\. Received: True"):
        finding.finder_for("detect", None, None, True, lambda _: (None, "x"))
