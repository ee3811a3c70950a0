"""The ``[sensors]`` section: GPIO inputs by name, validated completely when the config loads.

The designer names each sensor once::

    [sensors]
    pin_factory = "lgpio"            # optional; GPIOZERO_PIN_FACTORY wins when it is set

    [sensors.pir]
    type = "motion"                  # a PIR: high while it sees movement
    pin = 4

    [sensors.start]
    type = "button"                  # a push button to ground
    pin = 17
    bounce_s = 0.05
    hold_s = 1.0

    [sensors.mat]
    type = "mat"                     # a pressure mat: a button that is stood on
    pin = 22

    [sensors.range]
    type = "distance"                # an HC-SR04 ultrasonic sensor
    trigger_pin = 23
    echo_pin = 24
    max_distance_m = 3.0

    [sensors.gate]
    type = "light_barrier"           # a break-beam receiver: low while the beam is broken
    pin = 5

Keys by type (defaults in brackets; see docs/sensors-and-fusion.md):

- ``motion``: ``pin``, ``active_high`` [true]
- ``button``: ``pin``, ``active_high`` [false], ``bounce_s`` [0.05], ``hold_s`` [1.0]
- ``mat``: ``pin``, ``active_high`` [false], ``bounce_s`` [0.1], ``hold_s`` [0.5]
- ``light_barrier``: ``pin``, ``active_high`` [false], ``bounce_s`` [0.01]
- ``distance``: ``trigger_pin``, ``echo_pin``, ``max_distance_m`` [3.0], ``sample_s`` [0.1],
  ``min_change_m`` [0.05], ``queue_len`` [3]

Pins are BCM numbers 2 to 27 (``GPIO17`` is ``17``). A pin used twice -- by two sensors, twice
by one, or by a sensor and an output -- is an error naming both users. ``active_high = false``
means the sensor pulls the pin low when it is active, so the pin's internal pull-up is used;
``true`` uses the pull-down. GPIO2 and GPIO3 have fixed pull-ups (I2C), so an active-high
sensor cannot use them.

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> cfg = parse_sensors({"pir": {"type": "motion", "pin": 4}}, "sensors", c, {})
    >>> cfg.sensors["pir"].pin, cfg.pins()
    (4, {4: 'sensors.pir.pin'})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from exhibit.config.checker import Checker, join, suggest
from exhibit.cues.gpio_out import BCM_PINS

SensorType = Literal["motion", "button", "mat", "distance", "light_barrier"]
SENSOR_TYPES: tuple[SensorType, ...] = ("motion", "button", "mat", "distance", "light_barrier")
BINARY_TYPES: tuple[SensorType, ...] = ("motion", "button", "mat", "light_barrier")
"""Sensors with one pin and an on/off state (``active`` readings)."""

PIN_FACTORIES = ("lgpio", "rpigpio", "pigpio", "native", "mock")
"""gpiozero's pin factories by the names its ``GPIOZERO_PIN_FACTORY`` takes."""
SETTINGS_KEYS = ("pin_factory",)
"""Keys of ``[sensors]`` that are settings, not sensors."""
RESERVED_NAMES = ("camera",)
"""Names a sensor cannot have: the fusion uses them for its other sources."""

