"""The host link against pyserial's ``loop://`` (the test plays the device), the clock mapping,
and the ``[bridge]`` config section.

On ``loop://`` everything the link writes comes back to it too: its own COMMAND frames are
counted as ``unexpected`` and otherwise ignored, which these tests rely on.
"""

from __future__ import annotations

import binascii
import itertools
import os
import random
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from exhibit.config.checker import Checker
from firmware_bridge import codec
from firmware_bridge.clock import ClockMapper
from firmware_bridge.codec import Ack, Error, Event, Heartbeat, Hello, Nack, SensorBatch
from firmware_bridge.config import BridgeConfig, parse_bridge
from firmware_bridge.errors import BridgeUrlError
from firmware_bridge.items import BridgeEvent, BridgeItem, BridgeReading, DeviceError
from firmware_bridge.link import BridgeLink, LinkHealth, LinkState, SerialPort
from firmware_bridge.urls import check_device_url

HELLO = Hello("exhibit-pico", (1, 0, 0), codec.CAP_DISTANCE | codec.CAP_LEDS, 30, 3, 0, 0xB007)


class FakeClock:
    """The link's clock, moved by the test."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class LoopDevice:
    """Opens a fresh ``loop://`` port for each connection; the test writes the device's side."""

    def __init__(self) -> None:
        self.ports: list[SerialPort] = []
        self.fail_next = 0
        self.open_times: list[float] = []

    def open(self, url: str, baud: int) -> SerialPort:
        self.open_times.append(time.monotonic())
        if self.fail_next:
            self.fail_next -= 1
            raise serial.SerialException(f"could not open port {url}: unplugged (test)")
        port: SerialPort = serial.serial_for_url("loop://", timeout=0.02)
        self.ports.append(port)
        return port

    def send(self, *messages: codec.Message) -> None:
        self.write(b"".join(m.frame() for m in messages))

    def write(self, data: bytes) -> None:
        port = self.ports[-1]
        for i in range(0, len(data), 1024):
            port.write(data[i : i + 1024])

    def unplug(self) -> None:
        self.ports[-1].close()


