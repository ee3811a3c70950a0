"""Jump: the body rises quickly and comes back down; both feet leave the floor.

**Signal.** The hip centre's image height. Its *standing baseline* is its recent level (image
heights), followed with a time constant of ``BASELINE_S`` (0.5 s) while the visitor is on the
ground and frozen during a jump. The rise is ``(baseline - hip_y) / scale`` (image y grows
downwards), in body sizes: the scale is the body's apparent scale
(:meth:`~exhibit.gestures.features.BodyFrame.scale`), equal to the body size for a visitor
facing the camera and, unlike it, unchanged by a turn.

**A jump** is a rise of at least ``min_rise`` (take-off) followed, within ``max_duration_s`` of
the take-off, by a fall of at least ``min_rise`` from the highest point: the hit fires on that
frame (on the way down, or on landing for a jump just over the threshold). Measuring the fall
from the peak rather than the return to the baseline keeps a squat jump from a held crouch (the
baseline has sunk with the hips) and rejects what only goes up: standing up from a crouch, and
the steady creep of the hips up the image while the visitor walks away from the camera (the
hips are below it; the baseline lags behind). A body that stays up longer than
``max_duration_s`` restarts the baseline from there; after a hit the hips must come back under
half of ``min_rise`` before another take-off.

**Both feet.** When both ankles are visible at take-off, the lower ankle (against its own
baseline, the same way) must rise at least half of ``min_rise`` before the hit; if it does not
(standing up from a crouch and dipping again, rising on tiptoe, a hop on one foot), the
baselines restart there. When the feet are out of view (a visitor close to the camera) the hips
alone decide.

Frames without a skeleton or with the hips below ``MIN_VISIBILITY`` are skipped; a gap longer
than ``max_duration_s`` abandons a jump in progress and restarts the baselines. Short flights
can fall between frames: at 10 fps jumps much lower than ~15 cm may be missed.

Score (0..1): 0.5 at a peak rise of ``min_rise``, 1 at twice it.

Example:
    >>> from exhibit.config.schema import JumpConfig
    >>> JumpDetector(JumpConfig(enabled=True)).update(0.0, None)
    []
"""

from __future__ import annotations

from exhibit.config.schema import JumpConfig
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    L_ANKLE,
    L_HIP,
    MIN_VISIBILITY,
    R_ANKLE,
    R_HIP,
    BodyFrame,
)
from exhibit.gestures.hold import clamp01
from exhibit.skeleton import Skeleton

BASELINE_S = 0.5

GROUND, UP, DOWN = 0, 1, 2


class JumpDetector:
    """Recognizes a jump: the hips up by ``config.min_rise`` body sizes and down again by as
    much within ``config.max_duration_s``, the feet (when seen) leaving the floor.

    Example:
        >>> from exhibit.config.schema import JumpConfig
        >>> from exhibit.synth.script import render, sequence, idle_motion, jump_motion
        >>> det = JumpDetector(JumpConfig(enabled=True))
        >>> frames = render(sequence(idle_motion(1.0), jump_motion(0.2), idle_motion(0.5)))
        >>> [h.name for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        ['jump']
    """

    name = "jump"

    def __init__(self, config: JumpConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self._hip_base: float | None = None
        self._foot_base: float | None = None
        self._last_s: float | None = None
        self._state = GROUND
        self._up_s = 0.0
        self._peak = 0.0
        self._feet_needed = False
        self._feet_peak = 0.0
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget the baselines, any jump in progress and the refractory period."""
        self._restart()
        self._last_hit_s = None

    def _restart(self) -> None:
        self._hip_base = None
        self._foot_base = None
        self._last_s = None
        self._state = GROUND

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a jump comes down."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        cfg = self.config
        last = self._last_s
        if last is not None and (t_s < last or t_s - last > cfg.max_duration_s):
            if t_s < last:
                self.reset()  # time went back: a new recording
            else:
                self._restart()  # a long gap
            last = None
        if body is None:
            return []
        rows = body.rows
        if rows[L_HIP][3] < MIN_VISIBILITY or rows[R_HIP][3] < MIN_VISIBILITY:
            return []
        scale = body.scale()
        z = body.hy
        la, ra = rows[L_ANKLE], rows[R_ANKLE]
        zf: float | None = None
        if la[3] >= MIN_VISIBILITY and ra[3] >= MIN_VISIBILITY:
            zf = max(la[1], ra[1])
        self._last_s = t_s
        base = self._hip_base
        if base is None or last is None:
            self._hip_base, self._foot_base = z, zf
            return []
        rise = (base - z) / scale
        min_rise = cfg.min_rise
        if self._state == GROUND:
            if rise < min_rise:
                a = min(1.0, (t_s - last) / BASELINE_S)
                self._hip_base = base + (z - base) * a
                fb = self._foot_base
                self._foot_base = zf if fb is None or zf is None else fb + (zf - fb) * a
                return []
            self._state, self._up_s, self._peak = UP, t_s, rise
            self._feet_needed = zf is not None and self._foot_base is not None
            self._feet_peak = 0.0
        if t_s - self._up_s > cfg.max_duration_s:
            # Up (or not yet down) for too long: not a jump. Start again from here.
            self._state, self._hip_base, self._foot_base = GROUND, z, zf
            return []
        if self._state == DOWN:
            if rise < 0.5 * min_rise:
                self._state = GROUND
            return []
        if rise > self._peak:
            self._peak = rise
        fb = self._foot_base
        if zf is not None and fb is not None and (fb - zf) / scale > self._feet_peak:
            self._feet_peak = (fb - zf) / scale
        if self._peak - rise < min_rise:
            return []
        if self._feet_needed and self._feet_peak < 0.5 * min_rise:
            # Up and down, but the feet stayed on the floor (standing up from a crouch and
            # dipping again, rising on tiptoe): not a jump; start again from here.
            self._state, self._hip_base, self._foot_base = GROUND, z, zf
            return []
        self._state = DOWN if rise >= 0.5 * min_rise else GROUND
        if self._last_hit_s is not None and t_s - self._last_hit_s < cfg.refractory_s:
            return []
        self._last_hit_s = t_s
        return [GestureHit(self.name, t_s, clamp01(0.5 * self._peak / max(min_rise, 1e-6)))]
