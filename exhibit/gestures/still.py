"""Still: the visitor stands still for a while.

When a still period begins, the detector notes where the key joints are (``KEY_JOINTS``: nose,
shoulders, hips, wrists; image positions). Each later frame measures how far the farthest of
them has moved from there, in body sizes; while that stays within ``max_motion`` for ``hold_s``,
one hit fires. A frame where it is exceeded starts a new still period from that frame (so the
visitor must move to re-arm, and stand still for ``hold_s`` again to fire again, not sooner than
``refractory_s`` after the last hit). A period often begins while a movement is still ending
(an arm coming to rest), so during its first ``SETTLE_S`` (0.5 s) the anchor follows the body
from frame to frame (a jump of more than ``SETTLE_SHARE``, 3/4, of ``max_motion`` between frames
still restarts it) and only then stays put; the period's ``hold_s`` counts from its start.

Displacement from a fixed anchor, rather than speed, makes the measure independent of the
frame rate (per-frame landmark jitter does not add up) and catches slow drifts as well as quick
moves. Joints below ``MIN_VISIBILITY`` are left out of a frame (one not seen when the period
began is anchored where it is first seen); a frame with fewer than three comparable joints is
skipped; a hold survives gaps up to 0.4 s.

Swaying, breathing and small weight shifts stay well inside the default 0.25 body sizes
(~10 cm for an adult); gesturing, stepping and walking do not. A held pose (hands up, a T-pose)
is still too, once it has been held for ``hold_s``.

Score (0..1): how little the joints moved: 1 at none, 0.5 at ``max_motion``.

Example:
    >>> from exhibit.config.schema import StillConfig
    >>> StillDetector(StillConfig(enabled=True)).update(0.0, None)
    []
"""

from __future__ import annotations

import math

from exhibit.config.schema import StillConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_HIP,
    L_SHOULDER,
    L_WRIST,
    MIN_VISIBILITY,
    NOSE,
    R_HIP,
    R_SHOULDER,
    R_WRIST,
    BodyFrame,
)
from exhibit.gestures.hold import Hold, clamp01
from exhibit.skeleton import Skeleton

KEY_JOINTS = (NOSE, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_WRIST, R_WRIST)
MIN_JOINTS = 3
SETTLE_S = 0.5
SETTLE_SHARE = 0.75


class StillDetector:
    """Recognizes a visitor whose key joints stay put for ``config.hold_s``.

    Example:
        >>> from exhibit.config.schema import StillConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, wave_motion
        >>> det = StillDetector(StillConfig(enabled=True))
        >>> frames = render(sequence(wave_motion(2.0), idle_motion(4.0)))
        >>> [(h.name, round(h.t_s, 1)) for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        [('still', 4.9)]
    """

    name = "still"

    def __init__(self, config: StillConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._hold = Hold(config.hold_s, config.refractory_s)
        self._anchor: list[tuple[float, float] | None] | None = None
        self._worst = 0.0

    def reset(self) -> None:
        """Forget the anchor, any hold and the refractory period."""
        self._hold.reset()
        self._anchor = None
        self._worst = 0.0

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        hold = self._hold
        hold.skip(t_s)
        if hold.since_s is None:
            self._anchor = None  # a long gap: start afresh
        if body is None:
            return []
        rows = body.rows
        anchor = self._anchor
        if anchor is None:
            self._start(t_s, rows)
            return []
        worst = 0.0  # the largest squared displacement (image heights squared)
        count = 0
        for k, (i, a) in enumerate(zip(KEY_JOINTS, anchor, strict=True)):
            r = rows[i]
            if r[3] < MIN_VISIBILITY:
                continue
            if a is None:  # not seen when the period began: it starts from here
                anchor[k] = (r[0], r[1])
                continue
            count += 1
            dx, dy = r[0] - a[0], r[1] - a[1]
            d = dx * dx + dy * dy
            if d > worst:
                worst = d
        if count < MIN_JOINTS:
            return []
        worst = math.sqrt(worst) / body.size
        cfg = self.config
        since = self._hold.since_s
        settling = since is not None and t_s - since < SETTLE_S
        if worst > (SETTLE_SHARE * cfg.max_motion if settling else cfg.max_motion):
            hold.release()
            self._start(t_s, rows)
            return []
        if settling:  # the anchor follows the body until it has settled
            self._anchor = [
                (rows[i][0], rows[i][1]) if rows[i][3] >= MIN_VISIBILITY else a
                for i, a in zip(KEY_JOINTS, anchor, strict=True)
            ]
        elif worst > self._worst:
            self._worst = worst
        if hold.hold(t_s):
            return [GestureHit(self.name, t_s, clamp01(1.0 - 0.5 * self._worst / cfg.max_motion))]
        return []

    def _start(self, t_s: float, rows: list[list[float]]) -> None:
        self._anchor = [
            (rows[i][0], rows[i][1]) if rows[i][3] >= MIN_VISIBILITY else None for i in KEY_JOINTS
        ]
        self._worst = 0.0
        self._hold.hold(t_s)
