"""Raw image sources: a camera, a video file or a folder of images, all as one iterator.

Each yields ``CapturedImage(t_s, index, image_rgb)`` and keeps ``stats``. Files are
deterministic (``t_s = index / fps``), so a video replays to the same frames every time; the
camera stamps frames with an injected clock and runs latest-frame-wins on its own thread, so a
slow consumer sees fresh frames instead of a growing backlog. OpenCV is used for all three and
only here; its errors become ``SourceError`` / ``NoCameraError`` naming the file or device.

Example:
    >>> from exhibit.config.schema import CameraConfig
    >>> source = open_image_source("clip.avi", CameraConfig())  # doctest: +SKIP
    >>> for image in source:  # doctest: +SKIP
    ...     print(image.index, image.t_s, image.image_rgb.shape)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from exhibit.closing import Closing
from exhibit.config.schema import CameraConfig
from exhibit.errors import NoCameraError, SourceError
from exhibit.sources.devices import describe_video_devices

log = logging.getLogger(__name__)

ImageArray = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
DEFAULT_VIDEO_FPS = 30.0


@dataclass(frozen=True, slots=True, eq=False)
class CapturedImage:
    """One image as captured: ``t_s`` on the source's clock, ``index`` counting from 0, and
    ``image_rgb`` (uint8, height x width x 3, RGB order)."""

    t_s: float
    index: int
    image_rgb: ImageArray

    @property
    def width_px(self) -> int:
        return int(self.image_rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image_rgb.shape[0])


@dataclass(slots=True)
class SourceStats:
    """What a source has done so far: images read from the device or file, images dropped
    (camera: overwritten before the consumer took them; folder: undecodable files), errors;
    for a camera, how often it was lost (no frame for a while: unplugged) and reopened."""

    frames_read: int = 0
    frames_dropped: int = 0
    errors: int = 0
    lost: int = 0
    reopened: int = 0


class ImageSource(Closing):
    """Base of every raw image source: an iterator of ``CapturedImage`` that must be closed.

    Why a base class: the CLI and ``PoseFrameSource`` take any source, and ask it the same
    things (size, fps, a short description for recordings and logs, stats).
    """

    width_px: int
    height_px: int
    fps: float

    def __init__(self) -> None:
        self.stats = SourceStats()

    def describe(self) -> str:  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def __iter__(self) -> Iterator[CapturedImage]:
        return self

    def __next__(self) -> CapturedImage:  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def close(self) -> None:
        """Release the file or device; safe to call twice."""

    def request_stop(self) -> None:
        """Make a waiting ``next()`` end the iteration soon; safe from a signal handler.

        Only a live source can block (a camera that was unplugged); files never wait.
        """


def _bgr_to_rgb(bgr: Any) -> ImageArray:
    if bgr.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB))
    if bgr.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB))
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


class VideoFileSource(ImageSource):
    """Frames of a video file, with ``t_s = index / fps`` so every run sees the same times.

    Why: gesture tuning and bug reports replay the same clip many times and must get the same
    frames and timestamps. The fps comes from the file (30 when the file does not say). The
    file is checked when opened: a missing file, or one in which no frame decodes, raises
    ``SourceError``. A frame that fails to decode later ends the stream (counted in
    ``stats.errors``) instead of killing the show.

    Example:
        >>> with VideoFileSource("visitor.avi") as video:  # doctest: +SKIP
        ...     first = next(video)
        >>> first.t_s, video.fps  # doctest: +SKIP
        (0.0, 30.0)
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"video file {self.path}: no such file")
        if not self.path.is_file():
            raise SourceError(f"video file {self.path}: not a file")
        try:
            self._capture: Any = cv2.VideoCapture(str(self.path))
        except cv2.error as exc:
            raise SourceError(f"video file {self.path}: OpenCV cannot open it ({exc})") from exc
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(
                f"video file {self.path}: cannot be opened as a video "
                "(not a video, corrupt, or a codec OpenCV lacks)"
            )
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and fps > 0 else DEFAULT_VIDEO_FPS
        count = float(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        self.frame_count: int | None = int(count) if math.isfinite(count) and count > 0 else None
        first = self._read()
        if first is None:
            self._capture.release()
            raise SourceError(f"video file {self.path}: no frame could be decoded (corrupt?)")
        self._pending: ImageArray | None = first
        self.height_px, self.width_px = int(first.shape[0]), int(first.shape[1])
        self._index = 0
        self._done = False

    def _read(self) -> ImageArray | None:
        try:
            ok, bgr = self._capture.read()
        except cv2.error as exc:
            log.warning("%s: OpenCV error while decoding: %s", self.path, exc)
            return None
        if not ok or bgr is None:
            return None
        self.stats.frames_read += 1
        return _bgr_to_rgb(bgr)

    def describe(self) -> str:
        return f"video:{self.path.name}"

    def __next__(self) -> CapturedImage:
        if self._done:
            raise StopIteration
        image = self._pending
        self._pending = None
        if image is None:
            image = self._read()
        if image is None:
            self._done = True
            if self.frame_count is not None and self._index < self.frame_count:
                self.stats.errors += 1
                log.warning(
                    "%s: frame %d of %d did not decode; ending the video there",
                    self.path,
                    self._index,
                    self.frame_count,
                )
            self.close()
            raise StopIteration
        captured = CapturedImage(self._index / self.fps, self._index, image)
        self._index += 1
        return captured

    def close(self) -> None:
        self._done = True
        self._capture.release()


class ImageFolderSource(ImageSource):
    """The images of a folder (``*.jpg``, ``*.jpeg``, ``*.png``, ``*.bmp``) in name order, as
    frames ``1 / fps`` apart.

    Why: photo sets test the pose path on many people and poses without a camera. A file that
    does not decode is logged, counted in ``stats.errors`` and ``stats.frames_dropped``, and
    skipped; the rest runs. A missing folder, or one with no image that decodes, raises
    ``SourceError``. Images may differ in size; ``width_px``/``height_px`` are the first one's.

    Example:
        >>> with ImageFolderSource("photos/", fps=10.0) as photos:  # doctest: +SKIP
        ...     print([image.t_s for image in photos])
        [0.0, 0.1, 0.2]
    """

    def __init__(self, path: str | Path, fps: float = 10.0) -> None:
        super().__init__()
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        if not self.path.is_dir():
            raise SourceError(f"image folder {self.path}: no such folder")
        self._files = sorted(
            p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self._files:
            kinds = ", ".join(f"*{s}" for s in IMAGE_SUFFIXES)
            raise SourceError(f"image folder {self.path}: no images ({kinds}) in it")
        self._position = 0
        self._index = 0
        first = self._next_decodable()
        if first is None:
            raise SourceError(f"image folder {self.path}: none of its images could be decoded")
        self._pending: ImageArray | None = first
        self.height_px, self.width_px = int(first.shape[0]), int(first.shape[1])

    def _next_decodable(self) -> ImageArray | None:
        while self._position < len(self._files):
            file = self._files[self._position]
            self._position += 1
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if bgr is None:
                self.stats.errors += 1
                self.stats.frames_dropped += 1
                log.warning("%s: cannot be decoded as an image; skipped", file)
                continue
            self.stats.frames_read += 1
            return _bgr_to_rgb(bgr)
        return None

    @property
    def files(self) -> tuple[Path, ...]:
        """Every image file the folder holds, in the order they are read."""
        return tuple(self._files)

    def describe(self) -> str:
        return f"folder:{self.path.name}"

    def __next__(self) -> CapturedImage:
        image = self._pending
        self._pending = None
        if image is None:
            image = self._next_decodable()
        if image is None:
            raise StopIteration
        captured = CapturedImage(self._index / self.fps, self._index, image)
        self._index += 1
        return captured

    def close(self) -> None:
        self._position = len(self._files)
        self._pending = None


class Capture(Protocol):
    """What ``CameraSource`` needs of a capture: the part of ``cv2.VideoCapture`` it uses."""

    def read(self) -> tuple[bool, Any]: ...

    def isOpened(self) -> bool: ...  # OpenCV spells it so

    def release(self) -> None: ...


CaptureFactory = Callable[[], Capture]


def _opencv_capture_factory(
    device: int | str, width_px: int, height_px: int, fps: float
) -> CaptureFactory:
    def open_capture() -> Capture:
        capture: Any = cv2.VideoCapture(device)
        if capture.isOpened():
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width_px)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height_px)
            capture.set(cv2.CAP_PROP_FPS, fps)
            # Keep the driver's own queue short too: latest frame wins end to end.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        result: Capture = capture
        return result

    return open_capture


