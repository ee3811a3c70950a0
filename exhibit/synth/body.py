"""A parametric articulated body: the project's own motion data, with no real person in it.

Tests, the demo recording and gesture tuning need bodies that move like visitors: children and
adults, near and far, turned towards the camera or away, waving fast or slow. Recording people
for that would put someone's data in the repository; this model makes it instead, from a handful
of joint angles and standard anthropometric proportions (segment lengths as fractions of body
height, after Drillis & Contini, 1966, as tabulated in Winter, *Biomechanics and Motor Control
of Human Movement*).

Coordinates:

- **Body frame** (internal): origin at the hip centre, ``X`` towards the visitor's own left,
  ``Y`` up, ``Z`` the way the visitor faces.
- **World landmarks** (:func:`world_landmarks`), MediaPipe's convention: metres, origin at the
  hip centre, axes of a level camera: ``x`` to the image's right, ``y`` down, ``z`` away from
  the camera (negative = nearer). A visitor facing the camera (``yaw_rad = 0``) has the left
  shoulder at ``x > 0``: their left appears on the image's right, as in a non-mirrored camera.
- **Scene**: metres on the floor in front of the camera; a visitor stands at
  ``position_m = (x_m, distance_m)``: ``x_m`` to the image's right of the optical axis,
  ``distance_m`` along the floor from the camera.
- **Image landmarks** (:func:`project`): MediaPipe's normalized ``x, y`` (0..1, y down), ``z`` as
  relative depth on the scale of ``x`` (negative = nearer than the hips), and ``visibility``.

Example:
    >>> shape = BodyShape(height_m=1.7)
    >>> world = world_landmarks(shape, Pose())
    >>> bool(world[LANDMARK_INDEX["nose"], 1] < world[LANDMARK_INDEX["left_ankle"], 1])
    True
    >>> s = make_skeleton(shape, Pose(), (0.0, 2.5), PinholeCamera())
    >>> s.landmarks.shape
    (33, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from exhibit.skeleton import LANDMARK_INDEX, NUM_LANDMARKS, FloatArray, Skeleton

# Visibility given to a landmark that projects outside the image, and to a dropped-out one.
OUTSIDE_VISIBILITY = 0.1
DROPOUT_VISIBILITY = 0.02


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths of one body, all scaled from ``height_m`` (child ~1.1 m, adult ~1.9 m).

    Fractions of height (Drillis & Contini): shoulder (biacromial) width 0.259, hip-joint width
    0.191, upper arm 0.186, forearm 0.146, hand 0.108, thigh 0.245, shin 0.246, ankle height
    0.039, hip joint to shoulder centre 0.288 (shoulders at 0.818, hip joints at 0.530). The
    head is placed from the eye height (0.936). Children's larger heads are not modelled.

    Example:
        >>> round(BodyShape(2.0).upper_arm_m, 3)
        0.372
    """

    height_m: float = 1.7

    @property
    def shoulder_width_m(self) -> float:
        return 0.259 * self.height_m

    @property
    def hip_width_m(self) -> float:
        return 0.191 * self.height_m

    @property
    def torso_m(self) -> float:
        """Hip centre to shoulder centre."""
        return 0.288 * self.height_m

    @property
    def upper_arm_m(self) -> float:
        return 0.186 * self.height_m

    @property
    def forearm_m(self) -> float:
        return 0.146 * self.height_m

    @property
    def hand_m(self) -> float:
        return 0.108 * self.height_m

    @property
    def thigh_m(self) -> float:
        return 0.245 * self.height_m

    @property
    def shin_m(self) -> float:
        return 0.246 * self.height_m

    @property
    def ankle_height_m(self) -> float:
        return 0.039 * self.height_m

    @property
    def head_m(self) -> float:
        """Shoulder centre up to eye level (the head centre used for the face landmarks)."""
        return (0.936 - 0.818) * self.height_m


@dataclass(frozen=True)
class ArmPose:
    """One arm's joint angles, radians.

    ``abduction_rad`` raises the arm sideways (0 = hanging down, pi/2 = horizontal, pi =
    straight up); ``flexion_rad`` raises it forward; ``rotation_rad`` turns the upper arm about
    its own axis (external rotation: with the arm out sideways and the elbow bent, pi/2 points
    the forearm up, as in a wave); ``elbow_rad`` bends the elbow (0 = straight).

    Example:
        >>> ArmPose(abduction_rad=math.pi).elbow_rad
        0.1
    """

    abduction_rad: float = 0.12
    flexion_rad: float = 0.0
    rotation_rad: float = 0.0
    elbow_rad: float = 0.1


