"""The ``[bridge]`` section: which serial device the microcontroller is, and the link's timing.

::

    [bridge]
    device = "/dev/serial/by-id/usb-MicroPython_Board_in_FS_mode_e6614c311b7e6f35-if00"
    baud = 115200              # ignored by USB serial, used by a UART adapter
    heartbeat_timeout_s = 3    # no heartbeat this long: the link is stale (device beats at 2 Hz)
    command_timeout_s = 0.5    # an unanswered command times out after this
    reconnect_min_s = 0.5      # first retry after a disconnect; doubles up to ...
    reconnect_max_s = 10

``device`` may also be a pyserial URL (``socket://localhost:7000``, ``spy://...``, ``loop://``;
see ``urls``). A device that is missing, or whose path does not exist now, is a *warning*
(``checker.warnings``): the microcontroller may be plugged in later and the link keeps trying.
A malformed path or URL is an error.

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> cfg = parse_bridge({"device": "sockt://localhost:7000"}, "bridge", c)
    >>> print(c.problems[0].replace("; ", ";\\n"))
    bridge.device: unknown URL scheme "sockt" (got "sockt://localhost:7000");
    expected a device path such as "/dev/serial/by-id/usb-..." or a pyserial URL (loop://, \
socket://host:port, rfc2217://host:port, spy://<device>, hwgrep://<regexp>);
    did you mean socket?
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exhibit.config.checker import Checker, join, show
from firmware_bridge.urls import EXPECTED, check_device_url, device_path_of

BRIDGE_KEYS = (
    "device",
    "baud",
    "heartbeat_timeout_s",
    "command_timeout_s",
    "reconnect_min_s",
    "reconnect_max_s",
)
FIRMWARE_HEARTBEAT_S = 0.5
"""The reference firmware's heartbeat period (firmware/main.py HEARTBEAT_MS)."""
_UNSTABLE_NAME = re.compile(r"^/dev/tty(ACM|USB)[0-9]+$")


@dataclass(frozen=True)
class BridgeConfig:
    """The validated ``[bridge]`` section; ``device`` None means no bridge is configured."""

    device: str | None = None
    baud: int = 115200
    heartbeat_timeout_s: float = 3.0
    command_timeout_s: float = 0.5
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0


def parse_bridge(table: Mapping[str, Any], path: str, checker: Checker) -> BridgeConfig:
    """Read a ``[bridge]`` table; problems and warnings go to ``checker`` with their paths."""
    c = checker
    d = BridgeConfig()
    device = _device(table, path, c)
    baud = c.integer(table, path, "baud", d.baud, minimum=300, maximum=4_000_000)
    heartbeat = c.number(
        table,
        path,
        "heartbeat_timeout_s",
        d.heartbeat_timeout_s,
        minimum=2 * FIRMWARE_HEARTBEAT_S,
        maximum=60,
        unit="seconds (the firmware beats every 0.5 s)",
    )
    command = c.number(
        table,
        path,
        "command_timeout_s",
        d.command_timeout_s,
        minimum=0,
        exclusive_minimum=True,
        maximum=30,
        unit="seconds",
    )
    low = c.number(
        table,
        path,
        "reconnect_min_s",
        d.reconnect_min_s,
        minimum=0,
        exclusive_minimum=True,
        maximum=60,
        unit="seconds",
    )
    high = c.number(
        table, path, "reconnect_max_s", d.reconnect_max_s, minimum=0.01, maximum=600, unit="seconds"
    )
    if ("reconnect_min_s" in table or "reconnect_max_s" in table) and high < low:
        c.error(
            join(path, "reconnect_max_s"),
            "smaller than reconnect_min_s",
            table.get("reconnect_max_s", high),
            f"a value >= reconnect_min_s ({low:g})",
        )
        high = low
    c.unknown_keys(table, path, BRIDGE_KEYS)
    return BridgeConfig(
        device=device,
        baud=baud,
        heartbeat_timeout_s=heartbeat,
        command_timeout_s=command,
        reconnect_min_s=low,
        reconnect_max_s=high,
    )


def _device(table: Mapping[str, Any], path: str, c: Checker) -> str | None:
    where = join(path, "device")
    if "device" not in table:
        if table:  # a [bridge] section without its device: probably a mistake
            c.warnings.append(f"{where}: missing; the bridge stays off; expected {EXPECTED}")
        return None
    value = table["device"]
    problem = check_device_url(value)
    if problem is not None:
        c.error(where, problem.what, value, problem.expected, problem.did_you_mean)
        return None
    assert isinstance(value, str)
    file = device_path_of(value)
    if file is not None and not os.path.exists(file):
        c.warnings.append(
            f"{where}: not present now (got {show(value)}); the link will keep trying to open "
            "it: plug the microcontroller in, or check the name under /dev/serial/by-id/"
        )
    elif file is not None and _UNSTABLE_NAME.match(file):
        c.warnings.append(
            f"{where}: {file} may name another device after a replug or reboot (got "
            f"{show(value)}); expected the stable name under /dev/serial/by-id/"
        )
    return value
