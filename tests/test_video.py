"""facelandmarks.video and ``facelandmarks video``: video files in and out, faces followed.

The videos are made here, in tmp_path: the public-domain astronaut moving across a canvas, and
a synthetic "face" (a bright disc) followed by a stand-in model that sees it exactly, to check
the tracker's schedule without a trained face-framed model.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelandmarks import _prefetch, inference
from facelandmarks import video as fl_video
from facelandmarks.config import DetectorConfig, StageConfig
from facelandmarks.face_detection import FaceBox
from facelandmarks.framing import calibrate_roi_from_points, roi_from_box
from facelandmarks.schemes import get_scheme
from facelandmarks.tracking import FaceTracker

REPO = Path(__file__).resolve().parents[1]
needs_av = pytest.mark.skipif(
    importlib.util.find_spec("av") is None,
    reason='PyAV is not installed (pip install "facelandmarks[video]")',
)


def astronaut_frames(n: int, step: int = 4) -> list[np.ndarray]:
    """The astronaut (360 px) on a 320x480 canvas, moving ``step`` px right per frame."""
    with Image.open(REPO / "examples" / "astronaut.png") as im:
        pic = np.asarray(im.convert("RGB").resize((240, 240), Image.Resampling.BILINEAR))
    frames = []
    for i in range(n):
        canvas = np.zeros((320, 480, 3), np.uint8)
        x = 80 + step * i
        canvas[40:280, x : x + 240] = pic
        frames.append(canvas)
    return frames


def write(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    with fl_video.VideoWriter(path, fps=fps) as out:
        for frame in frames:
            out.write(frame)
    return path


@needs_av
def test_written_video_reads_back(tmp_path) -> None:
    frames = astronaut_frames(6)
    path = write(tmp_path / "clip.mp4", frames, fps=np.float32(12.5))  # NumPy numbers too
    with fl_video.VideoReader(path) as video:
        assert video.info.width == 480 and video.info.height == 320
        assert video.info.fps == pytest.approx(12.5)
        got = list(video)
    assert len(got) == 6 and all(g.shape == (320, 480, 3) and g.dtype == np.uint8 for g in got)
    for a, b in zip(frames, got, strict=True):  # H.264 is lossy, but close
        assert np.abs(a.astype(int) - b).mean() < 4


@needs_av
def test_a_video_stored_sideways_is_read_upright(tmp_path) -> None:
    """A phone's portrait video: sideways pictures and a display rotation, which a player (and
    so the reader) applies."""
    import av

    upright = astronaut_frames(1)[0]  # 480 x 320
    with av.open(str(tmp_path / "phone.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 480, "yuv420p"
        stream.set_display_rotation(90)  # counter-clockwise, to show it
        stored = av.VideoFrame.from_ndarray(np.rot90(upright, -1).copy(), format="rgb24")
        for packet in [*stream.encode(stored), *stream.encode()]:
            container.mux(packet)
    with fl_video.VideoReader(tmp_path / "phone.mp4") as video:
        assert (video.info.width, video.info.height) == (480, 320)
        (got,) = list(video)
    assert np.abs(got.astype(int) - upright).mean() < 4


@needs_av
def test_odd_sizes_are_padded_and_failures_leave_nothing(tmp_path) -> None:
    path = write(tmp_path / "odd.mp4", [np.full((33, 45, 3), 128, np.uint8)] * 2)
    with fl_video.VideoReader(path) as video:
        assert (video.info.width, video.info.height) == (46, 34)
    target = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError), fl_video.VideoWriter(target, fps=10) as out:
        out.write(np.zeros((32, 32, 3), np.uint8))
        raise RuntimeError("interrupted")
    with pytest.raises(ValueError, match="no frame"), fl_video.VideoWriter(target, fps=10):
        pass
    with pytest.raises(ValueError, match="size"), fl_video.VideoWriter(target, fps=10) as out:
        out.write(np.zeros((32, 32, 3), np.uint8))
        out.write(np.zeros((32, 34, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4"]


@needs_av
@pytest.mark.parametrize(
    "name", ["clip.jpg", "clip.png", "clip.gif", "clip.ogv", "clip", "clip.txt"]
)
def test_a_name_no_video_can_be_written_to_is_refused_at_once(tmp_path, name) -> None:
    # a picture format (FFmpeg wrote one picture, then failed naming the temporary file), a
    # container without the codec (.ogv failed so at the first frame), no container at all:
    # all named before any frame is made
    with pytest.raises(ValueError, match=rf"\.mp4.*{re.escape(name)}'"):
        fl_video.VideoWriter(tmp_path / name, fps=10)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "folder.mp4").mkdir()  # it would have failed once the video was written
    with pytest.raises(IsADirectoryError, match=r"not a folder\. Received: .*folder\.mp4'"):
        fl_video.VideoWriter(tmp_path / "folder.mp4", fps=10)


@needs_av
def test_a_rate_a_container_cannot_keep_is_refused_at_once(tmp_path) -> None:
    # 1e300 overflowed, 1001 and >= 65536 failed in .avi naming the temporary file, 1e6 made an
    # .mp4 that read back no frame, 1e-4 was stored as 24
    for fps in (1e300, 1e6, 65536, 1001, 1e-4, 0, -5, float("nan"), True, "10"):
        for name in ("a.mp4", "a.avi"):
            received = re.escape(f"Received: fps={fps!r}")
            with pytest.raises(ValueError, match=rf"from 0\.001 to 1000\. {received}$"):
                fl_video.VideoWriter(tmp_path / name, fps=fps)
    assert list(tmp_path.iterdir()) == []
    frames = astronaut_frames(3)
    for fps in (1e-3, 1e3):
        for name in ("a.mp4", "a.avi", "a.webm", "a.flv"):  # .flv was given mpeg4, refused
            with fl_video.VideoReader(write(tmp_path / name, frames, fps=fps)) as video:
                assert video.info.fps == pytest.approx(fps) and len(list(video)) == 3


def test_missing_pyav_names_the_extra(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r'pip install "facelandmarks\[video\]"'):
        fl_video.VideoReader(tmp_path / "clip.mp4")
    with pytest.raises(ImportError, match=r"facelandmarks\[video\]"):
        fl_video.VideoWriter(tmp_path / "clip.mp4", fps=30)


@needs_av
def test_unreadable_video_is_named(tmp_path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(ValueError, match=r"notes\.mp4"):
        fl_video.VideoReader(bad)
    with pytest.raises(FileNotFoundError, match=r"missing\.mp4"):
        fl_video.VideoReader(tmp_path / "missing.mp4")


# --------------------------------------------------------------------------------------
# Following a synthetic face with a stand-in model that sees it exactly
# --------------------------------------------------------------------------------------
RADIUS = 40.0  # of the disc, pixels


def _template() -> np.ndarray:
    """76 MUCT points relative to the disc centre, in disc radii: eyes left and right above
    the centre, the rest on an ellipse."""
    t = np.linspace(0, 2 * np.pi, 76, endpoint=False)
    pts = np.stack([0.8 * np.cos(t), 0.9 * np.sin(t)], axis=-1)
    left, right = get_scheme("muct76").eyes
    for idx, cx in ((left, -0.35), (right, 0.35)):
        a = np.linspace(0, 2 * np.pi, len(idx), endpoint=False)
        pts[list(idx)] = np.stack([cx + 0.1 * np.cos(a), -0.2 + 0.05 * np.sin(a)], axis=-1)
    return pts


def disc_frames(n: int, step: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames with a bright disc moving ``step`` px right per frame, and its centres."""
    yy, xx = np.mgrid[0:240, 0:320]
    frames, centres = [], []
    for i in range(n):
        c = np.array([100.0 + step * i, 120.0])
        inside = (xx + 0.5 - c[0]) ** 2 + (yy + 0.5 - c[1]) ** 2 < RADIUS**2
        frames.append(np.where(inside[..., None], 230, 20).astype(np.uint8).repeat(3, axis=2))
        centres.append(c)
    return frames, np.array(centres)


