"""The wave: a raised hand moving back and forth beside or above the head, at a waving cadence.

Per hand, each *usable* frame gives three samples, all relative to the elbow and in body
yardsticks (see ``features``), each followed by its own zig-zag counter (:class:`SwingCounter`):

- ``x``: the hand's horizontal offset from the elbow (the mean of the wrist, index and pinky
  when those are seen, else the wrist): the forearm swinging side to side, facing the camera;
- ``y``: the wrist's height above the elbow: the same swing seen from the side, where the hand
  goes towards and away from the camera and in the image mostly rises and dips;
- the hand's direction (wrist to the middle of the index and pinky), in radians from straight
  up: a palm flapping at the wrist turns it while the forearm stays still.

The hysteresis of the ``x`` and ``y`` counters is ``min_amplitude`` yardsticks, that of the
direction ``ANGLE_PER_YARDSTICK * min_amplitude`` radians (0.3 rad at 0.1). A reversal in any of
them is a half-swing; reversals of different signals less than ``MIN_HALF_PERIOD_S`` apart are one
and the same. A reversal of the height that travels less than the latest side-to-side half-swing is
not counted: a forearm swinging side to side about the elbow has its hand lowest at both sides, so
its height goes up and down twice per swing (a slow sway would otherwise look like a wave at twice
its rate). Nor is a reversal that is confirmed (the signal back by the hysteresis) more than
``MAX_HALF_PERIOD_S`` after its extreme: a raised hand held still and then lowered confirms, at
once, the jitter peaks of every signal during the hold, which would otherwise pass for a run.
The half-swings must come at a waving *cadence*: consecutive reversals
``MIN_HALF_PERIOD_S`` (0.08 s) to ``MAX_HALF_PERIOD_S`` (0.75 s) apart (a wave is 1-4 Hz, half
periods of 0.125-0.5 s, plus a frame of slack at 10 fps). When the last ``min_swings`` of them
(within ``window_s``) keep that cadence, the wave fires; then nothing fires for ``refractory_s`` and
every counter starts afresh. Raising or lowering the arm, a slow sway or a reach is one slow
movement, not a run of reversals; frame-to-frame jitter at 30-60 fps is below the hysteresis or, in
one signal, faster than the cadence. The samples are smoothed lightly first (exponentially, time
constant ``SMOOTHING_S`` = 0.025 s: next to nothing at 10 fps, about half the jitter at 60 fps).

A frame is *usable* for a hand when:

- its wrist and elbow have at least ``MIN_ARM_VISIBILITY`` (0.05): MediaPipe often gives an arm
  seen from the side a visibility well below 0.5 and still places it well (BIISC);
- the wrist is above the elbow, and not more than ``MAX_BELOW_NOSE`` (0.8) yardsticks below the
  nose (a hand at the chest is not waving);
- the hand is clear of the face: the wrist, index and pinky are all at least
  ``FACE_CLEARANCE`` (0.4) yardsticks from the nose and both ears, unless the wrist is more than
  ``ABOVE_FACE`` (0.4) yardsticks above the nose; and the wrist is not on the head (within
  ``HEAD_RADIUS``, 0.4 yardsticks, of a point ``HEAD_CENTRE_ABOVE_NOSE``, 0.15, above the
  nose). Scratching the head, a phone at the ear, wiping glasses, drinking, coughing or
  sneezing into a hand all move a raised hand right there;
- not both wrists are visible (``MIN_VISIBILITY``) and above the nose: stretching, or
  ``hands_up``'s pose; such a frame gives no sample for either hand. (Letting both hands up
  with bent elbows through, for people who wave with both hands, found BIISC S012's two waves
  but made two raised hands held still fire on small, noisy synthetic bodies: see
  docs/gestures-evaluation.md.)

Robustness: samples are taken whenever they come (10-60 fps, uneven intervals); frames without a
skeleton or with the hand unusable are skipped, and a hand's progress survives gaps up to
``MAX_GAP_S`` (0.4 s) without a usable sample. Everything is plain float arithmetic on the
shared :class:`~exhibit.gestures.features.BodyFrame` (a few microseconds per frame).

Score (0..1): half from amplitude (mean travel of the counted half-swings over twice their
counter's hysteresis, capped at 1), half from regularity (1 minus the coefficient of variation of
the intervals between them).

The detector reads whatever skeleton it is given. On small people at 10 fps (BIISC) the One
Euro filter's default settings damp the wave's 2-4 Hz motion; the figures with and without it
are in docs/gestures-evaluation.md.

Example:
    >>> from exhibit.config.schema import WaveConfig
    >>> WaveDetector(WaveConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

import math
from bisect import insort
from collections import deque
from itertools import pairwise

from exhibit.config.schema import WaveConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_ELBOW,
    L_WRIST,
    MIN_VISIBILITY,
    NOSE,
    R_ELBOW,
    R_WRIST,
    BodyFrame,
)
from exhibit.skeleton import LANDMARK_INDEX, Skeleton

MAX_GAP_S = 0.4
MIN_ARM_VISIBILITY = 0.05
MAX_BELOW_NOSE = 0.8
FACE_CLEARANCE = 0.4
ABOVE_FACE = 0.4
HEAD_CENTRE_ABOVE_NOSE = 0.15
HEAD_RADIUS = 0.4
ANGLE_PER_YARDSTICK = 3.0
HEIGHT_FACTOR = 1.0
# The hand's direction is only followed while it points up or sideways (not hanging down).
MAX_HAND_ANGLE_RAD = 2.5
MIN_HALF_PERIOD_S = 0.08
MAX_HALF_PERIOD_S = 0.75
SMOOTHING_S = 0.025

L_INDEX = LANDMARK_INDEX["left_index"]
R_INDEX = LANDMARK_INDEX["right_index"]
L_PINKY = LANDMARK_INDEX["left_pinky"]
R_PINKY = LANDMARK_INDEX["right_pinky"]
L_EAR = LANDMARK_INDEX["left_ear"]
R_EAR = LANDMARK_INDEX["right_ear"]


class SwingCounter:
    """Zig-zag half-swing counter over one scalar signal, with hysteresis ``threshold``.

    ``swings`` holds ``(t_extreme_s, travel)`` for each completed half-swing.

    Example:
        >>> c = SwingCounter(0.3)
        >>> for i, u in enumerate([0.0, 0.4, 0.0, 0.4, 0.0]):
        ...     c.add(i * 0.1, u)
        >>> [round(t, 1) for t, _ in c.swings]
        [0.1, 0.2, 0.3]
    """

    __slots__ = (
        "_dir",
        "_ext",
        "_ext_t",
        "_hi",
        "_hi_t",
        "_lo",
        "_lo_t",
        "_prev",
        "_started",
        "swings",
        "threshold",
    )

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.swings: deque[tuple[float, float]] = deque()
        self.reset()

    def reset(self) -> None:
        """Forget the signal and every half-swing."""
        self._started = False
        self._dir = 0
        self._lo = self._hi = self._ext = self._prev = 0.0
        self._lo_t = self._hi_t = self._ext_t = 0.0
        self.swings.clear()

    def add(self, t_s: float, u: float) -> None:
        """One sample ``u`` at ``t_s``."""
        thr = self.threshold
        if self._dir == 0:
            # Direction unknown: wait until the signal has spanned the threshold once.
            if not self._started:
                self._started = True
                self._lo = self._hi = u
                self._lo_t = self._hi_t = t_s
                return
            if u < self._lo:
                self._lo, self._lo_t = u, t_s
            if u > self._hi:
                self._hi, self._hi_t = u, t_s
            if self._hi - self._lo < thr:
                return
            if self._lo_t <= self._hi_t:  # went up last
                self._dir, self._ext, self._ext_t, self._prev = 1, self._hi, self._hi_t, self._lo
            else:
                self._dir, self._ext, self._ext_t, self._prev = -1, self._lo, self._lo_t, self._hi
        if self._dir > 0:
            if u > self._ext:
                self._ext, self._ext_t = u, t_s
            elif self._ext - u >= thr:
                self.swings.append((self._ext_t, self._ext - self._prev))
                self._dir, self._prev, self._ext, self._ext_t = -1, self._ext, u, t_s
        elif u < self._ext:
            self._ext, self._ext_t = u, t_s
        elif u - self._ext >= thr:
            self.swings.append((self._ext_t, self._prev - self._ext))
            self._dir, self._prev, self._ext, self._ext_t = 1, self._ext, u, t_s

    def prune(self, oldest_t_s: float) -> None:
        """Forget half-swings whose extreme is older than ``oldest_t_s``."""
        while self.swings and self.swings[0][0] < oldest_t_s:
            self.swings.popleft()

    def cadenced(
        self,
        min_half_period_s: float = MIN_HALF_PERIOD_S,
        max_half_period_s: float = MAX_HALF_PERIOD_S,
    ) -> int:
        """How many of the latest half-swings follow each other at a waving cadence: the length
        of the newest run whose extremes are ``min_half_period_s``..``max_half_period_s`` apart.

        Example:
            >>> c = SwingCounter(0.1)
            >>> c.swings.extend([(0.0, 0.2), (1.0, 0.2), (1.25, 0.2), (1.5, 0.2)])
            >>> c.cadenced()
            3
        """
        swings = self.swings
        n = len(swings)
        if n < 2:
            return n
        run = 1
        later = swings[-1][0]
        for i in range(n - 2, -1, -1):
            t = swings[i][0]
            if not min_half_period_s <= later - t <= max_half_period_s:
                break
            run += 1
            later = t
        return run


# One half-swing seen by a hand: (time of its extreme, travel over the counter's threshold,
# which signal saw it).
_Event = tuple[float, float, int]


class _Hand:
    """Per-hand state: its landmarks, a swing counter per signal, the half-swings they saw (in
    time order) and when the hand last gave a usable sample."""

    __slots__ = (
        "counters",
        "elbow",
        "events",
        "index",
        "last_t_s",
        "pinky",
        "side",
        "smooth",
        "wrist",
    )

    def __init__(
        self, side: str, wrist: int, elbow: int, index: int, pinky: int, amplitude: float
    ) -> None:
        self.side = side
        self.wrist = wrist
        self.elbow = elbow
        self.index = index
        self.pinky = pinky
        self.counters = (
            SwingCounter(amplitude),
            SwingCounter(HEIGHT_FACTOR * amplitude),
            SwingCounter(ANGLE_PER_YARDSTICK * amplitude),
        )
        self.events: list[_Event] = []
        self.smooth: list[float | None] = [None, None, None]
        self.last_t_s: float | None = None

    def reset(self) -> None:
        for counter in self.counters:
            counter.reset()
        self.events.clear()
        self.smooth = [None, None, None]
        self.last_t_s = None

    def clear_swings(self) -> None:
        """Forget the half-swings seen so far (after a hit), keeping each signal's level."""
        for counter in self.counters:
            counter.swings.clear()
        self.events.clear()

    def sample(self, body: BodyFrame) -> tuple[float, float, float | None] | None:
        """``(x, y, direction)`` of the hand (see the module docstring), or None when the frame
        is unusable for it; the direction is None when the hand's own landmarks are not seen or
        it points down."""
        rows = body.rows
        w, e = rows[self.wrist], rows[self.elbow]
        if w[3] < MIN_ARM_VISIBILITY or e[3] < MIN_ARM_VISIBILITY:
            return None
        if w[1] >= e[1]:
            return None  # hand not above the elbow
        size = body.size
        nose = rows[NOSE]
        above_nose = nose[1] - w[1]
        if above_nose < -MAX_BELOW_NOSE * size:
            return None  # hand at the chest or lower
        if math.hypot(w[0] - nose[0], w[1] - nose[1] + HEAD_CENTRE_ABOVE_NOSE * size) < (
            HEAD_RADIUS * size
        ):
            return None  # hand on the head
        i, p = rows[self.index], rows[self.pinky]
        if above_nose <= ABOVE_FACE * size:
            clearance = FACE_CLEARANCE * size
            for part in (w, i, p):
                for head in (nose, rows[L_EAR], rows[R_EAR]):
                    if math.hypot(part[0] - head[0], part[1] - head[1]) < clearance:
                        return None  # hand at the face
        x = w[0]
        direction: float | None = None
        if i[3] >= MIN_ARM_VISIBILITY and p[3] >= MIN_ARM_VISIBILITY:
            x = (x + i[0] + p[0]) / 3.0
            hx = 0.5 * (i[0] + p[0]) - w[0]
            hy = 0.5 * (i[1] + p[1]) - w[1]
            if hx != 0.0 or hy != 0.0:
                angle = math.atan2(hx, -hy)
                if abs(angle) <= MAX_HAND_ANGLE_RAD:
                    direction = angle
        return (x - e[0]) / size, (e[1] - w[1]) / size, direction

    def add(
        self, t_s: float, dt_s: float, sample: tuple[float, float, float | None], window_s: float
    ) -> None:
        """Feed one usable sample, ``dt_s`` after the previous one, to the counters (through
        the light smoothing of ``SMOOTHING_S``); record the half-swings they complete."""
        events = self.events
        alpha = 1.0 - math.exp(-dt_s / SMOOTHING_S) if dt_s > 0.0 else 1.0
        smooth = self.smooth
        x_swings = self.counters[0].swings
        for k, (counter, raw) in enumerate(zip(self.counters, sample, strict=True)):
            prev = smooth[k]
            if raw is None:
                smooth[k] = None
                continue
            u = raw if prev is None else prev + alpha * (raw - prev)
            smooth[k] = u
            swings = counter.swings
            n = len(swings)
            counter.add(t_s, u)
            if len(swings) > n:
                t_ext, travel = swings[-1]
                # A height reversal smaller than the latest side-to-side half-swing is that
                # swing's own harmonic (the hand is lowest at both sides), not a swing of its own.
                # Nor is a reversal confirmed more than a half-period after its extreme: that is
                # a hold followed by a slow move (a raised hand kept still, then lowered), and
                # the jitter peaks of the hold would otherwise pass for a run of swings.
                late = t_s - t_ext > MAX_HALF_PERIOD_S
                if not late and (k != 1 or not x_swings or travel >= x_swings[-1][1]):
                    insort(events, (t_ext, travel / counter.threshold, k))
            counter.prune(t_s - window_s)
        oldest = t_s - window_s
        while events and events[0][0] < oldest:
            del events[0]

    def cadenced(self) -> list[_Event]:
        """The newest run of half-swings at a waving cadence, newest first (see
        :meth:`SwingCounter.cadenced`); reversals of different signals closer than
        ``MIN_HALF_PERIOD_S`` count once, of the same signal end the run (too fast)."""
        events = self.events
        if not events:
            return []
        run = [events[-1]]
        for ev in reversed(events[:-1]):
            later = run[-1]
            gap = later[0] - ev[0]
            if gap < MIN_HALF_PERIOD_S:
                if ev[2] == later[2]:
                    break
                continue
            if gap > MAX_HALF_PERIOD_S:
                break
            run.append(ev)
        return run


