"""Who is in the interaction area: each visitor tracked across frames, with enter/leave
hysteresis on frame time.

A body *counts* when its anchor lies inside ``PresenceConfig.area`` (normalized image rectangle,
edges included) and its torso is seen well enough:

- the anchor is the hip centre (mean of the left/right hip image x, y) when the hips are usable:
  their mean visibility is at least ``min_visibility`` and their centre is inside the image;
  the torso visibility is then the mean over both shoulders and both hips;
- otherwise (hips off-frame or hidden, e.g. a visitor close to the camera) the anchor is the
  shoulder centre and the torso visibility is the mean over the two shoulders;
- the body counts when that torso visibility is at least ``min_visibility``;
- with ``[presence] zone = "NAME"``, it must also stand inside that floor zone: the sources
  placed it on the floor (its floor spot, from depth or the calibrated floor:
  exhibit/depth/spot.py) and the spot lies in the ``[zones.NAME]`` polygon. A body without a
  spot (feet hidden, no depth on it) does not count on that frame; ``leave_after_s`` bridges
  such a dropout. So people walking past behind the "stand here" spot are not visitors,
  however large the image area.

Tracking (stable ids across frames): each frame, the counting bodies are paired with the tracks
of the previous frames nearest anchor first (greedy over all pairs, in normalized image units);
a body left over starts a new *candidate* track. There is no distance limit: a single body
always continues the single track, so a pose estimator that jumps (or MediaPipe's one-pose
solution passing from one person to another) never splits a visit.

Hysteresis, per track: a candidate becomes a *visitor* (a new id: 1, 2, 3... per tracker) at
the frame where it has been seen in every frame for ``enter_after_s`` (a candidate missing
from one frame is dropped); a visitor *departs* at the frame where it has not been seen for
``leave_after_s`` (a shorter dropout ends nothing). Candidates that qualify on the same frame
get their ids nearest first (widest shoulders).

The *primary* visitor is the one who arrived first (the lowest id present). It is who the show
follows in ``[show] visitors = "one"``, and whose joints are streamed.

Changes, in this order within a frame: departures (by id), then arrivals (by id), then a new
primary:

- ``enter``: the first visitor arrives (nobody was present): a visit starts;
- ``arrive``: another visitor joins a visit in progress;
- ``depart``: a visitor leaves while someone else stays;
- ``leave``: the last visitor leaves: the visit ends;
- ``primary``: the primary departed and ``visitor`` (who arrived next) takes over; ``previous``
  names who left. Not sent when the visit ended.

With one body at a time this is exactly ``enter`` ... ``leave``, as it always was.

If the clock goes backwards (a looping recording, a restarted source) the running timers start
again from the new time; visits in progress are kept.

Example:
    >>> import numpy as np
    >>> from exhibit.config.schema import PresenceConfig
    >>> from exhibit.skeleton import Skeleton
    >>> body = Skeleton(np.full((33, 4), 0.9))  # everything at (0.9, 0.9), visibility 0.9
    >>> p = PresenceTracker(PresenceConfig(enter_after_s=0.5, leave_after_s=2.0))
    >>> p.update(0.0, [body]).changes
    ()
    >>> p.update(0.5, [body]).changes
    (PresenceChange(kind='enter', visitor=1, t_s=0.5, previous=None),)
    >>> p.update(1.0, []).visitor  # a short dropout keeps the visit
    1
    >>> p.update(2.5, []).changes
    (PresenceChange(kind='leave', visitor=1, t_s=2.5, previous=None),)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from exhibit.config.checker import Checker, suggest
from exhibit.config.schema import PresenceConfig
from exhibit.depth.spot import spot_of
from exhibit.skeleton import LANDMARK_INDEX, VIS, Skeleton, X, Y
from exhibit.zones import ZonesConfig, point_in_polygon

if TYPE_CHECKING:
    from exhibit.depth.config import CalibrationConfig

_TORSO = [
    LANDMARK_INDEX["left_shoulder"],
    LANDMARK_INDEX["right_shoulder"],
    LANDMARK_INDEX["left_hip"],
    LANDMARK_INDEX["right_hip"],
]

ChangeKind = Literal["enter", "arrive", "depart", "leave", "primary"]


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A visit starting (``enter``) or ending (``leave``), a visitor joining (``arrive``) or
    leaving (``depart``) while others stay, or a new primary visitor (``primary``, with the
    ``previous`` one), at frame time ``t_s``.

    Why: the show reacts to these edges, not to the per-frame body count, so they carry the
    visitor's id to tie a leave to its enter.

    Example:
        >>> PresenceChange("enter", 1, 0.5).kind
        'enter'
    """

    kind: ChangeKind
    visitor: int
    t_s: float
    previous: int | None = None


