"""HTTP status endpoint: a museum's monitoring (Nagios, Zabbix, Uptime Kuma, a technician's
``curl``) asks the running exhibit how it is.

Two resources, ``GET`` (and ``HEAD``) only; everything else is 404 (or 501 for other methods)::

    /status    200, JSON: the same dict ``/exhibit/status`` answers over OSC (state, visitors,
               fps, uptime_s, health: frames, last frame's age, camera, sources, reloads,
               targets, CPU temperature, throttling)
    /healthz   200 {"ok": true} while frames flow; 503 {"ok": false, "problems": [...]} when the
               main loop is stuck (no frame for ``stale_after_s``), before the first frame, when
               the camera gives no image, a sensor is disconnected or a file cannot be written

The server binds only the configured interface and port (``[status] listen``) and answers 403 to
any client outside ``[status] allow`` (loopback only by default), the same idea as ``[control]``.
It serves numbers only: no camera image ever goes out (PRIVACY.md).

It is an edge: a ``ThreadingHTTPServer`` on a daemon thread, at most ``MAX_CLIENTS`` requests at
once (more are dropped), of which clients outside ``allow`` share ``STRANGER_SLOTS``, each cut
after ``REQUEST_TIMEOUT_S`` in all, so a slow or hostile client cannot hold the service.
``status_provider`` is called on a request thread: it must return a snapshot.

Example:
    >>> judge({"health": {"frames": 0, "last_frame_age_s": None}}, stale_after_s=5.0)
    ['no frame yet (starting, or the source never delivered one)']
    >>> judge({"health": {"frames": 90, "last_frame_age_s": 0.03, "camera": {"ok": True}}}, 5.0)
    []
    >>> judge({"health": {"frames": 90, "last_frame_age_s": 12.0}}, stale_after_s=5.0)
    ['no frame for 12.0 s (the main loop is stuck)']
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from exhibit.config.checker import Checker, join, show
from exhibit.control.osc_in import (
    DEFAULT_ALLOW,
    Network,
    listen_address,
    listener_switch,
    parse_networks,
)
from exhibit.errors import SourceError

DEFAULT_PORT = 9180
MAX_CLIENTS = 8
STRANGER_SLOTS = 2
REQUEST_TIMEOUT_S = 5.0
REPORT_INTERVAL_S = 60.0
PATHS = ("/status", "/healthz")

StatusProvider = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class StatusConfig:
    """The ``[status]`` table: serve ``/status`` and ``/healthz`` on ``host``:``port`` to clients
    in the ``allow`` networks; ``/healthz`` fails after ``stale_after_s`` without a frame.
    Off unless ``enabled``.

    Example:
        >>> StatusConfig().port, StatusConfig().stale_after_s
        (9180, 5.0)
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    allow: tuple[Network, ...] = field(
        default_factory=lambda: tuple(ipaddress.ip_network(n) for n in DEFAULT_ALLOW)
    )
    stale_after_s: float = 5.0


# -- config ---------------------------------------------------------------------------------


def parse_status(table: Any, path: str, checker: Checker) -> StatusConfig:
    """Validate the ``[status]`` table at ``path`` (``"status"``), collecting problems.

    Keys: ``enabled`` (false), ``listen`` (``"127.0.0.1:9180"``), ``allow`` (client networks
    as CIDR strings, default loopback only), ``stale_after_s`` (5.0).

    Example:
        >>> c = Checker()
        >>> parse_status({"enabled": True, "listen": "0.0.0.0:8080"}, "status", c).port
        8080
        >>> parse_status({"listen": "pi:80"}, "status", c).port
        9180
        >>> c.problems[0].split(":")[0]
        'status.listen'
    """
    c = checker
    default = StatusConfig()
    switch = listener_switch(
        table, path, c, ("listen", "allow", "stale_after_s"), "serve /status and /healthz"
    )
    if switch is None:
        return default
    enabled = switch

    host, port = listen_address(table, path, c, default.host, default.port)

    stale_after_s = default.stale_after_s
    if "stale_after_s" in table:
        raw = table["stale_after_s"]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.5 <= raw <= 600:
            c.error(
                join(path, "stale_after_s"),
                "not a time in seconds between 0.5 and 600",
                raw,
                "a number of seconds, e.g. 5.0 (frames come at least twice a second)",
            )
        else:
            stale_after_s = float(raw)

    allow = default.allow
    if "allow" in table:
        networks = parse_networks(table["allow"], join(path, "allow"), c)
        if networks is not None:
            if not networks and enabled:
                c.error(
                    join(path, "allow"),
                    "allows no client, so nobody could read the status",
                    table["allow"],
                    'at least one network, e.g. ["127.0.0.1/32"]',
                )
            allow = networks
    if enabled and any(n.prefixlen == 0 for n in allow):
        c.warnings.append(
            f"{join(path, 'allow')}: {show(table.get('allow'))} lets any host that reaches "
            f"{host}:{port} read the exhibit's status"
        )
    return StatusConfig(
        enabled=enabled, host=host, port=port, allow=allow, stale_after_s=stale_after_s
    )


