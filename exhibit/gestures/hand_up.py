"""Hand up: one hand raised above the head, held; the hit says which.

The line to clear is the one ``hands_up`` uses: ``head_top_y - margin * size`` (image y, up is
smaller; ``head_top_y`` is the nose minus ``HEAD_TOP_ABOVE_NOSE`` body sizes). Exactly one
wrist above it, continuously for ``hold_s``, fires a hit with that wrist's ``side`` (the
visitor's own, as MediaPipe labels it).

How it relates to ``hands_up``: the two never describe the same moment. Both wrists above the
line is ``hands_up``'s, and it *blocks* ``hand_up`` until both hands are down again, so raising
both hands (one a little before the other) and lowering them (one a little after) fires only
``hands_up``. Raising one hand, holding it (``hand_up``), then raising the other as well
(``hands_up``) fires both, in that order: both really happened.

Frames without a skeleton, or with a wrist or the nose below ``MIN_VISIBILITY``, are skipped (the
other hand could be up out of sight); a hold survives gaps up to ``MAX_GAP_S`` (0.4 s). After a
hit the hand must come down before the next one, and not sooner than ``refractory_s``.

Score (0..1): 0.5 plus how far the wrist is above the line, in body sizes, capped at 1.

Example:
    >>> from exhibit.config.schema import HandUpConfig
    >>> HandUpDetector(HandUpConfig(enabled=True)).update(0.0, None)
    []
"""

from __future__ import annotations

from exhibit.config.schema import HandUpConfig
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
from exhibit.gestures.hold import Hold, clamp01
from exhibit.skeleton import Skeleton


class HandUpDetector:
    """Recognizes one hand held above the head (``config.hand``: "left", "right", "either").

    Example:
        >>> from exhibit.config.schema import HandUpConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, hand_up_motion
        >>> det = HandUpDetector(HandUpConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(0.5), hand_up_motion(2.0, side="left")))
        >>> [(h.name, h.side) for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        [('hand_up', 'left')]
    """

    name = "hand_up"

    def __init__(self, config: HandUpConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._holds = {side: Hold(config.hold_s, config.refractory_s) for side in ("left", "right")}
        self._blocked = False  # both hands were up: wait until both are down
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget any hold, the block left by ``hands_up`` and the refractory period."""
        for hold in self._holds.values():
            hold.reset()
        self._blocked = False
        self._last_hit_s = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        left, right = self._holds["left"], self._holds["right"]
        if self._last_hit_s is not None and t_s < self._last_hit_s:
            self.reset()
        if body is None:
            left.skip(t_s)
            right.skip(t_s)
            return []
        rows = body.rows
        lw, rw, nose = rows[L_WRIST], rows[R_WRIST], rows[NOSE]
        if lw[3] < MIN_VISIBILITY or rw[3] < MIN_VISIBILITY or nose[3] < MIN_VISIBILITY:
            left.skip(t_s)
            right.skip(t_s)
            return []
        cfg = self.config
        line_y = nose[1] - (HEAD_TOP_ABOVE_NOSE + cfg.margin) * body.size
        left_up, right_up = lw[1] < line_y, rw[1] < line_y
        if left_up and right_up:
            self._blocked = True
            left.disarm()
            right.disarm()
            return []
        if not left_up and not right_up:
            self._blocked = False
            left.release()
            right.release()
            return []
        if self._blocked:
            return []
        side, hold, other, wrist = (
            ("left", left, right, lw) if left_up else ("right", right, left, rw)
        )
        other.release()
        if cfg.hand != "either" and cfg.hand != side:
            return []
        last = self._last_hit_s
        if not hold.hold(t_s, allowed=last is None or t_s - last >= cfg.refractory_s):
            return []
        self._last_hit_s = t_s
        return [GestureHit(self.name, t_s, clamp01(0.5 + (line_y - wrist[1]) / body.size), side)]
