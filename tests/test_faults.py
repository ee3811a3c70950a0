"""Faults an unattended exhibit meets, each through the running loop: the show goes on and
nothing is lost (docs/faults.md lists them with what a technician sees).

Faults covered elsewhere and not repeated here: a camera source reopening with backoff
(tests/test_sources.py), the bridge unplugged under the pipeline alone (tests/test_sensor_feed.py),
an OSC sender against a receiver that restarts (tests/test_osc.py, tests/test_osc_tcp.py), and a
broken config rejected on reload (tests/test_live.py::
test_a_broken_config_is_rejected_and_a_good_one_swapped_in).
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import pyliblo3
import pytest
from skimage import data

from exhibit.atomic import backup_path
from exhibit.config.load import load
from exhibit.cues.osc.sender import OscSender
from exhibit.events import Event
from exhibit.live import CueSinks, LiveControls
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.runtime import OscSink, Pacer, run_frames
from exhibit.skeleton import Frame
from exhibit.sources.images import CameraSource
from exhibit.sources.pose import PoseEstimator
from exhibit.sources.pose_source import PoseFrameSource
from tests import faults_helpers
from tests.peers import LibloReceiver, Received, free_udp_port

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "media" / "demo"


class Collect:
    """A sink keeping every event (what the show did)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def states(events: list[Event]) -> list[str]:
    return [e.name for e in events if e.kind == "state"]


# -- 1. camera unplugged and plugged back, through the live loop -----------------------------

CAMERA_FPS = 15.0
CAMERA_SHOW = """
[presence]
enter_after_s = 0.2
leave_after_s = 6.0
[targets]
projector = { url = "udp://127.0.0.1:PORT" }
[stream]
target = "projector"
rate_hz = 5
joints = ["nose"]
[show]
initial = "attract"
any_state = [{ on = "presence.leave", to = "attract" }]
[show.states.attract]
transitions = [{ on = "presence.enter", to = "welcome" }]
[show.states.welcome]
transitions = [{ after = "2s", to = "explain" }]
[show.states.explain]
"""


class PacedCapture:
    """``cv2.VideoCapture`` on a video file, read at a camera's pace (a file decodes faster
    than real time). The file stands in for ``/dev/video0``: renamed away, it cannot be
    opened; once the open one has played to its end, reads fail as an unplugged camera's do."""

    def __init__(self, path: Path, fps: float) -> None:
        self._capture: Any = cv2.VideoCapture(str(path))
        self._period_s = 1.0 / fps
        self._next_s = time.monotonic()

    def read(self) -> tuple[bool, Any]:
        delay_s = self._next_s - time.monotonic()
        if delay_s > 0:
            time.sleep(delay_s)
        self._next_s = max(self._next_s + self._period_s, time.monotonic())
        ok, image = self._capture.read()
        return bool(ok), image

    def isOpened(self) -> bool:  # OpenCV's spelling
        return bool(self._capture.isOpened())

    def release(self) -> None:
        self._capture.release()


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator() as pose:
        yield pose


def write_astronaut_video(path: Path, frames: int, fps: float) -> None:
    rgb = cast(Callable[[], npt.NDArray[np.uint8]], data.astronaut)()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    height, width = bgr.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.roll(bgr, 2 * i, axis=1))
    writer.release()


