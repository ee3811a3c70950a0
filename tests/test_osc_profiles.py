"""Receiver profiles, target validation, and reading QLab's replies.

QLab itself does not run here, so its side is played by ``QLabResponder``: a python-osc server
(UDP, or TCP in OSC 1.1 SLIP mode) that answers as QLab's OSC dictionary says: after
``/alwaysReply 1`` every message gets ``/reply{address}`` with one JSON string argument
``{"workspace_id", "address", "status", "data"}``; a workspace with a passcode answers
``/connect`` with data ``"badpass"`` for a wrong one and ``"denied"`` to what follows. Cue
``99`` never answers, to test time-outs. The cue builders are checked against liblo.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pythonosc.osc_message_builder import build_msg

from exhibit.config.checker import Checker
from exhibit.config.schema import TargetConfig
from exhibit.cues.osc import (
    PROFILES,
    OscSender,
    QLabReply,
    ReplyStats,
    TargetSpec,
    make_cue,
    parse_qlab_reply,
    parse_target,
)
from exhibit.cues.osc.profiles import Millumin, QLab, Resolume, Scsynth, actions
from exhibit.cues.osc.targets import as_spec
from exhibit.errors import CueError
from exhibit.events import Cue
from tests.peers import LOOPBACK, LibloReceiver, PythonOscServer, free_udp_port, target

WORKSPACE = "8A2C-WS"


def wait_until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


# -- the QLab-style responder -----------------------------------------------------------------


class QLabResponder:
    """Answers like QLab: replies only after /alwaysReply 1 (and always to /connect)."""

    def __init__(
        self, transport: str, passcode: str | None = None, reply_port: int | None = None
    ) -> None:
        self.passcode = passcode
        self.reply_port = reply_port
        self.got: list[tuple[str, list[Any]]] = []
        self._lock = threading.Lock()
        self._always: set[str] = set()
        self._connected: set[tuple[str, int]] = set()
        self._peer = PythonOscServer(transport, self._handle)
        self.server = self._peer.server
        self.port = self._peer.port

    def received(self) -> list[tuple[str, list[Any]]]:
        with self._lock:
            return list(self.got)

    def _handle(self, client: tuple[str, int], address: str, *args: Any) -> Any:
        with self._lock:
            self.got.append((address, list(args)))
        status, data = "ok", None
        if address == "/connect":
            if self.passcode is None or list(args) == [self.passcode]:
                self._connected.add(client)
                data = "ok"
            else:
                data = "badpass"
        elif address == "/alwaysReply":
            if args and args[0]:
                self._always.add(client[0])
        elif self.passcode is not None and client not in self._connected:
            status = "denied"
        elif re.fullmatch(r"/cue/99/\w+", address):
            return None  # this cue never answers
        elif not re.fullmatch(r"/(go|stop|panic|pause|resume|reset)|/cue/[^/]+/\w+", address):
            status = "error"
        if address != "/connect" and client[0] not in self._always:
            return None
        body = json.dumps(
            {"workspace_id": WORKSPACE, "address": address, "status": status, "data": data}
        )
        if self.reply_port is not None:  # QLab 5 over UDP: replies go to port 53001
            message = build_msg("/reply" + address, [body])
            self.server.socket.sendto(message.dgram, (client[0], self.reply_port))  # type: ignore[attr-defined]
            return None
        return ("/reply" + address, body)

    def stop(self) -> None:
        self._peer.close()


@pytest.fixture
def responders() -> Iterator[list[QLabResponder]]:
    started: list[QLabResponder] = []
    try:
        yield started
    finally:
        for responder in started:
            responder.stop()


def qlab_spec(responder: QLabResponder, transport: str, **extra: Any) -> TargetSpec:
    checker = Checker()
    table = {"url": f"{transport}://{LOOPBACK}:{responder.port}", "profile": "qlab"} | extra
    spec = parse_target(table, "targets.sound", checker)
    assert checker.problems == [] and spec is not None
    return spec


# -- QLab replies -----------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_qlab_replies_are_read_and_matched(transport: str, responders: list[QLabResponder]) -> None:
    responder = QLabResponder(transport, passcode="1234")
    responders.append(responder)
    extra: dict[str, Any] = {"passcode": "1234", "replies": True}
    if transport == "udp":
        extra["reply_port"] = 0  # any free port: this responder replies to the sender's port
    seen: list[tuple[str, QLabReply]] = []
    qlab = QLab("sound")
    with OscSender(
        {"sound": qlab_spec(responder, transport, **extra)},
        on_reply=lambda name, reply: seen.append((name, reply)),
    ) as sender:
        assert sender.send(qlab.start("1"))
        assert sender.send(qlab.go())
        # two cue replies, and those of the handshake: once per connection on TCP, before
        # every cue on UDP (/connect and /alwaysReply), which are not "unexpected"
        want = ReplyStats(ok=4) if transport == "tcp" else ReplyStats(ok=6)
        assert wait_until(lambda: sender.stats()["sound"].replies == want)
        replies = sender.stats()["sound"].replies
        assert replies is not None
        assert (replies.errors, replies.timeouts, replies.pending) == (0, 0, 0)
        got = [r for r in sender.replies("sound") if r.address in ("/cue/1/start", "/go")]
        assert got == [
            QLabReply("/cue/1/start", "ok", None, WORKSPACE),
            QLabReply("/go", "ok", None, WORKSPACE),
        ]
    addresses = [address for address, _ in responder.received()]
    assert addresses[:2] == ["/connect", "/alwaysReply"]  # the handshake comes first
    assert responder.received()[0] == ("/connect", ["1234"])
    assert "/cue/1/start" in addresses and "/go" in addresses
    assert {name for name, _ in seen} == {"sound"}


def test_qlab_udp_replies_sent_to_the_reply_port_are_read(
    responders: list[QLabResponder],
) -> None:
    reply_port = free_udp_port()
    responder = QLabResponder("udp", reply_port=reply_port)
    responders.append(responder)
    spec = qlab_spec(responder, "udp", replies=True, reply_port=reply_port)
    with OscSender({"sound": spec}) as sender:
        assert sender.reply_port("sound") == reply_port
        assert sender.send(QLab("sound").start("7"))
        assert wait_until(lambda: any(r.address == "/cue/7/start" for r in sender.replies("sound")))


def test_qlab_reply_that_never_comes_is_a_counted_timeout(
    responders: list[QLabResponder], caplog: pytest.LogCaptureFixture
) -> None:
    logger_name = "test.osc.qlab.timeout"
    caplog.set_level(logging.INFO, logger=logger_name)
    responder = QLabResponder("tcp")
    responders.append(responder)
    spec = qlab_spec(responder, "tcp", replies=True, reply_timeout_s=0.2)
    qlab = QLab("sound")
    with OscSender({"sound": spec}, logger=logging.getLogger(logger_name)) as sender:
        assert sender.send(qlab.start("99"))
        assert sender.send(qlab.start("99"))
        assert sender.send(qlab.start("1"))
        assert wait_until(lambda: sender.stats()["sound"].replies.timeouts == 2)  # type: ignore[union-attr]
        replies = sender.stats()["sound"].replies
        assert replies is not None and (replies.ok, replies.pending) >= (1, 0)
        assert sender.stats()["sound"].failed == 0  # the cue left; only the answer is missing
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once a minute, not per timeout
    assert warnings[0].startswith("OSC target 'sound' did not reply to /cue/99/start within 0.2 s")


def test_qlab_wrong_passcode_is_reported(
    responders: list[QLabResponder], caplog: pytest.LogCaptureFixture
) -> None:
    logger_name = "test.osc.qlab.badpass"
    caplog.set_level(logging.INFO, logger=logger_name)
    responder = QLabResponder("tcp", passcode="1234")
    responders.append(responder)
    spec = qlab_spec(responder, "tcp", passcode="9999", replies=True)
    with OscSender({"sound": spec}, logger=logging.getLogger(logger_name)) as sender:
        assert sender.send(QLab("sound").start("1"))
        assert wait_until(lambda: sender.stats()["sound"].replies.errors >= 2)  # type: ignore[union-attr]
        by_address = {r.address: r for r in sender.replies("sound")}
    assert by_address["/connect"].data == "badpass"
    assert by_address["/cue/1/start"].status == "denied"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "badpass" in warnings[0]


def test_parse_qlab_reply() -> None:
    body = {"workspace_id": "W", "address": "/cue/2/start", "status": "error", "data": [1]}
    reply = parse_qlab_reply("/reply/cue/2/start", [json.dumps(body)])
    assert reply == QLabReply("/cue/2/start", "error", [1], "W") and not reply.ok
    assert parse_qlab_reply("/update/workspace/W", ["x"]) is None
    assert parse_qlab_reply("/reply/go", ["{}"]) == QLabReply("/go", "")
    for bad in ([], [3], ["not json"], ["[1, 2]"]):
        with pytest.raises(ValueError, match="QLab reply /reply/go"):
            parse_qlab_reply("/reply/go", bad)


# -- cue builders, checked by liblo -----------------------------------------------------------


def test_profile_cues_reach_liblo_with_the_documented_addresses(liblo: LibloReceiver) -> None:
    cues = [
        QLab("rx").start("1.5"),
        QLab("rx", workspace="Show").panic(),
        QLab("rx").connect("1234"),
        Resolume("rx").clip(layer=2, clip=3),
        Resolume("rx").column(4),
        *Resolume("rx").clear_layer(1),
        Resolume("rx").opacity(1, 0.25),
        Millumin("rx").launch_column("intro"),
        Scsynth("rx").s_new("ping", controls={"freq": 440.0, "amp": 0.2}),
        Scsynth("rx").n_free(1001, 1002),
    ]
    with OscSender({"rx": target("rx", LOOPBACK, liblo.port)}) as sender:
        assert sender.send_many(cues) == len(cues)
    got = liblo.wait_for(len(cues))
    assert [(address, types) for address, _, types in got] == [
        ("/cue/1.5/start", ""),
        ("/workspace/Show/panic", ""),
        ("/connect", "s"),
        ("/composition/layers/2/clips/3/connect", "i"),
        ("/composition/columns/4/connect", "i"),
        ("/composition/layers/1/clear", "i"),
        ("/composition/layers/1/clear", "i"),
        ("/composition/layers/1/video/opacity", "f"),
        ("/millumin/action/launchColumn", "s"),
        ("/s_new", "siiisfsf"),
        ("/n_free", "ii"),
    ]
    assert got[9][1][:4] == ["ping", -1, 0, 1]
    assert [args for _, args, _ in got[5:7]] == [[1], [0]]


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: QLab("q").start("1 2"), "cannot be one OSC address segment"),
        (lambda: QLab("q").start("a/b"), "cannot be one OSC address segment"),
        (lambda: Resolume("r").clip(0, 1), "layer must be an integer >= 1"),
        (lambda: Resolume("r").opacity(1, 1.5), "0.0..1.0"),
        (lambda: Millumin("m").launch_column(0), "index >= 1 or a name"),
        (lambda: Scsynth("s").s_new("x", add_action=7), "add action must be 0..4"),
        (lambda: Scsynth("s").n_free(), "at least one node"),
        (lambda: make_cue("qlb", "t", "go"), "did you mean 'qlab'"),
        (lambda: make_cue("qlab", "t", "strat", "1"), "did you mean 'start'"),
        (lambda: make_cue("qlab", "t", "start"), "qlab start"),
        (lambda: make_cue("resolume", "t", "clear_layer", 1), "several cues"),
    ],
)
def test_profile_builders_refuse_what_the_receiver_cannot_take(
    build: Callable[[], Cue], reason: str
) -> None:
    with pytest.raises(CueError, match=re.escape(reason)):
        build()


def test_make_cue_by_name() -> None:
    assert make_cue("qlab", "sound", "start", "12") == QLab("sound").start("12")
    assert make_cue("touchdesigner", "td", "message", "/scene", 2) == Cue(
        "td", "/scene", (2,), "/scene"
    )
    assert "start" in actions("qlab") and actions("nope") == ()


# -- target validation ------------------------------------------------------------------------


def parse(table: Any, path: str = "targets.sound") -> tuple[TargetSpec | None, Checker]:
    checker = Checker()
    return parse_target(table, path, checker), checker


def test_parse_target_defaults_from_the_profile() -> None:
    spec, c = parse({"url": "tcp://10.0.0.5", "profile": "qlab", "passcode": "1234"})
    assert c.problems == [] and spec is not None
    assert (spec.name, spec.protocol, spec.host, spec.port) == ("sound", "tcp", "10.0.0.5", 53000)
    assert (spec.framing, spec.profile, spec.passcode) == ("slip", "qlab", "1234")
    spec, c = parse({"url": "udp://10.0.0.5", "profile": "qlab", "replies": True})
    assert spec is not None and (spec.reply_port, spec.reply_timeout_s) == (53001, 1.0)
    spec, c = parse({"url": "tcp://127.0.0.1", "profile": "scsynth"})
    assert spec is not None and (spec.port, spec.framing) == (57110, "length")
    spec, c = parse("udp://[::1]:9000", "targets.plain")
    assert spec == TargetSpec("plain", "udp://[::1]:9000", "::1", 9000)
    for name, profile in PROFILES.items():
        if profile.default_port is not None:
            spec, c = parse({"url": "udp://host", "profile": name})
            assert c.problems == [] and spec is not None and spec.port == profile.default_port


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"url": "udp://h:1", "profle": "qlab"},
            "targets.sound.profle: unknown key; expected one of framing, passcode, profile, "
            'replies, reply_port, reply_timeout_s, url; did you mean "profile"?',
        ),
        (
            {"url": "udp://h:1", "profile": "qlb"},
            'targets.sound.profile: not one of the choices (got "qlb"); expected one of '
            '"madmapper", "millumin", "ossia", "qlab", "resolume", "sclang", "scsynth", '
            '"touchdesigner"; did you mean "qlab"?',
        ),
        (
            {"url": "udp://h:1", "framing": "slip"},
            'targets.sound.framing: framing applies to tcp:// targets only (got "slip"); '
            "expected no framing key, or a tcp:// URL",
        ),
        (
            {"url": "tcp://h:1", "framing": "slipp"},
            'targets.sound.framing: not one of the choices (got "slipp"); expected one of '
            '"slip", "length"; did you mean "slip"?',
        ),
        (
            {"url": "udp://h:1", "passcode": "1234"},
            "targets.sound.passcode: passcode is only sent to receivers that ask for one; "
            'expected profile = "qlab"',
        ),
        (
            {"url": "udp://h", "profile": "resolume", "replies": True},
            "targets.sound.replies: replies can only be read from receivers whose replies we "
            'understand; expected profile = "qlab"',
        ),
        (
            {"url": "tcp://h", "profile": "qlab", "replies": True, "reply_port": 53001},
            "targets.sound.reply_port: reply_port applies to udp:// targets with replies = true "
            "only (got 53001); expected no reply_port key (TCP replies come back on the "
            "connection)",
        ),
        (
            {"url": "udp://h", "profile": "qlab", "reply_timeout_s": 2},
            "targets.sound.reply_timeout_s: reply_timeout_s applies with replies = true only "
            "(got 2); expected replies = true, or no reply_timeout_s key",
        ),
        (
            {"url": "udp://h", "profile": "qlab", "replies": True, "reply_timeout_s": 0},
            "targets.sound.reply_timeout_s: out of range (got 0); expected a value > 0 and <= 60",
        ),
        (
            {"url": "udp://h", "profile": "qlab", "passcode": 1234},
            'targets.sound.passcode: not a passcode (got 1234); expected a string such as "1234"',
        ),
        (
            {"url": "osc://h:1"},
            "targets.sound.url: unsupported protocol 'osc' (got 'osc://h:1'); accepted "
            "protocols: udp, tcp (as in udp://host:port or tcp://host:port); expected "
            '"udp://host:port" or "tcp://host:port", e.g. "udp://10.0.0.20:7000" or '
            '"tcp://10.0.0.5:53000"',
        ),
        (
            {"url": "udp://h", "profile": "touchdesigner"},
            "targets.sound.url: missing port (got 'udp://h'); expected udp://host:port or "
            'tcp://host:port; expected "udp://host:port" or "tcp://host:port", e.g. '
            '"udp://10.0.0.20:7000" or "tcp://10.0.0.5:53000"',
        ),
        ({}, "targets.sound.url: missing; expected a string"),
        (
            7,
            "targets.sound: not a target (got 7); expected a URL string or a table with "
            'url = "udp://host:port"',
        ),
    ],
)
def test_parse_target_reports_each_problem_with_its_path(table: Any, problem: str) -> None:
    _, checker = parse(table)
    assert problem in checker.problems, checker.problems


def test_parse_target_warns_about_a_transport_the_maker_does_not_document() -> None:
    spec, c = parse({"url": "tcp://10.0.0.9", "profile": "resolume"})
    assert c.problems == [] and spec is not None and spec.protocol == "tcp"
    assert c.warnings == [
        "targets.sound.url: Resolume Arena / Avenue is documented to receive OSC over UDP only "
        "(got tcp://); check that the receiver accepts it"
    ]


def test_schema_target_config_is_plain_udp() -> None:
    config = TargetConfig("p", "udp://127.0.0.1:9000", "127.0.0.1", 9000)
    assert as_spec(config) == TargetSpec("p", "udp://127.0.0.1:9000", "127.0.0.1", 9000)


def test_udp_reply_port_that_is_taken_falls_back_and_says_so(
    responders: list[QLabResponder], caplog: pytest.LogCaptureFixture
) -> None:
    logger_name = "test.osc.qlab.port"
    caplog.set_level(logging.INFO, logger=logger_name)
    responder = QLabResponder("udp")
    responders.append(responder)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("0.0.0.0", 0))
        taken = squatter.getsockname()[1]
        spec = qlab_spec(responder, "udp", replies=True, reply_port=taken)
        with OscSender({"sound": spec}, logger=logging.getLogger(logger_name)) as sender:
            assert sender.send(QLab("sound").go())
            assert wait_until(lambda: sender.stats()["sound"].replies.ok >= 1)  # type: ignore[union-attr]
            assert sender.reply_port("sound") not in (None, taken)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"cannot listen for replies on UDP port {taken}" in w for w in warnings)
