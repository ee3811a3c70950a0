"""T-pose: both arms spread out sideways, held.

For each arm, the wrist relative to its own shoulder, in body sizes: ``reach`` is how far it is
*outwards* (away from the other shoulder, horizontally), ``angle`` how far the shoulder-to-wrist
line is from horizontal in the image. Both arms with ``reach >= min_reach`` and
``angle <= max_angle_deg``, continuously for ``hold_s``, fire one hit.

Turns: a straight arm reaches ~1.28 body sizes facing the camera and ~0.9-1.2 turned 45 degrees
(the arm is foreshortened, but so are the shoulders until the torso takes over the yardstick;
perspective shortens the arm pointing away further off the image's centre), and a turn makes
the angle of a slightly raised arm look larger (tan / cos of the turn), hence the defaults 0.75
and 25 degrees. Outwards is decided by the shoulders' order in the image, so it holds for any
turn short of side-on.

Hysteresis: once begun, a hold continues while both arms keep 90 % of ``min_reach`` and stay
within 1.2 times ``max_angle_deg`` (tracking noise at the edge of the pose does not break it);
after a hit the pose must clearly end, an arm under 75 % of ``min_reach`` or more than 1.5
times ``max_angle_deg`` off horizontal, before the gesture can fire again. Frames without a
skeleton, or with a shoulder or wrist below ``MIN_VISIBILITY``, are skipped; a hold survives
gaps up to 0.4 s.

Score (0..1): 0.5 plus half of how level the worse arm is (1 at horizontal, 0 at the limit).

Example:
    >>> from exhibit.config.schema import TPoseConfig
    >>> TPoseDetector(TPoseConfig(enabled=True)).update(0.0, None)
    []
"""

from __future__ import annotations

import math

from exhibit.config.schema import TPoseConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_SHOULDER,
    L_WRIST,
    MIN_VISIBILITY,
    R_SHOULDER,
    R_WRIST,
    BodyFrame,
)
from exhibit.gestures.hold import Hold, clamp01
from exhibit.skeleton import Skeleton

KEEP_REACH = 0.9
KEEP_ANGLE = 1.2
RELEASE_REACH = 0.75
RELEASE_ANGLE = 1.5


class TPoseDetector:
    """Recognizes both arms held out sideways, near horizontal, for ``config.hold_s``.

    Example:
        >>> from exhibit.config.schema import TPoseConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, t_pose_motion
        >>> det = TPoseDetector(TPoseConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(0.5), t_pose_motion(2.0), idle_motion(0.5)))
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['t_pose']
    """

    name = "t_pose"

    def __init__(self, config: TPoseConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._hold = Hold(config.hold_s, config.refractory_s)
        self._tan_max = math.tan(math.radians(min(config.max_angle_deg, 89.0)))
        self._tan_keep = math.tan(math.radians(min(KEEP_ANGLE * config.max_angle_deg, 89.0)))
        self._tan_release = math.tan(math.radians(min(RELEASE_ANGLE * config.max_angle_deg, 89.0)))

    def reset(self) -> None:
        """Forget any hold, the re-arm state and the refractory period."""
        self._hold.reset()

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        hold = self._hold
        if body is None:
            hold.skip(t_s)
            return []
        rows = body.rows
        ls, rs, lw, rw = rows[L_SHOULDER], rows[R_SHOULDER], rows[L_WRIST], rows[R_WRIST]
        if min(ls[3], rs[3], lw[3], rw[3]) < MIN_VISIBILITY:
            hold.skip(t_s)
            return []
        out = 1.0 if ls[0] >= rs[0] else -1.0  # image direction of the visitor's left
        size = body.size
        l_reach = (lw[0] - ls[0]) * out / size
        r_reach = (rs[0] - rw[0]) * out / size
        reach = min(l_reach, r_reach)
        # Worse arm's slope (rise over run), compared as tangents: no trigonometry per frame.
        slope = max(
            abs(lw[1] - ls[1]) / size / max(l_reach, 1e-6),
            abs(rw[1] - rs[1]) / size / max(r_reach, 1e-6),
        )
        cfg = self.config
        holding = hold.since_s is not None
        min_reach = KEEP_REACH * cfg.min_reach if holding else cfg.min_reach
        if reach >= min_reach and slope <= (self._tan_keep if holding else self._tan_max):
            if hold.hold(t_s):
                level = 1.0 - math.degrees(math.atan(slope)) / max(cfg.max_angle_deg, 1e-6)
                return [GestureHit(self.name, t_s, clamp01(0.5 + 0.5 * level))]
            return []
        clearly_off = reach < RELEASE_REACH * cfg.min_reach or slope > self._tan_release
        hold.release(rearm=clearly_off)
        return []
