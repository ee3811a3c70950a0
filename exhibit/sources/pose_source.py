"""Images in, ``Frame`` objects out: the raw image source and the pose estimator joined.

This is an edge: it reads ``time.perf_counter`` to time inference (for logs and ``exhibit
bench``), which the deterministic core never does. The frames it yields carry only the image's
own timestamp, so the core sees the same thing whether frames come from here or a recording.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, cast

from exhibit.skeleton import Frame
from exhibit.sources.images import CapturedImage, ImageSource
from exhibit.sources.pose import PoseEstimator

# Inference times kept for the median: a bounded window, never the whole run.
INFERENCE_WINDOW = 1000


class PoseFrameSource:
    """Iterate ``Frame`` objects: each image of ``images`` through ``estimator``.

    Why: the pipeline consumes ``Frame`` objects and should not care whether they come from a
    camera through MediaPipe or from a recording. Counts ``frames`` and ``frames_with_pose``;
    ``last_inference_s`` is the last image's MediaPipe time in seconds. Closing stays with
    whoever opened ``images`` and ``estimator``.

    Example:
        >>> from exhibit.sources.images import VideoFileSource
        >>> with VideoFileSource("clip.avi") as video, PoseEstimator() as pose:  # doctest: +SKIP
        ...     frames = list(PoseFrameSource(video, pose))
        >>> frames[0].skeletons[0].point("nose")  # doctest: +SKIP
        array([0.43, 0.25])
    """

    def __init__(
        self,
        images: ImageSource,
        estimator: PoseEstimator,
        *,
        gate: Callable[[float], bool] | None = None,
        tick_s: float | None = None,
    ) -> None:
        """``gate(t_s)`` says whether to run inference on the image taken at ``t_s`` (sensor
        gating; a skipped image gives a frame with ``pose_ran=False``). ``tick_s``: for a
        camera, when no image comes for this long, a frame with ``camera_ok=False`` is made on
        the camera's clock, so the show goes on without it (unplugged, failed)."""
        self.images = images
        self.estimator = estimator
        self.gate = gate
        self.tick_s = tick_s
        self.skipped = 0
        self.camera_down_frames = 0
        self.camera_ok = True
        self._index = 0
        self.frames = 0
        self.frames_with_pose = 0
        self.last_inference_s = 0.0
        self._inference_s: deque[float] = deque(maxlen=INFERENCE_WINDOW)
        self._last_t_s = float("-inf")

    def __iter__(self) -> Iterator[Frame]:
        return self

    def _next_image(self) -> CapturedImage | None:
        """The next image; None when a camera gave none for ``tick_s`` (still running)."""
        read = getattr(self.images, "read", None)
        if self.tick_s is None or read is None:
            return next(self.images)
        image = read(timeout_s=self.tick_s)
        if image is None and not getattr(self.images, "running", False):
            raise StopIteration
        return cast(CapturedImage | None, image)

    def __next__(self) -> Frame:
        """The next frame; its time never goes back. (A camera-down frame is stamped by the
        clock after its wait, an image when it was captured, before the reader took its lock:
        at the edge of the wait the image can be the earlier of the two. Everything after,
        from the show's timers to the recording, counts on time moving forward.)"""
        frame = self._next_frame()
        if frame.t_s < self._last_t_s:
            frame = dataclasses.replace(frame, t_s=self._last_t_s)
        self._last_t_s = frame.t_s
        return frame

    def _next_frame(self) -> Frame:
        image = self._next_image()
        self.camera_ok = image is not None
        if image is None:
            self.camera_down_frames += 1
            self._index += 1
            now_s = getattr(self.images, "now_s", lambda: 0.0)()
            return Frame(
                now_s, self._index, self.images.width_px, self.images.height_px, camera_ok=False
            )
        self._index = image.index
        if self.gate is not None and not self.gate(image.t_s):
            self.skipped += 1
            return Frame(image.t_s, image.index, image.width_px, image.height_px, pose_ran=False)
        start = time.perf_counter()
        skeletons = self.estimator.estimate(image.image_rgb)
        self.last_inference_s = time.perf_counter() - start
        self._inference_s.append(self.last_inference_s)
        self.frames += 1
        if skeletons:
            self.frames_with_pose += 1
        return Frame(
            t_s=image.t_s,
            index=image.index,
            width_px=image.width_px,
            height_px=image.height_px,
            skeletons=skeletons,
        )

    def health(self) -> dict[str, Any]:
        """The camera for ``exhibit status``: ``ok`` false while it gives no image; images,
        drops, how often it was lost (unplugged) and reopened, frames made without it."""
        stats = self.images.stats
        return {
            "source": self.images.describe(),
            "ok": self.camera_ok,
            "frames": self.frames,
            "dropped": stats.frames_dropped,
            "errors": stats.errors,
            "lost": stats.lost,
            "reopened": stats.reopened,
            "frames_without_camera": self.camera_down_frames,
        }

    def median_inference_s(self) -> float:
        """Median inference time over the last ``INFERENCE_WINDOW`` frames (0 before any)."""
        return statistics.median(self._inference_s) if self._inference_s else 0.0

    def stats_line(self) -> str:
        """One line for the end of a run: frames, share with a pose, drops, inference time."""
        share = self.frames_with_pose / self.frames if self.frames else 0.0
        stats = self.images.stats
        return (
            f"{self.images.describe()}: {self.frames} frames, {self.frames_with_pose} with a "
            f"pose ({share:.0%}), {stats.frames_dropped} dropped, {stats.errors} errors, "
            f"median inference {self.median_inference_s() * 1e3:.1f} ms"
            + (f", {self.skipped} gated off" if self.gate is not None else "")
            + (f", {self.camera_down_frames} without camera" if self.camera_down_frames else "")
        )