@dataclass(frozen=True)
class Pose:
    """Everything that moves, radians and metres: enough for standing, walking, waving, hands
    up, T-pose, leaning, crouching and jumping.

    ``lean_rad`` tilts the upper body sideways towards the visitor's left (positive) about the
    hip centre; ``yaw_rad`` turns the whole body about the vertical, positive towards the
    visitor's own left (so a visitor facing the camera turns towards the image's right);
    ``crouch_rad`` bends both knees (hips drop, feet stay on the floor); ``*_hip_flexion_rad``
    swings a thigh forward (walking); ``jump_m`` lifts the whole body off the floor.

    Example:
        >>> Pose(right_arm=ArmPose(abduction_rad=math.pi / 2)).right_arm.abduction_rad > 1.5
        True
    """

    left_arm: ArmPose = field(default_factory=ArmPose)
    right_arm: ArmPose = field(default_factory=ArmPose)
    lean_rad: float = 0.0
    yaw_rad: float = 0.0
    crouch_rad: float = 0.0
    left_hip_flexion_rad: float = 0.0
    right_hip_flexion_rad: float = 0.0
    jump_m: float = 0.0


@dataclass(frozen=True)
class PinholeCamera:
    """The camera the synthetic visitor is seen through: an ideal pinhole, no distortion.

    Defaults: 640x480 with a 70 degree horizontal field of view (``fx_px`` 457), mounted
    ``height_above_floor_m`` 1.2 m, level (``pitch_rad`` 0; positive tilts it down). At 2.5 m
    it sees the floor and an adult's raised hands.

    Example:
        >>> PinholeCamera().width_px
        640
    """

    fx_px: float = 457.0
    fy_px: float = 457.0
    cx_px: float = 320.0
    cy_px: float = 240.0
    width_px: int = 640
    height_px: int = 480
    height_above_floor_m: float = 1.2
    pitch_rad: float = 0.0


def _rx(a: float) -> FloatArray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> FloatArray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> FloatArray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _v(x: float, y: float, z: float) -> FloatArray:
    return np.array([x, y, z])


_DOWN = _v(0.0, -1.0, 0.0)


def _body_points(shape: BodyShape, pose: Pose) -> tuple[FloatArray, float]:
    """All 33 landmarks in the body frame (hip centre origin, X left, Y up, Z forward), and the
    height of the hip centre above the floor."""
    h = shape.height_m
    pts = np.zeros((NUM_LANDMARKS, 3))

    def put(name: str, p: FloatArray) -> None:
        pts[LANDMARK_INDEX[name]] = p

    # Upper body: leans about the forward axis at the hip centre.
    lean = _rz(-pose.lean_rad)
    up = lean @ _v(0.0, 1.0, 0.0)
    left = lean @ _v(1.0, 0.0, 0.0)
    fwd = _v(0.0, 0.0, 1.0)
    shoulder_c = up * shape.torso_m
    head_c = shoulder_c + up * shape.head_m

    # Face, around the head centre at eye level.
    put("nose", head_c - up * 0.030 * h + fwd * 0.060 * h)
    for side, s in (("left", 1.0), ("right", -1.0)):
        eye = head_c + fwd * 0.045 * h + up * 0.002 * h
        put(f"{side}_eye_inner", eye + left * s * 0.012 * h)
        put(f"{side}_eye", eye + left * s * 0.019 * h)
        put(f"{side}_eye_outer", eye + left * s * 0.027 * h)
        put(f"{side}_ear", head_c + left * s * 0.046 * h - fwd * 0.005 * h)
        put(f"mouth_{side}", head_c - up * 0.055 * h + fwd * 0.050 * h + left * s * 0.016 * h)

    # Arms: R = Rz(abduction) . Rx(flexion) . Ry(rotation) applied to an arm hanging down whose
    # elbow bends forward; mirrored for the right arm.
    for side, s, arm in (("left", 1.0, pose.left_arm), ("right", -1.0, pose.right_arm)):
        rot = lean @ _rz(s * arm.abduction_rad) @ _rx(-arm.flexion_rad) @ _ry(s * arm.rotation_rad)
        shoulder = shoulder_c + left * s * shape.shoulder_width_m / 2
        e = arm.elbow_rad
        upper_dir = rot @ _DOWN
        fore_dir = rot @ _v(0.0, -math.cos(e), math.sin(e))
        thumb_dir = rot @ _v(s, 0.0, 0.0)  # lateral in the anatomical position: thumb side
        elbow = shoulder + upper_dir * shape.upper_arm_m
        wrist = elbow + fore_dir * shape.forearm_m
        hl = shape.hand_m
        put(f"{side}_shoulder", shoulder)
        put(f"{side}_elbow", elbow)
        put(f"{side}_wrist", wrist)
        put(f"{side}_index", wrist + fore_dir * 0.65 * hl + thumb_dir * 0.020 * h)
        put(f"{side}_pinky", wrist + fore_dir * 0.55 * hl - thumb_dir * 0.022 * h)
        put(f"{side}_thumb", wrist + fore_dir * 0.35 * hl + thumb_dir * 0.035 * h)

    # Legs: the thigh swings forward by crouch + hip flexion, the shin comes back by 2 * crouch.
    k = pose.crouch_rad
    lowest = 0.0
    for side, s, hf in (
        ("left", 1.0, pose.left_hip_flexion_rad),
        ("right", -1.0, pose.right_hip_flexion_rad),
    ):
        hip = _v(s * shape.hip_width_m / 2, 0.0, 0.0)
        knee = hip + _v(0.0, -math.cos(k + hf), math.sin(k + hf)) * shape.thigh_m
        ankle = knee + _v(0.0, -math.cos(hf - k), math.sin(hf - k)) * shape.shin_m
        heel = ankle + _v(0.0, -0.030 * h, -0.035 * h)
        toe = ankle + _v(s * 0.012 * h, -0.034 * h, 0.110 * h)
        put(f"{side}_hip", hip)
        put(f"{side}_knee", knee)
        put(f"{side}_ankle", ankle)
        put(f"{side}_heel", heel)
        put(f"{side}_foot_index", toe)
        lowest = min(lowest, float(heel[1]), float(toe[1]), float(ankle[1]) - shape.ankle_height_m)

    # Whole body turns about the vertical through the hip centre.
    pts = pts @ _ry(pose.yaw_rad).T
    hip_height_m = -lowest + pose.jump_m
    return pts, hip_height_m


