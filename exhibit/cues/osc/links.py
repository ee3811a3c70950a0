"""Threaded links to one OSC receiver: TCP (kept connection) and UDP with replies.

The show loop must never wait on the network, so a link owns one thread that does all the I/O
for its target; the show loop only hands it packets through a bounded queue:

* ``submit`` never blocks. It queues the packet and returns ``None``, or returns the reason it
  refused: the link is down and waiting to reconnect (the reason is the last error), the queue
  is full (``queue_size`` packets waiting: the receiver stopped reading), or it is closed.
* The TCP connection is made lazily, on the first ``submit``, and kept. When it breaks (the
  receiver closed it, a write failed or took longer than ``write_timeout_s``) the link reconnects
  at once, then with exponential backoff from ``reconnect_min_s`` to ``reconnect_max_s`` while
  the receiver stays away. Packets queued when a connection attempt fails are dropped (a cue
  that would arrive seconds late is worse than none) and reported through ``LinkEvents.dropped``.
  A connection attempt waits at most ``connect_timeout_s`` (plus name resolution).
* Everything the receiver sends back (replies) is read on the same thread and handed to
  ``LinkEvents.received`` one packet at a time.

``LinkEvents`` is how a link reports; its methods are called on the link's thread, never while
the link holds its own lock. Timing (backoff, timeouts) uses ``time.monotonic``: links are edges.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from exhibit.cues.osc.framing import Framing, StreamDecoder, encode_frame, make_decoder

RECV_BYTES = 65536
MAX_UDP_PAYLOAD = 65507
"""The largest UDP datagram payload over IPv4."""


def describe_error(exc: OSError) -> str:
    """A one-line reason for a socket error, naming the errno (``ECONNREFUSED: ...``)."""
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return "timed out"
    code = errno.errorcode.get(exc.errno, "") if isinstance(exc.errno, int) else ""
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{code}: {text}" if code else text


@dataclass(frozen=True)
class Outgoing:
    """One packet for the receiver: its bytes, the message addresses inside (awaited as
    replies), and whether it is a counted cue send (``False`` for handshake packets)."""

    data: bytes
    addresses: tuple[str, ...] = ()
    counted: bool = True


class LinkEvents(Protocol):
    """What a link reports to its sender (called on the link's thread)."""

    def written(self, item: Outgoing) -> None:
        """``item`` left this machine."""

    def dropped(self, item: Outgoing, reason: str) -> None:
        """``item`` was queued but will never be sent."""

    def up(self) -> None:
        """The receiver is reachable (a TCP connection was made)."""

    def down(self, reason: str) -> None:
        """The receiver is not reachable now."""

    def received(self, packet: bytes) -> None:
        """One packet came from the receiver."""

    def tick(self) -> float | None:
        """Housekeeping; returns the next ``time.monotonic`` time it wants to run, if any."""


class _Link:
    """The queue, the wake-up pipe and the thread shared by every link."""

    kind = "link"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        events: LinkEvents,
        *,
        queue_size: int,
        hello: Callable[[], list[Outgoing]] | None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._events = events
        self._queue_size = queue_size
        self._hello = hello
        self._lock = threading.Lock()
        self._queue: deque[Outgoing] = deque()
        self._closed = False
        self._wanted = False  # a packet was ever submitted: from then on, stay connected
        self._refusing: str | None = None  # while down: why submits are refused
        self._connected = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._prepare()
        self._thread = threading.Thread(
            target=self._run_guarded, name=f"osc-{self.kind}-{name}", daemon=True
        )
        self._thread.start()

    # -- called by the sender ---------------------------------------------------------------

    def submit(self, item: Outgoing) -> str | None:
        """Queue ``item``; ``None`` if queued, else the reason it was refused. Never blocks."""
        with self._lock:
            if self._closed:
                return "the OSC sender is closed"
            self._wanted = True
            if self._refusing is not None:
                return self._refusing
            if len(self._queue) >= self._queue_size:
                return f"send queue full ({self._queue_size} packets waiting)"
            self._queue.append(item)
        self._wake()
        return None

    @property
    def connected(self) -> bool:
        """Whether the link is up now (TCP: connected; UDP: socket open and name resolved)."""
        with self._lock:
            return self._connected

    def close(self, timeout_s: float = 5.0, flush_s: float = 0.5) -> None:
        """Stop the thread and close the socket. Packets queued while connected (the show's
        shutdown cues, sent just before) get up to ``flush_s`` to leave; the rest are dropped
        uncounted."""
        deadline_s = time.monotonic() + flush_s
        while time.monotonic() < deadline_s:
            with self._lock:
                if not self._queue or not self._connected:
                    break
            time.sleep(0.005)
        with self._lock:
            self._closed = True
            self._queue.clear()
        self._wake()
        self._thread.join(timeout_s)
        self._wake_r.close()
        self._wake_w.close()

    # -- used by the thread -----------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
            self._wake_w.send(b"\x00")

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _pop(self) -> Outgoing | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _state(self) -> tuple[bool, bool]:
        with self._lock:
            return self._closed, self._wanted

    def _set_down(self, reason: str) -> list[Outgoing]:
        """Refuse new packets with ``reason``; return (and forget) the queued ones."""
        with self._lock:
            self._refusing = reason
            self._connected = False
            dropped = list(self._queue)
            self._queue.clear()
        return dropped

    def _set_up(self) -> None:
        with self._lock:
            self._refusing = None
            self._connected = True

    def _run_guarded(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug here must not kill the show silently
            reason = f"OSC {self.kind} thread failed: {type(exc).__name__}: {exc}"
            for item in self._set_down(reason):
                self._events.dropped(item, reason)
            self._events.down(reason)
            raise

    def _prepare(self) -> None:
        """Work done on the caller's thread before the link's thread starts."""

    def _run(self) -> None:
        raise NotImplementedError


class TcpLink(_Link):
    """A kept TCP connection to one receiver, framed with SLIP (OSC 1.1) or a length prefix.

    ``hello()`` gives packets to write first on every new connection (QLab's ``/connect``).

    Example:
        >>> class Quiet:
        ...     def written(self, item): pass
        ...     def dropped(self, item, reason): pass
        ...     def up(self): pass
        ...     def down(self, reason): pass
        ...     def received(self, packet): pass
        ...     def tick(self): return None
        >>> link = TcpLink("sound", "127.0.0.1", 9, "slip", Quiet())
        >>> link.connected
        False
        >>> link.close()
    """

    kind = "tcp"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        framing: Framing,
        events: LinkEvents,
        *,
        queue_size: int = 64,
        connect_timeout_s: float = 1.0,
        write_timeout_s: float = 1.0,
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float = 10.0,
        hello: Callable[[], list[Outgoing]] | None = None,
    ) -> None:
        self._framing = framing
        self._connect_timeout_s = connect_timeout_s
        self._write_timeout_s = write_timeout_s
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = max(reconnect_max_s, reconnect_min_s)
        super().__init__(name, host, port, events, queue_size=queue_size, hello=hello)

    def _connect(self) -> socket.socket:
        """A connected socket; raises ``OSError`` naming why not."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise OSError(f"cannot resolve host {self.host!r}: {exc}") from exc
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {self.host!r}: {exc.strerror}") from exc
        failure: OSError = OSError(f"no address found for host {self.host!r}")
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self._connect_timeout_s)
                sock.connect(sockaddr)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(self._write_timeout_s)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            return sock
        raise failure

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        sock: socket.socket | None = None
        decoder = make_decoder(self._framing)
        retry_at = 0.0
        backoff_s = self._reconnect_min_s

        def broken(reason: str) -> None:
            nonlocal sock, retry_at, backoff_s
            if sock is not None:
                selector.unregister(sock)
                sock.close()
                sock = None
            self._set_down_keep_queue(reason)
            self._events.down(reason)
            retry_at = time.monotonic()  # try again at once, then back off
            backoff_s = self._reconnect_min_s

        try:
            while True:
                closed, wanted = self._state()
                if closed:
                    break
                if sock is None and wanted and time.monotonic() >= retry_at:
                    try:
                        sock = self._connect()
                    except OSError as exc:
                        reason = describe_error(exc) if exc.errno is not None else str(exc)
                        if isinstance(exc, TimeoutError):
                            reason = f"connection timed out after {self._connect_timeout_s:g} s"
                        retry_at = time.monotonic() + backoff_s
                        backoff_s = min(backoff_s * 2, self._reconnect_max_s)
                        for lost in self._set_down(reason):
                            self._events.dropped(lost, reason)
                        self._events.down(reason)
                    else:
                        selector.register(sock, selectors.EVENT_READ, "sock")
                        decoder = make_decoder(self._framing)
                        backoff_s = self._reconnect_min_s
                        self._set_up()
                        self._events.up()
                        for first in self._hello() if self._hello is not None else []:
                            if not self._write(sock, first, broken):
                                break
                if sock is not None:
                    while (item := self._pop()) is not None:
                        if not self._write(sock, item, broken):
                            self._events.dropped(item, self._refusing_reason())
                            break
                        if sock is None:
                            break
                timeout: float | None = None
                if sock is None and wanted:
                    timeout = max(0.0, retry_at - time.monotonic())
                deadline = self._events.tick()
                if deadline is not None:
                    wait_s = max(0.0, deadline - time.monotonic()) + 0.001
                    timeout = wait_s if timeout is None else min(timeout, wait_s)
                for key, _ in selector.select(timeout):
                    if key.data == "wake":
                        self._drain_wake()
                    elif sock is not None:
                        self._read(sock, decoder, broken)
        finally:
            if sock is not None:
                sock.close()
            selector.close()

    def _write(self, sock: socket.socket, item: Outgoing, broken: Callable[[str], None]) -> bool:
        try:
            sock.sendall(encode_frame(item.data, self._framing))
        except OSError as exc:
            reason = describe_error(exc)
            if isinstance(exc, TimeoutError):
                reason = (
                    f"receiver stopped reading (write timed out after {self._write_timeout_s:g} s)"
                )
            broken(reason)
            return False
        self._events.written(item)
        return True

    def _read(
        self, sock: socket.socket, decoder: StreamDecoder, broken: Callable[[str], None]
    ) -> None:
        try:
            data = sock.recv(RECV_BYTES)
        except OSError as exc:
            broken(describe_error(exc))
            return
        if not data:
            broken("the receiver closed the connection")
            return
        try:
            packets = decoder.feed(data)
        except ValueError as exc:
            broken(f"unreadable stream from the receiver: {exc}")
            return
        for packet in packets:
            self._events.received(packet)

    def _set_down_keep_queue(self, reason: str) -> None:
        with self._lock:
            self._refusing = reason
            self._connected = False

    def _refusing_reason(self) -> str:
        with self._lock:
            return self._refusing or "connection lost"


class UdpLink(_Link):
    """UDP to one receiver from a socket bound to ``reply_port`` (0: any), reading replies.

    The socket is not connected, so replies are read from the receiver's host whatever port
    they come from. ``hello()`` gives packets to send before each queued packet (QLab's
    ``/connect`` over UDP). If ``reply_port`` is taken, the link falls back to any free port
    (replies sent to the sender's port still arrive) and reports it through ``on_notice``.
    """

    kind = "udp"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        events: LinkEvents,
        *,
        reply_port: int = 0,
        queue_size: int = 64,
        retry_s: float = 10.0,
        hello: Callable[[], list[Outgoing]] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self._reply_port = reply_port
        self._retry_s = retry_s
        self._on_notice = on_notice
        self.local_port: int | None = None
        self._opened: tuple[socket.socket, tuple[str, int]] | None = None
        self._open_error: str | None = None
        super().__init__(name, host, port, events, queue_size=queue_size, hello=hello)

    def _prepare(self) -> None:
        """Open the socket now, as plain UDP targets do, so ``local_port`` is known at once."""
        try:
            self._opened = self._open()
        except OSError as exc:
            self._open_error = describe_error(exc) if exc.errno is not None else str(exc)

    def _open(self) -> tuple[socket.socket, tuple[str, int]]:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except UnicodeError as exc:
            raise OSError(f"cannot resolve host {self.host!r}: {exc}") from exc
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {self.host!r}: {exc.strerror}") from exc
        if not infos:
            raise OSError(f"no address found for host {self.host!r}")
        family, kind, proto, _, sockaddr = infos[0]
        sock = socket.socket(family, kind, proto)
        any_host = "::" if family == socket.AF_INET6 else "0.0.0.0"
        try:
            try:
                sock.bind((any_host, self._reply_port))
            except OSError as exc:
                if not self._reply_port:
                    raise
                sock.bind((any_host, 0))
                if self._on_notice is not None:
                    self._on_notice(
                        f"cannot listen for replies on UDP port {self._reply_port} "
                        f"({describe_error(exc)}); listening on port "
                        f"{sock.getsockname()[1]} instead"
                    )
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.local_port = int(sock.getsockname()[1])
        return sock, (str(sockaddr[0]), int(sockaddr[1]))

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        sock: socket.socket | None = None
        peer: tuple[str, int] | None = None
        retry_at = 0.0
        if self._opened is not None:
            sock, peer = self._opened
            selector.register(sock, selectors.EVENT_READ, "sock")
            self._set_up()
        elif self._open_error is not None:
            retry_at = time.monotonic() + self._retry_s
            self._set_down(self._open_error)
            self._events.down(self._open_error)
        try:
            while True:
                closed, _ = self._state()
                if closed:
                    break
                if sock is None and time.monotonic() >= retry_at:
                    try:
                        sock, peer = self._open()
                    except OSError as exc:
                        reason = describe_error(exc) if exc.errno is not None else str(exc)
                        retry_at = time.monotonic() + self._retry_s
                        for lost in self._set_down(reason):
                            self._events.dropped(lost, reason)
                        self._events.down(reason)
                    else:
                        selector.register(sock, selectors.EVENT_READ, "sock")
                        self._set_up()
                if sock is not None and peer is not None:
                    while (item := self._pop()) is not None:
                        for extra in self._hello() if self._hello is not None else []:
                            self._send(sock, peer, extra)
                        self._send(sock, peer, item)
                timeout: float | None = None
                if sock is None:
                    timeout = max(0.0, retry_at - time.monotonic())
                deadline = self._events.tick()
                if deadline is not None:
                    wait_s = max(0.0, deadline - time.monotonic()) + 0.001
                    timeout = wait_s if timeout is None else min(timeout, wait_s)
                for key, _ in selector.select(timeout):
                    if key.data == "wake":
                        self._drain_wake()
                    elif sock is not None and peer is not None:
                        self._read(sock, peer)
        finally:
            if sock is not None:
                sock.close()
            selector.close()

    def _send(self, sock: socket.socket, peer: tuple[str, int], item: Outgoing) -> None:
        try:
            sock.sendto(item.data, peer)
        except OSError as exc:
            self._events.dropped(item, describe_error(exc))
            return
        self._events.written(item)

    def _read(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        for _ in range(64):  # read what is there, then let the loop send again
            try:
                data, source = sock.recvfrom(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. an ICMP error reported on this socket; replies will tell
                return
            if str(source[0]) == peer[0]:
                self._events.received(data)
