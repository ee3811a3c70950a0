"""Crouch: the hips lowered towards the feet, held.

The measure is the hips' height above the feet: the image-y distance from the hip centre down to
the lower ankle (the standing foot when walking), divided by the torso length (shoulder centre
to hip centre). Both are vertical lengths of the same body at the same distance, so the ratio
does not change with distance or a turn (the shoulder-width yardstick would: it shrinks as the
visitor turns), and a crouch does not change the torso.

The *standing* value is learnt from the visitor (children's legs are shorter relative to the
torso than adults'): a baseline that follows the measure up quickly (``RISE_S``, 0.3 s) and down
slowly (``FALL_S``, 10 s), so it sits at the visitor's upright height. The drop is
``1 - measure / baseline``; at least ``min_drop``, continuously for ``hold_s``, fires one hit.
Once begun, a hold continues while the drop stays above ``KEEP`` (80 %) of ``min_drop``, so
tracking noise around the threshold does not break it. After a hit the visitor must come back
up above half of ``min_drop`` before the next.

Needs the feet in view: frames with no visible ankle (a visitor close to the camera, whose feet
are out of frame) are skipped, as are frames without a skeleton, shoulders or hips; a hold
survives gaps up to 0.4 s. A visitor who is crouching when first seen is only recognised after
standing up once (the baseline starts from the first frame).

Score (0..1): 0.5 at ``min_drop``, 1 at twice it.

Example:
    >>> from exhibit.config.schema import CrouchConfig
    >>> CrouchDetector(CrouchConfig(enabled=True)).update(0.0, None)
    []
"""

from __future__ import annotations

from exhibit.config.schema import CrouchConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_ANKLE,
    MIN_SIZE,
    MIN_VISIBILITY,
    R_ANKLE,
    BodyFrame,
)
from exhibit.gestures.hold import Hold, clamp01
from exhibit.skeleton import Skeleton

RISE_S = 0.3
FALL_S = 10.0
KEEP = 0.8


class CrouchDetector:
    """Recognizes the hips held at least ``config.min_drop`` lower than standing.

    Example:
        >>> from exhibit.config.schema import CrouchConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, crouch_motion
        >>> det = CrouchDetector(CrouchConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(1.0), crouch_motion(1.5), idle_motion(0.5)))
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['crouch']
    """

    name = "crouch"

    def __init__(self, config: CrouchConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._hold = Hold(config.hold_s, config.refractory_s)
        self._baseline: float | None = None
        self._last_s = 0.0

    def reset(self) -> None:
        """Forget the standing baseline, any hold and the refractory period."""
        self._hold.reset()
        self._baseline = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        hold = self._hold
        if body is None or not body.trunk_visible():
            hold.skip(t_s)
            return []
        la, ra = body.rows[L_ANKLE], body.rows[R_ANKLE]
        l_ok, r_ok = la[3] >= MIN_VISIBILITY, ra[3] >= MIN_VISIBILITY
        if not (l_ok or r_ok):
            hold.skip(t_s)
            return []
        foot_y = max(la[1], ra[1]) if l_ok and r_ok else la[1] if l_ok else ra[1]
        height = (foot_y - body.hy) / max(body.torso, MIN_SIZE)
        base = self._baseline
        if base is None or t_s < self._last_s:
            if base is not None:
                self.reset()  # time went back: a new recording
            base = height
        else:
            dt = t_s - self._last_s
            tau = RISE_S if height > base else FALL_S
            base += (height - base) * min(1.0, dt / tau)
        self._baseline = base
        self._last_s = t_s
        cfg = self.config
        drop = 1.0 - height / base if base > MIN_SIZE else 0.0
        holding = self._hold.since_s is not None
        if drop >= (KEEP * cfg.min_drop if holding else cfg.min_drop):
            if hold.hold(t_s):
                score = clamp01(0.5 * drop / max(cfg.min_drop, 1e-6))
                return [GestureHit(self.name, t_s, score)]
            return []
        hold.release(rearm=drop < 0.5 * cfg.min_drop)
        return []
