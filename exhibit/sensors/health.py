"""Sensor health, judged from the readings and the camera, on frame time. Pure.

Each sensor is in one of four states, checked in this order every frame:

- ``disconnected``: its last reading was an ``error`` (could not be opened, no echo), or it has
  given no reading at all for ``silent_after_s`` since the start, or -- a distance sensor, which
  reports at least once a second -- none for ``silent_after_s`` since its last. (A binary sensor
  may be quiet for hours once it has reported its first state: silence is normal for a PIR in
  an empty room.)
- ``stuck``: its state has not changed for ``stuck_after_s`` while the camera saw at least
  ``stuck_min_visits`` visitors come and go. Motion and distance sensors can be stuck either
  way (a PIR quiet through three visits is as broken as one that is always on); buttons, mats
  and light barriers only while active (one never pressed is just unused). The state of a
  distance sensor is its zone: near below ``near_m``, far above ``far_m``, unchanged between.
- ``flapping``: more than ``flapping_per_min`` changes in the last 60 s; it is ``ok`` again
  when that count falls to half.
- ``ok`` otherwise.

A stuck sensor is ``ok`` again at its next change; a disconnected one at its next good
reading. If the clock goes backwards (a looping recording) every timer starts again.

Example:
    >>> from exhibit.sensors.readings import SensorReading
    >>> h = HealthMonitor(HealthConfig(stuck_after_s=60, stuck_min_visits=2), {"pir": "motion"})
    >>> h.update(0.0, [SensorReading(0.0, "pir", "active", False)], camera_visits=0)
    []
    >>> h.update(59.0, [], camera_visits=5)
    []
    >>> [(c.sensor, c.state) for c in h.update(60.0, [], camera_visits=5)]
    [('pir', 'stuck')]
    >>> moved = [SensorReading(61.0, "pir", "active", True)]
    >>> [(c.sensor, c.state) for c in h.update(61.0, moved, camera_visits=5)]
    [('pir', 'ok')]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, SensorReading

HealthState = Literal["ok", "disconnected", "stuck", "flapping"]
HEALTH_STATES: tuple[HealthState, ...] = ("ok", "disconnected", "stuck", "flapping")
FLAP_WINDOW_S = 60.0
_STUCK_EITHER_WAY = ("motion", "distance")
_ACTIVE_WORD = {True: "active", False: "inactive"}


@dataclass(frozen=True)
class HealthConfig:
    """When a sensor counts as disconnected, stuck or flapping (module docstring).

    Example:
        >>> HealthConfig().stuck_after_s
        600.0
    """

    silent_after_s: float = 5.0
    stuck_after_s: float = 600.0
    stuck_min_visits: int = 3
    flapping_per_min: int = 20


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A sensor's health moved from ``previous`` to ``state`` at ``t_s``; ``detail`` says why
    in a technician's words.

    Example:
        >>> HealthChange(1.0, "pir", "stuck", "ok", "no change for 600 s").state
        'stuck'
    """

    t_s: float
    sensor: str
    state: HealthState
    previous: HealthState
    detail: str


@dataclass(frozen=True, slots=True)
class SensorHealth:
    """One sensor's health now: ``state`` and why (``detail``), its last state (``value``: a
    bool, ``"near"``/``"far"`` for a distance sensor, or None), when that last changed, and
    its changes in the last minute.

    Example:
        >>> SensorHealth("ok", "", True, 0.0, 1).state
        'ok'
    """

    state: HealthState
    detail: str
    value: bool | str | None
    changed_s: float | None
    changes_per_min: int


class _Track:
    def __init__(self, kind: str, t_s: float) -> None:
        self.kind = kind
        self.value: bool | str | None = None
        self.changed_s = t_s
        self.visits_at_change = 0
        self.changes: deque[float] = deque()
        self.error: str | None = None
        self.last_reading_s: float | None = None
        self.state: HealthState = "ok"
        self.detail = ""

    def restart(self, t_s: float, visits: int) -> None:
        self.changed_s = t_s
        self.visits_at_change = visits
        self.changes.clear()
        if self.last_reading_s is not None:
            self.last_reading_s = t_s


