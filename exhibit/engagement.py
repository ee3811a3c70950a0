"""How engaged the visitor is, from 0 to 1, and the events the show adapts its depth on.

The exhibit's virtual presenter goes deeper while a visitor listens and wraps up when they drift
off. What the camera can tell about that, per frame, are five cues, each scaled to 0..1:

- ``dwell``: how long the visitor has stayed, ``1 - exp(-dwell_s / dwell_tau_s)``.
- ``proximity``: how close they stand, from the apparent body size (shoulder width, or 0.9 torso
  lengths when turned, in image heights): 0 at ``far_scale`` or smaller, 1 at ``near_scale``.
  When the sources measured the visitor's distance to the screen in metres (depth or the
  calibrated floor, exhibit/depth/pairing.py), that is used instead: 1 at ``near_m`` or
  closer, 0 at ``far_m`` or farther (a child and an adult at the same spot score the same).
  ``near_m`` (1.2 m: close enough to touch the screen) and ``far_m`` (3.5 m: passing by) are
  config keys; the image cue's ``near_scale``/``far_scale`` still serve visitors without a
  measured distance.
- ``facing``: shoulders square to the camera (their width against 0.9 torso lengths, which a
  turn does not shorten) averaged with the face being visible (nose and both eyes).
- ``stillness``: ``1 - trunk_speed / fidget_speed`` (clamped), where trunk speed is the shoulder
  and hip centres' speed in body sizes per second, smoothed: listening is still, fidgeting and
  walking away are not.
- ``gestures``: ``exp(-since_last_gesture_s / gesture_tau_s)``: a visitor who just waved is
  taking part.

The score is the weighted mean of the five (weights in config), smoothed by a first-order filter
with time constant ``smooth_s`` on frame time, so one odd frame does not change the narration.
With hysteresis it emits ``engagement.high`` (the score rose above ``high`` and held there
``hold_s``) and ``engagement.low`` (fell below ``low`` for ``hold_s``, after a ``high``): the
show's transitions use them to go deeper or wrap up. Pure: time comes from the frames, no
clock, no I/O.

Example:
    >>> tracker = EngagementTracker(EngagementConfig())
    >>> tracker.update(0.0, None).score
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exhibit.config.checker import Checker, join
from exhibit.skeleton import LANDMARK_INDEX, Skeleton

COMPONENTS = ("dwell", "proximity", "facing", "stillness", "gestures")

_NOSE = LANDMARK_INDEX["nose"]
_EYES = (LANDMARK_INDEX["left_eye"], LANDMARK_INDEX["right_eye"])
_LS, _RS = LANDMARK_INDEX["left_shoulder"], LANDMARK_INDEX["right_shoulder"]
_LH, _RH = LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]

# Shoulder width over torso length of an adult facing the camera is ~0.9 (0.259 / 0.288 of
# height, Drillis & Contini); the same figure makes "0.9 torso lengths" the turn-proof yardstick.
SHOULDERS_PER_TORSO = 0.9
MIN_SIZE = 1e-6
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class EngagementWeights:
    """Relative weight of each cue in the score (they need not sum to 1)."""

    dwell: float = 0.2
    proximity: float = 0.2
    facing: float = 0.3
    stillness: float = 0.15
    gestures: float = 0.15


@dataclass(frozen=True)
class EngagementConfig:
    """``[engagement]`` in the config; see the module docstring for the formula."""

    enabled: bool = True
    weights: EngagementWeights = EngagementWeights()
    dwell_tau_s: float = 20.0
    near_scale: float = 0.25
    far_scale: float = 0.08
    near_m: float = 1.2
    far_m: float = 3.5
    fidget_speed: float = 1.0
    gesture_tau_s: float = 10.0
    smooth_s: float = 2.0
    high: float = 0.6
    low: float = 0.35
    hold_s: float = 2.0


@dataclass(frozen=True)
class EngagementUpdate:
    """The smoothed ``score``, this frame's ``components``, and ``events`` (``"high"`` or
    ``"low"``) that fired on this frame."""

    score: float
    components: dict[str, float]
    events: tuple[str, ...] = ()


def _clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class EngagementTracker:
    """Per-visitor engagement on frame time. Call :meth:`reset` when the visitor leaves."""

    def __init__(self, config: EngagementConfig, aspect_ratio: float = 4 / 3) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        w = config.weights
        self._weights = {name: getattr(w, name) for name in COMPONENTS}
        self._total_weight = sum(self._weights.values()) or 1.0
        self.reset()

    def reset(self) -> None:
        self.score = 0.0
        self._arrived_s: float | None = None
        self._last_t_s: float | None = None
        self._last_trunk: tuple[float, float] | None = None
        self._speed = 0.0
        self._last_gesture_s: float | None = None
        # A visitor starts "low": the first event is "high" once they are engaged, and "low"
        # only comes after a "high" (nobody is told to wrap up what never started).
        self._level = "low"
        self._pending: str | None = None
        self._pending_since_s = 0.0

    def gesture(self, t_s: float) -> None:
        """A gesture was recognized for this visitor at ``t_s``."""
        self._last_gesture_s = t_s

    def components(
        self, t_s: float, skeleton: Skeleton, distance_m: float | None = None
    ) -> dict[str, float]:
        """The five cues for one frame (also updates the trunk speed); ``distance_m``: the
        measured distance to the screen, if any (proximity then uses it)."""
        c = self.config
        lm = skeleton.landmarks
        ar = self.aspect_ratio

        def xy(i: int) -> tuple[float, float]:
            return float(lm[i, 0]) * ar, float(lm[i, 1])

        (lsx, lsy), (rsx, rsy), (lhx, lhy), (rhx, rhy) = xy(_LS), xy(_RS), xy(_LH), xy(_RH)
        cx, cy = 0.5 * (lsx + rsx), 0.5 * (lsy + rsy)
        hx, hy = 0.5 * (lhx + rhx), 0.5 * (lhy + rhy)
        shoulders = math.hypot(lsx - rsx, lsy - rsy)
        torso = math.hypot(cx - hx, cy - hy)
        scale = max(shoulders, SHOULDERS_PER_TORSO * torso, MIN_SIZE)

        if self._arrived_s is None:
            self._arrived_s = t_s
        dwell = 1.0 - math.exp(-(t_s - self._arrived_s) / c.dwell_tau_s)
        if distance_m is None:
            proximity = _clamp((scale - c.far_scale) / (c.near_scale - c.far_scale))
        else:
            proximity = _clamp((c.far_m - distance_m) / (c.far_m - c.near_m))
        square = _clamp(shoulders / max(SHOULDERS_PER_TORSO * torso, MIN_SIZE))
        face = float(all(float(lm[i, 3]) >= MIN_VISIBILITY for i in (_NOSE, *_EYES)))
        facing = 0.5 * square + 0.5 * face

        trunk = (0.5 * (cx + hx), 0.5 * (cy + hy))
        if self._last_trunk is not None and self._last_t_s is not None and t_s > self._last_t_s:
            dt = t_s - self._last_t_s
            inst = math.hypot(trunk[0] - self._last_trunk[0], trunk[1] - self._last_trunk[1])
            inst /= dt * scale
            k = 1.0 - math.exp(-dt / 0.5)  # half a second of smoothing: steps, not jitter
            self._speed += k * (inst - self._speed)
        self._last_trunk = trunk
        stillness = 1.0 - _clamp(self._speed / c.fidget_speed)

        since = math.inf if self._last_gesture_s is None else t_s - self._last_gesture_s
        gestures = math.exp(-since / c.gesture_tau_s) if since >= 0 else 1.0
        return {
            "dwell": dwell,
            "proximity": proximity,
            "facing": facing,
            "stillness": stillness,
            "gestures": gestures,
        }

    def update(
        self, t_s: float, skeleton: Skeleton | None, distance_m: float | None = None
    ) -> EngagementUpdate:
        """Feed the visitor's (filtered) skeleton, or ``None`` when not tracked this frame (the
        score then decays towards 0 with the same time constant); ``distance_m``: their
        measured distance to the screen in metres, when known."""
        c = self.config
        if skeleton is None:
            comps = dict.fromkeys(COMPONENTS, 0.0)
            raw = 0.0
        else:
            comps = self.components(t_s, skeleton, distance_m)
            raw = sum(self._weights[n] * comps[n] for n in COMPONENTS) / self._total_weight
        dt = 0.0 if self._last_t_s is None else max(0.0, t_s - self._last_t_s)
        self._last_t_s = t_s
        if dt == 0.0 and self.score == 0.0:
            self.score = raw
        else:
            self.score += (1.0 - math.exp(-dt / c.smooth_s)) * (raw - self.score)
        return EngagementUpdate(self.score, comps, self._events(t_s))

    def _events(self, t_s: float) -> tuple[str, ...]:
        c = self.config
        side = "high" if self.score >= c.high else "low" if self.score <= c.low else None
        if side is None or side == self._level:
            self._pending = None
            return ()
        if self._pending != side:
            self._pending, self._pending_since_s = side, t_s
        if t_s - self._pending_since_s >= c.hold_s:
            self._level, self._pending = side, None
            return (side,)
        return ()


ENGAGEMENT_KEYS = (
    "enabled",
    "weights",
    "dwell_tau_s",
    "near_scale",
    "far_scale",
    "near_m",
    "far_m",
    "fidget_speed",
    "gesture_tau_s",
    "smooth_s",
    "high",
    "low",
    "hold_s",
)


def parse_engagement(table: Mapping[str, Any], path: str, c: Checker) -> EngagementConfig:
    """``[engagement]`` -> :class:`EngagementConfig`, every problem reported through ``c``."""
    d = EngagementConfig()
    c.unknown_keys(table, path, ENGAGEMENT_KEYS)
    weights_table = c.table(table, path, "weights")
    wpath = join(path, "weights")
    c.unknown_keys(weights_table, wpath, COMPONENTS)
    weights = EngagementWeights(
        **{
            name: c.number(weights_table, wpath, name, getattr(d.weights, name), minimum=0.0)
            for name in COMPONENTS
        }
    )
    if weights_table and sum(getattr(weights, n) for n in COMPONENTS) <= 0.0:
        c.error(wpath, "all weights are 0", show_got=False, expected="at least one weight > 0")

    def positive(key: str, unit: str) -> float:
        default = float(getattr(d, key))
        return c.number(table, path, key, default, minimum=0.0, exclusive_minimum=True, unit=unit)

    def fraction(key: str) -> float:
        return c.number(table, path, key, float(getattr(d, key)), minimum=0.0, maximum=1.0)

    cfg = EngagementConfig(
        enabled=c.boolean(table, path, "enabled", d.enabled),
        weights=weights,
        dwell_tau_s=positive("dwell_tau_s", "seconds"),
        near_scale=positive("near_scale", "image heights"),
        far_scale=c.number(table, path, "far_scale", d.far_scale, minimum=0.0),
        near_m=c.number(table, path, "near_m", d.near_m, minimum=0.0, unit="metres"),
        far_m=positive("far_m", "metres"),
        fidget_speed=positive("fidget_speed", "body sizes per second"),
        gesture_tau_s=positive("gesture_tau_s", "seconds"),
        smooth_s=positive("smooth_s", "seconds"),
        high=fraction("high"),
        low=fraction("low"),
        hold_s=c.number(table, path, "hold_s", d.hold_s, minimum=0.0, unit="seconds"),
    )
    if cfg.far_scale >= cfg.near_scale:
        c.error(
            join(path, "far_scale"),
            "not smaller than near_scale",
            cfg.far_scale,
            f"a value below near_scale ({cfg.near_scale:g})",
        )
    if cfg.near_m >= cfg.far_m:
        c.error(
            join(path, "near_m"),
            "not nearer than far_m",
            cfg.near_m,
            f"a distance below far_m ({cfg.far_m:g} m)",
        )
    if cfg.low >= cfg.high:
        c.error(join(path, "low"), "not below high", cfg.low, f"a value below {cfg.high:g}")
    return cfg
