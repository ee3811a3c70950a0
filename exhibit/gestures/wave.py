"""The wave: a hand raised above the elbow, swinging side to side.

Per hand, each frame where the wrist is visible and above the elbow (image y) gives one sample
``u`` = horizontal wrist-minus-elbow offset in body yardsticks (see ``features``). A zig-zag
filter with hysteresis ``min_amplitude`` turns the samples into half-swings: a direction
reversal counts once the hand has come back by ``min_amplitude`` from its extreme, so jitter
below that never counts, and every counted half-swing travelled at least ``min_amplitude``. When
``min_swings`` half-swings (by the time of their extremes) fall within ``window_s``, the wave
fires; then nothing fires for ``refractory_s`` and the swing history starts afresh.

Robustness: samples are taken whenever they come (10-60 fps, uneven intervals); frames without
a skeleton, with a low-visibility wrist or elbow, or with the hand below the elbow are skipped,
and a hand's progress survives gaps up to ``MAX_GAP_S`` (0.4 s) without a usable sample.

Score (0..1): half from amplitude (mean travel over ``2 * min_amplitude``, capped at 1), half
from regularity (1 minus the coefficient of variation of the intervals between extremes).

Example:
    >>> from exhibit.config.schema import WaveConfig
    >>> WaveDetector(WaveConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise

from exhibit.config.schema import WaveConfig
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
from exhibit.skeleton import Skeleton

MAX_GAP_S = 0.4


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


class _Hand:
    """Per-hand state: its swing counter and when it last gave a usable sample."""

    __slots__ = ("counter", "elbow", "last_t_s", "side", "wrist")

    def __init__(self, side: str, wrist: int, elbow: int, threshold: float) -> None:
        self.side = side
        self.wrist = wrist
        self.elbow = elbow
        self.counter = SwingCounter(threshold)
        self.last_t_s: float | None = None

    def reset(self) -> None:
        self.counter.reset()
        self.last_t_s = None


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
        hands = []
        if config.hand in ("left", "either"):
            hands.append(_Hand("left", L_WRIST, L_ELBOW, config.min_amplitude))
        if config.hand in ("right", "either"):
            hands.append(_Hand("right", R_WRIST, R_ELBOW, config.min_amplitude))
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
        best: GestureHit | None = None
        for hand in self._hands:
            if hand.last_t_s is not None and (
                t_s - hand.last_t_s > MAX_GAP_S or t_s < hand.last_t_s
            ):
                hand.reset()
            if body is None:
                continue
            rows = body.rows
            w, e = rows[hand.wrist], rows[hand.elbow]
            if w[3] < MIN_VISIBILITY or e[3] < MIN_VISIBILITY or w[1] >= e[1]:
                continue
            hand.last_t_s = t_s
            counter = hand.counter
            counter.add(t_s, (w[0] - e[0]) / body.size)
            counter.prune(t_s - cfg.window_s)
            if len(counter.swings) < cfg.min_swings:
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
        amplitude = min(1.0, travel / (2.0 * self.config.min_amplitude))
        regularity = 1.0
        if len(recent) >= 3:
            gaps = [b[0] - a[0] for a, b in pairwise(recent)]
            mean = sum(gaps) / len(gaps)
            if mean > 0:
                var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
                regularity = max(0.0, 1.0 - var**0.5 / mean)
        return max(0.0, min(1.0, 0.5 * amplitude + 0.5 * regularity))
