"""``exhibit calibrate gestures``: a recording of the project's parametric body flapping its arms
during each recording window is cut into demonstrations on the frames' clock, saved, and
learned by ``exhibit gestures learn``'s learner; the learned gesture is spotted afterwards."""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import pytest

from calibration.gestures_capture import CapturePlan, add_command, capture
from exhibit.atomic import backup_path
from exhibit.config.load import loads
from exhibit.config.schema import Config
from exhibit.gestures.learn import filtered_track
from exhibit.gestures.taught import TaughtGestures
from exhibit.recording.format import RecordingHeader
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame
from exhibit.synth.body import ArmPose, BodyShape, Pose
from exhibit.synth.script import BodyState, Segment, idle_motion, render, sequence

SHOW = '[show]\ninitial = "idle"\n[show.states.idle]\n'
COUNTDOWN_S, LENGTH_S = 1.0, 2.6


def flap_motion(duration_s: float, frequency_hz: float = 1.5) -> Segment:
    """Both arms beat up and down sideways, like a bird's wings (not a built-in gesture)."""

    def motion(t_s: float) -> BodyState:
        w = 0.5 - 0.5 * math.cos(2 * math.pi * frequency_hz * t_s)
        arm = ArmPose(abduction_rad=0.15 + 1.45 * w, elbow_rad=0.2)
        return BodyState(Pose(left_arm=arm, right_arm=arm), (0.0, 2.5))

    return Segment("flap", duration_s, motion)


def session(tmp_path: Path, count: int) -> Path:
    """What the camera sees: standing through each countdown, flapping inside each window."""
    parts: list[Segment] = []
    for k in range(count):
        parts += [
            idle_motion(COUNTDOWN_S + 0.3),
            flap_motion(LENGTH_S - 0.6, frequency_hz=1.3 + 0.1 * k),
            idle_motion(0.3),
        ]
    frames = render(sequence(*parts), fps=30.0, shape=BodyShape(1.7), seed=2, noise_px=0.5)
    path = tmp_path / "session.jsonl"
    header = RecordingHeader(source="synth:test", fps=30.0, width_px=640, height_px=480)
    with RecordingWriter(path, header) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def frames_of(path: Path) -> list[Frame]:
    return list(read_recording(path).frames())


def test_capture_cuts_the_windows_on_the_frames_clock(tmp_path: Path) -> None:
    plan = CapturePlan(count=3, countdown_s=COUNTDOWN_S, length_s=LENGTH_S)
    out = io.StringIO()
    got = capture(frames_of(session(tmp_path, 3)), plan, tmp_path / "demos", "flap", out=out)
    assert [c.path.name for c in got] == ["flap-01.jsonl", "flap-02.jsonl", "flap-03.jsonl"]
    for k, c in enumerate(got):
        frames = frames_of(c.path)
        assert frames[0].t_s == pytest.approx(k * (COUNTDOWN_S + LENGTH_S) + COUNTDOWN_S, abs=0.04)
        assert c.length_s == pytest.approx(LENGTH_S, abs=0.05)
        assert c.with_person == c.frames == len(frames)
    text = out.getvalue()
    assert "demonstration 1/3 of 'flap' in 1... go!" in text
    assert " 0... " not in text  # the countdown ends at 1, never shows 0
    assert "recorded #1: 2.6 s, 78 frames, a person in 100%" in text


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="exhibit calibrate")
    add_command(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_the_command_learns_the_gesture_and_keeps_the_previous_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "exhibit.toml"
    config.write_text(SHOW, encoding="utf-8")
    source = session(tmp_path, 4)
    argv = ["gestures", str(config), "flap", "--source", str(source), "--count", "4"]
    argv += ["--countdown-s", str(COUNTDOWN_S), "--length-s", str(LENGTH_S)]
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    taught = tmp_path / "taught_gestures.json"
    assert f"{taught}: learned 'flap' from 4 demonstrations" in out
    recordings = sorted((tmp_path / "demonstrations" / "flap").glob("*.jsonl"))
    assert [p.name for p in recordings] == [f"flap-0{k}.jsonl" for k in range(1, 5)]

    # The learned gesture is spotted on a new stream of the same movement.
    gestures = TaughtGestures.from_file(taught)
    stream = sequence(idle_motion(1.5), flap_motion(2.2, 1.45), idle_motion(1.5))
    frames = render(stream, fps=30.0, shape=BodyShape(1.6), seed=9, noise_px=0.6)
    hits = [h.name for t, s in filtered_track(frames, _config()) for h in gestures.update(t, s)]
    assert hits == ["flap"]

    first = taught.read_bytes()
    assert run_cli(argv) == 0  # again: the previous file is kept as a backup
    assert backup_path(taught).read_bytes() == first


def _config() -> Config:
    return loads(SHOW)


def test_too_few_demonstrations_say_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "exhibit.toml"
    config.write_text(SHOW, encoding="utf-8")
    source = session(tmp_path, 2)  # the source ends after two of five
    argv = ["gestures", str(config), "flap", "--source", str(source)]
    argv += ["--countdown-s", str(COUNTDOWN_S), "--length-s", str(LENGTH_S)]
    assert run_cli(argv) == 1
    captured = capsys.readouterr()
    assert "the source ended after 2 of 5 demonstration(s)" in captured.out
    assert "record 1 more" in captured.err
    assert not (tmp_path / "taught_gestures.json").exists()