def _both_hands_raised(body: BodyFrame) -> bool:
    """Both wrists visible and above the nose: stretching or ``hands_up``, not a wave."""
    rows = body.rows
    lw, rw = rows[L_WRIST], rows[R_WRIST]
    if lw[3] < MIN_VISIBILITY or rw[3] < MIN_VISIBILITY:
        return False
    nose_y = rows[NOSE][1]
    return lw[1] < nose_y and rw[1] < nose_y


class WaveDetector:
    """Recognizes a wave of the visitor's ``config.hand`` ("left", "right" or "either"); hits
    carry the side that waved (MediaPipe's ``left_*``/``right_*``: the visitor's own side).

    ``aspect_ratio`` is the camera's ``width_px / height_px`` (normalized x and y differ).

    Example:
        >>> from exhibit.config.schema import WaveConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, wave_motion
        >>> det = WaveDetector(WaveConfig())
        >>> frames = render(sequence(idle_motion(0.5), wave_motion(2.5), idle_motion(0.5)))
        >>> hits = [h for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        >>> [(h.name, h.side) for h in hits]
        [('wave', 'right')]
    """

    name = "wave"

    def __init__(self, config: WaveConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        amp = config.min_amplitude
        hands = []
        if config.hand in ("left", "either"):
            hands.append(_Hand("left", L_WRIST, L_ELBOW, L_INDEX, L_PINKY, amp))
        if config.hand in ("right", "either"):
            hands.append(_Hand("right", R_WRIST, R_ELBOW, R_INDEX, R_PINKY, amp))
        self._hands = tuple(hands)
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget every hand's progress and the refractory period (the visitor left)."""
        for hand in self._hands:
            hand.reset()
        self._last_hit_s = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a wave completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        cfg = self.config
        if self._last_hit_s is not None and t_s < self._last_hit_s:
            self.reset()  # time went backwards: a new recording
        best: GestureHit | None = None
        raised = body is not None and _both_hands_raised(body)
        for hand in self._hands:
            if hand.last_t_s is not None and (
                t_s - hand.last_t_s > MAX_GAP_S or t_s < hand.last_t_s
            ):
                hand.reset()
            if body is None or raised:
                continue
            sample = hand.sample(body)
            if sample is None:
                continue
            dt_s = 0.0 if hand.last_t_s is None else t_s - hand.last_t_s
            hand.last_t_s = t_s
            hand.add(t_s, dt_s, sample, cfg.window_s)
            run = hand.cadenced()
            if len(run) < cfg.min_swings:
                continue
            if self._last_hit_s is not None and t_s - self._last_hit_s < cfg.refractory_s:
                continue
            score = _score(run[: cfg.min_swings])
            if best is None or score > best.score:
                best = GestureHit(self.name, t_s, score, hand.side)
        if best is None:
            return []
        self._last_hit_s = t_s
        for hand in self._hands:
            hand.clear_swings()
        return [best]


def _score(run: list[_Event]) -> float:
    """Half from amplitude (mean travel over twice the hysteresis, capped at 1), half from the
    regularity of the intervals between the half-swings of ``run`` (newest first)."""
    amplitude = min(1.0, sum(ev[1] for ev in run) / len(run) / 2.0)
    regularity = 1.0
    if len(run) >= 3:
        gaps = [a[0] - b[0] for a, b in pairwise(run)]
        mean = sum(gaps) / len(gaps)
        if mean > 0:
            var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
            regularity = max(0.0, 1.0 - var**0.5 / mean)
    return max(0.0, min(1.0, 0.5 * amplitude + 0.5 * regularity))
