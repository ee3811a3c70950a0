"""Floor calibration against rendered depth of known poses; saving it so it survives a power
cut; a corrupt file never silently replaced; has the camera moved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.floor import (
    Calibration,
    CalibrationFileError,
    FitSettings,
    fit_floor,
    load_calibration,
    median_depth,
    save_calibration,
)
from calibration.project import project_floor_points, project_floor_polygon
from calibration.verify import compare
from exhibit.atomic import AtomicWriteError, backup_path
from exhibit.depth.errors import FloorNotVisibleError
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics
from exhibit.synth.depth import DepthScene, render_depth

# A 320x240 depth mode (as RealSense and OAK-D offer): the same geometry, a quarter the pixels.
QVGA = Intrinsics(fx=262.5, fy=262.5, cx=159.5, cy=119.5, width=320, height=240, serial="A1")


def scene(height: float, pitch: float, roll: float, **kw: object) -> DepthScene:
    return DepthScene(FloorPose.from_angles(height, pitch, roll), QVGA, **kw)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    height=st.floats(1.0, 3.5),
    pitch=st.floats(15.0, 70.0),
    roll=st.floats(-15.0, 15.0),
    noise=st.floats(0.0, 0.003),
    holes=st.floats(0.0, 0.3),
    person_x=st.floats(-1.0, 1.0),
    seed=st.integers(0, 1000),
)
def test_recovers_height_pitch_and_roll(
    height: float,
    pitch: float,
    roll: float,
    noise: float,
    holes: float,
    person_x: float,
    seed: int,
) -> None:
    # The person stands where the camera sees them: ahead of its foot point.
    ahead = height / np.tan(np.radians(pitch))
    depth = render_depth(
        scene(
            height,
            pitch,
            roll,
            noise_m_at_1m=noise,
            hole_fraction=holes,
            person_at_m=(person_x, ahead),
            seed=seed,
        )
    )
    fit = fit_floor(depth, QVGA)
    assert fit.height_m == pytest.approx(height, abs=0.02)
    assert fit.pitch_deg == pytest.approx(pitch, abs=0.5)
    assert fit.roll_deg == pytest.approx(roll, abs=0.5)
    assert fit.residual_m < 0.05
    assert 0.3 < fit.inlier_fraction <= 1.0


def test_a_table_above_the_floor_is_not_taken_for_it() -> None:
    depth = render_depth(scene(2.0, 45.0, 0.0, noise_m_at_1m=0.001))
    table = render_depth(scene(1.25, 45.0, 0.0, noise_m_at_1m=0.001, seed=1))
    # The table (0.75 m high) fills the upper part of the view, in front of the floor.
    depth[:110] = np.where(table[:110] > 0, np.minimum(table[:110], depth[:110]), depth[:110])
    fit = fit_floor(depth, QVGA)
    assert fit.height_m == pytest.approx(2.0, abs=0.02)


def test_all_zero_depth_is_floor_not_visible_with_the_fraction() -> None:
    with pytest.raises(FloorNotVisibleError, match=r"floor not visible.*valid depth in 0%") as e:
        fit_floor(np.zeros((240, 320), np.uint16), QVGA)
    assert e.value.valid_fraction == 0.0


def test_hole_ridden_depth_is_floor_not_visible() -> None:
    depth = render_depth(scene(2.0, 45.0, 0.0, hole_fraction=0.0))
    rng = np.random.default_rng(0)
    depth[rng.random(depth.shape) < 0.97] = 0
    with pytest.raises(FloorNotVisibleError, match=r"valid depth in 3% of the image") as e:
        fit_floor(depth, QVGA)
    assert 0.0 < e.value.valid_fraction < 0.05


def test_a_wall_only_is_floor_not_visible() -> None:
    wall = np.full((240, 320), 1800, np.uint16)  # a wall square to a level camera
    with pytest.raises(FloorNotVisibleError, match="floor not visible"):
        fit_floor(wall, QVGA)
    with pytest.raises(FloorNotVisibleError, match=r"floor in \d+%"):
        # the floor in a sliver at the bottom, the rest a wall
        depth = render_depth(scene(2.0, 5.0, 0.0))
        depth[:225] = 1800
        fit_floor(depth, QVGA, FitSettings(min_floor_fraction=0.2))


def test_median_of_frames_fills_holes() -> None:
    a = np.array([[1000, 0, 0]], np.uint16)
    b = np.array([[1010, 2000, 0]], np.uint16)
    c = np.array([[1020, 2000, 0]], np.uint16)
    assert median_depth([a, b, c]).tolist() == [[1010, 2000, 0]]


def calibration(height: float = 2.0, pitch: float = 40.0, stamp: str = "t1") -> Calibration:
    fit = fit_floor(render_depth(scene(height, pitch, 2.0)), QVGA)
    return Calibration(fit, QVGA, stamp, source="synthetic", frames=1)


def test_saved_calibration_round_trips_with_serial_time_residual(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration())
    raw = json.loads(path.read_text())
    assert raw["device_serial"] == "A1" and raw["created_utc"] == "t1"
    assert {"residual_m", "inlier_fraction", "height_m", "pitch_deg", "roll_deg"} <= set(raw)
    back = load_calibration(path)
    assert back.fit.height_m == pytest.approx(2.0, abs=0.02)
    assert back.intrinsics == QVGA
    assert np.allclose(back.pose.matrix(), np.array(raw["camera_to_floor"]), atol=1e-6)


def test_second_save_keeps_the_first_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration(stamp="first"))
    save_calibration(path, calibration(stamp="second"))
    assert load_calibration(path).created_utc == "second"
    assert load_calibration(backup_path(path)).created_utc == "first"


def test_failed_write_leaves_old_file_and_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration(stamp="first"))
    save_calibration(path, calibration(stamp="second"))
    before = (path.read_bytes(), backup_path(path).read_bytes())

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(AtomicWriteError, match="No space left"):
        save_calibration(path, calibration(stamp="third"))
    assert (path.read_bytes(), backup_path(path).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "calibration.json",
        "calibration.json.bak",
    ]


CRASH = """
import os, sys
from calibration.floor import Calibration, FloorFit, save_calibration
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import PRIMESENSE
real_replace = os.replace
def die(src, dst):  # the power goes just before the new file takes the old one's place
    os._exit(9)
