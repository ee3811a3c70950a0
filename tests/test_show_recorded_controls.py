"""Control commands and hot reloads in recordings: a live ``exhibit run`` on a replayed source,
steered by a real OSC client over loopback and given a new config file while it records; the
replay of that recording gives the live run's event log byte for byte."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from exhibit.cli import main
from exhibit.recording.controls import ControlRecord, controls_of
from exhibit.recording.reader import read_recording
from tests.peers import free_udp_port

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
NEW_TITLE = "Come closer, we do not bite"


def exhibit_dir(tmp_path: Path, control_port: int) -> tuple[Path, str]:
    """The demo exhibit with OSC control on ``control_port``, its targets on free ports and no
    session database; returns the config path and its text."""
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{free_udp_port()}")
    text = text.replace("udp://127.0.0.1:9001", f"udp://127.0.0.1:{free_udp_port()}")
    text += f'\n[control]\nenabled = true\nlisten = "127.0.0.1:{control_port}"\n'
    text += "\n[analytics]\nenabled = false\n"
    (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    path = tmp_path / "exhibit.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def recorded_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def steer(port: int, config: Path, new_text: str, recording: Path, done: threading.Event) -> None:
    """What a technician's console and a text editor do during the run (wall-clock times from
    when the run is under way: its recording has frames, so its control server listens)."""
    client = SimpleUDPClient("127.0.0.1", port)
    try:
        while recorded_lines(recording) < 10 and not done.wait(0.01):
            pass
        steps: list[tuple[float, str, list[object]]] = [
            (0.5, "/exhibit/goto", ["explain"]),
            (1.0, "/exhibit/pause", []),
            (1.5, "/exhibit/resume", []),
            (2.0, "reload", []),
            (3.5, "/exhibit/reset", []),
        ]
        start = time.monotonic()
        for at_s, address, args in steps:
            done.wait(max(0.0, start + at_s - time.monotonic()))
            if done.is_set():
                return
            if address == "reload":
                config.write_text(new_text, encoding="utf-8")
                os.utime(config, (time.time() + 5, time.time() + 5))  # a new mtime for sure
            else:
                client.send_message(address, args)
    finally:
        client._sock.close()


def test_a_live_run_with_commands_and_a_reload_replays_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_udp_port()
    config, text = exhibit_dir(tmp_path, port)
    # The replay starts from the config the live run started with (the file changes later).
    (tmp_path / "start.toml").write_text(text, encoding="utf-8")
    new_text = text.replace("Step closer", NEW_TITLE)
    live_log, replay_log = tmp_path / "live.jsonl", tmp_path / "replay.jsonl"
    recording = tmp_path / "session.jsonl"

    done = threading.Event()
    console = threading.Thread(
        target=steer, args=(port, config, new_text, recording, done), daemon=True
    )
    console.start()
    try:
        code = main(
            [
                "run",
                str(config),
                "--replay",
                str(DEMO_DIR / "visitor.jsonl"),
                "--speed",
                "6",
                "--record",
                str(recording),
                "--log",
                str(live_log),
                "--quiet",
            ]
        )
    finally:
        done.set()
        console.join(timeout=5)
    assert code == 0
    assert "1 reload(s)" in capsys.readouterr().err

    # The recording holds the commands, each on the frame it was applied before.
    applied = [c for f in read_recording(recording).frames() for c in controls_of(f)]
    assert [c.kind for c in applied] == ["goto", "pause", "resume", "config", "reset"]
    assert applied[0] == ControlRecord("goto", "explain")
    assert applied[3].toml == new_text

    live = live_log.read_text(encoding="utf-8")
    controls = [line for line in live.splitlines() if '"kind":"control"' in line]
    assert len(controls) == 4  # goto, pause, resume, reset (a reload is not a show event)
    assert NEW_TITLE in live  # the reset's attract scene came from the reloaded config

    assert (
        main(
            [
                "replay",
                str(tmp_path / "start.toml"),
                str(recording),
                "--log",
                str(replay_log),
            ]
        )
        == 0
    )
    assert replay_log.read_bytes() == live_log.read_bytes()

    # `exhibit run --replay` applies them too, and a recording made of that run keeps them.
    again, rerecorded = tmp_path / "again.jsonl", tmp_path / "again_rec.jsonl"
    start = str(tmp_path / "start.toml")
    args = ["run", start, "--replay", str(recording), "--speed", "40", "--quiet"]
    assert main([*args, "--log", str(again), "--record", str(rerecorded)]) == 0
    assert again.read_bytes() == live_log.read_bytes()
    kept = [c for f in read_recording(rerecorded).frames() for c in controls_of(f)]
    assert kept == applied

    # Without its commands the same frames tell another story: they are what makes it equal.
    assert (
        main(
            [
                "replay",
                str(tmp_path / "start.toml"),
                str(DEMO_DIR / "visitor.jsonl"),
                "--log",
                str(tmp_path / "bare.jsonl"),
            ]
        )
        == 0
    )
    assert (tmp_path / "bare.jsonl").read_bytes() != live_log.read_bytes()


def test_a_recorded_config_that_does_not_load_here_is_a_clear_error(tmp_path: Path) -> None:
    from exhibit.config.load import loads
    from exhibit.errors import RecordingError
    from exhibit.pipeline import Pipeline
    from exhibit.recording.controls import apply_controls

    pipeline = Pipeline(loads('[show]\ninitial = "a"\n[show.states.a]\n'))
    broken = ControlRecord("config", toml='[show]\ninitial = "a"\n[sounds]\nx = "gone.wav"\n')
    with pytest.raises(RecordingError) as err:
        apply_controls(pipeline, [broken], tmp_path)
    assert "the config the recording swapped in does not load here" in str(err.value)
    assert str(tmp_path) in str(err.value) and "sounds.x" in str(err.value)