@dataclass(frozen=True, slots=True)
class VisitorView:
    """One present visitor in this frame: its id, when it arrived (frame time) and its body,
    or None when not seen in this frame (a dropout shorter than ``leave_after_s``).

    Example:
        >>> VisitorView(1, 0.5, None).body is None
        True
    """

    visitor: int
    arrived_s: float
    body: Skeleton | None


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """What one frame did to presence: the edges it caused and who is present now.

    Why: the pipeline needs both the edges (for the show) and the current visitors and bodies
    (for gestures and the joint stream) from one call. ``visitor`` is the primary visitor's id;
    ``primary`` its body while it is seen in this frame, else None; ``visitors`` every present
    visitor, by id.

    Example:
        >>> PresenceUpdate((), None, None).visitors
        ()
    """

    changes: tuple[PresenceChange, ...]
    visitor: int | None
    primary: Skeleton | None
    visitors: tuple[VisitorView, ...] = ()


@dataclass
class _Track:
    """A body followed across frames: a candidate (``visitor`` None) or a visitor."""

    anchor: tuple[float, float]
    since_s: float  # candidate: first seen; visitor: arrival
    last_seen_s: float
    body: Skeleton | None
    visitor: int | None = None


class PresenceTracker:
    """Turns per-frame bodies into tracked visitors with arrive/leave events, with hysteresis
    on frame time.

    Why: pose detection flickers (a body lost for a frame, a passer-by at the edge); the show
    must see one clean visit per visitor, not a storm of enters and leaves, and must know who is
    who when several people stand there. Pure: only ``t_s`` and the skeletons decide, so replays
    give identical events.

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
        self._tracks: list[_Track] = []  # visitors by id, then candidates by first sight
        self._primary: int | None = None
        self._last_t_s: float | None = None

    @property
    def visitor(self) -> int | None:
        """Id of the primary visitor present now, or None."""
        return self._primary

    @property
    def present(self) -> tuple[int, ...]:
        """Ids of every visitor present now, lowest (the primary) first."""
        return tuple(tr.visitor for tr in self._tracks if tr.visitor is not None)

    def unseen(self) -> PresenceUpdate:
        """This frame's update when the camera did not look (pose inference gated off): who is
        present stays present, nobody is seen, nothing changes."""
        views = tuple(
            VisitorView(tr.visitor, tr.since_s, None)
            for tr in self._tracks
            if tr.visitor is not None
        )
        return PresenceUpdate((), self._primary, None, views)

    def reset(self) -> None:
        """Forget every visit in progress (without leave events); ids keep counting up."""
        self._tracks = []
        self._primary = None
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
        if not (vis >= min_vis and x_min <= x <= x_max and y_min <= y <= y_max):
            return None
        polygon = self.config.zone_polygon_m
        if polygon:  # [presence] zone: only a body placed inside it counts
            spot = spot_of(skeleton)
            if spot is None or not point_in_polygon(spot.floor_xy_m, polygon):
                return None
        return x, y

    def _match(self, t_s: float, skeletons: Sequence[Skeleton]) -> None:
        """Pair this frame's counting bodies with the tracks, nearest first; start candidates
        for the bodies left over and drop the candidates that were not seen."""
        bodies = [(s, a) for s in skeletons if (a := self._anchor(s)) is not None]
        pairs = sorted(
            (math.hypot(a[0] - tr.anchor[0], a[1] - tr.anchor[1]), ti, bi)
            for ti, tr in enumerate(self._tracks)
            for bi, (_, a) in enumerate(bodies)
        )
        taken_tracks: set[int] = set()
        taken_bodies: set[int] = set()
        for _, ti, bi in pairs:
            if ti in taken_tracks or bi in taken_bodies:
                continue
            taken_tracks.add(ti)
            taken_bodies.add(bi)
            track = self._tracks[ti]
            track.body, track.anchor = bodies[bi]
            track.last_seen_s = t_s
        kept: list[_Track] = []
        for ti, track in enumerate(self._tracks):
            if ti in taken_tracks:
                kept.append(track)
            elif track.visitor is not None:  # a dropout: the visitor stays for now
                track.body = None
                kept.append(track)
        # New candidates, nearest (widest shoulders) first, so they get their ids in that order.
        fresh = sorted(
            (bi for bi in range(len(bodies)) if bi not in taken_bodies),
            key=lambda bi: (-bodies[bi][0].shoulder_width(), bi),
        )
        for bi in fresh:
            skeleton, anchor = bodies[bi]
            kept.append(_Track(anchor, t_s, t_s, skeleton))
        self._tracks = kept

    def update(self, t_s: float, skeletons: Sequence[Skeleton]) -> PresenceUpdate:
        """Feed one frame's bodies seen at frame time ``t_s``; returns the edges and who is here."""
        if self._last_t_s is not None and t_s < self._last_t_s:
            # The clock went backwards: restart the timers on the new clock.
            for track in self._tracks:
                if track.visitor is None:
                    track.since_s = t_s
                track.last_seen_s = t_s
        self._last_t_s = t_s
        present_before = self.present
        self._match(t_s, skeletons)
        cfg = self.config

        departed = [
            tr.visitor
            for tr in self._tracks
            if tr.visitor is not None
            and tr.body is None
            and t_s - tr.last_seen_s >= cfg.leave_after_s
        ]
        self._tracks = [
            tr for tr in self._tracks if tr.visitor is None or tr.visitor not in departed
        ]
        arriving = [
            tr
            for tr in self._tracks
            if tr.visitor is None and t_s - tr.since_s >= cfg.enter_after_s
        ]
        for track in arriving:
            track.visitor, track.since_s = self._next_id, t_s
            self._next_id += 1
        # Visitors by id (arrival order), then the remaining candidates.
        self._tracks.sort(key=lambda tr: (tr.visitor is None, tr.visitor or 0))

        changes: list[PresenceChange] = []
        count = len(present_before)
        for visitor in departed:
            count -= 1
            changes.append(PresenceChange("depart" if count else "leave", visitor, t_s))
        for track in arriving:
            assert track.visitor is not None
            changes.append(PresenceChange("arrive" if count else "enter", track.visitor, t_s))
            count += 1
        present = self.present
        primary = present[0] if present else None
        if (
            self._primary is not None
            and primary is not None
            and primary != self._primary
            and not any(c.kind == "enter" for c in changes)
        ):
            changes.append(PresenceChange("primary", primary, t_s, previous=self._primary))
        self._primary = primary
        views = tuple(
            VisitorView(tr.visitor, tr.since_s, tr.body)
            for tr in self._tracks
            if tr.visitor is not None
        )
        body = views[0].body if views else None
        return PresenceUpdate(tuple(changes), primary, body, views)


def presence_zone(
    presence: PresenceConfig,
    zones: ZonesConfig,
    calibration: CalibrationConfig,
    base_dir: Path,
    c: Checker,
) -> PresenceConfig:
    """``[presence] zone`` checked against ``[zones]`` (an error with the known names), its
    polygon copied into the presence config; a warning when there is no calibration file, as
    then nobody is ever placed on the floor and so nobody would count."""
    if not presence.zone:
        return presence
    zone = zones.zones.get(presence.zone)
    if zone is None:
        known = sorted(zones.zones)
        hint = suggest(presence.zone, known)
        c.error(
            "presence.zone",
            "no such zone",
            presence.zone,
            "the name of a [zones.NAME] table" + (f" ({', '.join(known)})" if known else ""),
            f'"{hint}"' if hint else None,
        )
        return presence
    if not (base_dir / calibration.file).exists():
        c.warnings.append(
            f"presence.zone: no floor calibration ({base_dir / calibration.file}), so nobody "
            "is placed on the floor and nobody counts as present; make one with exhibit "
            "calibrate floor"
        )
    return replace(presence, zone_polygon_m=zone.polygon_m)
