"""OSC control in: a technician's console or a show controller steers the running exhibit.

Accepted messages (address, arguments)::

    /exhibit/goto    STATE      go to that show state (a string)
    /exhibit/reset              back to the initial state
    /exhibit/pause              hold the show (timers and transitions stop)
    /exhibit/resume             carry on
    /exhibit/status  [PORT]     reply /exhibit/status STATE VISITORS FPS UPTIME_S (s i f f) to the
                                sender's address and port (or to PORT of the sender's host)

``reset``, ``pause`` and ``resume`` take no argument, or one number or boolean: a control
surface button (TouchOSC, a QLab network cue) sends 1 on press and 0 on release, so a zero or
``false`` is a release and is ignored, not a second command.

The server is an edge. It listens on UDP (and, with ``tcp = true``, on TCP with SLIP or length
prefix framing, detected per connection) on its own thread, accepts packets only from the
configured sender networks, and hands every command to the deterministic core through a bounded
thread-safe queue (``poll`` drains it between frames). What it ignores is counted by reason
(``stats``) and logged at most once a minute per reason: ``not_allowed`` (sender outside
``allow``), ``malformed`` (not OSC), ``unknown_address``, ``bad_argument``, ``unknown_state``,
``released``, ``queue_full``, ``status_failed``, ``too_many_connections`` (TCP, more than 8);
what it takes is counted as ``accepted`` and
``status``. ``/exhibit/status`` is answered on the server's thread from ``status_provider()``,
which must therefore be thread-safe (return a snapshot).

Example:
    >>> parse_control_packet(encode_message("/exhibit/goto", ["welcome"]))
    [ControlCommand(kind='goto', arg='welcome')]
    >>> parse_control_packet(encode_message("/exhibit/reset", [0.0]))
    [Ignored(reason='released', detail='/exhibit/reset 0.0')]
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from exhibit.config.checker import Checker, join, show, suggest
from exhibit.cues.osc.decode import DecodedArg, decode_packet
from exhibit.cues.osc.encode import encode_message
from exhibit.cues.osc.framing import AutoDecoder, encode_frame
from exhibit.errors import CueError, SourceError

ControlKind = Literal["goto", "reset", "pause", "resume"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PREFIX = "/exhibit"
STATUS_ADDRESS = "/exhibit/status"
STATUS_ERROR_ADDRESS = "/exhibit/status/error"
MAX_STATE_NAME = 64
REPORT_INTERVAL_S = 60.0
MAX_TCP_CONNECTIONS = 8
DEFAULT_ALLOW = ("127.0.0.1/32", "::1/128")
COUNTERS = (
    "accepted",
    "status",
    "not_allowed",
    "malformed",
    "unknown_address",
    "bad_argument",
    "unknown_state",
    "released",
    "queue_full",
    "status_failed",
    "too_many_connections",
)


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """One command for the core, applied between frames: ``goto`` (``arg`` is the state),
    ``reset``, ``pause``, ``resume`` (``arg`` is ``None``)."""

    kind: ControlKind
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """``/exhibit/status``: reply to the sender (to ``reply_port`` of its host if given)."""

    reply_port: int | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message that is not acted on, with the counter it goes to and what it was."""

    reason: str
    detail: str


Parsed = ControlCommand | StatusRequest | Ignored


@dataclass(frozen=True)
class ControlConfig:
    """The ``[control]`` table: listen on ``host``:``port`` (UDP, and TCP if ``tcp``) for
    senders in the ``allow`` networks. Off unless ``enabled``."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9100
    allow: tuple[Network, ...] = field(
        default_factory=lambda: tuple(ipaddress.ip_network(n) for n in DEFAULT_ALLOW)
    )
    tcp: bool = False


# -- the message parser (pure) --------------------------------------------------------------


def _show_args(args: Sequence[DecodedArg]) -> str:
    return " ".join(repr(a) if isinstance(a, str) else str(a) for a in args)


def _pressed(args: Sequence[DecodedArg]) -> bool | None:
    """``True`` for no argument or a non-zero number/true; ``False`` for 0/false; ``None`` if
    the arguments are not a button's."""
    if not args:
        return True
    if len(args) != 1:
        return None
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return None


