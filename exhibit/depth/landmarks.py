"""A landmark's depth, robust to holes and edges, and back-projection to metres.

Depth cameras leave holes (0) at edges, on black clothes and in sunlight, and a wrist's pixel
often lands on the background just beside the arm. So a landmark's depth is the median of the
readings in a small window around it, ignoring holes; too few readings -> ``None`` rather than a
guess. Back-projection uses the pinhole model in the camera frame (OpenCV axes: x right, y down,
z forward), in metres.

Example:
    >>> import numpy as np
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> depth = np.zeros((480, 640), np.uint16)
    >>> depth[238:242, 318:322] = 2000          # a patch at 2 m, holes around it
    >>> window_depth_m(depth, 319.5, 239.5, window_px=7)
    2.0
    >>> back_project(PRIMESENSE, 319.5, 239.5, 2.0)
    (0.0, 0.0, 2.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from exhibit.depth.frame import DepthFrame
from exhibit.depth.intrinsics import Intrinsics

DEFAULT_WINDOW_PX = 7
MIN_READINGS = 4


def window_depth_m(
    depth_mm: npt.NDArray[np.uint16],
    u: float,
    v: float,
    window_px: int = DEFAULT_WINDOW_PX,
    min_readings: int = MIN_READINGS,
) -> float | None:
    """The median depth (m) of the non-zero readings in a ``window_px`` square around (u, v);
    ``None`` when the point is off the image or fewer than ``min_readings`` are non-zero."""
    h, w = depth_mm.shape
    cu, cv = round(u), round(v)
    if not (0 <= cu < w and 0 <= cv < h):
        return None
    half = max(window_px // 2, 0)
    patch = depth_mm[max(cv - half, 0) : cv + half + 1, max(cu - half, 0) : cu + half + 1]
    readings = patch[patch > 0]
    if readings.size < min(min_readings, patch.size):
        return None
    return float(np.median(readings)) / 1000.0


def back_project(k: Intrinsics, u: float, v: float, z_m: float) -> tuple[float, float, float]:
    """Pixel (u, v) at depth ``z_m`` -> (x, y, z) in metres in the camera frame."""
    return ((u - k.cx) * z_m / k.fx, (v - k.cy) * z_m / k.fy, z_m)


def landmark_point_m(
    frame: DepthFrame, x_norm: float, y_norm: float, window_px: int = DEFAULT_WINDOW_PX
) -> tuple[float, float, float] | None:
    """A MediaPipe landmark (image coordinates normalised to 0..1) -> camera-frame metres,
    or ``None`` when the depth around it is all holes."""
    k = frame.intrinsics
    u, v = x_norm * k.width - 0.5, y_norm * k.height - 0.5
    z = window_depth_m(frame.depth_mm, u, v, window_px)
    return None if z is None else back_project(k, u, v, z)


def point_cloud_m(
    depth_mm: npt.NDArray[np.uint16], k: Intrinsics, stride: int = 1
) -> npt.NDArray[np.float64]:
    """Every non-zero pixel (every ``stride``-th row and column) as an (N, 3) array of
    camera-frame points in metres."""
    sub = depth_mm[::stride, ::stride]
    vs, us = np.nonzero(sub)
    z = sub[vs, us].astype(np.float64) / 1000.0
    u = us.astype(np.float64) * stride
    v = vs.astype(np.float64) * stride
    return np.column_stack(((u - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z))
