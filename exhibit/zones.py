"""Zones on the floor, in metres: who stands where, for how long, and when they arrive or go.

A zone is a polygon on the floor frame of the calibration (``calibration/floor.py``: origin
under the camera or at the screen point, x right, y away from the camera, metres), e.g. the
"step here" circle drawn as an octagon, the area near the screen, the queue. Config::

    [zones.step_here]
    polygon_m = [[-0.4, 1.6], [0.4, 1.6], [0.4, 2.4], [-0.4, 2.4]]
    hold_s = 0.3

:class:`ZoneTracker` takes each frame's visitor floor positions and emits ``zone`` events
``enter``/``leave`` (data: ``zone``, ``visitor``; a leave also carries ``dwell_s``). A visitor
must be inside (or outside) for ``hold_s`` before it counts, so a foot on the line does not
flicker. Pure: time comes from the caller, no clock and no I/O, so a replay gives the same
events. In the pipeline the positions are the floor spots the sources measured
(exhibit/depth/pairing.py) and the show sees ``zone.enter.NAME`` / ``zone.leave.NAME``
(:func:`zone_events`), so a transition can be ``on = "zone.enter.step_here"``.

Example:
    >>> zones = ZonesConfig({"spot": Zone("spot", ((0, 0), (1, 0), (1, 1), (0, 1)), hold_s=0.0)})
    >>> tracker = ZoneTracker(zones)
    >>> [e.to_json() for e in tracker.update(0.0, {1: (0.5, 0.5)})]
    ['{"t":0.0,"kind":"zone","name":"enter","visitor":1,"zone":"spot"}']
    >>> [e.data["dwell_s"] for e in tracker.update(2.5, {})]
    [2.5]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exhibit.config.checker import Checker, join
from exhibit.events import Event

Point = tuple[float, float]
DEFAULT_HOLD_S = 0.3
ZONE_KEYS = ("polygon_m", "hold_s")


@dataclass(frozen=True)
class Zone:
    """A named floor polygon (x, y in metres, at least 3 corners, in order)."""

    name: str
    polygon_m: tuple[Point, ...]
    hold_s: float = DEFAULT_HOLD_S

    def contains(self, point: Point) -> bool:
        return point_in_polygon(point, self.polygon_m)

    def area_m2(self) -> float:
        return abs(signed_area_m2(self.polygon_m))


@dataclass(frozen=True)
class ZonesConfig:
    """``[zones.NAME]`` tables in the config, by name."""

    zones: dict[str, Zone] = field(default_factory=dict)


def signed_area_m2(polygon: Sequence[Point]) -> float:
    """Shoelace area; positive when the corners go anticlockwise (seen from above)."""
    n = len(polygon)
    return 0.5 * sum(
        polygon[i][0] * polygon[(i + 1) % n][1] - polygon[(i + 1) % n][0] * polygon[i][1]
        for i in range(n)
    )


def _on_segment(p: Point, a: Point, b: Point, eps: float = 1e-9) -> bool:
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    if abs(cross) > eps * max(1.0, math.hypot(b[0] - a[0], b[1] - a[1])):
        return False
    return (
        min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
    )


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule; a point on an edge or corner counts as inside.

    >>> square = ((0, 0), (2, 0), (2, 2), (0, 2))
    >>> point_in_polygon((1, 1), square), point_in_polygon((2, 1), square)
    (True, True)
    >>> point_in_polygon((3, 1), square)
    False
    """
    x, y = point
    inside = False
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _on_segment(point, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            x_cross = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < x_cross:
                inside = not inside
    return inside


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    return o1 * o2 < 0 and o3 * o4 < 0


def self_intersection(polygon: Sequence[Point]) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges (by start-corner index) that cross, if any."""
    n = len(polygon)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _segments_cross(polygon[i], polygon[(i + 1) % n], polygon[j], polygon[(j + 1) % n]):
                return i, j
    return None


def parse_zones(table: Mapping[str, Any], path: str, c: Checker) -> ZonesConfig:
    """``[zones]`` -> :class:`ZonesConfig`, every problem reported through ``c``."""
    zones: dict[str, Zone] = {}
    for name, raw in table.items():
        where = join(path, name)
        if not isinstance(raw, dict):
            c.error(where, "not a table", raw, f"a [{where}] table with polygon_m")
            continue
        c.unknown_keys(raw, where, ZONE_KEYS)
        hold_s = c.number(raw, where, "hold_s", DEFAULT_HOLD_S, minimum=0.0, unit="seconds")
        polygon = _polygon(raw, where, c)
        if polygon is not None:
            zones[name] = Zone(name, polygon, hold_s)
    return ZonesConfig(zones)


def _polygon(raw: Mapping[str, Any], where: str, c: Checker) -> tuple[Point, ...] | None:
    key = join(where, "polygon_m")
    example = "at least 3 [x, y] corners in metres, e.g. [[-0.5, 1.5], [0.5, 1.5], [0, 2.3]]"
    if "polygon_m" not in raw:
        c.error(key, "missing", show_got=False, expected=example)
        return None
    value = raw["polygon_m"]
    if not isinstance(value, list) or len(value) < 3:
        c.error(key, "not a polygon", value, example)
        return None
    points: list[Point] = []
    for i, corner in enumerate(value):
        ok = (
            isinstance(corner, list)
            and len(corner) == 2
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in corner
            )
        )
        if not ok:
            c.error(join(key, i), "not an [x, y] pair of numbers", corner, "e.g. [0.5, 2.0]")
            return None
        points.append((float(corner[0]), float(corner[1])))
    crossing = self_intersection(points)
    if crossing is not None:
        i, j = crossing
        c.error(
            key,
            f"edges {i}-{i + 1} and {j}-{(j + 1) % len(points)} cross",
            show_got=False,
            expected="corners in order around the zone (clockwise or anticlockwise)",
        )
        return None
    if abs(signed_area_m2(points)) < 1e-6:
        c.error(key, "has no area (corners on one line or repeated)", value, example)
        return None
    return tuple(points)


def zone_events(config: ZonesConfig) -> list[str]:
    """The show events the zones of ``config`` can cause.

    >>> zone_events(ZonesConfig({"spot": Zone("spot", ((0, 0), (1, 0), (1, 1)))}))
    ['zone.enter.spot', 'zone.leave.spot']
    """
    return [f"zone.{edge}.{name}" for name in config.zones for edge in ("enter", "leave")]


@dataclass
class _Presence:
    inside: bool = False
    since_s: float = 0.0
    entered_s: float = 0.0
    pending_since_s: float | None = None


class ZoneTracker:
    """Per-zone, per-visitor presence with ``hold_s`` hysteresis, and dwell times.

    ``update(t_s, positions)`` with ``positions`` = {visitor id: (x_m, y_m)} for the visitors
    seen on this frame; a visitor missing from it is outside every zone.
    """

    def __init__(self, config: ZonesConfig) -> None:
        self.config = config
        self._state: dict[tuple[str, int], _Presence] = {}

    def update(self, t_s: float, positions: Mapping[int, Point]) -> list[Event]:
        events: list[Event] = []
        for zone in self.config.zones.values():
            visitors = set(positions) | {v for (z, v) in self._state if z == zone.name}
            for visitor in sorted(visitors):
                pos = positions.get(visitor)
                now_in = pos is not None and zone.contains(pos)
                state = self._state.setdefault((zone.name, visitor), _Presence())
                event = self._step(zone, visitor, state, now_in, t_s)
                if event is not None:
                    events.append(event)
                if not state.inside and state.pending_since_s is None:
                    del self._state[(zone.name, visitor)]
        return events

    def _step(
        self, zone: Zone, visitor: int, state: _Presence, now_in: bool, t_s: float
    ) -> Event | None:
        if now_in == state.inside:
            state.pending_since_s = None
            return None
        if state.pending_since_s is None:
            state.pending_since_s = t_s
        if t_s - state.pending_since_s < zone.hold_s:
            return None
        changed_s = state.pending_since_s
        state.pending_since_s = None
        state.inside = now_in
        if now_in:
            state.entered_s = changed_s
            return Event(t_s, "zone", "enter", {"zone": zone.name, "visitor": visitor})
        dwell = round(changed_s - state.entered_s, 6)
        data = {"zone": zone.name, "visitor": visitor, "dwell_s": dwell}
        return Event(t_s, "zone", "leave", data)

    def occupants(self, zone: str) -> list[int]:
        """The visitors counted inside ``zone`` now."""
        return sorted(v for (z, v), s in self._state.items() if z == zone and s.inside)

    def dwell_s(self, zone: str, visitor: int, t_s: float) -> float:
        """How long ``visitor`` has been in ``zone`` at ``t_s`` (0 when outside)."""
        state = self._state.get((zone, visitor))
        return t_s - state.entered_s if state is not None and state.inside else 0.0

    def reset(self) -> None:
        self._state.clear()