TYPE_KEYS: dict[SensorType, tuple[str, ...]] = {
    "motion": ("pin", "active_high"),
    "button": ("pin", "active_high", "bounce_s", "hold_s"),
    "mat": ("pin", "active_high", "bounce_s", "hold_s"),
    "light_barrier": ("pin", "active_high", "bounce_s"),
    "distance": (
        "trigger_pin",
        "echo_pin",
        "max_distance_m",
        "sample_s",
        "min_change_m",
        "queue_len",
    ),
}
ALL_KEYS = ("type", *sorted({k for keys in TYPE_KEYS.values() for k in keys}))
_DEFAULT_ACTIVE_HIGH: dict[SensorType, bool] = {
    "motion": True,
    "button": False,
    "mat": False,
    "light_barrier": False,
    "distance": True,
}
_DEFAULT_BOUNCE_S: dict[SensorType, float] = {
    "motion": 0.0,
    "button": 0.05,
    "mat": 0.1,
    "light_barrier": 0.01,
    "distance": 0.0,
}
_DEFAULT_HOLD_S: dict[SensorType, float] = {"button": 1.0, "mat": 0.5}
# What designers call these things, for a "did you mean" on the type.
_TYPE_ALIASES: dict[str, SensorType] = {
    "pir": "motion",
    "motion_sensor": "motion",
    "switch": "button",
    "push_button": "button",
    "pressure_mat": "mat",
    "floor_mat": "mat",
    "ultrasonic": "distance",
    "hc-sr04": "distance",
    "hcsr04": "distance",
    "sonar": "distance",
    "range": "distance",
    "beam": "light_barrier",
    "break_beam": "light_barrier",
    "light_gate": "light_barrier",
    "line": "light_barrier",
}
FIXED_PULL_UP_PINS = (2, 3)
"""GPIO2 and GPIO3 carry the I2C bus's fixed 1.8 kΩ pull-ups."""
# The 40-pin header: physical pin -> BCM number, for a hint when a physical number is given.
_HEADER_TO_BCM = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24,
    19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_PIN_TEXT = re.compile(r"^\s*(?:GPIO|BCM)?\s*(\d+)\s*$", re.IGNORECASE)
_PIN_EXPECTED = "a BCM pin number from 2 to 27, e.g. 17 for GPIO17"


@dataclass(frozen=True)
class SensorConfig:
    """One entry of ``[sensors]``.

    ``pin`` is the BCM pin of a binary sensor (``None`` for a distance sensor, which has
    ``trigger_pin`` and ``echo_pin``). ``active_high``: the pin is high while the sensor is
    active. ``bounce_s``: edges closer than this after an accepted one are contact bounce.
    ``hold_s``: a button or mat pressed this long gives a ``held`` reading. ``max_distance_m``,
    ``sample_s`` (seconds between readings), ``min_change_m`` (smaller changes are not
    reported, except once a second) and ``queue_len`` (readings in gpiozero's median) shape a
    distance sensor. ``path`` is the key path, for messages.

    Example:
        >>> SensorConfig("pir", "motion", pin=4).pins()
        {4: 'sensors.pir.pin'}
    """

    name: str
    type: SensorType
    pin: int | None = None
    trigger_pin: int | None = None
    echo_pin: int | None = None
    active_high: bool = True
    bounce_s: float = 0.0
    hold_s: float = 1.0
    max_distance_m: float = 3.0
    sample_s: float = 0.1
    min_change_m: float = 0.05
    queue_len: int = 3
    path: str = ""

    def pins(self) -> dict[int, str]:
        """Every pin this sensor uses -> the key path that names it."""
        where = self.path or join("sensors", self.name)
        named = (("pin", self.pin), ("trigger_pin", self.trigger_pin), ("echo_pin", self.echo_pin))
        return {pin: join(where, key) for key, pin in named if pin is not None}

    def describe_pins(self) -> str:
        """``GPIO4``, or ``GPIO23/24`` (trigger/echo) for a distance sensor."""
        if self.type == "distance":
            return f"GPIO{self.trigger_pin}/{self.echo_pin}"
        return f"GPIO{self.pin}"


@dataclass(frozen=True)
class SensorsConfig:
    """The whole ``[sensors]`` section: the sensors by name and the pin factory to use
    (``None``: gpiozero's choice, from ``GPIOZERO_PIN_FACTORY`` or what the board supports).

    Example:
        >>> SensorsConfig().sensors
        {}
    """

    sensors: dict[str, SensorConfig] = field(default_factory=dict)
    pin_factory: str | None = None

    def pins(self) -> dict[int, str]:
        """Every pin any sensor uses -> its key path: pass to ``parse_outputs(used_pins=...)``."""
        pins: dict[int, str] = {}
        for sensor in self.sensors.values():
            pins.update(sensor.pins())
        return pins

    def types(self) -> dict[str, SensorType]:
        """Sensor name -> type, as the fusion takes it."""
        return {name: s.type for name, s in self.sensors.items()}