class HealthMonitor:
    """Tracks every sensor's health from its readings and the camera's count of visits.

    ``sensors`` maps names to types (``"motion"``, ``"distance"``...; other types are judged
    only on errors and silence). ``near_m``/``far_m`` give a distance sensor's zone. Feed
    ``update`` every frame, in time order, with that frame's readings and the number of visits
    the camera has seen end so far; it returns the health changes, sorted by sensor name.

    Example:
        >>> from exhibit.sensors.readings import SensorReading
        >>> h = HealthMonitor(HealthConfig(), {"range": "distance"})
        >>> h.update(0.0, [SensorReading(0.0, "range", "error", "no echo for 1 s")], 0)[0].state
        'disconnected'
    """

    def __init__(
        self,
        config: HealthConfig,
        sensors: Mapping[str, str],
        *,
        near_m: float = 1.5,
        far_m: float = 2.0,
    ) -> None:
        self.config = config
        self.near_m = near_m
        self.far_m = far_m
        self._types = dict(sensors)
        self._tracks: dict[str, _Track] = {}
        self._start_s: float | None = None
        self._last_t_s: float | None = None

    def state(self, sensor: str) -> HealthState:
        """The sensor's health after the last update (``ok`` for one never seen)."""
        track = self._tracks.get(sensor)
        return track.state if track is not None else "ok"

    def healthy(self, sensor: str) -> bool:
        return self.state(sensor) == "ok"

    def value(self, sensor: str) -> bool | str | None:
        """The sensor's last state: a bool, ``"near"``/``"far"``, or None before any."""
        track = self._tracks.get(sensor)
        return track.value if track is not None else None

    def snapshot(self) -> dict[str, SensorHealth]:
        """Every configured sensor's health now, by name."""
        result: dict[str, SensorHealth] = {}
        for name in sorted(self._types):
            track = self._tracks.get(name)
            if track is None:
                result[name] = SensorHealth("ok", "", None, None, 0)
            else:
                result[name] = SensorHealth(
                    track.state, track.detail, track.value, track.changed_s, len(track.changes)
                )
        return result

    def zone(self, distance_m: float, previous: bool | str | None) -> str:
        """``"near"`` below ``near_m``, ``"far"`` above ``far_m``, else ``previous`` (far if
        none): the hysteresis that keeps a visitor at the edge from flapping."""
        if distance_m < self.near_m:
            return "near"
        if distance_m > self.far_m:
            return "far"
        return previous if isinstance(previous, str) else "far"

    def update(
        self, t_s: float, readings: Sequence[SensorReading], camera_visits: int
    ) -> list[HealthChange]:
        if self._start_s is None:
            self._start_s = t_s
            for name, kind in self._types.items():
                new_track = self._tracks[name] = _Track(kind, t_s)
                new_track.visits_at_change = camera_visits
        if self._last_t_s is not None and t_s < self._last_t_s:
            self._start_s = t_s
            for old in self._tracks.values():
                old.restart(t_s, camera_visits)
        self._last_t_s = t_s

        for reading in readings:
            track = self._tracks.get(reading.sensor)
            if track is None:
                continue  # a sensor the config does not name
            if reading.kind == ERROR:
                track.error = str(reading.value)
                continue
            track.error = None
            track.last_reading_s = t_s
            new: bool | str | None = track.value
            if reading.kind == ACTIVE and isinstance(reading.value, bool):
                new = reading.value
            elif reading.kind == DISTANCE and isinstance(reading.value, float):
                new = self.zone(reading.value, track.value)
            if new != track.value:
                if track.value is not None:
                    track.changes.append(t_s)
                track.value = new
                track.changed_s = t_s
                track.visits_at_change = camera_visits

        changes: list[HealthChange] = []
        for name in sorted(self._tracks):
            track = self._tracks[name]
            while track.changes and track.changes[0] <= t_s - FLAP_WINDOW_S:
                track.changes.popleft()
            state, detail = self._judge(track, t_s, camera_visits)
            if state != track.state:
                changes.append(HealthChange(t_s, name, state, track.state, detail))
                track.state = state
            track.detail = detail
        return changes

    def _judge(self, track: _Track, t_s: float, visits: int) -> tuple[HealthState, str]:
        cfg = self.config
        assert self._start_s is not None
        if track.error is not None:
            return "disconnected", track.error
        if track.last_reading_s is None:
            silent_s = t_s - self._start_s
            if silent_s >= cfg.silent_after_s:
                return "disconnected", f"no reading since the start ({silent_s:.0f} s)"
        elif track.kind == "distance" and t_s - track.last_reading_s >= cfg.silent_after_s:
            return "disconnected", f"no reading for {t_s - track.last_reading_s:.0f} s"
        judged = track.kind in _STUCK_EITHER_WAY or track.value is True
        seen = visits - track.visits_at_change
        unchanged_s = t_s - track.changed_s
        if (
            track.value is not None
            and judged
            and unchanged_s >= cfg.stuck_after_s
            and seen >= cfg.stuck_min_visits
        ):
            shown = track.value if isinstance(track.value, str) else _ACTIVE_WORD[track.value]
            return "stuck", (
                f"{shown} for {unchanged_s:.0f} s while the camera saw {seen} "
                f"visitor{'' if seen == 1 else 's'} come and go"
            )
        count = len(track.changes)
        limit = cfg.flapping_per_min
        if count > limit or (track.state == "flapping" and count > limit // 2):
            return "flapping", f"{count} changes in the last minute (more than {limit})"
        return "ok", ""


__all__ = [
    "HEALTH_STATES",
    "HealthChange",
    "HealthConfig",
    "HealthMonitor",
    "HealthState",
    "SensorHealth",
]