os.replace = die
fit = FloorFit(FloorPose.from_angles(9.9, 10.0, 0.0), 0.01, 0.9, 0.5, 0.9)
save_calibration(sys.argv[1], Calibration(fit, PRIMESENSE, "crash"))
"""


def test_crash_mid_write_leaves_the_old_calibration(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration(stamp="good"))
    done = subprocess.run([sys.executable, "-c", CRASH, str(path)], check=False)
    assert done.returncode == 9
    assert load_calibration(path).created_utc == "good"


def test_corrupt_file_offers_the_good_backup_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration(stamp="first"))
    save_calibration(path, calibration(stamp="second"))
    path.write_text('{"version": 1, "height_m": 2.')  # half-written by something else
    with pytest.raises(CalibrationFileError) as e:
        load_calibration(path)
    message = str(e.value)
    assert "corrupt calibration (not valid JSON" in message
    assert "backup" in message and "is good (from first" in message
    assert f"cp {backup_path(path)} {path}" in message
    assert path.read_text() == '{"version": 1, "height_m": 2.'  # not replaced


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.pop("floor_normal"), "missing or malformed key 'floor_normal'"),
        (lambda d: d.update(floor_normal=[0, 0, 3]), "not a unit vector"),
        (lambda d: d.update(height_m=-1), "height_m must be > 0"),
        (lambda d: d.update(version=7), "version 7"),
        (lambda d: d["intrinsics"].pop("fx"), "missing fx"),
    ],
)
def test_malformed_calibration_is_corrupt(tmp_path: Path, mutate: object, problem: str) -> None:
    path = tmp_path / "calibration.json"
    save_calibration(path, calibration())
    raw = json.loads(path.read_text())
    mutate(raw)  # type: ignore[operator]
    path.write_text(json.dumps(raw))
    with pytest.raises(CalibrationFileError, match="no backup") as e:
        load_calibration(path)
    assert problem in str(e.value)


def test_missing_calibration_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(CalibrationFileError, match="run: exhibit calibrate floor"):
        load_calibration(tmp_path / "none.json")


def test_verify_notices_a_bumped_camera_and_not_noise() -> None:
    saved = fit_floor(render_depth(scene(2.5, 35.0, 1.0, seed=1)), QVGA)
    same = fit_floor(render_depth(scene(2.5, 35.0, 1.0, seed=2)), QVGA)
    bumped = fit_floor(render_depth(scene(2.5, 38.0, 1.0, seed=3)), QVGA)
    lowered = fit_floor(render_depth(scene(2.4, 35.0, 1.0, seed=4)), QVGA)
    assert not compare(saved.pose, same.pose).moved
    result = compare(saved.pose, bumped.pose)
    assert result.moved and result.angle_deg == pytest.approx(3.0, abs=0.3)
    assert "MOVED" in result.describe()
    assert compare(saved.pose, lowered.pose).moved
    assert compare(saved.pose, same.pose, serial_changed=True).moved


@settings(max_examples=50, deadline=None)
@given(
    height=st.floats(0.5, 4.0),
    pitch=st.floats(-10.0, 89.0),
    roll=st.floats(-30.0, 30.0),
    ox=st.floats(-2, 2),
    oy=st.floats(-2, 2),
)
def test_camera_floor_transform_round_trips(
    height: float, pitch: float, roll: float, ox: float, oy: float
) -> None:
    pose = FloorPose.from_angles(height, pitch, roll, (ox, oy))
    assert pose.pitch_deg == pytest.approx(pitch, abs=1e-6)
    assert pose.roll_deg == pytest.approx(roll, abs=1e-6)
    points = np.array([[0.3, -0.2, 2.0], [1.0, 1.0, 5.0], [0.0, 0.0, 0.0]])
    assert np.allclose(pose.floor_to_camera(pose.camera_to_floor(points)), points)
    assert pose.camera_to_floor([[0, 0, 0]])[0] == pytest.approx([-ox, -oy, height])
    rot = pose.rotation()
    assert np.allclose(rot @ rot.T, np.eye(3))
    assert np.linalg.det(rot) == pytest.approx(1.0)


def test_floor_polygon_projects_onto_the_rendered_floor() -> None:
    pose = FloorPose.from_angles(2.0, 40.0, 4.0)
    depth = render_depth(DepthScene(pose, QVGA, noise_m_at_1m=0.0, hole_fraction=0.0))
    square = [(-0.5, 2.0), (0.5, 2.0), (0.5, 3.0), (-0.5, 3.0)]
    pixels = project_floor_polygon(pose, QVGA, square)
    assert len(pixels) > 4 * 10  # densified edges
    for (x, y), (u, v) in zip(square, project_floor_points(pose, QVGA, square), strict=True):
        cam = pose.floor_to_camera([[x, y, 0.0]])[0]
        assert depth[round(v), round(u)] / 1000 == pytest.approx(cam[2], abs=0.02)
    # a corner behind the camera is left out, not drawn at a wrong place
    assert len(project_floor_points(pose, QVGA, [(0.0, -3.0)])) == 0
