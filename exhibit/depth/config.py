"""``[calibration]`` in the config: where the floor calibration lives, and how far the camera
may move before ``exhibit calibrate verify`` says it has moved.

Example:
    >>> from exhibit.config.checker import Checker
    >>> parse_calibration({"file": "floor.json"}, "calibration", Checker()).file
    'floor.json'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exhibit.config.checker import Checker

CALIBRATION_KEYS = ("file", "max_angle_change_deg", "max_height_change_m")


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
