"""Metric visitors: where a visitor stands on the floor, how far from the screen, how tall,
and their joints in metres, from the pose landmarks, depth and the floor calibration.

Per landmark (visibility >= ``min_visibility``), depth is the robust window median
(:mod:`exhibit.depth.landmarks`); back-projected and moved into the floor frame. Where depth
has a hole (hair, black clothes, a hand in front of the body at the sensor's minimum range),
MediaPipe's world landmarks fill in: they are metric and hip-centred, with the image's axes,
so a joint is placed at the depth-measured hip centre plus its world offset. Then:

- ``floor_xy_m``: the median of the torso points (shoulders and hips) on the floor, pushed
  ``BODY_HALF_DEPTH_M`` away from the camera (depth sees the front of the body, not its axis).
- ``height_m``: the median height of the face landmarks (nose, eyes, ears) above the floor plus
  ``HEAD_ABOVE_EYES_M`` (eyes to the top of the head of an adult, ~11 cm; +-2 cm between
  people), so +-3 cm or so; ``None`` when the face is out of the picture.
- ``distance_m``: from ``floor_xy_m`` to the screen point (the floor frame's origin when the
  calibration put it at the screen, ``--origin``).

Without a depth camera, :func:`floor_visitor` places the visitor where the ray through their
heels meets the floor plane of a calibration made by hand (a measured camera height and
pitch, ``FloorPose.from_angles``), and takes their height from the world landmarks (heels to
eyes, plus ``HEAD_ABOVE_EYES_M``); docs/calibration.md gives its error.

Pure: no clock, no I/O.

Example:
    >>> import numpy as np
    >>> from exhibit.depth.frame import DepthFrame
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> from exhibit.skeleton import Skeleton
    >>> pose = FloorPose.from_angles(2.0, 30.0, 0.0)
    >>> empty = DepthFrame(0.0, np.zeros((480, 640), np.uint16), PRIMESENSE)
    >>> metric_visitor(Skeleton(np.zeros((33, 4))), empty, pose) is None
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.landmarks import landmark_point_m
from exhibit.skeleton import LANDMARK_INDEX, LANDMARK_NAMES, Skeleton

BODY_HALF_DEPTH_M = 0.1
HEAD_ABOVE_EYES_M = 0.11
MIN_VISIBILITY = 0.5
TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
_HIPS = (LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"])


@dataclass(frozen=True)
class MetricVisitor:
    """One visitor in metres on the floor frame (see the module docstring)."""

    floor_xy_m: tuple[float, float]
    height_m: float | None
    distance_m: float
    joints_m: dict[str, tuple[float, float, float]]
    from_depth: int
    from_world: int


def metric_visitor(
    skeleton: Skeleton,
    frame: DepthFrame,
    pose: FloorPose,
    screen_xy_m: tuple[float, float] = (0.0, 0.0),
    min_visibility: float = MIN_VISIBILITY,
) -> MetricVisitor | None:
    """The visitor in metres, or None when no torso landmark has depth."""
    lm = skeleton.landmarks
    cam: dict[str, npt.NDArray[np.float64]] = {}
    for i, name in enumerate(LANDMARK_NAMES):
        if lm[i, 3] < min_visibility:
            continue
        point = landmark_point_m(frame, float(lm[i, 0]), float(lm[i, 1]))
        if point is not None:
            cam[name] = np.array(point)
    from_depth = len(cam)
    torso = [cam[n] for n in TORSO if n in cam]
    if not torso:
        return None
    from_world = 0
    world = skeleton.world_m
    hips = [cam[n] for n in ("left_hip", "right_hip") if n in cam]
    if world is not None and len(hips) == 2:
        hip_cam = 0.5 * (hips[0] + hips[1])
        hip_world = 0.5 * (world[_HIPS[0]] + world[_HIPS[1]])
        for i, name in enumerate(LANDMARK_NAMES):
            if name not in cam and lm[i, 3] >= min_visibility:
                cam[name] = hip_cam + (world[i] - hip_world)
                from_world += 1
    names = sorted(cam, key=LANDMARK_INDEX.__getitem__)
    floor = pose.camera_to_floor(np.array([cam[n] for n in names]))
    joints = {n: (float(p[0]), float(p[1]), float(p[2])) for n, p in zip(names, floor, strict=True)}
    torso_floor = np.array([joints[n][:2] for n in TORSO if n in joints])
    x, y = (float(v) for v in np.median(torso_floor, axis=0))
    camera_xy = pose.camera_to_floor([[0.0, 0.0, 0.0]])[0][:2]
    away = np.array([x, y]) - camera_xy
    norm = float(np.linalg.norm(away))
    if norm > 1e-9:
        x, y = (float(v) for v in np.array([x, y]) + BODY_HALF_DEPTH_M * away / norm)
    face = [joints[n][2] for n in FACE if n in joints]
    height = float(np.median(face)) + HEAD_ABOVE_EYES_M if face else None
    return MetricVisitor(
        floor_xy_m=(x, y),
        height_m=height,
        distance_m=math.hypot(x - screen_xy_m[0], y - screen_xy_m[1]),
        joints_m=joints,
        from_depth=from_depth,
        from_world=from_world,
    )


HEELS = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")
EYES = ("left_eye", "right_eye")


def pixel_to_floor(
    pose: FloorPose, k: Intrinsics, u: float, v: float
) -> tuple[float, float] | None:
    """Where the ray through pixel (u, v) meets the floor (floor x, y in metres), or None
    when it points at or above the horizon."""
    ray = np.array([(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0])
    down = float(ray @ pose.up)
    if down >= -1e-9:
        return None
    point = ray * (-pose.height_m / down)
    x, y, _ = pose.camera_to_floor(point.reshape(1, 3))[0]
    return float(x), float(y)


def floor_visitor(
    skeleton: Skeleton,
    pose: FloorPose,
    k: Intrinsics,
    screen_xy_m: tuple[float, float] = (0.0, 0.0),
    min_visibility: float = MIN_VISIBILITY,
) -> MetricVisitor | None:
    """The visitor from the image alone: floor position from the feet, height from the world
    landmarks; None when no foot landmark is visible."""
    lm = skeleton.landmarks
    feet = [
        pixel_to_floor(pose, k, float(lm[i, 0]) * k.width - 0.5, float(lm[i, 1]) * k.height - 0.5)
        for i in (LANDMARK_INDEX[n] for n in HEELS)
        if lm[i, 3] >= min_visibility
    ]
    points = [p for p in feet if p is not None]
    if not points:
        return None
    x, y = (float(v) for v in np.median(np.array(points), axis=0))
    height = None
    world = skeleton.world_m
    if world is not None:
        feet_y = max(float(world[LANDMARK_INDEX[n], 1]) for n in HEELS)  # y down: lowest
        eyes_y = float(np.mean([world[LANDMARK_INDEX[n], 1] for n in EYES]))
        height = feet_y - eyes_y + HEAD_ABOVE_EYES_M
    return MetricVisitor(
        floor_xy_m=(x, y),
        height_m=height,
        distance_m=math.hypot(x - screen_xy_m[0], y - screen_xy_m[1]),
        joints_m={},
        from_depth=0,
        from_world=0 if world is None else NUM_WORLD,
    )


NUM_WORLD = len(LANDMARK_NAMES)
