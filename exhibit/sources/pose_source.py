"""Images in, ``Frame`` objects out: the raw image source and the pose estimator joined.

This is an edge: it reads ``time.perf_counter`` to time inference (for logs and ``exhibit
bench``), which the deterministic core never does. The frames it yields carry only the image's
own timestamp, so the core sees the same thing whether frames come from here or a recording.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Iterator

from exhibit.skeleton import Frame
from exhibit.sources.images import ImageSource
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

    def __init__(self, images: ImageSource, estimator: PoseEstimator) -> None:
        self.images = images
        self.estimator = estimator
        self.frames = 0
        self.frames_with_pose = 0
        self.last_inference_s = 0.0
        self._inference_s: deque[float] = deque(maxlen=INFERENCE_WINDOW)

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        image = next(self.images)
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
        )
