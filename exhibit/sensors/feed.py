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
from typing import Any

from exhibit.config.schema import BRIDGE_INPUTS, Config
from exhibit.fusion.engine import FusionUpdate
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
        self._previous_t_s: float | None = None
        self._pending: tuple[SensorReading, ...] | None = None
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

    def _on_frame_clock(self, t_s: float) -> tuple[SensorReading, ...]:
        """What arrived until now, moved onto the frame clock of a frame at ``t_s`` (never
        later than it, never before the previous frame)."""
        offset = t_s - self._clock()
        low = self._previous_t_s if self._previous_t_s is not None else -float("inf")
        return tuple(
            replace(r, t_s=min(t_s, max(low, round(r.t_s + offset, 6)))) for r in self.poll()
        )

    def gate(
        self, config: Config, last_fusion: Callable[[], FusionUpdate | None]
    ) -> Callable[[float], bool]:
        """A pose-inference gate for ``PoseFrameSource`` (docs/sensors-and-fusion.md): before
        each image it collects the readings so far (they go on that image's frame) and asks the
        config's gating policy, told what fusion concluded on the previous frame."""
        from exhibit.fusion.gating import InferenceGate

        policy = InferenceGate.for_fusion(config.fusion, config.sensor_types())

        def decide(t_s: float) -> bool:
            update = last_fusion()
            if update is not None:
                policy.observe(update)
            self._pending = self._on_frame_clock(t_s)
            return policy.decide(t_s, list(self._pending)).run_pose

        return decide

    def attach(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """``frames`` with the readings that arrived before each one, on its clock."""
        for frame in frames:
            pending, self._pending = self._pending, None
            readings = pending if pending is not None else self._on_frame_clock(frame.t_s)
            self._previous_t_s = frame.t_s
            yield replace(frame, sensors=readings) if readings else frame

    def health(self) -> dict[str, Any]:
        """The serial bridge for ``exhibit status``: its state and why, how often it went
        away and came back (empty without a bridge)."""
        if self.link is None:
            return {}
        health = self.link.health()
        counters = health.counters
        return {
            "state": str(health.state),
            "reason": health.reason,
            "connects": counters.connects,
            "disconnects": counters.disconnects,
            "heartbeats_missed": counters.heartbeats_missed,
        }

    def close(self) -> None:
        if self.bank is not None:
            self.bank.close()
        if self.link is not None:
            self.link.close()
