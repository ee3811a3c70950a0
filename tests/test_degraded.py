"""The camera fails and the show goes on with the sensors; gated frames say nobody looked.

Frames here are what the live sources produce: ``camera_ok=False`` frames made by the clock
while the camera gives no image, ``pose_ran=False`` frames when sensor gating skipped pose
inference, each carrying the sensor readings of its moment.
"""

from __future__ import annotations

import time
from pathlib import Path

from exhibit.config.load import loads
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.format import decode_frame, encode_frame
from exhibit.sensors.readings import SensorReading
from exhibit.skeleton import Frame
from exhibit.synth.script import scripted_visitor

SHOW = """
[sensors]
mat = { type = "mat", pin = 22 }
pir = { type = "motion", pin = 4 }
[fusion]
enter_after_s = 0.5
leave_after_s = 2.0
[show]
initial = "attract"
any_state = [{ on = "presence.leave", to = "attract" }]
[show.states.attract]
transitions = [{ on = "presence.enter", to = "welcome" }]
[show.states.welcome]
transitions = [{ after = "5s", to = "explain" }]
[show.states.explain]
"""


def run(frames: list[Frame]) -> list[Event]:
    pipeline = Pipeline(loads(SHOW))
    events: list[Event] = []
    for frame in frames:
        events += pipeline.step(frame)
    return events


def camera_down(t0_s: float, seconds: float, readings: dict[float, SensorReading]) -> list[Frame]:
    """Clock frames at 2 Hz with no image, carrying the readings given by time."""
    frames = []
    for i in range(int(seconds * 2)):
        t = round(t0_s + i / 2, 6)
        sensors = tuple(r for when, r in readings.items() if t - 0.5 < when <= t)
        frames.append(Frame(t, i, 640, 480, sensors=sensors, camera_ok=False))
    return frames


def test_with_the_camera_down_a_mat_starts_and_ends_the_visit() -> None:
    initial = [
        SensorReading(0.0, "mat", "active", False),
        SensorReading(0.0, "pir", "active", False),
    ]
    readings = {
        0.0: initial[0],
        0.01: initial[1],
        3.0: SensorReading(3.0, "mat", "held", True),
        12.0: SensorReading(12.0, "mat", "active", False),
    }
    events = run(camera_down(0.0, 20.0, readings))
    story = [(e.kind, e.name) for e in events if e.kind in ("presence", "state", "sensor")]
    assert ("sensor", "fault") in story  # the camera is reported down
    assert story.index(("presence", "enter")) < story.index(("state", "welcome"))
    assert ("state", "explain") in story  # the timer ran: the show went on
    assert story[-2:] == [("presence", "leave"), ("state", "attract")]
    enter = next(e for e in events if e.kind == "presence" and e.name == "enter")
    assert enter.data["sources"] == ["mat"]


def test_gated_frames_do_not_end_a_visit() -> None:
    frames = scripted_visitor(fps=10.0)
    # From 8 s to 14 s pose inference is gated off (as if nobody were near): the camera did
    # not look, so the visit in progress holds; the PIR says someone is there.
    gated = [
        Frame(f.t_s, f.index, f.width_px, f.height_px, pose_ran=False) if 8.0 <= f.t_s < 14.0 else f
        for f in frames
    ]
    pir = SensorReading(0.0, "pir", "active", True)
    mat = SensorReading(0.0, "mat", "active", False)
    gated[0] = Frame(0.0, 0, 640, 480, sensors=(pir, mat))
    quiet = next(i for i, f in enumerate(gated) if f.t_s >= 26.0)  # the visitor has gone
    f = gated[quiet]
    gated[quiet] = Frame(f.t_s, f.index, 640, 480, f.skeletons, (replace_t(pir, f.t_s, False),))
    story = [(e.kind, e.name, round(e.t_s, 1)) for e in run(gated) if e.kind == "presence"]
    assert [k for k in story if k[1] == "leave"] == [("presence", "leave", story[-1][2])]
    assert story[-1][2] > 20.0  # the only leave is the real one, after the visitor walks out


def replace_t(reading: SensorReading, t_s: float, value: bool) -> SensorReading:
    return SensorReading(t_s, reading.sensor, reading.kind, value)


def test_flags_round_trip_in_recordings(tmp_path: Path) -> None:
    frame = Frame(1.0, 2, 640, 480, pose_ran=False, camera_ok=False)
    line = encode_frame(frame)
    assert line == '{"t":1.0,"i":2,"skeletons":[],"pose":false,"camera":false}'
    assert decode_frame(line, width_px=640, height_px=480) == frame
    assert decode_frame('{"t":1.0,"i":2,"skeletons":[]}').pose_ran


def test_the_live_gate_idles_pose_when_nobody_is_near_and_wakes_on_the_pir() -> None:
    from gpiozero.pins.mock import MockFactory

    from exhibit.sensors.feed import SensorFeed

    config = loads(
        SHOW + '\n[fusion.gating]\nidle = "pause"\nidle_after_s = 2.0\nprobe_every_s = 100.0\n',
    )
    factory = MockFactory()
    clock = [0.0]
    feed = SensorFeed(config, clock=lambda: clock[0], pin_factory=factory)
    try:
        pipeline = Pipeline(config)
        decide = feed.gate(config, lambda: pipeline.last_fusion)
        ran = {}
        for i in range(100):  # 10 s at 10 fps: an empty scene, then the PIR fires at 6 s
            t = i / 10
            clock[0] = t
            if i == 60:
                factory.pin(4).drive_high()
                time.sleep(0.5)  # gpiozero's MotionSensor samples the pin on its own thread
            run_pose = decide(t)
            ran[round(t, 1)] = run_pose
            frame = Frame(t, i, 640, 480, pose_ran=run_pose)
            pipeline.step(next(feed.attach([frame])))
    finally:
        feed.close()
    assert ran[0.0] and ran[1.0]  # awake at first
    assert not any(ran[round(t / 10, 1)] for t in range(35, 60))  # idle: paused
    assert ran[6.0]  # the PIR's frame itself runs pose
