"""The parametric body: anatomically plausible, MediaPipe's conventions, deterministic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.skeleton import LANDMARK_INDEX, VIS, FloatArray, Skeleton, X, Y, Z
from exhibit.synth.body import (
    DROPOUT_VISIBILITY,
    OUTSIDE_VISIBILITY,
    ArmPose,
    BodyShape,
    PinholeCamera,
    Pose,
    hip_height_m,
    make_skeleton,
    project,
    world_landmarks,
)
from exhibit.synth.script import (
    HANDS_UP_ARM,
    WAVE_ARM,
    empty_motion,
    idle_motion,
    render,
    scripted_visitor,
    sequence,
    visitor_script,
    walk_motion,
    wave_motion,
)

CAMERA = PinholeCamera()
IDX = LANDMARK_INDEX


def y_of(s: Skeleton, *names: str) -> float:
    """Mean image y of the named landmarks."""
    return float(np.mean([s.landmarks[IDX[n], Y] for n in names]))


def x_of(s: Skeleton, name: str) -> float:
    return float(s.landmarks[IDX[name], X])


def pair(name: str) -> tuple[str, str]:
    return f"left_{name}", f"right_{name}"


heights = st.floats(1.1, 1.9)
distances = st.floats(1.5, 4.0)
yaws = st.floats(-math.radians(45), math.radians(45))


@settings(max_examples=40, deadline=None)
@given(height_m=heights, distance_m=distances, yaw_rad=yaws, x_m=st.floats(-0.5, 0.5))
def test_standing_body_is_ordered_top_to_bottom_in_the_image(
    height_m: float, distance_m: float, yaw_rad: float, x_m: float
) -> None:
    s = make_skeleton(BodyShape(height_m), Pose(yaw_rad=yaw_rad), (x_m, distance_m), CAMERA)
    chain = [
        y_of(s, "nose"),
        y_of(s, *pair("shoulder")),
        y_of(s, *pair("hip")),
        y_of(s, *pair("knee")),
        y_of(s, *pair("ankle")),
    ]
    assert chain == sorted(chain)
    assert y_of(s, *pair("eye")) < y_of(s, "nose") < y_of(s, "mouth_left", "mouth_right")
    assert y_of(s, *pair("elbow")) < y_of(s, *pair("wrist"))


@settings(max_examples=30, deadline=None)
@given(height_m=heights, distance_m=distances, yaw_rad=yaws)
def test_visitors_left_appears_on_the_images_right(
    height_m: float, distance_m: float, yaw_rad: float
) -> None:
    """MediaPipe's ``left_*`` is the person's left: on the image's right when facing the camera."""
    s = make_skeleton(BodyShape(height_m), Pose(yaw_rad=yaw_rad), (0.0, distance_m), CAMERA)
    for part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        left, right = pair(part)
        assert x_of(s, left) > x_of(s, right), part
    assert x_of(s, "mouth_left") > x_of(s, "mouth_right")
    world = world_landmarks(BodyShape(height_m), Pose(yaw_rad=yaw_rad))
    assert world[IDX["left_shoulder"], 0] > world[IDX["right_shoulder"], 0]


@pytest.mark.parametrize("height_m", [1.1, 1.5, 1.7, 1.9])
def test_world_landmarks_are_plausible_metres(height_m: float) -> None:
    shape = BodyShape(height_m)
    w = world_landmarks(shape, Pose())
    hip_c = (w[IDX["left_hip"]] + w[IDX["right_hip"]]) / 2
    assert np.allclose(hip_c, 0.0, atol=1e-9)  # origin at the hip centre
    # y down: the floor lies just under the lowest foot landmark, and from the eyes to the floor
    # is ~0.936 of the height (the crown is not a landmark).
    floor_y = hip_height_m(shape, Pose())
    assert 0.0 <= floor_y - w[:, 1].max() < 0.01 * height_m
    assert (floor_y - w[IDX["left_eye"], 1]) / height_m == pytest.approx(0.936, abs=0.02)
    sw = np.linalg.norm(w[IDX["left_shoulder"]] - w[IDX["right_shoulder"]])
    assert sw / height_m == pytest.approx(0.259, abs=1e-6)
    arm = np.linalg.norm(w[IDX["left_shoulder"]] - w[IDX["left_elbow"]]) + np.linalg.norm(
        w[IDX["left_elbow"]] - w[IDX["left_wrist"]]
    )
    assert arm / height_m == pytest.approx(0.186 + 0.146, abs=1e-6)
    # Fingers near the wrist, heels and toes near the ankles.
    for side in ("left", "right"):
        for finger in ("pinky", "index", "thumb"):
            d = np.linalg.norm(w[IDX[f"{side}_{finger}"]] - w[IDX[f"{side}_wrist"]])
            assert 0.02 * height_m < d < 0.12 * height_m
        for foot in ("heel", "foot_index"):
            d = np.linalg.norm(w[IDX[f"{side}_{foot}"]] - w[IDX[f"{side}_ankle"]])
            assert 0.03 * height_m < d < 0.15 * height_m
    # The face looks at the camera: nose nearer than the ears (z negative towards the camera).
    assert w[IDX["nose"], 2] < w[IDX["left_ear"], 2]


