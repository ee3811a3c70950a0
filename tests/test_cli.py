"""The command line end to end, as a technician or a designer uses it.

Real parts throughout: recordings and videos written to disk, the demo's config, an independent
OSC implementation (liblo) receiving the cues, the demo and ``exhibit run`` as separate
processes stopped by real signals.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from exhibit.cli import main
from exhibit.config.schema import BUILTIN_GESTURES
from exhibit.recording.reader import read_recording
from tests.peers import LibloReceiver, free_udp_port

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
DEMO_CONFIG = DEMO_DIR / "exhibit.toml"
DEMO_RECORDING = DEMO_DIR / "visitor.jsonl"
PROJECT_DIR = DEMO_DIR.parent.parent


def config_with_ports(tmp_path: Path, projector: int, sound: int) -> Path:
    """The demo config with its two OSC targets moved to the given loopback ports."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{projector}")
    text = text.replace("udp://127.0.0.1:9001", f"udp://127.0.0.1:{sound}")
    path = tmp_path / "exhibit.toml"
    path.write_text(text, encoding="utf-8")
    if not (tmp_path / "sounds").exists():  # the config's sounds are relative to its folder
        (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    return path


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def exhibit_process(
    *args: str, extra_env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "exhibit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        **kwargs,
    )


@pytest.fixture(scope="module")
def astronaut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real MJPG video of scikit-image's astronaut photo, drifting sideways."""
    rgb = cast(Callable[[], npt.NDArray[np.uint8]], data.astronaut)()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    path = tmp_path_factory.mktemp("video") / "astronaut.avi"
    height, width = bgr.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (width, height))
    assert writer.isOpened()
    for i in range(8):
        writer.write(np.roll(bgr, 3 * i, axis=1))
    writer.release()
    return path


# -- replay ----------------------------------------------------------------------------------


def test_two_replays_write_byte_identical_logs(tmp_path: Path) -> None:
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for log in logs:
        args = ["replay", str(DEMO_CONFIG), str(DEMO_RECORDING), "--log", str(log)]
        assert main([*args, "--include-stream"]) == 0
    assert logs[0].read_bytes() == logs[1].read_bytes()
    lines = read_log(logs[0])
    assert {line["kind"] for line in lines} == {
        "presence",
        "gesture",
        "state",
        "cue",
        "stream",
        "engagement",
    }
    cue = next(line for line in lines if line["kind"] == "cue" and line["name"] == "title_wave")
    assert cue == {
        "t": cue["t"],
        "kind": "cue",
        "name": "title_wave",
        "address": "/title",
        "args": ["Wave to look inside a cell"],
        "target": "projector",
    }
    # A local sound cue is logged like any other: target sound:NAME, action, volume, fade.
    chime = next(line for line in lines if line["kind"] == "cue" and line["name"] == "chime")
    assert (chime["target"], chime["address"], chime["args"]) == ("sound:chime", "/play", [0.8, 0])
    # Canonical form: keys in a fixed order, no spaces.
    first = logs[0].read_text(encoding="utf-8").splitlines()[0]
    assert first == '{"t":0.0,"kind":"state","name":"attract","because":"start"}'


def test_replay_sends_the_logged_cues_to_an_independent_osc_receiver(tmp_path: Path) -> None:
    projector, sound = LibloReceiver(), LibloReceiver()
    try:
        config = config_with_ports(tmp_path, projector.port, sound.port)
        log = tmp_path / "log.jsonl"
        args = ["replay", str(config), str(DEMO_RECORDING), "--log", str(log), "--send"]
        assert main([*args, "--include-stream"]) == 0
        sent = [
            line
            for line in read_log(log)
            if line["kind"] in ("cue", "stream") and not line["target"].startswith("sound:")
        ]
        expected = {
            name: [(c["address"], c["args"]) for c in sent if c["target"] == name]
            for name in ("projector", "sound")
        }
        got_sound = sound.wait_for(len(expected["sound"]))
        got_projector = projector.wait_for(len(expected["projector"]))
    finally:
        projector.server.free()
        sound.server.free()
    for got, want in ((got_sound, expected["sound"]), (got_projector, expected["projector"])):
        assert [(address, args) for address, args, _ in got] == [
            (address, [pytest.approx(v, rel=1e-6) if isinstance(v, float) else v for v in args])
            for address, args in want
        ]
    assert sum(a.startswith("/exhibit/visitor/") for a, _, _ in got_projector) >= 40
    # Type tags as configured: a string for the level, none for the stop.
    assert ("/narration/level", "s") in {(a, tags) for a, _, tags in got_sound}
    assert ("/sound/stop", "") in {(a, tags) for a, _, tags in got_sound}
    # The engagement score is streamed as one 32-bit float.
    assert ("/exhibit/engagement", "f") in {(a, tags) for a, _, tags in got_projector}