def interpret(address: str, args: Sequence[DecodedArg]) -> Parsed:
    """What one received message asks for. Pure; never raises."""
    detail = f"{address} {_show_args(args)}".rstrip()
    if address == f"{PREFIX}/goto":
        if len(args) != 1 or not isinstance(args[0], str):
            return Ignored("bad_argument", detail + " (expected one string: the state name)")
        state = args[0].strip()
        if not state or len(state) > MAX_STATE_NAME or not state.isprintable():
            return Ignored("bad_argument", detail + " (not a state name)")
        return ControlCommand("goto", state)
    if address in (f"{PREFIX}/reset", f"{PREFIX}/pause", f"{PREFIX}/resume"):
        pressed = _pressed(args)
        if pressed is None:
            return Ignored("bad_argument", detail + " (expected no argument, or 1 / 0)")
        if not pressed:
            return Ignored("released", detail)
        kind: ControlKind = (
            "reset"
            if address.endswith("reset")
            else ("pause" if address.endswith("pause") else "resume")
        )
        return ControlCommand(kind)
    if address == STATUS_ADDRESS:
        if not args:
            return StatusRequest()
        port = args[0]
        if (
            len(args) == 1
            and isinstance(port, int)
            and not isinstance(port, bool)
            and 1 <= port <= 65535
        ):
            return StatusRequest(port)
        return Ignored("bad_argument", detail + " (expected no argument or a reply port)")
    return Ignored("unknown_address", detail)


def parse_control_packet(data: bytes) -> list[Parsed]:
    """Everything one received packet asks for, in order. Pure; never raises for any bytes."""
    try:
        messages = decode_packet(data)
    except ValueError as exc:
        return [Ignored("malformed", f"{len(data)} bytes: {exc}")]
    return [interpret(m.address, m.args) for m in messages]


