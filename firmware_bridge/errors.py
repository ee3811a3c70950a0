"""The bridge's exceptions, part of the project's one hierarchy (``exhibit.errors``).

The link itself never raises into its caller once built (it reports through ``health()``);
these are raised where a mistake must stop things early: a device URL that cannot work, a
simulator that cannot make its pseudo-terminal or its link path.
"""

from __future__ import annotations

from exhibit.errors import ExhibitError


class BridgeError(ExhibitError):
    """Base class of the serial bridge's errors."""


class BridgeUrlError(BridgeError, ValueError):
    """A device path or pyserial URL is malformed (the message says what would be right)."""


class BridgePortError(BridgeError):
    """A serial port cannot be opened, read or written (wraps pyserial's SerialException)."""


class SimulatorError(BridgeError):
    """The firmware simulator cannot start: no pseudo-terminal, or an unusable link path."""