def test_replay_and_record_a_real_video(tmp_path: Path, astronaut_video: Path) -> None:
    saved = tmp_path / "saved.jsonl"
    log = tmp_path / "log.jsonl"
    args = [str(astronaut_video), "--log", str(log), "--save-recording", str(saved)]
    assert main(["replay", str(DEMO_CONFIG), *args]) == 0
    recording = read_recording(saved)
    frames = list(recording.frames())
    assert (recording.header.width_px, recording.header.height_px) == (512, 512)
    assert len(frames) == 8
    assert sum(bool(f.skeletons) for f in frames) >= 6
    assert read_log(log)[0]["name"] == "attract"

    recorded = tmp_path / "recorded.jsonl"
    assert main(["record", str(astronaut_video), "-o", str(recorded)]) == 0
    header = json.loads(recorded.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "exhibit-recording"
    assert header["fps"] == pytest.approx(10.0)
    # The same frames through the same model give the same recording.
    assert [f.t_s for f in read_recording(recorded).frames()] == [f.t_s for f in frames]


# -- bad input -------------------------------------------------------------------------------


def test_missing_video_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.mp4"
    assert main(["replay", str(DEMO_CONFIG), str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(missing) in err[0]


def test_corrupt_video_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "broken.avi"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 100)
    assert main(["record", str(corrupt), "-o", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert str(corrupt) in err
    assert "Traceback" not in err


def test_recording_with_a_bad_line_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = DEMO_RECORDING.read_text(encoding="utf-8").splitlines()[:200]
    lines[150] = lines[150][: len(lines[150]) // 2]  # cut in the middle of a frame
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["replay", str(DEMO_CONFIG), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad} line 151" in err


def test_missing_recording_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.jsonl"
    assert main(["replay", str(DEMO_CONFIG), str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_no_camera_lists_the_devices_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", "/dev/video97", "-o", str(tmp_path / "cam.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "/dev/video97" in err
    assert "video device" in err  # "no video devices found" or the list of them


def test_a_target_that_is_down_does_not_stop_the_show(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    log = tmp_path / "log.jsonl"
    assert main(["replay", str(config), str(DEMO_RECORDING), "--log", str(log), "--send"]) == 0
    # Every event is still logged, as when the targets are up.
    reference = tmp_path / "reference.jsonl"
    assert main(["replay", str(DEMO_CONFIG), str(DEMO_RECORDING), "--log", str(reference)]) == 0
    assert log.read_bytes() == reference.read_bytes()


# -- live processes --------------------------------------------------------------------------


def test_run_stops_on_sigterm_after_the_shutdown_cues(tmp_path: Path) -> None:
    projector = LibloReceiver()
    try:
        config = config_with_ports(tmp_path, projector.port, free_udp_port())
        log = tmp_path / "run.jsonl"
        process = exhibit_process(
            "run",
            str(config),
            "--replay",
            str(DEMO_RECORDING),
            "--log",
            str(log),
            "--quiet",
            extra_env={"SDL_AUDIODRIVER": "dummy"},
        )
        got = projector.wait_for(2, timeout_s=30.0)  # the attract scene and title: it runs
        assert len(got) >= 2, "no cue from exhibit run"
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        got = projector.wait_for(len(got) + 1, timeout_s=5.0)
    finally:
        projector.server.free()
    lines = read_log(log)
    assert [line["name"] for line in lines[-3:]] == ["all_off", "server_off", "sound_off"]
    assert lines[-1]["t"] < 5.0  # stopped long before the recording's end
    assert (got[-1][0], got[-1][1]) == ("/scene", ["off"])


def test_demo_shows_the_visitor_on_the_stage_and_the_monitor(tmp_path: Path) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    # SDL's dummy drivers: the stage window and the sounds run without a screen or speakers.
    env = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = exhibit_process("demo", "--speed", "40", "--config", str(config), extra_env=env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = out.splitlines()
    timeline = [line for line in lines if " | " not in line]
    states = [line.split()[3] for line in timeline if line.split()[2:3] == ["state"]]
    assert states == ["attract", "welcome", "explain", "explain_detail", "goodbye", "attract"]
    assert any("level overview" in line for line in timeline)
    stage = [
        line.split(" | ", 1)[1]
        for line in lines
        if line.lstrip().startswith("stage |") and "stage: listening" not in line
    ]
    monitor = [line for line in lines if line.lstrip().startswith("monitor |")]
    assert '/scene "welcome"' in stage
    assert '/level "detail"' in stage
    assert '/scene "off"' in stage
    assert any('/narration/level ,s "overview"' in line for line in monitor)
    assert any("/sound/stop ," in line for line in monitor)
    summary = lines[-1]
    assert summary.startswith("demo: 965 frames")
    received = int(summary.split("received ")[1].split()[0])
    assert received >= len(stage) + sum("] /" in line for line in monitor) >= 20


def test_check_the_demo_config_from_a_shell() -> None:
    process = exhibit_process("check", "--offline", str(DEMO_CONFIG))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "ok (6 states, 2 targets" in out


def test_bench_prints_its_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--frames", "3", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["inference_frames"] == 3
    assert figures["ratio"] == pytest.approx(
        figures["pipeline_ms_median"] / figures["inference_ms_median"], rel=0.01, abs=1e-4
    )
    assert figures["spotting_templates"] == "10 gestures x 5 templates"
    assert figures["spotting_ratio"] > 0
    assert figures["builtins"] == 13 and figures["builtins_ms_median"] > 0
    assert figures["builtins_ratio"] == pytest.approx(
        figures["builtins_ms_median"] / figures["inference_ms_median"], rel=0.01, abs=1e-4
    )


def test_bench_times_every_built_in_gesture() -> None:
    from exhibit.bench import all_builtins

    assert all_builtins().enabled_names() == sorted(BUILTIN_GESTURES)


def test_demo_with_the_firmware_simulator_and_mock_pins(tmp_path: Path) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    env = {"SDL_AUDIODRIVER": "dummy"}
    args = ("demo", "--speed", "40", "--no-stage", "--sensors", "--config", str(config))
    process = exhibit_process(*args, extra_env=env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "firmware simulator on" in out
    assert "bridge up: exhibit-pico" in err
    enter = next(line for line in out.splitlines() if "presence enter" in line)
    # Fused presence names its sources (the PIR joins when its edge beats the frame: at 40x
    # speed that is a race, so only the camera is certain).
    assert "sources ['camera'" in enter
    assert " sensor " not in out  # every sensor healthy: no fault
    assert "gesture  wave" in out and "state    explain_detail" in out


def test_a_bundled_state_sends_its_cues_as_one_osc_bundle(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as projector:
        projector.bind(("127.0.0.1", 0))
        projector.settimeout(0.5)
        config = config_with_ports(tmp_path, projector.getsockname()[1], free_udp_port())
        assert main(["replay", str(config), str(DEMO_RECORDING), "--send"]) == 0
        datagrams = []
        try:
            while True:
                datagrams.append(projector.recv(65536))
        except TimeoutError:
            pass
    bundles = [d for d in datagrams if d.startswith(b"#bundle\x00")]
    # The goodbye state (bundle = true): /scene mitosis and /title in one datagram.
    assert len(bundles) == 1
    assert b"/scene" in bundles[0] and b"mitosis" in bundles[0] and b"/title" in bundles[0]
    # Other states' cues still go one message each.
    assert any(d.startswith(b"/scene\x00") and b"welcome" in d for d in datagrams)


def test_a_run_recorded_replays_to_the_same_log(tmp_path: Path) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    record, live_log, replay_log = (tmp_path / n for n in ("rec.jsonl", "a.jsonl", "b.jsonl"))
    args = ["run", str(config), "--replay", str(DEMO_RECORDING), "--speed", "100", "--quiet"]
    assert main([*args, "--record", str(record), "--log", str(live_log)]) == 0
    assert main(["replay", str(config), str(record), "--log", str(replay_log)]) == 0
    assert live_log.read_bytes() == replay_log.read_bytes()


def test_run_tells_systemd_ready_pings_the_watchdog_and_says_stopping(tmp_path: Path) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(path)
        env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "500000", "SDL_AUDIODRIVER": "dummy"}
        args = ("run", str(config), "--replay", str(DEMO_RECORDING), "--speed", "10", "--quiet")
        process = exhibit_process(*args, extra_env=env)
        got: list[bytes] = []
        notify.settimeout(0.2)
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:  # read as systemd does, while it runs
            with contextlib.suppress(TimeoutError):
                got.append(notify.recv(4096))
            if got and got[-1].startswith(b"STOPPING"):
                break
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    text = [g.decode() for g in got]
    assert any(t.startswith("READY=1") for t in text)
    assert sum(t == "WATCHDOG=1" for t in text) >= 5  # 3.2 s at one ping per 0.25 s
    assert any("STATUS=state welcome" in t for t in text)
    assert text[-1].startswith("STOPPING=1")


def test_soak_bench_reports_memory_files_and_threads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--soak", "5000", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["frames"] == 5000
    assert figures["rss_growth_mib"] < figures["target_growth_mib"]
    assert figures["threads"][1] <= figures["threads"][0]


def test_a_recording_of_a_real_video_holds_no_image(tmp_path: Path, astronaut_video: Path) -> None:
    """PRIVACY.md: images are never written; a recording holds skeleton numbers only."""
    recorded = tmp_path / "recorded.jsonl"
    assert main(["record", str(astronaut_video), "-o", str(recorded)]) == 0
    lines = recorded.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        frame = json.loads(line)
        assert set(frame) <= {"t", "i", "skeletons", "sensors", "pose", "camera"}
        for skeleton in frame["skeletons"]:
            values = [v for row in skeleton["lm"] for v in row]
            assert all(isinstance(v, int | float) for v in values) and len(values) == 33 * 4
    # About a kilobyte per frame of 512x512 pixels (786 kB as raw RGB).
    assert recorded.stat().st_size < 4000 * len(lines)
