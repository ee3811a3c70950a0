"""The Skeleton: what a pose source says about one body in one frame.

Landmarks follow MediaPipe Pose's 33-point topology. Image landmarks are normalized to the frame
(x right, y down, both 0..1; z is MediaPipe's relative depth, same scale as x); ``visibility`` is
0..1. World landmarks are MediaPipe's metric estimate in metres, origin between the hips, y down.
Arrays are float64 and never mutated after construction, so frames can be shared freely.

Example:
    >>> import numpy as np

if TYPE_CHECKING:
    from exhibit.sensors.readings import SensorReading
    >>> s = Skeleton(np.zeros((33, 4)), None)
    >>> s.point("left_wrist").shape
    (2,)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from exhibit.sensors.readings import SensorReading

FloatArray = npt.NDArray[np.float64]

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}

# Column indices into Skeleton.landmarks.
X, Y, Z, VIS = 0, 1, 2, 3


@dataclass(frozen=True, slots=True, eq=False)
class Skeleton:
    """One body: ``landmarks`` (33, 4) = x, y, z, visibility; ``world_m`` (33, 3) or None."""

    landmarks: FloatArray
    world_m: FloatArray | None = None

    def __post_init__(self) -> None:
        if self.landmarks.shape != (NUM_LANDMARKS, 4):
            raise ValueError(f"landmarks must be (33, 4), got {self.landmarks.shape}")
        if self.world_m is not None and self.world_m.shape != (NUM_LANDMARKS, 3):
            raise ValueError(f"world_m must be (33, 3), got {self.world_m.shape}")

    def point(self, name: str) -> FloatArray:
        """Normalized image (x, y) of the named landmark."""
        return self.landmarks[LANDMARK_INDEX[name], :2]

    def visibility(self, name: str) -> float:
        return float(self.landmarks[LANDMARK_INDEX[name], VIS])

    def shoulder_width(self) -> float:
        """Distance between the shoulders in normalized image units: the body-size yardstick."""
        ls = self.landmarks[LANDMARK_INDEX["left_shoulder"], :2]
        rs = self.landmarks[LANDMARK_INDEX["right_shoulder"], :2]
        return float(np.hypot(*(ls - rs)))


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything the sources saw at one instant.

    ``t_s`` is seconds on the source's own clock (monotonic, starting near 0); the whole core
    runs on it, never on the wall clock. ``skeletons`` is empty when nobody was found.
    ``sensors`` are the sensor readings (GPIO, the serial bridge) that arrived since the
    previous frame, each with its own time; recordings keep them, so replay fuses the same.
    ``pose_ran`` is False when pose inference was skipped (gated off while nobody is near: no
    skeletons does not mean nobody); ``camera_ok`` False when the camera gave no image (a
    frame made by the clock so the show goes on with the sensors).
    """

    t_s: float
    index: int
    width_px: int
    height_px: int
    skeletons: tuple[Skeleton, ...] = field(default_factory=tuple)
    sensors: tuple[SensorReading, ...] = field(default_factory=tuple)
    pose_ran: bool = True
    camera_ok: bool = True
