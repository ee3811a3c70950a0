"""A visitor's place on the floor, carried by their skeleton from the source to the pipeline.

Why on the skeleton: the pose source finds bodies, presence follows them from frame to frame
and hands the very same :class:`~exhibit.skeleton.Skeleton` objects to gestures and
engagement. A :class:`MetricSkeleton` is a skeleton that also says where that body stands
(:class:`FloorSpot`: floor position, distance to the screen, height, all in metres), so the
numbers stay with the right visitor without a second matching step. It is computed at the
source boundary (:mod:`exhibit.depth.pairing`, from depth or the calibration's floor); the
deterministic core only reads it. A plain ``Skeleton`` (no depth, no calibration) has no spot,
and the pipeline behaves exactly as before.

Numbers are rounded (:data:`SPOT_DECIMALS`, 0.1 mm) when the spot is made, so the same inputs
always give the same bytes in an event log.

Example:
    >>> import numpy as np
    >>> body = MetricSkeleton(np.zeros((33, 4)), spot=FloorSpot.of((0.123456, 2.0), 2.5, None))
    >>> spot_of(body)
    FloorSpot(floor_xy_m=(0.1235, 2.0), distance_m=2.5, height_m=None, source='depth')
    >>> spot_of(Skeleton(np.zeros((33, 4)))) is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.visitors import MetricVisitor, floor_visitor, metric_visitor
from exhibit.skeleton import Skeleton

SPOT_DECIMALS = 4
SpotSource = Literal["depth", "feet"]


def _r(value: float) -> float:
    return round(float(value), SPOT_DECIMALS) + 0.0  # + 0.0: no "-0.0" in a log


@dataclass(frozen=True, slots=True)
class FloorSpot:
    """Where one body stands: ``floor_xy_m`` on the calibration's floor frame, ``distance_m``
    to the screen point, ``height_m`` (None when the head is out of the picture) and
    ``source``: ``"depth"`` (measured by the depth camera) or ``"feet"`` (the ray through the
    heels meets the calibrated floor: no depth camera, docs/calibration.md gives its error).
    """

    floor_xy_m: tuple[float, float]
    distance_m: float
    height_m: float | None
    source: SpotSource = "depth"

    @classmethod
    def of(
        cls,
        floor_xy_m: tuple[float, float],
        distance_m: float,
        height_m: float | None,
        source: SpotSource = "depth",
    ) -> FloorSpot:
        """A spot with its numbers rounded to :data:`SPOT_DECIMALS`."""
        x, y = floor_xy_m
        h = None if height_m is None else _r(height_m)
        return cls((_r(x), _r(y)), _r(distance_m), h, source)

    @classmethod
    def from_visitor(cls, visitor: MetricVisitor, source: SpotSource) -> FloorSpot:
        return cls.of(visitor.floor_xy_m, visitor.distance_m, visitor.height_m, source)


@dataclass(frozen=True, slots=True, eq=False)
class MetricSkeleton(Skeleton):
    """A :class:`~exhibit.skeleton.Skeleton` that knows where it stands (``spot``, or None
    when neither depth nor the feet could place it)."""

    spot: FloorSpot | None = None


def spot_of(skeleton: Skeleton | None) -> FloorSpot | None:
    """The body's floor spot, if its source measured one."""
    return skeleton.spot if isinstance(skeleton, MetricSkeleton) else None


def measure(
    skeleton: Skeleton,
    pose: FloorPose,
    intrinsics: Intrinsics,
    depth: DepthFrame | None = None,
    screen_xy_m: tuple[float, float] = (0.0, 0.0),
) -> FloorSpot | None:
    """Where ``skeleton`` stands: from ``depth`` when it has the torso, else from the feet on
    the calibrated floor (``intrinsics``: the colour camera's); None when neither works."""
    if depth is not None:
        found = metric_visitor(skeleton, depth, pose, screen_xy_m)
        if found is not None:
            return FloorSpot.from_visitor(found, "depth")
    feet = floor_visitor(skeleton, pose, intrinsics, screen_xy_m)
    return None if feet is None else FloorSpot.from_visitor(feet, "feet")


def with_spot(skeleton: Skeleton, spot: FloorSpot | None) -> MetricSkeleton:
    """The same body (same arrays, shared) with its floor spot."""
    return MetricSkeleton(skeleton.landmarks, skeleton.world_m, spot)