# -- what /healthz says (pure) --------------------------------------------------------------


def judge(status: Mapping[str, Any], stale_after_s: float) -> list[str]:
    """What is wrong with a running exhibit, from its status dict; empty when all is well.

    Reads ``health.frames``, ``health.last_frame_age_s``, ``health.camera.ok``,
    ``health.sources`` (sensor name -> health word) and ``health.files`` (file name -> its
    write health, ``failing`` while a write fails: disk full) where present. Pure; never raises.
    """
    health = status.get("health")
    if not isinstance(health, Mapping):
        return ["no health in the status"]
    problems: list[str] = []
    age = health.get("last_frame_age_s")
    if not health.get("frames") or age is None:
        problems.append("no frame yet (starting, or the source never delivered one)")
    elif not isinstance(age, int | float) or age > stale_after_s:
        problems.append(f"no frame for {age} s (the main loop is stuck)")
    camera = health.get("camera")
    if isinstance(camera, Mapping) and camera.get("ok") is False:
        problems.append("the camera gives no image (frames come from the clock)")
    sources = health.get("sources")
    if isinstance(sources, Mapping):
        for name, state in sorted(sources.items(), key=lambda item: str(item[0])):
            if state == "disconnected":
                problems.append(f"sensor {name} is disconnected")
    files = health.get("files")
    if isinstance(files, Mapping):
        for name, write in sorted(files.items(), key=lambda item: str(item[0])):
            if isinstance(write, Mapping) and write.get("failing"):
                problems.append(f"cannot write {name} ({write.get('error', 'failing')})")
    return problems


