"""The camera's pose over the floor, and moving points between camera and floor frames.

Camera frame: OpenCV's (x right, y down, z forward), metres. Floor frame: origin on the floor
right under the camera (or at a chosen point, e.g. the screen's centre), z up, y the camera's
viewing direction projected onto the floor, x to the right; metres.

The pose is the floor's unit normal ``up`` seen from the camera (pointing from the floor to the
camera) and the camera's ``height_m`` above the floor. The angles a technician reads:

- ``pitch_deg``: how far the camera looks down, ``asin(-up_z)`` (0 = level, 90 = straight
  down; negative = looking up).
- ``roll_deg``: rotation about the optical axis, ``atan2(up_x, -up_y)``; positive when the
  camera's right side is higher than its left.

Example:
    >>> pose = FloorPose.from_angles(height_m=2.0, pitch_deg=30.0, roll_deg=-5.0)
    >>> round(pose.pitch_deg, 6), round(pose.roll_deg, 6)
    (30.0, -5.0)
    >>> [round(v, 6) + 0.0 for v in pose.camera_to_floor([[0.0, 0.0, 0.0]])[0]]
    [0.0, 0.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def up_vector(pitch_deg: float, roll_deg: float) -> Array:
    """The floor's up direction in camera coordinates for a camera at this pitch and roll."""
    p, r = math.radians(pitch_deg), math.radians(roll_deg)
    return np.array([math.sin(r) * math.cos(p), -math.cos(r) * math.cos(p), -math.sin(p)])


@dataclass(frozen=True, eq=False)
class FloorPose:
    """The floor plane ``up . p + height_m = 0`` in camera coordinates, and the floor frame
    (its origin shifted by ``origin_m``, a point given in the under-the-camera floor frame)."""

    height_m: float
    up: Array
    origin_m: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def from_angles(
        cls,
        height_m: float,
        pitch_deg: float,
        roll_deg: float,
        origin_m: tuple[float, float] = (0.0, 0.0),
    ) -> FloorPose:
        return cls(height_m, up_vector(pitch_deg, roll_deg), origin_m)

    @property
    def pitch_deg(self) -> float:
        return math.degrees(math.asin(max(-1.0, min(1.0, -float(self.up[2])))))

    @property
    def roll_deg(self) -> float:
        return math.degrees(math.atan2(float(self.up[0]), -float(self.up[1])))

    def rotation(self) -> Array:
        """Rows: the floor frame's x, y, z axes in camera coordinates."""
        up = self.up / np.linalg.norm(self.up)
        forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
        if np.linalg.norm(forward) < 1e-9:  # looking straight down: image "up" is forward
            forward = np.array([0.0, -1.0, 0.0]) - up[1] * up
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, up)
        return np.vstack((right, forward, up))

    def camera_to_floor(self, points: Sequence[Sequence[float]] | Array) -> Array:
        """(N, 3) camera-frame points -> (N, 3) floor-frame points."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        floor = (p + self.height_m * self.up) @ self.rotation().T
        floor[:, 0] -= self.origin_m[0]
        floor[:, 1] -= self.origin_m[1]
        return floor

    def floor_to_camera(self, points: Sequence[Sequence[float]] | Array) -> Array:
        """(N, 3) floor-frame points -> (N, 3) camera-frame points."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3).copy()
        p[:, 0] += self.origin_m[0]
        p[:, 1] += self.origin_m[1]
        return p @ self.rotation() - self.height_m * self.up

    def matrix(self) -> Array:
        """The 4x4 homogeneous transform camera -> floor."""
        m = np.eye(4)
        m[:3, :3] = self.rotation()
        m[:3, 3] = self.camera_to_floor([[0.0, 0.0, 0.0]])[0]
        return m

    def angle_to_deg(self, other: FloorPose) -> float:
        """The angle between the two floors' normals (how far the camera has tilted)."""
        c = float(np.dot(self.up, other.up) / (np.linalg.norm(self.up) * np.linalg.norm(other.up)))
        return math.degrees(math.acos(max(-1.0, min(1.0, c))))
