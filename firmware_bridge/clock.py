"""Map the microcontroller's millisecond clock to the host's clock.

Every message that carries a device time ``d`` and arrives at host time ``h`` says
``h = offset + d * (1 + drift) + delay`` with an unknown transport delay ``delay >= 0`` (USB
polling, the reader thread, a busy host). Delays are positive and sometimes large, never
negative, so the right estimate is the *lower envelope* of the points, not a least-squares fit:
``ClockMapper`` keeps the points of the last ``window_s`` and fits the line that lies below all
of them and is closest to them on average (the lower convex hull edge with the least total
distance to the points, the classic estimator for clock skew from one-way delays). Until the
points span ``min_span_s`` the drift is taken as 0 and the offset is the smallest ``h - d``.
The drift is clamped to ``max_drift_ppm`` (crystals are good to ~50 ppm).

Mapped times are never later than the time a message arrived. Device times are 32-bit and wrap
after 49.7 days; ``unwrap`` extends them and notices a device that restarted (its clock went
back by more than ``restart_back_ms``).

Example:
    >>> m = ClockMapper()
    >>> m.observe(1000, 50.012)   # device said 1000 ms; it arrived 12 ms after the true time
    >>> m.observe(2000, 51.003)   # this one came fast
    >>> round(m.to_host(1500), 3)
    50.503
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

WRAP = 1 << 32
HALF = 1 << 31


@dataclass(frozen=True)
class ClockEstimate:
    """The current mapping ``host_s = offset_s + device_s * (1 + drift_ppm / 1e6)``."""

    offset_s: float
    drift_ppm: float
    points: int
    span_s: float


class ClockMapper:
    """Robust device-ms -> host-seconds mapping from (device_ms, arrival) pairs."""

    def __init__(
        self,
        *,
        window_s: float = 120.0,
        max_points: int = 256,
        min_span_s: float = 10.0,
        max_drift_ppm: float = 500.0,
        restart_back_ms: int = 2000,
    ) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.max_drift = max_drift_ppm * 1e-6
        self.restart_back_ms = restart_back_ms
        self._points: deque[tuple[float, float]] = deque(maxlen=max_points)
        self._last_raw: int | None = None
        self._epoch = 0
        self._newest = 0
        self._fit: tuple[float, float] | None = None
        self.restarts = 0

    def reset(self) -> None:
        """Forget every point and the unwrapping state (a new device or a restart)."""
        self._points.clear()
        self._last_raw = None
        self._epoch = 0
        self._newest = 0
        self._fit = None

    def unwrap(self, raw_ms: int) -> int:
        """The 32-bit device time ``raw_ms`` as milliseconds since the device's boot, wraps
        counted. A jump back of more than ``restart_back_ms`` is a restart: the mapper resets
        (and counts it) before taking the new time."""
        raw_ms &= WRAP - 1
        if self._last_raw is None:
            self._last_raw = raw_ms
            self._newest = raw_ms
            return raw_ms
        delta = (raw_ms - self._last_raw) % WRAP
        if delta < HALF:  # forward (possibly across a wrap)
            if raw_ms < self._last_raw:
                self._epoch += 1
            self._last_raw = raw_ms
            value = self._epoch * WRAP + raw_ms
            self._newest = max(self._newest, value)
            return value
        back = WRAP - delta
        if back > self.restart_back_ms:
            self.restarts += 1
            self.reset()
            return self.unwrap(raw_ms)
        # slightly in the past (a batch's first reading is older than the last heartbeat)
        epoch = self._epoch - 1 if raw_ms > self._last_raw else self._epoch
        return epoch * WRAP + raw_ms

    def observe(self, device_ms: int, host_s: float) -> None:
        """One message with (unwrapped) device time ``device_ms`` arrived at ``host_s``."""
        d = device_ms / 1000.0
        points = self._points
        points.append((d, host_s - d))
        while len(points) > 2 and points[-1][0] - points[0][0] > self.window_s:
            points.popleft()
        self._fit = None

    def estimate(self) -> ClockEstimate | None:
        """The current fit, or None before the first point."""
        fit = self._solve()
        if fit is None:
            return None
        ds = [p[0] for p in self._points]
        return ClockEstimate(fit[0], fit[1] * 1e6, len(ds), max(ds) - min(ds))

    def to_host(self, device_ms: int) -> float | None:
        """Host time of the (unwrapped) device time ``device_ms``; None before any point."""
        fit = self._solve()
        if fit is None:
            return None
        d = device_ms / 1000.0
        return d + fit[0] + fit[1] * d

    def _solve(self) -> tuple[float, float] | None:
        if self._fit is not None:
            return self._fit
        points = sorted(self._points)
        if not points:
            return None
        span = points[-1][0] - points[0][0]
        best = (min(y for _, y in points), 0.0)
        if span >= self.min_span_s and len(points) >= 2:
            hull = _lower_hull(points)
            n = len(points)
            mean_d = sum(d for d, _ in points) / n
            mean_y = sum(y for _, y in points) / n
            best_cost = mean_y - best[0]  # the flat line through the lowest point
            for (d0, y0), (d1, y1) in itertools.pairwise(hull):
                if d1 - d0 <= 0:
                    continue
                slope = (y1 - y0) / (d1 - d0)
                if abs(slope) > self.max_drift:
                    continue
                intercept = y0 - slope * d0
                cost = mean_y - (intercept + slope * mean_d)  # mean height above the line
                if cost < best_cost:
                    best_cost = cost
                    best = (intercept, slope)
        self._fit = best
        return best


def _lower_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain, lower half; ``points`` sorted by x."""
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull
