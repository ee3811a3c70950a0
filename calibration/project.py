"""Floor polygons (zones) in image pixels, for the technician overlay.

Each edge of the polygon is cut into short pieces first, so a zone that runs out of the picture
or behind the camera is drawn as far as it is visible rather than as a wrong straight line.
Points behind the camera (or closer than ``near_m``) are dropped.

Example:
    >>> from exhibit.depth.geometry import FloorPose
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> pose = FloorPose.from_angles(2.0, 45.0, 0.0)
    >>> [(round(u, 1), round(v, 1)) for u, v in project_floor_points(pose, PRIMESENSE, [(0, 2)])]
    [(319.5, 239.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics

NEAR_M = 0.05
STEP_M = 0.05


def project_floor_points(
    pose: FloorPose, k: Intrinsics, points_m: Sequence[Sequence[float]], near_m: float = NEAR_M
) -> list[tuple[float, float]]:
    """Floor-frame (x, y) points in metres -> image (u, v) pixels; points behind the camera
    are left out."""
    if not points_m:
        return []
    xy = np.asarray(points_m, dtype=np.float64).reshape(-1, 2)
    cam = pose.floor_to_camera(np.column_stack((xy, np.zeros(len(xy)))))
    keep = cam[:, 2] > near_m
    cam = cam[keep]
    u = k.fx * cam[:, 0] / cam[:, 2] + k.cx
    v = k.fy * cam[:, 1] / cam[:, 2] + k.cy
    return [(float(a), float(b)) for a, b in zip(u, v, strict=True)]


def project_floor_polygon(
    pose: FloorPose,
    k: Intrinsics,
    polygon_m: Sequence[Sequence[float]],
    step_m: float = STEP_M,
) -> list[tuple[float, float]]:
    """A closed floor polygon (x, y in metres) -> its outline in image pixels, densified every
    ``step_m`` so the outline stays right under perspective; the visible part only."""
    dense: list[tuple[float, float]] = []
    n = len(polygon_m)
    for i in range(n):
        (x0, y0), (x1, y1) = polygon_m[i], polygon_m[(i + 1) % n]
        pieces = max(1, int(np.hypot(x1 - x0, y1 - y0) / step_m))
        for j in range(pieces):
            t = j / pieces
            dense.append((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    return project_floor_points(pose, k, dense)