def test_camera_unplugged_and_replugged_while_the_show_runs(
    tmp_path: Path, estimator: PoseEstimator, caplog: pytest.LogCaptureFixture
) -> None:
    device = tmp_path / "video0.avi"
    away = tmp_path / "unplugged.avi"
    write_astronaut_video(device, frames=24, fps=CAMERA_FPS)
    config_path = tmp_path / "exhibit.toml"
    config_path.write_text(CAMERA_SHOW.replace("PORT", str(free_udp_port())), encoding="utf-8")
    config = load(config_path)
    camera = CameraSource(
        str(device),
        capture_factory=lambda: PacedCapture(device, CAMERA_FPS),
        lost_after_s=0.3,
        reopen_backoff_s=(0.05, 0.2),
    )
    source = PoseFrameSource(camera, estimator, tick_s=0.1)
    live = LiveControls(config_path, config)
    live.watch["camera"] = source.health
    stop = threading.Event()
    seen: list[Frame] = []
    replugged_at: list[float] = []
    deadline_s = time.monotonic() + 60.0

    def world(frames: Iterator[Frame]) -> Iterator[Frame]:
        """The technician: pulls the cable, waits, plugs it back in."""
        for frame in frames:
            seen.append(frame)
            if len(seen) == 3:
                device.rename(away)  # unplugged: the stream ends, reopening fails
            down = sum(not f.camera_ok for f in seen)
            if not replugged_at and down >= 10 and camera.stats.errors >= 2:
                away.rename(device)  # plugged back in
                replugged_at.append(frame.t_s)
            if replugged_at:
                back = [f for f in seen if f.camera_ok and f.t_s > replugged_at[0]]
                if len(back) >= 8:
                    stop.set()
            if time.monotonic() > deadline_s:
                stop.set()
            yield frame

    collect = Collect()
    caplog.set_level(logging.WARNING, logger="exhibit.sources.images")
    try:
        run_frames(world(iter(source)), Pipeline(config), [collect], stop=stop, between=live)
        health = live.health()["camera"]
    finally:
        camera.close()
        live.close()
    assert replugged_at, "the camera never gave frames again"
    events = collect.events
    # The show kept its state through the gap: no leave, no restart, its timer ran on.
    assert states(events) == ["attract", "welcome", "explain"]
    assert [e.name for e in events if e.kind == "presence"] == ["enter"]
    down = [f for f in seen if not f.camera_ok]
    assert len(down) >= 10
    times = [f.t_s for f in seen]
    assert times == sorted(times)  # one clock through the gap
    welcome = next(e.t_s for e in events if e.kind == "state" and e.name == "welcome")
    explain = next(e.t_s for e in events if e.kind == "state" and e.name == "explain")
    assert 2.0 <= explain - welcome < 2.2
    # Events after the replug: the visitor's joints stream again.
    assert any(e.kind == "stream" and e.t_s > replugged_at[0] for e in events)
    # What the technician sees: the gap in health and in the log.
    assert health["lost"] >= 1 and health["reopened"] >= 1
    assert health["frames_without_camera"] == len(down)
    assert health["ok"] is True
    assert "unplugged?" in caplog.text and "reopened after" in caplog.text


# -- 2. bridge unplugged, and OSC receivers down and back, through the live loop -------------


