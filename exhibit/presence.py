"""Who is in the interaction area: visitor enter/leave with hysteresis, on frame time.

A body *counts* when its anchor lies inside ``PresenceConfig.area`` (normalized image rectangle,
edges included) and its torso is seen well enough:

- the anchor is the hip centre (mean of the left/right hip image x, y) when the hips are usable:
  their mean visibility is at least ``min_visibility`` and their centre is inside the image;
  the torso visibility is then the mean over both shoulders and both hips;
- otherwise (hips off-frame or hidden, e.g. a visitor close to the camera) the anchor is the
  shoulder centre and the torso visibility is the mean over the two shoulders;
- the body counts when that torso visibility is at least ``min_visibility``.

Among several counting bodies the *primary* is the one with the widest shoulders (the closest).

Hysteresis: ``enter`` fires at the frame where counting bodies have been seen in every frame
for ``enter_after_s``; ``leave`` fires at the frame where none has been seen for
``leave_after_s``. A shorter appearance starts nothing; a shorter dropout ends nothing (during it
``visitor`` stays set and ``primary`` is None). Visitor ids count 1, 2, 3... per tracker.

If the clock goes backwards (a looping recording, a restarted source) the running timers start
again from the new time; a visit in progress is kept.

Example:
    >>> import numpy as np
    >>> from exhibit.config.schema import PresenceConfig
    >>> from exhibit.skeleton import Skeleton
    >>> body = Skeleton(np.full((33, 4), 0.9))  # everything at (0.9, 0.9), visibility 0.9
    >>> p = PresenceTracker(PresenceConfig(enter_after_s=0.5, leave_after_s=2.0))
    >>> p.update(0.0, [body]).changes
    ()
    >>> p.update(0.5, [body]).changes
    (PresenceChange(kind='enter', visitor=1, t_s=0.5),)
    >>> p.update(1.0, []).visitor  # a short dropout keeps the visit
    1
    >>> p.update(2.5, []).changes
    (PresenceChange(kind='leave', visitor=1, t_s=2.5),)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from exhibit.config.schema import PresenceConfig
from exhibit.skeleton import LANDMARK_INDEX, VIS, Skeleton, X, Y

_TORSO = [
    LANDMARK_INDEX["left_shoulder"],
    LANDMARK_INDEX["right_shoulder"],
    LANDMARK_INDEX["left_hip"],
    LANDMARK_INDEX["right_hip"],
]


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A visit starting (``enter``) or ending (``leave``) at frame time ``t_s``.

    Why: the show reacts to these two edges, not to the per-frame body count, so they carry the
    visitor's id to tie a leave to its enter.

    Example:
        >>> PresenceChange("enter", 1, 0.5).kind
        'enter'
    """

    kind: Literal["enter", "leave"]
    visitor: int
    t_s: float


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """What one frame did to presence: the edges it caused and who is present now.

    Why: the pipeline needs both the edges (for the show) and the current visitor and body (for
    gestures and the joint stream) from one call. ``primary`` is the chosen body while a visitor
    is present and seen in this frame, else None.

    Example:
        >>> PresenceUpdate((), None, None).visitor is None
        True
    """

    changes: tuple[PresenceChange, ...]
    visitor: int | None
    primary: Skeleton | None


class PresenceTracker:
    """Turns per-frame bodies into visitor enter/leave events, with hysteresis on frame time.

    Why: pose detection flickers (a body lost for a frame, a passer-by at the edge); the show
    must see one clean visit per visitor, not a storm of enters and leaves. Pure: only ``t_s``
    and the skeletons decide, so replays give identical events.

    Example:
        >>> import numpy as np
        >>> from exhibit.config.schema import PresenceConfig
        >>> from exhibit.skeleton import Skeleton
        >>> p = PresenceTracker(PresenceConfig(enter_after_s=0.0))
        >>> u = p.update(0.0, [Skeleton(np.full((33, 4), 0.5))])
        >>> u.visitor, [c.kind for c in u.changes]
        (1, ['enter'])
    """

    def __init__(self, config: PresenceConfig) -> None:
        self.config = config
        self._next_id = 1
        self._visitor: int | None = None
        self._seen_since_s: float | None = None  # start of the current run (no visit yet)
        self._last_seen_s = 0.0  # last frame with a counting body (during a visit)
        self._last_t_s: float | None = None

    @property
    def visitor(self) -> int | None:
        """Id of the visitor present now, or None."""
        return self._visitor

    def reset(self) -> None:
        """Forget any visit in progress (without a leave event); ids keep counting up."""
        self._visitor = None
        self._seen_since_s = None
        self._last_seen_s = 0.0
        self._last_t_s = None

    def counts(self, skeleton: Skeleton) -> bool:
        """True if this body is in the area with a well enough seen torso (module docstring)."""
        return self._anchor(skeleton) is not None

    def _anchor(self, skeleton: Skeleton) -> tuple[float, float] | None:
        (lsx, lsy, lsv), (rsx, rsy, rsv), (lhx, lhy, lhv), (rhx, rhy, rhv) = skeleton.landmarks[
            _TORSO
        ][:, [X, Y, VIS]].tolist()
        min_vis = self.config.min_visibility
        hx, hy = (lhx + rhx) / 2.0, (lhy + rhy) / 2.0
        if (lhv + rhv) / 2.0 >= min_vis and 0.0 <= hx <= 1.0 and 0.0 <= hy <= 1.0:
            x, y, vis = hx, hy, (lsv + rsv + lhv + rhv) / 4.0
        else:
            x, y, vis = (lsx + rsx) / 2.0, (lsy + rsy) / 2.0, (lsv + rsv) / 2.0
        x_min, y_min, x_max, y_max = self.config.area
        if vis >= min_vis and x_min <= x <= x_max and y_min <= y <= y_max:
            return x, y
        return None

    def _choose(self, skeletons: Sequence[Skeleton]) -> Skeleton | None:
        best: Skeleton | None = None
        best_width = -math.inf
        for s in skeletons:
            if self.counts(s):
                width = s.shoulder_width()
                if width > best_width:
                    best, best_width = s, width
        return best

    def update(self, t_s: float, skeletons: Sequence[Skeleton]) -> PresenceUpdate:
        """Feed one frame's bodies seen at frame time ``t_s``; returns the edges and who is here."""
        if self._last_t_s is not None and t_s < self._last_t_s:
            # The clock went backwards: restart the timers on the new clock.
            if self._seen_since_s is not None:
                self._seen_since_s = t_s
            self._last_seen_s = t_s
        self._last_t_s = t_s

        body = self._choose(skeletons)
        cfg = self.config
        if self._visitor is None:
            if body is None:
                self._seen_since_s = None
                return PresenceUpdate((), None, None)
            if self._seen_since_s is None:
                self._seen_since_s = t_s
            if t_s - self._seen_since_s < cfg.enter_after_s:
                return PresenceUpdate((), None, None)
            visitor = self._visitor = self._next_id
            self._next_id += 1
            self._seen_since_s = None
            self._last_seen_s = t_s
            return PresenceUpdate((PresenceChange("enter", visitor, t_s),), visitor, body)

        visitor = self._visitor
        if body is not None:
            self._last_seen_s = t_s
            return PresenceUpdate((), visitor, body)
        if t_s - self._last_seen_s < cfg.leave_after_s:
            return PresenceUpdate((), visitor, None)
        self._visitor = None
        return PresenceUpdate((PresenceChange("leave", visitor, t_s),), None, None)
