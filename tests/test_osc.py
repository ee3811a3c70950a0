"""OSC cues against an independent OSC implementation (liblo, via pyliblo3) on loopback.

What we check is what a projector or sound server would see: the address, the type tags and the
values that liblo decodes, the exact bytes liblo itself would send, and what the technician's
monitor prints. A dead target is a closed UDP port (or, where the OS reports no ICMP errors on
UDP, a host name that cannot resolve).
"""

from __future__ import annotations

import io
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pyliblo3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from exhibit.config.schema import TargetConfig
from exhibit.cues.osc import (
    OscSender,
    TargetStats,
    decode_packet,
    encode_bundle,
    encode_message,
    format_message,
    parse_target_url,
    resolves,
    run_monitor,
    type_tags,
    validate_address,
)
from exhibit.errors import CueError
from exhibit.events import Cue, OscArg
from tests.peers import LOOPBACK, LibloReceiver, free_udp_port, target

UNRESOLVABLE = "no-such-host.invalid"  # RFC 6761: .invalid never resolves


# -- helpers ---------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self, t_s: float = 1000.0) -> None:
        self.t_s = t_s

    def __call__(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        self.t_s += dt_s


def liblo_bytes(address: str, args: list[OscArg], tags: str) -> bytes:
    """The datagram liblo's own encoder sends for this message (pyliblo3 exposes no
    ``serialise``, so we capture what ``pyliblo3.send`` puts on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(3.0)
        message = pyliblo3.Message(
            address, *[(tag, arg) for tag, arg in zip(tags, args, strict=True)]
        )
        pyliblo3.send((LOOPBACK, sock.getsockname()[1]), message)
        data: bytes = sock.recv(65536)
        return data


def f32(value: float) -> float:
    """``value`` as it comes back from a 32-bit float."""
    result: float = struct.unpack(">f", struct.pack(">f", value))[0]
    return result


# -- encode ----------------------------------------------------------------------------------


def test_type_tags_map_python_types_and_check_bool_before_int() -> None:
    assert type_tags([3, 0.5, "hi", True, False]) == ",ifsTF"
    assert type_tags([]) == ","
    assert type_tags([1, True]) == ",iT"  # True is an int in Python, but tagged T


def test_encode_message_matches_hand_computed_bytes() -> None:
    # Every OSC string is NUL-terminated, then padded with NULs to a multiple of 4 bytes:
    #   "/ab"      3 chars + 1 NUL                     -> 4 bytes
    #   ",ifsTF"   6 chars + 1 NUL + 1 pad             -> 8 bytes
    #   1          int32 big-endian                    -> 00 00 00 01
    #   1.5        float32 big-endian (0x3FC00000)     -> 3f c0 00 00
    #   "hi"       2 chars + 1 NUL + 1 pad             -> 4 bytes
    #   True/False carry no bytes: the tag is the value
    golden = b"".join(
        [
            b"/ab\x00",
            b",ifsTF\x00\x00",
            b"\x00\x00\x00\x01",
            b"\x3f\xc0\x00\x00",
            b"hi\x00\x00",
        ]
    )
    assert encode_message("/ab", [1, 1.5, "hi", True, False]) == golden
    # no arguments: the type tag string is a lone comma (",\0\0\0")
    assert encode_message("/go", []) == b"/go\x00,\x00\x00\x00"
    # a string of exactly 4 characters still gets its NUL, hence 4 more bytes of padding
    assert encode_message("/abcdef", ["four"]) == b"/abcdef\x00,s\x00\x00four\x00\x00\x00\x00"


def test_encode_message_matches_liblo_for_a_typical_cue() -> None:
    args: list[OscArg] = [3, 0.25, "welcome", True, False, -7]
    assert encode_message("/scene/start", args) == liblo_bytes("/scene/start", args, "ifsTFi")


_address = st.from_regex(r"\A(/[A-Za-z0-9_.\-]{1,12}){1,4}\Z")
_arg: st.SearchStrategy[OscArg] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.floats(width=32, allow_nan=False),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00"), max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(address=_address, args=st.lists(_arg, max_size=6))
def test_encode_message_matches_liblo_bytes(address: str, args: list[OscArg]) -> None:
    tags = type_tags(args)[1:]
    assert encode_message(address, args) == liblo_bytes(address, args, tags)


@pytest.mark.parametrize(
    ("address", "args", "reason"),
    [
        ("scene/start", [], "must start with '/'"),
        ("", [], "must start with '/'"),
        ("/scene start", [], "contains ' '"),
        ("/scene", [2**31], "32-bit range"),
        ("/scene", [-(2**31) - 1], "32-bit range"),
        ("/scene", [1e39], "32-bit float"),
        ("/scene", ["a\x00b"], "NUL"),
        ("/scene", [None], "expected bool, int, float or str"),
        ("/scene", [b"bytes"], "expected bool, int, float or str"),
        ("/scene", ["\ud800"], "cannot encode"),
    ],
)
def test_encode_message_rejects_what_cannot_be_sent(
    address: str, args: list[Any], reason: str
) -> None:
    with pytest.raises(CueError, match=re.escape(reason)):
        encode_message(address, args)


def test_encode_message_accepts_int32_limits_and_wildcards() -> None:
    validate_address("/lights/*/level")
    assert len(encode_message("/x", [2**31 - 1, -(2**31)])) == 4 + 4 + 8


# -- url -------------------------------------------------------------------------------------


@given(port=st.integers(min_value=1, max_value=65535))
def test_parse_target_url_accepts_every_valid_port(port: int) -> None:
    assert parse_target_url(f"udp://projector.local:{port}") == ("udp", "projector.local", port)


@given(port=st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_parse_target_url_rejects_ports_out_of_range(port: int) -> None:
    with pytest.raises(ValueError, match=r"expected 1\.\.65535"):
        parse_target_url(f"udp://projector.local:{port}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("udp://127.0.0.1:9000", ("udp", "127.0.0.1", 9000)),
        ("udp://[::1]:9000", ("udp", "::1", 9000)),
        ("udp://[fe80::1%eth0]:9000", ("udp", "fe80::1%eth0", 9000)),
        ("UDP://Sound-Server:57120", ("udp", "Sound-Server", 57120)),
        ("udp://localhost:1", ("udp", "localhost", 1)),
        ("udp://projector.local.:9000", ("udp", "projector.local.", 9000)),
    ],
)
def test_parse_target_url_valid(url: str, expected: tuple[str, str, int]) -> None:
    assert parse_target_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("tcp://127.0.0.1:9000", "unsupported protocol 'tcp'.*accepted protocols: udp"),
        ("osc.udp://127.0.0.1:9000", "unsupported protocol 'osc.udp'"),
        ("127.0.0.1:9000", "not a URL"),
        ("udp://127.0.0.1", "missing port"),
        ("udp://127.0.0.1:", "missing port"),
        ("udp://:9000", "missing host"),
        ("udp://host:port", "'port' is not a number"),
        ("udp://host:-1", "is not a number"),
        ("udp://::1:9000", "in brackets"),
        ("udp://[::1]9000", "missing port"),
        ("udp://[::1:9000", "unclosed"),
        ("udp://[nope]:9000", "invalid IPv6 address"),
        ("udp://300.1.1.1:9000", "invalid IPv4 address"),
        ("udp://bad_host:9000", "invalid host 'bad_host'"),
        ("udp://-bad:9000", "invalid host"),
        ("udp://host:9000/path", "must not contain a path"),
        ("udp://user@host:9000", "must not contain a user"),
        ("udp://host:９０", "is not a number"),
    ],
)
def test_parse_target_url_invalid(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_target_url(url)


def test_resolves() -> None:
    assert resolves("localhost")
    assert resolves("127.0.0.1")
    assert not resolves(UNRESOLVABLE)
    assert not resolves("")


# -- sender ----------------------------------------------------------------------------------


def test_sender_delivers_address_tags_and_values_to_liblo(liblo: LibloReceiver) -> None:
    cues = [
        Cue("projector", "/scene/start", (3, 0.1, "welcome", True, False), name="start"),
        Cue("projector", "/scene/stop"),
        Cue("projector", "/level", (-(2**31), 2**31 - 1, -2.5, "")),
    ]
    with OscSender({"projector": target("projector", LOOPBACK, liblo.port)}) as sender:
        assert sender.send_many(cues) == 3
        assert sender.stats() == {"projector": TargetStats(sent=3, failed=0, last_error=None)}
    got = liblo.wait_for(3)
    assert len(got) == 3
    (addr0, args0, tags0), (addr1, args1, tags1), (addr2, args2, tags2) = got
    # liblo reports T and F as their own type tags, with Python True/False as values
    assert (addr0, tags0) == ("/scene/start", "ifsTF")
    assert args0[0] == 3 and type(args0[0]) is int
    assert args0[1] == pytest.approx(0.1, rel=1e-7) and args0[1] == f32(0.1)
    assert args0[2:] == ["welcome", True, False]
    assert args0[3] is True and args0[4] is False
    assert (addr1, args1, tags1) == ("/scene/stop", [], "")
    assert (addr2, tags2) == ("/level", "iifs")
    assert args2 == [-(2**31), 2**31 - 1, -2.5, ""]


def test_sender_reaches_an_ipv6_loopback_target() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        receiver = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        receiver.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with receiver:
        receiver.settimeout(3.0)
        port = receiver.getsockname()[1]
        config = TargetConfig(name="six", url=f"udp://[::1]:{port}", host="::1", port=port)
        with OscSender({"six": config}) as sender:
            assert sender.send(Cue("six", "/go", (1,)))
        assert receiver.recv(1024) == encode_message("/go", [1])


def test_sender_raises_for_unknown_target_and_bad_cues(liblo: LibloReceiver) -> None:
    with OscSender({"projector": target("projector", LOOPBACK, liblo.port)}) as sender:
        with pytest.raises(
            CueError, match=r"unknown OSC target 'projectr'.*known targets: projector"
        ):
            sender.send(Cue("projectr", "/go"))
        with pytest.raises(CueError, match="32-bit"):
            sender.send(Cue("projector", "/go", (2**40,)))
        with pytest.raises(CueError, match="must start with '/'"):
            sender.send(Cue("projector", "go"))
        assert sender.stats()["projector"] == TargetStats()
    with pytest.raises(CueError, match="closed"):
        sender.send(Cue("projector", "/go"))
    sender.close()  # twice is harmless


def _warnings(caplog: pytest.LogCaptureFixture, logger_name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == logger_name and r.levelno == logging.WARNING
    ]


def _infos(caplog: pytest.LogCaptureFixture, logger_name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == logger_name and r.levelno == logging.INFO
    ]


def _send_repeatedly(sender: OscSender, name: str, count: int) -> list[bool]:
    results = []
    for _ in range(count):
        results.append(sender.send(Cue(name, "/ping", (1,))))
        time.sleep(0.002)  # let the ICMP "port unreachable" come back on loopback
    return results


def test_closed_udp_port_is_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger_name = "test.osc.closed_port"
    caplog.set_level(logging.INFO, logger=logger_name)
    clock = FakeClock()
    port = free_udp_port()
    config = {"lamp": target("lamp", LOOPBACK, port)}
    with OscSender(config, clock=clock, logger=logging.getLogger(logger_name)) as sender:
        results = _send_repeatedly(sender, "lamp", 20)
        if all(results):
            pytest.skip("this OS reports no ECONNREFUSED on UDP; see the unresolvable-host test")
        assert results[0] is True  # nothing is known about the port before the first datagram
        assert False in results[1:3]  # ...but the ICMP reply is seen on the next sends
        stats = sender.stats()["lamp"]
        assert stats.failed == results.count(False)
        assert stats.sent == results.count(True)
        assert stats.last_error is not None and "ECONNREFUSED" in stats.last_error
        warnings = _warnings(caplog, logger_name)
        assert len(warnings) == 1, warnings
        assert "'lamp'" in warnings[0] and "(1 failure(s) so far)" in warnings[0]

        clock.advance(30.0)
        results += _send_repeatedly(sender, "lamp", 10)
        assert len(_warnings(caplog, logger_name)) == 1

        clock.advance(31.0)
        later = _send_repeatedly(sender, "lamp", 20)
        results += later
        warnings = _warnings(caplog, logger_name)
        assert len(warnings) == 2, warnings
        assert "failures in the last minute" in warnings[1]
        assert later.count(False) >= 1
        assert sender.stats()["lamp"] == TargetStats(
            sent=results.count(True), failed=results.count(False), last_error=stats.last_error
        )
        assert _infos(caplog, logger_name) == []  # never declared back: it alternates


def test_target_that_comes_back_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    logger_name = "test.osc.comes_back"
    caplog.set_level(logging.INFO, logger=logger_name)
    clock = FakeClock()
    port = free_udp_port()
    config = {"lamp": target("lamp", LOOPBACK, port)}
    with OscSender(config, clock=clock, logger=logging.getLogger(logger_name)) as sender:
        if all(_send_repeatedly(sender, "lamp", 5)):
            pytest.skip("this OS reports no ECONNREFUSED on UDP")
        assert len(_warnings(caplog, logger_name)) == 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as lamp:
            lamp.bind((LOOPBACK, port))  # the lamp boots
            lamp.settimeout(3.0)
            results = []
            for _ in range(6):
                clock.advance(1.0)
                results.append(sender.send(Cue("lamp", "/ping", (1,))))
            assert results[1:] == [True] * 5  # the first may still report the old ICMP
            assert lamp.recv(1024) == encode_message("/ping", [1])
        assert _infos(caplog, logger_name) == [
            f"OSC target 'lamp' (udp://{LOOPBACK}:{port}) is back "
            f"({sender.stats()['lamp'].failed} failure(s) in all)"
        ]


def test_unresolvable_host_is_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger_name = "test.osc.unresolvable"
    caplog.set_level(logging.INFO, logger=logger_name)
    clock = FakeClock()
    config = {"fog": target("fog", UNRESOLVABLE, 9000), "ok": target("ok", LOOPBACK, 9)}
    logger = logging.getLogger(logger_name)
    with OscSender(config, clock=clock, logger=logger, retry_s=10.0) as sender:
        assert [sender.send(Cue("fog", "/on")) for _ in range(25)] == [False] * 25
        stats = sender.stats()
        assert stats["fog"].sent == 0 and stats["fog"].failed == 25
        assert stats["fog"].last_error is not None
        assert "cannot resolve host 'no-such-host.invalid'" in stats["fog"].last_error
        assert stats["ok"] == TargetStats()  # other targets are untouched
        warnings = _warnings(caplog, logger_name)
        assert len(warnings) == 1, warnings
        assert warnings[0].startswith("OSC target 'fog' (udp://no-such-host.invalid:9000)")
        assert warnings[0].endswith("(1 failure(s) so far)")

        clock.advance(59.0)
        for _ in range(10):
            assert not sender.send(Cue("fog", "/on"))
        assert len(_warnings(caplog, logger_name)) == 1

        clock.advance(2.0)  # 61 s after the first report
        assert not sender.send(Cue("fog", "/on"))
        assert not sender.send(Cue("fog", "/on"))
        warnings = _warnings(caplog, logger_name)
        assert len(warnings) == 2, warnings
        assert "still not reachable: 35 failures in the last minute" in warnings[1]
        assert sender.stats()["fog"].failed == 37
        assert _infos(caplog, logger_name) == []


def test_sender_resolves_a_failed_host_again_later(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    calls: list[str] = []
    real_getaddrinfo: Callable[..., Any] = socket.getaddrinfo

    def fake_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        if host == "late-host.test" and clock() < 1020.0:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(LOOPBACK if host == "late-host.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind((LOOPBACK, 0))
        receiver.settimeout(3.0)
        port = receiver.getsockname()[1]
        config = {"late": target("late", "late-host.test", port)}
        with OscSender(config, clock=clock, retry_s=10.0) as sender:
            assert calls == ["late-host.test"]
            assert not sender.send(Cue("late", "/a"))  # within retry_s: no new lookup
            assert calls == ["late-host.test"]
            clock.advance(10.0)
            assert not sender.send(Cue("late", "/a"))  # looked up again, still failing
            assert len(calls) == 2
            clock.advance(10.0)
            assert sender.send(Cue("late", "/a", ("now",)))
            assert len(calls) == 3
            assert receiver.recv(1024) == encode_message("/a", ["now"])
            assert sender.send(Cue("late", "/a"))
            assert len(calls) == 3  # resolved once, kept


# -- monitor ---------------------------------------------------------------------------------


class MonitorRun:
    """``run_monitor`` in a thread, writing to a StringIO, with its errors kept."""

    def __init__(self, ports: list[int]) -> None:
        self.out = io.StringIO()
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(ports,), daemon=True)

    def _run(self, ports: list[int]) -> None:
        try:
            run_monitor(ports, self.out, self.stop, ready=self.ready)
        except BaseException as exc:  # reported by the test, not by the thread
            self.error = exc

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(5.0), self.error

    def lines(self, count: int, timeout_s: float = 3.0) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            lines = self.out.getvalue().splitlines()
            if len(lines) >= count:
                return lines
            time.sleep(0.01)
        return self.out.getvalue().splitlines()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(5.0)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def test_format_message() -> None:
    assert format_message(9000, "/scene/start", [3, "welcome"]) == (
        '[port 9000] /scene/start ,is 3 "welcome"'
    )
    assert format_message(9001, "/x", [f32(0.1), 2.0, True, False], ",ffTF") == (
        "[port 9001] /x ,ffTF 0.1 2.0 true false"
    )
    assert format_message(1, "/empty", []) == "[port 1] /empty ,"
    assert format_message(1, "/q", ['say "hi"\n']) == '[port 1] /q ,s "say \\"hi\\"\\n"'


def test_monitor_prints_one_line_per_message_and_stops_cleanly() -> None:
    port_a, port_b = free_udp_port(), free_udp_port()
    run = MonitorRun([port_a, port_b])
    run.start()
    try:
        client = SimpleUDPClient(LOOPBACK, port_a)
        try:
            client.send_message("/scene/start", [3, "welcome"])
        finally:
            client.close()
        assert run.lines(1) == [f'[port {port_a}] /scene/start ,is 3 "welcome"']

        cue = Cue("monitor", "/lights", (0.5, True, False, -1))
        with OscSender({"monitor": target("monitor", LOOPBACK, port_b)}) as sender:
            assert sender.send(cue)
        assert run.lines(2)[1] == f"[port {port_b}] /lights ,fTFi 0.5 true false -1"

        bundle = OscBundleBuilder(IMMEDIATELY)
        for address, value in (("/one", 1), ("/two", "2")):
            message = OscMessageBuilder(address)
            message.add_arg(value)
            bundle.add_content(message.build())
        client = SimpleUDPClient(LOOPBACK, port_a)
        try:
            client.send(bundle.build())
        finally:
            client.close()
        assert run.lines(4)[2:] == [f"[port {port_a}] /one ,i 1", f'[port {port_a}] /two ,s "2"']
    finally:
        run.finish()


def test_monitor_names_a_port_that_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind((LOOPBACK, 0))
        taken = squatter.getsockname()[1]
        free = free_udp_port()
        ready = threading.Event()
        with pytest.raises(CueError, match=f"port {taken}"):
            run_monitor([free, taken], io.StringIO(), threading.Event(), ready=ready)
        assert not ready.is_set()
    with pytest.raises(CueError, match=r"1\.\.65535"):
        run_monitor([0], io.StringIO(), threading.Event())


# -- bundles ---------------------------------------------------------------------------------


def liblo_bundle_bytes(messages: list[tuple[str, list[OscArg], str]]) -> bytes:
    """The datagram liblo sends for a bundle with time tag "immediately" (``LO_TT_IMMEDIATE``
    is seconds 0, fraction 1; pyliblo3 takes the time tag as float seconds: 2**-32)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(3.0)
        bundle = pyliblo3.Bundle(
            2.0**-32,
            *[
                pyliblo3.Message(a, *[(t, v) for t, v in zip(tags, args, strict=True)])
                for a, args, tags in messages
            ],
        )
        pyliblo3.send((LOOPBACK, sock.getsockname()[1]), bundle)
        data: bytes = sock.recv(65536)
        return data


def test_encode_bundle_matches_python_osc_and_liblo_bytes() -> None:
    messages: list[tuple[str, list[OscArg], str]] = [
        ("/scene/start", [3, "welcome"], "is"),
        ("/light/level", [0.25, True], "fT"),
        ("/go", [], ""),
    ]
    ours = encode_bundle([(address, args) for address, args, _ in messages])
    builder = OscBundleBuilder(IMMEDIATELY)
    for address, args, tags in messages:
        message = OscMessageBuilder(address)
        for tag, value in zip(tags, args, strict=True):
            message.add_arg(value, tag)
        builder.add_content(message.build())
    assert ours == bytes(builder.build().dgram)
    assert ours == liblo_bundle_bytes(messages)
    assert ours[:16] == b"#bundle\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x01"


def test_liblo_takes_a_sent_bundle_as_one_bundle_of_its_messages(liblo: LibloReceiver) -> None:
    bundles: list[str] = []
    liblo.server.add_bundle_handlers(
        lambda timetag, data: bundles.append("start"), lambda data: bundles.append("end")
    )
    cues = [Cue("p", "/a", (1,)), Cue("p", "/b", ("two", 2.5)), Cue("p", "/c")]
    with OscSender({"p": target("p", LOOPBACK, liblo.port)}) as sender:
        assert sender.send_bundle("p", cues)
        assert sender.stats()["p"] == TargetStats(sent=1, failed=0, last_error=None)
    got = liblo.wait_for(3)
    assert got == [("/a", [1], "i"), ("/b", ["two", 2.5], "sf"), ("/c", [], "")]
    assert bundles == ["start", "end"]


def test_send_bundle_refuses_what_is_not_one_bundle_for_one_target(
    liblo: LibloReceiver,
) -> None:
    with OscSender({"p": target("p", LOOPBACK, liblo.port)}) as sender:
        with pytest.raises(CueError, match="needs at least one cue"):
            sender.send_bundle("p", [])
        with pytest.raises(CueError, match="names target 'q', not 'p'"):
            sender.send_bundle("p", [Cue("p", "/a"), Cue("q", "/b")])
        with pytest.raises(CueError, match="unknown OSC target 'x'"):
            sender.send_bundle("x", [Cue("x", "/a")])
        with pytest.raises(CueError, match="one UDP datagram holds at most 65507"):
            sender.send_bundle("p", [Cue("p", "/big", ("x" * 40000,))] * 2)
        assert sender.stats()["p"] == TargetStats()


def test_decode_packet_reads_our_bundles_and_messages() -> None:
    data = encode_bundle([("/a", [1, "x"]), ("/b", [2.5, False])])
    assert [(m.address, m.args, m.tags) for m in decode_packet(data)] == [
        ("/a", (1, "x"), "is"),
        ("/b", (2.5, False), "fF"),
    ]
    for bad, reason in [
        (b"/a\x00", "multiple of 4 bytes"),
        (b"/ab\x00\x01\x00\x00\x00", "does not start with ','"),
        (b"/ab\x00,\x00\x00\x01", "non-NUL padding"),
        (b"/ab\x00,i\x00\x00", "cut short"),
        (b"/ab\x00,q\x00\x00", "unknown type tag"),
        (b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x05", "size 5"),
        (b"x", "must start with '/'"),
    ]:
        with pytest.raises(ValueError, match=reason):
            decode_packet(bad)
