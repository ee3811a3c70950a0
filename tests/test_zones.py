"""Zones on the floor: geometry, config, presence with hold, dwell, and deterministic events."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.checker import Checker
from exhibit.config.load import loads
from exhibit.errors import ConfigError
from exhibit.zones import (
    Zone,
    ZonesConfig,
    ZoneTracker,
    parse_zones,
    point_in_polygon,
    self_intersection,
    signed_area_m2,
)

SQUARE = ((0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0))
L_SHAPE = ((0.0, 0.0), (3.0, 0.0), (3.0, 1.0), (1.0, 1.0), (1.0, 3.0), (0.0, 3.0))


def test_point_in_polygon_concave_edges_and_corners() -> None:
    assert point_in_polygon((0.5, 2.5), L_SHAPE)
    assert not point_in_polygon((2.0, 2.0), L_SHAPE)  # in the notch
    assert point_in_polygon((3.0, 0.5), L_SHAPE)  # on an edge
    assert point_in_polygon((1.0, 1.0), L_SHAPE)  # the inner corner
    assert not point_in_polygon((-0.01, 0.5), L_SHAPE)
    assert signed_area_m2(L_SHAPE) == pytest.approx(5.0)
    assert signed_area_m2(tuple(reversed(L_SHAPE))) == pytest.approx(-5.0)


@settings(max_examples=200, deadline=None)
@given(
    cx=st.floats(-5, 5),
    cy=st.floats(-5, 5),
    r=st.floats(0.2, 3.0),
    sides=st.integers(3, 12),
    px=st.floats(-10, 10),
    py=st.floats(-10, 10),
)
def test_regular_polygon_matches_its_circle_away_from_the_rim(
    cx: float, cy: float, r: float, sides: int, px: float, py: float
) -> None:
    poly = [
        (cx + r * math.cos(2 * math.pi * i / sides), cy + r * math.sin(2 * math.pi * i / sides))
        for i in range(sides)
    ]
    dist = math.hypot(px - cx, py - cy)
    inner = r * math.cos(math.pi / sides)  # the inscribed circle
    if dist < inner - 1e-6:
        assert point_in_polygon((px, py), poly)
    elif dist > r + 1e-6:
        assert not point_in_polygon((px, py), poly)


def test_self_crossing_polygon_is_found() -> None:
    bow_tie = ((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0))
    assert self_intersection(bow_tie) == (0, 2)
    assert self_intersection(L_SHAPE) is None


def parse(table: dict[str, object]) -> tuple[ZonesConfig, list[str]]:
    c = Checker()
    return parse_zones(table, "zones", c), c.problems


def test_zone_config_by_numbers() -> None:
    zones, problems = parse({"spot": {"polygon_m": [[-0.4, 1.6], [0.4, 1.6], [0, 2.4]]}})
    assert problems == []
    assert zones.zones["spot"].polygon_m == ((-0.4, 1.6), (0.4, 1.6), (0.0, 2.4))
    assert zones.zones["spot"].hold_s == 0.3


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"a": 3}, "zones.a: not a table (got 3)"),
        ({"a": {}}, "zones.a.polygon_m: missing; expected at least 3 [x, y] corners"),
        ({"a": {"polygon_m": [[0, 0], [1, 1]]}}, "zones.a.polygon_m: not a polygon"),
        ({"a": {"polygon_m": [[0, 0], [1, "x"], [1, 1]]}}, "zones.a.polygon_m[1]: not an [x, y]"),
        ({"a": {"polygon_m": [[0, 0], [1, 1], [2, 2]]}}, "has no area"),
        (
            {"a": {"polygon_m": [[0, 0], [1, 1], [1, 0], [0, 1]]}},
            "zones.a.polygon_m: edges 0-1 and 2-3 cross",
        ),
        (
            {"a": {"polygon_m": [[0, 0], [1, 0], [0, 1]], "hold": 1}},
            'zones.a.hold: unknown key; expected one of hold_s, polygon_m; did you mean "hold_s"?',
        ),
        ({"a": {"polygon_m": [[0, 0], [1, 0], [0, 1]], "hold_s": -1}}, "zones.a.hold_s: out of"),
    ],
)
def test_bad_zone_config_names_the_key(table: dict[str, object], problem: str) -> None:
    _, problems = parse(table)
    assert len(problems) == 1 and problem in problems[0], problems


def test_zones_and_calibration_sections_load_with_the_config() -> None:
    text = """
[show]
initial = "idle"
[show.states.idle]
[zones.step_here]
polygon_m = [[-0.4, 1.6], [0.4, 1.6], [0.4, 2.4], [-0.4, 2.4]]
[calibration]
file = "floor.json"
max_angle_change_deg = 2.0
"""
    config = loads(text)
    assert list(config.zones.zones) == ["step_here"]
    assert config.calibration.file == "floor.json"
    assert config.calibration.max_angle_change_deg == 2.0
    with pytest.raises(ConfigError, match=r"calibration\.max_height_change_m: out of range"):
        loads(text + "max_height_change_m = 0\n")


def test_enter_after_hold_leave_with_dwell() -> None:
    tracker = ZoneTracker(ZonesConfig({"spot": Zone("spot", SQUARE, hold_s=0.5)}))
    assert tracker.update(0.0, {7: (1.0, 1.0)}) == []
    assert tracker.update(0.3, {7: (1.0, 1.0)}) == []
    [enter] = tracker.update(0.6, {7: (1.0, 1.0)})
    assert (enter.kind, enter.name, enter.data) == ("zone", "enter", {"zone": "spot", "visitor": 7})
    assert tracker.occupants("spot") == [7]
    assert tracker.dwell_s("spot", 7, 10.0) == pytest.approx(10.0)
    # a foot over the line for less than hold_s changes nothing
    assert tracker.update(5.0, {7: (2.5, 1.0)}) == []
    assert tracker.update(5.2, {7: (1.5, 1.0)}) == []
    assert tracker.update(8.0, {}) == []  # gone from view ...
    [leave] = tracker.update(8.6, {})  # ... for hold_s
    assert leave.name == "leave" and leave.data["dwell_s"] == pytest.approx(8.0)
    assert tracker.occupants("spot") == []


def test_two_visitors_two_zones_give_ordered_identical_replays() -> None:
    zones = ZonesConfig({"a": Zone("a", SQUARE, hold_s=0.0), "b": Zone("b", L_SHAPE, hold_s=0.2)})
    track = [(i * 0.1, {1: (0.5 + 0.05 * i, 0.5), 2: (2.5 - 0.04 * i, 0.5)}) for i in range(60)]

    def run() -> list[str]:
        tracker = ZoneTracker(zones)
        return [e.to_json() for t, pos in track for e in tracker.update(t, pos)]

    first = run()
    assert first == run()
    assert any('"zone":"b"' in line and '"visitor":2' in line for line in first)
    assert any('"name":"leave"' in line and '"visitor":1' in line for line in first)
