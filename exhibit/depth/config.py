"""``[calibration]`` in the config: where the floor calibration lives, and how far the camera
may move before ``exhibit calibrate verify`` says it has moved; ``[depth]``: the live depth
camera ``exhibit run`` pairs with the colour frames (exhibit/depth/live.py).

Example:
    >>> from exhibit.config.checker import Checker
    >>> parse_calibration({"file": "floor.json"}, "calibration", Checker()).file
    'floor.json'
    >>> parse_depth({"device": "realsense"}, "depth", Checker()).device
    'realsense'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exhibit.config.checker import Checker

CALIBRATION_KEYS = ("file", "max_angle_change_deg", "max_height_change_m")
DEPTH_KEYS = ("device", "serial", "width_px", "height_px", "fps", "max_age_s")
DEPTH_DEVICES = ("none", "realsense", "oakd")


@dataclass(frozen=True)
class CalibrationConfig:
    """``file`` is relative to the config's folder; tolerances as in calibration/verify.py."""

    file: str = "calibration.json"
    max_angle_change_deg: float = 1.5
    max_height_change_m: float = 0.03


def parse_calibration(table: Mapping[str, Any], path: str, c: Checker) -> CalibrationConfig:
    """``[calibration]`` -> :class:`CalibrationConfig`, every problem reported through ``c``."""
    d = CalibrationConfig()
    c.unknown_keys(table, path, CALIBRATION_KEYS)
    return CalibrationConfig(
        file=c.string(table, path, "file", d.file) or d.file,
        max_angle_change_deg=c.number(
            table,
            path,
            "max_angle_change_deg",
            d.max_angle_change_deg,
            minimum=0.0,
            exclusive_minimum=True,
            unit="degrees",
        ),
        max_height_change_m=c.number(
            table,
            path,
            "max_height_change_m",
            d.max_height_change_m,
            minimum=0.0,
            exclusive_minimum=True,
            unit="metres",
        ),
    )


@dataclass(frozen=True)
class DepthConfig:
    """``[depth]``: the live depth camera of ``exhibit run`` (``device = "none"``: none).

    ``serial`` picks one camera when several are plugged in (empty: the first found);
    ``width_px``/``height_px``/``fps`` the depth stream asked of the device (aligned to its
    colour camera); ``max_age_s``: a depth frame older than this when a colour frame comes is
    not paired (the visitor is placed by the feet instead), so a stalled device never places
    visitors where they stood seconds ago.
    """

    device: str = "none"
    serial: str = ""
    width_px: int = 640
    height_px: int = 480
    fps: int = 30
    max_age_s: float = 0.5


def parse_depth(table: Mapping[str, Any], path: str, c: Checker) -> DepthConfig:
    """``[depth]`` -> :class:`DepthConfig`, every problem reported through ``c``. Whether the
    device's Python package is installed is checked here too (a warning, so ``exhibit check``
    says it on a machine without it; ``exhibit run`` then stops with the same advice)."""
    d = DepthConfig()
    c.unknown_keys(table, path, DEPTH_KEYS)
    serial = table.get("serial", d.serial)
    if not isinstance(serial, str):
        c.error(f"{path}.serial", "not a string", serial, 'the camera\'s serial, e.g. "123456"')
        serial = d.serial
    cfg = DepthConfig(
        device=c.choice(table, path, "device", d.device, DEPTH_DEVICES),
        serial=serial,
        width_px=c.integer(table, path, "width_px", d.width_px, minimum=16, maximum=4096),
        height_px=c.integer(table, path, "height_px", d.height_px, minimum=16, maximum=4096),
        fps=c.integer(table, path, "fps", d.fps, minimum=1, maximum=300),
        max_age_s=c.number(
            table,
            path,
            "max_age_s",
            d.max_age_s,
            minimum=0.0,
            exclusive_minimum=True,
            unit="seconds",
        ),
    )
    if cfg.device != "none":
        from exhibit.depth.devices import missing_driver

        missing = missing_driver(cfg.device)
        if missing is not None:
            c.warnings.append(f"{path}.device: {missing}")
    return cfg
