"""Gating: run pose inference at full rate, at a low rate, or not at all, from cheap sensors.

Pose inference is by far the largest cost per frame (``exhibit bench``). When nobody is near,
the cheap sensors can say so, and the camera can idle. Per frame, *before* inference:

- **full** (every frame) while there is activity: a fused visit is in progress, the camera saw
  a body at its last look, or a healthy wake sensor is active -- a PIR seeing motion, a
  distance sensor closer than ``far_m``, a mat or button pressed, a beam broken -- or was within
  the last ``idle_after_s``;
- any trigger among this frame's readings makes this very frame full: inference resumes
  within one frame of a PIR trigger;
- after ``idle_after_s`` without activity the camera idles: ``idle = "low"`` runs pose at
  ``low_rate_hz`` (a visitor the sensors miss is still seen within ``1 / low_rate_hz``);
  ``idle = "pause"`` runs none except a probe frame every ``probe_every_s`` (so a visitor the
  sensors miss is found eventually, and a PIR that stays quiet through such visits is found
  stuck);
- never idle without a healthy wake sensor (none configured, all faulted or ignored): the
  camera is then the only eye and stays at full rate. Faulted sensors (a PIR stuck high) do
  not keep it awake either.

Pure: the decision is a function of frame times, readings and the fusion's last update, so a
replay gives the same schedule. The runtime calls ``decide`` before inference and
``observe`` with the fusion's update after.

Example:
    >>> from exhibit.fusion.config import GatingConfig
    >>> from exhibit.sensors.readings import SensorReading
    >>> gate = InferenceGate(GatingConfig(idle_after_s=10, idle="pause", probe_every_s=0),
    ...                      {"pir": "motion"})
    >>> gate.decide(0.0, [SensorReading(0.0, "pir", "active", False)]).mode
    'full'
    >>> gate.decide(10.0, []).run_pose
    False
    >>> gate.decide(10.1, [SensorReading(10.1, "pir", "active", True)]).run_pose
    True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from exhibit.fusion.config import CAMERA, FusionConfig, GatingConfig
from exhibit.fusion.engine import FusionUpdate
from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, HELD, SensorReading

GateMode = Literal["full", "low", "pause"]
WAKE_TYPES = ("motion", "distance", "light_barrier", "mat", "button")
"""Sensor types whose activity keeps (or brings) inference at full rate."""


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Whether to run pose inference on the frame at ``t_s``: ``mode`` and why.

    Example:
        >>> GateDecision(0.0, "full", True, "start").run_pose
        True
    """

    t_s: float
    mode: GateMode
    run_pose: bool
    reason: str