def test_poses_move_the_right_joints() -> None:
    shape = BodyShape(1.7)
    stand = make_skeleton(shape, Pose(), (0.0, 2.5), CAMERA)
    up = make_skeleton(shape, Pose(left_arm=HANDS_UP_ARM, right_arm=HANDS_UP_ARM), (0, 2.5), CAMERA)
    assert y_of(up, *pair("wrist")) < y_of(up, "nose") < y_of(stand, *pair("wrist"))
    t_arm = ArmPose(abduction_rad=math.pi / 2, elbow_rad=0.0)
    t = make_skeleton(shape, Pose(left_arm=t_arm, right_arm=t_arm), (0.0, 2.5), CAMERA)
    assert y_of(t, "left_wrist") == pytest.approx(y_of(t, "left_shoulder"), abs=0.01)
    assert x_of(t, "left_wrist") - x_of(t, "right_wrist") > 3 * (
        x_of(t, "left_shoulder") - x_of(t, "right_shoulder")
    )
    wave = make_skeleton(shape, Pose(right_arm=WAVE_ARM), (0.0, 2.5), CAMERA)
    assert y_of(wave, "right_wrist") < y_of(wave, "right_elbow")
    crouch = make_skeleton(shape, Pose(crouch_rad=0.6), (0.0, 2.5), CAMERA)
    assert y_of(crouch, *pair("hip")) > y_of(stand, *pair("hip"))
    assert y_of(crouch, *pair("heel")) == pytest.approx(y_of(stand, *pair("heel")), abs=0.005)
    jump = make_skeleton(shape, Pose(jump_m=0.3), (0.0, 2.5), CAMERA)
    assert y_of(jump, *pair("ankle")) < y_of(stand, *pair("ankle")) - 0.05
    lean = make_skeleton(shape, Pose(lean_rad=0.3), (0.0, 2.5), CAMERA)  # to the visitor's left
    assert x_of(lean, "nose") > x_of(stand, "nose") + 0.03
    turned = make_skeleton(shape, Pose(yaw_rad=math.radians(45)), (0.0, 2.5), CAMERA)
    ratio = turned.shoulder_width() / stand.shoulder_width()
    assert ratio == pytest.approx(math.cos(math.radians(45)), abs=0.03)
    # Turned to their own left: the left shoulder goes away from the camera.
    assert turned.landmarks[IDX["left_shoulder"], Z] > turned.landmarks[IDX["right_shoulder"], Z]


def test_projection_follows_the_pinhole_and_mediapipe_depth() -> None:
    shape = BodyShape(1.7)
    w = world_landmarks(shape, Pose())
    lm = project(w, (0.0, 2.5), CAMERA, hip_height_m(shape, Pose()))
    hip_x = (lm[IDX["left_hip"], X] + lm[IDX["right_hip"], X]) / 2
    assert hip_x == pytest.approx(0.5)
    # Shoulder width in pixels = fx * metres / distance.
    sw_px = (lm[IDX["left_shoulder"], X] - lm[IDX["right_shoulder"], X]) * CAMERA.width_px
    assert sw_px == pytest.approx(CAMERA.fx_px * shape.shoulder_width_m / 2.5, rel=1e-6)
    # Nearer -> bigger; to the right -> further right.
    near = project(w, (0.0, 1.5), CAMERA, None)
    assert near[IDX["left_shoulder"], X] - near[IDX["right_shoulder"], X] > sw_px / CAMERA.width_px
    right = project(w, (0.5, 2.5), CAMERA, None)
    assert right[IDX["nose"], X] > lm[IDX["nose"], X]
    # MediaPipe z: relative to the hips, negative towards the camera, on the scale of x.
    assert abs(lm[IDX["left_hip"], Z]) < 1e-9
    assert lm[IDX["nose"], Z] < 0.0
    assert np.all(lm[:, VIS] == 1.0)


