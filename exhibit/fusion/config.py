"""The ``[fusion]`` section: how camera and sensors combine, sensor health, and gating.

::

    [fusion]
    enter_after_s = 0.5        # support needed this long before a visit starts (not for a
                               # button or a mat: those start one at once)
    leave_after_s = 3.0        # no support this long ends the visit
    enter_confidence = 0.5     # camera down: combined confidence that starts a visit
    near_m = 1.5               # a distance below this: someone is near
    far_m = 2.0                # above this: nobody near (in between: unchanged)
    press_hold_s = 10.0        # a button press or a broken beam counts as presence this long
    camera_down = "sensors"    # camera down: "sensors" start visits, or "wait" for the camera
    ignore = ["gate"]          # sensors left out of presence (still health-checked)

    [fusion.confidence]        # by source type, or by sensor name (a name wins)
    camera = 0.9
    motion = 0.4
    range = 0.8

    [fusion.health]
    silent_after_s = 5.0
    stuck_after_s = 600.0
    stuck_min_visits = 3
    flapping_per_min = 20

    [fusion.gating]
    enabled = true
    idle_after_s = 20.0        # no activity this long: the camera idles
    idle = "low"               # "low": pose at low_rate_hz; "pause": none, but a probe
    low_rate_hz = 2.0
    probe_every_s = 10.0       # while paused, one pose frame this often (0: never)

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> cfg = parse_fusion({"ignore": ["gaet"]}, "fusion", c, ["gate", "pir"])
    >>> c.problems[0]
    'fusion.ignore[0]: unknown sensor (got "gaet"); expected one of "gate", "pir"; did you mean "gate"?'
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from exhibit.config.checker import Checker, join, suggest
from exhibit.sensors.config import SENSOR_TYPES
from exhibit.sensors.health import HealthConfig

CAMERA = "camera"
"""The camera's name as a fusion source (no sensor may be called this)."""
SOURCE_TYPES = (CAMERA, *SENSOR_TYPES)
DEFAULT_CONFIDENCE: dict[str, float] = {
    CAMERA: 0.9,
    "mat": 0.95,
    "button": 0.9,
    "distance": 0.7,
    "light_barrier": 0.6,
    "motion": 0.4,
}
"""How sure one source alone makes us that someone is there, by type."""

IdleMode = Literal["low", "pause"]
CameraDownMode = Literal["sensors", "wait"]
FUSION_KEYS = (
    "enter_after_s",
    "leave_after_s",
    "enter_confidence",
    "near_m",
    "far_m",
    "press_hold_s",
    "camera_down",
    "ignore",
    "confidence",
    "health",
    "gating",
)
HEALTH_KEYS = ("silent_after_s", "stuck_after_s", "stuck_min_visits", "flapping_per_min")
GATING_KEYS = ("enabled", "idle_after_s", "idle", "low_rate_hz", "probe_every_s")


@dataclass(frozen=True)
class GatingConfig:
    """When pose inference idles (docs/sensors-and-fusion.md, "Gating").

    Example:
        >>> GatingConfig().idle
        'low'
    """

    enabled: bool = True
    idle_after_s: float = 20.0
    idle: IdleMode = "low"
    low_rate_hz: float = 2.0
    probe_every_s: float = 10.0


@dataclass(frozen=True)
class FusionConfig:
    """The whole ``[fusion]`` section (module docstring). ``confidence`` holds the weight of
    every source type and of each sensor that has its own.

    Example:
        >>> FusionConfig().weight("pir", "motion")
        0.4
    """

    enter_after_s: float = 0.5
    leave_after_s: float = 3.0
    enter_confidence: float = 0.5
    near_m: float = 1.5
    far_m: float = 2.0
    press_hold_s: float = 10.0
    camera_down: CameraDownMode = "sensors"
    ignore: tuple[str, ...] = ()
    confidence: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CONFIDENCE))
    health: HealthConfig = field(default_factory=HealthConfig)
    gating: GatingConfig = field(default_factory=GatingConfig)

    def weight(self, name: str, kind: str) -> float:
        """The confidence one source gives: by its name if set, else by its type."""
        if name in self.confidence:
            return self.confidence[name]
        return self.confidence.get(kind, 0.5)