# -- config ---------------------------------------------------------------------------------


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:9100"`` / ``"[::]:9100"`` / ``"localhost:9100"`` into ``(host, port)``.

    The host must be an IP address (or ``localhost``): it names an interface of this machine.
    ``localhost`` is taken as ``127.0.0.1``: on Raspberry Pi OS it resolves to ``::1`` first,
    and a listener bound there alone refuses a monitor asking ``127.0.0.1``.
    Raises ``ValueError`` naming what is wrong.

    Example:
        >>> parse_listen("localhost:9180")
        ('127.0.0.1', 9180)
    """
    if not isinstance(text, str):
        raise ValueError("not a string")
    text = text.strip()
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError("an IPv6 address is written [address]:port")
        ipaddress.IPv6Address(host)
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host:
            raise ValueError("missing host or port")
        if host == "localhost":
            host = "127.0.0.1"
        else:
            try:
                ipaddress.IPv4Address(host)
            except ValueError as exc:
                raise ValueError(f"{host!r} is not an IPv4 address of this machine") from exc
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"port {port_text!r} is not 1..65535")
    return host, int(port_text)


def listen_address(
    table: Mapping[str, Any], path: str, c: Checker, host: str, port: int
) -> tuple[str, int]:
    """A listener's ``listen = "host:port"`` (default ``host``:``port``), checked by
    :func:`parse_listen`; an error names the key and the default is kept."""
    listen = c.string(table, path, "listen", f"{host}:{port}")
    if listen is None:
        return host, port
    try:
        return parse_listen(listen)
    except ValueError as exc:
        c.error(
            join(path, "listen"),
            f"not an address to listen on: {exc}",
            listen,
            f'"host:port" with an IP address of this machine, e.g. "127.0.0.1:{port}" or '
            f'"0.0.0.0:{port}"',
        )
        return host, port


def listener_switch(
    table: Any, path: str, c: Checker, keys: tuple[str, ...], purpose: str
) -> bool | None:
    """The common head of a listener's table (``[control]``, ``[status]``): a table with
    ``enabled`` and ``keys``; returns ``enabled``, or None when ``table`` is not a table.

    Why a warning for settings without ``enabled``: ``[telemetry]`` is on once written, these
    are not (they open a port), and a table with only ``listen`` looks right but does nothing.
    """
    if not isinstance(table, Mapping):
        c.error(path, "not a table", table, f"a [{path}] table")
        return None
    c.unknown_keys(table, path, ("enabled", *keys))
    enabled = c.boolean(table, path, "enabled", False)
    if table and "enabled" not in table:
        c.warnings.append(
            f"{path}: off, so its settings are unused (enabled is not set); "
            f"add enabled = true to {purpose}"
        )
    return enabled


def parse_control(table: Any, path: str, checker: Checker) -> ControlConfig:
    """Validate the ``[control]`` table at ``path`` (``"control"``), collecting problems.

    Keys: ``enabled`` (false), ``listen`` (``"127.0.0.1:9100"``), ``allow`` (sender networks
    as CIDR strings, default loopback only), ``tcp`` (false).
    """
    c = checker
    default = ControlConfig()
    switch = listener_switch(table, path, c, ("listen", "allow", "tcp"), "take control commands")
    if switch is None:
        return default
    enabled = switch
    tcp = c.boolean(table, path, "tcp", False)

    host, port = listen_address(table, path, c, default.host, default.port)

    allow = default.allow
    if "allow" in table:
        raw = table["allow"]
        where = join(path, "allow")
        networks = parse_networks(raw, where, c)
        if networks is not None:
            if not networks and enabled:
                c.error(
                    where,
                    "allows no sender, so nothing could control the exhibit",
                    raw,
                    'at least one network, e.g. ["127.0.0.1/32"]',
                )
            allow = networks
    if enabled and any(n.prefixlen == 0 for n in allow):
        c.warnings.append(
            f"{join(path, 'allow')}: {show(table.get('allow'))} lets any host that reaches "
            f"{host}:{port} control the exhibit"
        )
    return ControlConfig(enabled=enabled, host=host, port=port, allow=allow, tcp=tcp)


def parse_networks(raw: Any, where: str, c: Checker) -> tuple[Network, ...] | None:
    """A list of CIDR strings (or one string) as networks; None (and errors) if not. Used by
    every listener that takes an ``allow`` list (OSC control, HTTP status)."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        c.error(where, "not a list of networks", raw, 'a list such as ["192.168.1.0/24"]')
        return None
    networks: list[Network] = []
    for index, item in enumerate(raw):
        item_where = join(where, index)
        if not isinstance(item, str):
            c.error(item_where, "not a network", item, 'a CIDR string such as "10.0.0.0/8"')
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError as exc:
            hint = None
            with contextlib.suppress(ValueError):
                hint = f'"{ipaddress.ip_network(item.strip(), strict=False)}"'
            c.error(
                item_where,
                f"not a network ({exc})",
                item,
                'an address or a CIDR network such as "192.168.1.0/24"',
                hint,
            )
    return tuple(networks)


# -- the server (edge) ----------------------------------------------------------------------


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _coerce_status(status: Mapping[str, Any], uptime_s: float) -> list[str | int | float]:
    state = str(status.get("state", ""))
    visitors = status.get("visitors", 0)
    fps = status.get("fps", 0.0)
    uptime = status.get("uptime_s", status.get("uptime", uptime_s))
    if isinstance(visitors, bool) or not isinstance(visitors, int):
        raise ValueError(f"visitors must be an int (got {visitors!r})")
    if isinstance(fps, bool) or not isinstance(fps, int | float):
        raise ValueError(f"fps must be a number (got {fps!r})")
    if isinstance(uptime, bool) or not isinstance(uptime, int | float):
        raise ValueError(f"uptime_s must be a number (got {uptime!r})")
    reply: list[str | int | float] = [
        state.replace("\x00", ""),
        visitors,
        float(fps),
        float(uptime),
    ]
    health = status.get("health")
    if health is not None:  # optional fifth argument: a JSON object for `exhibit status`
        reply.append(json.dumps(health, sort_keys=True, default=str).replace("\x00", ""))
    return reply


