"""The depth package's errors, under the project's one hierarchy (``exhibit.errors``).

Each says which file or device is at fault and what a technician can do about it.
"""

from __future__ import annotations

from exhibit.errors import ExhibitError, SourceError


class DepthError(SourceError):
    """A depth source (device or recorded sequence) cannot be opened or read."""


class IntrinsicsError(DepthError):
    """Camera intrinsics are missing or invalid; the message names the file and key."""


class DepthDriverMissingError(DepthError):
    """The library for a depth camera (pyrealsense2, depthai) is not installed."""


class FloorNotVisibleError(ExhibitError):
    """Too little of the depth image shows a floor; carries the fraction that was seen."""

    def __init__(self, message: str, valid_fraction: float, floor_fraction: float) -> None:
        super().__init__(message)
        self.valid_fraction = valid_fraction
        self.floor_fraction = floor_fraction
