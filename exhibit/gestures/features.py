"""Body-normalized measurements of one skeleton: pure functions, plain floats.

Gestures must mean the same for a child at 1.5 m and an adult at 4 m, so positions are measured
relative to the body and divided by a body-size yardstick:

- **Units.** MediaPipe's normalized x and y have different scales (x per image width, y per
  image height). Everything here is first put in *image heights* on both axes (x times the
  aspect ratio ``width_px / height_px``), so distances are isotropic.
- **Yardstick** (:func:`body_size`): ``max(shoulder_width, 0.7 * torso_length)``, torso length
  being shoulder centre to hip centre. Facing the camera the shoulders decide (the torso is about
  1.1 shoulder widths in adults: 0.288 vs 0.259 of body height); when a turn foreshortens the
  shoulders below ~77 % (about 40 degrees of yaw) the torso takes over, so the yardstick never
  collapses for a visitor seen side-on. Hips are used even when out of frame (MediaPipe still
  estimates them).
- **Top of the head** (:func:`head_top_y`): ``HEAD_TOP_ABOVE_NOSE = 0.4`` yardsticks above the
  nose. Nose tip to crown is ~0.094 of body height = 0.36 biacromial widths, and MediaPipe's
  shoulder landmarks sit a little inside the acromion, hence 0.4. The nose is tracked more
  reliably than the eyes under turns, so it is the anchor.
- **Apparent scale** (:meth:`BodyFrame.scale`): ``max(shoulder_width, 0.9 * torso_length)``, the
  measure of *distance* used by ``approach``/``retreat``. The two terms are about equal for a
  visitor facing the camera (0.259 vs 0.9 * 0.288 of body height) and each loses length to a
  different movement (the shoulders to a turn, the torso to a bow towards the camera), so the
  scale changes with distance, not with a turn. The yardstick above is deliberately *not* that:
  it follows the shoulders until 40 degrees of turn, which is right for shapes, wrong for depth.
- **Vertical measures** (``crouch``) use the torso length as their unit instead of the
  yardstick: a turn does not change vertical lengths, but it does change the yardstick.

Example:
    >>> import numpy as np
    >>> from exhibit.skeleton import Skeleton
    >>> lm = np.zeros((33, 4)); lm[:, 3] = 1.0
    >>> lm[11, :2] = (0.6, 0.4); lm[12, :2] = (0.4, 0.4); lm[23, :2] = (0.55, 0.7)
    >>> lm[24, :2] = (0.45, 0.7)
    >>> round(body_size(Skeleton(lm), aspect_ratio=1.0), 3)
    0.21
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exhibit.depth.spot import spot_of
from exhibit.skeleton import LANDMARK_INDEX, Skeleton

DEFAULT_ASPECT_RATIO = 640 / 480
MIN_VISIBILITY = 0.5
TORSO_FALLBACK = 0.7
SCALE_TORSO = 0.9
HEAD_TOP_ABOVE_NOSE = 0.4
MIN_SIZE = 1e-6

NOSE = LANDMARK_INDEX["nose"]
L_SHOULDER = LANDMARK_INDEX["left_shoulder"]
R_SHOULDER = LANDMARK_INDEX["right_shoulder"]
L_ELBOW = LANDMARK_INDEX["left_elbow"]
R_ELBOW = LANDMARK_INDEX["right_elbow"]
L_WRIST = LANDMARK_INDEX["left_wrist"]
R_WRIST = LANDMARK_INDEX["right_wrist"]
L_HIP = LANDMARK_INDEX["left_hip"]
R_HIP = LANDMARK_INDEX["right_hip"]
L_ANKLE = LANDMARK_INDEX["left_ankle"]
R_ANKLE = LANDMARK_INDEX["right_ankle"]


@dataclass(frozen=True, slots=True)
class BodyFrame:
    """One skeleton as plain floats in image-height units, with its yardstick.

    Built once per frame (:meth:`of`) and shared by every detector, so no detector touches numpy
    per frame. ``rows[i]`` is ``[x, y, z, visibility]`` with x already in image heights;
    ``size`` is :func:`body_size`; ``cx, cy`` the shoulder centre; ``hx, hy`` the hip centre;
    ``shoulders`` and ``torso`` the two lengths the yardstick is made of (image heights).

    Example:
        >>> import numpy as np
        >>> from exhibit.skeleton import Skeleton
        >>> lm = np.zeros((33, 4)); lm[11, :2] = (0.6, 0.4); lm[12, :2] = (0.4, 0.4)
        >>> lm[23, :2] = (0.55, 0.7); lm[24, :2] = (0.45, 0.7)
        >>> round(BodyFrame.of(Skeleton(lm), aspect_ratio=1.0).size, 3)
        0.21
    """

    rows: list[list[float]]
    size: float
    cx: float
    cy: float
    hx: float = 0.0
    hy: float = 0.0
    shoulders: float = 0.0
    torso: float = 0.0
    # The visitor's floor distance to the screen in metres, when the sources measured it
    # (depth or the calibrated floor: exhibit/depth/spot.py); approach/retreat prefer it.
    distance_m: float | None = None

    @classmethod
    def of(cls, skeleton: Skeleton, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> BodyFrame:
        rows: list[list[float]] = skeleton.landmarks.tolist()
        for r in rows:
            r[0] *= aspect_ratio
        ls, rs, lh, rh = rows[L_SHOULDER], rows[R_SHOULDER], rows[L_HIP], rows[R_HIP]
        cx = 0.5 * (ls[0] + rs[0])
        cy = 0.5 * (ls[1] + rs[1])
        hx = 0.5 * (lh[0] + rh[0])
        hy = 0.5 * (lh[1] + rh[1])
        shoulders = math.hypot(ls[0] - rs[0], ls[1] - rs[1])
        torso = math.hypot(cx - hx, cy - hy)
        size = max(shoulders, TORSO_FALLBACK * torso, MIN_SIZE)
        spot = spot_of(skeleton)
        distance_m = None if spot is None else spot.distance_m
        return cls(rows, size, cx, cy, hx, hy, shoulders, torso, distance_m)

    def visible(self, index: int, min_visibility: float = MIN_VISIBILITY) -> bool:
        """Whether landmark ``index`` is visible enough to trust."""
        return self.rows[index][3] >= min_visibility

    def relative(self, index: int) -> tuple[float, float]:
        """Landmark ``index`` relative to the shoulder centre, in yardsticks (y down)."""
        r = self.rows[index]
        return (r[0] - self.cx) / self.size, (r[1] - self.cy) / self.size

    def head_top_y(self) -> float:
        """Estimated image y of the top of the head (image heights, y down)."""
        return self.rows[NOSE][1] - HEAD_TOP_ABOVE_NOSE * self.size

    def scale(self) -> float:
        """Apparent size for distance, ``max(shoulders, 0.9 * torso)`` in image heights (see
        the module docstring): proportional to 1 / distance, nearly blind to a turn."""
        return max(self.shoulders, SCALE_TORSO * self.torso, MIN_SIZE)

    def trunk_visible(self, min_visibility: float = MIN_VISIBILITY) -> bool:
        """Whether both shoulders and both hips are visible enough to trust."""
        rows = self.rows
        return (
            rows[L_SHOULDER][3] >= min_visibility
            and rows[R_SHOULDER][3] >= min_visibility
            and rows[L_HIP][3] >= min_visibility
            and rows[R_HIP][3] >= min_visibility
        )


def body_size(skeleton: Skeleton, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> float:
    """The body yardstick in image heights: ``max(shoulder_width, 0.7 * torso_length)``."""
    return BodyFrame.of(skeleton, aspect_ratio).size


def relative_position(
    skeleton: Skeleton, name: str, aspect_ratio: float = DEFAULT_ASPECT_RATIO
) -> tuple[float, float]:
    """The named landmark relative to the shoulder centre, in yardsticks (x right, y down)."""
    return BodyFrame.of(skeleton, aspect_ratio).relative(LANDMARK_INDEX[name])


def head_top_y(skeleton: Skeleton, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> float:
    """Estimated normalized image y of the top of the head (see the module docstring)."""
    return BodyFrame.of(skeleton, aspect_ratio).head_top_y()


def all_visible(
    skeleton: Skeleton, names: tuple[str, ...], min_visibility: float = MIN_VISIBILITY
) -> bool:
    """Whether every named landmark has at least ``min_visibility``."""
    return all(skeleton.visibility(n) >= min_visibility for n in names)
