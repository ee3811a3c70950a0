"""OSC over TCP against independent receivers on loopback: liblo's TCP server (which reads both
SLIP and length-prefixed streams) and python-osc's TCP server in its OSC 1.1 (SLIP) and 1.0
(length prefix) modes. Also the framing as pure functions, the kept connection coming back
after its receiver restarted, and the show loop never waiting on a stalled receiver.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyliblo3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc import slip
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_tcp_server import MODE_1_0, MODE_1_1, ThreadingOSCTCPServer

from exhibit.cues.osc import OscSender, TargetSpec, encode_message
from exhibit.cues.osc.framing import (
    AutoDecoder,
    Framing,
    LengthPrefixDecoder,
    SlipDecoder,
    length_prefix_encode,
    slip_encode,
)
from exhibit.events import Cue
from tests.peers import LOOPBACK

Received = tuple[str, list[Any]]


def wait_until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def tcp_target(name: str, port: int, framing: Framing = "slip") -> TargetSpec:
    return TargetSpec(name, f"tcp://{LOOPBACK}:{port}", LOOPBACK, port, "tcp", framing)


class FakeClock:
    def __init__(self, t_s: float = 1000.0) -> None:
        self.t_s = t_s

    def __call__(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        self.t_s += dt_s


# -- framing (pure) --------------------------------------------------------------------------


def test_slip_encode_is_double_ended_and_escapes_end_and_esc() -> None:
    assert slip_encode(b"\x01\xc0\x02\xdb\x03") == b"\xc0\x01\xdb\xdc\x02\xdb\xdd\x03\xc0"
    assert slip_encode(b"") == b"\xc0\xc0"
    # python-osc's SLIP (from SlipLib) is double-ended too: the same bytes
    packet = encode_message("/a", ["\u00c0"])
    assert slip_encode(packet) == slip.encode(packet)


@settings(max_examples=200, deadline=None)
@given(
    packets=st.lists(st.binary(min_size=1, max_size=64), max_size=6),
    cut=st.integers(min_value=1, max_value=7),
)
def test_stream_decoders_rebuild_packets_split_anywhere(packets: list[bytes], cut: int) -> None:
    for encode, decoder in (
        (slip_encode, SlipDecoder()),
        (length_prefix_encode, LengthPrefixDecoder()),
    ):
        stream = b"".join(encode(p) for p in packets)
        got: list[bytes] = []
        for start in range(0, len(stream), cut):
            got += decoder.feed(stream[start : start + cut])
        assert got == packets
        assert decoder.errors == 0


def test_slip_decoder_drops_a_bad_frame_and_goes_on() -> None:
    decoder = SlipDecoder(max_packet_bytes=4)
    assert decoder.feed(b"\xc0\x01\xdb\x05\x02\xc0\xc0ok\xc0") == [b"ok"]  # bad escape
    assert decoder.feed(b"\xc012345\xc0\xc0abcd\xc0") == [b"abcd"]  # too long
    assert decoder.errors == 2


def test_length_decoder_refuses_a_stream_that_lost_its_framing() -> None:
    decoder = LengthPrefixDecoder(max_packet_bytes=16)
    with pytest.raises(ValueError, match="announces 1000 bytes"):
        decoder.feed(b"\x00\x00\x03\xe8")


def test_auto_decoder_detects_the_framing_by_the_first_byte() -> None:
    packet = encode_message("/x", [1])
    slip_side, length_side = AutoDecoder(), AutoDecoder()
    assert slip_side.feed(slip_encode(packet)) == [packet]
    assert length_side.feed(length_prefix_encode(packet)) == [packet]
    assert (slip_side.framing, length_side.framing) == ("slip", "length")


# -- real TCP receivers -----------------------------------------------------------------------


class TcpPeer:
    """A TCP OSC receiver on loopback recording (address, args) of every message."""

    name = "peer"
    port: int

    def __init__(self) -> None:
        self.got: list[Received] = []
        self._lock = threading.Lock()

    def record(self, address: str, args: list[Any]) -> None:
        with self._lock:
            self.got.append((address, list(args)))

    def wait_for(self, count: int, timeout_s: float = 3.0) -> list[Received]:
        wait_until(lambda: len(self.received()) >= count, timeout_s)
        return self.received()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.got)

    def stop(self) -> None:
        raise NotImplementedError


class LibloTcpPeer(TcpPeer):
    """liblo's TCP server: reads SLIP (leading END) or length-prefixed streams."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.server = pyliblo3.ServerThread(port, pyliblo3.TCP)
        self.port = self.server.port
        self.server.add_method(None, None, self._on_message)
        self.server.start()

    def _on_message(self, path: str, args: list[Any], types: str, src: Any, data: Any) -> None:
        self.record(path, args)

    def stop(self) -> None:
        self.server.stop()
        self.server.free()


class _QuietServer(ThreadingOSCTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class PythonOscTcpPeer(TcpPeer):
    """python-osc's TCP server in mode "1.1" (SLIP) or "1.0" (length prefix)."""

    def __init__(self, mode: str, port: int = 0) -> None:
        super().__init__()
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: self.record(address, list(args)))
        self.server: socketserver.TCPServer = _QuietServer((LOOPBACK, port), dispatcher, mode)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(3.0)


PEERS: dict[str, tuple[Callable[[], TcpPeer], Framing]] = {
    "liblo-slip": (LibloTcpPeer, "slip"),
    "liblo-length": (LibloTcpPeer, "length"),
    "python-osc-1.1": (lambda: PythonOscTcpPeer(MODE_1_1), "slip"),
    "python-osc-1.0": (lambda: PythonOscTcpPeer(MODE_1_0), "length"),
}