class DiscFinder:
    """A face detector for the disc: its bounding box; counts its calls."""

    name = "blazeface"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        self.calls += 1
        ys, xs = np.nonzero(rgb[..., 0] > 128)
        if not len(xs):
            return []
        return [FaceBox((xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0), 0.9)]


def disc_engine(batch: np.ndarray) -> np.ndarray:
    """A perfect model of the disc: the template placed at the disc's centroid and size as
    seen in each crop, in the crop's normalised coordinates."""
    out = []
    for crop in batch:
        ys, xs = np.nonzero(crop[..., 0] > 128)
        h, w = crop.shape[:2]
        centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
        radius = np.sqrt(len(xs) / np.pi)
        out.append(((centre + _template() * radius) / [w, h]).reshape(-1))
    return np.array(out, np.float32)


class DiscDetector:
    """What FaceTracker and track_video use of a LandmarkDetector."""

    scheme = "muct76"

    def __init__(self, calibration: tuple[float, float, float]) -> None:
        stage = StageConfig(
            backbone="mobilenetv3small", input_size=(64, 64), framing="face", face_scale=1.6
        )
        self.config = DetectorConfig(stages=(stage,), roi_from_points={"muct76": calibration})
        self.finder = DiscFinder()
        self._engines = [disc_engine]

    def _detector(self):
        return self.finder, self.finder.name


