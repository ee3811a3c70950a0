"""Approach and retreat: the visitor walks towards or away from the camera.

The measure is the body's apparent scale (:meth:`~exhibit.gestures.features.BodyFrame.scale`,
``max(shoulder width, 0.9 * torso)``), which is inversely proportional to the distance and
nearly blind to the visitor turning (the shoulders shrink, the torso does not) or bowing (the
other way round). ``approach`` fires when the scale now is at least ``1 + min_change`` times its
smallest value within the last ``window_s``; ``retreat`` when it is at most ``1 - min_change``
times its largest. With the defaults, approach means ~20 % nearer within 2 s (0.4 m/s from 4 m,
0.2 m/s from 2 m; walking is 1-1.4 m/s) and retreat ~25 % farther.

In metres, when the sources measured where the visitor stands (a depth camera, or the feet on a
calibrated floor: the skeleton's floor spot, exhibit/depth/spot.py, read through
``BodyFrame.distance_m``): ``approach`` fires when the floor distance to the screen is at least
``min_change_m`` below its largest value within ``window_s``, ``retreat`` when it is
``min_change_m`` above its smallest. A metre is a metre at any distance and for any body, where
the image cue needs a larger step far away than near and is fooled by a bow. A visitor whose
spot comes and goes (feet hidden for a moment) switches measure: the window starts again in the
new one (the two are not comparable), the refractory period carries on. With the default
``min_change_m`` of 0.5 m within 2 s, approach needs 0.25 m/s at any distance.

One hit per movement: after a hit, that direction re-arms only once the change over its window
has fallen under half of ``min_change`` (the visitor stopped, or slowed right down), and never
sooner than ``refractory_s``. A visitor walking up from the back of the room fires ``approach``
once, not every few steps.

The scale is smoothed first (``SMOOTH_S``, 0.25 s: it is the largest of two noisy lengths, and
the window's extremes would otherwise pick out the noise). Frames without a skeleton, or with a
shoulder or hip below ``MIN_VISIBILITY``, are skipped; the window is in time, so gaps simply
leave fewer samples in it. The window keeps its minimum
and maximum in monotonic queues: constant time per frame at any frame rate.

Score (0..1): 0.5 at ``min_change`` (``min_change_m``), 1 at twice it.

Example:
    >>> from exhibit.config.schema import ApproachConfig, RetreatConfig
    >>> ApproachDetector(ApproachConfig(enabled=True), RetreatConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

import math
from collections import deque

from exhibit.config.schema import ApproachConfig, RetreatConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.hold import clamp01
from exhibit.skeleton import Skeleton

SMOOTH_S = 0.25


class _Way:
    """One direction: a monotonic queue of (t_s, log scale) over ``window_s`` keeping the
    window's extreme at the front (the minimum for approach, the maximum for retreat)."""

    __slots__ = (
        "armed",
        "config",
        "last_hit_s",
        "log_change",
        "metric_change",
        "name",
        "queue",
        "sign",
    )

    def __init__(self, name: str, config: ApproachConfig | RetreatConfig, sign: float) -> None:
        self.name = name
        self.config = config
        self.sign = sign  # +1: growth (approach), -1: shrinking (retreat)
        change = min(config.min_change, 0.99)
        self.log_change = math.log1p(change) if sign > 0 else -math.log1p(-change)
        self.metric_change = config.min_change_m
        self.queue: deque[tuple[float, float]] = deque()
        self.armed = True
        self.last_hit_s: float | None = None

    def reset(self) -> None:
        self.queue.clear()
        self.armed = True
        self.last_hit_s = None

    def update(self, t_s: float, value: float, metric: bool = False) -> GestureHit | None:
        """``value``: the log scale, or with ``metric`` minus the floor distance (m)."""
        threshold = self.metric_change if metric else self.log_change
        q, sign = self.queue, self.sign
        while q and (q[-1][1] - value) * sign >= 0.0:
            q.pop()
        q.append((t_s, value))
        oldest = t_s - self.config.window_s
        while q[0][0] < oldest:
            q.popleft()
        change = (value - q[0][1]) * sign
        if not self.armed:
            if change < 0.5 * threshold:
                self.armed = True
            return None
        if change < threshold:
            return None
        last = self.last_hit_s
        if last is not None and t_s - last < self.config.refractory_s:
            return None
        self.armed = False
        self.last_hit_s = t_s
        return GestureHit(self.name, t_s, clamp01(0.5 * change / threshold))


class ApproachDetector:
    """Recognizes walking towards (``approach``) and away from (``retreat``) the camera; a
    disabled direction never fires.

    Example:
        >>> from exhibit.config.schema import ApproachConfig, RetreatConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, approach_motion
        >>> det = ApproachDetector(ApproachConfig(enabled=True), RetreatConfig(enabled=True))
        >>> walk_in = sequence(approach_motion(4.0, 2.0), idle_motion(1.0, position_m=(0, 2)))
        >>> frames = render(walk_in)
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['approach']
    """

    name = "approach"

    def __init__(
        self,
        approach: ApproachConfig,
        retreat: RetreatConfig,
        aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    ) -> None:
        self.approach = approach
        self.retreat = retreat
        self.aspect_ratio = aspect_ratio
        ways = [_Way("approach", approach, 1.0), _Way("retreat", retreat, -1.0)]
        self._ways = tuple(w for w in ways if w.config.enabled)
        self.names = [w.name for w in self._ways]
        self._last_s: float | None = None
        self._value = 0.0
        self._metric = False  # the last value was a floor distance, not an image scale

    def reset(self) -> None:
        """Forget the window and the refractory periods."""
        for way in self._ways:
            way.reset()
        self._last_s = None
        self._metric = False

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns the hits it completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        last = self._last_s
        if last is not None and t_s < last:
            self.reset()  # time went back: a new recording
            last = None
        if body is None or not body.trunk_visible():
            return []
        self._last_s = t_s
        metric = body.distance_m is not None
        if metric != self._metric:  # another measure: its window starts again
            self._metric = metric
            for way in self._ways:
                way.queue.clear()
            last = None
        raw = -body.distance_m if body.distance_m is not None else math.log(body.scale())
        if last is None or t_s - last > SMOOTH_S:
            value = raw
        else:
            value = self._value + (raw - self._value) * ((t_s - last) / SMOOTH_S)
        self._value = value
        hits: list[GestureHit] = []
        for way in self._ways:
            hit = way.update(t_s, value, metric)
            if hit is not None:
                hits.append(hit)
        return hits
