"""Send cues to the configured OSC targets (UDP or TCP), and keep the show going when one is down.

A projector that is switched off, a sound server still booting, a host name the DNS has not
learnt yet: none of these may stop the show or flood the log. Each failure is counted per
target, and logged at most once a minute per target; recovery is logged once.

Plain UDP targets are sent to from the caller's thread with a non-blocking socket. TCP targets,
and UDP targets whose replies are read, each get a link with its own thread and a bounded queue
(``exhibit.cues.osc.links``): ``send`` only queues the packet, so it never waits on the network.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from exhibit.closing import Closing
from exhibit.cues.osc.bundle import encode_cue_bundle
from exhibit.cues.osc.decode import decode_packet
from exhibit.cues.osc.encode import encode_message
from exhibit.cues.osc.links import (
    MAX_UDP_PAYLOAD,
    Outgoing,
    TcpLink,
    UdpLink,
    describe_error,
)
from exhibit.cues.osc.replies import QLabReply, ReplyStats, ReplyTracker
from exhibit.cues.osc.targets import TargetLike, TargetSpec, as_spec
from exhibit.errors import CueError
from exhibit.events import Cue

REPORT_INTERVAL_S = 60.0
"""At most one failure message per target in this many seconds."""


@dataclass(frozen=True, slots=True)
class TargetStats:
    """What happened to one target so far, for the status page and ``exhibit`` logs.

    ``sent`` and ``failed`` count ``send`` (and ``send_bundle``) calls; ``last_error`` is the
    latest failure's reason (``None`` if it never failed). A UDP ``sent`` means the datagram
    left this machine, not that the target got it; a TCP ``sent`` means the packet was written
    to the connection (counted on the link's thread, a moment after ``send`` returned). A TCP
    packet queued and then dropped because the connection failed is counted in ``failed``.
    ``connected`` is the TCP connection's state (``None`` for UDP). ``replies`` counts the
    receiver's replies when they are read (``replies = true``), else ``None``.
    """

    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    connected: bool | None = None
    replies: ReplyStats | None = None


class _Health:
    """The counters and the once-a-minute report of one target, under their own lock (taken
    by the caller's thread and by the target's link thread; nothing is called while held but
    the logger)."""

    def __init__(
        self,
        spec: TargetSpec,
        clock: Callable[[], float],
        log: logging.Logger,
        confirm_s: float,
    ) -> None:
        self._name = spec.name
        self._url = spec.url
        self._clock = clock
        self._log = log
        self._confirm_s = confirm_s
        self._lock = threading.Lock()
        self.sent = 0
        self.failed_count = 0
        self.last_error: str | None = None
        self._down = False  # the latest send failed, and no recovery has been confirmed since
        self._announced = False  # the current down period was logged, so its end will be too
        self._last_report_t: float | None = None
        self._unreported = 0  # failures since the last failure message
        self._ok_since: float | None = None  # first success after the latest failure

    def failed(self, reason: str) -> None:
        with self._lock:
            now = self._clock()
            self.failed_count += 1
            self.last_error = reason
            self._ok_since = None
            self._down = True
            self._unreported += 1
            name, url = self._name, self._url
            if self._last_report_t is not None and now - self._last_report_t < REPORT_INTERVAL_S:
                return
            if not self._announced:
                self._log.warning(
                    "OSC target %r (%s) is not reachable: %s (%d failure(s) so far)",
                    name,
                    url,
                    reason,
                    self.failed_count,
                )
                self._announced = True
            else:
                last = self._last_report_t if self._last_report_t is not None else now
                elapsed_s = now - last
                span = (
                    "the last minute" if elapsed_s < 2 * REPORT_INTERVAL_S else f"{elapsed_s:.0f} s"
                )
                self._log.warning(
                    "OSC target %r (%s) still not reachable: %d failures in %s; last error: %s",
                    name,
                    url,
                    self._unreported,
                    span,
                    reason,
                )
            self._last_report_t = now
            self._unreported = 0

    def succeeded(self, confirm: bool) -> None:
        """One send went out. ``confirm``: recovery needs a second success ``confirm_s`` later
        (UDP, where a closed port alternates success and ``ECONNREFUSED``)."""
        with self._lock:
            self.sent += 1
            if not self._down or not confirm:
                return
            now = self._clock()
            if self._ok_since is None:
                self._ok_since = now
                return
            if now - self._ok_since < self._confirm_s:
                return
            self._back()

    def reachable(self) -> None:
        """The receiver proved it is there (a TCP connection was made)."""
        with self._lock:
            self._back()

    def _back(self) -> None:
        self._down = False
        self._ok_since = None
        if self._announced:
            self._announced = False
            self._log.info(
                "OSC target %r (%s) is back (%d failure(s) in all)",
                self._name,
                self._url,
                self.failed_count,
            )

    def note(self, reason: str) -> None:
        """Remember why the target is unreachable, without counting a failed send."""
        with self._lock:
            self.last_error = reason

    def snapshot(self) -> tuple[int, int, str | None]:
        with self._lock:
            return self.sent, self.failed_count, self.last_error


class _Target:
    """One target: its spec, health, replies, and either a plain UDP socket or a link."""

    def __init__(self, spec: TargetSpec, health: _Health, clock: Callable[[], float]) -> None:
        self.spec = spec
        self.health = health
        self._clock = clock
        self.tracker: ReplyTracker | None = None
        self.link: TcpLink | UdpLink | None = None
        self.sock: socket.socket | None = None  # plain UDP only, under OscSender._lock
        self.next_resolve_t = float("-inf")

    # -- LinkEvents (called on the link's thread) -------------------------------------------

    def written(self, item: Outgoing) -> None:
        if item.counted:
            self.health.succeeded(confirm=False)
        if self.tracker is not None:
            for address in item.addresses:
                self.tracker.expect(address)

    def dropped(self, item: Outgoing, reason: str) -> None:
        if item.counted:
            self.health.failed(reason)

    def up(self) -> None:
        self.health.reachable()

    def down(self, reason: str) -> None:
        self.health.note(reason)

    def received(self, packet: bytes) -> None:
        try:
            messages = decode_packet(packet)
        except ValueError:
            if self.tracker is not None:
                self.tracker.unreadable()
            return
        if self.tracker is not None:
            for message in messages:
                self.tracker.received(message.address, message.args)

    def tick(self) -> float | None:
        if self.tracker is None:
            return None
        self.tracker.expire()
        deadline = self.tracker.next_deadline
        if deadline is None:
            return None
        # the tracker runs on the sender's clock; the link waits on time.monotonic
        return time.monotonic() + max(0.0, deadline - self._clock())


class OscSender(Closing):
    """Sends each cue as one OSC message to its named target; never lets a dead target stop
    the show.

    ``targets`` maps names to ``TargetSpec`` (``udp://`` or ``tcp://``, with a profile) or to
    the schema's ``TargetConfig`` (plain UDP).

    Plain UDP: every target gets its own connected UDP socket (so an ICMP "port unreachable"
    from a previous datagram is reported as ``ECONNREFUSED`` on a later send). Host names are
    resolved once when the sender starts; a target that could not be resolved or reached is
    tried again on a later send, at most every ``retry_s`` seconds (so a dead DNS never stalls
    the show on every cue). The target is declared back, and this is logged once, when a send
    succeeds at least ``confirm_s`` after a first success with no failure in between (one
    success alone proves nothing: a closed UDP port alternates success and ``ECONNREFUSED``).

    TCP: a link thread connects on the first send, keeps the connection, and reconnects with
    backoff (``reconnect_min_s`` .. ``reconnect_max_s``) when the receiver goes away; ``send``
    queues (at most ``queue_size`` packets) and returns at once: ``False`` while the target is
    down or the queue is full. Framing is the target's (SLIP or length prefix). The target is
    declared back when a connection is made.

    Replies (``replies = true``, QLab): read on the link's thread, matched to what was sent,
    and counted; a reply that does not come within the target's ``reply_timeout_s`` is a
    timeout. ``on_reply(target, reply)`` is called on that thread for every reply. QLab targets
    are sent ``/connect passcode`` (with a passcode) and ``/alwaysReply 1`` (with replies) on
    every TCP connection, and before every cue over UDP.

    ``send`` returns ``False`` when the target is down. The first failure is logged at once
    with the count so far, then nothing for ``REPORT_INTERVAL_S`` (60 s on the injected
    ``clock``), then "N failures in the last minute".

    A cue naming an unknown target, or with an address or arguments that cannot be encoded,
    raises ``CueError``: that is a config or programming error, not a target being down.

    Example:
        >>> from exhibit.config.schema import TargetConfig
        >>> from exhibit.events import Cue
        >>> target = TargetConfig("projector", "udp://127.0.0.1:9000", "127.0.0.1", 9000)
        >>> with OscSender({"projector": target}) as sender:
        ...     sender.send(Cue("projector", "/scene/start", (3, "welcome")))
        True
    """

    def __init__(
        self,
        targets: Mapping[str, TargetLike],
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        *,
        retry_s: float = 10.0,
        confirm_s: float = 0.5,
        connect_timeout_s: float = 1.0,
        write_timeout_s: float = 1.0,
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float | None = None,
        queue_size: int = 64,
        on_reply: Callable[[str, QLabReply], None] | None = None,
    ) -> None:
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._retry_s = retry_s
        self._lock = threading.Lock()
        self._closed = False
        self._targets: dict[str, _Target] = {}
        for name, config in targets.items():
            try:
                spec = as_spec(config)
            except ValueError as exc:
                raise CueError(str(exc)) from exc
            health = _Health(spec, clock, self._log, confirm_s)
            self._targets[name] = _Target(spec, health, clock)
        try:
            for state in self._targets.values():
                spec = state.spec
                if spec.replies:
                    state.tracker = ReplyTracker(
                        spec.name, spec.reply_timeout_s, clock, self._log, on_reply
                    )
                hello = self._hello_for(spec)
                if spec.protocol == "tcp":
                    state.link = TcpLink(
                        spec.name,
                        spec.host,
                        spec.port,
                        spec.framing,
                        state,
                        queue_size=queue_size,
                        connect_timeout_s=connect_timeout_s,
                        write_timeout_s=write_timeout_s,
                        reconnect_min_s=reconnect_min_s,
                        reconnect_max_s=retry_s if reconnect_max_s is None else reconnect_max_s,
                        hello=hello,
                    )
                elif spec.replies:
                    state.link = UdpLink(
                        spec.name,
                        spec.host,
                        spec.port,
                        state,
                        reply_port=spec.reply_port or 0,
                        queue_size=queue_size,
                        retry_s=retry_s,
                        hello=hello,
                        on_notice=self._notice_for(spec),
                    )
            now = self._clock()
            for state in self._targets.values():
                if state.link is None:
                    self._try_open(state, now)
        except BaseException:
            self.close()
            raise

    def _notice_for(self, spec: TargetSpec) -> Callable[[str], None]:
        def notice(text: str) -> None:
            self._log.warning("OSC target %r (%s): %s", spec.name, spec.url, text)

        return notice

    @staticmethod
    def _hello_for(spec: TargetSpec) -> Callable[[], list[Outgoing]] | None:
        """QLab's handshake: ``/connect [passcode]`` and ``/alwaysReply 1`` as needed."""
        if spec.profile != "qlab" or not (spec.passcode or spec.replies):
            return None
        packets: list[Outgoing] = []
        if spec.passcode:
            packets.append(Outgoing(encode_message("/connect", [spec.passcode]), (), False))
        if spec.replies:
            packets.append(Outgoing(encode_message("/alwaysReply", [1]), (), False))
        return lambda: list(packets)

    # -- plain UDP sockets ------------------------------------------------------------------

    @staticmethod
    def _open(spec: TargetSpec) -> socket.socket:
        """A non-blocking UDP socket connected to the target; raises ``OSError``."""
        try:
            infos = socket.getaddrinfo(spec.host, spec.port, type=socket.SOCK_DGRAM)
        except UnicodeError as exc:  # an unencodable name (IDNA); the validator should stop it
            raise OSError(f"cannot resolve host {spec.host!r}: {exc}") from exc
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {spec.host!r}: {exc.strerror}") from exc
        failure: OSError = OSError(f"no address found for host {spec.host!r}")
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)  # a full send buffer must fail, not stall the show
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            return sock
        raise failure

    def _try_open(self, state: _Target, now: float) -> str | None:
        """Open the target's socket if it has none; return the reason it failed, if it did."""
        if state.sock is not None:
            return None
        try:
            state.sock = self._open(state.spec)
        except OSError as exc:
            state.next_resolve_t = now + self._retry_s
            reason = describe_error(exc) if exc.errno is not None else str(exc)
            state.health.note(reason)
            self._log.debug("OSC target %r (%s): %s", state.spec.name, state.spec.url, reason)
            return reason
        return None

    def _send_udp(self, state: _Target, data: bytes) -> bool:
        with self._lock:
            if self._closed:
                raise CueError("cannot send a cue: the OSC sender is closed")
            now = self._clock()
            if state.sock is None:
                if now < state.next_resolve_t:
                    state.health.failed(state.health.snapshot()[2] or "not connected")
                    return False
                reason = self._try_open(state, now)
                if reason is not None:
                    state.health.failed(reason)
                    return False
            assert state.sock is not None
            try:
                hello = self._hello_for(state.spec)
                for item in hello() if hello is not None else []:
                    state.sock.send(item.data)
                state.sock.send(data)
            except OSError as exc:
                state.health.failed(describe_error(exc))
                return False
            state.health.succeeded(confirm=True)
            return True

    # -- sending ---------------------------------------------------------------------------

    def _target(self, name: str, what: str) -> _Target:
        state = self._targets.get(name)
        if state is None:
            known = ", ".join(sorted(self._targets)) or "none"
            raise CueError(f"{what} names unknown OSC target {name!r}; known targets: {known}")
        return state

    def _send_packet(self, state: _Target, item: Outgoing) -> bool:
        if state.link is None:
            return self._send_udp(state, item.data)
        with self._lock:
            if self._closed:
                raise CueError("cannot send a cue: the OSC sender is closed")
        reason = state.link.submit(item)
        if reason is not None:
            state.health.failed(reason)
            return False
        return True

    def send(self, cue: Cue) -> bool:
        """Send one cue; ``True`` if it left (UDP) or was queued (TCP), ``False`` if the target
        is down.

        Raises ``CueError`` for an unknown target, a bad address or argument, or a closed sender.
        """
        state = self._target(cue.target, f"cue {cue.name or cue.address!r}")
        data = encode_message(cue.address, cue.args)
        return self._send_packet(state, Outgoing(data, (cue.address,)))

    def send_bundle(self, target: str, cues: Sequence[Cue]) -> bool:
        """Send ``cues`` to ``target`` as one OSC bundle (time tag "immediately"), so that the
        receiver handles them together; counted as one send.

        Raises ``CueError`` for no cues, a cue naming another target, a bundle too large for
        one UDP datagram, or what ``send`` raises for.
        """
        state = self._target(target, "a bundle")
        if not cues:
            raise CueError(f"a bundle for OSC target {target!r} needs at least one cue")
        for cue in cues:
            if cue.target != target:
                raise CueError(
                    f"cue {cue.name or cue.address!r} names target {cue.target!r}, "
                    f"not {target!r}: a bundle goes to one target"
                )
        data = encode_cue_bundle(cues)
        if state.spec.protocol == "udp" and len(data) > MAX_UDP_PAYLOAD:
            raise CueError(
                f"a bundle of {len(cues)} cues is {len(data)} bytes; one UDP datagram holds "
                f"at most {MAX_UDP_PAYLOAD}"
            )
        return self._send_packet(state, Outgoing(data, tuple(cue.address for cue in cues)))

    def send_many(self, cues: Iterable[Cue]) -> int:
        """Send every cue in order (one failing never stops the others); return how many left."""
        return sum(1 for cue in cues if self.send(cue))

    # -- state and lifetime ----------------------------------------------------------------

    def stats(self) -> dict[str, TargetStats]:
        """A snapshot of every target's counters, by target name."""
        result: dict[str, TargetStats] = {}
        for name, state in self._targets.items():
            sent, failed, last_error = state.health.snapshot()
            result[name] = TargetStats(
                sent=sent,
                failed=failed,
                last_error=last_error,
                connected=state.link.connected if isinstance(state.link, TcpLink) else None,
                replies=state.tracker.stats() if state.tracker is not None else None,
            )
        return result

    def replies(self, target: str) -> list[QLabReply]:
        """The latest replies read from ``target`` (at most 32, oldest first)."""
        state = self._target(target, "a reply query")
        return list(state.tracker.recent) if state.tracker is not None else []

    def reply_port(self, target: str) -> int | None:
        """The local UDP port ``target``'s replies are read on (``None`` if not UDP replies)."""
        state = self._target(target, "a reply query")
        return state.link.local_port if isinstance(state.link, UdpLink) else None

    def close(self) -> None:
        """Close every socket and stop every link; later sends raise ``CueError``. Closing
        twice is harmless."""
        with self._lock:
            self._closed = True
            for state in self._targets.values():
                if state.sock is not None:
                    state.sock.close()
                    state.sock = None
        for state in self._targets.values():
            if state.link is not None:
                state.link.close()
