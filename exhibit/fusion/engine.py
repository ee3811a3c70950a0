"""Fusion: camera and sensors -> someone is there or not, how near, and which sources say so.

Pure and deterministic: each ``update`` is a function of the frame time, what the camera saw
in that frame and the frame's sensor readings, so a recording replays to the same events.

Sources and what makes each *support* presence (only healthy, not ignored sources count):

- camera: a body counted in the interaction area in the last frame it looked at (a frame
  gating skipped keeps the last look's answer, for at most ``leave_after_s``);
- motion (PIR): active;
- mat: stood on for its ``hold_s`` (a ``held`` reading), until released;
- button, light_barrier: pressed / broken, and for ``press_hold_s`` after;
- distance: in the near zone (below ``near_m``; back to far above ``far_m``).

``confidence`` = 1 - prod(1 - w) over the supporting sources, with the weights of
``[fusion.confidence]``.

Rules:

1. A button or a mat means someone is there: its support starts a visit at once.
2. Camera up: otherwise a visit starts when the camera has supported it for
   ``enter_after_s`` -- the cheap sensors confirm and hold, they do not start visits, since a
   PIR also sees passers-by.
3. Camera down (degraded mode): with ``camera_down = "sensors"`` a visit starts when the
   confidence has been at least ``enter_confidence`` for ``enter_after_s`` (a distance sensor
   in the near zone does it alone; a PIR alone does not); with ``"wait"`` only rule 1 starts
   visits.
4. A visit ends when no source has supported it for ``leave_after_s``. So a PIR that stays
   high holds the visit while the camera has lost the visitor, and a stuck PIR, once found
   stuck, no longer does.
5. Distance: the camera's depth estimate when it sees the visitor and has one, else the
   nearest healthy distance sensor; ``zone`` is near/far with the same hysteresis.

Events (``exhibit.events.Event``): ``presence`` ``enter``/``leave`` with ``visitor``,
``sources`` (those supporting at the enter; the last ones supporting before the leave) and
``confidence``; ``sensor`` ``fault`` with ``sensor``, ``reason`` (``disconnected``,
``stuck`` or ``flapping``) and ``detail``; ``sensor`` ``ok`` with ``sensor`` and ``was``.
The camera is a source too: unplugged it is ``disconnected``.

Example:
    >>> from exhibit.fusion.config import FusionConfig
    >>> from exhibit.sensors.readings import SensorReading
    >>> f = Fusion(FusionConfig(), {"mat": "mat"})
    >>> u = f.update(0.0, CameraView(seen=False), [SensorReading(0.0, "mat", "held", 0.5)])
    >>> [(e.name, e.data["sources"]) for e in u.events]
    [('enter', ['mat'])]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from exhibit.events import Event, EventKind
from exhibit.fusion.config import CAMERA, FusionConfig
from exhibit.sensors.health import HealthChange, HealthMonitor, HealthState
from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, HELD, SensorReading

Zone = Literal["near", "far"]
Mode = Literal["normal", "degraded"]
SENSOR_EVENT_KIND: EventKind = "sensor"
"""Kind of ``sensor.fault``/``sensor.ok`` events."""
_INSTANT = ("button", "mat")
_CONFIDENCE_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class CameraView:
    """What the camera contributed to one frame.

    ``available``: the camera delivers frames (False: unplugged, failed). ``looked``: pose
    inference ran on this frame (False when gating skipped it). ``seen``: a body counted in
    the interaction area (``PresenceTracker.counts``; ``PresenceUpdate.primary is not None``).
    ``distance_m``: the seen visitor's distance from a depth camera, if one is fitted.

    Example:
        >>> CameraView(seen=True).looked
        True
    """

    available: bool = True
    looked: bool = True
    seen: bool = False
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """One source in one frame: its type, whether it supports presence and with what weight,
    its health, and its last state (bool, metres, or None).

    Example:
        >>> SourceState("pir", "motion", True, 0.4, "ok", True).supports
        True
    """

    name: str
    type: str
    supports: bool
    weight: float
    health: HealthState
    value: bool | float | None


@dataclass(frozen=True, slots=True)
class FusionUpdate:
    """What one frame did to the fused picture.

    ``present``/``visitor``: a fused visit in progress and its id. ``confidence`` and
    ``sources``: combined confidence and the supporting sources now. ``distance_m``/``zone``:
    how near (None when unknown). ``mode``: ``degraded`` while the camera is down.
    ``events``: the camera's health change, the sensors' (by name), then presence edges.
    ``states``: every source, by name.

    Example:
        >>> FusionUpdate(0.0, False, None, 0.0, (), None, None, "normal", (), {}).present
        False
    """

    t_s: float
    present: bool
    visitor: int | None
    confidence: float
    sources: tuple[str, ...]
    distance_m: float | None
    zone: Zone | None
    mode: Mode
    events: tuple[Event, ...]
    states: Mapping[str, SourceState]


class _Sensor:
    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.active = False
        self.held = False
        self.last_active_s: float | None = None
        self.distance_m: float | None = None
        self.distance_s: float | None = None


class Fusion:
    """Fuses camera and sensors into presence, distance and health, frame by frame.

    ``sensors`` maps each sensor name to its type (``SensorsConfig.types()``, plus any
    serial-bridge sensors). Call ``update`` once per frame in time order.

    Example:
        >>> from exhibit.fusion.config import FusionConfig
        >>> f = Fusion(FusionConfig(enter_after_s=0.5), {})
        >>> seen = CameraView(seen=True)
        >>> [e.name for t in (0.0, 0.25, 0.5) for e in f.update(t, seen, []).events]
        ['enter']
    """

    def __init__(self, config: FusionConfig, sensors: Mapping[str, str]) -> None:
        self.config = config
        self._sensors = {name: _Sensor(name, kind) for name, kind in sorted(sensors.items())}
        self.health = HealthMonitor(
            config.health, sensors, near_m=config.near_m, far_m=config.far_m
        )
        self._next_id = 1
        self._visitor: int | None = None
        self._last_t_s: float | None = None
        # camera
        self._camera_up = True
        self._camera_seen = False
        self._camera_look_s: float | None = None
        self._camera_since_s: float | None = None  # camera support run (no visit yet)
        self._camera_visit = False  # camera-only hysteresis, for the health monitor
        self._camera_visit_edge_s: float | None = None
        self.camera_visits = 0
        # fused visit
        self._confident_since_s: float | None = None
        self._last_support_s = 0.0
        self._last_sources: tuple[str, ...] = ()
        self._zone: Zone | None = None

    @property
    def visitor(self) -> int | None:
        return self._visitor

    def update(
        self, t_s: float, camera: CameraView, readings: Sequence[SensorReading]
    ) -> FusionUpdate:
        cfg = self.config
        if self._last_t_s is not None and t_s < self._last_t_s:
            self._restart_clock(t_s)
        self._last_t_s = t_s
        events: list[Event] = []

        for reading in readings:
            self._apply(reading, t_s)
        events += self._camera(t_s, camera)
        for change in self.health.update(t_s, readings, self.camera_visits):
            events.append(_health_event(change))

        states = self._states(t_s, camera)
        supporting = tuple(name for name, s in states.items() if s.supports)
        confidence = _combine(states[name].weight for name in supporting)
        mode: Mode = "normal" if self._camera_up else "degraded"

        if supporting:
            self._last_support_s = t_s
            self._last_sources = supporting
        if self._visitor is None:
            events += self._maybe_enter(t_s, states, supporting, confidence, mode)
        elif not supporting and t_s - self._last_support_s >= cfg.leave_after_s:
            data = {"visitor": self._visitor, "sources": list(self._last_sources)}
            events.append(Event(t_s, "presence", "leave", data))
            self._visitor = None
            self._confident_since_s = None
            self._camera_since_s = None

        distance_m = self._distance(t_s, camera)
        return FusionUpdate(
            t_s=t_s,
            present=self._visitor is not None,
            visitor=self._visitor,
            confidence=confidence,
            sources=supporting,
            distance_m=distance_m,
            zone=self._zone,
            mode=mode,
            events=tuple(events),
            states=states,
        )

    # -- inputs ------------------------------------------------------------------------------

    def _apply(self, reading: SensorReading, t_s: float) -> None:
        sensor = self._sensors.get(reading.sensor)
        if sensor is None:
            return
        if reading.kind == ACTIVE and isinstance(reading.value, bool):
            sensor.active = reading.value
            if reading.value:
                sensor.last_active_s = t_s
            else:
                sensor.held = False
        elif reading.kind == HELD:
            sensor.held = True
            sensor.active = True
            sensor.last_active_s = t_s
        elif reading.kind == DISTANCE and isinstance(reading.value, float):
            sensor.distance_m = reading.value
            sensor.distance_s = t_s
        elif reading.kind == ERROR:
            sensor.active = False
            sensor.held = False
            sensor.distance_m = None

    def _camera(self, t_s: float, camera: CameraView) -> list[Event]:
        cfg = self.config
        events: list[Event] = []
        if camera.available != self._camera_up:
            self._camera_up = camera.available
            if camera.available:
                events.append(
                    Event(t_s, SENSOR_EVENT_KIND, "ok", {"sensor": CAMERA, "was": "disconnected"})
                )
            else:
                events.append(
                    Event(
                        t_s,
                        SENSOR_EVENT_KIND,
                        "fault",
                        {"sensor": CAMERA, "reason": "disconnected", "detail": "camera down"},
                    )
                )
        if not camera.available:
            self._camera_seen = False
            self._camera_look_s = None
        elif camera.looked:
            self._camera_seen = camera.seen
            self._camera_look_s = t_s
        elif self._camera_look_s is None or t_s - self._camera_look_s > cfg.leave_after_s:
            self._camera_seen = False
        # The camera's own visits (enter/leave hysteresis on its looks), which tell the health
        # monitor that visitors came and went.
        if camera.available and camera.looked:
            if camera.seen != self._camera_visit:
                if self._camera_visit_edge_s is None:
                    self._camera_visit_edge_s = t_s
                wait_s = cfg.enter_after_s if camera.seen else cfg.leave_after_s
                if t_s - self._camera_visit_edge_s >= wait_s:
                    self._camera_visit = camera.seen
                    self._camera_visit_edge_s = None
                    if not camera.seen:
                        self.camera_visits += 1
            else:
                self._camera_visit_edge_s = None
        return events

    # -- decisions ---------------------------------------------------------------------------

    def _states(self, t_s: float, camera: CameraView) -> dict[str, SourceState]:
        cfg = self.config
        states: dict[str, SourceState] = {}
        camera_health: HealthState = "ok" if self._camera_up else "disconnected"
        states[CAMERA] = SourceState(
            CAMERA,
            CAMERA,
            self._camera_up and self._camera_seen,
            cfg.weight(CAMERA, CAMERA),
            camera_health,
            self._camera_seen if self._camera_up else None,
        )
        for name, s in self._sensors.items():
            health = self.health.state(name)
            supports = False
            value: bool | float | None = s.active
            if s.kind == "motion":
                supports = s.active
            elif s.kind == "mat":
                supports = s.held
            elif s.kind in ("button", "light_barrier"):
                supports = s.active or (
                    s.last_active_s is not None and t_s - s.last_active_s < cfg.press_hold_s
                )
            elif s.kind == "distance":
                value = s.distance_m
                supports = self.health.value(name) == "near"
            states[name] = SourceState(
                name,
                s.kind,
                supports and health == "ok" and name not in cfg.ignore,
                cfg.weight(name, s.kind),
                health,
                value,
            )
        return states

    def _maybe_enter(
        self,
        t_s: float,
        states: Mapping[str, SourceState],
        supporting: tuple[str, ...],
        confidence: float,
        mode: Mode,
    ) -> list[Event]:
        cfg = self.config
        camera_supports = states[CAMERA].supports
        if camera_supports:
            if self._camera_since_s is None:
                self._camera_since_s = t_s
        else:
            self._camera_since_s = None
        if confidence >= cfg.enter_confidence and supporting:
            if self._confident_since_s is None:
                self._confident_since_s = t_s
        else:
            self._confident_since_s = None

        instant = any(states[name].type in _INSTANT for name in supporting)
        by_camera = (
            self._camera_since_s is not None and t_s - self._camera_since_s >= cfg.enter_after_s
        )
        by_sensors = (
            mode == "degraded"
            and cfg.camera_down == "sensors"
            and self._confident_since_s is not None
            and t_s - self._confident_since_s >= cfg.enter_after_s
        )
        if not (instant or by_camera or by_sensors):
            return []
        visitor = self._visitor = self._next_id
        self._next_id += 1
        self._camera_since_s = None
        self._confident_since_s = None
        data = {
            "visitor": visitor,
            "sources": list(supporting),
            "confidence": round(confidence, _CONFIDENCE_DECIMALS),
        }
        return [Event(t_s, "presence", "enter", data)]

    def _distance(self, t_s: float, camera: CameraView) -> float | None:
        cfg = self.config
        distance_m: float | None = None
        if camera.available and camera.looked and camera.seen and camera.distance_m is not None:
            distance_m = camera.distance_m
        else:
            for name, s in self._sensors.items():
                if (
                    s.kind != "distance"
                    or s.distance_m is None
                    or name in cfg.ignore
                    or not self.health.healthy(name)
                ):
                    continue
                if distance_m is None or s.distance_m < distance_m:
                    distance_m = s.distance_m
        if distance_m is None:
            self._zone = None
        else:
            self._zone = cast(Zone, self.health.zone(distance_m, self._zone))
        return distance_m

    def _restart_clock(self, t_s: float) -> None:
        """The clock went backwards (a looping recording): timers start again, visits stay."""
        if self._camera_since_s is not None:
            self._camera_since_s = t_s
        if self._confident_since_s is not None:
            self._confident_since_s = t_s
        if self._camera_visit_edge_s is not None:
            self._camera_visit_edge_s = t_s
        if self._camera_look_s is not None:
            self._camera_look_s = t_s
        self._last_support_s = t_s
        for s in self._sensors.values():
            if s.last_active_s is not None:
                s.last_active_s = t_s
            if s.distance_s is not None:
                s.distance_s = t_s


def _combine(weights: Iterable[float]) -> float:
    """1 - prod(1 - w): the chance that at least one independent source is right."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


def _health_event(change: HealthChange) -> Event:
    if change.state == "ok":
        return Event(
            change.t_s, SENSOR_EVENT_KIND, "ok", {"sensor": change.sensor, "was": change.previous}
        )
    return Event(
        change.t_s,
        SENSOR_EVENT_KIND,
        "fault",
        {"sensor": change.sensor, "reason": change.state, "detail": change.detail},
    )


__all__ = [
    "SENSOR_EVENT_KIND",
    "CameraView",
    "Fusion",
    "FusionUpdate",
    "Mode",
    "SourceState",
    "Zone",
]
