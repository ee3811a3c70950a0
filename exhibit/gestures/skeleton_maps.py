"""Other sensors' skeletons as MediaPipe Pose landmarks, so the gesture detectors can read them.

The detectors read MediaPipe's 33 normalized image landmarks. A skeleton from another sensor is
mapped joint by joint onto the landmarks the features use (nose, shoulders, elbows, wrists,
hand points, hips; the rest are filled in so the array is complete), then projected into a
virtual camera. Pure functions: no file is read here (the caller opens it).

**Kinect v1** (as in MSRC-12: per frame a timestamp in microseconds, then 20 joints x
``(x, y, z, confidence)``, metres, camera space: y up, z away from the sensor, x to the sensor's
left, i.e. a person facing the sensor has ShoulderLeft at a smaller x than ShoulderRight).

=================  ==========================  ==========================================
MediaPipe          Kinect v1 joint             note
=================  ==========================  ==========================================
nose               Head                        moved down ``NOSE_BELOW_HEAD_M`` (0.05 m):
                                               the Kinect head joint is the centre of the
                                               head, near eye level; the nose tip is ~5 cm
                                               below that (an estimate; see below)
eyes, ears, mouth  Head                        placed around it along the shoulder axis
                                               (only to complete the array)
shoulders          ShoulderLeft/Right
elbows             ElbowLeft/Right
wrists             WristLeft/Right
index/pinky/thumb  HandLeft/Right              Kinect has one point per hand
hips               HipLeft/Right
knees, ankles      KneeLeft/Right, AnkleLeft/Right
heels              AnkleLeft/Right
foot_index         FootLeft/Right
=================  ==========================  ==========================================

Projection (:class:`KinectCamera`): a pinhole at the sensor with the Kinect v1 depth camera's
nominal focal length, 571.26 px at 640 x 480 (``NUI_CAMERA_DEPTH_NOMINAL_FOCAL_LENGTH_IN_PIXELS``
285.63 at 320 x 240): ``x_norm = 0.5 - f * x / (z * width)``, ``y_norm = 0.5 - f * y / (z *
height)``. The minus sign on x shows the person as an ordinary (not mirrored) camera does, so
the visitor's left appears on the image's right, as in MediaPipe's output. ``z`` is written as
MediaPipe-like relative depth (``(z - z_hip) / z_hip``, scaled like x) and visibility is the
Kinect confidence (1 tracked, lower inferred, 0 not tracked). A frame whose joints are all zero
(no one tracked) has no skeleton.

How far to trust the nose: ``hands_up`` draws its line ``0.4 + margin`` body sizes above the
nose, so moving the nose by 5 cm (about 0.15 shoulder widths) moves the line by as much.

Example:
    >>> import numpy as np
    >>> joints = np.zeros((20, 4)); joints[:, 2] = 2.5; joints[:, 3] = 1.0
    >>> joints[KINECT_V1_INDEX["ShoulderLeft"], :2] = (-0.18, 0.45)
    >>> joints[KINECT_V1_INDEX["ShoulderRight"], :2] = (0.18, 0.45)
    >>> s = kinect_v1_skeleton(joints)
    >>> s.point("left_shoulder")[0] > s.point("right_shoulder")[0]  # visitor's left: image right
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from exhibit.skeleton import LANDMARK_INDEX, NUM_LANDMARKS, Frame, Skeleton

KINECT_V1_JOINTS: tuple[str, ...] = (
    "HipCenter",
    "Spine",
    "ShoulderCenter",
    "Head",
    "ShoulderLeft",
    "ElbowLeft",
    "WristLeft",
    "HandLeft",
    "ShoulderRight",
    "ElbowRight",
    "WristRight",
    "HandRight",
    "HipLeft",
    "KneeLeft",
    "AnkleLeft",
    "FootLeft",
    "HipRight",
    "KneeRight",
    "AnkleRight",
    "FootRight",
)
KINECT_V1_INDEX: dict[str, int] = {name: i for i, name in enumerate(KINECT_V1_JOINTS)}

# MediaPipe landmark -> Kinect v1 joint it is taken from (the face points are offset from Head).
KINECT_V1_TO_MEDIAPIPE: dict[str, str] = {
    "nose": "Head",
    "left_eye_inner": "Head",
    "left_eye": "Head",
    "left_eye_outer": "Head",
    "right_eye_inner": "Head",
    "right_eye": "Head",
    "right_eye_outer": "Head",
    "left_ear": "Head",
    "right_ear": "Head",
    "mouth_left": "Head",
    "mouth_right": "Head",
    "left_shoulder": "ShoulderLeft",
    "right_shoulder": "ShoulderRight",
    "left_elbow": "ElbowLeft",
    "right_elbow": "ElbowRight",
    "left_wrist": "WristLeft",
    "right_wrist": "WristRight",
    "left_pinky": "HandLeft",
    "right_pinky": "HandRight",
    "left_index": "HandLeft",
    "right_index": "HandRight",
    "left_thumb": "HandLeft",
    "right_thumb": "HandRight",
    "left_hip": "HipLeft",
    "right_hip": "HipRight",
    "left_knee": "KneeLeft",
    "right_knee": "KneeRight",
    "left_ankle": "AnkleLeft",
    "right_ankle": "AnkleRight",
    "left_heel": "AnkleLeft",
    "right_heel": "AnkleRight",
    "left_foot_index": "FootLeft",
    "right_foot_index": "FootRight",
}

NOSE_BELOW_HEAD_M = 0.05
# Face points around the head centre: (metres along the visitor's left, metres up).
_FACE_OFFSETS_M: dict[str, tuple[float, float]] = {
    "nose": (0.0, -NOSE_BELOW_HEAD_M),
    "left_eye_inner": (0.015, 0.0),
    "left_eye": (0.03, 0.0),
    "left_eye_outer": (0.045, 0.0),
    "right_eye_inner": (-0.015, 0.0),
    "right_eye": (-0.03, 0.0),
    "right_eye_outer": (-0.045, 0.0),
    "left_ear": (0.075, -0.01),
    "right_ear": (-0.075, -0.01),
    "mouth_left": (0.025, -0.08),
    "mouth_right": (-0.025, -0.08),
}

_SOURCE = np.array(
    [KINECT_V1_INDEX[KINECT_V1_TO_MEDIAPIPE[name]] for name in LANDMARK_INDEX], dtype=np.intp
)


@dataclass(frozen=True)
class KinectCamera:
    """The virtual camera the Kinect joints are projected into (Kinect v1 depth camera).

    Example:
        >>> KinectCamera().focal_px
        571.26
    """

    width_px: int = 640
    height_px: int = 480
    focal_px: float = 571.26


def kinect_v1_skeleton(
    joints: npt.NDArray[np.float64], camera: KinectCamera | None = None
) -> Skeleton | None:
    """One Kinect v1 frame (20 x 4: x, y, z in metres, confidence) as a MediaPipe-like
    :class:`Skeleton`; None when nobody is tracked (all zeros, or a joint at z <= 0)."""
    cam = camera if camera is not None else KinectCamera()
    if joints.shape != (len(KINECT_V1_JOINTS), 4):
        raise ValueError(f"Kinect v1 joints must be (20, 4), got {joints.shape}")
    if not np.any(joints[:, :3]) or np.any(joints[:, 2] <= 0.0):
        return None
    xyz = joints[_SOURCE, :3].copy()
    vis = joints[_SOURCE, 3].copy()
    # Face points: offsets from the head along the shoulder axis (visitor's left) and up.
    left = (
        joints[KINECT_V1_INDEX["ShoulderLeft"], :3] - joints[KINECT_V1_INDEX["ShoulderRight"], :3]
    )
    norm = float(np.linalg.norm(left))
    axis = left / norm if norm > 1e-6 else np.array([-1.0, 0.0, 0.0])
    up = np.array([0.0, 1.0, 0.0])
    for name, (along_m, up_m) in _FACE_OFFSETS_M.items():
        xyz[LANDMARK_INDEX[name]] += along_m * axis + up_m * up
    z_hip = float(joints[KINECT_V1_INDEX["HipCenter"], 2]) or float(np.median(joints[:, 2]))
    f = cam.focal_px
    landmarks = np.empty((NUM_LANDMARKS, 4), dtype=np.float64)
    landmarks[:, 0] = 0.5 - f * xyz[:, 0] / (xyz[:, 2] * cam.width_px)
    landmarks[:, 1] = 0.5 - f * xyz[:, 1] / (xyz[:, 2] * cam.height_px)
    landmarks[:, 2] = (xyz[:, 2] - z_hip) / z_hip * f / cam.width_px
    landmarks[:, 3] = np.clip(vis, 0.0, 1.0)
    landmarks.flags.writeable = False
    return Skeleton(landmarks)


def parse_msrc12(lines: Iterable[str], camera: KinectCamera | None = None) -> list[Frame]:
    """Frames of an MSRC-12 skeleton file (its lines): ``t_s`` from the first timestamp
    (microseconds), image size from ``camera``. ``ValueError`` names a malformed line."""
    cam = camera if camera is not None else KinectCamera()
    frames: list[Frame] = []
    t0: float | None = None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 1 + 4 * len(KINECT_V1_JOINTS):
            raise ValueError(f"line {number}: {len(fields)} fields, expected 81")
        try:
            values = [float(v) for v in fields]
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from exc
        t_us = values[0]
        t0 = t_us if t0 is None else t0
        joints = np.array(values[1:], dtype=np.float64).reshape(len(KINECT_V1_JOINTS), 4)
        skeleton = kinect_v1_skeleton(joints, cam)
        frames.append(
            Frame(
                (t_us - t0) / 1e6,
                len(frames),
                cam.width_px,
                cam.height_px,
                () if skeleton is None else (skeleton,),
            )
        )
    return frames


# Berkeley MHAD motion capture (``*_pos.csv``: ``time`` in seconds, then ``Joint.x/.y/.z`` in
# centimetres, y up) onto the Kinect v1 joints above, then through the same projection. The
# subject is placed ``MHAD_DISTANCE_M`` in front of a camera ``MHAD_CAMERA_HEIGHT_M`` high,
# facing it along the mocap z axis (which way the subject faced is not in the file: an
# assumption; the vertical movement that ``jump`` reads does not depend on it).
MHAD_TO_KINECT_V1: dict[str, str] = {
    "HipCenter": "Hips",
    "Spine": "spine1",
    "ShoulderCenter": "Neck",
    "Head": "Head",
    "ShoulderLeft": "LeftArm",
    "ElbowLeft": "LeftForeArm",
    "WristLeft": "LeftHand",
    "HandLeft": "LeftHand",
    "ShoulderRight": "RightArm",
    "ElbowRight": "RightForeArm",
    "WristRight": "RightHand",
    "HandRight": "RightHand",
    "HipLeft": "LeftUpLeg",
    "KneeLeft": "LeftLeg",
    "AnkleLeft": "LeftFoot",
    "FootLeft": "LeftToeBase",
    "HipRight": "RightUpLeg",
    "KneeRight": "RightLeg",
    "AnkleRight": "RightFoot",
    "FootRight": "RightToeBase",
}
MHAD_DISTANCE_M = 3.0
MHAD_CAMERA_HEIGHT_M = 1.0


def parse_mhad(
    lines: Iterable[str], fps: float = 30.0, camera: KinectCamera | None = None
) -> list[Frame]:
    """Frames of a Berkeley MHAD ``*_pos.csv`` (its lines, header first), resampled to ``fps``
    by taking the nearest mocap sample. ``ValueError`` names a malformed line or a missing
    joint column."""
    cam = camera if camera is not None else KinectCamera()
    rows = iter(lines)
    header = next(rows, "").strip().split(",")
    column = {name.strip(): i for i, name in enumerate(header)}
    try:
        cols = [
            [column[f"{MHAD_TO_KINECT_V1[j]}.{axis}"] for axis in "xyz"] for j in KINECT_V1_JOINTS
        ]
        t_col = column["time"]
    except KeyError as exc:
        raise ValueError(f"header: no column {exc.args[0]!r}") from exc
    samples: list[tuple[float, npt.NDArray[np.float64]]] = []
    for number, line in enumerate(rows, start=2):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split(",")]
            xyz = np.array([[values[c] for c in joint] for joint in cols], dtype=np.float64)
        except (ValueError, IndexError) as exc:
            raise ValueError(f"line {number}: {exc}") from exc
        samples.append((values[t_col], xyz / 100.0))
    if not samples:
        return []
    first = samples[0][1]
    centre = first[KINECT_V1_INDEX["HipCenter"]]
    frames: list[Frame] = []
    next_t = samples[0][0]
    for t_s, xyz in samples:
        if t_s + 1e-9 < next_t:
            continue
        joints = np.ones((len(KINECT_V1_JOINTS), 4), dtype=np.float64)
        joints[:, 0] = -(xyz[:, 0] - centre[0])  # Kinect x: to the sensor's left
        joints[:, 1] = xyz[:, 1] - MHAD_CAMERA_HEIGHT_M
        joints[:, 2] = MHAD_DISTANCE_M + (xyz[:, 2] - centre[2])
        skeleton = kinect_v1_skeleton(joints, cam)
        t = round(t_s - samples[0][0], 6)
        frames.append(
            Frame(
                t, len(frames), cam.width_px, cam.height_px, () if skeleton is None else (skeleton,)
            )
        )
        next_t += 1.0 / fps
    return frames
