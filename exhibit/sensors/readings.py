"""Sensor readings: what a sensor said, when, on the exhibit's one clock.

A ``SensorReading`` is ``(t_s, sensor, kind, value)``. ``t_s`` is seconds on the same
monotonic clock as the camera frames (the runtime injects it into ``SensorBank``); ``sensor`` is
the name from ``[sensors]``; ``kind`` says what ``value`` means:

- ``"active"`` (bool): a binary sensor changed state -- motion seen, button pressed, mat
  stepped on, light barrier broken -- or reports its state when it was opened;
- ``"held"`` (float, seconds): a button or mat has been pressed for its ``hold_s``;
- ``"distance"`` (float, metres): a distance sensor's smoothed reading, ``0`` to its
  ``max_distance_m`` (``max_distance_m`` means nothing in range);
- ``"error"`` (str): the device failed -- could not be opened, no echo -- and why.

Other sources (the serial bridge) may add kinds; the fusion ignores kinds it does not know
except as a sign of life.

Readings ride with frames into recordings as compact JSON objects (``encode_reading`` /
``decode_reading``, pure): ``{"t":1.5,"s":"pir","k":"active","v":true}``.

``ReadingQueue`` hands readings from gpiozero's callback threads to the frame loop: bounded,
thread-safe, the oldest reading dropped (and counted) when it is full.

Example:
    >>> r = SensorReading(1.5, "pir", ACTIVE, True)
    >>> encode_reading(r)
    {'t': 1.5, 's': 'pir', 'k': 'active', 'v': True}
    >>> decode_reading({"t": 1.5, "s": "pir", "k": "active", "v": True}) == r
    True
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

ACTIVE: Final = "active"
HELD: Final = "held"
DISTANCE: Final = "distance"
ERROR: Final = "error"
KNOWN_KINDS: Final = (ACTIVE, HELD, DISTANCE, ERROR)

T_DECIMALS = 6
"""Reading times are rounded to 1 µs in recordings, as frame times are."""
VALUE_DECIMALS = 4
"""Numeric values (metres, seconds) are rounded to 0.1 mm / 0.1 ms in recordings."""

ReadingValue = bool | float | str


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One thing one sensor said at ``t_s`` (seconds on the frames' clock).

    Why: the deterministic core sees sensors only through these records, so a recording that
    keeps them replays to the same fused presence, health and gating decisions.

    Example:
        >>> SensorReading(2.0, "range", DISTANCE, 1.25).value
        1.25
    """

    t_s: float
    sensor: str
    kind: str
    value: ReadingValue


def encode_reading(reading: SensorReading) -> dict[str, Any]:
    """The reading as a JSON-ready object for a recording's frame line (rounded, canonical).

    ``ValueError`` for a time or value JSON cannot hold (NaN, infinity).

    Example:
        >>> encode_reading(SensorReading(0.1234567, "range", DISTANCE, 1.000049))
        {'t': 0.123457, 's': 'range', 'k': 'distance', 'v': 1.0}
    """
    if not math.isfinite(reading.t_s):
        raise ValueError(f"sensor reading t must be finite, got {reading.t_s}")
    value: ReadingValue = reading.value
    if isinstance(value, float | int) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"sensor reading value must be finite, got {value}")
        value = round(float(value), VALUE_DECIMALS) + 0.0
    return {
        "t": round(reading.t_s, T_DECIMALS) + 0.0,
        "s": reading.sensor,
        "k": reading.kind,
        "v": value,
    }


def decode_reading(obj: object) -> SensorReading:
    """A reading from its recording form; ``ValueError`` says exactly what is wrong.

    Example:
        >>> decode_reading({"t": 1, "s": "mat", "k": "held", "v": 0.5})
        SensorReading(t_s=1.0, sensor='mat', kind='held', value=0.5)
    """
    if not isinstance(obj, dict):
        raise ValueError(f"a sensor reading must be a JSON object, got {type(obj).__name__}")
    keys = set(obj)
    if keys != {"t", "s", "k", "v"}:
        missing = sorted({"t", "s", "k", "v"} - keys)
        unknown = sorted(keys - {"t", "s", "k", "v"})
        what = f"missing {missing}" if missing else f"unknown {unknown}"
        raise ValueError(f"sensor reading keys: {what}; expected t, s, k, v")
    t, sensor, kind, value = obj["t"], obj["s"], obj["k"], obj["v"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        raise ValueError(f"sensor reading t must be a number of seconds, got {t!r}")
    if not isinstance(sensor, str) or not sensor:
        raise ValueError(f"sensor reading s must be a sensor name, got {sensor!r}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"sensor reading k must be a kind such as 'active', got {kind!r}")
    if isinstance(value, bool | str):
        decoded: ReadingValue = value
    elif isinstance(value, int | float) and math.isfinite(value):
        decoded = float(value)
    else:
        raise ValueError(f"sensor reading v must be a boolean, number or string, got {value!r}")
    if kind == ACTIVE and not isinstance(decoded, bool):
        raise ValueError(f"an 'active' reading's v must be true or false, got {value!r}")
    if kind in (HELD, DISTANCE) and not isinstance(decoded, float):
        raise ValueError(f"a {kind!r} reading's v must be a number, got {value!r}")
    return SensorReading(float(t), sensor, kind, decoded)


class ReadingQueue:
    """A bounded, thread-safe hand-over from sensor threads to the frame loop.

    ``put`` never blocks: when ``maxlen`` readings wait already, the oldest is dropped and
    ``overflow`` counts it (the newest state matters most). ``drain`` takes everything in
    arrival order.

    Example:
        >>> q = ReadingQueue(maxlen=2)
        >>> for t in (0.0, 0.1, 0.2):
        ...     q.put(SensorReading(t, "pir", ACTIVE, t > 0.05))
        >>> [r.t_s for r in q.drain()], q.overflow
        ([0.1, 0.2], 1)
    """

    def __init__(self, maxlen: int = 1024) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self._items: deque[SensorReading] = deque()
        self._maxlen = maxlen
        self._lock = threading.Lock()
        self.overflow = 0

    def put(self, reading: SensorReading) -> None:
        with self._lock:
            if len(self._items) >= self._maxlen:
                self._items.popleft()
                self.overflow += 1
            self._items.append(reading)

    def drain(self) -> list[SensorReading]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


__all__ = [
    "ACTIVE",
    "DISTANCE",
    "ERROR",
    "HELD",
    "KNOWN_KINDS",
    "ReadingQueue",
    "ReadingValue",
    "SensorReading",
    "decode_reading",
    "encode_reading",
]
