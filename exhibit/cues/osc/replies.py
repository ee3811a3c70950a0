"""Reading a receiver's replies: QLab's ``/reply/...`` JSON, and which cues got no answer.

QLab answers a message (every message once it was sent ``/alwaysReply 1``) with one OSC message
whose address is ``/reply`` followed by the original address and whose one argument is a JSON
string: ``{"workspace_id": ..., "address": ..., "status": "ok" | "error" | "denied", "data":
...}``. Over UDP the reply goes to port 53001 by default (QLab 5); over TCP it comes back on the
connection.

``ReplyTracker`` is told what was sent (``expect``) and what came back (``received``); what got
no reply within ``timeout_s`` is counted as a timeout. Timeouts and error replies are logged at
most once a minute per target. It is thread-safe: the I/O thread feeds it, ``stats`` reads it.

Example:
    >>> reply = parse_qlab_reply(
    ...     "/reply/cue/1/start", ['{"address":"/cue/1/start","status":"ok","workspace_id":"W"}']
    ... )
    >>> (reply.address, reply.status, reply.ok, reply.workspace_id)
    ('/cue/1/start', 'ok', True, 'W')
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

REPLY_PREFIX = "/reply"
BAD_PASSCODE = "badpass"
"""The data of QLab's reply to ``/connect`` with a wrong passcode."""
REPORT_INTERVAL_S = 60.0


