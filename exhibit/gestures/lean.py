"""Leans: the upper body tilted sideways and held, ``lean_left`` and ``lean_right``.

The torso line runs from the hip centre to the shoulder centre; its angle from vertical in the
image (x in image heights, so the angle is true) is the lean. As for swipes, **direction is the
visitor's own**: ``lean_left`` is a tilt towards the visitor's left, which is the image's right
for a visitor facing the camera and the screen's left on a mirrored display. An angle of at
least ``min_angle_deg``, continuously for ``hold_s``, fires one hit (no ``side``: the direction
is in the name).

Hysteresis: once begun, a hold continues while the lean stays above 80 % of the angle
(``KEEP``), so tracking noise at the threshold does not break it; after a hit the visitor must
come back under 60 % of the angle (``RELEASE``) before that lean can fire again. Frames without
a skeleton, or with a shoulder or hip below ``MIN_VISIBILITY``, are skipped; a hold survives gaps
up to 0.4 s.

Turns: a sideways lean is seen foreshortened by the cosine of the turn (a 25 degree lean looks
like 19 degrees at a 45 degree turn), and a visitor turned 45 degrees who bows *forwards* looks
like they lean sideways; the camera must be level (its roll adds to every angle). See
docs/gestures.md.

Score (0..1): 0.5 at ``min_angle_deg``, 1 at twice it.

Example:
    >>> from exhibit.config.schema import LeanConfig
    >>> LeanDetector(LeanConfig(enabled=True), LeanConfig()).update(0.0, None)
    []
"""

from __future__ import annotations

import math

from exhibit.config.schema import LeanConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.hold import Hold, clamp01
from exhibit.skeleton import Skeleton

KEEP = 0.8
RELEASE = 0.6


class LeanDetector:
    """Recognizes a lean towards the visitor's left (``left`` config, event ``lean_left``) or
    right (``right`` config, ``lean_right``); a disabled direction never fires.

    Example:
        >>> from exhibit.config.schema import LeanConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, lean_motion
        >>> det = LeanDetector(LeanConfig(enabled=True), LeanConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(0.5), lean_motion("right"), idle_motion(0.5)))
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['lean_right']
    """

    name = "lean"

    def __init__(
        self, left: LeanConfig, right: LeanConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO
    ) -> None:
        self.left = left
        self.right = right
        self.aspect_ratio = aspect_ratio
        self.names = [n for n, c in (("lean_left", left), ("lean_right", right)) if c.enabled]
        # (name, config, direction, hold, tan of the angle, of the keep and release angles)
        self._ways = [
            (
                name,
                cfg,
                direction,
                Hold(cfg.hold_s, cfg.refractory_s),
                math.tan(math.radians(min(cfg.min_angle_deg, 89.0))),
                math.tan(math.radians(min(KEEP * cfg.min_angle_deg, 89.0))),
                math.tan(math.radians(min(RELEASE * cfg.min_angle_deg, 89.0))),
            )
            for name, cfg, direction in (("lean_left", left, 1.0), ("lean_right", right, -1.0))
            if cfg.enabled
        ]

    def reset(self) -> None:
        """Forget any hold, the re-arm state and the refractory periods."""
        for way in self._ways:
            way[3].reset()

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        if body is None or not body.trunk_visible():
            for way in self._ways:
                way[3].skip(t_s)
            return []
        up = body.hy - body.cy  # image y grows downwards
        # tan(lean), positive towards the image's right: the visitor's left.
        tilt = (body.cx - body.hx) / up if up > 1e-9 else math.copysign(1e9, body.cx - body.hx)
        hits: list[GestureHit] = []
        for name, cfg, direction, hold, tan_on, tan_keep, tan_off in self._ways:
            lean = tilt * direction
            if lean >= (tan_keep if hold.since_s is not None else tan_on):
                if hold.hold(t_s):
                    angle = math.degrees(math.atan(lean))
                    score = clamp01(0.5 * angle / max(cfg.min_angle_deg, 1e-6))
                    hits.append(GestureHit(name, t_s, score))
            else:
                hold.release(rearm=lean < tan_off)
        return hits
