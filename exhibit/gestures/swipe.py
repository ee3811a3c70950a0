"""Swipes: a hand sweeping fast sideways across the body, ``swipe_left`` and ``swipe_right``.

**Direction is the visitor's own**: ``swipe_left`` is a hand moving towards the visitor's left.
Exhibit screens usually mirror the camera, so the visitor's reflection then moves to the
screen's left too: what the visitor sees and what the gesture is called agree. In the
(unmirrored) camera image a visitor facing the camera has their left on the image's right, so
``swipe_left`` is motion towards the image's right; this holds for any turn short of side-on
(the detector assumes the visitor faces the camera, as MediaPipe's left/right labels do).
``side`` on the hit is the hand that swiped (the visitor's own, as for ``wave``).

Per hand, frames where the wrist and elbow are visible and the wrist is above the *band line*
(``BAND`` = 3/4 of the way down from the shoulders to the hips: arms swinging while walking stay
under it) give a sample: the wrist's horizontal offset from the shoulder centre and its height,
in body sizes (so walking along does not move them), and whether the forearm is upright. A
frame with the wrist below the band line ends the hand's stroke; a frame where it is not seen is
skipped. Over the last ``max_duration_s`` of samples, a swipe is a wrist travel of at least
``min_distance`` from the window's extreme to now, where:

- the wrist rose or fell by at most ``max_vertical`` times the travel (raising the arms sideways
  into a T-pose or above the head moves the wrists out *and* up: rejected);
- the forearm was never *upright* during the stroke (the wrist above the elbow by more than
  ``UPRIGHT`` body sizes, ~60 % of a forearm, and steeper than ``UPRIGHT_SLOPE``, ~35
  degrees; a level arm pointing at a camera below it looks a little raised): a wave swings an
  upright forearm about the elbow, within ~45 degrees of vertical, while a swipe carries the
  forearm roughly level (a wave's strokes, ~0.6-0.95 body sizes, are the distance's size);
- the other hand did not move the mirror way by half the distance at the same time (a clap, a
  hug, arms spread: two-handed and symmetric, not a swipe).

It fires on the frame the travel reaches ``min_distance`` (mid-stroke: low latency). Then no
swipe either way for that direction's ``refractory_s``, and strokes must start after it, so the
arm coming back does not fire the opposite swipe. Score (0..1): half how level the stroke was
(1 - vertical / (``max_vertical`` * travel)), half how quick (1 - its duration /
``max_duration_s``), both measured when it fires.

Example:
    >>> from exhibit.config.schema import SwipeConfig
    >>> SwipeDetector(SwipeConfig(enabled=True), SwipeConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

from collections import deque

from exhibit.config.schema import SwipeConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_ELBOW,
    L_WRIST,
    MIN_VISIBILITY,
    R_ELBOW,
    R_WRIST,
    BodyFrame,
)
from exhibit.gestures.hold import clamp01
from exhibit.skeleton import Skeleton

BAND = 0.75
UPRIGHT = 0.33
UPRIGHT_SLOPE = 0.7
MIRROR_SHARE = 0.5

# One sample: (t_s, wrist u, wrist v, forearm upright); u is towards the image's right (the
# visitor's left), v down, both in body sizes from the shoulder centre.
Sample = tuple[float, float, float, bool]


class _Hand:
    __slots__ = ("elbow", "samples", "side", "wrist")

    def __init__(self, side: str, wrist: int, elbow: int) -> None:
        self.side = side
        self.wrist = wrist
        self.elbow = elbow
        self.samples: deque[Sample] = deque()

    def travel(self, direction: float) -> tuple[float, int]:
        """Wrist travel in ``direction`` (+1: towards the visitor's left) from the window's
        extreme to the newest sample, and the extreme's index."""
        s = self.samples
        now = s[-1][1]
        best, at = 0.0, len(s) - 1
        for i, sample in enumerate(s):
            d = (now - sample[1]) * direction
            if d > best:
                best, at = d, i
        return best, at


class SwipeDetector:
    """Recognizes swipes towards the visitor's left (``left`` config, event ``swipe_left``) and
    right (``right`` config, ``swipe_right``); a disabled direction never fires. Each config's
    ``hand`` says which hands may swipe that way.

    Example:
        >>> from exhibit.config.schema import SwipeConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, swipe_motion
        >>> det = SwipeDetector(SwipeConfig(enabled=True), SwipeConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(0.5), swipe_motion("left", side="right")))
        >>> [(h.name, h.side) for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        [('swipe_left', 'right')]
    """

    name = "swipe"

    def __init__(
        self,
        left: SwipeConfig,
        right: SwipeConfig,
        aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    ) -> None:
        self.left = left
        self.right = right
        self.aspect_ratio = aspect_ratio
        self.names = [n for n, c in (("swipe_left", left), ("swipe_right", right)) if c.enabled]
        # The window is the longer of the two directions' (each checks its own duration).
        self._window_s = max(
            left.max_duration_s if left.enabled else 0.0,
            right.max_duration_s if right.enabled else 0.0,
        )
        self._hands = (_Hand("left", L_WRIST, L_ELBOW), _Hand("right", R_WRIST, R_ELBOW))
        self._last_hit_s: float | None = None
        self._quiet_until_s = 0.0

    def reset(self) -> None:
        """Forget every stroke in progress and the refractory period."""
        for hand in self._hands:
            hand.samples.clear()
        self._last_hit_s = None
        self._quiet_until_s = 0.0

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a swipe is made."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        if self._last_hit_s is not None:
            if t_s < self._last_hit_s:  # time went back: a new recording
                self.reset()
            elif t_s < self._quiet_until_s:
                return []
        if body is None or not self.names:
            return []
        rows, size, cx, cy = body.rows, body.size, body.cx, body.cy
        band_y = cy + BAND * (body.hy - cy)
        oldest = t_s - self._window_s
        for hand in self._hands:
            w, e = rows[hand.wrist], rows[hand.elbow]
            s = hand.samples
            if s and t_s < s[-1][0]:
                s.clear()
            if w[3] < MIN_VISIBILITY or e[3] < MIN_VISIBILITY:
                continue  # not seen this frame: the window's time limit handles staleness
            if w[1] >= band_y:
                s.clear()
                continue
            rise = (e[1] - w[1]) / size
            upright = rise > UPRIGHT and rise > UPRIGHT_SLOPE * abs(w[0] - e[0]) / size
            s.append((t_s, (w[0] - cx) / size, (w[1] - cy) / size, upright))
            while s[0][0] < oldest:
                s.popleft()
        best: GestureHit | None = None
        refractory_s = 0.0
        for hand, other in (self._hands, self._hands[::-1]):
            if len(hand.samples) < 2:
                continue
            for name, cfg, direction in (
                ("swipe_left", self.left, 1.0),
                ("swipe_right", self.right, -1.0),
            ):
                if not cfg.enabled or (cfg.hand != "either" and cfg.hand != hand.side):
                    continue
                hit = self._check(t_s, hand, other, cfg, direction, name)
                if hit is not None and (best is None or hit.score > best.score):
                    best, refractory_s = hit, cfg.refractory_s
        if best is None:
            return []
        self._last_hit_s = t_s
        self._quiet_until_s = t_s + refractory_s
        for hand in self._hands:
            hand.samples.clear()
        return [best]

    def _check(
        self,
        t_s: float,
        hand: _Hand,
        other: _Hand,
        cfg: SwipeConfig,
        direction: float,
        name: str,
    ) -> GestureHit | None:
        travel, at = hand.travel(direction)
        if travel < cfg.min_distance:
            return None
        samples = hand.samples
        start = samples[at]
        if t_s - start[0] > cfg.max_duration_s:
            return None
        lo = hi = start[2]
        for i in range(at, len(samples)):
            sample = samples[i]
            if sample[3]:
                return None
            v = sample[2]
            if v < lo:
                lo = v
            elif v > hi:
                hi = v
        if hi - lo > cfg.max_vertical * travel:
            return None
        if other.samples and other.travel(-direction)[0] >= MIRROR_SHARE * cfg.min_distance:
            return None
        straight = 1.0 - (hi - lo) / (cfg.max_vertical * travel) if cfg.max_vertical > 0 else 1.0
        quick = 1.0 - (t_s - start[0]) / cfg.max_duration_s
        return GestureHit(name, t_s, clamp01(0.5 * straight + 0.5 * quick), hand.side)