# -- the server (edge) ----------------------------------------------------------------------


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_S
    server_version = "exhibit"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        # The socket timeout is per receive: a client sending a byte every few seconds would
        # hold its slot for ever. The whole request gets REQUEST_TIMEOUT_S, then it is cut.
        self._deadline = threading.Timer(REQUEST_TIMEOUT_S, self._cut)
        self._deadline.daemon = True
        self._deadline.start()

    def finish(self) -> None:
        self._deadline.cancel()
        with contextlib.suppress(OSError):  # the client may have gone already
            super().finish()

    def _cut(self) -> None:
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        self.server.owner._answer(self, body=True)

    def do_HEAD(self) -> None:
        self.server.owner._answer(self, body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are counted, not logged one by one (a poller every 10 s would fill the
        journal)."""

    def send_json(self, code: int, payload: Any, *, body: bool) -> None:
        data = (json.dumps(payload, sort_keys=True, default=str) + "\n").encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HttpStatusServer

    def __init__(self, owner: HttpStatusServer, family: socket.AddressFamily, address: Any):
        self.address_family = family
        self.owner = owner
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        # Clients outside ``allow`` share STRANGER_SLOTS of them (enough for their 403s): they
        # cannot crowd out the monitors that are allowed.
        self._strangers = threading.BoundedSemaphore(STRANGER_SLOTS)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """As HTTPServer's, without its reverse DNS lookup of the address (``getfqdn``), which
        can hang for seconds at boot, before the network's DNS answers."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        stranger = not self.owner._allowed(str(client_address[0]))
        if stranger and not self._strangers.acquire(blocking=False):
            self.owner._count("not_allowed", "(dropped: too many at once)", client_address[0])
            self.shutdown_request(request)
            return
        if not self._slots.acquire(blocking=False):
            if stranger:
                self._strangers.release()
            self.owner._count("busy", f"more than {MAX_CLIENTS} requests at once", client_address)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(stranger)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(not self.owner._allowed(str(client_address[0])))

    def _release(self, stranger: bool) -> None:
        self._slots.release()
        if stranger:
            self._strangers.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that reset or vanished mid-request: counted by the handler's caller, not
        printed (socketserver's default writes a traceback to stderr, the journal)."""
        self.owner._log.debug("HTTP status: request from %s failed", client_address, exc_info=True)


COUNTERS = ("status", "healthz", "not_allowed", "not_found", "status_failed", "busy")


class HttpStatusServer:
    """Serves ``/status`` and ``/healthz`` from ``status_provider`` on its own thread.

    ``start`` binds (``config.port = 0`` picks a free port; see ``address``) and raises
    ``SourceError`` naming the address if it cannot; ``close`` stops it. ``stats`` counts the
    requests by outcome (``COUNTERS``); refused clients are logged at most once a minute.

    Example:
        >>> server = HttpStatusServer(StatusConfig(port=0), lambda: {"state": "idle"})
        >>> server.start()
        >>> server.address[0]
        '127.0.0.1'
        >>> server.close()
    """

    def __init__(
        self,
        config: StatusConfig,
        status_provider: StatusProvider,
        *,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self._status_provider = status_provider
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._last_log: dict[str, float] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server is bound to (after ``start``)."""
        if self._server is None:
            return self.config.host, self.config.port
        name = self._server.socket.getsockname()
        return str(name[0]), int(name[1])

    def start(self) -> None:
        host, port = self.config.host, self.config.port
        try:
            family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            self._server = _Server(self, family, sockaddr[:2])
        except OSError as exc:
            raise SourceError(f"cannot serve the HTTP status on {host}:{port}: {exc}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="http-status",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and close the socket. Closing twice is harmless."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def __enter__(self) -> HttpStatusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _count(self, reason: str, detail: str, client: Any) -> None:
        now = self._clock()
        with self._lock:
            self._counts[reason] += 1
            if reason in ("status", "healthz", "not_found"):
                return
            last = self._last_log.get(reason)
            if last is not None and now - last < REPORT_INTERVAL_S:
                return
            self._last_log[reason] = now
        self._log.warning("HTTP status: %s from %s: %s", reason.replace("_", " "), client, detail)

    def _allowed(self, host: str) -> bool:
        address = _ip(host)
        return address is not None and any(address in net for net in self.config.allow)

    def _answer(self, handler: _Handler, *, body: bool) -> None:
        client = handler.client_address
        if not self._allowed(str(client[0])):
            self._count("not_allowed", handler.path[:100], client[0])
            handler.send_json(403, {"error": "forbidden"}, body=body)
            return
        path = handler.path.split("?", 1)[0]
        if path not in PATHS:
            self._count("not_found", path, client[0])
            handler.send_json(404, {"error": "not found", "paths": list(PATHS)}, body=body)
            return
        try:
            status = self._status_provider()
            if not isinstance(status, Mapping):
                raise ValueError(f"status provider returned {type(status).__name__}, not a dict")
            status = dict(status)
        except Exception as exc:  # the provider is the lead's code: never die on it
            self._count("status_failed", f"{type(exc).__name__}: {exc}", client[0])
            handler.send_json(500, {"error": "status unavailable"}, body=body)
            return
        if path == "/status":
            self._count("status", "", client[0])
            handler.send_json(200, status, body=body)
            return
        self._count("healthz", "", client[0])
        problems = judge(status, self.config.stale_after_s)
        if problems:
            handler.send_json(503, {"ok": False, "problems": problems}, body=body)
        else:
            handler.send_json(200, {"ok": True}, body=body)


# -- the client (``exhibit status``) --------------------------------------------------------


def fetch(config: StatusConfig, path: str = "/status", timeout_s: float = 2.0) -> Any:
    """``GET`` ``path`` from a running exhibit's status server (on this machine when it listens
    on every interface) and return the decoded JSON; a 503 ``/healthz`` is returned too.
    Raises ``SourceError`` saying what went wrong and what to check."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{config.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 503:
            return json.loads(exc.read())
        hint = " (is this machine in [status] allow?)" if exc.code == 403 else ""
        raise SourceError(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"{url}: no answer ({reason}); is the exhibit running?") from exc


def print_status(config: StatusConfig, timeout_s: float, out: TextIO) -> int:
    """``exhibit status`` over HTTP: the status, one line per key, then /healthz's verdict.
    0 when the exhibit answered and is healthy, 1 when it answered with problems or not at all.
    """
    try:
        status = fetch(config, "/status", timeout_s)
        verdict = fetch(config, "/healthz", timeout_s)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not isinstance(status, Mapping) or not isinstance(verdict, Mapping):
        print(f"error: unexpected answer {status!r} {verdict!r}", file=sys.stderr)
        return 1
    health = status.get("health")
    for key, value in status.items():
        if key != "health":
            print(f"{key:<18} {value}", file=out)
    if isinstance(health, Mapping):
        for key, value in sorted(health.items()):
            print(f"{key:<18} {json.dumps(value, sort_keys=True, default=str)}", file=out)
    if verdict.get("ok") is True:
        print("healthz            ok", file=out)
        return 0
    for problem in verdict.get("problems", ["not healthy"]):
        print(f"healthz            PROBLEM: {problem}", file=out)
    return 1