def parse_sensors(
    table: Mapping[str, Any],
    path: str,
    checker: Checker,
    used_pins: Mapping[int, str] | None = None,
) -> SensorsConfig:
    """The ``[sensors]`` table at ``path`` (usually ``"sensors"``); problems go to ``checker``.

    ``used_pins`` maps pins other sections already use (``[outputs]``) to their key paths, so
    a clash with them is reported with both names. Invalid sensors are left out of the result.

    Example:
        >>> c = Checker()
        >>> _ = parse_sensors({"pir": {"type": "motion", "pin": 17}}, "sensors", c,
        ...                   {17: "outputs.lamp.pin"})
        >>> c.problems[0]
        'sensors.pir.pin: pin 17 is already used by outputs.lamp.pin (got 17); expected a pin no other device uses'
    """  # noqa: E501
    c = checker
    taken: dict[int, str] = dict(used_pins or {})
    sensors: dict[str, SensorConfig] = {}
    pin_factory: str | None = None
    if "pin_factory" in table:
        value = table["pin_factory"]
        where = join(path, "pin_factory")
        if not isinstance(value, str) or value.lower() not in PIN_FACTORIES:
            hint = suggest(value.lower(), PIN_FACTORIES) if isinstance(value, str) else None
            c.error(
                where,
                "not a gpiozero pin factory",
                value,
                "one of " + ", ".join(f'"{f}"' for f in PIN_FACTORIES),
                f'"{hint}"' if hint else None,
            )
        else:
            pin_factory = value.lower()
    for name, value in table.items():
        if name in SETTINGS_KEYS:
            continue
        where = join(path, name)
        if not isinstance(value, dict):
            hint = suggest(name, SETTINGS_KEYS)
            c.error(
                where,
                "not a sensor table",
                value,
                'a table such as [sensors.pir] with type = "motion" and pin = 4, or the '
                "setting pin_factory",
                f'"{hint}"' if hint else None,
            )
            continue
        if not _NAME.match(name):
            c.error(
                where,
                "not a usable sensor name",
                show_got=False,
                expected="letters, digits, _ and - only",
            )
            continue
        if name in RESERVED_NAMES:
            c.error(
                where,
                f'"{name}" is reserved for the fusion\'s own source',
                show_got=False,
                expected="another name, e.g. " + f'"{name}_1"',
            )
            continue
        sensor = _parse_sensor(c, name, value, where, taken)
        if sensor is not None:
            sensors[name] = sensor
    return SensorsConfig(sensors, pin_factory)


