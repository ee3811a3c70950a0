"""A live depth camera paired with the colour frames of ``exhibit run``: the newest depth wins.

Why "newest" and not "nearest in time" as for recorded depth (:class:`~exhibit.depth.pairing.
DepthByTime`): a device stamps its frames on its own clock, the colour camera on another, and
neither can be trusted to match the other; what both share is *now*. A thread reads the
device (:class:`~exhibit.depth.frame.DepthSource`: RealSense, OAK-D, or anything offering the
same three members) as fast as it delivers and keeps only the last frame (bounded: one frame,
a slow consumer drops depth, never queues it). When a colour frame comes, :meth:`LiveDepth.at`
gives that last frame unless it is older than ``max_age_s`` on the monotonic clock (a stalled
or unplugged device): then None, and the visitor is placed by the feet instead. The thread
ends on a device error (logged once; the exhibit goes on with the feet) or on :meth:`close`.

This reads the clock and does I/O, so it lives at the source boundary
(:mod:`exhibit.depth.pairing`); the floor spots it yields are written into ``--record``
(format version 4), so a replay gives the live run's events without the device.

Example:
    >>> import numpy as np
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> clock = iter([0.0, 0.1, 9.0]).__next__
    >>> live = LiveDepth(max_age_s=0.5, clock=clock)
    >>> frame = DepthFrame(0.0, np.zeros((480, 640), np.uint16), PRIMESENSE)
    >>> live.offer(frame)  # arrives at 0.0
    >>> live.at(123.0) is frame, live.at(124.0)  # asked at 0.1, then at 9.0: too old
    (True, None)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exhibit.depth.errors import DepthError
from exhibit.depth.frame import DepthFrame, DepthSource

if TYPE_CHECKING:
    from exhibit.depth.config import DepthConfig

log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT_S = 10.0
"""How long :meth:`LiveDepth.start` waits for the device's first frame (a RealSense takes a
second or two to start streaming) before the run goes on without it."""


class LiveDepth:
    """The newest frame of a live depth source, for :class:`~exhibit.depth.pairing.
    MetricFrames`. ``clock``: seconds, monotonic (injected by the tests)."""

    def __init__(
        self,
        source: DepthSource | None = None,
        max_age_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.max_age_s = max_age_s
        self.clock = clock
        self.frames_read = 0
        self.error: str | None = None
        self._lock = threading.Lock()
        self._latest: tuple[float, DepthFrame] | None = None
        self._first = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def offer(self, frame: DepthFrame) -> None:
        """A frame arrived from the device now (the reading thread calls this)."""
        with self._lock:
            self._latest = (self.clock(), frame)
            self.frames_read += 1
        self._first.set()

    def at(self, t_s: float) -> DepthFrame | None:
        """The depth to pair with the colour frame at ``t_s`` (its time is on another clock
        and not used): the newest frame, None when there is none or it is too old."""
        with self._lock:
            latest = self._latest
        if latest is None:
            return None
        arrived_s, frame = latest
        return frame if self.clock() - arrived_s <= self.max_age_s else None

    def health(self) -> dict[str, Any]:
        """For ``exhibit status`` and ``/status``: whether depth is fresh, how many frames came,
        how old the newest is, and the error that stopped the camera, if any."""
        with self._lock:
            latest = self._latest
            frames = self.frames_read
        age_s = None if latest is None else round(self.clock() - latest[0], 3)
        fresh = age_s is not None and age_s <= self.max_age_s
        return {
            "ok": fresh and self.error is None,
            "frames": frames,
            "age_s": age_s,
            "error": self.error,
        }

    def start(self, wait_s: float = FIRST_FRAME_TIMEOUT_S) -> LiveDepth:
        """Start reading the source on a daemon thread; wait up to ``wait_s`` for the first
        frame (a warning if none came: the feet place visitors until one does)."""
        if self.source is None:
            raise DepthError("LiveDepth.start needs a depth source")
        self._thread = threading.Thread(target=self._read, name="depth", daemon=True)
        self._thread.start()
        if not self._first.wait(wait_s) and self.error is None:
            log.warning(
                "depth camera: no frame within %.0f s; placing visitors by the feet", wait_s
            )
        return self

    def _read(self) -> None:
        assert self.source is not None
        try:
            for frame in self.source.frames():
                if self._stop.is_set():
                    return
                self.offer(frame)
        except (DepthError, RuntimeError, OSError) as exc:  # pyrealsense2 raises RuntimeError
            if self._stop.is_set():
                return  # closed under it: not a fault
            self.error = str(exc)
            log.error("depth camera stopped (%s); placing visitors by the feet", exc)
        finally:
            self._first.set()

    def close(self) -> None:
        """Stop reading and release the device (the thread ends at its next frame)."""
        self._stop.set()
        if self.source is not None:
            try:
                self.source.close()
            except (DepthError, RuntimeError, OSError) as exc:
                log.warning("depth camera: closing failed (%s)", exc)
        if self._thread is not None:
            self._thread.join(timeout=2.0)


def open_live_depth(config: DepthConfig) -> LiveDepth:
    """Open ``[depth] device`` (:func:`~exhibit.depth.devices.open_device`: a missing package
    or an unplugged camera is a :class:`~exhibit.depth.errors.DepthError` saying what to do)
    and start reading it."""
    from exhibit.depth.devices import open_device

    source = open_device(
        config.device, config.width_px, config.height_px, config.fps, config.serial
    )
    log.info("depth camera %s: %s", config.device, source.intrinsics.serial or "(no serial)")
    return LiveDepth(source, config.max_age_s).start()
