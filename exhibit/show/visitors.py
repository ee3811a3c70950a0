"""One visitor at a time or several: what ``[show] visitors`` means for the show.

The presence tracker (:mod:`exhibit.presence`) follows every body in the interaction area with
a stable id; the *primary* visitor is the one who arrived first. The show then runs in one of
two modes:

``"one"`` (the default): the show follows the primary visitor only. Gestures, engagement and
dwell are the primary's; other people standing by are ignored (they still count in the
``visitors`` guard, and their ``presence.arrive``/``presence.depart`` are logged and can be
used as events). When the primary leaves while someone else is there, the one who arrived next
becomes primary: the show gets ``presence.primary`` (with ``visitor`` and ``from``), their
gestures and engagement start from scratch, and dwell counts from *their* arrival. There is no
``presence.leave``, so the show does not fall back to its attract loop.

``"several"``: everybody present takes part. Gestures from any visitor count (the gesture
event's ``visitor`` says whose); each visitor has their own gesture detectors, filter and
engagement score. The show's engagement is the highest score of those present; it gets
``engagement.high`` when the first visitor becomes engaged and ``engagement.low`` when the last
engaged one drops (the per-visitor events are all logged). ``presence.enter`` comes with the
first visitor and ``presence.leave`` only when the last one leaves. Guards see the dwell of the
visitor whose event it is (a gesture, their engagement, their arrival or departure), and for
timers and the visit's own events the time since the visit began.

Example:
    >>> aggregate_engagement({1: 0.2, 2: 0.7})
    0.7
    >>> aggregate_engagement({})
    0.0
"""

from __future__ import annotations

from collections.abc import Mapping

VISITOR_MODES = ("one", "several")
"""``[show] visitors``: the first is the default."""


def aggregate_engagement(scores: Mapping[int, float]) -> float:
    """The show's engagement in ``"several"`` mode: the highest visitor's score (0 if none).

    Why the maximum: one visitor listening closely is reason enough to go deeper; an average
    would let a passer-by cut the explanation short for the one who stays.
    """
    return max(scores.values(), default=0.0)
