"""A live depth camera in ``exhibit run``: ``[depth] device`` through the config, paired with
the colour frames at the source boundary, its floor spots written into ``--record`` (format
version 4) and replayed without the camera, the depth or the calibration to the same events.

No RealSense or OAK-D here: the device is stood in for by our own recorded depth format
(:class:`~exhibit.depth.recorded.RecordedDepth`, rendered by the synthetic scene), opened
through the same ``open_device`` registry the config path uses. The missing-package error is
the real one (the packages are not installed here; the tests skip where they are).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.floor import Calibration, FloorFit, save_calibration
from exhibit.cli import main
from exhibit.config.load import load, loads
from exhibit.depth import devices
from exhibit.depth.config import DepthConfig
from exhibit.depth.errors import DepthError
from exhibit.depth.frame import DepthFrame
from exhibit.depth.intrinsics import Intrinsics
from exhibit.depth.live import LiveDepth
from exhibit.depth.pairing import metric_frames
from exhibit.depth.recorded import RecordedDepth
from exhibit.depth.spot import MetricSkeleton, spot_of
from exhibit.errors import ConfigError
from exhibit.recording.format import RecordingHeader
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame
from tests.test_depth_visitors import scene_and_skeleton
from tests.test_floor import QVGA
from tests.test_metric_pipeline import CONFIG, FPS, NEAR_Y_M, POSE, X_M, with_heels

FRAMES = 30
LIVE = """
[camera]
device = "{visit}"

[depth]
device = "realsense"
serial = "stand-in"
max_age_s = 60
"""
HAS_REALSENSE = importlib.util.find_spec("pyrealsense2") is not None


class RecordedCamera:
    """A depth camera stood in for by a recorded sequence, replayed in a loop at its rate:
    what ``open_device`` returns, with the same constructor arguments."""

    def __init__(
        self, folder: Path, fps: int = 30, serial: str = "", width: int = 0, height: int = 0
    ) -> None:
        self.recorded = RecordedDepth(folder)
        self.fps, self.serial = fps, serial
        self.closed = threading.Event()

    @property
    def intrinsics(self) -> Intrinsics:
        return self.recorded.intrinsics

    def frames(self) -> Iterator[DepthFrame]:
        while not self.closed.is_set():
            yield from self.recorded.frames()
            time.sleep(1.0 / self.fps)

    def close(self) -> None:
        self.closed.set()


def write_live_scene(folder: Path) -> tuple[Path, Path]:
    """A config with a live depth camera, its calibration, the colour frames (a person who
    stands in the zone at 2 m) and the depth the stand-in camera replays."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "exhibit.toml"
    # the "camera" is the recording of the colour frames' poses (a .jsonl device is read as one)
    config.write_text(CONFIG + LIVE.format(visit=folder / "visit.jsonl"), encoding="utf-8")
    fit = FloorFit(POSE, 0.002, 0.98, 0.6, 0.95)
    save_calibration(
        folder / "calibration.json", Calibration(fit, QVGA, "2026-01-01T00:00:00Z", "synthetic")
    )
    depth = folder / "depth"
    depth.mkdir()
    meta = {**QVGA.to_dict(), "fps": FPS, "depth_format": "mm"}
    (depth / "intrinsics.json").write_text(json.dumps(meta), encoding="utf-8")
    frame, skeleton = scene_and_skeleton(POSE, (X_M, NEAR_Y_M), world=True)
    assert cv2.imwrite(str(depth / "depth_00000.png"), frame.depth_mm)
    body = with_heels(skeleton, (X_M, NEAR_Y_M))
    header = RecordingHeader("synth:live", FPS, QVGA.width, QVGA.height)
    with RecordingWriter(folder / "visit.jsonl", header) as writer:
        for i in range(FRAMES):
            writer.write(Frame(i / FPS, i, QVGA.width, QVGA.height, (body,)))
    return config, depth


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """The scene, with ``realsense`` in the device registry opening the recorded stand-in
    (monkeypatch restores the registry afterwards)."""
    config, depth = write_live_scene(tmp_path / "site")
    monkeypatch.setitem(devices.DEVICES, "realsense", partial(RecordedCamera, depth))
    return config, depth


