"""Control of the running exhibit from outside: OSC commands in (``osc_in``)."""

from __future__ import annotations

from exhibit.control.osc_in import (
    ControlCommand,
    ControlConfig,
    OscControlServer,
    StatusRequest,
    parse_control,
    parse_control_packet,
)

__all__ = [
    "ControlCommand",
    "ControlConfig",
    "OscControlServer",
    "StatusRequest",
    "parse_control",
    "parse_control_packet",
]
