"""A show with the serial bridge attached, through a real pseudo-terminal to the reference
firmware: the bridge is unplugged mid-show and plugged back; the show goes on, the fault and the
recovery are reported, and a recording of the run replays to the same events."""

from __future__ import annotations

from pathlib import Path

from exhibit.config.load import loads
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.format import RecordingHeader
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.runtime import Pacer
from exhibit.sensors.feed import SensorFeed
from exhibit.skeleton import Frame
from exhibit.synth.script import scripted_visitor
from firmware_bridge.sim import Simulator

DEMO = Path(__file__).resolve().parent.parent / "media" / "demo" / "exhibit.toml"


def run(pipeline: Pipeline, frames: list[Frame]) -> list[Event]:
    events: list[Event] = []
    for frame in frames:
        events += pipeline.step(frame)
    return events


def test_bridge_unplugged_mid_show_and_back(tmp_path: Path) -> None:
    sim = Simulator(link_path=str(tmp_path / "usb-exhibit-pico-if00"))
    device = sim.start()
    try:
        text = DEMO.read_text(encoding="utf-8")
        text += f'\n[bridge]\ndevice = "{device}"\nheartbeat_timeout_s = 1.5\n'
        text += "[fusion]\nleave_after_s = 1.5\n"
        config = loads(text, base_dir=DEMO.parent)
        feed = SensorFeed(config)
        assert feed.link is not None and feed.link.wait_up(5.0)
        frames = scripted_visitor(fps=15.0)
        pacer = Pacer(speed=2.0)

        def paced() -> list[Frame]:
            out: list[Frame] = []
            for frame in feed.attach(frames):
                pacer.wait_for(frame.t_s)
                if frame.index == 120:  # 8 s: explaining, the cable is pulled
                    sim.unplug()
                if frame.index == 240:  # 16 s: plugged back in
                    sim.replug()
                out.append(frame)
            return out

        recorded = paced()
        feed.close()
    finally:
        sim.close()
    events = run(Pipeline(config), recorded)
    faults = [(e.name, e.data.get("sensor")) for e in events if e.kind == "sensor"]
    assert ("fault", "bridge") in faults
    assert faults.index(("fault", "bridge")) < faults.index(("ok", "bridge"))
    states = [e.name for e in events if e.kind == "state"]
    assert states[:3] == ["attract", "welcome", "explain"]
    assert "goodbye" in states  # the show went on
    assert any(r.sensor == "bridge" and r.kind == "distance" for f in recorded for r in f.sensors)

    # The readings are in the recording, and replay gives the same events (the joint stream
    # aside: a recording rounds landmarks to 5 decimals), the same every time.
    path = tmp_path / "run.jsonl"
    with RecordingWriter(path, RecordingHeader("test", 15.0, 640, 480)) as writer:
        for frame in recorded:
            writer.write(frame)
    replays = [run(Pipeline(config), list(read_recording(path).frames())) for _ in range(2)]
    assert [e.to_json() for e in replays[0]] == [e.to_json() for e in replays[1]]

    def story(events: list[Event]) -> list[tuple[str, str]]:
        return [(e.kind, e.name) for e in events if e.kind in ("presence", "sensor", "state")]

    assert story(replays[0]) == story(events)
