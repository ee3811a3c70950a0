"""The firmware's HAL on a Raspberry Pi Pico (MicroPython): see hal.py for the contract.

Wiring (change the constants below to match the exhibit):

* host link: the Pico's USB serial port (USB CDC), read through ``sys.stdin.buffer`` polled
  with ``select.poll`` and written through ``sys.stdout.buffer``. ``micropython.kbd_intr(-1)``
  stops a 0x03 byte in a frame from raising KeyboardInterrupt. MicroPython's rp2 port sends
  stdout over USB only while a host holds the port open with DTR set (pyserial sets DTR when it
  opens a port), so nothing piles up while the Pi is booting;
* VL53L0X on I2C0, SDA = GP4, SCL = GP5, 400 kHz. The driver is not part of MicroPython: copy a
  ``VL53L0X.py`` (uceeatz's, as adapted for the Pico by Kevin McAleer; API ``VL53L0X(i2c)``,
  ``start()``, ``read()`` or ``ping()`` in mm) to the board. Without it the firmware runs with no
  distance sensor (the HELLO capabilities say so) and sends an ERROR at boot;
* inputs: GP14 and GP15 buttons to ground (internal pull-ups, pressed = low), GP13 a TTP223
  touch module (pressed = high);
* LED strip (WS2812 / NeoPixel) data on GP16, LED_COUNT pixels, via the built-in ``neopixel``.

Nothing here runs on CPython. MicroPython's modules (``machine``, ``micropython``, ``neopixel``,
``time.ticks_ms``) have no stubs in this project's environment, so mypy skips this one file.
"""

# MicroPython: %-formatting everywhere (its f-strings lack !r), no contextlib.
# ruff: noqa: UP031

# mypy: ignore-errors

import os
import select
import sys
import time

import machine
import micropython
import neopixel

I2C_ID = 0
I2C_SDA = 4
I2C_SCL = 5
I2C_FREQ = 400_000
INPUT_PINS = ((14, True), (15, True), (13, False))  # (GPIO, active_low)
LED_PIN = 16
LED_COUNT = 30
OUT_OF_RANGE_MM = 8000  # the VL53L0X reports ~8190 mm when no target is in range
READ_MAX = 256


class PicoHal:
    """USB serial, a VL53L0X, GPIO inputs and a NeoPixel strip on a Pico."""

    def __init__(self) -> None:
        micropython.kbd_intr(-1)
        self._stdin = sys.stdin.buffer
        self._stdout = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        try:
            self.boot_id = int.from_bytes(os.urandom(4), "little")
        except (AttributeError, OSError):  # a port without os.urandom
            self.boot_id = time.ticks_us() & 0xFFFFFFFF
        self._last_ticks = time.ticks_ms()
        self._ms = 0
        self._pins = []
        for gpio, active_low in INPUT_PINS:
            pull = machine.Pin.PULL_UP if active_low else machine.Pin.PULL_DOWN
            self._pins.append((machine.Pin(gpio, machine.Pin.IN, pull), active_low))
        self.input_count = len(self._pins)
        self.led_count = LED_COUNT
        self._strip = neopixel.NeoPixel(machine.Pin(LED_PIN), LED_COUNT)
        self._tof = None
        self.has_distance = False
        self.boot_problem = ""
        try:
            self._tof = self._open_tof()
            self.has_distance = True
        except (ImportError, OSError) as exc:
            self.boot_problem = "distance sensor: %s" % exc

    def _open_tof(self) -> object:
        try:
            from VL53L0X import VL53L0X
        except ImportError:
            from vl53l0x import VL53L0X
        i2c = machine.I2C(I2C_ID, sda=machine.Pin(I2C_SDA), scl=machine.Pin(I2C_SCL), freq=I2C_FREQ)
        tof = VL53L0X(i2c)
        if hasattr(tof, "start"):
            tof.start()  # continuous ranging: read() then returns the latest measurement
        return tof

    def release_console(self) -> None:
        """Give Ctrl-C back to the REPL (main.py then ends, and mpremote can reach the board)."""
        micropython.kbd_intr(3)

    def ticks_ms(self) -> int:
        now = time.ticks_ms()
        self._ms += time.ticks_diff(now, self._last_ticks)
        self._last_ticks = now
        return self._ms

    def read(self) -> bytes:
        out = bytearray()
        while len(out) < READ_MAX and self._poll.poll(0):
            out.extend(self._stdin.read(1))
        return bytes(out)

    def write(self, data: bytes) -> None:
        self._stdout.write(data)

    def distance_mm(self) -> int:
        tof = self._tof
        if tof is None:
            raise OSError("no sensor")
        value = int(tof.read() if hasattr(tof, "read") else tof.ping())
        return -1 if value <= 0 or value >= OUT_OF_RANGE_MM else value

    def inputs(self) -> int:
        levels = 0
        for i, (pin, active_low) in enumerate(self._pins):
            if pin.value() != active_low:
                levels |= 1 << i
        return levels

    def show_leds(self, rgb: bytes) -> None:
        strip = self._strip
        for i in range(self.led_count):
            strip[i] = (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
        strip.write()

    def idle(self, ms: int) -> None:
        if ms > 0:
            self._poll.poll(ms)