def disc_detector(frame: np.ndarray, centre: np.ndarray) -> DiscDetector:
    """The stand-in, its calibration measured like training measures it (one face)."""
    truth = (centre + _template() * RADIUS - 0.5)[None]
    box = DiscFinder().detect(frame)[0].box
    roi = roi_from_box(np.array([box]), None, None, scale=1.6)
    calibration = calibrate_roi_from_points(truth, get_scheme("muct76").eyes, roi)
    return DiscDetector(calibration)


@needs_av
@pytest.mark.parametrize("spare_cpu", [True, False], ids=["threads", "one thread"])
@pytest.mark.parametrize("every", [4, None])
def test_tracker_follows_and_detects_every_n_frames(
    tmp_path, every, spare_cpu, monkeypatch
) -> None:
    monkeypatch.setattr(_prefetch, "worth_a_thread", lambda: spare_cpu)
    frames, centres = disc_frames(11, step=3)
    det = disc_detector(frames[0], centres[0])
    path = write(tmp_path / "disc.mp4", frames)
    results = []
    count = fl_video.track_video(
        det, path, tmp_path / "out.mp4", detect_every=every, smoothing=False,
        on_frame=lambda r, info: results.append(r),
    )  # fmt: skip
    assert count == len(results) == 11
    expected = len(range(0, 11, every)) if every else 1
    assert det.finder.calls == expected
    assert [r.faces[0].score is not None for r in results] == [
        i == 0 or (every is not None and i % every == 0) for i in range(11)
    ]
    for r, c in zip(results, centres, strict=True):
        truth = c + _template() * RADIUS - 0.5
        assert np.abs(r.faces[0].landmarks - truth).max() < 2.0  # lossy video, pixel rounding
    with fl_video.VideoReader(tmp_path / "out.mp4") as out:
        assert sum(1 for _ in out) == 11


@needs_av
@pytest.mark.parametrize("spare_cpu", [True, False], ids=["threads", "one thread"])
def test_an_interrupted_track_leaves_no_file_and_no_thread(tmp_path, spare_cpu, monkeypatch):
    monkeypatch.setattr(_prefetch, "worth_a_thread", lambda: spare_cpu)
    frames, centres = disc_frames(9, step=3)
    det = disc_detector(frames[0], centres[0])
    path = write(tmp_path / "disc.mp4", frames)
    before = set(tmp_path.iterdir())

    def stop_at_five(result, info) -> None:
        if result.index == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fl_video.track_video(det, path, tmp_path / "out.mp4", on_frame=stop_at_five)
    assert set(tmp_path.iterdir()) == before  # no output, no temporary file
    assert not [t for t in threading.enumerate() if t.name.startswith("facelandmarks-")]


