"""Floor calibration: find the floor in depth, and keep the result across power cuts.

The fit is RANSAC on the depth image's points (3 points per hypothesis, a seeded generator so
a recording always gives the same answer), restricted to planes a floor can be: below the
camera, with a normal within ``max_tilt_deg`` of the camera's "down" (this rejects walls facing
the camera and ceilings). Of the hypotheses with at least half of the best's support, the
lowest wins, so a big table does not pass for the floor. Then least squares (SVD) on the
inliers, twice, each time taking the inliers again. From the plane come the camera's height,
pitch and roll (:mod:`exhibit.depth.geometry`) and the camera -> floor transform.

Saved as JSON (:func:`save_calibration`) through :func:`exhibit.atomic.write_atomic` with the
previous file kept as ``NAME.bak``; :func:`load_calibration` never guesses: a corrupt file is a
:class:`CalibrationFileError` that says whether the backup is good and how to restore it.

Example:
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> from exhibit.synth.depth import DepthScene, FloorPose, render_depth
    >>> depth = render_depth(DepthScene(FloorPose.from_angles(2.2, 40.0, 3.0), PRIMESENSE))
    >>> fit = fit_floor(depth, PRIMESENSE)
    >>> round(fit.height_m, 2), round(fit.pitch_deg), round(fit.roll_deg)
    (2.2, 40, 3)
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from exhibit.atomic import backup_path, write_text_atomic
from exhibit.depth.errors import FloorNotVisibleError
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.landmarks import point_cloud_m
from exhibit.errors import ExhibitError

FORMAT_VERSION = 1
MIN_VALID_FRACTION = 0.05
MIN_FLOOR_FRACTION = 0.05
MAX_POINTS = 20000
# Up to this range the fixed inlier threshold holds; beyond it, it widens with depth squared.
NOISE_FREE_RANGE_M = 2.0
# A lower plane with at least this share of the best plane's support is taken as the floor.
LOWER_PLANE_SHARE = 0.5
PARALLEL_DEG = 10.0
# Half the RANSAC hypotheses take their three points within this distance of each other.
LOCAL_RADIUS_M = 0.75
RANSAC_POINTS = 3000
MIN_ITERATIONS = 100


class CalibrationFileError(ExhibitError):
    """A calibration file is missing or corrupt; the message says what the backup holds."""


@dataclass(frozen=True)
class FitSettings:
    """RANSAC and acceptance settings (defaults suit a ceiling or wall camera 1-4 m up)."""

    threshold_m: float = 0.03
    iterations: int = 1000
    max_tilt_deg: float = 75.0
    min_valid_fraction: float = MIN_VALID_FRACTION
    min_floor_fraction: float = MIN_FLOOR_FRACTION
    max_points: int = MAX_POINTS
    seed: int = 0


@dataclass(frozen=True, eq=False)
class FloorFit:
    """A fitted floor: the pose, residual RMS of inliers (m), inlier fraction of the valid
    depth pixels, the floor's share of the whole image, and the valid-depth share."""

    pose: FloorPose
    residual_m: float
    inlier_fraction: float
    floor_fraction: float
    valid_fraction: float

    @property
    def height_m(self) -> float:
        return self.pose.height_m

    @property
    def pitch_deg(self) -> float:
        return self.pose.pitch_deg

    @property
    def roll_deg(self) -> float:
        return self.pose.roll_deg


def _plane(
    points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], float]:
    """Weighted least-squares plane through ``points``: unit normal n and d with n.p + d = 0,
    oriented so the camera (origin) is on the positive side (d > 0)."""
    w = weights / weights.sum()
    centroid = w @ points
    _, _, vt = np.linalg.svd((points - centroid) * np.sqrt(w)[:, None], full_matrices=False)
    n = vt[2]
    d = -float(n @ centroid)
    if d < 0:
        n, d = -n, -d
    return n, d


def _not_visible(valid: float, floor: float, why: str) -> FloorNotVisibleError:
    return FloorNotVisibleError(
        f"floor not visible: {why} (valid depth in {valid:.0%} of the image, floor in "
        f"{floor:.0%}); tilt the camera down so the floor fills at least a third of the view, "
        "clear the floor in front of it, and check that the depth stream is running",
        valid,
        floor,
    )