@pytest.fixture(params=sorted(PEERS))
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[TcpPeer, Framing]]:
    make, framing = PEERS[request.param]
    receiver = make()
    try:
        yield receiver, framing
    finally:
        receiver.stop()


def test_tcp_cues_and_bundles_arrive_intact(peer: tuple[TcpPeer, Framing]) -> None:
    receiver, framing = peer
    with OscSender({"sound": tcp_target("sound", receiver.port, framing)}) as sender:
        assert sender.stats()["sound"].connected is False  # lazily: nothing sent yet
        assert sender.send(Cue("sound", "/scene/start", (3, 0.5, "welcome \u00c0", True)))
        assert sender.send_bundle(
            "sound", [Cue("sound", "/light/level", (0.25,)), Cue("sound", "/light/go")]
        )
        assert sender.send(Cue("sound", "/esc", ("\u00db\u00c0",)))
        got = receiver.wait_for(4)
        assert wait_until(lambda: sender.stats()["sound"].sent == 3)
        stats = sender.stats()["sound"]
        assert (stats.failed, stats.last_error, stats.connected) == (0, None, True)
    assert got[0] == ("/scene/start", [3, 0.5, "welcome \u00c0", True])
    assert got[1:] == [("/light/level", [0.25]), ("/light/go", []), ("/esc", ["\u00db\u00c0"])]


def test_tcp_connection_is_kept_and_comes_back_after_the_receiver_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger_name = "test.osc.tcp.restart"
    caplog.set_level(logging.INFO, logger=logger_name)
    receiver = LibloTcpPeer()
    port = receiver.port
    sender = OscSender(
        {"sound": tcp_target("sound", port)},
        logger=logging.getLogger(logger_name),
        reconnect_min_s=0.02,
        reconnect_max_s=0.1,
    )
    try:
        assert sender.send(Cue("sound", "/before", (1,)))
        assert sender.send(Cue("sound", "/before", (2,)))
        assert receiver.wait_for(2) == [("/before", [1]), ("/before", [2])]

        receiver.stop()  # the receiver goes away: liblo closes the connection
        assert wait_until(lambda: sender.stats()["sound"].connected is False)
        results = []
        for index in range(20):
            results.append(sender.send(Cue("sound", "/while_down", (index,))))
            time.sleep(0.005)
        assert results.count(False) >= 15  # refused at once while it reconnects
        stats = sender.stats()["sound"]
        assert stats.failed >= results.count(False)
        assert stats.last_error is not None and "ECONNREFUSED" in stats.last_error

        receiver = LibloTcpPeer(port)  # back, on the same port
        deadline = time.monotonic() + 3.0
        index = 0
        while not receiver.received() and time.monotonic() < deadline:
            sender.send(Cue("sound", "/after", (index,)))
            index += 1
            time.sleep(0.01)
        assert receiver.received(), "the link never reconnected"
        assert sender.send(Cue("sound", "/after", ("last",)))
        got = receiver.wait_for(2)
        assert got[-1] == ("/after", ["last"])
        assert all(address == "/after" for address, _ in got)
        assert sender.stats()["sound"].connected is True
    finally:
        sender.close()
        receiver.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1 and "is not reachable" in warnings[0]
    assert len(infos) == 1 and "is back" in infos[0]


def test_tcp_target_that_never_listens_is_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger_name = "test.osc.tcp.down"
    caplog.set_level(logging.INFO, logger=logger_name)
    clock = FakeClock()
    port = free_tcp_port()
    with OscSender(
        {"lamp": tcp_target("lamp", port)},
        clock=clock,
        logger=logging.getLogger(logger_name),
        reconnect_min_s=0.05,
        reconnect_max_s=0.05,
    ) as sender:
        assert sender.send(Cue("lamp", "/on"))  # queued: the connection is made lazily
        assert wait_until(lambda: sender.stats()["lamp"].failed == 1)  # ...and it failed
        refused = [sender.send(Cue("lamp", "/on")) for _ in range(10)]
        assert refused.count(False) >= 8
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith(f"OSC target 'lamp' (tcp://{LOOPBACK}:{port}) is not")
        assert "ECONNREFUSED" in warnings[0]

        clock.advance(61.0)
        assert wait_until(lambda: not sender.send(Cue("lamp", "/on")))
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2
        assert "still not reachable" in warnings[1]
        assert sender.stats()["lamp"].sent == 0


def test_send_never_waits_on_a_receiver_that_stopped_reading() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stalled:
        stalled.bind((LOOPBACK, 0))
        stalled.listen(1)  # accepts the connection in its backlog, never reads
        port = stalled.getsockname()[1]
        big = "x" * 60000
        with OscSender(
            {"stuck": tcp_target("stuck", port)},
            write_timeout_s=0.2,
            queue_size=4,
            reconnect_min_s=0.05,
        ) as sender:
            slowest_s = 0.0
            results = []
            deadline = time.monotonic() + 5.0
            while (False not in results) and time.monotonic() < deadline:
                start = time.monotonic()
                results.append(sender.send(Cue("stuck", "/big", (big,))))
                slowest_s = max(slowest_s, time.monotonic() - start)
            assert False in results, "the socket buffers never filled"
            assert slowest_s < 0.1  # the write timeout is 0.2 s: send never waited for it
            last_error = sender.stats()["stuck"].last_error
            assert last_error is not None
            assert "queue full" in last_error or "stopped reading" in last_error


def test_close_stops_the_link_threads() -> None:
    before = {t.name for t in threading.enumerate()}
    sender = OscSender({"a": tcp_target("a", free_tcp_port())}, reconnect_min_s=0.01)
    sender.send(Cue("a", "/x"))
    sender.close()
    sender.close()
    leftover = {t.name for t in threading.enumerate()} - before
    assert not any(name.startswith("osc-tcp") for name in leftover)
