"""The deterministic core end to end: the scripted visitor through presence, filter, gestures,
show and stream, with the demo exhibit's config.

The visitor is the project's own parametric body (``exhibit.synth``): it walks in, waves with
the right hand, raises both hands and leaves. These tests pin what a visitor experiences: the
show answers each gesture within a few frames, nothing fires while nobody is there, and the
exhibit resets when the visitor leaves.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from exhibit.config.load import load
from exhibit.config.schema import Config
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.skeleton import Frame
from exhibit.synth.script import scripted_visitor

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"


@cache
def demo_config() -> Config:
    return load(DEMO_DIR / "exhibit.toml")


def run(frames: list[Frame], config: Config | None = None) -> list[Event]:
    core = Pipeline(config or demo_config())
    events: list[Event] = []
    for frame in frames:
        events += core.step(frame)
    return events + core.shutdown()


def story(events: list[Event]) -> list[str]:
    """The visitor's story without cues: ``presence.enter``, ``gesture.wave``, ``state.explain``."""
    kinds = ("presence", "gesture", "state", "engagement")
    return [f"{e.kind}.{e.name}" for e in events if e.kind in kinds]


@pytest.mark.parametrize("fps", [10.0, 15.0, 30.0, 60.0])
def test_scripted_visitor_goes_through_every_state(fps: float) -> None:
    events = run(scripted_visitor(fps=fps))
    assert story(events) == [
        "state.attract",
        "presence.enter",
        "state.welcome",
        "gesture.wave",
        "state.explain",
        "engagement.high",
        "state.explain_detail",
        "gesture.hands_up",
        "state.goodbye",
        "presence.leave",
        "state.attract",
    ]
    levels = [e.data.get("level") for e in events if e.kind == "state"]
    assert levels == [None, None, "overview", "detail", None, None]
    wave = next(e for e in events if e.name == "wave")
    assert wave.data["side"] == "right"
    assert wave.data["visitor"] == 1
    # The script waves from about 6.4 s and raises both hands from about 14.9 s.
    assert 6.4 < wave.t_s < 8.9
    hands_up = next(e for e in events if e.name == "hands_up")
    assert 14.9 < hands_up.t_s < 17.9


def test_the_show_answers_in_the_frame_of_the_gesture() -> None:
    events = run(scripted_visitor(fps=30.0))
    wave = next(e for e in events if e.kind == "gesture" and e.name == "wave")
    explain = next(e for e in events if e.kind == "state" and e.name == "explain")
    cues = [e for e in events if e.kind == "cue" and e.t_s == explain.t_s]
    assert explain.t_s == wave.t_s
    assert [c.name for c in cues] == [
        "scene_explain",
        "title_hands",
        "level_overview",
        "server_level",
        "narration_1",
    ]
    assert cues[0].data == {"target": "projector", "address": "/scene", "args": ["explain"]}


def test_cues_carry_target_address_and_typed_args() -> None:
    events = run(scripted_visitor(fps=30.0))
    level = next(e for e in events if e.kind == "cue" and e.name == "server_level")
    assert level.cue is not None
    assert (level.cue.target, level.cue.address, level.cue.args) == (
        "sound",
        "/narration/level",
        ("overview",),
    )
    loop = next(e for e in events if e.kind == "cue" and e.name == "ambient_loop")
    assert loop.cue is not None
    assert (loop.cue.target, loop.cue.address, loop.cue.args) == (
        "sound:ambient",
        "/fade_in",
        (1.0, 1500),
    )
    assert isinstance(loop.cue.args[0], float)