def fit_floor(
    depth_mm: npt.NDArray[np.uint16], k: Intrinsics, settings: FitSettings | None = None
) -> FloorFit:
    """Fit the floor in one depth image (uint16 mm); raises FloorNotVisibleError with the
    fractions seen when there is too little depth or too little floor."""
    s = settings or FitSettings()
    total = depth_mm.size
    valid_count = int(np.count_nonzero(depth_mm))
    valid = valid_count / total if total else 0.0
    if valid < s.min_valid_fraction:
        raise _not_visible(valid, 0.0, "almost no depth readings")
    stride = max(1, int(math.sqrt(valid_count / s.max_points)))
    points = point_cloud_m(depth_mm, k, stride)
    if len(points) < 3:
        raise _not_visible(valid, 0.0, "too few depth readings")
    rng = np.random.default_rng(s.seed)
    # Hypotheses are scored on a random subset (fast); the refinement below uses every point.
    sample = points[rng.choice(len(points), min(len(points), RANSAC_POINTS), replace=False)]
    down = np.array([0.0, 1.0, 0.0])
    spread0 = np.maximum(1.0, (sample[:, 2] / NOISE_FREE_RANGE_M) ** 2)
    weight0 = 1.0 / spread0  # far points are noisier: they count for less
    band0 = s.threshold_m * spread0
    cos_tilt = math.cos(math.radians(s.max_tilt_deg))
    candidates: list[tuple[float, float, npt.NDArray[np.float64]]] = []
    needed = s.iterations
    best_share = 0.0
    i = 0
    while i < min(needed, s.iterations):
        i += 1
        a = sample[rng.integers(len(sample))]
        if i % 2:  # every other hypothesis from a neighbourhood: likelier all on one surface
            near = sample[np.sum((sample - a) ** 2, axis=1) < LOCAL_RADIUS_M**2]
            if len(near) < 3:
                continue
            b, c = near[rng.choice(len(near), 2, replace=False)]
        else:
            b, c = sample[rng.choice(len(sample), 2, replace=False)]
        n = np.cross(b - a, c - a)
        norm = float(np.linalg.norm(n))
        if norm < 1e-12:
            continue
        n /= norm
        d = -float(n @ a)
        if d < 0:
            n, d = -n, -d
        # n points from the plane towards the camera: for a floor, "up" = -down in camera axes.
        if float(-n @ down) < cos_tilt:
            continue
        inside = np.abs(sample @ n + d) < band0
        score = float(np.sum(weight0[inside]))
        candidates.append((score, d, n))
        share = float(np.count_nonzero(inside)) / len(sample)
        if share > best_share:
            # Stop once a better plane is unlikely to be missed (99.9 %, global triplets only)
            best_share = share
            miss = 1.0 - 0.5 * min(share, 0.999) ** 3
            needed = max(MIN_ITERATIONS, int(math.log(0.001) / math.log(miss)) + 1)
    if not candidates:
        raise _not_visible(valid, 0.0, "no plane below the camera")
    best_score, d, n = max(candidates, key=lambda x: x[0])
    # A table top is a floor-like plane above the floor: if a parallel plane lies lower with
    # a fair share of the support, that is the floor.
    parallel = math.cos(math.radians(PARALLEL_DEG))
    lower = [
        cand
        for cand in candidates
        if cand[0] >= LOWER_PLANE_SHARE * best_score
        and float(cand[2] @ n) > parallel
        and cand[1] > d + 3 * s.threshold_m
    ]
    if lower:
        _, d, n = max(lower, key=lambda x: x[0])
    # Depth noise grows with the square of the distance: far points get a wider inlier band
    # and a smaller weight (inverse variance), else the cut-off band biases the plane.
    spread = np.maximum(1.0, (points[:, 2] / NOISE_FREE_RANGE_M) ** 2)
    band = s.threshold_m * spread
    weights = 1.0 / spread**2
    for _ in range(3):
        inside = np.abs(points @ n + d) < band
        if np.count_nonzero(inside) < 3:
            break
        n, d = _plane(points[inside], weights[inside])
    distances = points @ n + d
    mask = np.abs(distances) < band
    inlier_fraction = float(np.count_nonzero(mask)) / len(points)
    floor = inlier_fraction * valid
    if floor < s.min_floor_fraction:
        raise _not_visible(valid, floor, "too little of the image is one floor plane")
    if float(-n @ down) < cos_tilt:
        raise _not_visible(
            valid, 0.0, f"the best plane is tilted more than {s.max_tilt_deg:g} deg (a wall?)"
        )
    residual = float(np.sqrt(np.mean(distances[mask] ** 2)))
    return FloorFit(FloorPose(d, n), residual, inlier_fraction, floor, valid)


def median_depth(frames: list[npt.NDArray[np.uint16]]) -> npt.NDArray[np.uint16]:
    """The per-pixel median of several frames, ignoring holes (a pixel that is a hole in
    every frame stays a hole): steadier than any one frame and fills most holes."""
    if len(frames) == 1:
        return frames[0]
    stack = np.stack(frames).astype(np.float64)
    stack[stack == 0] = np.nan
    # nanmedian warns "All-NaN slice" for pixels that are holes in every frame: expected here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(stack, axis=0)
    out: npt.NDArray[np.uint16] = np.nan_to_num(np.round(med), nan=0.0).astype(np.uint16)
    return out


