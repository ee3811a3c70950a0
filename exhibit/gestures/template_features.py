"""Body-normalized features of a MediaPipe skeleton, for gestures taught by demonstration.

A taught gesture must match whoever performs it, wherever they stand: a child near the camera
and an adult at the back of the room. Each feature vector therefore holds the image ``x, y`` of a
few moving joints (:data:`FEATURE_JOINTS`) *relative to the shoulder centre* and *divided by the
body's size*, so position in the frame and distance to the camera drop out.

Body size is the shoulder width, except when the shoulders are foreshortened (the visitor turns
sideways): then ``SHOULDER_PER_TORSO`` times the torso length (shoulder centre to hip centre)
takes over. Taking the larger of the two is continuous, so the scale never jumps between frames.
Image coordinates only (no MediaPipe ``z``, no world landmarks): they are the steadiest outputs
of the pose model. Both axes are in normalized image units (x per width, y per height); teaching
and spotting use the same camera, so the aspect ratio is the same on both sides.

Example:
    >>> import numpy as np
    >>> from exhibit.skeleton import Skeleton
    >>> skeleton_features(Skeleton(np.full((33, 4), 0.5))).shape
    (18,)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exhibit.gestures.templates import TemplateError
from exhibit.skeleton import LANDMARK_INDEX, FloatArray, Skeleton, X, Y

JOINT_SET = "mediapipe-pose-33"

FEATURE_JOINTS: tuple[str, ...] = (
    "nose",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
)

# Shoulder width is about 0.9 of the shoulder-to-hip distance on an adult (0.259 / 0.288 of
# height, Drillis & Contini); 0.8 leaves the shoulder width in charge for a visitor facing the
# camera and lets the torso take over once the shoulders shrink by a fifth.
SHOULDER_PER_TORSO = 0.8

# No visible body is smaller than a thousandth of the frame: a degenerate skeleton (all landmarks
# on one point) is scaled by this instead of dividing by zero.
MIN_BODY_SIZE = 1e-3

FEATURE_SPEC: dict[str, Any] = {
    "name": "shoulder-relative-image-xy",
    "version": 1,
    "joints": list(FEATURE_JOINTS),
    "coords": ["x", "y"],
    "origin": "shoulder centre",
    "scale": f"max(shoulder width, {SHOULDER_PER_TORSO} * torso length)",
    "features": 2 * len(FEATURE_JOINTS),
}

_JOINTS = np.array([LANDMARK_INDEX[name] for name in FEATURE_JOINTS])
_LS, _RS = LANDMARK_INDEX["left_shoulder"], LANDMARK_INDEX["right_shoulder"]
_LH, _RH = LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]


def body_size(skeleton: Skeleton) -> float:
    """The yardstick features are divided by, in normalized image units (see module docstring)."""
    xy = skeleton.landmarks[:, [X, Y]]
    shoulder_centre = 0.5 * (xy[_LS] + xy[_RS])
    hip_centre = 0.5 * (xy[_LH] + xy[_RH])
    shoulder_width = float(np.hypot(*(xy[_LS] - xy[_RS])))
    torso = float(np.hypot(*(shoulder_centre - hip_centre)))
    return max(shoulder_width, SHOULDER_PER_TORSO * torso, MIN_BODY_SIZE)


def skeleton_features(skeleton: Skeleton) -> FloatArray:
    """``(2 * len(FEATURE_JOINTS),)`` features: each joint's ``x, y`` from the shoulder centre,
    in body sizes, interleaved ``[x0, y0, x1, y1, ...]``. Never raises and never returns NaN for
    finite landmarks (a degenerate skeleton is scaled by ``MIN_BODY_SIZE``)."""
    xy = skeleton.landmarks[:, [X, Y]]
    shoulder_centre = 0.5 * (xy[_LS] + xy[_RS])
    rel = (xy[_JOINTS] - shoulder_centre) / body_size(skeleton)
    return np.ascontiguousarray(rel.reshape(-1), dtype=np.float64)


def sequence_features(skeletons: Sequence[Skeleton | None]) -> FloatArray:
    """``(frames, features)`` for a recorded demonstration; a frame without a skeleton (``None``,
    tracking lost) repeats the previous frame's features, and leading gaps take the first seen.

    Raises :class:`~exhibit.gestures.templates.TemplateError` when no frame has a skeleton
    (nothing to learn from).

    Example:
        >>> import numpy as np
        >>> from exhibit.skeleton import Skeleton
        >>> s = Skeleton(np.full((33, 4), 0.5))
        >>> sequence_features([None, s, None]).shape
        (3, 18)
    """
    n_features = 2 * len(FEATURE_JOINTS)
    out = np.empty((len(skeletons), n_features), dtype=np.float64)
    if not skeletons:
        return out
    first = next((s for s in skeletons if s is not None), None)
    if first is None:
        raise TemplateError(f"none of the {len(skeletons)} frames has a skeleton; nothing to learn")
    previous = skeleton_features(first)
    for i, skeleton in enumerate(skeletons):
        if skeleton is not None:
            previous = skeleton_features(skeleton)
        out[i] = previous
    return out
