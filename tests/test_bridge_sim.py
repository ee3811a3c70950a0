"""The host link against the reference firmware, run by the simulator behind a real pty.

The firmware is ``firmware_bridge/firmware/main.py`` itself; the host side opens the pty's slave
(through the simulator's by-id-like symlink) with pyserial, as it opens a Pico on the Pi.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import serial

from firmware_bridge import codec
from firmware_bridge.items import BridgeEvent, BridgeReading, DeviceError
from firmware_bridge.link import BridgeLink, LinkState
from firmware_bridge.sim import Segment, Simulator, VisitorScript

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")


def wait(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def new_link(path: str, **kwargs: object) -> BridgeLink:
    options: dict[str, object] = {
        "heartbeat_timeout_s": 1.0,
        "command_timeout_s": 0.3,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
    }
    options.update(kwargs)
    return BridgeLink(path, **options)  # type: ignore[arg-type]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(link_path=str(tmp_path / "usb-exhibit-pico-if00"))
    simulator.start()
    yield simulator
    simulator.close()


@pytest.fixture
def link(sim: Simulator) -> Iterator[BridgeLink]:
    bridge = new_link(sim.device_path)
    bridge.start()
    assert bridge.wait_up(3.0), bridge.health()
    yield bridge
    bridge.close()


def readings(items: Sequence[object]) -> list[BridgeReading]:
    return [i for i in items if isinstance(i, BridgeReading)]


def test_pyserial_opens_the_pty_slave_and_the_firmware_answers(sim: Simulator) -> None:
    assert os.path.realpath(sim.device_path) == sim.pty_path
    assert sim.pty_path is not None and sim.pty_path.startswith("/dev/pts/")
    rx = codec.Receiver(hunting=True)
    with serial.Serial(sim.device_path, timeout=0.05) as port:
        port.write(b"\x00" + codec.Command(9, codec.OP_HELLO).frame())
        got: list[codec.Message] = []
        end = time.monotonic() + 2.0
        while time.monotonic() < end and not any(isinstance(m, codec.Hello) for m in got):
            got += rx.feed(port.read(256))
    assert codec.Ack(9) in got
    hello = next(m for m in got if isinstance(m, codec.Hello))
    assert (hello.firmware, hello.version, hello.led_count, hello.input_count) == (
        "exhibit-pico",
        (1, 0, 0),
        30,
        3,
    )
    assert rx.bad_frames() == 0


def test_hello_heartbeats_and_batches_with_mapped_times(sim: Simulator, link: BridgeLink) -> None:
    health = link.health()
    assert health.device is not None
    assert (health.device.firmware, health.device.version) == ("exhibit-pico", (1, 0, 0))
    assert health.device.capabilities == codec.CAP_DISTANCE | codec.CAP_INPUTS | codec.CAP_LEDS
    sim.set_distance(1234)
    link.drain()
    beats = link.counters().heartbeats
    start = time.monotonic()
    assert wait(lambda: link.counters().heartbeats >= beats + 3, 2.0)  # >= 1 Hz (it beats 2 Hz)
    elapsed = time.monotonic() - start
    assert elapsed < 1.6
    arrived = time.monotonic()
    got = readings(link.drain())
    assert len(got) >= 10 * elapsed  # 20 Hz sampling
    held = [r for r in got if r.value == 1234]
    assert len(held) >= len(got) - 3
    for r in got:
        true_t = sim.boot_time + r.device_ms / 1000.0
        assert abs(r.t_s - true_t) < 0.02, (r, true_t)
        assert r.t_s <= arrived
    assert [r.device_ms for r in got] == sorted(r.device_ms for r in got)
    assert link.counters().heartbeats_missed == 0 and link.counters().bad_frames == 0


def test_the_visitor_script_drives_the_distance(tmp_path: Path) -> None:
    script = VisitorScript((Segment(0.3, None), Segment(0.3, 1000.0, 1000.0)), noise_mm=0)
    with Simulator(script=script) as sim:
        link = new_link(sim.device_path)
        link.start()
        try:
            assert link.wait_up(3.0)
            time.sleep(0.7)
            values = {r.value for r in readings(link.drain())}
        finally:
            link.close()
    assert values == {codec.NO_TARGET, 1000}


def test_commands_are_acked_nacked_and_time_out_while_paused(
    sim: Simulator, link: BridgeLink
) -> None:
    assert link.led_fill(255, 80, 0).wait().ok
    assert sim.leds == bytes((255, 80, 0)) * 30
    assert link.led_set(2, bytes((1, 2, 3, 4, 5, 6))).wait().ok
    assert sim.leds[6:12] == bytes((1, 2, 3, 4, 5, 6))
    assert link.set_sample_period(100).wait().ok
    unknown = link.command(0x42)
    assert (unknown.status, unknown.reason, unknown.detail) == ("nack", 1, "unknown op")
    bad = link.command(codec.OP_LED_SET, bytes((29, 0, 1, 2, 3, 4, 5, 6)))  # past the end
    assert (bad.status, bad.reason) == ("nack", codec.NACK_BAD_ARGS)

    sim.pause()
    result = link.command(codec.OP_LED_FILL, bytes((0, 0, 0)))
    assert (result.status, result.detail) == ("timeout", "no ACK or NACK in time")
    assert sim.leds[:3] == bytes((255, 80, 0))
    sim.resume()
    assert wait(lambda: link.counters().late_replies == 1)  # the device caught up, too late
    assert sim.leds == bytes(90)


def test_a_hung_device_makes_the_link_stale_then_up(sim: Simulator, link: BridgeLink) -> None:
    sim.pause()
    assert wait(lambda: link.health().state is LinkState.STALE, 2.5)
    assert link.health().reason.startswith("no heartbeat for 1.")
    sim.resume()
    assert wait(lambda: link.health().state is LinkState.UP, 2.0)
    assert link.counters().stale == 1


def test_buttons_pressed_from_the_host_side_become_events(sim: Simulator, link: BridgeLink) -> None:
    link.drain()
    pressed = time.monotonic()
    sim.press(1)
    assert wait(lambda: link.counters().events == 1)
    time.sleep(0.05)
    sim.release(1)
    assert wait(lambda: link.counters().events == 2)
    events = [i for i in link.drain() if isinstance(i, BridgeEvent)]
    assert [(e.kind, e.input_id) for e in events] == [("down", 1), ("up", 1)]
    assert abs(events[0].t_s - pressed) < 0.03  # the first edge, not the debounced one
    assert 0.04 < events[1].t_s - events[0].t_s < 0.2


def test_a_broken_sensor_is_reported(sim: Simulator, link: BridgeLink) -> None:
    sim.break_sensor()
    assert wait(lambda: link.counters().device_errors == 1)
    time.sleep(0.2)
    link.drain()
    time.sleep(0.2)
    assert readings(link.drain()) == []
    sim.break_sensor(False)
    assert wait(lambda: link.counters().device_errors == 2)
    errors = [i for i in link.drain() if isinstance(i, DeviceError)]
    assert [e.text for e in errors] == ["distance sensor: back"]
    assert link.health().state is LinkState.UP


def test_unplug_and_replug_in_the_middle_of_a_stream(sim: Simulator, link: BridgeLink) -> None:
    assert wait(lambda: link.counters().readings >= 5)
    sim.unplug()
    assert wait(lambda: link.health().state is LinkState.DOWN, 2.0)
    health = link.health()
    assert health.counters.disconnects == 1
    assert "disconnected" in health.reason or "cannot open" in health.reason
    assert wait(lambda: link.counters().open_failures >= 2)  # the symlink is gone meanwhile
    link.drain()
    sim.replug()
    assert link.wait_up(3.0)
    counters = link.counters()
    assert counters.connects == 2 and counters.device_restarts == 1
    before = counters.readings
    assert wait(lambda: link.counters().readings >= before + 5)
    for r in readings(link.drain()):
        if r.device_ms < 1_000_000:
            assert abs(r.t_s - (sim.boot_time + r.device_ms / 1000.0)) < 0.02


def test_spy_url_hexdumps_the_traffic(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    link = new_link(f"spy://{sim.device_path}")  # pyserial's spy writes to stderr by default
    link.start()
    try:
        assert link.wait_up(3.0)
    finally:
        link.close()
    text = capsys.readouterr().err
    assert "RX" in text and "TX" in text


def start_sim_process(link_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firmware_bridge.sim",
            "--link",
            str(link_path),
            "--distance",
            "900",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_sim_process_killed_and_restarted(tmp_path: Path) -> None:
    path = tmp_path / "usb-exhibit-pico-if00"
    proc = start_sim_process(path)
    link = new_link(str(path))
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == str(path)
        link.start()
        assert link.wait_up(5.0)
        proc.stdin.write("press 0\n")
        proc.stdin.flush()
        assert wait(lambda: link.counters().events == 1)
        assert wait(lambda: 900 in {r.value for r in readings(link.drain())})
        proc.kill()
        proc.wait(5)
        close_pipes(proc)
        assert wait(lambda: link.health().state is LinkState.DOWN)
        assert link.counters().disconnects == 1

        proc = start_sim_process(path)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == str(path)
        assert link.wait_up(5.0)
        assert link.counters().device_restarts == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert not path.exists() and not path.is_symlink()
    finally:
        link.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        close_pipes(proc)


def close_pipes(proc: subprocess.Popen[str]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