@dataclass(frozen=True, eq=False)
class Calibration:
    """A saved floor calibration: the fit, the intrinsics it was made with, when (UTC, ISO
    8601, from the technician's machine) and from what."""

    fit: FloorFit
    intrinsics: Intrinsics
    created_utc: str
    source: str = ""
    frames: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pose(self) -> FloorPose:
        return self.fit.pose

    def to_dict(self) -> dict[str, Any]:
        pose = self.fit.pose
        return {
            "version": FORMAT_VERSION,
            "created_utc": self.created_utc,
            "device_serial": self.intrinsics.serial,
            "source": self.source,
            "frames": self.frames,
            "height_m": round(pose.height_m, 5),
            "pitch_deg": round(pose.pitch_deg, 4),
            "roll_deg": round(pose.roll_deg, 4),
            "residual_m": round(self.fit.residual_m, 5),
            "inlier_fraction": round(self.fit.inlier_fraction, 4),
            "floor_fraction": round(self.fit.floor_fraction, 4),
            "valid_fraction": round(self.fit.valid_fraction, 4),
            "floor_normal": [round(float(v), 8) for v in pose.up],
            "origin_m": list(pose.origin_m),
            "camera_to_floor": [[round(float(v), 8) for v in row] for row in pose.matrix()],
            "intrinsics": self.intrinsics.to_dict(),
            **self.extra,
        }


def save_calibration(path: str | Path, calibration: Calibration) -> None:
    """Write atomically, keeping the previous file as ``NAME.bak``."""
    text = json.dumps(calibration.to_dict(), indent=2) + "\n"
    write_text_atomic(path, text, backup=True)


def _parse(raw: Any, where: str) -> Calibration:
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    if raw.get("version") != FORMAT_VERSION:
        raise ValueError(f"version {raw.get('version')!r}, expected {FORMAT_VERSION}")
    normal = raw["floor_normal"]
    if not (isinstance(normal, list) and len(normal) == 3):
        raise ValueError("floor_normal is not 3 numbers")
    up = np.array([float(v) for v in normal])
    if not np.all(np.isfinite(up)) or abs(float(np.linalg.norm(up)) - 1.0) > 1e-3:
        raise ValueError("floor_normal is not a unit vector")
    height = float(raw["height_m"])
    if not math.isfinite(height) or height <= 0:
        raise ValueError(f"height_m must be > 0 (got {height})")
    ox, oy = (float(v) for v in raw.get("origin_m", (0.0, 0.0)))
    intr = dict(raw["intrinsics"])
    if raw.get("device_serial") is not None:
        intr.setdefault("serial", raw["device_serial"])
    k = Intrinsics.from_mapping(intr, f"{where}: intrinsics")
    fit = FloorFit(
        FloorPose(height, up, (ox, oy)),
        float(raw["residual_m"]),
        float(raw["inlier_fraction"]),
        float(raw.get("floor_fraction", 0.0)),
        float(raw.get("valid_fraction", 0.0)),
    )
    return Calibration(
        fit, k, str(raw["created_utc"]), str(raw.get("source", "")), int(raw.get("frames", 1))
    )


def _read(path: Path) -> Calibration:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("not text") from exc
    try:
        return _parse(raw, str(path))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing or malformed key {exc}") from exc
    except ExhibitError as exc:
        raise ValueError(str(exc)) from exc


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration; when it is missing or corrupt, raise CalibrationFileError saying
    whether ``NAME.bak`` is usable (and from when) and the command that restores it. The
    corrupt file is left as it is for inspection."""
    file = Path(path)
    if not file.exists():
        raise CalibrationFileError(
            f"{file}: no calibration; run: exhibit calibrate floor DEPTH -o {file}"
        )
    try:
        return _read(file)
    except (ValueError, OSError) as exc:
        problem = str(exc)
    raise CalibrationFileError(f"{file}: corrupt calibration ({problem}); {backup_advice(file)}")


def backup_advice(file: Path) -> str:
    """What to do about a corrupt ``file``, from what its backup holds."""
    bak = backup_path(file)
    if not bak.exists():
        return f"no backup ({bak.name}) to fall back on: run exhibit calibrate floor again"
    try:
        good = _read(bak)
    except (ValueError, OSError) as exc:
        return f"its backup {bak} is unusable too ({exc}): run exhibit calibrate floor again"
    return (
        f"its backup {bak} is good (from {good.created_utc}, camera height "
        f"{good.fit.height_m:.2f} m): restore it with  cp {bak} {file}  "
        "or run exhibit calibrate floor again"
    )