def _parse_sensor(
    c: Checker, name: str, value: Mapping[str, Any], where: str, taken: dict[int, str]
) -> SensorConfig | None:
    before = len(c.problems)
    kind = _type(c, value, where)
    if kind is None:
        c.unknown_keys(value, where, ALL_KEYS)
        return None
    used = TYPE_KEYS[kind]
    for key in value:
        if key in ALL_KEYS and key != "type" and key not in used:
            c.error(
                join(where, key),
                f'not used by a "{kind}" sensor',
                show_got=False,
                expected="one of " + ", ".join(used),
            )
    c.unknown_keys(value, where, ALL_KEYS)

    if kind == "distance":
        trigger = _pin(c, value, where, "trigger_pin", taken)
        echo = _pin(c, value, where, "echo_pin", taken)
        max_distance_m = c.number(
            value,
            where,
            "max_distance_m",
            3.0,
            minimum=0,
            maximum=10,
            exclusive_minimum=True,
            unit="metres",
        )
        sample_s = c.number(value, where, "sample_s", 0.1, minimum=0.06, maximum=10, unit="seconds")
        min_change_m = c.number(value, where, "min_change_m", 0.05, minimum=0, unit="metres")
        if min_change_m >= max_distance_m:
            c.error(
                join(where, "min_change_m"),
                "not smaller than max_distance_m",
                value.get("min_change_m"),
                f"a value < {max_distance_m:g}",
            )
        queue_len = c.integer(value, where, "queue_len", 3, minimum=1, maximum=30)
        if len(c.problems) > before or trigger is None or echo is None:
            return None
        return SensorConfig(
            name,
            kind,
            trigger_pin=trigger,
            echo_pin=echo,
            max_distance_m=max_distance_m,
            sample_s=sample_s,
            min_change_m=min_change_m,
            queue_len=queue_len,
            path=where,
        )

    pin = _pin(c, value, where, "pin", taken)
    active_high = c.boolean(value, where, "active_high", _DEFAULT_ACTIVE_HIGH[kind])
    if pin in FIXED_PULL_UP_PINS and active_high:
        c.error(
            join(where, "pin"),
            f"GPIO{pin} has a fixed pull-up resistor (I2C), so an active-high sensor cannot use it",
            pin,
            "another pin, or active_high = false for a sensor that pulls the pin low",
        )
    bounce_s = _DEFAULT_BOUNCE_S[kind]
    if "bounce_s" in used:
        bounce_s = c.number(
            value, where, "bounce_s", bounce_s, minimum=0, maximum=1, unit="seconds"
        )
    hold_s = _DEFAULT_HOLD_S.get(kind, 1.0)
    if "hold_s" in used:
        hold_s = c.number(
            value,
            where,
            "hold_s",
            hold_s,
            minimum=0,
            maximum=60,
            exclusive_minimum=True,
            unit="seconds",
        )
    if len(c.problems) > before or pin is None:
        return None
    return SensorConfig(
        name,
        kind,
        pin=pin,
        active_high=active_high,
        bounce_s=bounce_s,
        hold_s=hold_s,
        path=where,
    )


def _type(c: Checker, value: Mapping[str, Any], where: str) -> SensorType | None:
    at = join(where, "type")
    expected = "one of " + ", ".join(f'"{t}"' for t in SENSOR_TYPES)
    if "type" not in value:
        c.error(at, "missing", show_got=False, expected=expected)
        return None
    kind = value["type"]
    for known in SENSOR_TYPES:
        if kind == known:
            return known
    hint: str | None = None
    if isinstance(kind, str):
        key = kind.strip().lower().replace(" ", "_")
        hint = _TYPE_ALIASES.get(key) or suggest(key, SENSOR_TYPES)
    c.error(at, "unknown sensor type", kind, expected, f'"{hint}"' if hint else None)
    return None


def _pin(
    c: Checker, value: Mapping[str, Any], where: str, key: str, taken: dict[int, str]
) -> int | None:
    at = join(where, key)
    if key not in value:
        c.error(at, "missing", show_got=False, expected=_PIN_EXPECTED)
        return None
    pin = value[key]
    if isinstance(pin, str):
        match = _PIN_TEXT.match(pin)
        hint = match.group(1) if match and int(match.group(1)) in BCM_PINS else None
        c.error(at, "not a pin number", pin, _PIN_EXPECTED, hint)
        return None
    if isinstance(pin, bool) or not isinstance(pin, int):
        c.error(at, "not a pin number", pin, _PIN_EXPECTED)
        return None
    if pin not in BCM_PINS:
        bcm = _HEADER_TO_BCM.get(pin)
        hint = f"{bcm} (header pin {pin} is GPIO{bcm})" if bcm is not None else None
        c.error(at, "no such GPIO pin on the header", pin, _PIN_EXPECTED, hint)
        return None
    if pin in taken:
        c.error(at, f"pin {pin} is already used by {taken[pin]}", pin, "a pin no other device uses")
        return None
    taken[pin] = at
    return pin


__all__ = [
    "BINARY_TYPES",
    "PIN_FACTORIES",
    "SENSOR_TYPES",
    "TYPE_KEYS",
    "SensorConfig",
    "SensorType",
    "SensorsConfig",
    "parse_sensors",
]