@needs_av
@pytest.mark.parametrize("spare_cpu", [True, False], ids=["threads", "one thread"])
def test_a_source_without_a_frame_is_named_not_the_empty_output(tmp_path, spare_cpu, monkeypatch):
    monkeypatch.setattr(_prefetch, "worth_a_thread", lambda: spare_cpu)
    path = write(tmp_path / "cut.mkv", disc_frames(5, step=3)[0])
    data = path.read_bytes()  # cut 8 bytes into the first cluster: it opens, no frame decodes
    path.write_bytes(data[: data.index(b"\x1f\x43\xb6\x75") + 8])
    with pytest.raises(ValueError, match=r"source has no frame FFmpeg can decode: '.*cut\.mkv'$"):
        fl_video.track_video(object(), path, tmp_path / "out.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["cut.mkv"]
    with pytest.raises(ValueError, match=r"source has no frame"):  # not 0 frames without a word
        fl_video.track_video(object(), path)


@needs_av
def test_a_source_faster_than_a_video_keeps_is_copied_at_the_limit(tmp_path, caplog) -> None:
    import av  # a high-speed camera's 1200 fps: the copy stopped with "fps must be a number
    # from 0.001 to 1000. Received: fps=1200.0", though no fps was given

    frames, centres = disc_frames(3, step=3)
    with av.open(str(tmp_path / "fast.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=1200)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for rgb in [*frames, None]:
            picture = None if rgb is None else av.VideoFrame.from_ndarray(rgb, format="rgb24")
            out.mux(stream.encode(picture))
    det = disc_detector(frames[0], centres[0])
    with caplog.at_level("WARNING", logger="facelandmarks"):
        assert fl_video.track_video(det, tmp_path / "fast.mp4", tmp_path / "out.mp4") == 3
    assert "fast.mp4 has 1200 frames per second" in caplog.text
    assert "out.mp4 is written at 1000" in caplog.text
    with fl_video.VideoReader(tmp_path / "out.mp4") as video:
        assert video.info.fps == pytest.approx(1000) and len(list(video)) == 3


# --------------------------------------------------------------------------------------
# The shipped model, and the command line
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_det():
    from facelandmarks import LandmarkDetector

    return LandmarkDetector()


@needs_av
def test_tracked_landmarks_follow_the_face_like_predict(default_det, tmp_path) -> None:
    frames = astronaut_frames(8, step=4)
    path = write(tmp_path / "astronaut.mp4", frames)
    with fl_video.VideoReader(path) as video:
        decoded = list(video)
    tracker = FaceTracker(default_det, detect_every=3, smoothing=False)
    tracked = [tracker.update(frame).faces[0].landmarks for frame in decoded]
    alone = default_det.predict(decoded)
    if inference.tracked_placement(default_det.config, default_det.scheme, alone[0]) is not None:
        assert tracker.detections == 3  # frames 0, 3, 6
    else:  # a whole-image model cannot be followed: the tracker detects on every frame
        assert tracker.detections == 8
    for i, (t, p) in enumerate(zip(tracked, alone, strict=True)):
        # a followed face is placed like a detected one
        assert np.median(np.linalg.norm(t - p, axis=1)) < 3.0, i
        # and moves with the picture (sideways: the shipped two-stage model's points jump
        # by up to 25 px up and down when this photo moves by a few pixels, in predict too)
        assert abs(np.median(t[:, 0] - tracked[0][:, 0]) - 4 * i) < 5.0, i


def test_track_takes_one_frame_or_a_batch_of_frames(default_det) -> None:
    frame = astronaut_frames(1)[0]
    one = list(default_det.track(frame))  # one frame, not each of its 320 rows as a picture
    assert [(r.size, len(r.faces)) for r in one] == [((480, 320), 1)]
    assert len(list(default_det.track(np.stack([frame, frame])))) == 2
    with pytest.raises(TypeError, match="Received: object of type int"):
        default_det.track(7)


@needs_av
def test_cli_video_writes_the_copy_and_json_lines(default_det, tmp_path, capsys) -> None:
    from facelandmarks.cli import main

    src = write(tmp_path / "in.mp4", astronaut_frames(5), fps=10)
    out = tmp_path / "annotated.mp4"
    code = main(["video", str(src), str(out), "--json", "--detect-every", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    records = [json.loads(line) for line in lines]
    assert [r["frame"] for r in records] == [0, 1, 2, 3, 4]
    assert records[1]["time"] == pytest.approx(0.1)
    assert all(len(r["faces"]) == 1 and len(r["faces"][0]["landmarks"]) == 76 for r in records)
    with fl_video.VideoReader(out) as video:
        assert sum(1 for _ in video) == 5


@needs_av
def test_cli_video_needs_an_output(tmp_path, capsys) -> None:
    from facelandmarks.cli import main

    src = write(tmp_path / "in.mp4", astronaut_frames(1))
    assert main(["video", str(src)]) == 2
    assert "--json" in capsys.readouterr().err
    assert main(["video", str(src), str(src)]) == 2
    assert "source" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")  # a file where OUT's folder should be: bad input
    assert main(["video", str(src), str(tmp_path / "afile" / "out.mp4")]) == 2
    assert "'afile' is a file, not a folder" in capsys.readouterr().err.replace(
        str(tmp_path) + "/", ""
    )


def test_a_redetected_face_keeps_its_smoothing() -> None:
    """A face detected again (detect_every=1) overlaps its track, whose filter goes on: the
    smoothed points lag the moving disc instead of restarting on it."""
    frames, centres = disc_frames(6, step=6)
    det = disc_detector(frames[0], centres[0])
    tracker = FaceTracker(det, detect_every=1, smoothing={"min_cutoff": 0.05, "beta": 0.0})
    results = [tracker.update(frame) for frame in frames]
    assert tracker.detections == 6
    xs = [np.mean(r.faces[0].landmarks[:, 0]) for r in results]
    shift = np.array(xs) - centres[:, 0]
    assert abs(shift[0]) < 2.0  # the first frame starts the filter on the raw points
    assert shift[-1] < -15.0  # later ones trail the disc (30 px away) by half its move or more


def test_a_frame_of_another_size_is_detected_again() -> None:
    """A video whose frames change size (here doubled): the last frame's landmarks do not place
    the face in the new picture, so the tracker detects again instead of following them."""
    frames, centres = disc_frames(1, step=0)
    det = disc_detector(frames[0], centres[0])
    tracker = FaceTracker(det, detect_every=None, smoothing=False)
    tracker.update(frames[0])
    face = tracker.update(frames[0].repeat(2, axis=0).repeat(2, axis=1)).faces[0]
    assert det.finder.calls == 2 and face.score is not None
    truth = 2 * (centres[0] + _template() * RADIUS) - 0.5
    assert np.abs(face.landmarks - truth).max() < 2.0


def test_a_tiny_frame_is_warned_about_once_per_frame_size(caplog) -> None:
    """As iter_faces warns of an image under finding.MIN_SIDE a side: once, not every frame."""
    frames, centres = disc_frames(1, step=0)
    tracker = FaceTracker(disc_detector(frames[0], centres[0]), smoothing=False)
    tiny = np.zeros((20, 24, 3), np.uint8)
    with caplog.at_level("WARNING", logger="facelandmarks"):
        for frame in (tiny, tiny, frames[0], tiny):
            tracker.update(frame)
    warned = [r.getMessage() for r in caplog.records if "too small" in r.getMessage()]
    assert [m.split(" is only ")[0] for m in warned] == ["<frame #0>", "<frame #3>"]
    assert "only 24x20 pixels" in warned[0]


def test_two_faces_detected_over_one_track_get_a_track_each() -> None:
    """Two faces found where one was followed (faces crossing) both overlap its box: the more
    prominent one keeps its track, the other gets its own (sharing it, they shared the filter
    and the next frame placed both from the same landmarks)."""
    frames, centres = disc_frames(1, step=0)
    tracker = FaceTracker(disc_detector(frames[0], centres[0]), max_faces=2)
    tracker.update(frames[0])
    box, shift = np.array(tracker._tracks[0].box), np.array([0.2, 0, 0.2, 0]) * RADIUS
    places = [inference.Placement(box=tuple(box + s)) for s in (-shift, shift)]  # IoU 0.82
    first, second = tracker._match(places)
    assert first is tracker._tracks[0] and second is not first


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"detect_every": 0}, r"detect_every must be None or >= 1\. Received: 0"),
        ({"detect_every": 2.0}, r"detect_every .* Received: 2\.0"),
        ({"fps": 0}, r"fps must be a positive number\. Received: fps=0"),
        ({"fps": float("inf")}, r"fps=inf"),
        ({"max_faces": 0}, r"max_faces must be >= 1\. Received: max_faces=0"),
        ({"max_faces": True}, r"max_faces must be >= 1\. Received: max_faces=True"),
        ({"detect_every": True}, r"detect_every must be None or >= 1\. Received: True"),
        ({"smoothing": {"beta": False}}, r"beta must be a finite number >= 0\. Received: False"),
        ({"smoothing": "yes"}, r"smoothing must be a bool or a dict\. Received: 'yes'"),
        ({"smoothing": {"beta": -1.0}}, r"beta must be a finite number >= 0\. Received: -1\.0"),
        ({"smoothing": {"min_cutoff": float("nan")}}, r"min_cutoff must be a finite number"),
        ({"smoothing": {"d_cutoff": 0}}, r"> 0 \(Hz\)\. Received: min_cutoff=1\.0, d_cutoff=0"),
        (
            {"smoothing": {"beta": 0.1, "mincutoff": 1}},
            r"unknown smoothing setting 'mincutoff': the One Euro filter takes min_cutoff, beta, "
            r"d_cutoff\. Received: smoothing=\{'beta': 0\.1, 'mincutoff': 1\}",
        ),
    ],
)
def test_face_tracker_refuses_bad_settings_before_using_the_detector(kwargs, match):
    from facelandmarks.tracking import FaceTracker

    with pytest.raises(ValueError, match=match):
        FaceTracker(None, **kwargs)  # checked before the detector is touched


def test_face_tracker_takes_numpy_numbers() -> None:
    from facelandmarks.tracking import FaceTracker

    tracker = FaceTracker(
        None, detect_every=np.int64(5), fps=np.float32(25), max_faces=np.int32(2),
        smoothing={"beta": np.float32(0.1), "min_cutoff": np.int64(2)},
    )  # fmt: skip
    assert (tracker.detect_every, tracker.max_faces, tracker.dt) == (5, 2, pytest.approx(0.04))
