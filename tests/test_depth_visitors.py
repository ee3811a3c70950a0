"""Metric visitors from landmarks, rendered depth and the floor pose."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.visitors import floor_visitor, metric_visitor, pixel_to_floor
from exhibit.skeleton import LANDMARK_INDEX, NUM_LANDMARKS, Skeleton
from exhibit.synth.depth import DepthScene, render_depth
from tests.test_floor import QVGA

RADIUS_M = 0.22
# (lateral offset, height) on the body's axis, metres, for a 1.70 m person.
BODY = {
    "nose": (0.0, 1.56),
    "left_eye": (0.03, 1.59),
    "right_eye": (-0.03, 1.59),
    "left_shoulder": (0.15, 1.40),
    "right_shoulder": (-0.15, 1.40),
    "left_hip": (0.1, 0.90),
    "right_hip": (-0.1, 0.90),
    "left_wrist": (0.18, 0.85),
}


def scene_and_skeleton(
    pose: FloorPose, at: tuple[float, float], world: bool = False
) -> tuple[DepthFrame, Skeleton]:
    scene = DepthScene(
        pose,
        QVGA,
        person_at_m=at,
        hole_fraction=0.0,
        person_height_m=1.70,
        person_radius_m=RADIUS_M,
    )
    frame = DepthFrame(0.0, render_depth(scene), QVGA)
    landmarks = np.zeros((NUM_LANDMARKS, 4))
    camera_xy = pose.camera_to_floor(np.zeros((1, 3)))[0][:2]
    world_m = np.zeros((NUM_LANDMARKS, 3))
    for name, (lateral, height) in BODY.items():
        # on the body's front (the side facing the camera), offset sideways: where a pose
        # model puts a landmark in the image
        toward = camera_xy - np.array(at)
        toward /= np.linalg.norm(toward)
        across = np.array([toward[1], -toward[0]])
        front = np.sqrt(RADIUS_M**2 - lateral**2) * 0.98
        xy = np.array(at) + lateral * across + front * toward
        p_floor = np.array([xy[0], xy[1], height])
        cam = pose.floor_to_camera(p_floor.reshape(1, 3))[0]
        u = QVGA.fx * cam[0] / cam[2] + QVGA.cx
        v = QVGA.fy * cam[1] / cam[2] + QVGA.cy
        i = LANDMARK_INDEX[name]
        landmarks[i] = ((u + 0.5) / QVGA.width, (v + 0.5) / QVGA.height, 0.0, 0.99)
        world_m[i] = cam  # camera axes, as MediaPipe's world landmarks (shifted to the hips below)
    hips = 0.5 * (world_m[LANDMARK_INDEX["left_hip"]] + world_m[LANDMARK_INDEX["right_hip"]])
    return frame, Skeleton(landmarks, world_m - hips if world else None)


@settings(max_examples=25, deadline=None)
@given(
    height=st.floats(1.8, 3.0),
    pitch=st.floats(20.0, 50.0),
    x=st.floats(-0.6, 0.6),
    ahead=st.floats(1.8, 3.5),
)
def test_floor_position_height_and_distance(
    height: float, pitch: float, x: float, ahead: float
) -> None:
    pose = FloorPose.from_angles(height, pitch, 0.0)
    frame, skeleton = scene_and_skeleton(pose, (x, ahead))
    visitor = metric_visitor(skeleton, frame, pose, screen_xy_m=(0.0, 5.0))
    torso = skeleton.landmarks[[LANDMARK_INDEX[n] for n in ("left_hip", "left_shoulder")], :2]
    if not ((torso >= 0.0) & (torso < 1.0)).all(axis=1).any():
        assert visitor is None  # the torso is out of the picture: no guess
        return
    assert visitor is not None
    assert visitor.floor_xy_m[0] == pytest.approx(x, abs=0.15)
    assert visitor.floor_xy_m[1] == pytest.approx(ahead, abs=0.15)
    eyes = skeleton.landmarks[LANDMARK_INDEX["left_eye"], :2]
    if eyes.min() >= 0.0 and eyes.max() < 1.0:
        assert visitor.height_m == pytest.approx(1.70, abs=0.08)
    else:  # the head is out of the picture: no height rather than a wrong one
        assert visitor.height_m is None
    assert visitor.distance_m == pytest.approx(np.hypot(x, 5.0 - ahead), abs=0.15)
    assert visitor.from_world == 0


def test_world_landmarks_fill_depth_holes() -> None:
    pose = FloorPose.from_angles(2.2, 35.0, 0.0)
    frame, skeleton = scene_and_skeleton(pose, (0.0, 2.5), world=True)
    u = int(skeleton.landmarks[LANDMARK_INDEX["left_wrist"], 0] * QVGA.width)
    v = int(skeleton.landmarks[LANDMARK_INDEX["left_wrist"], 1] * QVGA.height)
    frame.depth_mm[v - 6 : v + 7, u - 6 : u + 7] = 0  # the wrist falls in a hole
    visitor = metric_visitor(skeleton, frame, pose)
    assert visitor is not None and visitor.from_world == 1
    wrist = visitor.joints_m["left_wrist"]
    assert wrist[2] == pytest.approx(0.85, abs=0.15)


def test_no_torso_depth_is_no_visitor() -> None:
    pose = FloorPose.from_angles(2.2, 35.0, 0.0)
    frame, skeleton = scene_and_skeleton(pose, (0.0, 2.5))
    frame.depth_mm[:] = 0
    assert metric_visitor(skeleton, frame, pose) is None


def feet_skeleton(pose: FloorPose, at: tuple[float, float]) -> Skeleton:
    landmarks = np.zeros((NUM_LANDMARKS, 4))
    world = np.zeros((NUM_LANDMARKS, 3))
    for name, dx in (("left_heel", 0.1), ("right_heel", -0.1)):
        cam = pose.floor_to_camera(np.array([[at[0] + dx, at[1], 0.0]]))[0]
        u = QVGA.fx * cam[0] / cam[2] + QVGA.cx
        v = QVGA.fy * cam[1] / cam[2] + QVGA.cy
        landmarks[LANDMARK_INDEX[name]] = ((u + 0.5) / QVGA.width, (v + 0.5) / QVGA.height, 0, 1)
        world[LANDMARK_INDEX[name]] = (dx, 0.92, 0.0)  # y down, from the hips
    for name in ("left_foot_index", "right_foot_index"):
        world[LANDMARK_INDEX[name]] = (0.0, 0.90, -0.1)
    for name in ("left_eye", "right_eye"):
        world[LANDMARK_INDEX[name]] = (0.0, -0.67, -0.05)
    return Skeleton(landmarks, world)


def test_without_depth_feet_on_a_hand_measured_floor() -> None:
    pose = FloorPose.from_angles(2.0, 30.0, 0.0)
    skeleton = feet_skeleton(pose, (0.3, 3.0))
    visitor = floor_visitor(skeleton, pose, QVGA)
    assert visitor is not None
    assert visitor.floor_xy_m == pytest.approx((0.3, 3.0), abs=1e-6)
    assert visitor.height_m == pytest.approx(0.92 + 0.67 + 0.11)
    # The documented error: a pitch 1 deg off moves a point d away by (h^2 + d^2) / h * dp.
    tilted = FloorPose.from_angles(2.0, 31.0, 0.0)
    off = floor_visitor(skeleton, tilted, QVGA)
    assert off is not None
    expected = (2.0**2 + 3.0**2) / 2.0 * np.radians(1.0)
    assert abs(off.floor_xy_m[1] - 3.0) == pytest.approx(expected, rel=0.15)
    assert pixel_to_floor(pose, QVGA, QVGA.cx, -500.0) is None  # above the horizon
