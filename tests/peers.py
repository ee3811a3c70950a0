"""Real peers for the tests: an independent OSC implementation (liblo) listening on loopback.

Shared by the OSC unit tests and the end-to-end tests, so both check cues the way a projector
or a sound server would see them.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyliblo3
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer
from pythonosc.osc_tcp_server import MODE_1_1, ThreadingOSCTCPServer

from exhibit.config.schema import TargetConfig

LOOPBACK = "127.0.0.1"


class _UdpServer(ThreadingOSCUDPServer):
    daemon_threads = True
    block_on_close = False


class _TcpServer(ThreadingOSCTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class PythonOscServer:
    """A python-osc server on loopback (UDP, or TCP with OSC 1.1 SLIP framing) in its own
    thread, every message to ``handle(client, address, *args)``; a QLab-style responder's
    transport. ``close()`` stops it."""

    def __init__(self, transport: str, handle: Callable[..., Any]) -> None:
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(handle, needs_reply_address=True)
        self.server: socketserver.BaseServer
        if transport == "udp":
            self.server = _UdpServer((LOOPBACK, 0), dispatcher)
        else:
            self.server = _TcpServer((LOOPBACK, 0), dispatcher, MODE_1_1)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(3.0)


def free_udp_port() -> int:
    """A UDP port on loopback that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def target(name: str, host: str, port: int) -> TargetConfig:
    return TargetConfig(name=name, url=f"udp://{host}:{port}", host=host, port=port)


Received = tuple[str, list[Any], str]


class LibloReceiver:
    """A liblo OSC server on loopback recording (address, args, types) of every message."""

    def __init__(self) -> None:
        self.server = pyliblo3.Server()
        self.port: int = self.server.port
        self.got: list[Received] = []
        self.server.add_method(None, None, self._on_message)

    def _on_message(self, path: str, args: list[Any], types: str, src: Any, data: Any) -> None:
        self.got.append((path, list(args), types))

    def wait_for(self, count: int, timeout_s: float = 3.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.got) < count and time.monotonic() < deadline:
            self.server.recv(50)
        return self.got


@pytest.fixture
def liblo() -> Iterator[LibloReceiver]:
    """A liblo server on a free loopback port, freed after the test."""
    receiver = LibloReceiver()
    try:
        yield receiver
    finally:
        receiver.server.free()
