"""Fleet telemetry: an exhibit reports to the museum's MQTT broker, and takes commands from it.

Topics under the prefix ``P`` (``[telemetry] topic``, e.g. ``museum/exhibits/hall-3``)::

    P/status       "online" (retained) while connected; "offline" (retained) on a clean stop
                   and, as the MQTT last will, when the exhibit dies or its network goes
    P/health       JSON every health_interval_s: state, visitors, fps, uptime, the health of
                   `exhibit status`, and this publisher's own counters
    P/sessions     JSON per visitor session, from the session store, at least once (QoS >= 1)
    P/faults       JSON per sensor fault / recovery and per error the service logs
    P/cmd          in: reset | pause | resume | reload | goto STATE (with commands = true)
    P/cmd/result   out: whether a command was queued, or why not

This is an edge with its own thread, which alone touches the paho client (``client.loop`` is
called from it; no paho thread). The rest of the service only puts messages into a bounded
outbox (``handle`` as a sink, ``fault``) and takes commands out of a bounded queue (``poll``,
between frames), so a slow or absent broker never holds up a frame.

Delivery: health and faults wait in the outbox while the broker is away (oldest health dropped
first, counted); session summaries are read from the store only while connected and marked sent
only when the broker acknowledged them (PUBACK), so a session is never lost, though it may
arrive twice (its ``id`` tells). Connection failures are logged once per kind of failure and
retried with exponential backoff (``retry_min_s`` doubling up to ``retry_max_s``).

Example (no broker listens on port 9 of this machine, so nothing is sent; the health message
waits in the outbox):
    >>> from exhibit.telemetry.config import TelemetryConfig
    >>> cfg = TelemetryConfig(enabled=True, host="127.0.0.1", port=9, retry_min_s=60)
    >>> pub = MqttPublisher(cfg, "demo", lambda: {"state": "idle"})
    >>> pub.topics.health
    'museum/exhibits/demo/health'
    >>> pub.start(); pub.close()
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from exhibit.config.checker import suggest
from exhibit.events import Event
from exhibit.telemetry.buffer import Outbox, Outgoing
from exhibit.telemetry.commands import Refused, RemoteCommand, parse_command
from exhibit.telemetry.config import TelemetryConfig, TlsConfig

log = logging.getLogger("exhibit.telemetry")

ONLINE = b"online"
OFFLINE = b"offline"
LOOP_S = 0.05
SESSION_BATCH = 20
WINDOW = 20
"""At most this many QoS>0 messages wait for their acknowledgement at once."""
COMMAND_QUEUE = 32
REPORT_INTERVAL_S = 60.0
STOP_WAIT_S = 2.0
SESSION_STALL_S = 120.0
"""Sessions published but not acknowledged for this long are read from the store again."""


class SessionSource(Protocol):
    """What the publisher needs of the session store (``exhibit.analytics.store``)."""

    def unsent(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` sessions not yet acknowledged by the broker, oldest first."""
        ...

    def mark_sent(self, ids: Sequence[int]) -> None:
        """The broker has these sessions now."""
        ...


@dataclass(frozen=True)
class Topics:
    """Every topic of one exhibit, from its prefix."""

    prefix: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    @property
    def health(self) -> str:
        return f"{self.prefix}/health"

    @property
    def sessions(self) -> str:
        return f"{self.prefix}/sessions"

    @property
    def faults(self) -> str:
        return f"{self.prefix}/faults"

    @property
    def cmd(self) -> str:
        return f"{self.prefix}/cmd"

    @property
    def cmd_result(self) -> str:
        return f"{self.prefix}/cmd/result"


class Phase(Enum):
    WAITING = "waiting"  # for the next connection attempt
    CONNECTING = "connecting"  # CONNECT sent, no CONNACK yet
    CONNECTED = "connected"
    STOPPED = "stopped"


@dataclass
class _Sent:
    kind: str
    session_id: int | None = None


class _TlsContext(ssl.SSLContext):
    """An SSL context that remembers the last socket it wrapped.

    paho 2.2 does not close the TLS socket when the handshake fails (a broker with a
    certificate our CA did not sign), so each refused attempt would leak one; the publisher
    closes it through this.
    """

    last: ssl.SSLSocket | None = None

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        sock = super().wrap_socket(*args, **kwargs)
        self.last = sock
        return sock


