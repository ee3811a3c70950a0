"""Reference firmware for the exhibit's microcontroller (a Raspberry Pi Pico under MicroPython).

It reads a VL53L0X time-of-flight distance sensor and a few buttons or touch pads, drives an LED
strip on command, and speaks the bridge protocol (PROTOCOL.md) over the Pico's USB serial port:

* HELLO at boot and when asked (OP_HELLO), with the firmware's name, version and capabilities;
* HEARTBEAT every HEARTBEAT_MS (500 ms, so 2 Hz), unprompted;
* SENSOR_BATCH every BATCH_MS with the distance readings taken every ``sample_ms``, each with
  its own time on the device's millisecond clock;
* EVENT when an input goes down or up (debounced for DEBOUNCE_MS; the event carries the time
  of the first edge);
* ACK or NACK for every COMMAND; ERROR for a sensor that fails, a bad frame from the host
  (at most one report a second), or an exception in the loop (the loop goes on).

All hardware is behind a HAL object (``hal_pico.PicoHal`` on the Pico,
``firmware_bridge.sim.SimHal`` on CPython). A HAL provides::

    ticks_ms() -> int          milliseconds since boot; never wraps (the HAL extends the port's)
    read() -> bytes            bytes from the host since the last call; b"" when none; no blocking
    write(data) -> None        bytes to the host; may drop them when no host listens
    distance_mm() -> int       latest distance; codec.NO_TARGET when nothing is in range;
                               raises OSError when the sensor fails
    inputs() -> int            input levels as a bit mask (bit n set: input n is pressed)
    show_leds(rgb) -> None     rgb: bytes, 3 per pixel; raises OSError on failure
    idle(ms) -> None           wait at most ms (returning early when bytes arrive is fine)
    input_count, led_count, has_distance, boot_id   (attributes; boot_id random at boot)

This file runs unchanged on MicroPython and CPython: see codec.py for the rules it follows.
On the Pico, copy ``codec.py``, ``hal_pico.py``, this ``main.py`` and a VL53L0X driver to the
board's root (firmware/README.md).
"""

# MicroPython: %-formatting everywhere (its f-strings lack !r), no contextlib.
# ruff: noqa: UP031, SIM105

try:
    from firmware_bridge import codec
except ImportError:  # on the Pico, codec.py sits next to main.py
    import codec  # type: ignore[import-not-found,no-redef]
try:
    from firmware_bridge.firmware.hal import Hal
except ImportError:  # MicroPython: no typing, and annotations are not evaluated
    pass

FIRMWARE_NAME = "exhibit-pico"
FIRMWARE_VERSION = (1, 0, 0)
HEARTBEAT_MS = 500
BATCH_MS = 100
SAMPLE_MS = 50
DEBOUNCE_MS = 20
ERROR_REPORT_MS = 1000
MIN_SAMPLE_MS = 20
MAX_SAMPLE_MS = 1000


