"""Hands up: both wrists above the top of the head, held.

The line to clear is ``head_top_y - margin * size`` (image y, up is smaller), where
``head_top_y`` is the nose minus ``HEAD_TOP_ABOVE_NOSE`` yardsticks and ``size`` the body
yardstick (see ``features``). Both wrists above it, continuously for ``hold_s``, fire one hit.

Re-arming: after a hit the hands must come down below the line before the gesture can fire
again, and never sooner than ``refractory_s`` after the previous hit (so a visitor holding
their hands up gets one hit, and hands flickering across the line cannot fire in a burst).
Frames without a skeleton, or with a wrist or the nose below ``MIN_VISIBILITY``, are skipped;
a hold survives gaps up to ``MAX_GAP_S`` (0.4 s).

Score (0..1): 0.5 plus how far the lower wrist is above the line, in yardsticks, capped at 1
(arms straight up score ~0.95).

Example:
    >>> from exhibit.config.schema import HandsUpConfig
    >>> HandsUpDetector(HandsUpConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

from exhibit.config.schema import HandsUpConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    HEAD_TOP_ABOVE_NOSE,
    L_WRIST,
    MIN_VISIBILITY,
    NOSE,
    R_WRIST,
    BodyFrame,
)
from exhibit.skeleton import Skeleton

MAX_GAP_S = 0.4


class HandsUpDetector:
    """Recognizes both hands held above the head for ``config.hold_s``.

    ``aspect_ratio`` is the camera's ``width_px / height_px`` (normalized x and y differ).

    Example:
        >>> from exhibit.config.schema import HandsUpConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, hands_up_motion
        >>> det = HandsUpDetector(HandsUpConfig())
        >>> frames = render(sequence(idle_motion(0.5), hands_up_motion(2.0), idle_motion(0.5)))
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['hands_up']
    """

    name = "hands_up"

    def __init__(self, config: HandsUpConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._up_since_s: float | None = None
        self._last_up_s: float | None = None
        self._armed = True
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget any hold in progress, the re-arm state and the refractory period."""
        self._up_since_s = None
        self._last_up_s = None
        self._armed = True
        self._last_hit_s = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        if self._last_up_s is not None and (
            t_s - self._last_up_s > MAX_GAP_S or t_s < self._last_up_s
        ):
            self._up_since_s = None
            self._last_up_s = None
        if body is None:
            return []
        rows = body.rows
        lw, rw, nose = rows[L_WRIST], rows[R_WRIST], rows[NOSE]
        if lw[3] < MIN_VISIBILITY or rw[3] < MIN_VISIBILITY or nose[3] < MIN_VISIBILITY:
            return []
        cfg = self.config
        line_y = nose[1] - (HEAD_TOP_ABOVE_NOSE + cfg.margin) * body.size
        low_y = max(lw[1], rw[1])
        if low_y >= line_y:
            self._up_since_s = None
            self._last_up_s = None
            self._armed = True
            return []
        self._last_up_s = t_s
        if self._up_since_s is None:
            self._up_since_s = t_s
        if not self._armed or t_s - self._up_since_s < cfg.hold_s:
            return []
        if self._last_hit_s is not None and t_s - self._last_hit_s < cfg.refractory_s:
            return []
        self._armed = False
        self._last_hit_s = t_s
        score = min(1.0, 0.5 + (line_y - low_y) / body.size)
        return [GestureHit(self.name, t_s, score)]