def parse_fusion(
    table: Mapping[str, Any], path: str, checker: Checker, sensor_names: Collection[str]
) -> FusionConfig:
    """The ``[fusion]`` table at ``path`` (usually ``"fusion"``); problems go to ``checker``.
    ``sensor_names`` are the names in ``[sensors]`` (and any other sensor source), which
    ``ignore`` and ``[fusion.confidence]`` may name. Invalid values fall back to defaults.

    Example:
        >>> c = Checker()
        >>> parse_fusion({"near_m": 1.0, "far_m": 1.4}, "fusion", c, []).far_m
        1.4
    """
    c = checker
    names = sorted(sensor_names)
    c.unknown_keys(table, path, FUSION_KEYS)

    def seconds(key: str, default: float) -> float:
        return c.number(table, path, key, default, minimum=0, maximum=86400, unit="seconds")

    enter_after_s = seconds("enter_after_s", 0.5)
    leave_after_s = seconds("leave_after_s", 3.0)
    press_hold_s = seconds("press_hold_s", 10.0)
    enter_confidence = c.number(
        table, path, "enter_confidence", 0.5, minimum=0, maximum=1, exclusive_minimum=True
    )
    near_m = c.number(
        table, path, "near_m", 1.5, minimum=0, maximum=20, exclusive_minimum=True, unit="metres"
    )
    far_m = c.number(table, path, "far_m", max(2.0, near_m), minimum=0, maximum=20, unit="metres")
    if far_m < near_m:
        c.error(
            join(path, "far_m"),
            f"closer than near_m ({near_m:g})",
            table.get("far_m"),
            f"a distance >= {near_m:g} (the band in between keeps the last zone)",
        )
        far_m = near_m
    camera_down = cast(
        CameraDownMode, c.choice(table, path, "camera_down", "sensors", ("sensors", "wait"))
    )
    ignore = _ignore(c, table, path, names)
    confidence = _confidence(c, c.table(table, path, "confidence"), join(path, "confidence"), names)
    health = _health(c, c.table(table, path, "health"), join(path, "health"))
    gating = _gating(c, c.table(table, path, "gating"), join(path, "gating"))
    return FusionConfig(
        enter_after_s=enter_after_s,
        leave_after_s=leave_after_s,
        enter_confidence=enter_confidence,
        near_m=near_m,
        far_m=far_m,
        press_hold_s=press_hold_s,
        camera_down=camera_down,
        ignore=ignore,
        confidence=confidence,
        health=health,
        gating=gating,
    )


def _sensor_list(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) or "none: no sensors are configured"


def _ignore(c: Checker, table: Mapping[str, Any], path: str, names: list[str]) -> tuple[str, ...]:
    if "ignore" not in table:
        return ()
    where = join(path, "ignore")
    value = table["ignore"]
    if not isinstance(value, list):
        c.error(where, "not a list of sensor names", value, 'a list such as ["gate"]')
        return ()
    result: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or item not in names:
            hint = suggest(item, names) if isinstance(item, str) else None
            c.error(
                join(where, i),
                "unknown sensor",
                item,
                f"one of {_sensor_list(names)}",
                f'"{hint}"' if hint else None,
            )
        elif item not in result:
            result.append(item)
    return tuple(result)


def _confidence(
    c: Checker, table: Mapping[str, Any], path: str, names: list[str]
) -> dict[str, float]:
    confidence = dict(DEFAULT_CONFIDENCE)
    known = [*SOURCE_TYPES, *names]
    for key in table:
        if key not in known:
            hint = suggest(key, known)
            c.error(
                join(path, key),
                "not a source type or sensor name",
                show_got=False,
                expected="one of " + ", ".join(known),
                did_you_mean=f'"{hint}"' if hint else None,
            )
            continue
        confidence[key] = c.number(table, path, key, confidence.get(key, 0.5), minimum=0, maximum=1)
    return confidence


def _health(c: Checker, table: Mapping[str, Any], path: str) -> HealthConfig:
    c.unknown_keys(table, path, HEALTH_KEYS)
    default = HealthConfig()
    return HealthConfig(
        silent_after_s=c.number(
            table,
            path,
            "silent_after_s",
            default.silent_after_s,
            minimum=0,
            maximum=86400,
            exclusive_minimum=True,
            unit="seconds",
        ),
        stuck_after_s=c.number(
            table,
            path,
            "stuck_after_s",
            default.stuck_after_s,
            minimum=0,
            maximum=7 * 86400,
            exclusive_minimum=True,
            unit="seconds",
        ),
        stuck_min_visits=c.integer(
            table, path, "stuck_min_visits", default.stuck_min_visits, minimum=1, maximum=10000
        ),
        flapping_per_min=c.integer(
            table, path, "flapping_per_min", default.flapping_per_min, minimum=1, maximum=10000
        ),
    )


def _gating(c: Checker, table: Mapping[str, Any], path: str) -> GatingConfig:
    c.unknown_keys(table, path, GATING_KEYS)
    default = GatingConfig()
    return GatingConfig(
        enabled=c.boolean(table, path, "enabled", default.enabled),
        idle_after_s=c.number(
            table,
            path,
            "idle_after_s",
            default.idle_after_s,
            minimum=0,
            maximum=86400,
            exclusive_minimum=True,
            unit="seconds",
        ),
        idle=cast(IdleMode, c.choice(table, path, "idle", default.idle, ("low", "pause"))),
        low_rate_hz=c.number(
            table,
            path,
            "low_rate_hz",
            default.low_rate_hz,
            minimum=0,
            maximum=120,
            exclusive_minimum=True,
            unit="hertz",
        ),
        probe_every_s=c.number(
            table,
            path,
            "probe_every_s",
            default.probe_every_s,
            minimum=0,
            maximum=86400,
            unit="seconds",
        ),
    )


__all__ = [
    "CAMERA",
    "DEFAULT_CONFIDENCE",
    "SOURCE_TYPES",
    "CameraDownMode",
    "FusionConfig",
    "GatingConfig",
    "IdleMode",
    "parse_fusion",
]