def wait(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture
def device() -> LoopDevice:
    return LoopDevice()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_link(device: LoopDevice, clock: FakeClock) -> Iterator[Callable[..., BridgeLink]]:
    links: list[BridgeLink] = []

    def make(**kwargs: object) -> BridgeLink:
        options: dict[str, object] = {
            "clock": clock,
            "open_port": device.open,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.2,
        }
        options.update(kwargs)
        link = BridgeLink("loop://", **options)  # type: ignore[arg-type]
        links.append(link)
        link.start()
        assert wait(lambda: len(device.ports) > 0 or device.open_times != [])
        return link

    yield make
    for link in links:
        link.close()


def up_link(make_link: Callable[..., BridgeLink], device: LoopDevice, **kw: object) -> BridgeLink:
    link = make_link(**kw)
    assert wait(lambda: bool(device.ports))
    device.send(HELLO)
    assert link.wait_up(3.0), link.health()
    return link


def state_is(link: BridgeLink, state: LinkState) -> Callable[[], bool]:
    return lambda: link.health().state is state


# -- handshake, items, times -----------------------------------------------------------------


def test_hello_brings_the_link_up(make_link: Callable[..., BridgeLink], device: LoopDevice) -> None:
    link = make_link()
    assert wait(state_is(link, LinkState.HANDSHAKE))
    assert "waiting for HELLO" in link.health().reason
    device.send(HELLO)
    assert link.wait_up(3.0)
    health = link.health()
    assert health.healthy
    assert health.device is not None
    assert (health.device.firmware, health.device.version) == ("exhibit-pico", (1, 0, 0))
    assert health.device.has_distance and health.device.has_leds and not health.device.has_inputs
    assert health.device.led_count == 30
    assert health.reason == "exhibit-pico 1.0.0 on loop://"
    assert health.counters.hellos == 1 and health.counters.connects == 1
    # the link asked for HELLO as it opened the port: a 0x00, then COMMAND(OP_HELLO), echoed here
    assert health.counters.unexpected >= 1


def test_readings_and_events_carry_mapped_host_times(
    make_link: Callable[..., BridgeLink], device: LoopDevice, clock: FakeClock
) -> None:
    link = up_link(make_link, device)
    clock.now = 101.0
    device.send(Heartbeat(0, 10_000))  # device time 10.000 s arrived at host time 101.0
    assert wait(lambda: link.counters().heartbeats == 1)
    device.send(
        SensorBatch(9_900, [(0, codec.SENSOR_DISTANCE, 812), (50, codec.SENSOR_DISTANCE, -1)]),
        Event(9_990, codec.EVENT_DOWN, 2),
        Event(10_000, codec.EVENT_UP, 2),
    )
    assert wait(lambda: link.counters().events == 2)
    items = link.drain()
    assert items == [
        BridgeReading(pytest.approx(100.9), "distance", 1, 812, 9_900),  # type: ignore[arg-type]
        BridgeReading(pytest.approx(100.95), "distance", 1, -1, 9_950),  # type: ignore[arg-type]
        BridgeEvent(pytest.approx(100.99), "down", 2, 9_990),  # type: ignore[arg-type]
        BridgeEvent(pytest.approx(101.0), "up", 2, 10_000),  # type: ignore[arg-type]
    ]
    first = items[0]
    assert isinstance(first, BridgeReading)
    assert first.distance_m == 0.812
    assert isinstance(items[1], BridgeReading) and items[1].distance_m is None
    assert link.drain() == []
    assert link.to_host_time(11_000) == pytest.approx(102.0)


def test_device_errors_become_items(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    seen: list[BridgeItem] = []
    link = up_link(make_link, device, on_item=seen.append)
    device.send(Error(codec.ERR_SENSOR, "distance sensor: [Errno 5] EIO"))
    assert wait(lambda: link.counters().device_errors == 1)
    (item,) = link.drain()
    assert isinstance(item, DeviceError)
    assert (item.code, item.text) == (codec.ERR_SENSOR, "distance sensor: [Errno 5] EIO")
    assert seen == [item]
    assert item.as_dict()["kind"] == "device_error"


def test_commands_ack_nack_timeout_and_late_replies(
    make_link: Callable[..., BridgeLink], device: LoopDevice, clock: FakeClock
) -> None:
    link = up_link(make_link, device)
    pending = link.led_fill(255, 80, 0)
    assert not pending.done()
    device.send(Ack(pending.seq))
    result = pending.wait(2.0)
    assert result.ok and result.status == "ack" and result.op == codec.OP_LED_FILL

    pending = link.send_command(0x55)
    device.send(Nack(pending.seq, codec.NACK_UNKNOWN_OP))
    result = pending.wait(2.0)
    assert (result.status, result.reason, result.detail) == ("nack", 1, "unknown op")

    pending = link.send_command(codec.OP_SAMPLE_PERIOD, (100).to_bytes(2, "little"), 0.5)
    clock.now += 0.6
    result = pending.wait(2.0)
    assert (result.status, result.detail) == ("timeout", "no ACK or NACK in time")
    device.send(Ack(pending.seq))  # the answer came too late
    assert wait(lambda: link.counters().late_replies == 1)
    counters = link.counters()
    assert (counters.acked, counters.nacked) == (1, 1)
    assert counters.timed_out >= 1


def test_commands_are_not_sent_while_down(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    device.fail_next = 1000
    link = make_link()
    assert wait(lambda: link.counters().open_failures >= 1)
    result = link.command(codec.OP_LED_FILL, b"\x00\x00\x00")
    assert result.status == "not_sent"
    assert "not connected (cannot open loop://" in result.detail
    assert link.counters().not_sent == 1
    assert link.send_command(codec.OP_LED_SET, bytes(300)).result is not None


def test_close_ends_waiting_commands(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = up_link(make_link, device)
    pending = link.send_command(codec.OP_LED_FILL, b"\x01\x02\x03", timeout_s=30)
    link.close()
    result = pending.wait(1.0)
    assert (result.status, result.detail) == ("not_sent", "link closed")
    assert link.health().state is LinkState.CLOSED


# -- versions and bad frames -----------------------------------------------------------------


def raw_frame(version: int, kind: int, body: bytes) -> bytes:
    data = bytes((version, kind)) + body
    return codec.cobs_encode(data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")) + b"\0"


def test_a_newer_major_version_is_reported_not_misparsed(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = make_link()
    assert wait(lambda: bool(device.ports))
    device.write(raw_frame(0x20, codec.HELLO, b"\x02\x00\x00 whatever 2.0 sends"))
    assert wait(state_is(link, LinkState.INCOMPATIBLE))
    health = link.health()
    assert health.reason.startswith("device speaks protocol 2.0; this host speaks 1.0")
    assert health.counters.newer_version == 1 and health.device is None
    device.send(HELLO)  # reflashed with firmware speaking 1.x
    assert link.wait_up(3.0)


def test_bad_frames_are_counted_and_the_stream_resynchronizes(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = up_link(make_link, device)
    good = Heartbeat(1, 500).frame()
    bad_crc = bytearray(good)
    bad_crc[2] ^= 0x40  # a data byte (the type): the CRC catches it
    bad_frames = [
        b"line noise\x00",
        bytes(bad_crc),
        raw_frame(0x10, 0x1D, b""),  # unknown type
        raw_frame(0x10, codec.ACK, b"\x01"),  # ACK one byte short
        raw_frame(0x01, codec.ACK, b"\x01\x00"),  # an older major version
        b"\x07" * 300 + b"\x00",  # no delimiter for 300 bytes
    ]
    device.write(b"".join(bad_frames) + good)
    assert wait(lambda: link.counters().heartbeats == 1)
    c = link.counters()
    assert (c.bad_cobs, c.bad_crc, c.unknown_type, c.bad_body) == (1, 1, 1, 1)
    assert (c.older_version, c.oversize, c.bad_frames) == (1, 1, 6)
    assert c.garbage_bytes == sum(len(f) - 1 for f in bad_frames)
    assert link.health().state is LinkState.UP


def test_a_flood_is_survived_with_bounded_memory(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = up_link(make_link, device, queue_size=64)
    n = 2000
    batch = b"".join(
        SensorBatch(i, [(0, codec.SENSOR_DISTANCE, i)]).frame() for i in range(1000, 1000 + n)
    )
    device.write(batch)
    device.write(b"\x55" * 100_000)  # and a long run of bytes with no delimiter
    device.write(b"\x00")
    assert wait(lambda: link.counters().readings == n, 10.0)
    assert wait(lambda: link.counters().garbage_bytes == 100_000)
    assert link.counters().oversize == 1
    items = link.drain()
    assert len(items) == 64
    kept = [i.device_ms for i in items if isinstance(i, BridgeReading)]
    assert kept == list(range(1000 + n - 64, 1000 + n))  # the newest are kept
    assert link.counters().items_dropped == n - 64
    pending = link.led_fill(1, 2, 3)
    device.send(Ack(pending.seq))
    assert pending.wait(2.0).ok
    assert link.health().state is LinkState.UP


def test_a_failing_callback_does_not_stop_the_link(
    make_link: Callable[..., BridgeLink], device: LoopDevice, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(item: BridgeItem) -> None:
        raise RuntimeError("consumer bug")

    link = up_link(make_link, device, on_item=boom)
    device.send(Event(1, codec.EVENT_DOWN, 0), Heartbeat(1, 2))
    assert wait(lambda: link.counters().heartbeats == 1)
    assert len(link.drain()) == 1
    assert "on_item callback failed" in caplog.text


# -- heartbeat watchdog, unplug, reconnect -----------------------------------------------------


def test_heartbeat_watchdog_marks_stale_then_recovers(
    make_link: Callable[..., BridgeLink], device: LoopDevice, clock: FakeClock
) -> None:
    link = up_link(make_link, device, heartbeat_timeout_s=3.0)
    device.send(Heartbeat(0, 1000))
    assert wait(lambda: link.counters().heartbeats == 1)
    clock.now += 3.2
    assert wait(state_is(link, LinkState.STALE))
    health = link.health()
    assert health.reason == "no heartbeat for 3.2 s (timeout 3 s)"
    assert health.last_heartbeat_age_s == pytest.approx(3.2)
    assert health.counters.stale == 1
    device.send(Heartbeat(3, 4200))  # seq 1 and 2 were lost
    assert wait(state_is(link, LinkState.UP))
    assert link.counters().heartbeats_missed == 2


def test_a_silent_port_is_reopened(
    make_link: Callable[..., BridgeLink], device: LoopDevice, clock: FakeClock
) -> None:
    link = up_link(make_link, device, heartbeat_timeout_s=1.0)
    clock.now += 3.5  # three heartbeat timeouts without a single valid frame
    assert wait(lambda: link.counters().reopens_silent == 1)
    assert wait(lambda: len(device.ports) == 2)
    device.send(HELLO)
    assert link.wait_up(3.0)
    assert link.counters().connects == 2


def test_unplug_reconnects_with_backoff_and_resumes(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = up_link(make_link, device)
    device.send(Heartbeat(0, 1000))
    device.fail_next = 4  # the device stays away for four attempts
    opens_before = len(device.open_times)
    device.unplug()
    assert wait(state_is(link, LinkState.DOWN))
    assert link.health().counters.disconnects == 1
    assert wait(lambda: len(device.ports) == 2)
    attempts = device.open_times[opens_before:]
    assert len(attempts) == 5
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    # 0.05 s after the unplug, then 0.1, 0.2, 0.2 (the maximum)
    assert gaps[0] >= 0.09 and gaps[1] >= 0.18 and gaps[2] >= 0.18, gaps
    assert gaps[2] < 0.5, gaps
    health = link.health()
    assert health.counters.open_failures == 4
    device.send(HELLO, Heartbeat(1, 1500))
    assert link.wait_up(3.0)
    device.send(SensorBatch(1600, [(0, codec.SENSOR_DISTANCE, 700)]))
    assert wait(lambda: link.counters().readings == 1)


def test_a_device_restart_is_counted_and_the_clock_starts_afresh(
    make_link: Callable[..., BridgeLink], device: LoopDevice, clock: FakeClock
) -> None:
    link = up_link(make_link, device)
    device.send(Heartbeat(40, 60_000))
    assert wait(lambda: link.counters().heartbeats == 1)
    clock.now += 1.0
    device.send(Hello("exhibit-pico", (1, 0, 0), 0, 0, 0, 90_000, 0xB007))  # same boot
    assert wait(lambda: link.counters().hellos == 2)
    device.send(Hello("exhibit-pico", (1, 0, 0), 0, 0, 0, 90_000, 0x2))  # another boot
    assert wait(lambda: link.counters().device_restarts == 1)
    device.send(Event(89_990, codec.EVENT_DOWN, 0))
    assert wait(lambda: link.counters().events == 1)
    (event,) = link.drain()
    assert event.t_s == pytest.approx(clock.now - 0.01)
    clock.now += 0.5
    device.send(Heartbeat(0, 400))  # uptime went back: restarted, and its HELLO was missed
    assert wait(lambda: link.counters().device_restarts == 2)
    device.send(Event(300, codec.EVENT_UP, 0))
    assert wait(lambda: link.counters().events == 2)
    (event,) = link.drain()
    assert event.t_s == pytest.approx(clock.now - 0.1)


def test_bad_urls_are_refused_when_the_link_is_built() -> None:
    with pytest.raises(BridgeUrlError, match="unknown URL scheme"):
        BridgeLink("sockt://localhost:7000")
    with pytest.raises(BridgeUrlError, match="not set"):
        BridgeLink.from_config(BridgeConfig())
    link = BridgeLink.from_config(BridgeConfig(device="loop://", heartbeat_timeout_s=2.0))
    assert (link.url, link.heartbeat_timeout_s) == ("loop://", 2.0)


def test_health_is_a_plain_snapshot(
    make_link: Callable[..., BridgeLink], device: LoopDevice
) -> None:
    link = up_link(make_link, device)
    health = link.health()
    assert isinstance(health, LinkHealth)
    assert health.clock is not None and health.clock.points == 1


# -- the clock mapping ------------------------------------------------------------------------


def test_clock_mapper_finds_offset_and_drift_under_jittery_delays() -> None:
    rng = random.Random(7)
    offset, drift = 1234.5, 40e-6
    mapper = ClockMapper()
    arrivals = []
    for i in range(240):  # two minutes of heartbeats at 2 Hz
        d_ms = 5000 + 500 * i
        true_host = offset + d_ms / 1000 * (1 + drift)
        delay = rng.expovariate(1 / 0.002) + (0.08 if rng.random() < 0.05 else 0.0)
        mapper.observe(d_ms, true_host + delay)
        arrivals.append((d_ms, true_host, true_host + delay))
    estimate = mapper.estimate()
    assert estimate is not None
    assert estimate.drift_ppm == pytest.approx(40, abs=5)
    for d_ms, true_host, arrived in arrivals[-120:]:
        mapped = mapper.to_host(d_ms)
        assert mapped is not None
        assert abs(mapped - true_host) < 0.001
        assert mapped <= arrived + 1e-9


def test_clock_mapper_uses_the_lowest_delay_before_it_can_see_drift() -> None:
    mapper = ClockMapper()
    assert mapper.to_host(0) is None and mapper.estimate() is None
    mapper.observe(1000, 10.030)
    mapper.observe(1500, 10.502)
    mapper.observe(2000, 11.090)
    assert mapper.to_host(1000) == pytest.approx(10.002)
    estimate = mapper.estimate()
    assert estimate is not None and estimate.drift_ppm == 0.0


def test_clock_mapper_unwraps_32_bit_time_and_notices_restarts() -> None:
    mapper = ClockMapper()
    top = 2**32 - 100
    assert mapper.unwrap(top) == top
    assert mapper.unwrap(50) == 2**32 + 50
    assert mapper.unwrap(2**32 - 80) == 2**32 - 80  # slightly older than the newest: no wrap
    assert mapper.unwrap(150) == 2**32 + 150
    assert mapper.restarts == 0
    assert mapper.unwrap(2**32 - 5000) == 2**32 - 5000  # 5 s back: a restart
    assert mapper.restarts == 1


# -- config and URLs -------------------------------------------------------------------------


def test_config_section_with_every_key(tmp_path: os.PathLike[str]) -> None:
    device = os.path.join(tmp_path, "usb-MicroPython_Board-if00")
    open(device, "w").close()
    c = Checker()
    cfg = parse_bridge(
        {
            "device": device,
            "baud": 57600,
            "heartbeat_timeout_s": 2,
            "command_timeout_s": 0.25,
            "reconnect_min_s": 1,
            "reconnect_max_s": 30,
        },
        "bridge",
        c,
    )
    assert (c.problems, c.warnings) == ([], [])
    assert cfg == BridgeConfig(device, 57600, 2.0, 0.25, 1.0, 30.0)


def test_config_missing_or_absent_device_is_a_warning() -> None:
    c = Checker()
    assert parse_bridge({}, "bridge", c) == BridgeConfig()  # no [bridge]: no bridge, no warning
    assert (c.problems, c.warnings) == ([], [])
    assert parse_bridge({"baud": 9600}, "bridge", c).device is None
    assert c.problems == []
    assert c.warnings[0].startswith("bridge.device: missing; the bridge stays off; expected")
    c = Checker()
    path = "/dev/serial/by-id/usb-MicroPython_Board_in_FS_mode_0000-if00"
    cfg = parse_bridge({"device": path}, "bridge", c)
    assert cfg.device == path and c.problems == []
    assert c.warnings == [
        f'bridge.device: not present now (got "{path}"); the link will keep trying to open it: '
        "plug the microcontroller in, or check the name under /dev/serial/by-id/"
    ]


def test_config_warns_about_unstable_tty_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os.path, "exists", lambda path: True)
    c = Checker()
    parse_bridge({"device": "spy:///dev/ttyACM0?file=/tmp/spy.txt"}, "bridge", c)
    assert c.problems == []
    assert "/dev/ttyACM0 may name another device after a replug" in c.warnings[0]


def test_config_errors_name_path_value_expectation_and_hint() -> None:
    c = Checker()
    parse_bridge(
        {
            "device": "sockt://localhost:7000",
            "heartbeat_timeout_s": 0.5,
            "reconnect_min_s": 5,
            "reconnect_max_s": 1,
            "baudrate": 9600,
        },
        "bridge",
        c,
    )
    assert c.problems[0] == (
        'bridge.device: unknown URL scheme "sockt" (got "sockt://localhost:7000"); expected a '
        'device path such as "/dev/serial/by-id/usb-..." or a pyserial URL (loop://, '
        "socket://host:port, rfc2217://host:port, spy://<device>, hwgrep://<regexp>); "
        "did you mean socket?"
    )
    assert c.problems[1] == (
        "bridge.heartbeat_timeout_s: out of range (got 0.5); expected a value >= 1 and <= 60"
    )
    assert c.problems[2] == (
        "bridge.reconnect_max_s: smaller than reconnect_min_s (got 1); "
        "expected a value >= reconnect_min_s (5)"
    )
    assert c.problems[3].startswith("bridge.baudrate: unknown key; expected one of baud,")
    assert c.problems[3].endswith('did you mean "baud"?')
    assert len(c.problems) == 4


@pytest.mark.parametrize(
    ("url", "what"),
    [
        (5, "not a non-empty string"),
        ("", "not a non-empty string"),
        ("dev/ttyACM0", "not an absolute device path"),
        ("socket:localhost:7000", "not a URL (no //)"),
        ("socket://localhost", "socket:// needs a port"),
        ("socket://:7000", "socket:// needs a host"),
        ("socket://localhost:99999", "bad port (Port out of range 0-65535)"),
        ("socket://localhost:7000/x", "socket:// takes no path"),
        ("socket://localhost:7000?loging=debug", 'unknown socket:// option "loging"'),
        ("socket://localhost:7000?logging=loud", 'logging level "loud"'),
        ("loop://x", "loop:// takes no host or path"),
        ("spy://", "spy:// needs the port it wraps"),
        ("spy://ttyACM0", "spy:// wraps a bad port: not an absolute device path"),
        (
            "hwgrep://(",
            "not a regular expression (missing ), unterminated subpattern at position 0)",
        ),
        (" /dev/ttyACM0", "has leading or trailing spaces"),
    ],
)
def test_bad_device_urls(url: object, what: str) -> None:
    problem = check_device_url(url)
    assert problem is not None
    assert problem.what == what


@pytest.mark.parametrize(
    "url",
    [
        "/dev/serial/by-id/usb-MicroPython_Board_in_FS_mode_e6614c311b7e6f35-if00",
        "/dev/pts/5",
        "COM3",
        "loop://",
        "loop://?logging=debug",
        "socket://localhost:7000",
        "socket://[::1]:7000",
        "rfc2217://10.0.0.5:2217?ign_set_control&timeout=5",
        "spy:///dev/ttyACM0?file=/tmp/spy.txt&color",
        "spy://socket://localhost:7000",
        "hwgrep://2e8a:0005",
        "alt:///dev/ttyACM0?class=PosixPollSerial",
    ],
)
def test_good_device_urls(url: str) -> None:
    assert check_device_url(url) is None
