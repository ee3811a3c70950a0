"""The wave: a raised hand swinging side to side about the elbow, at a waving cadence.

Per hand, each usable frame gives one sample ``u``: the horizontal offset of the hand from the
elbow, in body yardsticks (see ``features``). The hand is the mean of the wrist, index and pinky
landmarks when the index and pinky are visible (a hand that flaps at the wrist moves them more
than the wrist), else the wrist alone. A frame is *usable* for a hand when:

- the wrist and elbow are visible (``MIN_VISIBILITY``) and the wrist is above the elbow;
- the forearm is roughly upright: within ``MAX_FOREARM_TILT_DEG`` (60 degrees) of vertical, so an
  arm held out sideways or a hand hanging in front of the belly gives no samples;
- the hand is not at the face: not within ``FACE_HALF_WIDTH`` (0.4) yardsticks of the nose
  horizontally while lower than ``FACE_CLEARANCE`` (0.6) yardsticks above it. Scratching the
  head, holding a phone to the ear, wiping glasses, drinking, coughing or sneezing into a hand
  all move a raised hand back and forth right there; a wave is held beside or above the head;
- not both wrists are above the top of the head (``hands_up``'s pose, or stretching): such a
  frame gives no sample for either hand.

A zig-zag filter with hysteresis ``min_amplitude`` turns the samples into half-swings: a reversal
counts once the hand has come back by ``min_amplitude`` from its extreme, so jitter below that
never counts. The swings must come at a waving *cadence*: consecutive extremes between
``MIN_HALF_PERIOD_S`` (0.08 s) and ``MAX_HALF_PERIOD_S`` (0.75 s) apart. A wave is 1-4 Hz, half
periods of 0.125-0.5 s; the bounds add the slack of a frame at 10 fps (an extreme is seen up to
a frame early or late) and of uneven frame times. Raising or lowering
the arm, a slow sway or a reach is too slow; frame-to-frame jitter at 30-60 fps too fast. When
the last ``min_swings`` half-swings (extremes within ``window_s``) keep that cadence, the wave
fires; then nothing fires for ``refractory_s`` and the swing history starts afresh.

Robustness: samples are taken whenever they come (10-60 fps, uneven intervals); frames without a
skeleton or with the hand unusable are skipped, and a hand's progress survives gaps up to
``MAX_GAP_S`` (0.4 s) without a usable sample. Everything is plain float arithmetic on the
shared :class:`~exhibit.gestures.features.BodyFrame` (a few microseconds per frame).

Score (0..1): half from amplitude (mean travel over ``2 * min_amplitude``, capped at 1), half
from regularity (1 minus the coefficient of variation of the intervals between extremes).

On real people filmed small at 10 fps (BIISC) most waves do not show as swings in MediaPipe's
landmarks at all; the figures, and why, are in docs/gestures-evaluation.md.

Example:
    >>> from exhibit.config.schema import WaveConfig
    >>> WaveDetector(WaveConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

import math
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
MAX_FOREARM_TILT_DEG = 60.0
# The forearm is upright enough when |dx| <= _MAX_TILT * dy (dy > 0: the hand is above).
_MAX_TILT = math.tan(math.radians(MAX_FOREARM_TILT_DEG))
FACE_HALF_WIDTH = 0.4
FACE_CLEARANCE = 0.6
MIN_HALF_PERIOD_S = 0.08
MAX_HALF_PERIOD_S = 0.75

L_INDEX = LANDMARK_INDEX["left_index"]
R_INDEX = LANDMARK_INDEX["right_index"]
L_PINKY = LANDMARK_INDEX["left_pinky"]
R_PINKY = LANDMARK_INDEX["right_pinky"]


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


class _Hand:
    """Per-hand state: its landmarks, its swing counter and when it last gave a usable sample."""

    __slots__ = ("counter", "elbow", "index", "last_t_s", "pinky", "side", "wrist")

    def __init__(
        self, side: str, wrist: int, elbow: int, index: int, pinky: int, threshold: float
    ) -> None:
        self.side = side
        self.wrist = wrist
        self.elbow = elbow
        self.index = index
        self.pinky = pinky
        self.counter = SwingCounter(threshold)
        self.last_t_s: float | None = None

    def reset(self) -> None:
        self.counter.reset()
        self.last_t_s = None

    def sample(self, body: BodyFrame) -> float | None:
        """The hand's horizontal offset from the elbow in yardsticks, or None when unusable."""
        rows = body.rows
        w, e = rows[self.wrist], rows[self.elbow]
        if w[3] < MIN_VISIBILITY or e[3] < MIN_VISIBILITY:
            return None
        dy = e[1] - w[1]
        if dy <= 0.0:
            return None  # hand not above the elbow
        x = w[0]
        i, p = rows[self.index], rows[self.pinky]
        if i[3] >= MIN_VISIBILITY and p[3] >= MIN_VISIBILITY:
            x = (x + i[0] + p[0]) / 3.0
        dx = x - e[0]
        if abs(dx) > _MAX_TILT * dy:
            return None  # forearm too far from upright
        size = body.size
        nose = rows[NOSE]
        if abs(x - nose[0]) < FACE_HALF_WIDTH * size and nose[1] - w[1] < FACE_CLEARANCE * size:
            return None  # hand at the face or head
        return dx / size


def _both_hands_overhead(body: BodyFrame) -> bool:
    """Both wrists visible and above the top of the head: ``hands_up``'s pose, not a wave."""
    rows = body.rows
    lw, rw = rows[L_WRIST], rows[R_WRIST]
    if lw[3] < MIN_VISIBILITY or rw[3] < MIN_VISIBILITY:
        return False
    top = body.head_top_y()
    return lw[1] < top and rw[1] < top


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
        overhead = body is not None and _both_hands_overhead(body)
        for hand in self._hands:
            if hand.last_t_s is not None and (
                t_s - hand.last_t_s > MAX_GAP_S or t_s < hand.last_t_s
            ):
                hand.reset()
            if body is None or overhead:
                continue
            u = hand.sample(body)
            if u is None:
                continue
            hand.last_t_s = t_s
            counter = hand.counter
            counter.add(t_s, u)
            counter.prune(t_s - cfg.window_s)
            if counter.cadenced() < cfg.min_swings:
                continue
            if self._last_hit_s is not None and t_s - self._last_hit_s < cfg.refractory_s:
                continue
            score = self._score(counter)
            if best is None or score > best.score:
                best = GestureHit(self.name, t_s, score, hand.side)
        if best is None:
            return []
        self._last_hit_s = t_s
        for hand in self._hands:
            hand.counter.swings.clear()
        return [best]

    def _score(self, counter: SwingCounter) -> float:
        recent = list(counter.swings)[-self.config.min_swings :]
        travel = sum(s[1] for s in recent) / len(recent)
        amplitude = min(1.0, travel / (2.0 * counter.threshold))
        regularity = 1.0
        if len(recent) >= 3:
            gaps = [b[0] - a[0] for a, b in pairwise(recent)]
            mean = sum(gaps) / len(gaps)
            if mean > 0:
                var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
                regularity = max(0.0, 1.0 - var**0.5 / mean)
        return max(0.0, min(1.0, 0.5 * amplitude + 0.5 * regularity))