class Firmware:
    """The firmware's logic, one ``step()`` at a time; ``run()`` loops forever.

    Example (with any HAL, e.g. the simulator's):
        fw = Firmware(hal)
        fw.start()          # sends HELLO
        while True:
            fw.step()
            hal.idle(fw.idle_ms())
    """

    def __init__(self, hal: Hal, sample_ms: int = SAMPLE_MS) -> None:
        self.hal = hal
        self.sample_ms = sample_ms
        self.rx = codec.Receiver()
        self.heartbeat_seq = 0
        self.readings: list[tuple[int, int, int]] = []
        self.batch_t_ms = 0
        self.levels = 0  # debounced input levels
        self.raw_levels = 0
        self.raw_since: list[int] = []
        self.sent_bad = 0
        self.next_heartbeat = 0
        self.next_sample = 0
        self.next_batch = 0
        self.next_error_report = 0
        self.sensor_failed = False
        self.pixels = bytearray(3 * hal.led_count)

    # -- helpers -------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.hal.ticks_ms())

    def send(self, message: codec.Message) -> None:
        self.hal.write(message.frame())

    def hello(self, now: int) -> codec.Hello:
        hal = self.hal
        caps = 0
        if hal.has_distance:
            caps |= codec.CAP_DISTANCE
        if hal.input_count:
            caps |= codec.CAP_INPUTS
        if hal.led_count:
            caps |= codec.CAP_LEDS
        return codec.Hello(
            FIRMWARE_NAME,
            FIRMWARE_VERSION,
            caps,
            hal.led_count,
            hal.input_count,
            now,
            hal.boot_id,
        )

    def error(self, code: int, text: str, now: int, limited: bool = True) -> None:
        """Send ERROR; ``limited`` ones at most once per ERROR_REPORT_MS."""
        if limited:
            if now < self.next_error_report:
                return
            self.next_error_report = now + ERROR_REPORT_MS
        self.send(codec.Error(code, text))

    # -- the loop ------------------------------------------------------------------------

    def start(self) -> None:
        now = self.now()
        self.raw_levels = self.levels = self._read_inputs(now)
        self.raw_since = [now] * self.hal.input_count
        self.send(self.hello(now))
        problem = getattr(self.hal, "boot_problem", "")
        if problem:
            self.error(codec.ERR_SENSOR, problem, now, limited=False)
        self.next_heartbeat = now
        self.next_sample = now
        self.next_batch = now + BATCH_MS

    def step(self) -> None:
        """Handle the host's bytes, the inputs, the sensor, and whatever is due."""
        now = self.now()
        data = self.hal.read()
        if data:
            bad_before = self.rx.bad_frames()
            for message in self.rx.feed(data):
                self.handle(message, now)
            if self.rx.bad_frames() != bad_before and self.rx.last_error is not None:
                err = self.rx.last_error
                code = codec.ERR_VERSION if err.version >= 0 else codec.ERR_BAD_FRAME
                self.error(code, "from host: " + err.kind + ": " + err.detail, now)
        self._poll_inputs(now)
        if now >= self.next_sample:
            self._sample(now)
            self.next_sample = now + self.sample_ms
        if self.readings and (now >= self.next_batch or len(self.readings) >= codec.MAX_READINGS):
            self._send_batch()
        if now >= self.next_batch:
            self.next_batch = now + BATCH_MS
        if now >= self.next_heartbeat:
            self.send(codec.Heartbeat(self.heartbeat_seq, now))
            self.heartbeat_seq = (self.heartbeat_seq + 1) & 0xFFFFFFFF
            self.next_heartbeat = now + HEARTBEAT_MS

    def idle_ms(self) -> int:
        """How long the loop may wait before something is due (at most 10 ms, for inputs)."""
        due = min(self.next_heartbeat, self.next_sample, self.next_batch)
        return max(0, min(10, due - self.now()))

    def run(self) -> None:
        self.start()
        hal = self.hal
        while True:
            try:
                self.step()
            except Exception as exc:  # keep serving: report and go on
                self.error(codec.ERR_INTERNAL, "%s: %s" % (type(exc).__name__, exc), self.now())
            hal.idle(self.idle_ms())

    # -- inputs, sensor, batches ---------------------------------------------------------

    def _read_inputs(self, now: int) -> int:
        if not self.hal.input_count:
            return 0
        return int(self.hal.inputs())

    def _poll_inputs(self, now: int) -> None:
        count = len(self.raw_since)
        if not count:
            return
        raw = self._read_inputs(now)
        changed = raw ^ self.raw_levels
        self.raw_levels = raw
        for i in range(count):
            bit = 1 << i
            if changed & bit:
                self.raw_since[i] = now
            if (raw ^ self.levels) & bit and now - self.raw_since[i] >= DEBOUNCE_MS:
                self.levels ^= bit
                kind = codec.EVENT_DOWN if raw & bit else codec.EVENT_UP
                self.send(codec.Event(self.raw_since[i], kind, i))

    def _sample(self, now: int) -> None:
        if not self.hal.has_distance:
            return
        try:
            value = int(self.hal.distance_mm())
        except OSError as exc:
            if not self.sensor_failed:
                self.sensor_failed = True
                self.error(codec.ERR_SENSOR, "distance sensor: %s" % exc, now, limited=False)
            return
        if self.sensor_failed:
            self.sensor_failed = False
            self.error(codec.ERR_SENSOR, "distance sensor: back", now, limited=False)
        if not self.readings:
            self.batch_t_ms = now
        elif now - self.batch_t_ms > 0xFFFF:
            self._send_batch()
            self.batch_t_ms = now
        self.readings.append((now - self.batch_t_ms, codec.SENSOR_DISTANCE, value))

    def _send_batch(self) -> None:
        self.send(codec.SensorBatch(self.batch_t_ms, self.readings[: codec.MAX_READINGS]))
        self.readings = self.readings[codec.MAX_READINGS :]
        if self.readings:  # rebase what did not fit (never more than one batch's worth)
            base = self.batch_t_ms + self.readings[0][0]
            shift = self.readings[0][0]
            self.readings = [(dt - shift, sid, v) for dt, sid, v in self.readings]
            self.batch_t_ms = base

    # -- commands ------------------------------------------------------------------------

    def handle(self, message: codec.Message, now: int) -> None:
        if not isinstance(message, codec.Command):
            return  # the host sends only commands; anything else is ignored
        reason = self._do(message.op, message.args, now)
        if reason:
            self.send(codec.Nack(message.seq, reason))
            return
        self.send(codec.Ack(message.seq))
        if message.op == codec.OP_HELLO:
            self.send(self.hello(now))

    def _do(self, op: int, args: bytes, now: int) -> int:
        """Carry out one command; 0 when done, else a NACK reason."""
        hal = self.hal
        if op == codec.OP_HELLO:
            return 0 if not args else codec.NACK_BAD_ARGS
        if op == codec.OP_SAMPLE_PERIOD:
            if len(args) != 2:
                return codec.NACK_BAD_ARGS
            period = args[0] | (args[1] << 8)
            if period < MIN_SAMPLE_MS or period > MAX_SAMPLE_MS:
                return codec.NACK_BAD_ARGS
            self.sample_ms = period
            self.next_sample = now
            return 0
        if op in (codec.OP_LED_FILL, codec.OP_LED_SET):
            count = hal.led_count
            if not count:
                return codec.NACK_UNAVAILABLE
            if op == codec.OP_LED_FILL:
                if len(args) != 3:
                    return codec.NACK_BAD_ARGS
                pixels = bytearray(bytes(args) * count)
            else:
                if len(args) < 5 or (len(args) - 2) % 3:
                    return codec.NACK_BAD_ARGS
                first = args[0] | (args[1] << 8)
                if first + (len(args) - 2) // 3 > count:
                    return codec.NACK_BAD_ARGS
                pixels = bytearray(self.pixels)
                pixels[3 * first : 3 * first + len(args) - 2] = args[2:]
            try:
                hal.show_leds(bytes(pixels))
            except OSError as exc:
                self.error(codec.ERR_LEDS, "led strip: %s" % exc, now)
                return codec.NACK_UNAVAILABLE
            self.pixels = pixels
            return 0
        return codec.NACK_UNKNOWN_OP


if __name__ == "__main__":  # on the Pico: main.py runs at boot
    from hal_pico import PicoHal  # type: ignore[import-not-found]

    pico = PicoHal()
    if pico.inputs() & 1:  # input 0 held at boot: stay off the port, leave the REPL usable
        pico.release_console()
    else:
        Firmware(pico).run()
