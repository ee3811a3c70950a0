"""OSC control in, driven by real clients on loopback: python-osc's UDP and TCP clients and
liblo (pyliblo3). What the core receives is what ``poll`` returns; what a technician's console
receives is the reply on a real socket, decoded by python-osc or liblo, not by our decoder.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pyliblo3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_tcp_server import MODE_1_0, MODE_1_1
from pythonosc.tcp_client import SimpleTCPClient
from pythonosc.udp_client import SimpleUDPClient

from exhibit.config.checker import Checker
from exhibit.control import (
    ControlCommand,
    ControlConfig,
    OscControlServer,
    StatusRequest,
    parse_control,
    parse_control_packet,
)
from exhibit.control.osc_in import Ignored
from exhibit.cues.osc import decode_packet, encode_bundle, encode_message
from exhibit.errors import SourceError
from tests.peers import LOOPBACK, LibloReceiver

STATUS = {"state": "welcome", "visitors": 2, "fps": 29.5, "uptime_s": 3600.0}


def wait_until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def config(**changes: Any) -> ControlConfig:
    base: dict[str, Any] = {"enabled": True, "host": LOOPBACK, "port": 0}
    base.update(changes)
    if "allow" in base:
        base["allow"] = tuple(ipaddress.ip_network(n) for n in base["allow"])
    return ControlConfig(**base)


@pytest.fixture
def make_server() -> Iterator[Callable[..., OscControlServer]]:
    servers: list[OscControlServer] = []

    def make(
        status: Callable[[], Mapping[str, Any]] = lambda: STATUS, **kwargs: Any
    ) -> OscControlServer:
        settings_keys = {"allow", "tcp", "host", "port"}
        conf = config(**{k: v for k, v in kwargs.items() if k in settings_keys})
        rest = {k: v for k, v in kwargs.items() if k not in settings_keys}
        server = OscControlServer(conf, status, **rest)
        server.start()
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.close()


def commands(server: OscControlServer, count: int) -> list[ControlCommand]:
    got: list[ControlCommand] = []

    def enough() -> bool:
        got.extend(server.poll())
        return len(got) >= count

    wait_until(enough)
    return got


def udp_client_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(3.0)
    return sock


# -- commands from real clients ---------------------------------------------------------------


def test_commands_from_python_osc_reach_the_core_in_order(
    make_server: Callable[..., OscControlServer],
) -> None:
    server = make_server()
    client = SimpleUDPClient(LOOPBACK, server.address[1])
    try:
        client.send_message("/exhibit/goto", "welcome")
        client.send_message("/exhibit/pause", [])
        client.send_message("/exhibit/resume", 1.0)  # a button press
        client.send_message("/exhibit/resume", 0.0)  # ...and its release: ignored
        client.send_message("/exhibit/reset", True)
    finally:
        client.close()
    assert commands(server, 4) == [
        ControlCommand("goto", "welcome"),
        ControlCommand("pause"),
        ControlCommand("resume"),
        ControlCommand("reset"),
    ]
    assert wait_until(lambda: server.stats()["released"] == 1)
    assert server.stats()["accepted"] == 4


def test_commands_from_liblo_and_bundles_are_taken(
    make_server: Callable[..., OscControlServer],
) -> None:
    server = make_server()
    pyliblo3.send((LOOPBACK, server.address[1]), "/exhibit/goto", ("s", "quiz"))
    bundle = pyliblo3.Bundle(
        2.0**-32, pyliblo3.Message("/exhibit/pause"), pyliblo3.Message("/exhibit/resume")
    )
    pyliblo3.send((LOOPBACK, server.address[1]), bundle)
    assert commands(server, 3) == [
        ControlCommand("goto", "quiz"),
        ControlCommand("pause"),
        ControlCommand("resume"),
    ]


def test_status_is_replied_to_the_senders_address_and_port(
    make_server: Callable[..., OscControlServer],
) -> None:
    server = make_server()
    with udp_client_socket() as console:
        console.sendto(encode_message("/exhibit/status", []), server.address)
        reply = OscMessage(console.recv(65536))  # python-osc decodes it, not us
    assert reply.address == "/exhibit/status"
    assert reply.params == ["welcome", 2, 29.5, 3600.0]
    assert reply.dgram[16:24] == b",siff\x00\x00\x00"
    assert server.stats()["status"] == 1


def test_status_reply_to_another_port_reaches_liblo(
    make_server: Callable[..., OscControlServer], liblo: LibloReceiver
) -> None:
    server = make_server(status=lambda: {"state": "idle", "visitors": 0, "fps": 30})
    with udp_client_socket() as console:
        console.sendto(encode_message("/exhibit/status", [liblo.port]), server.address)
    got = liblo.wait_for(1)
    assert len(got) == 1
    address, args, types = got[0]
    assert (address, types, args[:3]) == ("/exhibit/status", "siff", ["idle", 0, 30.0])
    assert 0.0 <= args[3] < 60.0  # uptime measured by the server when the provider gives none


def test_a_failing_status_provider_is_counted_and_answered(
    make_server: Callable[..., OscControlServer],
) -> None:
    def broken() -> Mapping[str, Any]:
        raise RuntimeError("core not ready")

    server = make_server(status=broken)
    with udp_client_socket() as console:
        console.sendto(encode_message("/exhibit/status", []), server.address)
        reply = OscMessage(console.recv(65536))
    assert (reply.address, reply.params) == ("/exhibit/status/error", ["status unavailable"])
    assert server.stats()["status_failed"] == 1


@pytest.mark.parametrize("mode", [MODE_1_1, MODE_1_0])
def test_tcp_control_with_either_framing(
    make_server: Callable[..., OscControlServer], mode: str
) -> None:
    server = make_server(tcp=True)
    client = SimpleTCPClient(  # type: ignore[no-untyped-call]
        LOOPBACK, server.address[1], mode=mode, timeout=3.0
    )
    try:
        client.send_message("/exhibit/goto", "outro")
        client.send_message("/exhibit/status", [])
        replies = client.receive(timeout=3.0)
    finally:
        client.close()  # type: ignore[no-untyped-call]
    assert [OscMessage(r).params for r in replies] == [["welcome", 2, 29.5, 3600.0]]
    assert commands(server, 1) == [ControlCommand("goto", "outro")]


# -- what is ignored, and counted -------------------------------------------------------------


def test_a_sender_outside_allow_is_ignored_counted_and_logged_once(
    make_server: Callable[..., OscControlServer], caplog: pytest.LogCaptureFixture
) -> None:
    logger_name = "test.control.allow"
    caplog.set_level(logging.INFO, logger=logger_name)
    server = make_server(allow=["10.0.0.0/8"], logger=logging.getLogger(logger_name))
    with udp_client_socket() as stranger:
        for _ in range(5):
            stranger.sendto(encode_message("/exhibit/reset", []), server.address)
        stranger.sendto(encode_message("/exhibit/status", []), server.address)
        stranger.settimeout(0.2)
        with pytest.raises(TimeoutError):
            stranger.recv(65536)  # no status for strangers either
    assert wait_until(lambda: server.stats()["not_allowed"] == 6)
    assert server.poll() == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"OSC control: ignored a message from {LOOPBACK}:")
    assert "(not allowed)" in warnings[0]


def test_tcp_connection_from_outside_allow_is_closed(
    make_server: Callable[..., OscControlServer],
) -> None:
    server = make_server(tcp=True, allow=["10.0.0.0/8"])
    with socket.create_connection(server.address, timeout=3.0) as sock:
        assert sock.recv(16) == b""  # closed by the server
    assert wait_until(lambda: server.stats()["not_allowed"] == 1)


def test_malformed_and_unknown_messages_are_counted(
    make_server: Callable[..., OscControlServer],
) -> None:
    server = make_server(queue_size=2, known_states=["welcome", "quiz"])
    truncated = encode_message("/exhibit/goto", ["welcome"])[:-4]
    packets = [
        b"garbage",  # malformed
        truncated,  # malformed: the string is cut
        b"",  # malformed: empty datagram
        encode_message("/exhibit/launch", []),  # unknown_address
        encode_message("/exhibit/goto", [3]),  # bad_argument
        encode_message("/exhibit/goto", []),  # bad_argument
        encode_message("/exhibit/status", ["x"]),  # bad_argument
        encode_message("/exhibit/goto", ["welcom"]),  # unknown_state
        encode_message("/exhibit/reset", [0]),  # released
        encode_message("/exhibit/pause", []),  # accepted
        encode_message("/exhibit/resume", []),  # accepted
        encode_message("/exhibit/reset", []),  # queue_full (2 waiting)
    ]
    with udp_client_socket() as client:
        for packet in packets:
            client.sendto(packet, server.address)
    expected = {
        "malformed": 3,
        "unknown_address": 1,
        "bad_argument": 3,
        "unknown_state": 1,
        "released": 1,
        "accepted": 2,
        "queue_full": 1,
    }
    assert wait_until(lambda: {k: v for k, v in server.stats().items() if v} == expected), (
        server.stats()
    )
    assert server.poll() == [ControlCommand("pause"), ControlCommand("resume")]


def test_unknown_state_is_logged_with_the_closest_state(
    make_server: Callable[..., OscControlServer], caplog: pytest.LogCaptureFixture
) -> None:
    logger_name = "test.control.state"
    caplog.set_level(logging.INFO, logger=logger_name)
    server = make_server(known_states=["welcome"], logger=logging.getLogger(logger_name))
    with udp_client_socket() as client:
        client.sendto(encode_message("/exhibit/goto", ["welcom"]), server.address)
    assert wait_until(lambda: server.stats()["unknown_state"] == 1)
    assert any("did you mean 'welcome'?" in r.getMessage() for r in caplog.records)


def test_a_taken_port_is_a_source_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind((LOOPBACK, 0))
        taken = squatter.getsockname()[1]
        server = OscControlServer(config(port=taken), lambda: STATUS)
        with pytest.raises(
            SourceError, match=f"cannot listen for OSC control on {LOOPBACK}:{taken}"
        ):
            server.start()
        server.close()


# -- the parser, fuzzed ------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=96))
def test_parse_control_packet_never_raises_on_bytes(data: bytes) -> None:
    for item in parse_control_packet(data):
        assert isinstance(item, ControlCommand | StatusRequest | Ignored)


_ADDRESSES = st.sampled_from(
    [
        "/exhibit/goto",
        "/exhibit/reset",
        "/exhibit/pause",
        "/exhibit/resume",
        "/exhibit/status",
        "/exhibit",
        "/other",
    ]
)
_ARG = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.floats(width=32, allow_nan=False),
    st.text(st.characters(exclude_characters="\x00"), max_size=8),
    st.booleans(),
    st.binary(min_size=1, max_size=8),  # python-osc refuses empty blobs
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(address=_ADDRESSES, args=st.lists(_ARG, max_size=3), cut=st.integers(0, 64))
def test_parse_control_packet_on_python_osc_messages(
    address: str, args: list[Any], cut: int
) -> None:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    data = builder.build().dgram
    parsed = parse_control_packet(data)
    assert len(parsed) == 1
    item = parsed[0]
    if isinstance(item, ControlCommand) and item.kind == "goto":
        assert address == "/exhibit/goto" and item.arg == str(args[0]).strip()
    if address == "/other":
        assert item == Ignored("unknown_address", item.detail if isinstance(item, Ignored) else "")
    # and a packet cut anywhere is at worst malformed, never an exception
    for piece in parse_control_packet(data[:cut]):
        assert isinstance(piece, ControlCommand | StatusRequest | Ignored)


@settings(max_examples=200, deadline=None)
@given(address=_ADDRESSES, args=st.lists(_ARG, max_size=4))
def test_decode_packet_reads_what_python_osc_writes(address: str, args: list[Any]) -> None:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    [message] = decode_packet(builder.build().dgram)
    expected = [
        struct.unpack(">f", struct.pack(">f", a))[0] if isinstance(a, float) else a for a in args
    ]
    assert (message.address, list(message.args)) == (address, expected)


def test_parse_control_packet_reads_bundles_in_order() -> None:
    data = encode_bundle([("/exhibit/goto", ["a"]), ("/exhibit/status", [9001])])
    assert parse_control_packet(data) == [ControlCommand("goto", "a"), StatusRequest(9001)]


# -- config -----------------------------------------------------------------------------------


def test_parse_control_defaults_and_a_full_table() -> None:
    checker = Checker()
    assert parse_control({}, "control", checker) == ControlConfig()
    table = {
        "enabled": True,
        "listen": "0.0.0.0:9200",
        "allow": ["127.0.0.1/32", "192.168.1.0/24", "10.1.2.3"],
        "tcp": True,
    }
    conf = parse_control(table, "control", checker)
    assert checker.problems == [] and checker.warnings == []
    assert (conf.enabled, conf.host, conf.port, conf.tcp) == (True, "0.0.0.0", 9200, True)
    assert [str(n) for n in conf.allow] == ["127.0.0.1/32", "192.168.1.0/24", "10.1.2.3/32"]
    assert parse_control({"listen": "[::1]:9100"}, "control", checker).host == "::1"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"listn": "127.0.0.1:9100"},
            "control.listn: unknown key; expected one of allow, enabled, listen, tcp; did you "
            'mean "listen"?',
        ),
        (
            {"listen": "exhibit.local:9100"},
            "control.listen: not an address to listen on: 'exhibit.local' is not an IPv4 "
            'address of this machine (got "exhibit.local:9100"); expected "host:port" with an '
            'IP address of this machine, e.g. "127.0.0.1:9100" or "0.0.0.0:9100"',
        ),
        (
            {"listen": "127.0.0.1:70000"},
            "control.listen: not an address to listen on: port '70000' is not 1..65535 (got "
            '"127.0.0.1:70000"); expected "host:port" with an IP address of this machine, e.g. '
            '"127.0.0.1:9100" or "0.0.0.0:9100"',
        ),
        (
            {"allow": ["192.168.1.5/24"]},
            "control.allow[0]: not a network (192.168.1.5/24 has host bits set) (got "
            '"192.168.1.5/24"); expected an address or a CIDR network such as "192.168.1.0/24"; '
            'did you mean "192.168.1.0/24"?',
        ),
        (
            {"allow": ["lan"]},
            "control.allow[0]: not a network ('lan' does not appear to be an IPv4 or IPv6 "
            'network) (got "lan"); expected an address or a CIDR network such as '
            '"192.168.1.0/24"',
        ),
        (
            {"enabled": True, "allow": []},
            "control.allow: allows no sender, so nothing could control the exhibit (got []); "
            'expected at least one network, e.g. ["127.0.0.1/32"]',
        ),
        ({"enabled": "yes"}, 'control.enabled: not a boolean (got "yes"); expected true or false'),
        (3, "control: not a table (got 3); expected a [control] table"),
    ],
)
def test_parse_control_reports_each_problem_with_its_path(table: Any, problem: str) -> None:
    checker = Checker()
    parse_control(table, "control", checker)
    assert problem in checker.problems, checker.problems


def test_parse_control_warns_when_anyone_may_control() -> None:
    checker = Checker()
    parse_control(
        {"enabled": True, "listen": "0.0.0.0:9100", "allow": ["0.0.0.0/0"]}, "control", checker
    )
    assert checker.problems == []
    assert checker.warnings == [
        'control.allow: ["0.0.0.0/0"] lets any host that reaches 0.0.0.0:9100 control the exhibit'
    ]
