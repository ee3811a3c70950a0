"""The host side of the serial bridge: one thread that keeps the microcontroller talking.

``BridgeLink`` opens the device through ``serial.serial_for_url``, so the device is a string in
the config: ``/dev/serial/by-id/usb-...`` for the real Pico, ``socket://host:port`` or a pty path
for the simulator, ``spy:///dev/serial/by-id/...?file=/tmp/bridge.txt`` to hexdump the traffic
in the field, ``loop://`` in tests. Its reader thread:

* on opening, sends a 0x00 (ending whatever partial frame the device holds) and an OP_HELLO
  command; the device answers with HELLO (name, firmware version, capabilities), and the link
  is **up**. A device speaking a newer major protocol version is reported as **incompatible**
  with both versions named, never misparsed;
* watches the heartbeat: no HEARTBEAT for ``heartbeat_timeout_s`` makes the link **stale** (it
  asks for HELLO again); no valid frame for three timeouts makes it close and reopen the port;
* on any read or write error (the Pico unplugged, the simulator killed) closes the port, reports
  **down** with the reason, and reopens it after ``reconnect_min_s``, doubling the wait up to
  ``reconnect_max_s`` while the device stays away (the wait starts again from the minimum once
  the link has been up);
* turns SENSOR_BATCH and EVENT into ``BridgeReading`` / ``BridgeEvent`` items whose ``t_s`` is
  on the host's clock (``clock.ClockMapper``: a robust offset and drift estimate), and ERROR into
  ``DeviceError``; items wait in a bounded queue (``drain()``; the oldest is dropped and counted
  when nobody drains) and go to ``on_item`` if given;
* matches ACK/NACK to commands by sequence number, and times out the ones left unanswered.

Nothing here raises into the caller once the link is built: every failure is counted in
``LinkCounters`` and explained in ``LinkHealth.reason``. The clock (``time.monotonic`` by
default, the same clock camera frames use) is injectable; the port opener too.

Example:
    >>> import serial, threading
    >>> from firmware_bridge import codec
    >>> port = serial.serial_for_url("loop://", timeout=0.05)
    >>> link = BridgeLink("loop://", open_port=lambda url, baud: port)
    >>> link.start()
    >>> _ = port.write(codec.Hello("demo", (1, 0, 0), codec.CAP_DISTANCE).frame())
    >>> link.wait_up(2.0)
    True
    >>> link.health().device.firmware
    'demo'
    >>> link.close()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Protocol

from firmware_bridge import codec
from firmware_bridge.clock import ClockEstimate, ClockMapper
from firmware_bridge.config import BridgeConfig
from firmware_bridge.items import (
    EVENT_KINDS,
    BridgeEvent,
    BridgeItem,
    BridgeReading,
    DeviceError,
    sensor_name,
)
from firmware_bridge.urls import check_device_url

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.05
WRITE_TIMEOUT_S = 0.5
READ_MAX_BYTES = 4096
MAX_PENDING = 64
SILENT_REOPEN_FACTOR = 3.0


class LinkState(StrEnum):
    """Where the link is; ``UP`` is the only healthy state."""

    STARTING = "starting"
    DOWN = "down"
    HANDSHAKE = "handshake"
    UP = "up"
    STALE = "stale"
    INCOMPATIBLE = "incompatible"
    CLOSED = "closed"


class SerialPort(Protocol):
    """What the link needs of a port (pyserial's ``Serial`` and URL handlers have it)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


PortOpener = Callable[[str, int], SerialPort]


def open_serial(url: str, baud: int) -> SerialPort:
    """pyserial's ``serial_for_url`` with the link's read and write timeouts."""
    import serial

    port: SerialPort = serial.serial_for_url(
        url, baudrate=baud, timeout=READ_TIMEOUT_S, write_timeout=WRITE_TIMEOUT_S
    )
    return port


@dataclass(frozen=True)
class DeviceInfo:
    """What the device said in its HELLO."""

    firmware: str
    version: tuple[int, int, int]
    protocol: str
    capabilities: int
    led_count: int
    input_count: int
    boot_id: int = 0

    @property
    def has_distance(self) -> bool:
        return bool(self.capabilities & codec.CAP_DISTANCE)

    @property
    def has_inputs(self) -> bool:
        return bool(self.capabilities & codec.CAP_INPUTS)

    @property
    def has_leds(self) -> bool:
        return bool(self.capabilities & codec.CAP_LEDS)


@dataclass(frozen=True)
class LinkCounters:
    """Everything the link counted since it was built (a snapshot)."""

    frames: int = 0
    bad_cobs: int = 0
    bad_crc: int = 0
    too_short: int = 0
    oversize: int = 0
    newer_version: int = 0
    older_version: int = 0
    unknown_type: int = 0
    bad_body: int = 0
    garbage_bytes: int = 0
    bytes_in: int = 0
    unexpected: int = 0
    """Valid frames of a type a device does not send (COMMAND: an echo, e.g. on loop://)."""
    connects: int = 0
    open_failures: int = 0
    disconnects: int = 0
    reopens_silent: int = 0
    stale: int = 0
    hellos: int = 0
    heartbeats: int = 0
    heartbeats_missed: int = 0
    device_restarts: int = 0
    readings: int = 0
    events: int = 0
    device_errors: int = 0
    items_dropped: int = 0
    commands_sent: int = 0
    acked: int = 0
    nacked: int = 0
    timed_out: int = 0
    not_sent: int = 0
    late_replies: int = 0

    @property
    def bad_frames(self) -> int:
        return sum(getattr(self, name) for name in codec.FRAME_ERRORS)


@dataclass(frozen=True)
class LinkHealth:
    """The link as a technician needs to see it."""

    state: LinkState
    url: str
    reason: str
    device: DeviceInfo | None
    last_heartbeat_age_s: float | None
    clock: ClockEstimate | None
    counters: LinkCounters

    @property
    def healthy(self) -> bool:
        return self.state is LinkState.UP


@dataclass(frozen=True)
class CommandResult:
    """How a command ended: ``status`` is "ack", "nack", "timeout" or "not_sent"."""

    seq: int
    op: int
    status: str
    reason: int | None = None
    detail: str = ""
    round_trip_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ack"


class PendingCommand:
    """A command on its way; ``wait()`` blocks until it is answered or timed out."""

    def __init__(self, seq: int, op: int, sent_at: float, deadline: float) -> None:
        self.seq = seq
        self.op = op
        self.sent_at = sent_at
        self.deadline = deadline
        self._done = threading.Event()
        self._result: CommandResult | None = None

    @property
    def result(self) -> CommandResult | None:
        return self._result

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> CommandResult:
        """The result; after ``timeout_s`` of real time (default: the command's own timeout
        plus a second) a result is made up as "timeout" if the link has not given one."""
        limit = timeout_s if timeout_s is not None else (self.deadline - self.sent_at) + 1.0
        if not self._done.wait(max(0.0, limit)):
            self._resolve(CommandResult(self.seq, self.op, "timeout", detail="no answer"))
        result = self._result
        assert result is not None
        return result

    def _resolve(self, result: CommandResult) -> bool:
        if self._done.is_set():
            return False
        self._result = result
        self._done.set()
        return True


@dataclass
class _Counts:
    values: dict[str, int] = field(
        default_factory=lambda: {f.name: 0 for f in fields(LinkCounters)}
    )

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] += n

    def snapshot(self) -> LinkCounters:
        return LinkCounters(**self.values)


