"""Depth paired with pose frames at the source boundary: each skeleton gets its floor spot.

Why here and not in the pipeline: depth images are big and come from a device or files (I/O),
while the core must stay a pure function of its frames. So the spot (floor position, distance,
height: a few numbers per body, :mod:`exhibit.depth.spot`) is computed as frames leave the
sources, and the core only reads it. Three cases:

- **depth and a calibration** (``exhibit run|replay CONFIG ... --depth DIR``): the depth frame
  paired with a pose frame is the one nearest in time: depth frame ``i`` of a recorded
  sequence is at ``i / fps`` (docs/depth-format.md), a pose frame at its ``t``; depth frame
  ``round(t * fps)`` is taken, and a pose frame past the end of the depth has none. Recorded
  video and depth from the same capture start together, so this pairs frame by frame at equal
  rates and nearest-in-time otherwise. A body whose torso has no depth falls back as below.
- **a calibration, no depth** (``[calibration] file`` exists): the feet on the calibrated floor
  (:func:`exhibit.depth.visitors.floor_visitor`).
- **a live depth camera** (``[depth] device``, ``exhibit run`` without ``--depth``): the
  newest depth frame the device delivered, unless older than ``[depth] max_age_s``
  (:mod:`exhibit.depth.live`).
- **neither**: frames pass unchanged, byte for byte.

A body that already carries a spot (:class:`~exhibit.depth.spot.MetricSkeleton`, as read from a
version-4 recording: the live run's own measurement) keeps it: it is never measured again.
So ``exhibit run --record`` with a live camera replays to the same events without the camera,
the depth folder or even the calibration (``tests/test_depth_live.py``); older recordings
(no spots) are measured again from the same ``--depth`` folder and calibration.

Example:
    >>> import numpy as np
    >>> from exhibit.depth.geometry import FloorPose
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> from exhibit.skeleton import Frame
    >>> metric = MetricFrames(FloorPose.from_angles(2.0, 30.0, 0.0), PRIMESENSE)
    >>> frame = metric.frame(Frame(0.0, 0, 640, 480, (Skeleton(np.zeros((33, 4))),)))
    >>> type(frame.skeletons[0]).__name__, frame.skeletons[0].spot
    ('MetricSkeleton', None)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from exhibit.depth.errors import DepthError
from exhibit.depth.formats import read_depth_image
from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.recorded import RecordedDepth
from exhibit.depth.spot import MetricSkeleton, measure, with_spot
from exhibit.skeleton import Frame, Skeleton

if TYPE_CHECKING:
    from exhibit.config.schema import Config


class DepthLookup(Protocol):
    """The depth to pair with a pose frame at ``t_s``: :class:`DepthByTime` (recorded) or
    :class:`~exhibit.depth.live.LiveDepth` (a device)."""

    def at(self, t_s: float) -> DepthFrame | None: ...


class DepthByTime:
    """Random access to a recorded depth sequence by time: :meth:`at` gives the depth frame
    nearest to ``t_s`` (``round(t_s * fps)``), None past either end. Reads one file at a time
    and keeps only the last one (a 640x480 frame is 600 kB)."""

    def __init__(self, depth: RecordedDepth) -> None:
        self.depth = depth
        self._files = depth.files
        self._last: tuple[int, DepthFrame] | None = None

    def index_at(self, t_s: float) -> int | None:
        i = round(t_s * self.depth.fps)
        return i if 0 <= i < len(self._files) else None

    def at(self, t_s: float) -> DepthFrame | None:
        i = self.index_at(t_s)
        if i is None:
            return None
        if self._last is not None and self._last[0] == i:
            return self._last[1]
        file = self._files[i]
        try:
            frame = DepthFrame(
                i / self.depth.fps, read_depth_image(file, self.depth.fmt), self.depth.intrinsics
            )
        except DepthError as exc:
            raise DepthError(f"{file}: {exc}") from exc
        self._last = (i, frame)
        return frame


class MetricFrames:
    """Gives every skeleton of a frame its floor spot (see the module docstring).

    ``pose``: the calibrated floor; ``intrinsics``: the colour camera's (the calibration's);
    ``depth``: a recorded sequence paired by time, a live one (any :class:`DepthLookup`), or
    None; ``screen_xy_m``: the point on the floor frame distances are measured to (the origin:
    put it at the screen with ``exhibit calibrate floor --origin``). ``close`` releases a live
    device.
    """

    def __init__(
        self,
        pose: FloorPose,
        intrinsics: Intrinsics,
        depth: RecordedDepth | DepthLookup | None = None,
        screen_xy_m: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.pose = pose
        self.intrinsics = intrinsics
        self.depth: DepthLookup | None = (
            DepthByTime(depth) if isinstance(depth, RecordedDepth) else depth
        )
        self.screen_xy_m = screen_xy_m

    def frame(self, frame: Frame) -> Frame:
        """``frame`` with :class:`~exhibit.depth.spot.MetricSkeleton`\\ s (same type, so a
        recording's control commands stay on it); a frame with nobody, or whose bodies were
        all measured already (a version-4 recording), is returned as is."""
        if all(isinstance(s, MetricSkeleton) for s in frame.skeletons):
            return frame
        depth = self.depth.at(frame.t_s) if self.depth is not None else None
        skeletons: tuple[Skeleton, ...] = tuple(
            s
            if isinstance(s, MetricSkeleton)
            else with_spot(s, measure(s, self.pose, self.intrinsics, depth, self.screen_xy_m))
            for s in frame.skeletons
        )
        return dataclasses.replace(frame, skeletons=skeletons)

    def health(self) -> dict[str, Any] | None:
        """A live depth camera's health (:meth:`~exhibit.depth.live.LiveDepth.health`); None
        for recorded depth or none."""
        health = getattr(self.depth, "health", None)
        return dict(health()) if callable(health) else None

    def close(self) -> None:
        """Release a live depth camera (nothing to do for recorded depth)."""
        close = getattr(self.depth, "close", None)
        if callable(close):
            close()

    def frames(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            yield self.frame(frame)


def metric_frames(
    config: Config, depth_dir: str | Path | None = None, *, device: bool = False
) -> MetricFrames | None:
    """The :class:`MetricFrames` for ``config``: its ``[calibration] file`` (relative to the
    config's folder) and ``depth_dir``, or with ``device`` (``exhibit run``) the config's live
    ``[depth] device`` (``depth_dir``, when given, replaces it). None when there is no
    calibration file and no depth (nothing changes). With depth a missing or corrupt
    calibration is an error: depth without the floor cannot say where anyone stands. A device
    is opened and read on its own thread (:mod:`exhibit.depth.live`): call ``close``."""
    from calibration.floor import CalibrationFileError, load_calibration

    live = device and depth_dir is None and config.depth.device != "none"
    file = Path(config.base_dir) / config.calibration.file
    if depth_dir is None and not live and not file.exists():
        return None
    try:
        calibration = load_calibration(file)
    except CalibrationFileError as exc:
        if depth_dir is not None:
            raise DepthError(f"--depth needs the floor calibration: {exc}") from exc
        if live:
            raise DepthError(f"[depth] device needs the floor calibration: {exc}") from exc
        raise
    if live:
        from exhibit.depth.live import open_live_depth

        return MetricFrames(calibration.pose, calibration.intrinsics, open_live_depth(config.depth))
    depth = RecordedDepth(depth_dir) if depth_dir is not None else None
    return MetricFrames(calibration.pose, calibration.intrinsics, depth)
