"""Image sources and the pose source on real files: a video written by OpenCV, real images,
corrupt files. The camera's latest-frame-wins thread is driven by a scripted capture object
(OpenCV has no fake camera), and a camera index that cannot exist shows the real error."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from exhibit.config.schema import CameraConfig
from exhibit.errors import NoCameraError, SourceError
from exhibit.sources.devices import describe_video_devices, list_video_devices
from exhibit.sources.images import (
    CameraSource,
    CapturedImage,
    ImageFolderSource,
    VideoFileSource,
    open_image_source,
)
from exhibit.sources.pose import PoseEstimator
from exhibit.sources.pose_source import PoseFrameSource

VIDEO_FPS = 25.0
VIDEO_FRAMES = 10


@pytest.fixture(scope="module")
def astronaut_bgr() -> npt.NDArray[np.uint8]:
    rgb = cast(Callable[[], npt.NDArray[np.uint8]], data.astronaut)()
    image: npt.NDArray[np.uint8] = np.ascontiguousarray(rgb[:, :, ::-1])
    return image


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, astronaut_bgr: npt.NDArray[np.uint8]) -> Path:
    """A real MJPG .avi: the astronaut, shifted a little each frame."""
    path = tmp_path_factory.mktemp("video") / "astronaut.avi"
    height, width = astronaut_bgr.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, (width, height))
    assert writer.isOpened()
    for i in range(VIDEO_FRAMES):
        writer.write(np.roll(astronaut_bgr, 2 * i, axis=1))
    writer.release()
    return path


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator() as pose:
        yield pose


# -- video files -------------------------------------------------------------------------


def test_video_frames_with_poses_and_deterministic_times(
    video: Path, estimator: PoseEstimator
) -> None:
    with VideoFileSource(video) as images:
        assert images.fps == VIDEO_FPS
        assert (images.width_px, images.height_px) == (512, 512)
        assert images.describe() == "video:astronaut.avi"
        source = PoseFrameSource(images, estimator)
        frames = list(source)
    assert [f.index for f in frames] == list(range(VIDEO_FRAMES))
    assert [f.t_s for f in frames] == [i / VIDEO_FPS for i in range(VIDEO_FRAMES)]
    assert all((f.width_px, f.height_px) == (512, 512) for f in frames)
    assert all(len(f.skeletons) == 1 for f in frames)
    assert source.frames == source.frames_with_pose == VIDEO_FRAMES
    assert 0 < source.last_inference_s < 5
    assert 0 < source.median_inference_s() < 5
    assert "10 frames, 10 with a pose (100%)" in source.stats_line()
    assert images.stats.frames_read == VIDEO_FRAMES
    assert images.stats.errors == 0


def test_video_gives_rgb(video: Path, astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    with VideoFileSource(video) as images:
        first = next(images)
    assert isinstance(first, CapturedImage)
    rgb = astronaut_bgr[:, :, ::-1].astype(np.int16)
    # MJPG is lossy: compare channel means, which a swapped channel order would change a lot.
    assert np.allclose(first.image_rgb.mean(axis=(0, 1)), rgb.mean(axis=(0, 1)), atol=3)


def test_missing_video_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.avi"
    with pytest.raises(SourceError, match=r"nowhere\.avi: no such file"):
        VideoFileSource(missing)


def test_corrupt_video_names_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.avi"
    junk.write_bytes(np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError, match=r"junk\.avi") as info:
        VideoFileSource(junk)
    assert "cannot be opened" in str(info.value) or "no frame" in str(info.value)


def test_video_cut_short_ends_cleanly(tmp_path: Path, video: Path) -> None:
    """A file truncated mid-stream (a copy interrupted): the frames before the cut, then the
    end; no exception into the show."""
    cut = tmp_path / "cut.avi"
    data_bytes = video.read_bytes()
    cut.write_bytes(data_bytes[: len(data_bytes) * 6 // 10])
    with VideoFileSource(cut) as images:
        frames = list(images)
    assert 1 <= len(frames) < VIDEO_FRAMES
    assert [f.index for f in frames] == list(range(len(frames)))


# -- image folders -----------------------------------------------------------------------


def test_folder_skips_a_corrupt_image(
    tmp_path: Path, astronaut_bgr: npt.NDArray[np.uint8], caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    assert cv2.imwrite(str(folder / "a.jpg"), astronaut_bgr)
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    assert cv2.imwrite(str(folder / "c.png"), astronaut_bgr[::2, ::2])
    (folder / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING), ImageFolderSource(folder, fps=10.0) as images:
        assert images.describe() == "folder:photos"
        assert [p.name for p in images.files] == ["a.jpg", "b.png", "c.png"]
        got = list(images)
    assert [(g.index, g.t_s) for g in got] == [(0, 0.0), (1, 0.1)]
    assert [g.image_rgb.shape for g in got] == [(512, 512, 3), (256, 256, 3)]
    assert images.stats.frames_read == 2
    assert images.stats.errors == 1
    assert "b.png" in caplog.text


def test_folder_through_pose(
    tmp_path: Path, astronaut_bgr: npt.NDArray[np.uint8], estimator: PoseEstimator
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "one.png"), astronaut_bgr)
    with ImageFolderSource(folder) as images:
        frames = list(PoseFrameSource(images, estimator))
    assert len(frames) == 1
    assert len(frames[0].skeletons) == 1


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path)
    with pytest.raises(SourceError, match="no such folder"):
        ImageFolderSource(tmp_path / "gone")
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(SourceError, match="none of its images"):
        ImageFolderSource(tmp_path)


def test_open_image_source_picks_the_kind(tmp_path: Path, video: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    cv2.imwrite(str(folder / "x.png"), np.zeros((8, 8, 3), np.uint8))
    with open_image_source(str(video), CameraConfig()) as images:
        assert isinstance(images, VideoFileSource)
    with open_image_source(str(folder), CameraConfig()) as images:
        assert isinstance(images, ImageFolderSource)
    with pytest.raises(NoCameraError):
        open_image_source("97", CameraConfig())
    with pytest.raises(SourceError, match="no such file"):
        open_image_source(str(tmp_path / "nope.mp4"), CameraConfig())


# -- devices -----------------------------------------------------------------------------


def test_list_video_devices(tmp_path: Path) -> None:
    assert list_video_devices(tmp_path) == []
    assert describe_video_devices(tmp_path) == "no video devices found"
    for name in ("video10", "video2", "video0", "vcs"):
        (tmp_path / name).touch()
    by_id = tmp_path / "v4l" / "by-id"
    by_id.mkdir(parents=True)
    (by_id / "usb-Cam_123-video-index0").symlink_to("../../video0")
    found = list_video_devices(tmp_path)
    assert found[:3] == [str(tmp_path / f"video{n}") for n in (0, 2, 10)]
    assert found[3] == f"{by_id / 'usb-Cam_123-video-index0'} -> {tmp_path / 'video0'}"
    assert describe_video_devices(tmp_path).startswith("video devices found: ")


def test_missing_camera_lists_devices() -> None:
    with pytest.raises(NoCameraError) as info:
        CameraSource(97)
    message = str(info.value)
    assert "camera 97" in message
    assert describe_video_devices() in message


# -- camera: latest frame wins -----------------------------------------------------------


class ScriptedCapture:
    """Stands in for ``cv2.VideoCapture``: ``read()`` returns the frames ``push``ed, waiting
    briefly for one like a camera does; after ``unplug()`` every read fails."""

    def __init__(self) -> None:
        self._frames: queue.Queue[npt.NDArray[np.uint8]] = queue.Queue()
        self.unplugged = False
        self.released = False

    def push(self, value: int) -> None:
        self._frames.put(np.full((4, 6, 3), value, dtype=np.uint8))

    def unplug(self) -> None:
        self.unplugged = True

    def read(self) -> tuple[bool, Any]:
        if self.unplugged:
            return False, None
        try:
            return True, self._frames.get(timeout=0.02)
        except queue.Empty:
            return False, None

    def isOpened(self) -> bool:  # OpenCV's spelling
        return not self.unplugged

    def release(self) -> None:
        self.released = True


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_camera_latest_frame_wins() -> None:
    capture = ScriptedCapture()
    ticks = itertools.count()
    camera = CameraSource(
        0, 6, 4, 30.0, clock=lambda: float(next(ticks)), capture_factory=lambda: capture
    )
    try:
        assert camera.read(timeout_s=0.05) is None
        for value in range(5):
            capture.push(value)
        _wait_for(lambda: camera.stats.frames_read == 5)
        got = next(camera)
        assert (got.index, int(got.image_rgb[0, 0, 0])) == (4, 4)
        assert got.t_s == 5.0  # clock tick 0 at the start, ticks 1..5 for the five frames
        assert camera.stats.frames_dropped == 4
        assert camera.read(timeout_s=0.05) is None  # nothing newer than frame 4
        for value in (5, 6, 7):
            capture.push(value)
        _wait_for(lambda: camera.stats.frames_read == 8)
        got = next(camera)
        assert (got.index, int(got.image_rgb[0, 0, 0])) == (7, 7)
        assert camera.stats.frames_dropped == 6
        assert (camera.width_px, camera.height_px) == (6, 4)
        assert camera.describe() == "camera:0"
    finally:
        camera.close()
    assert not camera.running
    assert capture.released
    assert camera.read(timeout_s=1.0) is None
    with pytest.raises(StopIteration):
        next(camera)


def test_camera_faster_than_consumer() -> None:
    """A free-running camera and a slow consumer: drops, and never an old frame."""
    capture = ScriptedCapture()
    stop = threading.Event()

    def produce() -> None:
        for value in itertools.count():
            if stop.is_set():
                return
            capture.push(value % 256)
            time.sleep(0.001)

    producer = threading.Thread(target=produce, daemon=True)
    camera = CameraSource(0, 6, 4, 30.0, capture_factory=lambda: capture)
    producer.start()
    try:
        taken = []
        for _ in range(10):
            image = camera.read(timeout_s=2.0)
            assert image is not None
            taken.append(image)
            time.sleep(0.01)
    finally:
        stop.set()
        camera.close()
        producer.join()
    indexes = [image.index for image in taken]
    assert indexes == sorted(set(indexes))
    times = [image.t_s for image in taken]
    assert times == sorted(times)
    assert camera.stats.frames_dropped > 0
    assert camera.stats.frames_read >= camera.stats.frames_dropped + len(taken)


def test_camera_unplugged_is_reopened(caplog: pytest.LogCaptureFixture) -> None:
    first, second = ScriptedCapture(), ScriptedCapture()
    dead = ScriptedCapture()
    dead.unplug()  # what opening a device that is gone looks like
    captures = itertools.chain([first, dead, dead], itertools.repeat(second))
    camera = CameraSource(
        "/dev/video0",
        capture_factory=lambda: next(captures),
        lost_after_s=0.3,
        reopen_backoff_s=(0.01, 0.02),
    )
    try:
        first.push(1)
        assert camera.read(timeout_s=2.0) is not None
        with caplog.at_level(logging.WARNING):
            first.unplug()
            second.push(2)
            image = camera.read(timeout_s=5.0)  # no exception: the consumer just waits
        camera.close()
        assert image is not None
        assert int(image.image_rgb[0, 0, 0]) == 2
        assert image.index == 1
        assert camera.stats.errors == 3  # the loss, then two failed reopen attempts
        assert "unplugged" in caplog.text
        assert "reopened after 3 attempt(s)" in caplog.text
        assert first.released
    finally:
        camera.close()


def test_close_stops_reopening_quickly() -> None:
    first = ScriptedCapture()
    dead = ScriptedCapture()
    dead.unplug()
    captures = itertools.chain([first], itertools.repeat(dead))
    camera = CameraSource(
        1, capture_factory=lambda: next(captures), lost_after_s=0.01, reopen_backoff_s=(0.01, 0.5)
    )
    first.unplug()
    _wait_for(lambda: camera.stats.errors >= 3)
    start = time.monotonic()
    camera.close()
    assert time.monotonic() - start < 1.0
    assert not camera.running


def test_request_stop_ends_a_wait_for_an_unplugged_camera() -> None:
    """What SIGINT does in ``exhibit run``: the loop waiting in ``next(camera)`` for a camera
    that was unplugged ends within a fraction of a second (the handler only sets an event)."""
    first = ScriptedCapture()
    dead = ScriptedCapture()
    dead.unplug()
    captures = itertools.chain([first], itertools.repeat(dead))
    camera = CameraSource(
        2, capture_factory=lambda: next(captures), lost_after_s=0.01, reopen_backoff_s=(0.05, 0.5)
    )
    first.unplug()
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(next(camera, "ended")))
    try:
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive(), "next() should wait while the camera is away"
        start = time.monotonic()
        camera.request_stop()
        waiter.join(2.0)
        assert not waiter.is_alive()
        assert time.monotonic() - start < 1.0
        assert result == ["ended"]
    finally:
        camera.close()


def test_gated_images_skip_inference(video: Path, estimator: PoseEstimator) -> None:
    asked: list[float] = []

    def every_other(t_s: float) -> bool:
        asked.append(t_s)
        return len(asked) % 2 == 1

    with VideoFileSource(video) as images:
        source = PoseFrameSource(images, estimator, gate=every_other)
        frames = list(source)
    assert len(frames) == VIDEO_FRAMES == len(asked)
    assert [f.pose_ran for f in frames] == [i % 2 == 0 for i in range(VIDEO_FRAMES)]
    assert all(not f.skeletons for f in frames if not f.pose_ran)
    assert all(f.skeletons for f in frames if f.pose_ran)
    assert source.frames == VIDEO_FRAMES // 2 and source.skipped == VIDEO_FRAMES // 2
    assert f"{VIDEO_FRAMES // 2} gated off" in source.stats_line()


def test_a_camera_that_stops_giving_images_gives_clock_frames(estimator: PoseEstimator) -> None:
    capture = ScriptedCapture()
    camera = CameraSource(3, 6, 4, 30.0, capture_factory=lambda: capture, lost_after_s=30.0)
    try:
        source = PoseFrameSource(camera, estimator, tick_s=0.05)
        capture.push(7)
        first = next(source)
        assert first.camera_ok and first.pose_ran
        # No more images (unplugged, or a failed driver): frames keep coming from the clock.
        ticks = [next(source) for _ in range(3)]
        assert [f.camera_ok for f in ticks] == [False, False, False]
        times = [first.t_s] + [f.t_s for f in ticks]
        assert times == sorted(times) and times[-1] - times[0] >= 0.1
        assert source.camera_down_frames == 3
    finally:
        camera.close()