def tls_context(tls: TlsConfig) -> _TlsContext:
    """Verify the broker (certificate and host name) against ``tls.ca_file`` or the system's
    CAs; present the client certificate if there is one."""
    context = _TlsContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    if tls.ca_file is not None:
        context.load_verify_locations(cafile=tls.ca_file)
    else:
        context.load_default_certs()
    if tls.cert_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


class _FaultLogHandler(logging.Handler):
    """Errors the service logs (``exhibit.*`` at ERROR and above) become fault messages."""

    def __init__(self, publisher: MqttPublisher) -> None:
        super().__init__(logging.ERROR)
        self._publisher = publisher

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(log.name):
            return  # our own troubles go to the log only, never round in a circle
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in someone's log call
            message = str(record.msg)
        self._publisher.fault({"kind": "error", "logger": record.name, "message": message[:2000]})


class MqttPublisher:
    """Publishes an exhibit's health, sessions and faults, and queues remote commands.

    ``status`` is the live run's status provider (``LiveControls.status``), called on the
    publisher's thread, so it must return a snapshot. ``sessions`` is the session store, read and
    marked only from the publisher's thread. ``known_states`` (a callable, so a reload that
    changes the show is seen) refuses a ``goto`` to a state the show does not have.
    """

    def __init__(
        self,
        config: TelemetryConfig,
        exhibit: str,
        status: Callable[[], Mapping[str, Any]],
        *,
        sessions: SessionSource | None = None,
        known_states: Callable[[], Collection[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        session_poll_s: float = 2.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self.exhibit = exhibit
        self.topics = Topics(config.topic_for(exhibit))
        self._status = status
        self._sessions = sessions
        self._known_states = known_states
        self._clock = clock
        self._wall = wall_clock
        self._session_poll_s = session_poll_s
        self._log = logger if logger is not None else log
        self.outbox = Outbox(config.buffer_messages, config.buffer_bytes)
        self.commands: queue.Queue[RemoteCommand] = queue.Queue(maxsize=COMMAND_QUEUE)
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {
            "health": 0,
            "sessions": 0,
            "faults": 0,
            "connects": 0,
            "failed_attempts": 0,
            "commands_accepted": 0,
            "commands_refused": 0,
            "store_errors": 0,
            "status_errors": 0,
            "internal_errors": 0,
        }
        self.phase = Phase.WAITING
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: paho.Client | None = None
        self._handler: _FaultLogHandler | None = None
        self._tls: _TlsContext | None = None
        # Only the publisher's thread touches what follows.
        self._unacked: dict[int, _Sent] = {}
        self._acked_sessions: list[int] = []
        self._sessions_in_flight = 0
        self._next_session_poll_s = 0.0
        self._next_attempt_s = 0.0
        self._backoff_s = config.retry_min_s
        self._connecting_since_s = 0.0
        self._last_failure: str | None = None
        self._last_report: dict[str, float] = {}
        self._started_s = clock()
        self._next_health_s = 0.0
        self._sessions_progress_s = 0.0

    # -- lifetime ---------------------------------------------------------------------------

    def start(self) -> None:
        """Build the client and start the thread; never waits for the broker (a broker that is
        away is retried in the background). A TLS file that cannot be used (changed since
        ``exhibit check``) is logged and telemetry stays off: the show goes on without it."""
        try:
            self._client = self._make_client()
        except (ssl.SSLError, OSError, ValueError) as exc:
            self.phase = Phase.STOPPED
            self._log.error("MQTT telemetry is off: the TLS files cannot be used: %s", exc)
            return
        self._handler = _FaultLogHandler(self)
        logging.getLogger("exhibit").addHandler(self._handler)
        self._thread = threading.Thread(target=self._run, name="mqtt-telemetry", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Say "offline" (retained) if connected, disconnect, stop the thread. Idempotent."""
        if self._handler is not None:
            logging.getLogger("exhibit").removeHandler(self._handler)
            self._handler = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S + 3.0)
            self._thread = None

    def __enter__(self) -> MqttPublisher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for the rest of the service (any thread) -------------------------------------------

    def handle(self, event: Event) -> None:
        """As a sink: sensor faults and recoveries go out on ``.../faults``."""
        if event.kind != "sensor":
            return
        data: dict[str, Any] = {"kind": "sensor", "event": event.name, "t_s": event.t_s}
        data.update(event.data)
        self.fault(data)

    def flush(self) -> None:
        """Nothing to do at the end of a frame: the thread sends as soon as it can."""

    def fault(self, data: Mapping[str, Any]) -> None:
        """Queue one fault message (stamped with the exhibit and the wall-clock time)."""
        payload = {"exhibit": self.exhibit, "time": self._now_iso(), **data}
        self.outbox.add(Outgoing("fault", self.topics.faults, _json(payload), self.config.qos))

    def poll(self) -> list[RemoteCommand]:
        """Every command received since the last call, oldest first; never waits."""
        out: list[RemoteCommand] = []
        while True:
            try:
                out.append(self.commands.get_nowait())
            except queue.Empty:
                return out

    def stats(self) -> dict[str, Any]:
        """Counters: messages published by kind, drops, connection attempts, commands."""
        with self._lock:
            counts: dict[str, Any] = dict(self._counts)
        dropped = self.outbox.dropped_counts()
        counts["dropped_health"] = dropped["health"]
        counts["dropped_faults"] = dropped["fault"]
        counts["buffered"] = len(self.outbox)
        counts["phase"] = self.phase.value
        return counts

    # -- the client --------------------------------------------------------------------------

    def _make_client(self) -> paho.Client:
        cfg = self.config
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id_for(self.exhibit),
            clean_session=True,  # a command sent while we were away must not run on return
            protocol=paho.MQTTv311,
        )
        client.will_set(self.topics.status, OFFLINE, qos=1, retain=True)
        client.max_inflight_messages_set(WINDOW)
        client.connect_timeout = max(5.0, min(30.0, float(cfg.keepalive_s)))
        if cfg.tls is not None:
            self._tls = tls_context(cfg.tls)
            client.tls_set_context(self._tls)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n

    def _now_iso(self) -> str:
        stamp = datetime.fromtimestamp(self._wall(), tz=UTC).isoformat(timespec="milliseconds")
        return stamp.replace("+00:00", "Z")

    def _report(self, key: str, message: str, *args: object) -> None:
        """A warning at most once a minute per ``key``."""
        now = self._clock()
        last = self._last_report.get(key)
        if last is not None and now - last < REPORT_INTERVAL_S:
            self._log.debug(message, *args)
            return
        self._last_report[key] = now
        self._log.warning(message, *args)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        self._next_health_s = self._clock()
        try:
            while not self._stop.is_set():
                try:
                    self._turn()
                except Exception as exc:  # a bug here or in paho: say it, go on, never die
                    self._count("internal_errors")
                    self._report(
                        "internal",
                        "MQTT telemetry: unexpected %s; carrying on",
                        type(exc).__name__,  # not its text: it may quote a password
                    )
                    self._failed(f"unexpected {type(exc).__name__}")  # backs off, always
                    self._stop.wait(LOOP_S)
        finally:
            self._goodbye()

    def _turn(self) -> None:
        """One turn of the thread: health due, connection attempts, sending, the network."""
        now = self._clock()
        if now >= self._next_health_s:
            self._queue_health()
            self._next_health_s = max(self._next_health_s + self.config.health_interval_s, now)
        if self.phase is Phase.WAITING and now >= self._next_attempt_s:
            self._attempt()
        elif (
            self.phase is Phase.CONNECTING
            and now - self._connecting_since_s > self._connect_timeout_s()
        ):
            self._failed(f"no answer to CONNECT within {self._connect_timeout_s():g} s")
        if self.phase is Phase.CONNECTED:
            self._pump()
            self._send_sessions(now)
        if self.phase in (Phase.CONNECTING, Phase.CONNECTED):
            assert self._client is not None
            rc = self._client.loop(timeout=LOOP_S)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and self._still_trying():
                self._failed(f"connection to {self.config.host} ended ({rc.name})")
            self._mark_acked()
        else:
            self._stop.wait(LOOP_S)

    def _still_trying(self) -> bool:
        """Whether the connection is still meant to be up (the callbacks may have said no)."""
        return self.phase in (Phase.CONNECTING, Phase.CONNECTED)

    def _connect_timeout_s(self) -> float:
        return max(5.0, min(30.0, float(self.config.keepalive_s)))

    def _attempt(self) -> None:
        cfg, client = self.config, self._client
        assert client is not None
        try:
            if cfg.username is not None:
                client.username_pw_set(cfg.username, cfg.read_password())
        except OSError as exc:
            self._failed(f"cannot read the password file {cfg.password_file}: {exc}")
            return
        except ValueError:  # never the exception's text: it quotes the file's bytes
            self._failed(f"the password file {cfg.password_file} is not UTF-8 text")
            return
        self.phase = Phase.CONNECTING
        self._connecting_since_s = self._clock()
        try:
            client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        except (OSError, ValueError) as exc:  # refused, unreachable, DNS, TLS handshake
            self._close_leaked_tls(client)
            self._failed(f"cannot reach {cfg.host}:{cfg.port}: {exc}")

    def _close_leaked_tls(self, client: paho.Client) -> None:
        if self._tls is None or self._tls.last is None:
            return
        sock, self._tls.last = self._tls.last, None
        if sock is not client.socket():
            with contextlib.suppress(OSError):
                sock.close()

    def _failed(self, why: str) -> None:
        """One failed attempt: log it the first time in a row, then back off."""
        self.phase = Phase.WAITING
        self._count("failed_attempts")
        wait_s = self._backoff_s
        self._next_attempt_s = self._clock() + wait_s
        self._backoff_s = min(self._backoff_s * 2.0, self.config.retry_max_s)
        if why != self._last_failure:
            self._last_failure = why
            self._log.warning(
                "MQTT telemetry: %s; health and faults are kept (at most %d messages), sessions "
                "stay in the store; retrying in %.3g s, backing off up to %.3g s",
                why,
                self.config.buffer_messages,
                wait_s,
                self.config.retry_max_s,
            )
        else:
            self._log.debug("MQTT telemetry: %s (again); retrying in %.3g s", why, wait_s)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        cfg = self.config
        if reason.is_failure:
            hint = ""
            if reason.value in (4, 5, 134, 135):  # bad user name or password / not authorized
                hint = " (check username and password or password_file in [telemetry])"
            self._failed(f"broker {cfg.host}:{cfg.port} refused the connection: {reason}{hint}")
            return
        self.phase = Phase.CONNECTED
        self._count("connects")
        self._backoff_s = cfg.retry_min_s
        again = self._last_failure is not None
        self._last_failure = None
        self._log.info(
            "MQTT telemetry: connected to %s:%d%s as %s",
            cfg.host,
            cfg.port,
            " again" if again else "",
            self.topics.prefix,
        )
        self._publish(Outgoing("health", self.topics.status, ONLINE, 1, retain=True), "status")
        if cfg.commands:
            client.subscribe(self.topics.cmd, qos=1)
        self._next_session_poll_s = 0.0
        self._sessions_progress_s = self._clock()  # the client sends the unacknowledged again

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self._stop.is_set() or self.phase is Phase.WAITING:
            return  # a stop, or a refusal already counted by _on_connect
        if self.phase is Phase.CONNECTED:
            self._backoff_s = self.config.retry_min_s
            self._failed(f"lost the broker {self.config.host}:{self.config.port} ({reason})")
        else:
            self._failed(f"the broker {self.config.host}:{self.config.port} hung up ({reason})")

    def _publish(self, message: Outgoing, counter: str) -> bool:
        """Hand one message to the client; False if it cannot take it now."""
        assert self._client is not None
        info = self._client.publish(
            message.topic, message.payload, qos=message.qos, retain=message.retain
        )
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            return False
        if message.qos == 0:
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return False  # QoS 0 is not kept by the client: it waits in the outbox
            self._count(counter)
        else:  # QoS 1/2: kept by the client until acknowledged, even across a reconnect
            self._unacked[info.mid] = _Sent(counter)
        return True

    def _pump(self) -> None:
        while len(self._unacked) < WINDOW and self.phase is Phase.CONNECTED:
            message = self.outbox.pop()
            if message is None:
                return
            counter = "health" if message.kind == "health" else "faults"
            if not self._publish(message, counter):
                self.outbox.push_front(message)
                return

    def _send_sessions(self, now: float) -> None:
        if self._sessions_in_flight and now - self._sessions_progress_s > SESSION_STALL_S:
            # Never acknowledged (a client that lost them): forget them here; they are still
            # unsent in the store, so they are read and sent again.
            for mid in [m for m, sent in self._unacked.items() if sent.session_id is not None]:
                del self._unacked[mid]
            self._sessions_in_flight = 0
        if self._sessions is None or self._sessions_in_flight or now < self._next_session_poll_s:
            return
        self._next_session_poll_s = now + self._session_poll_s
        room = WINDOW - len(self._unacked)
        if room <= 0:
            return
        try:
            rows = self._sessions.unsent(min(SESSION_BATCH, room))
        except Exception as exc:  # the store is another part's: report, retry later
            self._count("store_errors")
            self._report("store", "MQTT telemetry: cannot read unsent sessions: %s", exc)
            return
        qos = max(1, self.config.qos)  # sessions are acknowledged, or they are sent again
        assert self._client is not None
        for session_id, summary in rows:
            payload = {"exhibit": self.exhibit, "id": session_id, "session": summary}
            info = self._client.publish(self.topics.sessions, _json(payload), qos=qos)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                break  # the rest stay unsent in the store
            self._unacked[info.mid] = _Sent("sessions", session_id)
            self._sessions_in_flight += 1
            self._sessions_progress_s = now
        if len(rows) == min(SESSION_BATCH, room):
            self._next_session_poll_s = now  # more may be waiting: ask again once these are in

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        sent = self._unacked.pop(mid, None)
        if sent is None:
            return
        if sent.kind != "status":
            self._count(sent.kind)
        if sent.session_id is not None:
            self._sessions_in_flight -= 1
            self._sessions_progress_s = self._clock()
            self._acked_sessions.append(sent.session_id)

    def _mark_acked(self) -> None:
        if not self._acked_sessions or self._sessions is None:
            return
        ids, self._acked_sessions = self._acked_sessions, []
        try:
            self._sessions.mark_sent(ids)
        except Exception as exc:
            self._count("store_errors")
            self._report("store", "MQTT telemetry: cannot mark sessions %s sent: %s", ids, exc)

    def _queue_health(self) -> None:
        payload: dict[str, Any] = {"exhibit": self.exhibit, "time": self._now_iso()}
        try:
            payload.update(self._status())
        except Exception as exc:  # the live run's code: never die on it
            self._count("status_errors")
            payload["error"] = f"status unavailable: {type(exc).__name__}: {exc}"
        health = payload.get("health")
        if not (isinstance(health, Mapping) and "telemetry" in health):
            payload["telemetry"] = self.stats()  # the live run puts them in its health
        self.outbox.add(Outgoing("health", self.topics.health, _json(payload), self.config.qos))

    # -- commands ----------------------------------------------------------------------------

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic != self.topics.cmd:
            return
        if message.retain:
            # A retained command would run again at every reconnect and every restart.
            self._refuse(Refused("retained", "a retained message (publish commands without -r)"))
            return
        parsed = parse_command(message.payload)
        if isinstance(parsed, Refused):
            self._refuse(parsed)
            return
        if parsed.kind == "goto" and self._known_states is not None:
            states = self._known_states()
            if parsed.arg not in states:
                hint = suggest(parsed.arg or "", states)
                more = f"; did you mean {hint!r}?" if hint else ""
                self._refuse(Refused("unknown_state", f"goto {parsed.arg!r}{more}"))
                return
        try:
            self.commands.put_nowait(parsed)
        except queue.Full:
            self._refuse(Refused("queue_full", f"{parsed.kind} (the live run is not taking them)"))
            return
        self._count("commands_accepted")
        shown = parsed.kind if not parsed.arg else f"{parsed.kind} {parsed.arg}"
        self._log.info("MQTT telemetry: command %s queued", shown)
        self._result({"command": parsed.kind, "arg": parsed.arg, "accepted": True})

    def _refuse(self, refused: Refused) -> None:
        self._count("commands_refused")
        self._report(
            f"cmd:{refused.reason}",
            "MQTT telemetry: ignored a command on %s (%s): %s",
            self.topics.cmd,
            refused.reason.replace("_", " "),
            refused.detail,
        )
        self._result({"accepted": False, "reason": refused.reason, "detail": refused.detail})

    def _result(self, data: dict[str, Any]) -> None:
        payload = {"exhibit": self.exhibit, "time": self._now_iso(), **data}
        message = Outgoing("fault", self.topics.cmd_result, _json(payload), self.config.qos)
        self._publish(message, "results")

    # -- stop --------------------------------------------------------------------------------

    def _goodbye(self) -> None:
        """Retained "offline", sent and acknowledged (a clean DISCONNECT fires no last will)."""
        client = self._client
        if client is None:
            return
        if self.phase is Phase.CONNECTED:
            with contextlib.suppress(Exception):
                info = client.publish(self.topics.status, OFFLINE, qos=1, retain=True)
                deadline = self._clock() + STOP_WAIT_S
                while not info.is_published() and self._clock() < deadline:
                    if client.loop(timeout=LOOP_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        break
                client.disconnect()
                client.loop(timeout=LOOP_S)
        with contextlib.suppress(Exception):
            client.disconnect()
        self.phase = Phase.STOPPED
