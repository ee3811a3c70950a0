"""``exhibit simulate``: the real pipeline on a recording or a keyboard-driven visitor. The
logic without a window (``SimState``, ``press``, ``step``), pixels on an off-screen surface,
and the window itself with SDL's dummy video driver, driven by a key script."""

from __future__ import annotations

import json
import time
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from exhibit.config.load import load
from exhibit.recording.controls import ControlRecord, with_controls
from exhibit.skeleton import LANDMARK_INDEX, FloatArray
from exhibit.synth.body import BodyShape, PinholeCamera, Pose, make_skeleton
from exhibit.ui import pygame  # imported quietly
from exhibit.ui.draw import GOOD, TEXT, WARN, to_view
from exhibit.ui.simulate import (
    SimState,
    press,
    reach,
    render,
    run_simulate,
    sim_layout,
    step,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "media" / "demo" / "exhibit.toml"
DEMO_RECORDING = ROOT / "media" / "demo" / "visitor.jsonl"
SIZE = (1100, 620)


@pytest.fixture(autouse=True)
def _dummy_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    """No screen, no sound card: SDL's dummy drivers (restored after each test)."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


@pytest.fixture
def demo() -> SimState:
    return SimState.create(load(DEMO_CONFIG))


def pixel(surface: pygame.Surface, xy: tuple[int, int]) -> tuple[int, int, int]:
    c = surface.get_at(xy)
    return (c.r, c.g, c.b)


def run_keys(state: SimState, script: list[tuple[float, str]], seconds: float) -> list[str]:
    """Step the keyboard visitor for ``seconds`` of frame time, pressing the script's keys at
    their times; returns ``kind.name`` of every event."""
    pending = sorted(script)
    seen: list[str] = []
    while state.next_t_s() < seconds:
        keys = []
        while pending and pending[0][0] <= state.next_t_s() + 1e-9:
            keys.append(pending.pop(0)[1])
        seen += [f"{e.kind}.{e.name}" for e in step(state, keys=keys)]
    return seen


def read_log(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- logic -----------------------------------------------------------------------------------


def test_demo_recording_goes_attract_welcome_explain(demo: SimState) -> None:
    from exhibit.recording.reader import read_recording

    for frame in islice(read_recording(DEMO_RECORDING).frames(), 240):
        step(demo, frame)
    assert list(demo.states) == ["attract", "welcome", "explain"]
    assert demo.counts["presence.enter"] == 1 and demo.counts["gesture.wave"] == 1
    assert demo.visitor == 1
    assert any("cue scene_explain -> projector /scene 'explain'" in line for line in demo.log)
    assert demo.gestures[-1].split()[1:3] == ["wave", "right"]


def test_keys_e_then_w_make_a_visitor_enter_and_wave(demo: SimState) -> None:
    seen = run_keys(demo, [(0.2, "e"), (1.0, "w")], seconds=4.0)
    assert "presence.enter" in seen and "gesture.wave" in seen
    assert seen.index("presence.enter") < seen.index("gesture.wave")
    assert list(demo.states) == ["attract", "welcome", "explain"]
    lines = [line.strip() for line in demo.log]
    assert "0.20  key E: visitor enters" in lines
    assert "1.00  key W: wave" in lines


def test_e_again_makes_the_visitor_leave(demo: SimState) -> None:
    seen = run_keys(demo, [(0.1, "e"), (1.0, "e")], seconds=3.5)
    assert seen.count("presence.enter") == 1 and seen.count("presence.leave") == 1
    assert demo.visitor is None and demo.show_state == "attract"


def test_arrows_walk_the_visitor_out_of_the_interaction_area(demo: SimState) -> None:
    script = [(0.1, "e")] + [(1.0, "right")] * 16
    seen = run_keys(demo, script, seconds=3.5)
    assert demo.puppet.position_m == (1.6, 2.5)
    assert seen.count("presence.enter") == 1 and seen.count("presence.leave") == 1


def test_hands_up_key(demo: SimState) -> None:
    seen = run_keys(demo, [(0.1, "e"), (1.0, "h")], seconds=3.5)
    assert "gesture.hands_up" in seen


def test_a_scripted_session_replays_to_the_same_events() -> None:
    config = load(DEMO_CONFIG)
    script = [(0.1, "e"), (0.9, "w"), (1.2, "mouse 0.4 0.3"), (2.0, "left"), (3.5, "h")]
    runs = []
    for _ in range(2):
        state = SimState.create(config)
        pending = sorted(script)
        events = []
        while state.next_t_s() < 6.0:
            keys = []
            while pending and pending[0][0] <= state.next_t_s() + 1e-9:
                keys.append(pending.pop(0)[1])
            events += [e.to_json() for e in step(state, keys=keys)]
        runs.append(events)
    assert runs[0] == runs[1] and len(runs[0]) > 10


def test_gesture_keys_need_a_visitor_and_unknown_keys_do_nothing(demo: SimState) -> None:
    assert press(demo, "w") == "wave: nobody there (press E)"
    assert demo.puppet.action is None
    assert press(demo, "f12") is None
    assert press(demo, "E") == "visitor enters"
    assert press(demo, "up") == "visitor at x +0.0 m, 2.4 m away"


def test_pause_holds_the_frame_clock(demo: SimState) -> None:
    step(demo)
    step(demo)
    t = demo.t_s
    assert step(demo, keys=["p"]) == [] and demo.paused
    assert step(demo) == [] and demo.t_s == t
    step(demo, keys=["p"])
    assert not demo.paused and demo.t_s > t


def test_mouse_holds_the_right_wrist(demo: SimState) -> None:
    press(demo, "e")
    press(demo, "mouse 0.35 0.25")
    step(demo)
    assert demo.frame is not None
    wrist = demo.frame.skeletons[0].landmarks[LANDMARK_INDEX["right_wrist"], :2]
    assert np.allclose(wrist, (0.35, 0.25), atol=0.01)
    press(demo, "mouse off")
    step(demo)
    wrist = demo.frame.skeletons[0].landmarks[LANDMARK_INDEX["right_wrist"], :2]
    assert not np.allclose(wrist, (0.35, 0.25), atol=0.05)


def test_reach_keeps_the_arm_lengths() -> None:
    lm = make_skeleton(BodyShape(), Pose(), (0.0, 2.5), PinholeCamera()).landmarks
    px = np.array([640.0, 480.0])
    s, e, w = (LANDMARK_INDEX[f"right_{j}"] for j in ("shoulder", "elbow", "wrist"))

    def lengths(a: FloatArray) -> tuple[float, float]:
        p = a[:, :2] * px
        return float(np.hypot(*(p[e] - p[s]))), float(np.hypot(*(p[w] - p[e])))

    out = reach(lm, "right", (0.38, 0.3), 640, 480)  # above the shoulder, within reach
    assert np.allclose(out[w, :2], (0.38, 0.3), atol=1e-6)
    assert np.allclose(lengths(out), lengths(lm), atol=1e-6)
    far = reach(lm, "right", (0.0, 0.0), 640, 480)  # out of reach: the arm stretches to it
    assert sum(lengths(far)) == pytest.approx(sum(lengths(lm)), abs=0.01)
    assert np.array_equal(out[LANDMARK_INDEX["left_wrist"]], lm[LANDMARK_INDEX["left_wrist"]])


# --- pixels ----------------------------------------------------------------------------------


def test_render_draws_the_area_and_the_skeleton(demo: SimState) -> None:
    surface = pygame.Surface(SIZE)
    render(demo, surface)
    view = sim_layout(SIZE, (640, 480)).view
    x0 = demo.config.presence.area[0]
    left_edge = to_view(view, x0, 0.5)
    assert pixel(surface, left_edge) == WARN  # nobody present yet
    run_keys(demo, [(0.0, "e")], seconds=1.5)
    assert demo.visitor is not None and demo.frame is not None
    render(demo, surface)
    assert pixel(surface, left_edge) == GOOD
    lm = demo.frame.skeletons[0].landmarks
    for name in ("nose", "left_knee", "right_wrist"):
        i = LANDMARK_INDEX[name]
        assert pixel(surface, to_view(view, float(lm[i, 0]), float(lm[i, 1]))) == TEXT, name


# --- the window ------------------------------------------------------------------------------


def test_simulate_plays_the_demo_recording(tmp_path: Path) -> None:
    log, shot = tmp_path / "events.jsonl", tmp_path / "sim.png"
    code = run_simulate(
        DEMO_CONFIG, recording=DEMO_RECORDING, frames=240, screenshot=shot, speed=None, log=log
    )
    assert code == 0
    events = read_log(log)
    states = [e["name"] for e in events if e["kind"] == "state"]
    assert states == ["attract", "welcome", "explain"]
    assert events[-1]["name"] == "sound_off"  # the shutdown cues close the log
    assert pygame.image.load(str(shot)).get_size() == SIZE


def test_simulate_script_e_then_w(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    code = run_simulate(
        DEMO_CONFIG,
        frames=120,
        screenshot=None,
        script=[(0.2, "e"), (1.0, "w")],
        speed=None,
        log=log,
    )
    assert code == 0
    names = [f"{e['kind']}.{e['name']}" for e in read_log(log)]
    assert "presence.enter" in names and "gesture.wave" in names
    assert names.index("presence.enter") < names.index("gesture.wave")


def test_send_drives_a_stage_over_osc(tmp_path: Path) -> None:
    from exhibit.ui.stage import OscInbox, StageState

    inbox = OscInbox("127.0.0.1", 0)
    try:
        text = DEMO_CONFIG.read_text(encoding="utf-8")
        text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{inbox.port}")
        config = tmp_path / "exhibit.toml"
        config.write_text(text, encoding="utf-8")
        (tmp_path / "sounds").symlink_to(DEMO_CONFIG.parent / "sounds")
        code = run_simulate(config, recording=DEMO_RECORDING, frames=240, speed=None, send=True)
        assert code == 0
        stage = StageState()
        deadline = time.monotonic() + 3.0
        while stage.scene != "off" and time.monotonic() < deadline:
            for address, args in inbox.drain():
                stage.apply(address, args)
            time.sleep(0.01)
    finally:
        inbox.close()
    scenes = [line for line in stage.log if line.startswith("/scene")]
    assert scenes[-2:] == ['/scene "explain"', '/scene "off"']
    assert stage.title == "Raise both hands to split the cell"
    assert "right_wrist" in stage.joints


def test_keys_take_over_when_the_recording_ends(tmp_path: Path) -> None:
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter
    from exhibit.skeleton import Frame

    short = tmp_path / "empty.jsonl"
    with RecordingWriter(short, RecordingHeader("test", 30.0, 640, 480)) as writer:
        for i in range(15):
            writer.write(Frame(i / 30, i, 640, 480))
    log = tmp_path / "events.jsonl"
    code = run_simulate(
        DEMO_CONFIG, recording=short, frames=60, script=[(0.6, "e")], speed=None, log=log
    )
    assert code == 0
    enter = [e for e in read_log(log) if e["kind"] == "presence"]
    assert len(enter) == 1 and float(str(enter[0]["t"])) > 1.0


def test_simulate_is_paced_at_the_camera_fps() -> None:
    started = time.monotonic()
    assert run_simulate(DEMO_CONFIG, frames=9, size=(400, 240)) == 0
    assert time.monotonic() - started >= 0.25  # 9 frames at 30 fps: 0.27 s at least


def test_bad_inputs_give_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(tmp_path / "missing.toml", frames=1) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[show]\ninitial = "nowhere"\n', encoding="utf-8")
    assert run_simulate(bad, frames=1) == 1
    assert run_simulate(DEMO_CONFIG, recording=tmp_path / "none.jsonl", frames=1) == 2
    err = capsys.readouterr().err
    assert "missing.toml: no such file" in err
    assert "show.states: no states" in err
    assert "none.jsonl: no such recording" in err


def test_a_recorded_control_command_is_applied_as_in_a_replay(demo: SimState) -> None:
    """A live run's ``/exhibit/goto`` kept in its recording: simulate follows it, as replay
    does, so the designer sees the same show the visitors saw."""
    state = demo
    step(state)  # the show starts (attract)
    quiet = state.puppet.frame(state.next_t_s(), 1)
    commanded = with_controls(quiet, [ControlRecord("goto", "goodbye")])
    events = step(state, commanded)
    assert [(e.kind, e.name) for e in events][:2] == [("control", "goto"), ("state", "goodbye")]
    assert state.pipeline.show.state == "goodbye"
