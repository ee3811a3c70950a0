"""Has the camera moved since it was calibrated? A fresh floor fit against the saved one.

A cleaner's mop or a curious child bumps the camera; zones then sit in the wrong place and
nobody notices until visitors complain. ``exhibit calibrate verify`` fits the floor again and
compares: the angle between the two floor normals (how far the camera tilted) and the change
in height. Beyond ``max_angle_deg`` or ``max_height_m`` the camera has moved; a different
device serial is reported too (a swapped camera needs its own calibration).

Example:
    >>> from exhibit.depth.geometry import FloorPose
    >>> before, after = FloorPose.from_angles(2.0, 30.0, 0), FloorPose.from_angles(2.0, 33.0, 0)
    >>> check = compare(before, after)
    >>> check.moved, round(check.angle_deg, 3)
    (True, 3.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from exhibit.depth.geometry import FloorPose

MAX_ANGLE_DEG = 1.5
MAX_HEIGHT_M = 0.03


@dataclass(frozen=True)
class VerifyResult:
    """The change between the saved floor and the one seen now, and the verdict."""

    angle_deg: float
    height_change_m: float
    pitch_change_deg: float
    roll_change_deg: float
    moved: bool
    serial_changed: bool = False

    def describe(self) -> str:
        verdict = "MOVED: recalibrate (exhibit calibrate floor)" if self.moved else "unchanged"
        text = (
            f"camera {verdict}: floor normal turned {self.angle_deg:.2f} deg "
            f"(pitch {self.pitch_change_deg:+.2f}, roll {self.roll_change_deg:+.2f}), "
            f"height {self.height_change_m * 100:+.1f} cm"
        )
        if self.serial_changed:
            text += "; a different camera (serial) than the one calibrated"
        return text


def compare(
    saved: FloorPose,
    now: FloorPose,
    max_angle_deg: float = MAX_ANGLE_DEG,
    max_height_m: float = MAX_HEIGHT_M,
    serial_changed: bool = False,
) -> VerifyResult:
    """Compare the calibrated floor with the one fitted now."""
    angle = saved.angle_to_deg(now)
    dh = now.height_m - saved.height_m
    return VerifyResult(
        angle_deg=angle,
        height_change_m=dh,
        pitch_change_deg=now.pitch_deg - saved.pitch_deg,
        roll_change_deg=now.roll_deg - saved.roll_deg,
        moved=angle > max_angle_deg or abs(dh) > max_height_m or serial_changed,
        serial_changed=serial_changed,
    )
