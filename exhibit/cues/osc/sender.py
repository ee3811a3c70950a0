"""Send cues over UDP to the configured OSC targets, and keep the show going when one is down.

A projector that is switched off, a sound server still booting, a host name the DNS has not
learnt yet: none of these may stop the show or flood the log. Each failure is counted per
target, and logged at most once a minute per target; recovery is logged once.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

from exhibit.config.schema import TargetConfig
from exhibit.cues.osc.encode import encode_message
from exhibit.errors import CueError
from exhibit.events import Cue

REPORT_INTERVAL_S = 60.0
"""At most one failure message per target in this many seconds."""


@dataclass(frozen=True, slots=True)
class TargetStats:
    """What happened to one target so far, for the status page and ``exhibit`` logs.

    ``sent`` and ``failed`` count ``send`` calls; ``last_error`` is the latest failure's reason
    (``None`` if it never failed). A UDP ``sent`` means the datagram left this machine, not that
    the target got it.
    """

    sent: int = 0
    failed: int = 0
    last_error: str | None = None


class _Target:
    """Mutable per-target state, only touched under ``OscSender._lock``."""

    def __init__(self, config: TargetConfig) -> None:
        self.config = config
        self.sock: socket.socket | None = None
        self.next_resolve_t = float("-inf")
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self.down = False  # the latest send failed, and no recovery has been confirmed since
        self.announced = False  # the current down period was logged, so its end will be too
        self.last_report_t: float | None = None
        self.unreported = 0  # failures since the last failure message
        self.ok_since: float | None = None  # first success after the latest failure


def _describe(exc: OSError) -> str:
    """A one-line reason for a socket error, naming the errno (``ECONNREFUSED: ...``)."""
    code = errno.errorcode.get(exc.errno, "") if isinstance(exc.errno, int) else ""
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{code}: {text}" if code else text


class OscSender:
    """Sends each cue as one UDP datagram to its named target; never lets a dead target stop
    the show.

    Every target gets its own connected UDP socket (so an ICMP "port unreachable" from a
    previous datagram is reported as ``ECONNREFUSED`` on a later send). Host names are resolved
    once when the sender starts; a target that could not be resolved or reached is tried again
    on a later send, at most every ``retry_s`` seconds (so a dead DNS never stalls the show on
    every cue).

    ``send`` returns ``False`` when the target is down. The first failure is logged at once
    with the count so far, then nothing for ``REPORT_INTERVAL_S`` (60 s on the injected
    ``clock``), then "N failures in the last minute". The target is declared back, and this is
    logged once, when a send succeeds at least ``confirm_s`` after a first success with no
    failure in between (one success alone proves nothing: a closed UDP port alternates success
    and ``ECONNREFUSED``).

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
        targets: Mapping[str, TargetConfig],
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        *,
        retry_s: float = 10.0,
        confirm_s: float = 0.5,
    ) -> None:
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._retry_s = retry_s
        self._confirm_s = confirm_s
        self._lock = threading.Lock()
        self._closed = False
        self._targets: dict[str, _Target] = {}
        for name, config in targets.items():
            if config.protocol != "udp":
                raise CueError(f"target {name!r}: protocol {config.protocol!r} is not supported")
            self._targets[name] = _Target(config)
        now = self._clock()
        for state in self._targets.values():
            self._try_open(state, now)

    # -- sockets ---------------------------------------------------------------------------

    @staticmethod
    def _open(config: TargetConfig) -> socket.socket:
        """A non-blocking UDP socket connected to the target; raises ``OSError``."""
        try:
            infos = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_DGRAM)
        except UnicodeError as exc:  # an unencodable name (IDNA); the validator should stop it
            raise OSError(f"cannot resolve host {config.host!r}: {exc}") from exc
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {config.host!r}: {exc.strerror}") from exc
        failure: OSError = OSError(f"no address found for host {config.host!r}")
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
            state.sock = self._open(state.config)
        except OSError as exc:
            state.next_resolve_t = now + self._retry_s
            reason = _describe(exc) if exc.errno is not None else str(exc)
            state.last_error = reason
            self._log.debug("OSC target %r (%s): %s", state.config.name, state.config.url, reason)
            return reason
        return None

    # -- sending ---------------------------------------------------------------------------

    def send(self, cue: Cue) -> bool:
        """Send one cue; ``True`` if the datagram left, ``False`` if the target is down.

        Raises ``CueError`` for an unknown target, a bad address or argument, or a closed sender.
        """
        state = self._targets.get(cue.target)
        if state is None:
            known = ", ".join(sorted(self._targets)) or "none"
            raise CueError(
                f"cue {cue.name or cue.address!r} names unknown OSC target {cue.target!r}; "
                f"known targets: {known}"
            )
        data = encode_message(cue.address, cue.args)
        with self._lock:
            if self._closed:
                raise CueError("cannot send a cue: the OSC sender is closed")
            now = self._clock()
            if state.sock is None:
                if now < state.next_resolve_t:
                    self._failed(state, now, state.last_error or "not connected")
                    return False
                reason = self._try_open(state, now)
                if reason is not None:
                    self._failed(state, now, reason)
                    return False
            assert state.sock is not None
            try:
                state.sock.send(data)
            except OSError as exc:
                self._failed(state, now, _describe(exc))
                return False
            self._succeeded(state, now)
            return True

    def send_many(self, cues: Iterable[Cue]) -> int:
        """Send every cue in order (one failing never stops the others); return how many left."""
        return sum(1 for cue in cues if self.send(cue))

    def _failed(self, state: _Target, now: float, reason: str) -> None:
        state.failed += 1
        state.last_error = reason
        state.ok_since = None
        state.down = True
        state.unreported += 1
        name, url = state.config.name, state.config.url
        if state.last_report_t is not None and now - state.last_report_t < REPORT_INTERVAL_S:
            return
        if not state.announced:
            self._log.warning(
                "OSC target %r (%s) is not reachable: %s (%d failure(s) so far)",
                name,
                url,
                reason,
                state.failed,
            )
            state.announced = True
        else:
            elapsed_s = now - (state.last_report_t if state.last_report_t is not None else now)
            span = "the last minute" if elapsed_s < 2 * REPORT_INTERVAL_S else f"{elapsed_s:.0f} s"
            self._log.warning(
                "OSC target %r (%s) still not reachable: %d failures in %s; last error: %s",
                name,
                url,
                state.unreported,
                span,
                reason,
            )
        state.last_report_t = now
        state.unreported = 0

    def _succeeded(self, state: _Target, now: float) -> None:
        state.sent += 1
        if not state.down:
            return
        if state.ok_since is None:
            state.ok_since = now
            return
        if now - state.ok_since < self._confirm_s:
            return
        state.down = False
        state.ok_since = None
        if state.announced:
            state.announced = False
            self._log.info(
                "OSC target %r (%s) is back (%d failure(s) in all)",
                state.config.name,
                state.config.url,
                state.failed,
            )

    # -- state and lifetime ----------------------------------------------------------------

    def stats(self) -> dict[str, TargetStats]:
        """A snapshot of every target's counters, by target name."""
        with self._lock:
            return {
                name: TargetStats(state.sent, state.failed, state.last_error)
                for name, state in self._targets.items()
            }

    def close(self) -> None:
        """Close every socket; later sends raise ``CueError``. Closing twice is harmless."""
        with self._lock:
            self._closed = True
            for state in self._targets.values():
                if state.sock is not None:
                    state.sock.close()
                    state.sock = None

    def __enter__(self) -> OscSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
