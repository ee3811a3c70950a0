"""What the link hands to the rest of the exhibit: readings, input events, device errors.

Each item carries ``t_s``, the time it happened on the host's clock (the link's clock,
``time.monotonic`` by default, the same clock a camera frame's ``t_s`` uses), mapped from the
device's own millisecond clock by ``clock.ClockMapper``; ``device_ms`` keeps the device's time
(milliseconds since its boot, wraps unrolled) for diagnostics and recordings.

Example:
    >>> r = BridgeReading(t_s=12.5, sensor="distance", sensor_id=1, value=812, device_ms=4000)
    >>> r.distance_m
    0.812
    >>> r.as_dict()
    {'t_s': 12.5, 'kind': 'reading', 'sensor': 'distance', 'sensor_id': 1, 'value': 812, \
'device_ms': 4000}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware_bridge import codec

SENSOR_NAMES = {codec.SENSOR_DISTANCE: "distance"}
"""Names of the sensor ids of PROTOCOL.md; an unknown id is named ``sensor<id>``."""
EVENT_KINDS = {codec.EVENT_DOWN: "down", codec.EVENT_UP: "up"}


def sensor_name(sensor_id: int) -> str:
    return SENSOR_NAMES.get(sensor_id, f"sensor{sensor_id}")


@dataclass(frozen=True)
class BridgeReading:
    """One sensor reading. For ``sensor == "distance"``, ``value`` is millimetres, or
    ``codec.NO_TARGET`` (-1) when nothing was in range."""

    t_s: float
    sensor: str
    sensor_id: int
    value: int
    device_ms: int

    @property
    def distance_m(self) -> float | None:
        """The distance in metres (None when nothing was in range or not a distance)."""
        if self.sensor_id != codec.SENSOR_DISTANCE or self.value < 0:
            return None
        return self.value / 1000.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "kind": "reading",
            "sensor": self.sensor,
            "sensor_id": self.sensor_id,
            "value": self.value,
            "device_ms": self.device_ms,
        }


@dataclass(frozen=True)
class BridgeEvent:
    """An input (button or touch pad ``input_id``) went ``"down"`` or ``"up"``."""

    t_s: float
    kind: str
    input_id: int
    device_ms: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "kind": "event",
            "event": self.kind,
            "input_id": self.input_id,
            "device_ms": self.device_ms,
        }


@dataclass(frozen=True)
class DeviceError:
    """The device sent ERROR: ``code`` (codec.ERR_*) and its text. ``t_s`` is arrival time."""

    t_s: float
    code: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"t_s": self.t_s, "kind": "device_error", "code": self.code, "text": self.text}


BridgeItem = BridgeReading | BridgeEvent | DeviceError
