"""``exhibit calibrate floor/verify/zones/report`` on depth the project renders itself."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from exhibit.cli import main
from exhibit.depth.geometry import FloorPose
from exhibit.synth.depth import DepthScene, render_depth
from tests.test_floor import QVGA


def record(
    folder: Path,
    pitch: float = 40.0,
    frames: int = 4,
    people: list[tuple[float, float] | None] | None = None,
    fps: float = 10.0,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intrinsics.json").write_text(json.dumps({**QVGA.to_dict(), "fps": fps}))
    spots = people if people is not None else [None] * frames
    pose = FloorPose.from_angles(2.2, pitch, 2.0)
    for i, spot in enumerate(spots):
        depth = render_depth(DepthScene(pose, QVGA, person_at_m=spot, seed=i))
        cv2.imwrite(str(folder / f"frame_{i:04d}.png"), depth)
    return folder


def test_floor_from_a_recording_saves_calibration_with_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = record(tmp_path / "rec")
    out = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(rec), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    # The recording holds fewer frames than the 30 asked for: progress counts to what it has.
    shown = len(list((tmp_path / "rec").glob("*.png")))
    assert f"capturing 1/{shown}: valid depth" in captured.err
    assert f"capturing {shown}/{shown}" in captured.err
    assert "height 2.20" in captured.out and "pitch 40.0" in captured.out
    saved = json.loads(out.read_text())
    assert saved["height_m"] == pytest.approx(2.2, abs=0.02)
    assert saved["frames"] == 4 and saved["device_serial"] == "A1"
    assert main(["calibrate", "floor", str(rec), "-o", str(out), "--origin", "0,1.5"]) == 0
    assert json.loads((tmp_path / "calibration.json.bak").read_text())["origin_m"] == [0.0, 0.0]
    assert json.loads(out.read_text())["origin_m"] == [0.0, 1.5]


def test_floor_not_visible_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "dark"
    rec.mkdir()
    (rec / "intrinsics.json").write_text(json.dumps(QVGA.to_dict()))
    cv2.imwrite(str(rec / "0.png"), np.zeros((240, 320), np.uint16))
    assert main(["calibrate", "floor", str(rec), "-o", str(tmp_path / "c.json")]) == 1
    assert "floor not visible" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_missing_intrinsics_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = record(tmp_path / "rec", frames=1)
    (rec / "intrinsics.json").unlink()
    assert main(["calibrate", "floor", str(rec)]) == 2
    assert "intrinsics.json: no intrinsics file" in capsys.readouterr().err


def test_corrupt_calibration_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = record(tmp_path / "rec", frames=2)
    out = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(rec), "-o", str(out)]) == 0
    assert main(["calibrate", "floor", str(rec), "-o", str(out)]) == 0
    good_bak = (tmp_path / "calibration.json.bak").read_bytes()
    out.write_text("{garbage")
    capsys.readouterr()
    assert main(["calibrate", "floor", str(rec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "corrupt calibration" in err and "is good" in err and "--replace-corrupt" in err
    assert out.read_text() == "{garbage"
    assert main(["calibrate", "verify", str(out), str(rec)]) == 2  # verify will not guess either
    assert main(["calibrate", "floor", str(rec), "-o", str(out), "--replace-corrupt"]) == 0
    assert (tmp_path / "calibration.json.corrupt").read_text() == "{garbage"
    assert (tmp_path / "calibration.json.bak").read_bytes() == good_bak
    assert json.loads(out.read_text())["version"] == 1


def test_verify_says_whether_the_camera_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(record(tmp_path / "a", frames=2)), "-o", str(out)]) == 0
    same = record(tmp_path / "same", frames=2)
    bumped = record(tmp_path / "bumped", pitch=43.0, frames=2)
    (bumped / "intrinsics.json").unlink()  # verify falls back on the calibration's intrinsics
    capsys.readouterr()
    assert main(["calibrate", "verify", str(out), str(same)]) == 0
    assert "camera unchanged" in capsys.readouterr().out
    assert main(["calibrate", "verify", str(out), str(bumped)]) == 1
    assert "MOVED" in capsys.readouterr().out
    assert main(["calibrate", "verify", str(out), str(bumped), "--max-angle-deg", "5"]) == 0


def test_per_frame_spread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = record(tmp_path / "rec", frames=3)
    assert main(["calibrate", "floor", str(rec), "--per-frame", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["frame"] for r in report["per_frame"]] == [f"frame_{i:04d}.png" for i in range(3)]
    assert report["summary"]["height_m"]["max_dev"] < 0.01


def test_zones_from_a_track_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    track = tmp_path / "track.csv"
    corners = [(-0.5, 1.5), (0.5, 1.5), (0.5, 2.5), (-0.5, 2.5)]
    rows = ["t_s,x_m,y_m"]
    t = 0.0
    for x, y in corners:
        for _ in range(25):  # 2.5 s still at each corner, 10 Hz, with 2 cm of sway
            rows.append(f"{t:.1f},{x + 0.02 * np.sin(7 * t):.3f},{y:.3f}")
            t += 0.1
        rows.append(f"{t:.1f},0.0,2.0")  # walking between corners
        t += 0.1
    track.write_text("\n".join(rows) + "\n")
    out = tmp_path / "zone.toml"
    assert main(["calibrate", "zones", "step_here", "--track", str(track), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("[zones.step_here]\npolygon_m = [[-0.49")
    assert out.read_text() == text
    track.write_text("\n".join(rows[:40]) + "\n")  # stopped after one corner
    assert main(["calibrate", "zones", "x", "--track", str(track)]) == 1
    assert "only 1 corner(s) found" in capsys.readouterr().err
    track.write_text("t_s,x_m,y_m\n0.0,one,2\n")
    assert main(["calibrate", "zones", "x", "--track", str(track)]) == 1
    assert "track.csv:2: expected t_s,x_m,y_m" in capsys.readouterr().err


def test_zones_from_depth_of_the_technician(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = record(tmp_path / "empty", frames=2)
    calib = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(empty), "-o", str(calib)]) == 0
    corners = [(-0.6, 2.5), (0.6, 2.5), (0.0, 3.5)]
    spots: list[tuple[float, float] | None] = [c for c in corners for _ in range(6)]
    walk = record(tmp_path / "walk", people=spots, fps=2.0)  # 3 s at each corner
    capsys.readouterr()
    assert (
        main(["calibrate", "zones", "spot", "--depth", str(walk), "--calibration", str(calib)]) == 0
    )
    err = capsys.readouterr().err
    found = [
        tuple(float(v) for v in line.split("(")[1].split(")")[0].split(", "))
        for line in err.splitlines()
        if line.startswith("corner ")
    ]
    assert len(found) == 3
    for (x, y), (fx, fy) in zip(corners, found, strict=True):
        assert math_dist(x, y, fx, fy) < 0.2  # the body's visible side, not its axis


def math_dist(x: float, y: float, fx: float, fy: float) -> float:
    return float(np.hypot(x - fx, y - fy))


def test_report_writes_text_and_top_view_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = record(tmp_path / "rec", frames=2)
    calib = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(rec), "-o", str(calib)]) == 0
    config = tmp_path / "exhibit.toml"
    config.write_text(
        '[show]\ninitial = "idle"\n[show.states.idle]\n'
        "[zones.step_here]\npolygon_m = [[-0.4, 1.6], [0.4, 1.6], [0.4, 2.4], [-0.4, 2.4]]\n"
    )
    base = tmp_path / "report"
    args = ["calibrate", "report", str(calib), "-o", str(base), "--config", str(config)]
    assert main([*args, "--depth", str(rec)]) == 0
    text = (tmp_path / "report.txt").read_text()
    assert "camera height:   2.2" in text and "step_here: 0.64 m2" in text
    png = cv2.imread(str(tmp_path / "report.png"))
    assert png is not None and png.shape[0] >= 600
    assert main(["calibrate", "report", str(tmp_path / "nope.json")]) == 2


def test_verify_takes_tolerances_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "calibration.json"
    assert main(["calibrate", "floor", str(record(tmp_path / "a", frames=2)), "-o", str(out)]) == 0
    bumped = record(tmp_path / "bumped", pitch=43.0, frames=2)
    config = tmp_path / "exhibit.toml"
    config.write_text(
        '[show]\ninitial = "idle"\n[show.states.idle]\n[calibration]\nmax_angle_change_deg = 5\n'
    )
    assert main(["calibrate", "verify", str(out), str(bumped), "--config", str(config)]) == 0
    config.write_text("[calibration]\nmax_angle = 5\n")
    assert main(["calibrate", "verify", str(out), str(bumped), "--config", str(config)]) == 2
    assert 'did you mean "max_angle_change_deg"' in capsys.readouterr().err


def test_a_depth_camera_without_its_library_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if importlib.util.find_spec("pyrealsense2") is not None:
        pytest.skip("pyrealsense2 is installed")
    assert main(["calibrate", "floor", "--device", "realsense", "-o", "x.json"]) == 2
    assert "RealSense camera: the Python package 'pyrealsense2' is not installed" in (
        capsys.readouterr().err
    )