class _Connection:
    def __init__(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        self.sock = sock
        self.peer = peer
        self.decoder = AutoDecoder()


class OscControlServer:
    """Receives OSC control messages on its own thread and queues ``ControlCommand``s.

    ``start`` binds (``config.port = 0`` picks a free port; see ``address``) and raises
    ``SourceError`` naming the address if it cannot. ``poll`` returns the commands received
    since the last call, without waiting. ``known_states`` (optional) refuses ``goto`` to a
    state the show does not have, counted as ``unknown_state``; a callable is asked at each
    message, so a hot reload that adds a state is followed.

    Example:
        >>> server = OscControlServer(ControlConfig(port=0), lambda: {"state": "idle"})
        >>> server.start()
        >>> server.poll()
        []
        >>> server.close()
    """

    def __init__(
        self,
        config: ControlConfig,
        status_provider: Callable[[], Mapping[str, Any]],
        *,
        queue_size: int = 32,
        known_states: Collection[str] | Callable[[], Collection[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self.commands: queue.Queue[ControlCommand] = queue.Queue(maxsize=queue_size)
        self._status_provider = status_provider
        if known_states is None or callable(known_states):
            self._known_states = known_states
        else:
            fixed = frozenset(known_states)
            self._known_states = lambda: fixed
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._last_log: dict[str, float] = {}
        self._unlogged: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self._started_t = clock()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._connections: dict[int, _Connection] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifetime ---------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the UDP socket is bound to (after ``start``)."""
        if self._udp is None:
            return self.config.host, self.config.port
        name = self._udp.getsockname()
        return str(name[0]), int(name[1])

    def start(self) -> None:
        """Bind the sockets and start the thread; ``SourceError`` if the address is taken."""
        host, port = self.config.host, self.config.port
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            family = infos[0][0]
            sockaddr = infos[0][4]
            self._udp = socket.socket(family, socket.SOCK_DGRAM)
            self._udp.bind(sockaddr)
            self._udp.setblocking(False)
            if self.config.tcp:
                tcp = socket.socket(family, socket.SOCK_STREAM)
                self._tcp = tcp
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((sockaddr[0], self._udp.getsockname()[1]))
                tcp.listen(MAX_TCP_CONNECTIONS)
                tcp.setblocking(False)
        except OSError as exc:
            self._close_sockets()
            raise SourceError(f"cannot listen for OSC control on {host}:{port}: {exc}") from exc
        self._wake_r.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="osc-control-in", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and close every socket. Closing twice is harmless."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\x00")
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self._close_sockets()
        for sock in (self._wake_r, self._wake_w):
            sock.close()

    def _close_sockets(self) -> None:
        for conn in self._connections.values():
            conn.sock.close()
        self._connections.clear()
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()

    def __enter__(self) -> OscControlServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- for the core -----------------------------------------------------------------------

    def poll(self) -> list[ControlCommand]:
        """Every command received since the last call, oldest first; never waits."""
        out: list[ControlCommand] = []
        while True:
            try:
                out.append(self.commands.get_nowait())
            except queue.Empty:
                return out

    def stats(self) -> dict[str, int]:
        """How many messages went to each counter so far (see the module docstring)."""
        with self._lock:
            return dict(self._counts)

    # -- the thread -------------------------------------------------------------------------

    def _count(self, reason: str, detail: str, peer: tuple[str, int] | None) -> None:
        now = self._clock()
        with self._lock:
            self._counts[reason] += 1
            if reason in ("accepted", "status"):
                return
            last = self._last_log.get(reason)
            if last is not None and now - last < REPORT_INTERVAL_S:
                self._unlogged[reason] += 1
                return
            self._last_log[reason] = now
            more = self._unlogged[reason]
            self._unlogged[reason] = 0
        source = f"{peer[0]}:{peer[1]}" if peer is not None else "?"
        self._log.warning(
            "OSC control: ignored a message from %s (%s): %s%s",
            source,
            reason.replace("_", " "),
            detail,
            f"; {more} more of these in the last minute" if more else "",
        )

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        assert self._udp is not None
        selector.register(self._udp, selectors.EVENT_READ, "udp")
        if self._tcp is not None:
            selector.register(self._tcp, selectors.EVENT_READ, "listen")
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(None):
                    if key.data == "wake":
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                    elif key.data == "udp":
                        self._read_udp()
                    elif key.data == "listen":
                        self._accept(selector)
                    else:
                        self._read_tcp(selector, key.fd)
        finally:
            selector.close()

    def _allowed(self, host: str) -> bool:
        address = _ip(host)
        return address is not None and any(address in net for net in self.config.allow)

    def _read_udp(self) -> None:
        assert self._udp is not None
        for _ in range(64):
            try:
                data, source = self._udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            peer = (str(source[0]), int(source[1]))
            if not self._allowed(peer[0]):
                self._count("not_allowed", f"{len(data)} bytes", peer)
                continue

            def reply(
                packet: bytes,
                port: int | None,
                peer: tuple[str, int] = peer,
                udp: socket.socket = self._udp,
            ) -> None:
                with contextlib.suppress(OSError):
                    udp.sendto(packet, (peer[0], port or peer[1]))

            self._handle(data, peer, reply)

    def _accept(self, selector: selectors.BaseSelector) -> None:
        assert self._tcp is not None
        try:
            sock, source = self._tcp.accept()
        except OSError:
            return
        peer = (str(source[0]), int(source[1]))
        if not self._allowed(peer[0]):
            self._count("not_allowed", "TCP connection", peer)
            sock.close()
            return
        if len(self._connections) >= MAX_TCP_CONNECTIONS:
            self._count("too_many_connections", f"limit {MAX_TCP_CONNECTIONS}", peer)
            sock.close()
            return
        sock.setblocking(False)
        self._connections[sock.fileno()] = _Connection(sock, peer)
        selector.register(sock, selectors.EVENT_READ, "conn")

    def _drop(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        selector.unregister(conn.sock)
        self._connections.pop(conn.sock.fileno(), None)
        conn.sock.close()

    def _read_tcp(self, selector: selectors.BaseSelector, fd: int) -> None:
        conn = self._connections.get(fd)
        if conn is None:
            return
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(selector, conn)
            return
        try:
            packets = conn.decoder.feed(data)
        except ValueError as exc:
            self._count("malformed", f"TCP stream: {exc}", conn.peer)
            self._drop(selector, conn)
            return

        def reply(packet: bytes, port: int | None, conn: _Connection = conn) -> None:
            framing = conn.decoder.framing or "slip"
            try:
                conn.sock.settimeout(1.0)  # a status reply is small; never hang the thread
                conn.sock.sendall(encode_frame(packet, framing))
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    conn.sock.setblocking(False)

        for packet in packets:
            self._handle(packet, conn.peer, reply)

    def _handle(
        self,
        data: bytes,
        peer: tuple[str, int],
        reply: Callable[[bytes, int | None], None],
    ) -> None:
        for item in parse_control_packet(data):
            if isinstance(item, Ignored):
                self._count(item.reason, item.detail, peer)
            elif isinstance(item, StatusRequest):
                self._status(item, peer, reply)
            else:
                self._command(item, peer)

    def _command(self, command: ControlCommand, peer: tuple[str, int]) -> None:
        states = self._known_states() if self._known_states is not None else None
        if command.kind == "goto" and states is not None and command.arg not in states:
            hint = suggest(command.arg or "", states)
            self._count(
                "unknown_state",
                f"/exhibit/goto {command.arg!r}" + (f" (did you mean {hint!r}?)" if hint else ""),
                peer,
            )
            return
        try:
            self.commands.put_nowait(command)
        except queue.Full:
            self._count("queue_full", f"{command.kind} {command.arg or ''}".rstrip(), peer)
            return
        self._count("accepted", command.kind, peer)

    def _status(
        self,
        request: StatusRequest,
        peer: tuple[str, int],
        reply: Callable[[bytes, int | None], None],
    ) -> None:
        try:
            status = self._status_provider()
            if not isinstance(status, Mapping):
                raise ValueError(f"status provider returned {type(status).__name__}, not a dict")
            args = _coerce_status(status, self._clock() - self._started_t)
            packet = encode_message(STATUS_ADDRESS, args)
        except Exception as exc:  # the provider is the lead's code: never die on it
            self._count("status_failed", f"{type(exc).__name__}: {exc}", peer)
            with contextlib.suppress(CueError):
                reply(
                    encode_message(STATUS_ERROR_ADDRESS, ["status unavailable"]), request.reply_port
                )
            return
        self._count("status", "", peer)
        reply(packet, request.reply_port)