@dataclass(frozen=True)
class QLabReply:
    """One QLab reply: the address it answers, its status, the workspace, and any data."""

    address: str
    status: str
    data: Any = None
    workspace_id: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when QLab reported ``"status": "ok"``."""
        return self.status == "ok"


def is_reply(address: str) -> bool:
    """Whether ``address`` is a QLab reply address (``/reply`` or ``/reply/...``)."""
    return address == REPLY_PREFIX or address.startswith(REPLY_PREFIX + "/")


def parse_qlab_reply(address: str, args: Sequence[object]) -> QLabReply | None:
    """The reply carried by one received message, or ``None`` if it is not a reply.

    Raises ``ValueError`` for a reply whose argument is not a JSON object.
    """
    if not is_reply(address):
        return None
    original = address[len(REPLY_PREFIX) :] or "/"
    if not args or not isinstance(args[0], str):
        raise ValueError(f"QLab reply {address} has no JSON string argument")
    try:
        body = json.loads(args[0])
    except json.JSONDecodeError as exc:
        raise ValueError(f"QLab reply {address} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError(f"QLab reply {address} is JSON but not an object")
    answered = body.get("address")
    status = body.get("status")
    workspace = body.get("workspace_id")
    return QLabReply(
        address=answered if isinstance(answered, str) and answered else original,
        status=status if isinstance(status, str) else "",
        data=body.get("data"),
        workspace_id=workspace if isinstance(workspace, str) else None,
    )


@dataclass(frozen=True)
class ReplyStats:
    """Replies of one target so far: ``ok`` and ``errors`` (any other status, or data
    ``"badpass"``: a wrong passcode), ``timeouts``
    (expected, never came in time), ``unexpected`` (nothing was waiting for them),
    ``unreadable`` (not QLab's reply form), and ``pending`` (still awaited)."""

    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    unexpected: int = 0
    unreadable: int = 0
    pending: int = 0


class _Throttle:
    """At most one log line per ``interval_s``; counts what it swallowed in between."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._last_t: float | None = None
        self.swallowed = 0

    def due(self, now: float) -> bool:
        if self._last_t is not None and now - self._last_t < self._interval_s:
            self.swallowed += 1
            return False
        self._last_t = now
        return True


class ReplyTracker:
    """Matches replies to the messages that were sent, oldest first, per address.

    Replies to the ``handshake`` addresses (QLab's ``/connect`` and ``/alwaysReply``, which the
    sender sends on its own) are read and counted as ``ok`` or ``errors`` but are never awaited,
    so they are neither timeouts nor ``unexpected``.

    ``clock`` is the monotonic clock in seconds; ``on_reply`` is called (outside the lock) with
    every reply read, matched or not; at most ``max_pending`` messages are awaited at once (the
    oldest is counted as a timeout when more are sent).
    """

    def __init__(
        self,
        target: str,
        timeout_s: float,
        clock: Callable[[], float],
        logger: logging.Logger,
        on_reply: Callable[[str, QLabReply], None] | None = None,
        max_pending: int = 256,
        handshake: Collection[str] = ("/connect", "/alwaysReply"),
    ) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._clock = clock
        self._log = logger
        self._on_reply = on_reply
        self._max_pending = max_pending
        self._handshake = frozenset(handshake)
        self._lock = threading.Lock()
        self._pending: deque[tuple[str, float]] = deque()
        self._counts = {"ok": 0, "errors": 0, "timeouts": 0, "unexpected": 0, "unreadable": 0}
        self._timeout_log = _Throttle(REPORT_INTERVAL_S)
        self._error_log = _Throttle(REPORT_INTERVAL_S)
        self.recent: deque[QLabReply] = deque(maxlen=32)

    def expect(self, address: str) -> None:
        """A message to ``address`` was sent just now; its reply is due within ``timeout_s``."""
        now = self._clock()
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self._counts["timeouts"] += 1
            self._pending.append((address, now + self._timeout_s))

    def received(self, address: str, args: Sequence[object]) -> QLabReply | None:
        """Read one incoming message; returns the reply it carried, if any."""
        try:
            reply = parse_qlab_reply(address, args)
        except ValueError as exc:
            with self._lock:
                self._counts["unreadable"] += 1
                log = self._error_log.due(self._clock())
            if log:
                self._log.warning("OSC target %r sent an unreadable reply: %s", self._target, exc)
            return None
        if reply is None:
            return None
        now = self._clock()
        with self._lock:
            for index, (awaited, _) in enumerate(self._pending):
                if awaited == reply.address:
                    del self._pending[index]
                    break
            else:
                if reply.address not in self._handshake:
                    self._counts["unexpected"] += 1
            good = reply.ok and reply.data != BAD_PASSCODE
            self._counts["ok" if good else "errors"] += 1
            self.recent.append(reply)
            log_error = not good and self._error_log.due(now)
        if log_error:
            self._log.warning(
                "OSC target %r replied %r to %s (data: %r)%s",
                self._target,
                reply.status or "no status",
                reply.address,
                reply.data,
                ": the passcode is wrong" if reply.data == BAD_PASSCODE else "",
            )
        if self._on_reply is not None:
            self._on_reply(self._target, reply)
        return reply

    def unreadable(self) -> None:
        """Count a packet from the receiver that is not OSC at all."""
        with self._lock:
            self._counts["unreadable"] += 1

    def expire(self) -> int:
        """Count every awaited reply whose time is up; returns how many expired now."""
        now = self._clock()
        expired: list[str] = []
        with self._lock:
            while self._pending and self._pending[0][1] <= now:
                expired.append(self._pending.popleft()[0])
            if not expired:
                return 0
            self._counts["timeouts"] += len(expired)
            total = self._counts["timeouts"]
            due = self._timeout_log.due(now)
            swallowed = self._timeout_log.swallowed
            if due:
                self._timeout_log.swallowed = 0
        if due:
            self._log.warning(
                "OSC target %r did not reply to %s within %.1f s (%d timeout(s) in all%s)",
                self._target,
                expired[-1],
                self._timeout_s,
                total,
                f", {swallowed} not logged since the last report" if swallowed else "",
            )
        return len(expired)

    @property
    def next_deadline(self) -> float | None:
        """When the oldest awaited reply is due (clock seconds), or ``None``."""
        with self._lock:
            return self._pending[0][1] if self._pending else None

    def stats(self) -> ReplyStats:
        """The counters, after expiring what is due."""
        self.expire()
        with self._lock:
            return ReplyStats(pending=len(self._pending), **self._counts)
