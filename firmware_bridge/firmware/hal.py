"""The firmware's hardware abstraction, as a typing Protocol (CPython only).

``main.py`` imports this for its annotations when it can (on CPython) and does without it on
MicroPython, which has no ``typing`` and ignores annotations. Two implementations exist:
``hal_pico.PicoHal`` (the Pico: USB serial, VL53L0X over I2C, GPIO inputs, NeoPixel strip) and
``firmware_bridge.sim.SimHal`` (a pty, a scripted visitor, inputs pressed from the host side).
"""

from __future__ import annotations

from typing import Protocol


class Hal(Protocol):
    """What the firmware needs from the hardware; every time is in milliseconds."""

    input_count: int
    led_count: int
    has_distance: bool
    boot_id: int
    """A random 32-bit number drawn at boot (tells the host this is a new boot)."""

    def ticks_ms(self) -> int:
        """Milliseconds since boot; never wraps (the HAL extends the port's wrapping ticks)."""
        ...

    def read(self) -> bytes:
        """Bytes from the host since the last call; ``b""`` when none. Never blocks."""
        ...

    def write(self, data: bytes) -> None:
        """Bytes to the host; may drop them when no host listens. Never blocks for long."""
        ...

    def distance_mm(self) -> int:
        """The latest distance; ``codec.NO_TARGET`` when nothing is in range.

        Raises OSError when the sensor fails (MicroPython's I2C errors are OSErrors)."""
        ...

    def inputs(self) -> int:
        """Input levels as a bit mask: bit n set while input n is pressed or touched."""
        ...

    def show_leds(self, rgb: bytes) -> None:
        """Show ``rgb`` (3 bytes per pixel, ``led_count`` pixels). Raises OSError on failure."""
        ...

    def idle(self, ms: int) -> None:
        """Wait at most ``ms`` (returning early when bytes arrive is fine)."""
        ...
