"""A tiny client for systemd's notify protocol (``sd_notify``), with no dependency.

systemd names an ``AF_UNIX`` datagram socket in ``$NOTIFY_SOCKET`` (a leading ``@`` means the
abstract namespace); a service sends it datagrams of ``KEY=value`` lines: ``READY=1`` once the
service works, ``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` µs (or systemd kills and
restarts it), ``STATUS=...`` for ``systemctl status``, ``RELOADING=1`` and ``STOPPING=1``.

This is an edge: it does I/O and reads a clock (injected, so tests drive time). Nothing here
ever raises into the caller: a service that cannot reach systemd keeps showing the exhibit.
Errors are counted (``errors``) and logged once.

Without ``$NOTIFY_SOCKET`` (run from a terminal, in tests) every method is a cheap no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

from exhibit.closing import Closing

log = logging.getLogger("exhibit.service")

_STATUS_MAX_CHARS = 200  # systemctl status shows one line; keep datagrams small


class Notifier(Closing):
    """Tell systemd about this service; safe to call when not run by systemd.

    >>> import os
    >>> notifier = Notifier.from_env({})          # no $NOTIFY_SOCKET: every call is a no-op
    >>> notifier.enabled
    False
    >>> notifier.ready("showing 'Inside the cell'")
    False
    >>> notifier.watchdog()                        # call it every frame: rate-limited
    False

    ``address`` is the socket as given in ``$NOTIFY_SOCKET`` (``/run/...`` or ``@name``);
    ``watchdog_interval_s`` is how often ``watchdog()`` actually sends (half systemd's timeout,
    as ``sd_notify(3)`` advises), ``None`` when systemd has no watchdog for us; ``clock`` is a
    monotonic clock in seconds.
    """

    def __init__(
        self,
        address: str | None,
        *,
        watchdog_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address = _socket_address(address) if address else None
        if address and self._address is None:
            log.warning(
                "NOTIFY_SOCKET=%r is not a unix socket path or @name; not notifying", address
            )
        self.watchdog_interval_s = watchdog_interval_s if self._address is not None else None
        self._clock = clock
        self._socket: socket.socket | None = None
        self._last_ping_s: float | None = None
        self._logged = False
        self.sent = 0
        """Datagrams delivered to systemd."""
        self.errors = 0
        """Datagrams that could not be delivered (the first one is logged)."""
        self.is_ready = False

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        clock: Callable[[], float] = time.monotonic,
        pid: int | None = None,
    ) -> Notifier:
        """Build from ``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC`` and ``$WATCHDOG_PID``.

        The watchdog is on only when ``$WATCHDOG_USEC`` is a positive integer and
        ``$WATCHDOG_PID``, if set, is our pid (``pid``, default ``os.getpid()``): a child
        process that inherited the environment must not keep its parent alive.
        """
        address = environ.get("NOTIFY_SOCKET") or None
        interval_s: float | None = None
        usec_text = environ.get("WATCHDOG_USEC", "")
        pid_text = environ.get("WATCHDOG_PID", "")
        if usec_text:
            try:
                usec = int(usec_text)
            except ValueError:
                usec = 0
            for_us = True
            if pid_text:
                try:
                    for_us = int(pid_text) == (os.getpid() if pid is None else pid)
                except ValueError:
                    for_us = False
            if usec > 0 and for_us:
                interval_s = usec / 2_000_000
        return cls(address, watchdog_interval_s=interval_s, clock=clock)

    @property
    def enabled(self) -> bool:
        """Whether systemd asked to be notified (``$NOTIFY_SOCKET`` was usable)."""
        return self._address is not None

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd the service works (call once, after the first frame); idempotent.

        Also counts as a watchdog ping. Returns whether a datagram was delivered."""
        if self.is_ready or self._address is None:
            return False
        self.is_ready = True
        fields = ["READY=1"]
        if status is not None:
            fields.append(_status(status))
        if self.watchdog_interval_s is not None:
            fields.append("WATCHDOG=1")
            self._last_ping_s = self._clock()
        return self._send("\n".join(fields))

    def status(self, text: str) -> bool:
        """One line for ``systemctl status`` (e.g. the show's state); cut to 200 characters."""
        return self._send(_status(text))

    def reloading(self) -> bool:
        """A config reload begins; call ``reloaded()`` when it is done (applied or rejected)."""
        monotonic_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self._send(f"RELOADING=1\nMONOTONIC_USEC={monotonic_us}")

    def reloaded(self, status: str | None = None) -> bool:
        """The reload is over: the service is ready again."""
        fields = ["READY=1"]
        if status is not None:
            fields.append(_status(status))
        return self._send("\n".join(fields))

    def stopping(self, status: str | None = None) -> bool:
        """The service is shutting down (call when the stop signal arrives)."""
        fields = ["STOPPING=1"]
        if status is not None:
            fields.append(_status(status))
        return self._send("\n".join(fields))

    def watchdog(self) -> bool:
        """Ping the watchdog if half its timeout has passed since the last ping.

        Cheap enough to call every frame: between pings it only reads the clock. Returns
        whether a ping was sent."""
        if self.watchdog_interval_s is None:
            return False
        now_s = self._clock()
        if self._last_ping_s is not None and now_s - self._last_ping_s < self.watchdog_interval_s:
            return False
        self._last_ping_s = now_s  # also after a failure: a dead socket is not retried per frame
        return self._send("WATCHDOG=1")

    def close(self) -> None:
        """Close the socket (a later call reopens it)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, message: str) -> bool:
        if self._address is None:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            # Never wait: a receiver that is not reading (a full queue) must not stall the show;
            # the message is dropped and counted instead.
            self._socket.sendto(
                message.encode("utf-8", "replace"), socket.MSG_DONTWAIT, self._address
            )
        except OSError as exc:
            self.errors += 1
            if not self._logged:
                self._logged = True
                log.warning(
                    "cannot notify systemd at %r (%s); counting further failures silently",
                    os.fsdecode(self._address),
                    exc,
                )
            return False
        self.sent += 1
        return True


def _socket_address(address: str) -> bytes | None:
    """``/path`` as it is, ``@name`` as the abstract name ``\\0name``; anything else: None."""
    if address.startswith("/"):
        return os.fsencode(address)
    if address.startswith("@") and len(address) > 1:
        return b"\0" + os.fsencode(address[1:])
    return None


def _status(text: str) -> str:
    line = " ".join(text.split())  # one line: a newline would start another field
    return "STATUS=" + line[:_STATUS_MAX_CHARS]
