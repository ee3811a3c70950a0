"""Fusion, sensor health and gating: ``[fusion]`` validation, scripted scenarios with synthetic
readings, hypothesis properties, replay determinism, and the gating bench on a short day.

Scenarios run at a fixed frame rate on exact frame times (``k / fps``); readings are handed to
the frame at which they arrive, as the runtime's ``SensorBank.poll()`` would.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.checker import Checker
from exhibit.events import Event
from exhibit.fusion.bench import run_gating_bench, scripted_day, simulate
from exhibit.fusion.config import FusionConfig, GatingConfig, parse_fusion
from exhibit.fusion.engine import SENSOR_EVENT_KIND, CameraView, Fusion, FusionUpdate
from exhibit.fusion.gating import GateDecision, InferenceGate
from exhibit.sensors.health import HealthConfig
from exhibit.sensors.readings import SensorReading, decode_reading, encode_reading

SEEN = CameraView(seen=True)
EMPTY = CameraView(seen=False)
DOWN = CameraView(available=False, looked=False)


def active(t: float, sensor: str, value: bool) -> SensorReading:
    return SensorReading(t, sensor, "active", value)


def distance(t: float, sensor: str, metres: float) -> SensorReading:
    return SensorReading(t, sensor, "distance", metres)


@dataclass
class Run:
    """Drives a ``Fusion`` (and optionally an ``InferenceGate``) frame by frame."""

    fusion: Fusion
    gate: InferenceGate | None = None
    fps: int = 10
    frame: int = 0
    pending: list[SensorReading] = field(default_factory=list)
    heartbeats: dict[str, float] = field(default_factory=dict)  # distance sensor -> metres
    events: list[Event] = field(default_factory=list)
    updates: list[FusionUpdate] = field(default_factory=list)
    decisions: list[GateDecision] = field(default_factory=list)

    @property
    def t(self) -> float:
        return self.frame / self.fps

    def read(self, *readings: SensorReading) -> None:
        """Readings that arrive with the next frame."""
        self.pending += readings

    def until(self, t_s: float, camera: CameraView = EMPTY) -> list[Event]:
        """Frames up to but not including ``t_s``, all with the same camera view."""
        new: list[Event] = []
        while self.t < t_s - 1e-9:
            t = self.t
            batch, self.pending = self.pending, []
            if self.frame % self.fps == 0:  # distance sensors report once a second
                batch += [distance(t, name, m) for name, m in self.heartbeats.items()]
            view = camera
            if self.gate is not None:
                decision = self.gate.decide(t, batch)
                self.decisions.append(decision)
                if not decision.run_pose and camera.available:
                    view = CameraView(looked=False)
            update = self.fusion.update(t, view, batch)
            if self.gate is not None:
                self.gate.observe(update)
            self.updates.append(update)
            new += update.events
            self.frame += 1
        self.events += new
        return new


def is_sensor(event: Event) -> bool:
    return event.kind == SENSOR_EVENT_KIND


def names(events: Iterable[Event]) -> list[tuple[float, str]]:
    return [(e.t_s, f"{e.kind}.{e.name}") for e in events]


# -- [fusion] ---------------------------------------------------------------------------------


def test_a_full_fusion_section_parses() -> None:
    c = Checker()
    table = {
        "enter_after_s": 1.0,
        "leave_after_s": 4,
        "enter_confidence": 0.6,
        "near_m": 1.2,
        "far_m": 1.8,
        "press_hold_s": 5,
        "camera_down": "wait",
        "ignore": ["gate"],
        "confidence": {"camera": 0.95, "motion": 0.3, "range": 0.8},
        "health": {"silent_after_s": 3, "stuck_after_s": 900, "stuck_min_visits": 2},
        "gating": {"idle": "pause", "idle_after_s": 30, "probe_every_s": 0},
    }
    cfg = parse_fusion(table, "fusion", c, ["gate", "pir", "range"])
    assert c.problems == []
    assert (cfg.enter_after_s, cfg.leave_after_s, cfg.near_m, cfg.far_m) == (1.0, 4.0, 1.2, 1.8)
    assert (cfg.camera_down, cfg.ignore, cfg.press_hold_s) == ("wait", ("gate",), 5.0)
    assert cfg.weight("range", "distance") == 0.8
    assert cfg.weight("other", "distance") == 0.7
    assert cfg.weight("pir", "motion") == 0.3
    assert cfg.health == HealthConfig(3.0, 900.0, 2, 20)
    assert cfg.gating == GatingConfig(True, 30.0, "pause", 2.0, 0.0)
    assert parse_fusion({}, "fusion", Checker(), []) == FusionConfig()


def test_fusion_errors_name_the_key_and_the_likely_fix() -> None:
    c = Checker()
    table = {
        "leave_afer_s": 3,
        "near_m": 2.0,
        "far_m": 1.5,
        "camera_down": "sensor",
        "ignore": ["gaet", 3],
        "confidence": {"motoin": 0.5, "pir": 1.5},
        "health": {"stuck_after": 60, "stuck_min_visits": 0},
        "gating": {"idle": "paus", "low_rate_hz": 0},
    }
    parse_fusion(table, "fusion", c, ["gate", "pir"])
    assert c.problems == [
        "fusion.leave_afer_s: unknown key; expected one of camera_down, confidence, "
        "enter_after_s, enter_confidence, far_m, gating, health, ignore, leave_after_s, near_m, "
        'press_hold_s; did you mean "leave_after_s"?',
        "fusion.far_m: closer than near_m (2) (got 1.5); expected a distance >= 2 (the band in "
        "between keeps the last zone)",
        'fusion.camera_down: not one of the choices (got "sensor"); expected one of "sensors", '
        '"wait"; did you mean "sensors"?',
        'fusion.ignore[0]: unknown sensor (got "gaet"); expected one of "gate", "pir"; did you '
        'mean "gate"?',
        'fusion.ignore[1]: unknown sensor (got 3); expected one of "gate", "pir"',
        "fusion.confidence.motoin: not a source type or sensor name; expected one of camera, "
        'motion, button, mat, distance, light_barrier, gate, pir; did you mean "motion"?',
        "fusion.confidence.pir: out of range (got 1.5); expected a value >= 0 and <= 1",
        "fusion.health.stuck_after: unknown key; expected one of flapping_per_min, "
        'silent_after_s, stuck_after_s, stuck_min_visits; did you mean "stuck_after_s"?',
        "fusion.health.stuck_min_visits: out of range (got 0); expected a value >= 1 and <= 10000",
        'fusion.gating.idle: not one of the choices (got "paus"); expected one of "low", '
        '"pause"; did you mean "pause"?',
        "fusion.gating.low_rate_hz: out of range (got 0); expected a value > 0 and <= 120",
    ]


# -- presence ---------------------------------------------------------------------------------


def test_the_pir_holds_presence_while_the_camera_loses_the_visitor_for_3_s() -> None:
    cfg = FusionConfig(enter_after_s=0.5, leave_after_s=2.0)
    run = Run(Fusion(cfg, {"pir": "motion"}))
    run.read(active(0.0, "pir", False))
    assert names(run.until(1.0, SEEN)) == [(0.5, "presence.enter")]
    run.read(active(1.0, "pir", True))  # the visitor moves
    run.until(5.0, SEEN)
    assert run.until(8.0, EMPTY) == []  # camera lost the visitor for 3 s: no leave
    assert run.until(10.0, SEEN) == []
    run.read(active(10.0, "pir", False))  # the PIR falls quiet, the camera sees nobody
    leave = run.until(13.0, EMPTY)
    assert names(leave) == [(11.9, "presence.leave")]  # 2 s after the last support (9.9)
    assert leave[0].data == {"visitor": 1, "sources": ["camera", "pir"]}

    # The camera alone would have ended the visit during the dropout.
    alone = Run(Fusion(cfg, {}))
    alone.until(5.0, SEEN)
    assert names(alone.until(8.0, EMPTY)) == [(6.9, "presence.leave")]


def test_an_enter_names_its_sources_and_confidence() -> None:
    run = Run(Fusion(FusionConfig(enter_after_s=0.5), {"pir": "motion", "range": "distance"}))
    run.read(active(0.0, "pir", True), distance(0.0, "range", 1.0))
    (enter,) = run.until(1.0, SEEN)
    assert enter.to_json() == (
        '{"t":0.5,"kind":"presence","name":"enter","confidence":0.982,'
        '"sources":["camera","pir","range"],"visitor":1}'
    )
    update = run.updates[-1]
    assert update.present and update.visitor == 1
    assert update.sources == ("camera", "pir", "range")
    assert update.mode == "normal"


def test_with_the_camera_up_the_cheap_sensors_do_not_start_a_visit() -> None:
    run = Run(Fusion(FusionConfig(), {"pir": "motion", "range": "distance"}))
    run.read(active(0.0, "pir", True), distance(0.0, "range", 1.0))
    assert run.until(5.0, EMPTY) == []  # a passer-by: PIR and sonar, but no body in the area
    assert run.updates[-1].confidence > 0.8


def test_camera_unplugged_the_show_goes_on_with_distance_mat_and_button() -> None:
    sensors = {"mat": "mat", "start": "button", "range": "distance"}
    run = Run(Fusion(FusionConfig(enter_after_s=0.5, leave_after_s=3.0), sensors))
    run.heartbeats["range"] = 2.9
    run.read(active(0.0, "mat", False), active(0.0, "start", False))
    events = run.until(1.0, DOWN)
    assert [(e.t_s, e.name, e.data) for e in events] == [
        (0.0, "fault", {"sensor": "camera", "reason": "disconnected", "detail": "camera down"})
    ]
    assert run.updates[-1].mode == "degraded"

    run.heartbeats["range"] = 1.0  # someone walks up to the exhibit
    enter = run.until(3.0, DOWN)
    assert [(e.t_s, e.name, e.data.get("sources")) for e in enter] == [(1.5, "enter", ["range"])]
    assert run.updates[-1].distance_m == 1.0 and run.updates[-1].zone == "near"
    run.heartbeats["range"] = 2.9
    assert names(run.until(8.0, DOWN)) == [(5.9, "presence.leave")]  # near until 2.9

    run.read(SensorReading(8.0, "mat", "held", 0.5))  # stood on the mat: at once
    assert [(e.t_s, e.name, e.data["sources"]) for e in run.until(9.0, DOWN)] == [
        (8.0, "enter", ["mat"])
    ]
    run.read(active(9.0, "mat", False))
    assert names(run.until(14.0, DOWN)) == [(11.9, "presence.leave")]

    run.read(active(14.0, "start", True))  # a button press: at once, and for press_hold_s
    run.read(active(14.2, "start", False))
    assert [(e.t_s, e.name, e.data["sources"]) for e in run.until(15.0, DOWN)] == [
        (14.0, "enter", ["start"])
    ]
    assert names(run.until(30.0, DOWN)) == [(26.9, "presence.leave")]  # 14 + 10 (-0.1) + 3

    back = run.until(31.0, EMPTY)
    assert [(e.name, e.data) for e in back] == [("ok", {"sensor": "camera", "was": "disconnected"})]


def test_camera_down_wait_starts_visits_only_from_a_mat_or_button() -> None:
    cfg = FusionConfig(camera_down="wait")
    run = Run(Fusion(cfg, {"mat": "mat", "range": "distance"}))
    run.heartbeats["range"] = 1.0
    run.read(active(0.0, "mat", False))
    assert names(run.until(3.0, DOWN)) == [(0.0, "sensor.fault")]
    run.read(SensorReading(3.0, "mat", "held", 0.5))
    assert names(run.until(4.0, DOWN)) == [(3.0, "presence.enter")]


def test_a_distance_sensor_decides_near_and_far_with_hysteresis() -> None:
    fusion = Fusion(FusionConfig(near_m=1.5, far_m=2.0), {"range": "distance"})
    zones = []
    for t, metres in enumerate([2.5, 1.7, 1.2, 1.8, 1.99, 2.2, 1.6]):
        update = fusion.update(float(t), EMPTY, [distance(float(t), "range", metres)])
        zones.append((update.distance_m, update.zone))
    assert zones == [
        (2.5, "far"),
        (1.7, "far"),
        (1.2, "near"),
        (1.8, "near"),
        (1.99, "near"),
        (2.2, "far"),
        (1.6, "far"),
    ]
    # A depth camera that sees the visitor wins over the sonar.
    update = fusion.update(7.0, CameraView(seen=True, distance_m=0.9), [])
    assert (update.distance_m, update.zone) == (0.9, "near")


def test_an_ignored_sensor_never_supports_presence_but_is_health_checked() -> None:
    run = Run(Fusion(FusionConfig(ignore=("mat",)), {"mat": "mat"}))
    run.read(active(0.0, "mat", True), SensorReading(0.1, "mat", "held", 0.5))
    assert run.until(1.0, EMPTY) == []
    assert run.updates[-1].states["mat"].supports is False
    run.read(SensorReading(1.0, "mat", "error", "cannot be opened: GPIOPinInUse"))
    assert [e.data["reason"] for e in run.until(2.0, EMPTY)] == ["disconnected"]


# -- health -----------------------------------------------------------------------------------


def camera_visits(run: Run, spans: Sequence[tuple[float, float]], end_s: float) -> None:
    """The camera sees visitors in each (arrive, leave) span and nobody in between."""
    for arrive, leave in spans:
        run.until(arrive, EMPTY)
        run.until(leave, SEEN)
    run.until(end_s, EMPTY)


def test_a_pir_that_never_changes_is_stuck_then_ok_after_it_changes() -> None:
    health = HealthConfig(stuck_after_s=60.0, stuck_min_visits=3)
    run = Run(Fusion(FusionConfig(leave_after_s=2.0, health=health), {"pir": "motion"}))
    run.read(active(0.0, "pir", False))
    camera_visits(run, [(5, 15), (25, 35), (45, 55)], 70.0)  # the PIR never notices
    faults = [e for e in run.events if is_sensor(e)]
    assert [(e.t_s, e.name, e.data) for e in faults] == [
        (
            60.0,
            "fault",
            {
                "sensor": "pir",
                "reason": "stuck",
                "detail": "inactive for 60 s while the camera saw 3 visitors come and go",
            },
        )
    ]
    assert run.updates[-1].states["pir"].health == "stuck"
    run.read(active(70.0, "pir", True))
    assert [(e.t_s, e.name, e.data) for e in run.until(71.0)] == [
        (70.0, "ok", {"sensor": "pir", "was": "stuck"})
    ]


def test_a_pir_stuck_high_holds_the_visit_only_until_it_is_found_stuck() -> None:
    health = HealthConfig(stuck_after_s=60.0, stuck_min_visits=2)
    run = Run(Fusion(FusionConfig(leave_after_s=2.0, health=health), {"pir": "motion"}))
    run.read(active(0.0, "pir", True))
    camera_visits(run, [(5, 15), (25, 35)], 70.0)
    assert names(run.events) == [
        (5.5, "presence.enter"),
        (60.0, "sensor.fault"),  # the PIR held the visit past both leaves, until found stuck
        (61.9, "presence.leave"),
    ]


def test_a_bad_reading_disconnects_and_the_next_good_one_reconnects() -> None:
    run = Run(Fusion(FusionConfig(), {"range": "distance", "pir": "motion", "mute": "motion"}))
    run.heartbeats["range"] = 2.5
    run.read(active(0.0, "pir", False))
    run.until(2.0)
    run.read(SensorReading(2.0, "range", "error", "no echo for 1 s"))
    del run.heartbeats["range"]
    events = run.until(10.0)
    assert [(e.t_s, e.name, e.data) for e in events] == [
        (2.0, "fault", {"sensor": "range", "reason": "disconnected", "detail": "no echo for 1 s"}),
        (
            5.0,
            "fault",
            {
                "sensor": "mute",
                "reason": "disconnected",
                "detail": "no reading since the start (5 s)",
            },
        ),
    ]
    run.heartbeats["range"] = 2.5
    assert [(e.t_s, e.data) for e in run.until(11.0)] == [
        (10.0, {"sensor": "range", "was": "disconnected"})
    ]
    run.heartbeats.clear()  # the distance sensor falls silent
    assert [(e.t_s, e.data["detail"]) for e in run.until(20.0)] == [(15.0, "no reading for 5 s")]


def test_a_flapping_sensor_is_flagged_and_cleared_when_it_calms_down() -> None:
    run = Run(
        Fusion(FusionConfig(health=HealthConfig(flapping_per_min=10)), {"gate": "light_barrier"})
    )
    for i in range(12):  # 12 changes in 12 s
        run.read(active(float(i), "gate", i % 2 == 0))
        run.until(i + 1.0)
    faults = [(e.t_s, e.name, e.data.get("reason")) for e in run.events if is_sensor(e)]
    assert faults == [(11.0, "fault", "flapping")]  # the 11th change (the first is its state)
    run.until(70.0)  # quiet: changes age out of the minute window
    assert [(e.t_s, e.name) for e in run.events if is_sensor(e)][-1] == (66.0, "ok")


# -- gating -----------------------------------------------------------------------------------


def test_gating_pauses_an_empty_scene_and_resumes_within_one_frame_of_a_pir_trigger() -> None:
    cfg = FusionConfig(gating=GatingConfig(idle_after_s=5.0, idle="pause", probe_every_s=0.0))
    sensors = {"pir": "motion", "range": "distance"}
    run = Run(Fusion(cfg, sensors), InferenceGate.for_fusion(cfg, sensors), fps=30)
    run.heartbeats["range"] = 2.9
    run.read(active(0.0, "pir", False))
    run.until(10.0)
    runs = [d.run_pose for d in run.decisions]
    assert all(runs[:150]) and not any(runs[150:])  # full for 5 s, then paused
    assert run.decisions[-1].mode == "pause"
    assert run.decisions[-1].reason.startswith("no activity for")

    run.read(active(10.0, "pir", True))  # a visitor walks up
    run.until(12.0, SEEN)
    trigger = run.decisions[300]
    assert (trigger.t_s, trigger.mode, trigger.run_pose) == (10.0, "full", True)
    assert trigger.reason == "pir triggered"
    assert all(d.run_pose for d in run.decisions[300:])
    assert names(e for e in run.events if e.kind == "presence") == [(10.5, "presence.enter")]


def test_low_rate_idling_and_pause_probes_still_look() -> None:
    sensors = {"pir": "motion"}
    low = InferenceGate(GatingConfig(idle_after_s=1.0, idle="low", low_rate_hz=2.0), sensors)
    ran = [t / 10 for t in range(40) if low.decide(t / 10, []).run_pose]
    assert ran[10:] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    pause = InferenceGate(GatingConfig(idle_after_s=1.0, idle="pause", probe_every_s=2.0), sensors)
    ran = [t / 10 for t in range(60) if pause.decide(t / 10, []).run_pose]
    assert ran[10:] == [2.9, 4.9]  # a probe 2 s after the last look


def test_gating_never_idles_without_a_healthy_wake_sensor() -> None:
    gate = InferenceGate(GatingConfig(idle_after_s=1.0, idle="pause", probe_every_s=0), {})
    assert all(gate.decide(t / 10, []).run_pose for t in range(100))
    assert gate.decide(10.0, []).reason == "no healthy wake sensor"
    off = InferenceGate(GatingConfig(enabled=False), {"pir": "motion"})
    assert off.decide(100.0, []).reason == "gating is off"

    # A PIR stuck high keeps the camera awake only until the fusion finds it stuck.
    health = HealthConfig(stuck_after_s=30.0, stuck_min_visits=1)
    cfg = FusionConfig(
        leave_after_s=2.0,
        health=health,
        gating=GatingConfig(idle_after_s=5.0, idle="pause", probe_every_s=0.0),
    )
    sensors = {"pir": "motion", "range": "distance"}
    run = Run(Fusion(cfg, sensors), InferenceGate.for_fusion(cfg, sensors))
    run.heartbeats["range"] = 2.9
    run.read(active(0.0, "pir", True))
    run.until(5.0)
    run.heartbeats["range"] = 1.0  # the sonar sees the visitor (and so stays healthy)
    run.until(10.0, SEEN)
    run.until(12.0)
    run.heartbeats["range"] = 2.9
    run.until(40.0)
    assert run.decisions[299].mode == "full"  # t = 29.9: the PIR's "activity" still counts
    assert [(e.t_s, e.data) for e in run.events if is_sensor(e)] == [
        (
            30.0,
            {
                "sensor": "pir",
                "reason": "stuck",
                "detail": "active for 30 s while the camera saw 1 visitor come and go",
            },
        )
    ]
    assert run.decisions[-1].mode == "pause"  # t = 39.9: idle since the fault at 30 (+5 s)


# -- replay -----------------------------------------------------------------------------------


def random_script(
    seed: int, seconds: float = 120.0, fps: int = 15
) -> list[tuple[float, CameraView, list[SensorReading]]]:
    rng = random.Random(seed)
    script = []
    for k in range(int(seconds * fps)):
        t = k / fps
        readings: list[SensorReading] = []
        if rng.random() < 0.05:
            readings.append(active(t, "pir", rng.random() < 0.5))
        if k % fps == 0:
            readings.append(distance(t, "range", round(rng.uniform(0.5, 3.0), 3)))
        if rng.random() < 0.01:
            readings.append(SensorReading(t, "mat", "held", 0.5))
        if rng.random() < 0.01:
            readings.append(active(t, "mat", False))
        view = CameraView(available=rng.random() > 0.01, seen=rng.random() < 0.4)
        script.append((t, view, readings))
    return script


def replay(script: Sequence[tuple[float, CameraView, list[SensorReading]]]) -> list[str]:
    cfg = FusionConfig(health=HealthConfig(stuck_after_s=20.0, stuck_min_visits=1))
    sensors = {"pir": "motion", "range": "distance", "mat": "mat"}
    fusion = Fusion(cfg, sensors)
    gate = InferenceGate.for_fusion(cfg, sensors)
    lines = []
    for t, view, readings in script:
        decision = gate.decide(t, readings)
        if not decision.run_pose and view.available:
            view = CameraView(looked=False)
        update = fusion.update(t, view, readings)
        gate.observe(update)
        lines.append(f"{decision.mode} {decision.run_pose} {update.confidence:.6f}")
        lines += [e.to_json() for e in update.events]
    return lines


def test_replay_is_deterministic_including_through_the_recording_form() -> None:
    script = random_script(seed=7)
    first = replay(script)
    assert first == replay(script)
    recorded = [
        (t, view, [decode_reading(json.loads(json.dumps(encode_reading(r)))) for r in readings])
        for t, view, readings in script
    ]
    assert replay(recorded) == first
    assert any('"kind":"presence"' in line for line in first)
    assert any('"kind":"sensor"' in line for line in first)


# -- properties -------------------------------------------------------------------------------

SENSORS = {
    "pir": "motion",
    "mat": "mat",
    "start": "button",
    "range": "distance",
    "gate": "light_barrier",
}
readings_st = st.lists(
    st.one_of(
        st.builds(lambda s, v: ("active", s, v), st.sampled_from(sorted(SENSORS)), st.booleans()),
        st.builds(lambda s: ("held", s, 0.5), st.sampled_from(["mat", "start"])),
        st.builds(lambda m: ("distance", "range", m), st.floats(0.0, 3.0)),
        st.builds(lambda s: ("error", s, "broken"), st.sampled_from(sorted(SENSORS))),
    ),
    max_size=3,
)
frame_st = st.tuples(
    st.floats(0.01, 2.0),  # time since the previous frame
    st.booleans(),  # camera available
    st.booleans(),  # looked
    st.booleans(),  # seen
    readings_st,
)


@settings(max_examples=150, deadline=None)
@given(
    frames=st.lists(frame_st, min_size=1, max_size=80),
    camera_down=st.sampled_from(["sensors", "wait"]),
    enter_after_s=st.sampled_from([0.0, 0.5, 2.0]),
)
def test_fused_presence_never_enters_without_a_supporting_healthy_source(
    frames: list[tuple[float, bool, bool, bool, list[tuple[str, str, object]]]],
    camera_down: str,
    enter_after_s: float,
) -> None:
    cfg = FusionConfig(
        enter_after_s=enter_after_s,
        camera_down="sensors" if camera_down == "sensors" else "wait",
        health=HealthConfig(
            silent_after_s=3.0, stuck_after_s=5.0, stuck_min_visits=1, flapping_per_min=5
        ),
    )
    fusion = Fusion(cfg, SENSORS)
    t = 0.0
    for dt, available, looked, seen, raw in frames:
        t += dt
        readings = [SensorReading(t, s, kind, v) for kind, s, v in raw]  # type: ignore[arg-type]
        update = fusion.update(t, CameraView(available, looked, seen), readings)
        for event in update.events:
            if event.kind == "presence" and event.name == "enter":
                assert event.data["sources"], "an enter with no source"
                assert tuple(event.data["sources"]) == update.sources
                for name in event.data["sources"]:
                    state = update.states[name]
                    assert state.supports and state.health == "ok"
            if event.kind == "presence" and event.name == "leave":
                assert update.sources == ()


@settings(max_examples=60, deadline=None)
@given(
    stuck_after_s=st.integers(10, 120),
    min_visits=st.integers(1, 4),
    pir_high=st.booleans(),
    visits=st.lists(st.tuples(st.integers(3, 20), st.integers(2, 20)), min_size=0, max_size=6),
)
def test_a_sensor_that_never_changes_is_stuck_after_the_configured_time_and_visits(
    stuck_after_s: int, min_visits: int, pir_high: bool, visits: list[tuple[int, int]]
) -> None:
    leave_after_s = 2.0
    health = HealthConfig(stuck_after_s=float(stuck_after_s), stuck_min_visits=min_visits)
    cfg = FusionConfig(enter_after_s=0.5, leave_after_s=leave_after_s, health=health)
    run = Run(Fusion(cfg, {"pir": "motion"}), fps=2)
    run.read(active(0.0, "pir", pir_high))
    spans = []
    t = 0.0
    for gap_s, stay_s in visits:
        spans.append((t + gap_s, t + gap_s + stay_s))
        t += gap_s + stay_s
    end_s = max(t + 10.0, stuck_after_s + 10.0)
    camera_visits(run, spans, end_s)
    # The camera counts a visit when it has seen nobody for leave_after_s.
    ends = [leave + leave_after_s for _, leave in spans]
    expected = None
    if len(ends) >= min_visits:
        expected = max(float(stuck_after_s), ends[min_visits - 1])
    faults = [e for e in run.events if is_sensor(e)]
    if expected is None or expected >= end_s:
        assert faults == []
    else:
        assert [(e.t_s, e.name, e.data["reason"]) for e in faults] == [(expected, "fault", "stuck")]


@settings(max_examples=60, deadline=None)
@given(changes=st.integers(1, 40), limit=st.integers(1, 30))
def test_flapping_is_detected_exactly_above_the_limit(changes: int, limit: int) -> None:
    cfg = FusionConfig(health=HealthConfig(flapping_per_min=limit))
    fusion = Fusion(cfg, {"pir": "motion"})
    fusion.update(0.0, EMPTY, [active(0.0, "pir", False)])
    flagged = False
    for i in range(1, changes + 1):
        t = i * 50.0 / changes  # all inside one minute
        update = fusion.update(t, EMPTY, [active(t, "pir", i % 2 == 1)])
        flagged |= any(e.data.get("reason") == "flapping" for e in update.events)
    assert flagged == (changes > limit)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_readings_give_the_same_events(seed: int) -> None:
    script = random_script(seed, seconds=30.0)
    assert replay(script) == replay(script)


# -- the bench --------------------------------------------------------------------------------


def test_the_gating_bench_saves_cpu_and_finds_every_visit_on_a_short_day() -> None:
    day = scripted_day(hours=0.5, seed=3)
    assert day.visits
    cfg = FusionConfig()
    pause = simulate(day, 15.0, replace(cfg, gating=replace(cfg.gating, idle="pause")))
    assert pause.visits_found == pause.visits
    assert pause.false_visits == 0
    assert pause.pose_frames < pause.frames / 2
    assert pause.latency_max_s < 1.5  # PIR at +0.3 s, then enter_after_s

    out = io.StringIO()
    result = run_gating_bench(hours=0.5, fps=15.0, seed=3, inference_ms=30.0, out=out)
    for mode in ("low", "pause"):
        assert 0.0 < result["modes"][mode]["cpu_ratio"] < 1.0
    assert result["modes"]["pause"]["cpu_ratio"] <= result["modes"]["low"]["cpu_ratio"]
    text = out.getvalue()
    assert "CPU ratio gated/ungated" in text
    assert "mediapipe inference: 30.000 ms/frame" in text