class BridgeLink:
    """A self-healing link to the exhibit's microcontroller. See the module docstring.

    Example:
        link = BridgeLink("/dev/serial/by-id/usb-MicroPython_Board_in_FS_mode_e660...-if00")
        link.start()
        ...
        for item in link.drain():          # in the show loop: never blocks
            feed(item)                     # BridgeReading / BridgeEvent / DeviceError
        link.send_command(codec.OP_LED_FILL, bytes((255, 80, 0)))   # never blocks
        print(link.health().reason)
        link.close()
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int = 115200,
        heartbeat_timeout_s: float = 3.0,
        command_timeout_s: float = 0.5,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 10.0,
        queue_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
        open_port: PortOpener | None = None,
        on_item: Callable[[BridgeItem], None] | None = None,
        name: str = "bridge",
    ) -> None:
        problem = check_device_url(url)
        if problem is not None:
            from firmware_bridge.errors import BridgeUrlError

            raise BridgeUrlError(f"bridge device {url!r}: {problem}")
        self.url = url
        self.baud = baud
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.command_timeout_s = command_timeout_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = max(reconnect_min_s, reconnect_max_s)
        self.name = name
        self._clock = clock
        self._open_port = open_port or open_serial
        self._on_item = on_item
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: SerialPort | None = None
        self._state = LinkState.STARTING
        self._reason = "not started"
        self._device: DeviceInfo | None = None
        self._counts = _Counts()
        self._items: deque[BridgeItem] = deque(maxlen=max(1, queue_size))
        self._pending: dict[int, PendingCommand] = {}
        self._seq = 0
        self._mapper = ClockMapper()
        self._receiver = codec.Receiver(hunting=True)
        self._last_heartbeat: float | None = None
        self._last_heartbeat_seq: int | None = None
        self._last_valid: float = 0.0
        self._last_hello_request = 0.0
        self._up_reason = ""
        self._last_uptime: int | None = None
        self._boot_id: int | None = None

    @classmethod
    def from_config(cls, config: BridgeConfig, **kwargs: Any) -> BridgeLink:
        """A link for a ``BridgeConfig`` (``config.device`` must be set)."""
        if config.device is None:
            from firmware_bridge.errors import BridgeUrlError

            raise BridgeUrlError("bridge.device is not set: there is no device to open")
        return cls(
            config.device,
            baud=config.baud,
            heartbeat_timeout_s=config.heartbeat_timeout_s,
            command_timeout_s=config.command_timeout_s,
            reconnect_min_s=config.reconnect_min_s,
            reconnect_max_s=config.reconnect_max_s,
            **kwargs,
        )

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader thread (it opens the port); returns at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-link", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread, close the port, and end every waiting command as "not_sent"."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        self._close_port()
        with self._lock:
            self._fail_pending("link closed")
            self._set_state(LinkState.CLOSED, "closed")

    def __enter__(self) -> BridgeLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the caller reads -----------------------------------------------------------

    def health(self) -> LinkHealth:
        with self._lock:
            age = None
            if self._last_heartbeat is not None:
                age = max(0.0, self._clock() - self._last_heartbeat)
            return LinkHealth(
                state=self._state,
                url=self.url,
                reason=self._reason,
                device=self._device,
                last_heartbeat_age_s=age,
                clock=self._mapper.estimate(),
                counters=self._counts.snapshot(),
            )

    def counters(self) -> LinkCounters:
        with self._lock:
            return self._counts.snapshot()

    def drain(self, max_items: int | None = None) -> list[BridgeItem]:
        """Take the items that arrived since the last call (oldest first); never blocks."""
        with self._lock:
            n = len(self._items) if max_items is None else min(max_items, len(self._items))
            return [self._items.popleft() for _ in range(n)]

    def wait_up(self, timeout_s: float) -> bool:
        """Block until the link is up (HELLO received) or ``timeout_s`` of real time passed."""
        return self.wait_for(lambda h: h.state is LinkState.UP, timeout_s)

    def wait_for(self, predicate: Callable[[LinkHealth], bool], timeout_s: float) -> bool:
        """Block until ``predicate(health())`` holds (checked on every change and every 50 ms)."""
        end = time.monotonic() + timeout_s
        while True:
            if predicate(self.health()):
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            with self._lock:
                self._lock.wait(min(left, READ_TIMEOUT_S))

    def to_host_time(self, device_ms: int) -> float | None:
        """Host time of an unwrapped device time, with the current estimate."""
        with self._lock:
            return self._mapper.to_host(device_ms)

    # -- commands ------------------------------------------------------------------------

    def send_command(
        self, op: int, args: bytes = b"", timeout_s: float | None = None
    ) -> PendingCommand:
        """Send COMMAND(op, args); never blocks for longer than a port write (0.5 s at most)."""
        timeout = self.command_timeout_s if timeout_s is None else timeout_s
        now = self._clock()
        with self._lock:
            self._seq = (self._seq + 1) & 0xFFFF
            seq = self._seq
            pending = PendingCommand(seq, op, now, now + timeout)
            port = self._port
            refusal = None
            if port is None or self._state in (LinkState.DOWN, LinkState.CLOSED):
                refusal = f"not connected ({self._reason})"
            elif len(self._pending) >= MAX_PENDING:
                refusal = f"{MAX_PENDING} commands already waiting for an answer"
            else:
                try:
                    frame = codec.Command(seq, op, args).frame()
                except (ValueError, TypeError, OverflowError) as exc:
                    refusal = f"cannot encode: {exc}"
            if refusal is not None:
                self._counts.add("not_sent")
                pending._resolve(CommandResult(seq, op, "not_sent", detail=refusal))
                return pending
            self._pending[seq] = pending
            self._counts.add("commands_sent")
        assert port is not None
        try:
            with self._write_lock:
                port.write(frame)
        except Exception as exc:  # pyserial raises SerialException, OSError, ValueError...
            with self._lock:
                self._pending.pop(seq, None)
                self._counts.add("not_sent")
                self._counts.add("commands_sent", -1)
            pending._resolve(CommandResult(seq, op, "not_sent", detail=f"write failed: {exc}"))
        return pending

    def command(self, op: int, args: bytes = b"", timeout_s: float | None = None) -> CommandResult:
        """``send_command(...).wait()``: blocks until ACK, NACK or the timeout."""
        return self.send_command(op, args, timeout_s).wait()

    def led_fill(self, r: int, g: int, b: int) -> PendingCommand:
        """Every pixel of the LED strip to one colour (0..255 each)."""
        return self.send_command(codec.OP_LED_FILL, bytes((r & 255, g & 255, b & 255)))

    def led_set(self, first: int, rgb: bytes) -> PendingCommand:
        """Pixels from ``first`` on to ``rgb`` (3 bytes per pixel)."""
        return self.send_command(codec.OP_LED_SET, bytes((first & 255, first >> 8 & 255)) + rgb)

    def set_sample_period(self, period_ms: int) -> PendingCommand:
        """How often the device reads its distance sensor (20..1000 ms)."""
        return self.send_command(codec.OP_SAMPLE_PERIOD, int(period_ms).to_bytes(2, "little"))

    # -- the reader thread ---------------------------------------------------------------

    def _run(self) -> None:
        delay = self.reconnect_min_s
        while not self._stop.is_set():
            try:
                reached_up = self._connect_and_serve()
            except Exception:  # a bug must not end the link: log it and start over
                log.exception("%s: unexpected error in the reader thread", self.name)
                reached_up = False
                self._close_port()
            if self._stop.is_set():
                break
            if reached_up:
                delay = self.reconnect_min_s
            with self._lock:
                self._fail_pending("disconnected")
                self._set_state(
                    LinkState.DOWN, f"{self._reason}; retrying in {delay:.1f} s", quiet=True
                )
            self._stop.wait(delay)
            delay = min(delay * 2.0, self.reconnect_max_s)

    def _connect_and_serve(self) -> bool:
        """Open, serve until the port fails; True when the link was up at some point."""
        try:
            port = self._open_port(self.url, self.baud)
        except Exception as exc:  # SerialException, OSError, ValueError from pyserial
            with self._lock:
                self._counts.add("open_failures")
                self._set_state(LinkState.DOWN, f"cannot open {self.url}: {exc}")
            return False
        now = self._clock()
        with self._lock:
            self._port = port
            self._counts.add("connects")
            self._receiver.reset(hunting=True)
            self._mapper.reset()  # it may be another boot of the device, or another device
            self._last_valid = now
            self._last_heartbeat = None
            self._last_heartbeat_seq = None
            self._set_state(LinkState.HANDSHAKE, f"{self.url} open, waiting for HELLO")
        reached_up = False
        try:
            self._write(b"\x00")
            self._request_hello(now)
            while not self._stop.is_set():
                data = port.read(max(1, min(port.in_waiting, READ_MAX_BYTES)))
                now = self._clock()
                with self._lock:
                    if data:
                        self._counts.add("bytes_in", len(data))
                        self._take(data, now)
                    self._expire_commands(now)
                    reached_up = reached_up or self._state is LinkState.UP
                    action = self._watchdog(now)
                if action == "hello":
                    self._request_hello(now)
                elif action == "reopen":
                    with self._lock:
                        self._counts.add("reopens_silent")
                        silent_s = now - self._last_valid
                        self._set_state(
                            LinkState.DOWN, f"no valid frame for {silent_s:.1f} s: reopening"
                        )
                    break
        except Exception as exc:  # the port broke: unplugged, simulator gone, ...
            if not self._stop.is_set():
                with self._lock:
                    self._counts.add("disconnects")
                    self._set_state(LinkState.DOWN, f"disconnected: {exc}")
        finally:
            self._close_port()
        return reached_up

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            return
        with self._write_lock:
            port.write(data)

    def _request_hello(self, now: float) -> None:
        """Ask for HELLO (as a command whose answer nobody waits for)."""
        with self._lock:
            self._last_hello_request = now
        self.send_command(codec.OP_HELLO, timeout_s=self.heartbeat_timeout_s)

    def _close_port(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception as exc:  # closing a broken port may fail too; nothing to do
                log.debug("%s: closing the port: %s", self.name, exc)

    # -- with the lock held --------------------------------------------------------------

    def _set_state(self, state: LinkState, reason: str, *, quiet: bool = False) -> None:
        changed = state is not self._state
        self._state = state
        self._reason = reason
        if changed and not quiet:
            level = (
                logging.INFO if state in (LinkState.UP, LinkState.HANDSHAKE) else logging.WARNING
            )
            if state is LinkState.CLOSED:
                level = logging.DEBUG
            log.log(level, "%s %s: %s", self.name, state.value, reason or self.url)
        self._lock.notify_all()

    def _fail_pending(self, why: str) -> None:
        for pending in self._pending.values():
            if pending._resolve(CommandResult(pending.seq, pending.op, "not_sent", detail=why)):
                self._counts.add("not_sent")
        self._pending.clear()

    def _expire_commands(self, now: float) -> None:
        for seq in [s for s, p in self._pending.items() if now >= p.deadline]:
            pending = self._pending.pop(seq)
            pending._resolve(
                CommandResult(seq, pending.op, "timeout", detail="no ACK or NACK in time")
            )
            self._counts.add("timed_out")

    def _watchdog(self, now: float) -> str:
        """Update the state from the heartbeat; returns "reopen", "hello" or ""."""
        timeout = self.heartbeat_timeout_s
        if self._state is LinkState.INCOMPATIBLE:
            return ""
        if now - self._last_valid >= SILENT_REOPEN_FACTOR * timeout:
            return "reopen"
        beat = self._last_heartbeat
        if self._state is LinkState.UP and (beat is None or now - beat >= timeout):
            since = now - beat if beat is not None else now - self._last_valid
            self._counts.add("stale")
            self._set_state(
                LinkState.STALE, f"no heartbeat for {since:.1f} s (timeout {timeout:g} s)"
            )
        if self._state in (LinkState.STALE, LinkState.HANDSHAKE) and (
            now - self._last_hello_request >= timeout
        ):
            self._last_hello_request = now
            return "hello"
        return ""

    def _take(self, data: bytes, now: float) -> None:
        rx = self._receiver
        before = rx.counts["newer_version"]
        for message in rx.feed(data):
            self._last_valid = now
            self._handle(message, now)
        for name, value in rx.counts.items():
            self._counts.values[name] = value
        if rx.counts["newer_version"] != before and rx.last_error is not None:
            version = rx.last_error.version
            if self._state is not LinkState.UP:
                self._set_state(
                    LinkState.INCOMPATIBLE,
                    f"device speaks protocol {version >> 4}.{version & 15}; this host speaks "
                    f"{codec.PROTOCOL_MAJOR}.{codec.PROTOCOL_MINOR}: update the exhibit software "
                    f"or flash firmware that speaks {codec.PROTOCOL_MAJOR}.x",
                )

    def _handle(self, message: codec.Message, now: float) -> None:
        if isinstance(message, codec.SensorBatch):
            samples = message.samples()
            unwrapped = [self._observe_restart(t) for t, _, _ in samples]
            if unwrapped:
                self._mapper.observe(max(unwrapped), now)
            for d_ms, (_, sid, value) in zip(unwrapped, samples, strict=True):
                t_s = self._host_time(d_ms, now)
                self._push(BridgeReading(t_s, sensor_name(sid), sid, value, d_ms), "readings")
        elif isinstance(message, codec.Event):
            d_ms = self._observe_restart(message.t_ms)
            self._mapper.observe(d_ms, now)
            kind = EVENT_KINDS.get(message.kind, f"kind{message.kind}")
            self._push(
                BridgeEvent(self._host_time(d_ms, now), kind, message.input_id, d_ms), "events"
            )
        elif isinstance(message, codec.Heartbeat):
            self._on_heartbeat(message, now)
        elif isinstance(message, codec.Ack | codec.Nack):
            self._on_reply(message, now)
        elif isinstance(message, codec.Hello):
            self._on_hello(message, now)
        elif isinstance(message, codec.Error):
            log.warning("%s: device error %d: %s", self.name, message.code, message.text)
            self._push(DeviceError(now, message.code, message.text), "device_errors")
        else:
            self._counts.add("unexpected")

    def _host_time(self, device_ms: int, now: float) -> float:
        mapped = self._mapper.to_host(device_ms)
        return now if mapped is None else min(mapped, now)

    def _push(self, item: BridgeItem, counter: str) -> None:
        self._counts.add(counter)
        if len(self._items) == self._items.maxlen:
            self._counts.add("items_dropped")
        self._items.append(item)
        if self._on_item is not None:
            try:
                self._on_item(item)
            except Exception:  # the caller's callback must not end the link
                log.exception("%s: on_item callback failed", self.name)

    def _observe_restart(self, device_ms_raw: int) -> int:
        """Unwrap a device time; a jump back of seconds means the device restarted."""
        before = self._mapper.restarts
        d_ms = self._mapper.unwrap(device_ms_raw)
        if self._mapper.restarts != before:
            self._device_restarted()
        return d_ms

    def _check_uptime(self, uptime_ms: int) -> None:
        """HEARTBEAT carries the uptime, which only grows: if it went back, the device
        restarted (a power cycle, a watchdog reset, a replug of a USB-powered Pico)."""
        last = self._last_uptime
        self._last_uptime = uptime_ms
        if last is not None and 0 < (last - uptime_ms) & 0xFFFFFFFF < 1 << 31:
            self._mapper.reset()
            self._boot_id = None  # the next HELLO tells the new boot's id
            self._device_restarted()

    def _check_boot(self, boot_id: int, uptime_ms: int) -> None:
        """A HELLO with another boot id than the last one: the device restarted."""
        if self._boot_id is not None and boot_id != self._boot_id:
            self._mapper.reset()
            self._device_restarted()
        self._boot_id = boot_id
        self._last_uptime = uptime_ms

    def _device_restarted(self) -> None:
        self._counts.add("device_restarts")
        self._last_heartbeat_seq = None
        log.info("%s: the device restarted", self.name)

    def _on_heartbeat(self, message: codec.Heartbeat, now: float) -> None:
        self._counts.add("heartbeats")
        self._check_uptime(message.uptime_ms)
        d_ms = self._observe_restart(message.uptime_ms)
        self._mapper.observe(d_ms, now)
        last = self._last_heartbeat_seq
        if last is not None:
            gap = (message.seq - last) & 0xFFFFFFFF
            if 1 < gap < 1 << 16:
                self._counts.add("heartbeats_missed", gap - 1)
        self._last_heartbeat_seq = message.seq
        self._last_heartbeat = now
        if self._state is LinkState.STALE:
            self._set_state(LinkState.UP, self._up_reason)

    def _on_hello(self, message: codec.Hello, now: float) -> None:
        self._counts.add("hellos")
        self._check_boot(message.boot_id, message.uptime_ms)
        d_ms = self._observe_restart(message.uptime_ms)
        self._mapper.observe(d_ms, now)
        self._device = DeviceInfo(
            firmware=message.firmware,
            version=message.version,
            protocol=f"{codec.PROTOCOL_MAJOR}.{codec.PROTOCOL_MINOR}",
            capabilities=message.capabilities,
            led_count=message.led_count,
            input_count=message.input_count,
            boot_id=message.boot_id,
        )
        self._last_heartbeat = now  # a HELLO is a sign of life too
        v = message.version
        self._up_reason = f"{message.firmware} {v[0]}.{v[1]}.{v[2]} on {self.url}"
        self._set_state(LinkState.UP, self._up_reason)

    def _on_reply(self, message: codec.Ack | codec.Nack, now: float) -> None:
        pending = self._pending.pop(message.seq, None)
        if pending is None:
            self._counts.add("late_replies")
            return
        rtt = max(0.0, now - pending.sent_at)
        if isinstance(message, codec.Ack):
            self._counts.add("acked")
            result = CommandResult(message.seq, pending.op, "ack", round_trip_s=rtt)
        else:
            self._counts.add("nacked")
            result = CommandResult(
                message.seq,
                pending.op,
                "nack",
                reason=message.reason,
                detail=NACK_REASONS.get(message.reason, f"reason {message.reason}"),
                round_trip_s=rtt,
            )
        pending._resolve(result)


NACK_REASONS = {
    codec.NACK_UNKNOWN_OP: "unknown op",
    codec.NACK_BAD_ARGS: "bad arguments",
    codec.NACK_UNAVAILABLE: "hardware unavailable",
    codec.NACK_BUSY: "busy",
}
