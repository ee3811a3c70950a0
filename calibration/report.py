"""The calibration report: a text summary and a picture of the floor, zones and camera from
above, for the technician's records and for the next technician who wonders what was done.

The picture (PNG, matplotlib's Agg backend, no display needed) shows the floor points the
fit used (when depth is given), the camera's position and its field of view on the floor, and
every zone with its name and area, in the floor frame (metres; x right, y away from the
camera).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from calibration.floor import Calibration
from exhibit.atomic import write_atomic, write_text_atomic
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.landmarks import point_cloud_m
from exhibit.zones import Zone

VIEW_RANGE_M = 6.0


def summary(calibration: Calibration, zones: Mapping[str, Zone]) -> str:
    """The text report."""
    fit, k = calibration.fit, calibration.intrinsics
    lines = [
        "floor calibration",
        f"  made:            {calibration.created_utc} from {calibration.source or '?'}"
        f" ({calibration.frames} frame(s))",
        f"  camera serial:   {k.serial or 'unknown (recorded depth)'}",
        f"  camera height:   {fit.height_m:.3f} m",
        f"  pitch (down):    {fit.pitch_deg:.2f} deg",
        f"  roll:            {fit.roll_deg:.2f} deg",
        f"  residual (RMS):  {fit.residual_m * 1000:.1f} mm",
        f"  inlier fraction: {fit.inlier_fraction:.3f} of valid depth "
        f"(floor is {fit.floor_fraction:.0%} of the image)",
        f"  intrinsics:      fx {k.fx:g} fy {k.fy:g} cx {k.cx:g} cy {k.cy:g} "
        f"{k.width}x{k.height} (HFOV {k.horizontal_fov_deg():.1f} deg)",
        f"  floor origin:    {calibration.pose.origin_m} m from the point under the camera",
    ]
    if zones:
        lines.append("zones (floor frame, metres)")
        for zone in zones.values():
            corners = " ".join(f"({x:g},{y:g})" for x, y in zone.polygon_m)
            lines.append(f"  {zone.name}: {zone.area_m2():.2f} m2, corners {corners}")
    else:
        lines.append("zones: none configured")
    return "\n".join(lines) + "\n"


def view_outline(
    pose: FloorPose, k: Intrinsics, range_m: float = VIEW_RANGE_M
) -> npt.NDArray[np.float64]:
    """The part of the floor the camera sees (up to ``range_m`` away), as floor (x, y)."""
    edge: list[tuple[float, float]] = []
    w, h = k.width - 1, k.height - 1
    border = (
        [(u, 0.0) for u in np.linspace(0, w, 20)]
        + [(float(w), v) for v in np.linspace(0, h, 20)]
        + [(u, float(h)) for u in np.linspace(w, 0, 20)]
        + [(0.0, v) for v in np.linspace(h, 0, 20)]
    )
    cam = pose.camera_to_floor([[0.0, 0.0, 0.0]])[0]
    rot = pose.rotation()
    for u, v in border:
        ray = rot @ np.array([(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0])
        ray /= np.linalg.norm(ray)
        horizontal = math.hypot(ray[0], ray[1])
        t = -cam[2] / ray[2] if ray[2] < -1e-9 else math.inf
        t = min(t, range_m / horizontal if horizontal > 1e-9 else math.inf)
        if math.isfinite(t):
            edge.append((cam[0] + t * ray[0], cam[1] + t * ray[1]))
    return np.asarray(edge, dtype=np.float64)


def picture_png(
    calibration: Calibration,
    zones: Mapping[str, Zone],
    depth_mm: npt.NDArray[np.uint16] | None = None,
    threshold_m: float = 0.05,
) -> bytes:
    """The top view as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    pose, k = calibration.pose, calibration.intrinsics
    fig = Figure(figsize=(7, 7), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if depth_mm is not None:
        pts = pose.camera_to_floor(point_cloud_m(depth_mm, k, stride=4))
        floor = pts[np.abs(pts[:, 2]) < threshold_m]
        ax.scatter(floor[:, 0], floor[:, 1], s=0.3, c="0.6", label="floor points (depth)")
    outline = view_outline(pose, k)
    if len(outline):
        ax.fill(outline[:, 0], outline[:, 1], alpha=0.12, color="tab:blue", label="camera view")
    cam = pose.camera_to_floor([[0.0, 0.0, 0.0]])[0]
    ax.plot([cam[0]], [cam[1]], marker="^", color="tab:blue", markersize=12, linestyle="")
    ax.annotate(
        f"camera\n{pose.height_m:.2f} m up, pitch {pose.pitch_deg:.1f}°, roll {pose.roll_deg:.1f}°",
        (cam[0], cam[1]),
        textcoords="offset points",
        xytext=(8, -28),
        fontsize=8,
    )
    for i, zone in enumerate(zones.values()):
        poly = np.asarray(zone.polygon_m + zone.polygon_m[:1])
        color = f"C{(i + 1) % 10}"
        ax.plot(poly[:, 0], poly[:, 1], color=color, linewidth=2)
        ax.fill(poly[:-1, 0], poly[:-1, 1], color=color, alpha=0.25)
        cx, cy = poly[:-1].mean(axis=0)
        ax.text(cx, cy, f"{zone.name}\n{zone.area_m2():.2f} m²", ha="center", fontsize=9)
    ax.plot([0], [0], marker="+", color="k", markersize=14)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m, right)")
    ax.set_ylabel("y (m, away from the camera)")
    ax.set_title(f"floor from above — {calibration.created_utc}")
    ax.grid(True, linewidth=0.3)
    ax.legend(loc="upper right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_report(
    calibration: Calibration,
    zones: Mapping[str, Zone],
    text_path: str | Path,
    png_path: str | Path,
    depth_mm: npt.NDArray[np.uint16] | None = None,
) -> None:
    """Write both files atomically, keeping the previous report as ``NAME.bak``."""
    write_text_atomic(text_path, summary(calibration, zones), backup=True)
    write_atomic(png_path, picture_png(calibration, zones, depth_mm), backup=True)