class InferenceGate:
    """The gating policy (module docstring), one decision per frame.

    ``sensors``: name -> type, as for ``Fusion``. ``far_m``: a distance sensor closer than this
    is activity. ``ignore``: sensors that neither wake nor keep the camera awake.

    Example:
        >>> from exhibit.fusion.config import GatingConfig
        >>> gate = InferenceGate(GatingConfig(idle_after_s=1.0, low_rate_hz=2.0), {"pir": "motion"})
        >>> runs = [t / 10 for t in range(26) if gate.decide(t / 10, []).run_pose]  # 10 fps
        >>> runs[8:]  # every frame for 1 s, then 2 a second
        [0.8, 0.9, 1.0, 1.5, 2.0, 2.5]
    """

    def __init__(
        self,
        config: GatingConfig,
        sensors: Mapping[str, str],
        *,
        far_m: float = 2.0,
        ignore: Collection[str] = (),
    ) -> None:
        self.config = config
        self.far_m = far_m
        self._wake = {
            name: kind
            for name, kind in sensors.items()
            if kind in WAKE_TYPES and name not in ignore
        }
        self._active: dict[str, bool] = dict.fromkeys(self._wake, False)
        self._distance_m: dict[str, float | None] = dict.fromkeys(self._wake, None)
        self._healthy: set[str] = set(self._wake)
        self._present = False
        self._camera_seen = False
        self._last_activity_s: float | None = None
        self._why = "start"
        self._next_low_s: float | None = None
        self._last_run_s: float | None = None
        self._last_t_s: float | None = None

    @classmethod
    def for_fusion(cls, config: FusionConfig, sensors: Mapping[str, str]) -> InferenceGate:
        """The gate a ``[fusion]`` section describes."""
        return cls(config.gating, sensors, far_m=config.far_m, ignore=config.ignore)

    def observe(self, update: FusionUpdate) -> None:
        """Take the fusion's view of this frame: visit, camera, and which sensors are healthy."""
        self._present = update.present
        camera = update.states.get(CAMERA)
        self._camera_seen = camera is not None and camera.supports
        self._healthy = {
            name
            for name in self._wake
            if name not in update.states or update.states[name].health == "ok"
        }

    def decide(self, t_s: float, readings: Sequence[SensorReading]) -> GateDecision:
        cfg = self.config
        if self._last_t_s is not None and t_s < self._last_t_s:
            self._last_activity_s = t_s  # the clock went backwards: start again, awake
            self._next_low_s = None
            self._last_run_s = None
        self._last_t_s = t_s
        if self._last_activity_s is None:
            self._last_activity_s = t_s

        trigger: str | None = None
        for reading in readings:
            name = reading.sensor
            if name not in self._wake:
                continue
            if reading.kind in (ACTIVE, HELD):
                active = reading.value is True or reading.kind == HELD
                self._active[name] = active
                if active and name in self._healthy:
                    trigger = trigger or name
            elif reading.kind == DISTANCE and isinstance(reading.value, float):
                self._distance_m[name] = reading.value
                if reading.value < self.far_m and name in self._healthy:
                    trigger = trigger or name
            elif reading.kind == ERROR:
                self._active[name] = False
                self._distance_m[name] = None

        why = self._activity(trigger)
        if why is not None:
            self._last_activity_s = t_s
            self._why = why
        if not cfg.enabled:
            return self._run(t_s, "full", "gating is off")
        if not self._healthy:
            return self._run(t_s, "full", "no healthy wake sensor")
        if trigger is not None:
            return self._run(t_s, "full", f"{trigger} triggered")
        idle_s = t_s - self._last_activity_s
        if idle_s < cfg.idle_after_s:
            reason = self._why if why is not None else f"{self._why} {idle_s:.1f} s ago"
            return self._run(t_s, "full", reason)
        quiet = f"no activity for {idle_s:.1f} s"
        if cfg.idle == "low":
            period_s = 1.0 / cfg.low_rate_hz
            due = self._next_low_s
            run = due is None or t_s >= due
            if run:
                # Stay on a fixed grid so the rate does not drift with frame jitter.
                on_grid = due is not None and t_s - due <= period_s
                self._next_low_s = (due if on_grid and due is not None else t_s) + period_s
            return self._decision(t_s, "low", run, quiet)
        probe = cfg.probe_every_s > 0 and (
            self._last_run_s is None or t_s - self._last_run_s >= cfg.probe_every_s
        )
        return self._decision(t_s, "pause", probe, quiet + (" (probe)" if probe else ""))

    def _activity(self, trigger: str | None) -> str | None:
        if trigger is not None:
            return f"{trigger} triggered"
        if self._present:
            return "visitor present"
        if self._camera_seen:
            return "camera sees a body"
        for name in sorted(self._healthy):
            if self._active.get(name):
                return f"{name} active"
            distance_m = self._distance_m.get(name)
            if distance_m is not None and distance_m < self.far_m:
                return f"{name} at {distance_m:.2f} m"
        return None

    def _run(self, t_s: float, mode: GateMode, reason: str) -> GateDecision:
        self._next_low_s = None
        return self._decision(t_s, mode, True, reason)

    def _decision(self, t_s: float, mode: GateMode, run: bool, reason: str) -> GateDecision:
        if run:
            self._last_run_s = t_s
        return GateDecision(t_s, mode, run, reason)


__all__ = ["WAKE_TYPES", "GateDecision", "GateMode", "InferenceGate"]