def test_nothing_fires_when_nobody_is_there() -> None:
    empty = [Frame(i / 30.0, i, 640, 480) for i in range(30 * 120)]
    events = run(empty)
    assert story(events) == ["state.attract"]
    # Only the attract loop's cues (again every 30 s), and the shutdown cues at the end.
    attract = ["scene_attract", "title_attract", "ambient_loop"]
    cues = [(e.t_s, e.name) for e in events if e.kind == "cue"]
    assert cues == [
        *[(t, name) for t in (0.0, 30.0, 60.0, 90.0) for name in attract],
        *[(cues[-1][0], name) for name in ("all_off", "server_off", "sound_off")],
    ]
    assert not [e for e in events if e.kind == "stream"]


def test_a_visitor_outside_the_area_is_not_a_visitor() -> None:
    # The demo's presence area is the middle of the image; move it off to the left edge.
    config = demo_config()
    elsewhere = replace(config, presence=replace(config.presence, area=(0.0, 0.0, 0.05, 1.0)))
    events = run(scripted_visitor(fps=30.0), elsewhere)
    assert story(events) == ["state.attract"]


def test_leaving_resets_the_show_mid_explanation() -> None:
    frames = scripted_visitor(fps=30.0)
    cut_s = 12.0  # after the wave, before the hands go up: the visitor vanishes
    vanished = [f if f.t_s < cut_s else Frame(f.t_s, f.index, 640, 480) for f in frames]
    events = run(vanished)
    assert story(events)[-3:] == ["state.explain_detail", "presence.leave", "state.attract"]
    leave = next(e for e in events if e.name == "leave")
    leave_after_s = demo_config().presence.leave_after_s
    assert cut_s + leave_after_s - 0.05 <= leave.t_s <= cut_s + leave_after_s + 0.1


def test_joint_stream_follows_the_configured_rate_while_a_visitor_is_present() -> None:
    events = run(scripted_visitor(fps=30.0))
    stream = [e for e in events if e.kind == "stream"]
    enter = next(e.t_s for e in events if e.name == "enter")
    leave = next(e.t_s for e in events if e.name == "leave")
    assert stream, "the demo streams the right wrist"
    assert all(enter <= e.t_s <= leave for e in stream)
    assert {e.data["address"] for e in stream} == {
        "/exhibit/visitor/right_wrist",
        "/exhibit/engagement",
    }
    stream = [e for e in stream if e.data["address"] == "/exhibit/visitor/right_wrist"]
    gaps = [b.t_s - a.t_s for a, b in itertools.pairwise(stream)]
    assert min(gaps) >= 0.5 - 1 / 30 - 1e-9  # 2 Hz on a 30 fps grid
    assert all(len(e.data["args"]) == 3 for e in stream)


def test_replay_is_byte_identical() -> None:
    frames = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    first = "\n".join(e.to_json() for e in run(frames))
    second = "\n".join(e.to_json() for e in run(frames))
    assert first == second
    assert '"kind":"gesture","name":"wave"' in first


def test_committed_demo_recording_is_what_synth_makes(tmp_path: Path) -> None:
    """``media/demo/visitor.jsonl`` is regenerated by ``exhibit synth``; it must not drift."""
    from exhibit.cli import main

    out = tmp_path / "visitor.jsonl"
    assert main(["synth", "-o", str(out)]) == 0
    assert out.read_bytes() == (DEMO_DIR / "visitor.jsonl").read_bytes()


def test_timeouts_move_the_show_on_without_gestures() -> None:
    # A visitor who walks in and then stands still: welcome times out to explain after 20 s,
    # explain to goodbye after 60 s; frames carry the time, so no clock is involved.
    frames = scripted_visitor(fps=10.0)
    standing = next(f for f in frames if f.t_s >= 5.0 and f.skeletons)
    still = [Frame(5.0 + i / 10.0, i, 640, 480, standing.skeletons) for i in range(10 * 90)]
    events = run([f for f in frames if f.t_s < 5.0] + still)
    states = [(e.name, e.data.get("because")) for e in events if e.kind == "state"]
    assert states == [
        ("attract", "start"),
        ("welcome", "presence.enter"),
        ("explain", "after 20s"),
        ("goodbye", "after 60s"),
    ]
