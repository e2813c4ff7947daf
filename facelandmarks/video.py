"""Landmarks through video files: read frames, follow faces, write an annotated copy.

Reading and writing video needs PyAV (one ~36 MB wheel with its own FFmpeg and H.264 encoder):
``pip install "facelandmarks[video]"``. :class:`~facelandmarks.tracking.FaceTracker` follows the
faces and :func:`facelandmarks.drawing.draw_landmarks` draws them.

Frames are uint8 ``(H, W, 3)`` RGB arrays, as everywhere in the library; landmarks are
``(x, y)`` pixels of the frame, origin top-left, pixel centres at integers
(docs/coordinates.md). Written videos are H.264 (``libx264``, ``yuv420p``) in ``.mp4``,
``.mov``, ``.mkv`` and ``.flv`` files, VP9 in ``.webm``, MPEG-4 part 2 otherwise (a container
that cannot hold it, such as Ogg, is refused); an odd width or height is padded by one edge pixel
(``yuv420p`` needs even sides). See docs/video.md.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from facelandmarks import _prefetch
from facelandmarks.face_detection.base import is_number
from facelandmarks.inference import ImageFaces

logger = logging.getLogger(__name__)

__all__ = ["VIDEO_EXTRA", "VideoInfo", "VideoReader", "VideoWriter", "track_video"]

VIDEO_EXTRA = 'pip install "facelandmarks[video]"'
"""How to install what this module needs (PyAV)."""

_RATES = (1e-3, 1e3)  # the frame rates every container here keeps (see VideoWriter)
_CODECS = {".webm": "libvpx-vp9"} | dict.fromkeys((".mp4", ".mov", ".mkv", ".flv"), "libx264")


def _av() -> Any:
    try:
        import av
    except ImportError as err:
        raise ImportError(
            f"Reading and writing video files needs PyAV: {VIDEO_EXTRA} (or pip install av)."
        ) from err
    return av


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds.

    Attributes:
        width, height: frame size in pixels.
        fps: frames per second (the stream's average rate; 30 when the file does not say).
        frames: the frame count the file declares, or ``None`` when it declares none.
    """

    width: int
    height: int
    fps: float
    frames: int | None


