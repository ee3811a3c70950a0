"""The sd_notify client against a real unix datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from exhibit.service import Notifier


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


class Systemd:
    """The receiving end of $NOTIFY_SOCKET: what systemd would read."""

    def __init__(self, sock: socket.socket, env_address: str) -> None:
        self.sock = sock
        self.env_address = env_address

    def received(self) -> list[str]:
        messages: list[str] = []
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return messages
            messages.append(data.decode())


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[Systemd]:
    folder = tmp_path
    if len(str(folder / "notify")) > 100:  # AF_UNIX paths are limited to 108 bytes
        folder = Path(tempfile.mkdtemp(prefix="exn"))
    path = folder / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    try:
        yield Systemd(sock, str(path))
    finally:
        sock.close()
        path.unlink(missing_ok=True)


def env(systemd: Systemd, **extra: str) -> dict[str, str]:
    return {"NOTIFY_SOCKET": systemd.env_address, **extra}


def test_ready_is_sent_once_with_its_status(systemd: Systemd) -> None:
    notifier = Notifier.from_env(env(systemd))
    assert notifier.enabled
    assert notifier.ready("showing 'Inside the cell'")
    assert not notifier.ready("again")
    assert systemd.received() == ["READY=1\nSTATUS=showing 'Inside the cell'"]
    notifier.close()


def test_status_is_one_short_line(systemd: Systemd) -> None:
    with Notifier.from_env(env(systemd)) as notifier:
        notifier.status("state welcome\nvisitor 1")
        notifier.status("x" * 500)
    first, second = systemd.received()
    assert first == "STATUS=state welcome visitor 1"
    assert second == "STATUS=" + "x" * 200


def test_watchdog_pings_at_most_every_half_timeout(systemd: Systemd) -> None:
    clock = FakeClock()
    environ = env(systemd, WATCHDOG_USEC="10000000", WATCHDOG_PID=str(os.getpid()))
    with Notifier.from_env(environ, clock=clock) as notifier:
        assert notifier.watchdog_interval_s == 5.0
        sent = []
        for _ in range(400):  # 20 s of frames at 20 Hz
            sent.append(notifier.watchdog())
            clock.advance(0.05)
    assert sum(sent) == 4  # at 0, 5, 10 and 15 s
    assert systemd.received() == ["WATCHDOG=1"] * 4


def test_ready_counts_as_a_ping(systemd: Systemd) -> None:
    clock = FakeClock()
    with Notifier.from_env(env(systemd, WATCHDOG_USEC="2000000"), clock=clock) as notifier:
        notifier.ready()
        assert not notifier.watchdog()
        clock.advance(1.0)
        assert notifier.watchdog()
    assert systemd.received() == ["READY=1\nWATCHDOG=1", "WATCHDOG=1"]


@pytest.mark.parametrize(
    "extra",
    [
        {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"},  # the watchdog is another process's
        {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "not-a-pid"},
        {"WATCHDOG_USEC": "0"},
        {"WATCHDOG_USEC": "ten"},
        {},
    ],
)
def test_no_pings_when_the_watchdog_is_not_ours(systemd: Systemd, extra: dict[str, str]) -> None:
    clock = FakeClock()
    with Notifier.from_env(env(systemd, **extra), clock=clock, pid=4242) as notifier:
        assert notifier.watchdog_interval_s is None
        for _ in range(10):
            assert not notifier.watchdog()
            clock.advance(60.0)
    assert systemd.received() == []


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = Notifier.from_env({"WATCHDOG_USEC": "1000"}, clock=FakeClock())
    assert not notifier.enabled
    assert notifier.watchdog_interval_s is None
    assert not notifier.ready("x")
    assert not notifier.status("x")
    assert not notifier.watchdog()
    assert not notifier.stopping()
    assert (notifier.sent, notifier.errors) == (0, 0)


def test_an_unusable_address_is_a_no_op(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not notifier.enabled
    assert not notifier.ready()
    assert "not a unix socket path" in caplog.text


def test_a_vanished_socket_is_counted_and_logged_once(
    systemd: Systemd, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    notifier = Notifier.from_env(env(systemd, WATCHDOG_USEC="1000000"), clock=clock)
    assert notifier.ready()
    systemd.sock.close()
    Path(systemd.env_address).unlink()  # systemd went away
    assert not notifier.status("still showing")
    clock.advance(1.0)
    assert not notifier.watchdog()
    assert not notifier.stopping()
    assert (notifier.sent, notifier.errors) == (1, 3)
    assert caplog.text.count("cannot notify systemd") == 1
    notifier.close()


def test_stopping_and_reloading(systemd: Systemd) -> None:
    with Notifier.from_env(env(systemd)) as notifier:
        notifier.reloading()
        notifier.reloaded("config reloaded")
        notifier.stopping("SIGTERM")
    reloading, reloaded, stopping = systemd.received()
    assert reloading.startswith("RELOADING=1\nMONOTONIC_USEC=")
    assert reloaded == "READY=1\nSTATUS=config reloaded"
    assert stopping == "STOPPING=1\nSTATUS=SIGTERM"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux's")
def test_abstract_namespace_socket() -> None:
    name = f"exhibit-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    try:
        with Notifier.from_env({"NOTIFY_SOCKET": "@" + name}) as notifier:
            assert notifier.ready("abstract")
        assert sock.recv(4096) == b"READY=1\nSTATUS=abstract"
    finally:
        sock.close()