def _to_world(body_points: FloatArray) -> FloatArray:
    """Body frame (X left, Y up, Z forward) to MediaPipe world (x right, y down, z away)."""
    world: FloatArray = body_points * np.array([1.0, -1.0, -1.0])
    return world


def world_landmarks(shape: BodyShape, pose: Pose) -> FloatArray:
    """The 33 landmarks in metres, MediaPipe world convention (hip centre origin, x image-right,
    y down, z away from the camera), shape (33, 3)."""
    pts, _ = _body_points(shape, pose)
    return _to_world(pts)


def hip_height_m(shape: BodyShape, pose: Pose) -> float:
    """Height of the hip centre above the floor: the lower foot rests on it, plus ``jump_m``."""
    return _body_points(shape, pose)[1]


def project(
    world: FloatArray,
    position_m: tuple[float, float],
    camera: PinholeCamera,
    hip_height_above_floor_m: float | None = None,
) -> FloatArray:
    """Image landmarks (33, 4) of a body whose world landmarks are ``world`` standing at
    ``position_m = (x_m, distance_m)`` on the floor.

    The hip centre sits ``hip_height_above_floor_m`` above the floor; ``None`` rests the lowest
    foot landmark on the floor. Landmarks outside the image keep their (extrapolated) position
    with visibility ``OUTSIDE_VISIBILITY``, as MediaPipe reports limbs that leave the frame.
    """
    if hip_height_above_floor_m is None:
        hip_height_above_floor_m = float(np.max(world[:, 1]))
    x_m, distance_m = position_m
    # Scene: X right, Y up from the floor, Z along the floor away from the camera.
    sx = x_m + world[:, 0]
    sy = hip_height_above_floor_m - world[:, 1] - camera.height_above_floor_m
    sz = distance_m + world[:, 2]
    cp, sp = math.cos(camera.pitch_rad), math.sin(camera.pitch_rad)
    xc = sx
    yc = -sy * cp - sz * sp  # down in the camera
    zc = -sy * sp + sz * cp  # along the optical axis
    zc = np.maximum(zc, 1e-3)
    out = np.empty((NUM_LANDMARKS, 4))
    out[:, 0] = (camera.cx_px + camera.fx_px * xc / zc) / camera.width_px
    out[:, 1] = (camera.cy_px + camera.fy_px * yc / zc) / camera.height_px
    hip_y = hip_height_above_floor_m - camera.height_above_floor_m
    z_hip = max(-hip_y * sp + distance_m * cp, 1e-3)
    out[:, 2] = (zc - z_hip) / z_hip * camera.fx_px / camera.width_px
    inside = (out[:, 0] >= 0.0) & (out[:, 0] <= 1.0) & (out[:, 1] >= 0.0) & (out[:, 1] <= 1.0)
    out[:, 3] = np.where(inside, 1.0, OUTSIDE_VISIBILITY)
    return out


def make_skeleton(
    shape: BodyShape,
    pose: Pose,
    position_m: tuple[float, float],
    camera: PinholeCamera,
    rng: np.random.Generator | None = None,
    noise_px: float = 0.0,
    dropout: float = 0.0,
) -> Skeleton:
    """One synthetic :class:`Skeleton`, with optional Gaussian pixel noise (``noise_px`` standard
    deviation on each image coordinate, and the same angle of error on the world landmarks) and
    ``dropout``: the probability that a landmark is reported with visibility ~0 (position kept,
    as MediaPipe still guesses where an occluded joint is). ``rng`` defaults to seed 0."""
    pts, hip_h = _body_points(shape, pose)
    world = _to_world(pts)
    image = project(world, position_m, camera, hip_h)
    if noise_px > 0.0 or dropout > 0.0:
        if rng is None:
            rng = np.random.default_rng(0)
        if noise_px > 0.0:
            noise = rng.normal(0.0, noise_px, size=(NUM_LANDMARKS, 2))
            image[:, 0] += noise[:, 0] / camera.width_px
            image[:, 1] += noise[:, 1] / camera.height_px
            world = world + rng.normal(0.0, noise_px * position_m[1] / camera.fx_px, world.shape)
        if dropout > 0.0:
            dropped = rng.random(NUM_LANDMARKS) < dropout
            image[:, 3] = np.where(dropped, DROPOUT_VISIBILITY, image[:, 3])
    return Skeleton(image, world)