class VideoReader:
    """The frames of a video file, as uint8 ``(H, W, 3)`` RGB arrays (its first video stream),
    upright as a player shows them (turned by the stream's display rotation, if any).

    Args:
        path: the video file.

    Attributes:
        info: :class:`VideoInfo` of the stream.

    Raises:
        ImportError: PyAV is not installed (the message names the extra).
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a video FFmpeg can read, or has no video stream.

    Example:
        >>> with VideoReader("clip.mp4") as video:                  # doctest: +SKIP
        ...     for rgb in video:
        ...         print(rgb.shape)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        av = _av()
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"video must be an existing file. Received: {str(path)!r}")
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as err:
            raise ValueError(
                f"video must be a video file FFmpeg can read. Received: {str(path)!r} ({err})"
            ) from err
        if not self._container.streams.video:
            self._container.close()
            raise ValueError(f"video must have a video stream. Received: {str(path)!r}")
        stream = self._container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate and rate > 0 else 30.0
        self._frames = self._container.decode(stream)
        first = next(self._frames, None)  # its display rotation (a phone held upright) ...
        self._turns = round(getattr(first, "rotation", 0) / 90) % 4  # PyAV >= 14 reads it
        self._frames = itertools.chain([first] if first is not None else [], self._frames)
        size = (int(stream.width), int(stream.height))[:: -1 if self._turns % 2 else 1]
        self.info = VideoInfo(*size, fps, stream.frames or None)

    def __iter__(self) -> Iterator[np.ndarray]:
        for frame in self._frames:  # ... turns the frames as a player shows them
            yield np.ascontiguousarray(np.rot90(frame.to_ndarray(format="rgb24"), self._turns))

    def close(self) -> None:
        """Close the file (also done by the ``with`` block)."""
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoWriter:
    """Write uint8 RGB frames to a video file, atomically.

    The frames go to a hidden temporary file next to ``path``, which replaces ``path`` only
    when the writer is closed without an error (a ``with`` block that ends normally): a failure
    or a kill never leaves a truncated video.

    Args:
        path: destination; its extension picks the container and the codec (see the module
            docstring).
        fps: frames per second.

    Raises:
        ImportError: PyAV is not installed (the message names the extra).
        ValueError: ``fps`` is not a number from 0.001 to 1000 (faster rates are refused by
            .avi files or lose frames in .mp4 ones, slower ones are stored as 24), or FFmpeg
            cannot write a video to ``path`` (no container for its extension, one that cannot
            hold the codec, such as .ogv, or a picture format such as .jpg).
        IsADirectoryError: ``path`` is a folder.

    Example:
        >>> with VideoWriter("out.mp4", fps=30) as out:            # doctest: +SKIP
        ...     out.write(rgb)
    """

    def __init__(self, path: str | os.PathLike[str], *, fps: float) -> None:
        self._av = _av()
        if not (is_number(fps) and _RATES[0] <= fps <= _RATES[1]):
            raise ValueError(f"fps must be a number from 0.001 to 1000. Received: fps={fps!r}")
        from facelandmarks.fileio import atomic_path

        self.path = Path(path)
        if self.path.is_dir():  # found now, not when the finished video is moved onto it
            raise IsADirectoryError(f"path must name a file, not a folder. Received: {str(path)!r}")
        self.fps = float(fps)
        self.frames = 0
        suffix = self.path.suffix.lower()
        codec = _CODECS.get(suffix, "mpeg4")
        self._codec = codec if codec in self._av.codecs_available else "mpeg4"
        self._atomic = atomic_path(self.path, suffix=suffix)
        self._tmp = self._atomic.__enter__()
        self._container: Any = None
        self._size: tuple[int, int] | None = None
        try:  # a name FFmpeg cannot write a video to fails here, before any frame is made
            self._container = self._av.open(str(self._tmp), "w")
            if self._container.format.name == "image2":  # it would write one picture
                raise ValueError(f"{suffix} is a picture format")
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream(self._codec, rate=rate)
            # some containers refuse the codec only when the header is written, at the first
            # frame (.flv, .ogv and mpeg4): write one for a small video in memory now
            with self._av.open(io.BytesIO(), "w", format=self._container.format.name) as trial:
                stream = trial.add_stream(self._codec, rate=rate)
                stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
                try:
                    trial.start_encoding()
                except self._av.error.FFmpegError as err:
                    raise ValueError(f"a {suffix} file cannot hold {self._codec} video") from err
        except ValueError as err:  # what PyAV raises for these
            self.close(err)
            raise ValueError(
                "path must name a video file FFmpeg can write, e.g. .mp4, .mkv, .webm or .avi. "
                f"Received: {str(path)!r} ({err})"
            ) from err

    def write(self, frame: np.ndarray) -> None:
        """Append one frame.

        Args:
            frame: uint8 ``(H, W, 3)`` RGB; every frame of a video has the first one's size.

        Raises:
            ValueError: a frame of another type or size.
        """
        rgb = np.asarray(frame)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(
                "frame must be a uint8 (H, W, 3) RGB array. Received: "
                f"array of shape {rgb.shape} and dtype {rgb.dtype}"
            )
        height, width = rgb.shape[:2]
        if self._size is None:
            self._stream.width, self._stream.height = width + width % 2, height + height % 2
            self._stream.pix_fmt = "yuv420p"
            self._size = (height, width)
        elif rgb.shape[:2] != self._size:
            raise ValueError(
                f"frame must have the video's size {self._size} (height, width). Received: "
                f"{rgb.shape[:2]}"
            )
        if height % 2 or width % 2:
            rgb = np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), "edge")
        picture = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(picture):
            self._container.mux(packet)
        self.frames += 1

    def close(self, error: BaseException | None = None) -> None:
        """Finish the file and move it onto :attr:`path`; with ``error`` (what interrupted
        the writing), discard it instead. Closing twice does nothing.

        Raises:
            ValueError: no frame was written (nothing is left behind).
            OSError: the file cannot be finished or moved (nothing is left behind).
        """
        atomic, self._atomic = self._atomic, None
        if atomic is None:
            return
        failure = error
        try:
            if self._container is not None:
                if error is None and self._size is not None:
                    for packet in self._stream.encode():  # flush the encoder
                        self._container.mux(packet)
                self._container.close()
            if error is None and self._size is None:
                raise ValueError(f"no frame was written to {str(self.path)!r}")
        except BaseException as exc:
            failure = failure or exc
        if failure is None:
            atomic.__exit__(None, None, None)  # moves the file onto path
            return
        atomic.__exit__(type(failure), failure, failure.__traceback__)  # removes it
        if error is None:
            raise failure

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)


def track_video(
    detector: Any,
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    detect_every: int | None = 30,
    smoothing: bool | dict = True,
    max_faces: int = 1,
    indices: bool = False,
    on_frame: Callable[[ImageFaces, VideoInfo], None] | None = None,
) -> int:
    """Landmarks of the faces in every frame of a video file, optionally drawn into a copy.

    Args:
        detector: a :class:`facelandmarks.LandmarkDetector` (its scheme, model and face
            detector are used).
        source: the video file to read.
        output: where to write the annotated video (points, contours, face boxes), or ``None``
            for none. Written atomically, at the source's rate (one above 1000 fps, or below
            0.001, is brought to that limit, with a logged warning); it may not be ``source``.
        detect_every, smoothing, max_faces: as in :class:`facelandmarks.tracking.FaceTracker`
            (its ``fps`` is the video's).
        indices: also number the points in the annotated video.
        on_frame: called with each frame's :class:`~facelandmarks.inference.ImageFaces`
            (``index``: the frame number from 0; landmarks float32 ``(K, 2)`` pixels of the
            frame) and the video's :class:`VideoInfo`, in frame order.

    Returns:
        The number of frames read.

    Raises:
        ImportError: PyAV is not installed (the message names the extra).
        FileNotFoundError, ValueError: ``source`` cannot be read as a video or has no frame,
            ``output`` is ``source``, or a bad option (named).
        OSError: ``output`` cannot be written (nothing is left behind).
    """
    from facelandmarks.tracking import FaceTracker

    if output is not None and Path(output).resolve() == Path(source).resolve():
        raise ValueError(f"output must not be the source video. Received: output={str(output)!r}")
    with VideoReader(source) as video:
        tracker = FaceTracker(
            detector,
            detect_every=detect_every,
            smoothing=smoothing,
            fps=video.info.fps,
            max_faces=max_faces,
        )
        fps = min(max(video.info.fps, _RATES[0]), _RATES[1])
        writer = None if output is None else VideoWriter(output, fps=fps)
        if writer is not None and fps != video.info.fps:
            logger.warning(
                "%s has %g frames per second, beyond the %g to %g a written video keeps: %s is "
                "written at %g (every frame, played at that rate)",
                source,
                video.info.fps,
                *_RATES,
                output,
                fps,
            )

        def draw_and_write(item: tuple[np.ndarray, ImageFaces]) -> None:
            from facelandmarks.drawing import draw_landmarks

            rgb, result = item
            if result.faces:
                points = np.stack([f.landmarks for f in result.faces])
                boxes = np.array([f.box for f in result.faces], np.float64)
                scheme = detector.scheme
                drawn = draw_landmarks(rgb, points, boxes=boxes, indices=indices, scheme=scheme)
                rgb = np.asarray(drawn)
            writer.write(rgb)  # type: ignore[union-attr]

        # With a spare CPU, decode the next frames and draw and encode the last ones on two
        # background threads while this one tracks (tracking is sequential: each frame starts
        # from the last one's landmarks).
        spare = _prefetch.worth_a_thread()
        frames = _prefetch.prefetch(iter(video), depth=2) if spare else iter(video)
        behind = _prefetch.WriteBehind(draw_and_write) if spare and writer is not None else None
        try:
            for rgb in frames:
                result = tracker.update(rgb)
                if on_frame is not None:
                    on_frame(result, video.info)
                if behind is not None:
                    behind.put((rgb, result))
                elif writer is not None:
                    draw_and_write((rgb, result))
            if not tracker.frame_index:  # not "no frame was written", nor 0 frames without a word
                raise ValueError(f"source has no frame FFmpeg can decode: {str(source)!r}")
            if behind is not None:
                behind.close()
        except BaseException as exc:
            if behind is not None:
                behind.abandon()
            if writer is not None:
                writer.close(exc)
            raise
        finally:
            frames.close()  # stops the decoding thread before the file closes
        if writer is not None:
            writer.close()
    logger.info(
        "%s: %d frames, face detection on %d", source, tracker.frame_index, tracker.detections
    )
    return tracker.frame_index