def demo_copy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exhibit.toml"
    path.write_text(text, encoding="utf-8")
    if not (tmp_path / "sounds").exists():
        (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    return path


def test_bridge_unplugged_while_the_show_runs(tmp_path: Path) -> None:
    """tests/test_sensor_feed.py pulls the cable under the pipeline; here the whole loop of
    ``exhibit run`` runs (live controls between frames, paced) and health says what happened."""
    from exhibit.sensors.feed import SensorFeed
    from exhibit.synth.script import scripted_visitor
    from firmware_bridge.sim import Simulator

    sim = Simulator(link_path=str(tmp_path / "usb-exhibit-pico-if00"))
    device = sim.start()
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text += f'\n[bridge]\ndevice = "{device}"\nheartbeat_timeout_s = 1.0\n'
    text += "[fusion]\nleave_after_s = 1.5\n"
    path = demo_copy(tmp_path, text)
    config = load(path)
    feed = SensorFeed(config)
    live = LiveControls(path, config)
    live.watch["bridge"] = feed.health
    while_down: list[dict[str, Any]] = []

    def world(frames: Iterator[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if frame.index == 75:  # 5 s: the visitor is there; the cable is pulled
                sim.unplug()
            if frame.index == 165:  # 11 s: plugged back in
                while_down.append(live.health()["bridge"])
                sim.replug()
            yield frame

    collect = Collect()
    try:
        assert feed.link is not None and feed.link.wait_up(5.0)
        frames = scripted_visitor(fps=15.0)[:300]  # the first 20 s of the visit
        run_frames(
            world(feed.attach(frames)),
            Pipeline(config),
            [collect],
            pacer=Pacer(speed=3.0),
            between=live,
        )
        deadline = time.monotonic() + 5.0
        while feed.health()["state"] != "up" and time.monotonic() < deadline:
            time.sleep(0.05)
        after = feed.health()
    finally:
        feed.close()
        sim.close()
        live.close()
    events = collect.events
    faults = [(e.name, e.data.get("sensor")) for e in events if e.kind == "sensor"]
    assert ("fault", "bridge") in faults
    assert faults.index(("fault", "bridge")) < faults.index(("ok", "bridge"))
    assert states(events)[:3] == ["attract", "welcome", "explain"]
    assert "presence" not in [e.kind for e in events if 5.0 < e.t_s < 12.0]  # nobody "left"
    assert while_down[0]["state"] != "up" and while_down[0]["disconnects"] >= 1
    assert after["state"] == "up" and after["connects"] >= 2


class Projector(LibloReceiver):
    """A liblo UDP receiver on a given port: a projector that is switched off and on again."""

    def __init__(self, port: int | None = None) -> None:
        self.server = pyliblo3.Server(port) if port is not None else pyliblo3.Server()
        self.port = self.server.port
        self.got = []
        self.server.add_method(None, None, self._on_message)

    def off(self) -> None:
        self.server.free()


def test_receivers_down_and_back_while_the_show_runs(tmp_path: Path) -> None:
    """The projector (UDP, liblo) is switched off mid-show and on again, and the sound server
    (TCP, liblo) restarts: the show runs exactly as it does with no fault, the failures are
    counted in health, and cues reach both once they are back (a cue sent while its receiver
    is down is dropped, not queued: a late cue is worse than none)."""
    from tests.test_osc_tcp import LibloTcpPeer, wait_until

    projector, sound = Projector(), LibloTcpPeer()
    udp_port, tcp_port = projector.port, sound.port
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{udp_port}")
    text = text.replace("udp://127.0.0.1:9001", f"tcp://127.0.0.1:{tcp_port}")
    # The joint stream goes to the sound server: a steady flow over the TCP connection.
    text = text.replace('[stream]\ntarget = "projector"', '[stream]\ntarget = "sound"')
    path = demo_copy(tmp_path, text)
    config = load(path)
    recorded = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    reference = Collect()
    run_frames(recorded, Pipeline(config), [reference])

    cues = CueSinks(config, make=lambda c: [OscSink(OscSender(c.targets))])
    live = LiveControls(path, config, cues)
    while_down: list[dict[str, Any]] = []
    before: list[Received] = []

    def world(frames: list[Frame]) -> Iterator[Frame]:
        nonlocal projector, sound
        for frame in frames:
            if frame.index == 150:  # 5 s: the projector is switched off, the sound server too
                before.extend(projector.wait_for(1, timeout_s=1.0))
                projector.off()
                sound.stop()
            if frame.index == 300:  # 10 s: the sound server is back, on the same port
                sound = LibloTcpPeer(tcp_port)
            if frame.index == 450:  # 15 s: the projector is back, on the same port
                while_down.append(live.health()["targets"])
                projector = Projector(udp_port)
            yield frame

    collect = Collect()
    try:
        run_frames(
            world(recorded), Pipeline(config), [cues, collect], pacer=Pacer(speed=6.0), between=live
        )
        after = live.health()["targets"]
        wait_until(lambda: ("/sound/stop", []) in sound.received(), 3.0)
        got_sound = sound.received()
        got_projector = projector.wait_for(10**6, timeout_s=0.5)  # all that came
    finally:
        live.close()
        projector.off()
        sound.stop()
    # The show is the one it is with every receiver up: the core never waits on a sink.
    assert [e.to_json() for e in collect.events] == [e.to_json() for e in reference.events]
    assert before, "the projector got nothing before it was switched off"
    assert while_down[0]["projector"]["failed"] >= 1
    assert "ECONNREFUSED" in str(while_down[0]["projector"]["error"])
    assert while_down[0]["sound"]["failed"] + after["sound"]["failed"] >= 1
    # Back: the projector gets cues again; the sound server gets the joint stream and the
    # shutdown's stop over a new connection.
    # The goodbye's bundle (15.6 s), the first packet after the projector came back, may be
    # refused by the kernel for an earlier datagram (UDP reports ICMP late); the next ones go.
    assert ("/scene", ["attract"], "s") in got_projector  # 28.3 s: the visitor left
    assert ("/scene", ["off"], "s") in got_projector  # the shutdown cue
    assert any(address.startswith("/exhibit/visitor/") for address, _ in got_sound)
    assert ("/sound/stop", []) in got_sound
    assert after["sound"]["sent"] > while_down[0]["sound"]["sent"]


def test_cues_queued_for_a_tcp_receiver_leave_before_the_sender_closes() -> None:
    """SIGTERM: the show's shutdown cues are queued for the TCP link, then the sender closes at
    once. They must still reach the receiver (they turn the projector and the sound off)."""
    from exhibit.events import Cue
    from tests.test_osc_tcp import LibloTcpPeer, tcp_target, wait_until

    receiver = LibloTcpPeer()
    try:
        sender = OscSender({"sound": tcp_target("sound", receiver.port)})
        assert sender.send(Cue("sound", "/hello", (0,)))
        assert wait_until(lambda: sender.stats()["sound"].connected is True)
        for index in range(40):
            assert sender.send(Cue("sound", "/off", (index,)))
        sender.close()
        assert wait_until(lambda: len(receiver.received()) == 41)
    finally:
        receiver.stop()
    assert receiver.received() == [("/hello", [0])] + [("/off", [i]) for i in range(40)]


# -- 3. config replaced by a broken one: tests/test_live.py (see the module docstring) -------

# -- 4. disk full ----------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", SDL_AUDIODRIVER="dummy")
    env["SDL_VIDEODRIVER"] = "dummy"
    return env


def demo_with_free_ports(tmp_path: Path) -> Path:
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{free_udp_port()}")
    text = text.replace("udp://127.0.0.1:9001", f"udp://127.0.0.1:{free_udp_port()}")
    return demo_copy(tmp_path, text)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_stops_neither_the_show_nor_the_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The event log and the recording go to /dev/full (every write: ENOSPC)."""
    from exhibit.runtime import LogSink
    from exhibit.service.writes import WriteHealth, record_alongside

    path = demo_with_free_ports(tmp_path)
    config = load(path)
    recorded = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    reference = Collect()
    run_frames(recorded, Pipeline(config), [reference])

    live = LiveControls(path, config)
    log_sink = LogSink("/dev/full")
    recording = WriteHealth("/dev/full", "recording")
    files = {"event_log": log_sink.health, "recording": recording}
    live.watch["files"] = lambda: {name: h.snapshot() for name, h in files.items()}
    collect = Collect()
    caplog.set_level(logging.INFO, logger="exhibit.files")
    frames = record_alongside(iter(recorded), "/dev/full", "test", recording)
    result = run_frames(frames, Pipeline(config), [log_sink, collect], between=live)
    health = live.health()["files"]
    live.close()
    assert result.frames == len(recorded)
    assert [e.to_json() for e in collect.events] == [e.to_json() for e in reference.events]
    logged = [r for r in caplog.records if r.name == "exhibit.files"]
    assert [r.levelname for r in logged] == ["ERROR", "ERROR"]  # once per file, not per frame
    assert "No space left on device" in logged[0].getMessage()
    lines = sum(1 for e in reference.events if e.kind != "stream")
    assert health["event_log"] == {
        "what": "event log",
        "written": 0,
        "lost": lines,
        "failures": 1,
        "failing": True,
        "stopped": False,
        "error": "No space left on device",
    }
    assert health["recording"]["stopped"] and health["recording"]["lost"] == len(recorded)


def test_exhibit_run_on_a_disk_that_fills_up(tmp_path: Path) -> None:
    """``exhibit run`` in a child whose files may not pass 3000 bytes: the event log and the
    recording fill up mid-run. The run plays to its end, says so once per file, and both files
    hold whole lines, the start of what they would have held."""
    from exhibit.cli import main
    from exhibit.recording.format import encode_frame

    config = demo_with_free_ports(tmp_path)
    visitor = DEMO_DIR / "visitor.jsonl"
    reference_log = tmp_path / "reference.jsonl"
    assert main(["replay", str(config), str(visitor), "--log", str(reference_log)]) == 0
    log, recording = tmp_path / "events.jsonl", tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "tests.faults_helpers", "fsize-exec", "3000", sys.executable]
    command += ["-m", "exhibit", "run", str(config), "--replay", str(visitor), "--quiet"]
    command += ["--log", str(log), "--record", str(recording), "--speed", "1000"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    frames = list(read_recording(visitor).frames())
    assert f"done: {len(frames)} frames" in done.stderr  # the whole visit was shown
    cannot = [line for line in done.stderr.splitlines() if "cannot write" in line]
    assert len(cannot) == 2, done.stderr  # once per file
    assert all("File too large" in line for line in cannot)
    text = log.read_text(encoding="utf-8")
    assert text.endswith("\n") and 0 < len(text) <= 3000
    assert reference_log.read_text(encoding="utf-8").startswith(text)
    kept = list(read_recording(recording).frames())  # whole lines: it reads without a warning
    assert recording.read_bytes().endswith(b"\n")
    assert 0 < len(kept) < len(frames)
    assert [encode_frame(f) for f in kept] == [encode_frame(f) for f in frames[: len(kept)]]
    assert "record(s) not written (File too large)" in done.stderr


def run_helper(command: str, folder: Path) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults_helpers", command, str(folder)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_state_and_taught_gestures_on_a_full_disk_keep_the_old_files(tmp_path: Path) -> None:
    result, _ = run_helper("fsize-atomic", tmp_path)
    state = tmp_path / faults_helpers.STATE
    assert result["state"] == f"{state}: cannot write: File too large"
    assert result["templates"] == f"{tmp_path / 'taught.json'}: cannot write: File too large"
    assert state.read_text(encoding="utf-8") == faults_helpers.state_text(2)  # untouched
    assert backup_path(state).read_text(encoding="utf-8") == faults_helpers.state_text(1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.bak"]


def test_an_event_log_that_fills_up_resumes_when_there_is_room(tmp_path: Path) -> None:
    health, stderr = run_helper("fsize-log", tmp_path)
    assert (health["failures"], health["failing"]) == (1, False)
    assert health["written"] + health["lost"] == 60 and health["lost"] > 0
    assert stderr.count("cannot write") == 1 and stderr.count("writing again") == 1
    lines = (tmp_path / faults_helpers.LOG).read_text(encoding="utf-8").splitlines(keepends=True)
    expected = [faults_helpers.log_event(i).to_json() + "\n" for i in range(60)]
    assert len(lines) == health["written"]
    assert set(lines) <= set(expected)  # whole lines only, each one as it was meant
    assert lines == [line for line in expected if line in lines]  # in order


# -- 5. killed at a random moment while writing ----------------------------------------------

KILL_ROUNDS = 12


def test_killed_at_random_moments_every_file_is_old_or_new(tmp_path: Path) -> None:
    """SIGKILL at seeded random moments while the child writes a state file (atomic, with a
    backup), an event log and a recording; after each kill the files are checked, then the
    child starts again from the state file it finds, as a restarted exhibit does."""
    rng = random.Random(20261125)
    last_version = 0
    versions: list[int] = []
    for _ in range(KILL_ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.faults_helpers", "churn", str(tmp_path)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"  # it started from the state it found
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            child.kill()
            child.wait(10)
            if child.stdout is not None:
                child.stdout.close()
        state = tmp_path / faults_helpers.STATE
        version = json.loads(state.read_text(encoding="utf-8"))["version"]
        assert state.read_text(encoding="utf-8") == faults_helpers.state_text(version)
        assert version > last_version
        backup = backup_path(state)
        assert backup.exists() or version == 1  # a kill never leaves a file without its .bak
        if backup.exists():
            old = json.loads(backup.read_text(encoding="utf-8"))["version"]
            assert backup.read_text(encoding="utf-8") == faults_helpers.state_text(old)
            assert last_version <= old <= version
        last_version = version
        versions.append(version)
        # At most the temporaries of the write the kill cut short (the file's and its link).
        assert len(list(tmp_path.glob(".state.json.*.tmp"))) <= 2
        log = (tmp_path / faults_helpers.LOG).read_bytes()
        assert log == b"" or log.endswith(b"\n")
        lines = log.decode("utf-8").splitlines()
        assert len(lines) % 3 == 0  # whole frames of three events
        assert lines == [faults_helpers.log_event(i).to_json() for i in range(len(lines))]
        frames = list(read_recording(tmp_path / faults_helpers.RECORDING).frames())
        assert [f.index for f in frames] == list(range(len(frames)))
    assert len(set(versions)) == KILL_ROUNDS


def test_a_recording_cut_by_a_power_cut_replays_up_to_the_cut(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A power cut can leave the last line of a recording cut anywhere (or zeros where the
    card had not written it yet): the frames before it replay, with one warning."""
    lines = (DEMO_DIR / "visitor.jsonl").read_bytes().splitlines(keepends=True)[:120]
    whole = b"".join(lines)
    rng = random.Random(3)
    caplog.set_level(logging.WARNING, logger="exhibit.recording.reader")
    for cut in sorted(rng.sample(range(len(lines[0]) + 1, len(whole)), 30)):
        for tail in (b"", b"\0" * 37):
            path = tmp_path / "cut.jsonl"
            path.write_bytes(whole[:cut] + tail)
            caplog.clear()
            frames = list(read_recording(path).frames())
            complete = whole[:cut].count(b"\n") - 1  # whole frame lines before the cut
            torn = not whole[:cut].endswith(b"\n") or tail
            assert len(frames) == complete
            assert ("cut short" in caplog.text) == bool(torn)


def test_an_atomic_write_keeps_the_mode_a_restarted_service_needs(tmp_path: Path) -> None:
    """A file saved by a technician's account is read by the service's user after the next
    restart: a replaced file keeps its mode, a new one gets open()'s (not mkstemp's 0600)."""
    from exhibit.atomic import write_text_atomic

    fresh = tmp_path / "floor.json"
    write_text_atomic(fresh, "{}")
    umask = os.umask(0o022)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    shared = tmp_path / "zones.json"
    shared.write_text("{}", encoding="utf-8")
    shared.chmod(0o640)
    write_text_atomic(shared, '{"zones": []}', backup=True)
    assert shared.stat().st_mode & 0o777 == 0o640
    assert backup_path(shared).stat().st_mode & 0o777 == 0o640


# -- 6. clock jumps --------------------------------------------------------------------------

WALL_CLOCK_READS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
WALL_CLOCK_ALLOWED = {
    "exhibit/analytics/cli.py": "the report's default end: now, as a date",
    "exhibit/analytics/sink.py": "dates a visit once (epoch); durations come from frame time",
    "exhibit/analytics/store.py": "dates stored sessions",
    "exhibit/telemetry/mqtt.py": "stamps published messages with the date; timing is monotonic",
    "calibration/cli.py": "dates a calibration report",
}
"""Modules that read the wall clock to put a date on something, never to time or pace."""


def wall_clock_reads(path: Path) -> list[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in WALL_CLOCK_READS
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                if (node.module, alias.name) in WALL_CLOCK_READS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module}")
    return found


def test_nothing_paces_or_times_with_the_wall_clock() -> None:
    """NTP steps the wall clock at boot (a Pi has no clock battery: hours, even years) and
    corrects it by minutes later. Pacing, timeouts, backoff, watchdog pings and frame times all
    use ``time.monotonic``; the wall clock may only put dates on things."""
    offenders = []
    for folder in ("exhibit", "firmware_bridge", "calibration"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in WALL_CLOCK_ALLOWED:
                offenders += wall_clock_reads(path)
    assert offenders == [], (
        "the wall clock jumps (NTP): time and pace with time.monotonic, or add the module to "
        "WALL_CLOCK_ALLOWED saying why it only dates things"
    )


class JumpingWallClock:
    """``time.time`` that NTP steps: +3 h (the first sync after boot), later -5 min."""

    def __init__(self) -> None:
        self.offset_s = 0.0
        self._real = time.time

    def __call__(self) -> float:
        return self._real() + self.offset_s


def test_the_live_loop_rides_out_wall_clock_jumps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo visit, paced at 10x real time through the live loop (live controls, OSC, the
    event log) while the wall clock jumps forward 3 h and back 5 min: the same events at the
    same frame times as without jumps (timers neither early nor stalled), and the run takes
    its 3 s, neither rushing after the forward jump nor waiting after the backward one."""
    from exhibit.runtime import LogSink

    path = demo_with_free_ports(tmp_path)
    config = load(path)
    recorded = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    reference = Collect()
    run_frames(recorded, Pipeline(config), [reference])

    wall = JumpingWallClock()
    monkeypatch.setattr(time, "time", wall)
    cues = CueSinks(config, make=lambda c: [OscSink(OscSender(c.targets))])
    live = LiveControls(path, config, cues)
    uptimes: list[float] = []

    def world(frames: list[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if frame.index == 300:
                wall.offset_s += 3 * 3600.0  # NTP's first sync after boot
            if frame.index == 600:
                wall.offset_s -= 300.0  # a later correction, backwards
            uptimes.append(live.status()["uptime_s"])
            yield frame

    stop = threading.Event()
    watchdog = threading.Timer(20.0, stop.set)  # a stalled loop fails, it does not hang
    watchdog.start()
    collect = Collect()
    start_s = time.monotonic()
    try:
        result = run_frames(
            world(recorded),
            Pipeline(config),
            [cues, LogSink(tmp_path / "events.jsonl"), collect],
            pacer=Pacer(speed=10.0, stop=stop),
            stop=stop,
            between=live,
        )
    finally:
        watchdog.cancel()
        live.close()
    elapsed_s = time.monotonic() - start_s
    span_s = (recorded[-1].t_s - recorded[0].t_s) / 10.0
    assert not result.stopped_early
    assert span_s - 0.05 <= elapsed_s < span_s + 1.5
    assert [e.to_json() for e in collect.events] == [e.to_json() for e in reference.events]
    assert uptimes == sorted(uptimes) and uptimes[-1] < elapsed_s + 1.0


# -- 7. docs/faults.md -----------------------------------------------------------------------


def test_every_test_docs_faults_names_exists() -> None:
    import re

    text = (ROOT / "docs" / "faults.md").read_text(encoding="utf-8")
    named = re.findall(r"(tests/\w+\.py)?::(test_\w+)", text)
    assert len(named) >= 15
    module = "tests/test_faults.py"
    for path, name in named:
        module = path or module  # "::name" continues the module named last
        source = (ROOT / module).read_text(encoding="utf-8")
        assert f"def {name}(" in source, f"docs/faults.md names {module}::{name}"
    for path in set(re.findall(r"`(tests/\w+\.py)`", text)):
        assert (ROOT / path).exists(), path