def test_a_live_run_pairs_the_device_and_its_recording_replays_without_it(
    stand_in: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = stand_in
    run_log, recorded = tmp_path / "run.jsonl", tmp_path / "rec.jsonl"
    args = ["run", str(config), "--quiet", "--log", str(run_log), "--record", str(recorded)]
    assert main(args) == 0
    recording = read_recording(recorded)
    assert recording.header.version == 4  # floor spots in it
    bodies = [s for f in recording.frames() for s in f.skeletons]
    assert len(bodies) == FRAMES and all(isinstance(s, MetricSkeleton) for s in bodies)
    spots = [spot_of(s) for s in bodies]
    assert {s.source for s in spots if s is not None} == {"depth"}  # the device's depth
    for spot in spots:
        assert spot is not None and spot.floor_xy_m == pytest.approx((X_M, NEAR_Y_M), abs=0.15)
    assert b'"kind":"zone"' in run_log.read_bytes()

    # The replay needs neither the device, nor the depth, nor the calibration.
    elsewhere = tmp_path / "office"
    elsewhere.mkdir()
    shutil.copy(config, elsewhere / "exhibit.toml")
    replay_log = tmp_path / "replay.jsonl"
    replay = ["replay", str(elsewhere / "exhibit.toml"), str(recorded), "--log", str(replay_log)]
    assert main(replay) == 0
    assert replay_log.read_bytes() == run_log.read_bytes()


def test_depth_from_the_command_line_replaces_the_device(
    stand_in: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, depth = stand_in
    monkeypatch.setitem(devices.DEVICES, "realsense", _never)
    log = tmp_path / "log.jsonl"
    assert main(["run", str(config), "--quiet", "--depth", str(depth), "--log", str(log)]) == 0
    assert b'"kind":"zone"' in log.read_bytes()


def _never(**_: object) -> devices.RealSenseDepth:
    raise AssertionError("the device must not be opened")


def test_replays_and_files_do_not_open_the_device(tmp_path: Path) -> None:
    config, _ = write_live_scene(tmp_path)
    visit = str(tmp_path / "visit.jsonl")
    # pyrealsense2 is not installed here: opening the device would fail
    assert main(["run", str(config), "--quiet", "--replay", visit, "--speed", "100"]) == 0
    assert main(["replay", str(config), visit, "--log", str(tmp_path / "l.jsonl")]) == 0


@pytest.mark.skipif(HAS_REALSENSE, reason="pyrealsense2 is installed: no missing-package error")
def test_a_missing_camera_package_is_named_by_check_and_stops_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = write_live_scene(tmp_path)
    assert main(["check", str(config), "--offline"]) == 0
    err = capsys.readouterr().err
    assert "warning: depth.device: RealSense camera: the Python package 'pyrealsense2'" in err
    assert "pip install 'exhibit[depth]'" in err
    log = tmp_path / "log.jsonl"
    assert main(["run", str(config), "--quiet", "--log", str(log)]) == 2
    err = capsys.readouterr().err
    assert "error: RealSense camera: the Python package 'pyrealsense2' is not installed" in err
    assert not log.exists()  # stopped before the first frame


def test_a_device_without_the_floor_calibration_is_a_clear_error(
    stand_in: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stand_in
    (config.parent / "calibration.json").unlink()
    with pytest.raises(DepthError, match=r"\[depth\] device needs the floor calibration"):
        metric_frames(load(config), device=True)
    assert main(["run", str(config), "--quiet"]) == 2
    assert "exhibit calibrate floor" in capsys.readouterr().err


# -- [depth] in the config ---------------------------------------------------------------------


def test_depth_config_keys() -> None:
    base = '[show]\ninitial = "a"\n[show.states.a]\n'
    assert loads(base).depth == DepthConfig()  # no [depth]: no device
    cfg = loads(
        base + '[depth]\ndevice = "oakd"\nserial = "1844301011F4C51200"\nwidth_px = 640\n'
        "height_px = 400\nfps = 15\nmax_age_s = 0.25\n"
    ).depth
    assert cfg == DepthConfig("oakd", "1844301011F4C51200", 640, 400, 15, 0.25)
    with pytest.raises(ConfigError) as info:
        loads(base + '[depth]\ndevice = "oak"\nfps = 0\nmax_age = 1\nserial = 5\n')
    text = str(info.value)
    assert 'depth.device: not one of the choices (got "oak")' in text
    assert 'did you mean "oakd"?' in text
    assert "depth.fps: out of range" in text
    assert "depth.max_age: unknown key" in text and 'did you mean "max_age_s"?' in text
    assert "depth.serial: not a string" in text


# -- the newest depth wins ---------------------------------------------------------------------


class FailingCamera(RecordedCamera):
    """Two frames, then the cable is pulled."""

    def frames(self) -> Iterator[DepthFrame]:
        frame = next(self.recorded.frames())
        yield frame
        yield frame
        raise DepthError("RealSense camera: frame didn't arrive within 5000 ms")


def test_a_device_that_stops_leaves_the_feet(tmp_path: Path) -> None:
    _, depth = write_live_scene(tmp_path)
    now = [0.0]
    live = LiveDepth(FailingCamera(depth), max_age_s=0.5, clock=lambda: now[0]).start(5.0)
    assert live._thread is not None
    live._thread.join(5.0)
    assert live.frames_read == 2
    assert live.error is not None and "didn't arrive" in live.error
    assert live.at(0.0) is not None  # the last frame, while fresh
    assert live.health()["frames"] == 2 and live.health()["ok"] is False  # stopped: an error
    assert "didn't arrive" in str(live.health()["error"])
    now[0] = 0.6
    assert live.at(0.0) is None  # stale: the visitor is placed by the feet
    live.close()


def test_depth_health_says_fresh_or_stale() -> None:
    """What ``exhibit status`` shows as ``depth`` for a live camera."""
    clock = [10.0]
    live = LiveDepth(max_age_s=0.5, clock=lambda: clock[0])
    assert live.health() == {"ok": False, "frames": 0, "age_s": None, "error": None}
    image = np.zeros((QVGA.height, QVGA.width), np.uint16)
    live.offer(DepthFrame(1.0, image, QVGA))
    clock[0] = 10.2
    assert live.health() == {"ok": True, "frames": 1, "age_s": 0.2, "error": None}
    clock[0] = 11.0
    assert live.health()["ok"] is False and live.health()["age_s"] == 1.0


def test_newest_frame_wins_and_nothing_queues() -> None:
    clock = [10.0]
    live = LiveDepth(max_age_s=0.5, clock=lambda: clock[0])
    assert live.at(0.0) is None  # nothing yet
    image = np.zeros((QVGA.height, QVGA.width), np.uint16)
    first, second = DepthFrame(1.0, image, QVGA), DepthFrame(2.0, image, QVGA)
    live.offer(first)
    live.offer(second)
    assert live.at(123.0) is second and live.frames_read == 2
