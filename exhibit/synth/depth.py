"""Rendered depth frames: a floor at a known camera pose, with sensor noise, holes and a
standing person, so floor calibration and zones are tested against the truth.

The floor is ray-cast exactly from the :class:`~exhibit.depth.geometry.FloorPose`; then, as a
real structured-light or stereo camera does, depth noise grows with the square of the distance
(``noise_m_at_1m`` is the standard deviation at 1 m), readings beyond ``max_range_m`` are holes,
a fraction ``hole_fraction`` of pixels drops out in blobs, and a person (a vertical cylinder,
``person_height_m`` tall, ``person_radius_m`` wide, standing at ``person_at_m`` on the floor)
hides the floor behind them. Seeded: the same arguments give the same image.

Example:
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> scene = DepthScene(FloorPose.from_angles(2.0, 35.0, 0.0), PRIMESENSE)
    >>> depth = render_depth(scene)
    >>> depth.dtype.name, depth.shape
    ('uint16', (480, 640))
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics


@dataclass(frozen=True, eq=False)
class DepthScene:
    """What to render; see the module docstring for each knob."""

    pose: FloorPose
    intrinsics: Intrinsics
    noise_m_at_1m: float = 0.002
    max_range_m: float = 6.0
    hole_fraction: float = 0.05
    person_at_m: tuple[float, float] | None = None
    person_height_m: float = 1.7
    person_radius_m: float = 0.22
    seed: int = 0


def _rays(k: Intrinsics) -> npt.NDArray[np.float64]:
    """One ray per pixel with z = 1, shape (H, W, 3)."""
    u, v = np.meshgrid(np.arange(k.width, dtype=np.float64), np.arange(k.height, dtype=np.float64))
    return np.dstack(((u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u)))


def render_depth(scene: DepthScene) -> npt.NDArray[np.uint16]:
    """The depth image (uint16 mm, 0 = hole) of ``scene``."""
    k, pose = scene.intrinsics, scene.pose
    rng = np.random.default_rng(scene.seed)
    rays = _rays(k)
    up = pose.up / np.linalg.norm(pose.up)
    down = rays @ up  # < 0 for rays that go down towards the floor
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(down < -1e-9, -pose.height_m / down, np.inf)
    if scene.person_at_m is not None:
        z = np.minimum(z, _person_depth(scene, rays))
    noisy = z + rng.normal(0.0, 1.0, z.shape) * scene.noise_m_at_1m * np.where(
        np.isfinite(z), z * z, 0.0
    )
    valid = np.isfinite(z) & (noisy > 0.0) & (noisy <= scene.max_range_m)
    if scene.hole_fraction > 0.0:
        valid &= ~_holes(rng, z.shape, scene.hole_fraction)
    mm = np.where(valid, np.round(np.where(valid, noisy, 0.0) * 1000.0), 0.0)
    out: npt.NDArray[np.uint16] = np.clip(mm, 0, 65535).astype(np.uint16)
    return out


def _person_depth(scene: DepthScene, rays: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Depth (z, m) where each ray meets the person's cylinder, inf where it misses."""
    assert scene.person_at_m is not None
    pose = scene.pose
    r = pose.rotation()
    d = rays @ r.T  # ray directions in the floor frame (camera at (-ox, -oy, h))
    cam = pose.camera_to_floor([[0.0, 0.0, 0.0]])[0]
    px, py = scene.person_at_m
    ox, oy = cam[0] - px, cam[1] - py
    a = d[..., 0] ** 2 + d[..., 1] ** 2
    b = 2.0 * (ox * d[..., 0] + oy * d[..., 1])
    c = ox * ox + oy * oy - scene.person_radius_m**2
    disc = b * b - 4.0 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.where(disc >= 0, disc, np.nan))) / (2.0 * a)
    height = cam[2] + t * d[..., 2]
    hit = (disc >= 0) & (t > 0) & (height >= 0.0) & (height <= scene.person_height_m)
    side = np.where(hit, t, np.inf)  # t is the depth: the rays have z = 1
    # the top of the head: the cylinder's cap, seen from a camera above it
    with np.errstate(divide="ignore", invalid="ignore"):
        t_cap = (scene.person_height_m - cam[2]) / d[..., 2]
    cx, cy = ox + t_cap * d[..., 0], oy + t_cap * d[..., 1]
    on_cap = (t_cap > 0) & (cx * cx + cy * cy <= scene.person_radius_m**2)
    return np.minimum(side, np.where(on_cap, t_cap, np.inf))


def _holes(
    rng: np.random.Generator, shape: tuple[int, ...], fraction: float
) -> npt.NDArray[np.bool_]:
    """Blobs of missing depth covering about ``fraction`` of the image (plus single pixels)."""
    h, w = shape
    mask = rng.random((h, w)) < fraction / 2.0
    coarse = rng.random((h // 16 + 1, w // 16 + 1)) < fraction / 2.0
    mask |= np.kron(coarse, np.ones((16, 16), dtype=bool))[:h, :w].astype(bool)
    return mask


def write_recording(
    folder: str | Path,
    scene: DepthScene,
    frames: int = 10,
    fps: float = 10.0,
    people: Sequence[tuple[float, float] | None] | None = None,
) -> Path:
    """Write ``scene`` as a recorded depth sequence (docs/depth-format.md): ``frames`` frames
    with fresh noise each (or one per entry of ``people``: where the person stands, if
    anyone), and ``intrinsics.json``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    meta = {**scene.intrinsics.to_dict(), "fps": fps, "depth_format": "mm"}
    (out / "intrinsics.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    spots = list(people) if people is not None else [scene.person_at_m] * frames
    for i, spot in enumerate(spots):
        depth = render_depth(replace(scene, person_at_m=spot, seed=scene.seed + i))
        if not cv2.imwrite(str(out / f"depth_{i:05d}.png"), depth):
            raise OSError(f"{out}: cannot write depth_{i:05d}.png")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m exhibit.synth.depth OUT`` writes a rendered recording to try the tools on."""
    from exhibit.depth.intrinsics import PRIMESENSE

    p = argparse.ArgumentParser(prog="python -m exhibit.synth.depth", description=main.__doc__)
    p.add_argument("output")
    p.add_argument("--height-m", type=float, default=2.2)
    p.add_argument("--pitch-deg", type=float, default=40.0)
    p.add_argument("--roll-deg", type=float, default=2.0)
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--person", type=float, nargs=2, metavar=("X_M", "Y_M"))
    args = p.parse_args(argv)
    pose = FloorPose.from_angles(args.height_m, args.pitch_deg, args.roll_deg)
    person = tuple(args.person) if args.person else None
    scene = DepthScene(pose, PRIMESENSE, person_at_m=person)
    print(write_recording(args.output, scene, args.frames))
    return 0


__all__ = ["DepthScene", "FloorPose", "render_depth", "write_recording"]

if __name__ == "__main__":
    sys.exit(main())
