"""Zones by walking them: the technician stands still at each corner; the stops become corners.

Input is a track of floor positions over time, either a CSV (``t_s,x_m,y_m`` per line; a
header line is allowed) written by any tracker, or derived from a recorded depth sequence and
the floor calibration (:func:`track_from_depth`: the points between ``min_height_m`` and
``max_height_m`` above the floor, not the floor itself, are the technician; their median floor
position per frame is the track). A "stop" is a stretch of at least ``hold_s`` during which
the position stays within ``radius_m`` of where it began; each stop's median position is one
corner, in the order walked.

Example:
    >>> track = [(t * 0.1, 0.0, 1.0) for t in range(30)] + [(3.0 + t * 0.1, 1.0, 1.0)
    ...          for t in range(30)] + [(6.0 + t * 0.1, 0.5, 2.0) for t in range(30)]
    >>> find_stops(track, hold_s=2.0)
    [(0.0, 1.0), (1.0, 1.0), (0.5, 2.0)]
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from exhibit.depth.errors import DepthError
from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.landmarks import point_cloud_m
from exhibit.errors import ExhibitError

Sample = tuple[float, float, float]  # t_s, x_m, y_m
HOLD_S = 2.0
RADIUS_M = 0.15
MIN_HEIGHT_M = 0.3
MAX_HEIGHT_M = 2.2
MIN_PERSON_POINTS = 200


class ZoneCaptureError(ExhibitError):
    """The walked track does not give a usable zone (too few stops, unreadable file)."""


def read_track_csv(path: str | Path) -> list[Sample]:
    """``t_s,x_m,y_m`` lines -> samples; errors name the file and line."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ZoneCaptureError(f"{file}: cannot be read ({exc})") from exc
    samples: list[Sample] = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or (number == 1 and row[0].strip().lower().startswith("t")):
            continue
        try:
            t, x, y = (float(v) for v in row[:3])
        except ValueError as exc:
            raise ZoneCaptureError(
                f"{file}:{number}: expected t_s,x_m,y_m numbers (got {','.join(row)})"
            ) from exc
        samples.append((t, x, y))
    return samples


def find_stops(
    track: Sequence[Sample], hold_s: float = HOLD_S, radius_m: float = RADIUS_M
) -> list[tuple[float, float]]:
    """The places the track stayed within ``radius_m`` for at least ``hold_s``, in order."""
    stops: list[tuple[float, float]] = []
    i = 0
    n = len(track)
    while i < n:
        t0, x0, y0 = track[i]
        j = i
        while j + 1 < n and np.hypot(track[j + 1][1] - x0, track[j + 1][2] - y0) <= radius_m:
            j += 1
        if track[j][0] - t0 >= hold_s - 1e-9:
            xs = [s[1] for s in track[i : j + 1]]
            ys = [s[2] for s in track[i : j + 1]]
            stops.append((round(float(np.median(xs)), 3), round(float(np.median(ys)), 3)))
            i = j + 1
        else:
            i += 1
    return stops


def person_position(
    frame: DepthFrame,
    pose: FloorPose,
    min_height_m: float = MIN_HEIGHT_M,
    max_height_m: float = MAX_HEIGHT_M,
    min_points: int = MIN_PERSON_POINTS,
) -> tuple[float, float] | None:
    """Where the one person in view stands (floor x, y in metres), or None when nobody is."""
    points = pose.camera_to_floor(point_cloud_m(frame.depth_mm, frame.intrinsics, stride=2))
    body = points[(points[:, 2] >= min_height_m) & (points[:, 2] <= max_height_m)]
    if len(body) < min_points:
        return None
    return float(np.median(body[:, 0])), float(np.median(body[:, 1]))


def track_from_depth(frames: Iterable[DepthFrame], pose: FloorPose) -> list[Sample]:
    """The technician's track from depth frames (frames with nobody in view are skipped)."""
    track: list[Sample] = []
    for frame in frames:
        try:
            pos = person_position(frame, pose)
        except DepthError:
            continue
        if pos is not None:
            track.append((frame.t_s, pos[0], pos[1]))
    return track


def zone_toml(name: str, corners: Sequence[tuple[float, float]]) -> str:
    """The ``[zones.NAME]`` table to paste into the config."""
    if len(corners) < 3:
        raise ZoneCaptureError(
            f"zone {name!r}: only {len(corners)} corner(s) found; stand still for the hold "
            "time at each of at least 3 corners, in order around the zone"
        )
    pts = ", ".join(f"[{x:g}, {y:g}]" for x, y in corners)
    return f"[zones.{name}]\npolygon_m = [{pts}]\n"