class CameraSource(ImageSource):
    """A live camera read on its own thread, latest frame wins.

    Why: MediaPipe is slower than the camera on a Pi. Queuing frames would put the exhibit
    further and further behind the visitor, so the reader thread keeps only the newest frame in
    a single slot; a frame overwritten before the consumer took it is counted in
    ``stats.frames_dropped``. ``next()`` blocks until a frame newer than the last one returned
    arrives (``read(timeout_s)`` is the same with a timeout, returning None). ``t_s`` is the
    injected ``clock`` (``time.monotonic``) relative to the start.

    If the device cannot be opened, ``NoCameraError`` lists the video devices found. If the
    camera stops delivering (unplugged) for ``lost_after_s``, the thread logs it, counts it in
    ``stats.errors`` and reopens with a backoff doubling from ``reopen_backoff_s[0]`` up to
    ``reopen_backoff_s[1]``, until it works or ``close()`` is called; the consumer just waits.

    ``capture_factory`` (default: ``cv2.VideoCapture(device)``) returns an object with
    ``read()``, ``isOpened()`` and ``release()``; tests pass one that plays scripted frames.

    Example:
        >>> with CameraSource(0, 640, 480, 30.0) as camera:  # doctest: +SKIP
        ...     image = next(camera)
        ...     print(image.index, camera.stats.frames_dropped)
    """

    def __init__(
        self,
        device: int | str = 0,
        width_px: int = 640,
        height_px: int = 480,
        fps: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        capture_factory: CaptureFactory | None = None,
        lost_after_s: float = 2.0,
        reopen_backoff_s: tuple[float, float] = (0.5, 8.0),
    ) -> None:
        super().__init__()
        self.device = device
        self.width_px, self.height_px, self.fps = width_px, height_px, float(fps)
        self._clock = clock
        self._factory = capture_factory or _opencv_capture_factory(device, width_px, height_px, fps)
        self._lost_after_s = lost_after_s
        self._backoff_s = reopen_backoff_s
        capture = self._open()
        if capture is None:
            raise NoCameraError(f"camera {device!r} cannot be opened; {describe_video_devices()}")
        self._capture: Capture | None = capture
        self._cond = threading.Condition()
        self._slot: CapturedImage | None = None
        self._stop = threading.Event()
        self._t0 = clock()
        self._thread = threading.Thread(target=self._run, name=f"camera-{device}", daemon=True)
        self._thread.start()

    def _open(self) -> Capture | None:
        try:
            capture = self._factory()
        except Exception as exc:  # a driver or factory error means: not open (yet)
            log.warning("camera %r: open failed: %s", self.device, exc)
            return None
        if not capture.isOpened():
            capture.release()
            return None
        return capture

    def describe(self) -> str:
        return f"camera:{self.device}"

    # -- reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                capture = self._capture
                if capture is None:
                    capture = self._reopen()
                    if capture is None:
                        return  # closed while reopening
                    self._capture = capture
                last_ok = time.monotonic()
                while not self._stop.is_set():
                    try:
                        ok, bgr = capture.read()
                    except cv2.error as exc:
                        log.debug("camera %r: read error: %s", self.device, exc)
                        ok, bgr = False, None
                    if ok and bgr is not None:
                        last_ok = time.monotonic()
                        self._publish(index, _bgr_to_rgb(bgr))
                        index += 1
                    elif time.monotonic() - last_ok >= self._lost_after_s:
                        break
                    else:
                        self._stop.wait(0.005)  # a failing read can return at once
                if self._stop.is_set():
                    return
                with self._cond:
                    self.stats.errors += 1
                    self.stats.lost += 1
                log.warning(
                    "camera %r: no frame for %.1f s (unplugged?); reopening",
                    self.device,
                    self._lost_after_s,
                )
                capture.release()
                self._capture = None
        except Exception:  # pragma: no cover - a bug; say so rather than die silently
            log.exception("camera %r: reader thread failed", self.device)
        finally:
            if self._capture is not None:
                self._capture.release()
                self._capture = None
            with self._cond:
                self._cond.notify_all()

    def _publish(self, index: int, image: ImageArray) -> None:
        captured = CapturedImage(self._clock() - self._t0, index, image)
        with self._cond:
            self.stats.frames_read += 1
            if self._slot is not None:
                self.stats.frames_dropped += 1
            self._slot = captured
            if (captured.width_px, captured.height_px) != (self.width_px, self.height_px):
                self.width_px, self.height_px = captured.width_px, captured.height_px
            self._cond.notify_all()

    def _reopen(self) -> Capture | None:
        delay_s, attempt = self._backoff_s[0], 0
        while not self._stop.wait(delay_s):
            attempt += 1
            capture = self._open()
            if capture is not None:
                with self._cond:
                    self.stats.reopened += 1
                log.warning("camera %r: reopened after %d attempt(s)", self.device, attempt)
                return capture
            with self._cond:
                self.stats.errors += 1
            if attempt & (attempt - 1) == 0:  # log attempts 1, 2, 4, 8...: a bounded log
                log.warning(
                    "camera %r: still cannot be opened (attempt %d); %s",
                    self.device,
                    attempt,
                    describe_video_devices(),
                )
            delay_s = min(delay_s * 2.0, self._backoff_s[1])
        return None

    # -- consumer side -------------------------------------------------------------------

    def read(self, timeout_s: float | None = None) -> CapturedImage | None:
        """The newest frame not yet returned, waiting up to ``timeout_s`` (None: forever).

        Returns None on timeout, and at once once the source is closed.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while self._slot is None:
                if self._stop.is_set() or not self._thread.is_alive():
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(0.2 if remaining is None else min(remaining, 0.2))
            captured, self._slot = self._slot, None
            return captured

    def __next__(self) -> CapturedImage:
        captured = self.read(None)
        if captured is None:
            raise StopIteration
        return captured

    def now_s(self) -> float:
        """Now, on this camera's frame clock (the clock its images' ``t_s`` are on)."""
        return self._clock() - self._t0

    def request_stop(self) -> None:
        # Only sets an Event: no lock is taken, so a signal handler may call it while the
        # main thread waits inside read(), which notices within 0.2 s.
        self._stop.set()

    @property
    def running(self) -> bool:
        """True while the reader thread runs (also while it waits to reopen the camera)."""
        return self._thread.is_alive()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the reader thread (it releases the device) and wake a waiting consumer."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)


def open_image_source(spec: str | int, camera: CameraConfig) -> ImageSource:
    """The source ``spec`` names: a camera (an int, a string of digits or a ``/dev/`` path,
    opened with ``camera``'s size and fps), an image folder, or else a video file."""
    if isinstance(spec, int) or spec.strip().isdigit():
        device: int | str = int(spec)
    elif spec.startswith("/dev/"):
        device = spec
    elif Path(spec).is_dir():
        return ImageFolderSource(spec)
    else:
        return VideoFileSource(spec)
    return CameraSource(device, camera.width_px, camera.height_px, camera.fps)
