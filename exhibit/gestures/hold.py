"""Timing shared by the held gestures: a condition held for a while, with gaps and re-arming.

A *held* gesture (``hand_up``, ``t_pose``, ``lean_*``, ``crouch``, ``still``) fires once its
condition has been true continuously for ``hold_s``. The rules, the same as ``hands_up``'s:

- **Gaps.** A frame with no measurement (no skeleton, a joint below visibility) neither breaks
  nor extends a hold; a hold survives gaps up to ``MAX_GAP_S`` (0.4 s) without a true frame.
- **Re-arming.** After a hit the condition must be *released* before the gesture can fire again,
  so a visitor holding a pose gets one hit. Detectors with hysteresis release at a lower level
  than the one that starts a hold (a lean back under 60 % of its angle, say), so a value hovering
  at the threshold cannot fire twice.
- **Refractory.** Never two hits of one gesture less than ``refractory_s`` apart; a hold that
  completes inside that time fires when it ends, if the condition still holds.
- **Time going backwards** (a new recording fed to the same detector) forgets everything.

Example:
    >>> h = Hold(hold_s=0.5, refractory_s=2.0)
    >>> [h.hold(t) for t in (0.0, 0.25, 0.5, 0.75)]
    [False, False, True, False]
"""

from __future__ import annotations

MAX_GAP_S = 0.4


class Hold:
    """One held condition: call :meth:`hold` on frames where it is true, :meth:`release` where
    it is clearly false, :meth:`skip` where it cannot be measured. :meth:`hold` returns True on
    the frame that completes the hold (and marks the hit: it will not return True again until
    released and held anew, and ``refractory_s`` has passed).

    Example:
        >>> h = Hold(hold_s=0.2, refractory_s=0.0)
        >>> h.hold(0.0), h.hold(0.3), h.hold(0.6)
        (False, True, False)
        >>> h.release(); h.hold(0.7), h.hold(0.9)
        (False, True)
    """

    __slots__ = (
        "_armed",
        "_last_hit_s",
        "_last_s",
        "_since_s",
        "hold_s",
        "max_gap_s",
        "refractory_s",
    )

    def __init__(self, hold_s: float, refractory_s: float, max_gap_s: float = MAX_GAP_S) -> None:
        self.hold_s = hold_s
        self.refractory_s = refractory_s
        self.max_gap_s = max_gap_s
        self._since_s: float | None = None
        self._last_s: float | None = None
        self._armed = True
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget the hold, the re-arm state and the refractory period."""
        self._since_s = None
        self._last_s = None
        self._armed = True
        self._last_hit_s = None

    @property
    def since_s(self) -> float | None:
        """When the current hold began (None: not holding)."""
        return self._since_s

    def skip(self, t_s: float) -> None:
        """A frame at ``t_s`` without a measurement: ends the hold after a long gap."""
        last = self._last_s
        if last is not None and (t_s - last > self.max_gap_s or t_s < last):
            self._since_s = None
            self._last_s = None
        if self._last_hit_s is not None and t_s < self._last_hit_s:
            self.reset()

    def release(self, rearm: bool = True) -> None:
        """The condition is false: the hold ends; with ``rearm`` the gesture may fire again."""
        self._since_s = None
        self._last_s = None
        if rearm:
            self._armed = True

    def disarm(self) -> None:
        """End the hold and wait for a release before the next one can fire."""
        self._since_s = None
        self._last_s = None
        self._armed = False

    def hold(self, t_s: float, allowed: bool = True) -> bool:
        """The condition is true at ``t_s``; True when this frame completes the hold.
        ``allowed = False`` keeps the hold going without firing (a refractory period shared
        with another hold)."""
        self.skip(t_s)
        if self._since_s is None:
            self._since_s = t_s
        self._last_s = t_s
        if not allowed or not self._armed or t_s - self._since_s < self.hold_s:
            return False
        if self._last_hit_s is not None and t_s - self._last_hit_s < self.refractory_s:
            return False
        self._armed = False
        self._last_hit_s = t_s
        return True


def clamp01(x: float) -> float:
    """``x`` limited to 0..1 (scores)."""
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