def test_joints_outside_the_image_have_low_visibility() -> None:
    s = make_skeleton(BodyShape(1.8), Pose(), (0.0, 1.0), CAMERA)  # feet below the frame
    assert s.landmarks[IDX["left_ankle"], Y] > 1.0
    assert s.visibility("left_ankle") == OUTSIDE_VISIBILITY
    assert s.visibility("nose") == 1.0


def test_noise_and_dropout_are_seeded() -> None:
    args = (BodyShape(1.7), Pose(), (0.0, 2.5), CAMERA)
    a = make_skeleton(*args, np.random.default_rng(3), noise_px=2.0, dropout=0.2)
    b = make_skeleton(*args, np.random.default_rng(3), noise_px=2.0, dropout=0.2)
    clean = make_skeleton(*args)
    assert np.array_equal(a.landmarks, b.landmarks)
    err_px = (a.landmarks[:, X] - clean.landmarks[:, X]) * CAMERA.width_px
    assert 0.5 < float(np.std(err_px)) < 4.0
    assert np.any(a.landmarks[:, VIS] == DROPOUT_VISIBILITY)
    assert a.world_m is not None


def test_render_timing_drops_and_presence() -> None:
    seg = sequence(empty_motion(1.0), idle_motion(2.0))
    frames = render(seg, fps=20.0, dropped_frames={25, 26})
    assert len(frames) == 60
    assert all(f.t_s == pytest.approx(f.index / 20.0) for f in frames)
    assert [bool(f.skeletons) for f in frames] == [False] * 20 + [True] * 5 + [False] * 2 + [
        True
    ] * 33
    jittered = render(seg, fps=20.0, jitter=0.3, seed=1)
    ts = [f.t_s for f in jittered]
    assert ts == sorted(ts) and ts != [f.t_s for f in frames]
    # Somebody mostly out of the frame is not reported.
    walk = render(walk_motion((-3.5, 2.5), (0.0, 2.5)), fps=10.0)
    assert not walk[0].skeletons and walk[-1].skeletons


def test_wave_motion_swings_the_right_forearm() -> None:
    frames = render(wave_motion(2.5, side="right", frequency_hz=2.0), fps=30.0)
    rel = [
        x_of(f.skeletons[0], "right_wrist") - x_of(f.skeletons[0], "right_elbow")
        for f in frames
        if 0.5 < f.t_s < 2.0
    ]
    left_still = {round(y_of(f.skeletons[0], "left_wrist"), 2) for f in frames}
    assert max(rel) - min(rel) > 0.03
    assert len(left_still) <= 3


def test_scripted_visitor_has_its_phases() -> None:
    fps = 30.0
    frames = scripted_visitor(fps=fps, seed=0)
    phases = {name: (a, b) for name, a, b in visitor_script(0).phases if name != "idle"}
    assert [n for n, _, _ in visitor_script(0).phases] == [
        "empty",
        "walk_in",
        "idle",
        "wave",
        "listen",
        "hands_up",
        "idle",
        "walk_out",
        "empty",
    ]
    assert 28.0 < frames[-1].t_s < 36.0
    assert all(f.t_s == f.index / fps for f in frames)
    assert {(f.width_px, f.height_px) for f in frames} == {(640, 480)}
    present = [bool(f.skeletons) for f in frames]
    assert not any(present[: int(2.0 * fps)])  # empty at the start
    assert not any(present[-int(4.0 * fps) :])  # and at the end
    for name in ("wave", "listen", "hands_up"):
        a, b = phases[name]
        assert all(bool(f.skeletons) for f in frames if a <= f.t_s < b), name
    # During the hands-up hold both wrists are above the nose.
    a, b = phases["hands_up"]
    mid = next(f for f in frames if f.t_s >= (a + b) / 2).skeletons[0]
    assert y_of(mid, "left_wrist") < y_of(mid, "nose") and y_of(mid, "right_wrist") < y_of(
        mid, "nose"
    )


def test_scripted_visitor_is_deterministic_for_a_seed() -> None:
    def arrays(seed: int) -> list[FloatArray]:
        return [
            f.skeletons[0].landmarks for f in scripted_visitor(fps=10.0, seed=seed) if f.skeletons
        ]

    a, b, c = arrays(1), arrays(1), arrays(2)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert len(a) != len(c) or not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
