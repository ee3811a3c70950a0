"""Live sensor readings onto frames: the GPIO sensor bank and the serial bridge, at the edge.

The core sees sensors only as ``Frame.sensors``, the readings that arrived since the previous
frame, each stamped on the frame's clock. This is the one place that reads them live: it polls
the GPIO bank, drains the bridge link, maps the bridge's items onto the same reading kinds
(distance in metres as sensor ``bridge``; inputs as buttons ``bridge_input0``...), and shifts
their monotonic times onto the frame timeline (a camera's frame times start at the camera's own
zero). A bridge that goes down is reported as an ``error`` reading once, so fusion marks it
disconnected and the show carries on without it; when it comes back, readings resume.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from exhibit.config.schema import BRIDGE_INPUTS, Config
from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, SensorReading
from exhibit.skeleton import Frame

log = logging.getLogger("exhibit.sensors")

NOTHING_IN_RANGE_M = 10.0
"""Distance reported when the bridge's sensor sees nothing (beyond every zone)."""


class SensorFeed:
    """Everything the config's sensors report, ready for frames. Close it when done."""

    def __init__(
        self,
        config: Config,
        clock: Callable[[], float] = time.monotonic,
        pin_factory: object | None = None,
    ) -> None:
        self._clock = clock
        self.bank = None
        self.link = None
        self._link_was_up = False
        if config.sensors.sensors:
            from exhibit.sensors.gpio_in import SensorBank

            self.bank = SensorBank(config.sensors, clock=clock, pin_factory=pin_factory)
        if config.bridge.device is not None:
            from firmware_bridge.link import BridgeLink

            self.link = BridgeLink.from_config(config.bridge, clock=clock)
            self.link.start()

    def poll(self) -> list[SensorReading]:
        """Readings since the last call, on the monotonic clock, in time order."""
        now = self._clock()
        readings: list[SensorReading] = list(self.bank.poll()) if self.bank is not None else []
        if self.link is not None:
            from firmware_bridge.items import BridgeEvent, BridgeReading

            for item in self.link.drain():
                if isinstance(item, BridgeReading) and item.sensor == "distance":
                    distance = item.distance_m
                    value = NOTHING_IN_RANGE_M if distance is None else distance
                    readings.append(SensorReading(item.t_s, "bridge", DISTANCE, value))
                elif isinstance(item, BridgeEvent):
                    name = f"bridge_input{item.input_id}"
                    readings.append(SensorReading(item.t_s, name, ACTIVE, item.kind == "down"))
            up = self.link.health().state == "up"
            if up and not self._link_was_up:
                # Inputs report only changes: say where they stand now, as the GPIO bank does.
                inputs = self.link.health().device
                count = getattr(inputs, "input_count", BRIDGE_INPUTS) if inputs else BRIDGE_INPUTS
                for i in range(min(count, BRIDGE_INPUTS)):
                    readings.append(SensorReading(now, f"bridge_input{i}", ACTIVE, False))
            if self._link_was_up and not up:
                reason = self.link.health().reason
                log.warning("bridge down: %s", reason)
                readings.append(SensorReading(now, "bridge", ERROR, reason or "link down"))
            self._link_was_up = up
        readings.sort(key=lambda r: r.t_s)
        return readings

    def attach(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """``frames`` with the readings that arrived before each one, moved onto its clock
        (never later than the frame, never before the previous one)."""
        previous_t_s: float | None = None
        for frame in frames:
            offset = frame.t_s - self._clock()
            low = previous_t_s if previous_t_s is not None else -float("inf")
            readings = tuple(
                replace(r, t_s=min(frame.t_s, max(low, round(r.t_s + offset, 6))))
                for r in self.poll()
            )
            previous_t_s = frame.t_s
            yield replace(frame, sensors=readings) if readings else frame

    def close(self) -> None:
        if self.bank is not None:
            self.bank.close()
        if self.link is not None:
            self.link.close()
