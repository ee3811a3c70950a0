"""Metric visitors in the pipeline: a rendered depth scene with a person at known floor
positions -> floor spots at the source boundary -> zone events, show transitions, engagement's
distance, sessions; byte-identical replays; and nothing changes without depth or calibration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from calibration.floor import Calibration, FloorFit, save_calibration
from exhibit.analytics.sessions import SessionBuilder
from exhibit.cli import main
from exhibit.config.load import load, loads
from exhibit.config.schema import Config
from exhibit.depth.errors import DepthError
from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.pairing import DepthByTime, MetricFrames, metric_frames
from exhibit.depth.recorded import RecordedDepth
from exhibit.depth.spot import FloorSpot, MetricSkeleton, measure, spot_of
from exhibit.engagement import EngagementConfig, EngagementTracker, EngagementWeights
from exhibit.errors import ConfigError
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.controls import CommandedFrame, ControlRecord, controls_of
from exhibit.recording.format import RecordingHeader
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import LANDMARK_INDEX, Frame, Skeleton
from tests.test_depth_visitors import scene_and_skeleton
from tests.test_floor import QVGA

ROOT = Path(__file__).resolve().parent.parent
POSE = FloorPose.from_angles(2.2, 35.0, 0.0)
FPS = 10.0
X_M = 0.2
FAR_Y_M, NEAR_Y_M = 4.0, 2.0
# The person stands far (out of the zone), steps in at frame 15, out again at frame 35.
PATH_Y_M = [FAR_Y_M] * 15 + [NEAR_Y_M] * 20 + [FAR_Y_M] * 15
ZONE_HOLD_S = 0.25
CONFIG = f"""
[exhibit]
name = "metric"

[zones.near]
polygon_m = [[-0.6, 1.5], [0.6, 1.5], [0.6, 2.6], [-0.6, 2.6]]
hold_s = {ZONE_HOLD_S}

[calibration]
file = "calibration.json"

[show]
initial = "idle"

[show.states.idle]
transitions = [{{ on = "zone.enter.near", to = "close" }}]

[show.states.close]
transitions = [{{ on = "zone.leave.near", to = "idle" }}]
"""


def with_heels(skeleton: Skeleton, at: tuple[float, float]) -> Skeleton:
    """The test body plus its heels on the floor (what the feet fallback looks at)."""
    landmarks = skeleton.landmarks.copy()
    for name, dx in (("left_heel", 0.1), ("right_heel", -0.1)):
        cam = POSE.floor_to_camera(np.array([[at[0] + dx, at[1], 0.0]]))[0]
        u = QVGA.fx * cam[0] / cam[2] + QVGA.cx
        v = QVGA.fy * cam[1] / cam[2] + QVGA.cy
        landmarks[LANDMARK_INDEX[name]] = ((u + 0.5) / QVGA.width, (v + 0.5) / QVGA.height, 0, 1)
    return Skeleton(landmarks, skeleton.world_m)


def write_scene(folder: Path) -> tuple[Path, Path, Path]:
    """The config (with its calibration), a recording of the pose and the depth sequence."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "exhibit.toml"
    config.write_text(CONFIG, encoding="utf-8")
    fit = FloorFit(POSE, 0.002, 0.98, 0.6, 0.95)
    save_calibration(
        folder / "calibration.json", Calibration(fit, QVGA, "2026-01-01T00:00:00Z", "synthetic")
    )
    depth = folder / "depth"
    depth.mkdir()
    meta = {**QVGA.to_dict(), "fps": FPS, "depth_format": "mm"}
    (depth / "intrinsics.json").write_text(json.dumps(meta), encoding="utf-8")
    recording = folder / "visit.jsonl"
    header = RecordingHeader("synth:metric", FPS, QVGA.width, QVGA.height)
    with RecordingWriter(recording, header) as writer:
        for i, y in enumerate(PATH_Y_M):
            frame, skeleton = scene_and_skeleton(POSE, (X_M, y), world=True)
            assert cv2.imwrite(str(depth / f"depth_{i:05d}.png"), frame.depth_mm)
            body = with_heels(skeleton, (X_M, y))
            writer.write(Frame(i / FPS, i, QVGA.width, QVGA.height, (body,)))
    return config, recording, depth


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return write_scene(tmp_path_factory.mktemp("metric"))


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_pipeline(config: Config, frames: list[Frame]) -> tuple[Pipeline, list[list[Event]]]:
    pipeline = Pipeline(config)
    return pipeline, [pipeline.step(frame) for frame in frames]


# -- at the source boundary -------------------------------------------------------------------


def test_depth_places_the_visitor_on_the_floor(scene: tuple[Path, Path, Path]) -> None:
    config_path, recording, depth = scene
    metric = metric_frames(load(config_path), depth)
    assert metric is not None
    frames = list(metric.frames(read_recording(recording).frames()))
    for frame, y in zip(frames, PATH_Y_M, strict=True):
        spot = spot_of(frame.skeletons[0])
        assert spot is not None and spot.source == "depth"
        # depth sees the front of a 0.22 m-radius body: within 0.15 m of its axis
        assert spot.floor_xy_m == pytest.approx((X_M, y), abs=0.15)
        assert spot.distance_m == pytest.approx(np.hypot(X_M, y), abs=0.15)
        assert spot.height_m == pytest.approx(1.70, abs=0.05)


def test_without_depth_the_feet_on_the_calibrated_floor(scene: tuple[Path, Path, Path]) -> None:
    config_path, recording, _ = scene
    metric = metric_frames(load(config_path))  # calibration only: the fallback
    assert metric is not None
    frames = list(metric.frames(read_recording(recording).frames()))
    for frame, y in zip(frames, PATH_Y_M, strict=True):
        spot = spot_of(frame.skeletons[0])
        assert spot is not None and spot.source == "feet"
        assert spot.floor_xy_m == pytest.approx((X_M, y), abs=0.01)  # exact heels, to rounding


def test_depth_is_paired_by_time(scene: tuple[Path, Path, Path]) -> None:
    depth = DepthByTime(RecordedDepth(scene[2]))
    assert [depth.index_at(t) for t in (0.0, 0.04, 0.06, 1.0, 4.9, 4.96, -0.1)] == [
        0,
        0,
        1,
        10,
        49,
        None,
        None,
    ]
    frame = depth.at(1.5)
    assert frame is not None and frame.t_s == 1.5 and depth.at(1.5) is frame  # one file read


def test_a_frame_keeps_its_type_and_nobody_is_left_alone() -> None:
    metric = MetricFrames(POSE, QVGA)
    empty = Frame(0.0, 0, 320, 240)
    assert metric.frame(empty) is empty
    body = Skeleton(np.zeros((33, 4)))
    placed = metric.frame(Frame(0.0, 0, 320, 240, (body,)))
    assert isinstance(placed.skeletons[0], MetricSkeleton)
    assert placed.skeletons[0].landmarks is body.landmarks  # shared, not copied
    assert spot_of(placed.skeletons[0]) is None  # nothing to place it by


# -- in the pipeline ----------------------------------------------------------------------------


def expected_zone_frames() -> tuple[int, int]:
    step_in = PATH_Y_M.index(NEAR_Y_M)
    step_out = step_in + PATH_Y_M[step_in:].index(FAR_Y_M)
    hold = int(np.ceil(ZONE_HOLD_S * FPS))
    return step_in + hold, step_out + hold


def test_replay_with_depth_gives_zone_events_at_the_right_frames(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config_path, recording, depth = scene
    logs = []
    for n in range(2):
        log = tmp_path / f"log{n}.jsonl"
        args = ["replay", str(config_path), str(recording), "--depth", str(depth)]
        assert main([*args, "--log", str(log)]) == 0
        logs.append(log.read_bytes())
    assert logs[0] == logs[1]  # byte-identical replays
    events = read_log(tmp_path / "log0.jsonl")
    zone = [(round(e["t"] * FPS), e["name"], e["zone"]) for e in events if e["kind"] == "zone"]
    enter, leave = expected_zone_frames()
    assert zone == [(enter, "enter", "near"), (leave, "leave", "near")]
    leave_event = next(e for e in events if e["kind"] == "zone" and e["name"] == "leave")
    assert leave_event["dwell_s"] == pytest.approx((leave - enter) / FPS)  # from step in to out
    states = [(round(e["t"] * FPS), e["name"]) for e in events if e["kind"] == "state"]
    assert states == [(0, "idle"), (enter, "close"), (leave, "idle")]
    builder = SessionBuilder(load(config_path))
    sessions = builder.feed_all(Event(e["t"], e["kind"], e["name"], _data(e)) for e in events)
    sessions += builder.finish()
    assert [s.zones for s in sessions] == [("near",)]


def _data(line: dict[str, Any]) -> dict[str, object]:
    return {k: v for k, v in line.items() if k not in ("t", "kind", "name")}


def test_replay_without_depth_uses_the_feet_and_agrees(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config_path, recording, _ = scene
    log = tmp_path / "feet.jsonl"
    assert main(["replay", str(config_path), str(recording), "--log", str(log)]) == 0
    zone = [(round(e["t"] * FPS), e["name"]) for e in read_log(log) if e["kind"] == "zone"]
    enter, leave = expected_zone_frames()
    assert zone == [(enter, "enter"), (leave, "leave")]


def test_without_calibration_or_depth_nothing_changes(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    recording = scene[1]
    bare = tmp_path / "exhibit.toml"  # the same config, but no calibration file beside it
    bare.write_text(CONFIG, encoding="utf-8")
    config = load(bare)
    assert metric_frames(config) is None
    frames = list(read_recording(recording).frames())
    assert all(type(s) is Skeleton for f in frames for s in f.skeletons)
    _, steps = run_pipeline(config, frames)
    assert not [e for events in steps for e in events if e.kind == "zone"]
    assert main(["replay", str(bare), str(recording), "--log", str(tmp_path / "l.jsonl")]) == 0
    assert not [e for e in read_log(tmp_path / "l.jsonl") if e["kind"] == "zone"]


def test_depth_without_calibration_is_a_clear_error(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, recording, depth = scene
    bare = tmp_path / "exhibit.toml"
    bare.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(DepthError, match=r"--depth needs the floor calibration: .*calibration"):
        metric_frames(load(bare), depth)
    args = ["replay", str(bare), str(recording), "--depth", str(depth)]
    assert main([*args, "--log", str(tmp_path / "l.jsonl")]) != 0


def test_engagement_proximity_uses_the_metric_distance(scene: tuple[Path, Path, Path]) -> None:
    config_path, recording, depth = scene
    near_m, far_m = 1.0, 3.0
    only_proximity = EngagementWeights(0.0, 1.0, 0.0, 0.0, 0.0)
    engagement = EngagementConfig(weights=only_proximity, near_m=near_m, far_m=far_m, smooth_s=0.1)
    config = replace(load(config_path), engagement=engagement)
    metric = metric_frames(config, depth)
    assert metric is not None
    frames = list(read_recording(recording).frames())
    last_near = PATH_Y_M.index(FAR_Y_M, PATH_Y_M.index(NEAR_Y_M)) - 1
    with_depth, _ = run_pipeline(config, list(metric.frames(frames))[: last_near + 1])
    spot = spot_of(metric.frame(frames[last_near]).skeletons[0])
    assert spot is not None
    expected = (far_m - spot.distance_m) / (far_m - near_m)  # ~0.5 at 2 m
    assert with_depth.engagement.score == pytest.approx(expected, abs=0.01)
    image_only, _ = run_pipeline(config, frames[: last_near + 1])
    assert image_only.engagement.score != pytest.approx(expected, abs=0.05)


def test_engagement_distance_term() -> None:
    tracker = EngagementTracker(EngagementConfig(near_m=1.2, far_m=3.5))
    body = Skeleton(np.full((33, 4), 0.5))
    assert tracker.components(0.0, body, 1.0)["proximity"] == 1.0
    assert tracker.components(0.0, body, 2.35)["proximity"] == pytest.approx(0.5)
    assert tracker.components(0.0, body, 5.0)["proximity"] == 0.0


# -- config -------------------------------------------------------------------------------------


def test_zone_events_are_show_events_and_typos_are_caught() -> None:
    assert "zone.enter.near" in str(loads(CONFIG).show.states["idle"].transitions[0].on)
    with pytest.raises(ConfigError) as info:
        loads(CONFIG.replace('on = "zone.enter.near"', 'on = "zone.enter.neer"'))
    assert "zone.enter.neer" in str(info.value) and '"zone.enter.near"' in str(info.value)


def test_spot_numbers_are_rounded() -> None:
    spot = FloorSpot.of((0.123456789, -0.00001), 1.99999999, 1.7000004, "feet")
    assert spot == FloorSpot((0.1235, 0.0), 2.0, 1.7, "feet")
    assert str(spot.floor_xy_m[1]) == "0.0"  # no "-0.0" in a log


def test_empty_depth_falls_back_to_the_feet() -> None:
    _, skeleton = scene_and_skeleton(POSE, (X_M, NEAR_Y_M), world=True)
    holes = DepthFrame(0.0, np.zeros((QVGA.height, QVGA.width), np.uint16), QVGA)
    spot = measure(with_heels(skeleton, (X_M, NEAR_Y_M)), POSE, QVGA, holes)
    assert spot is not None and spot.source == "feet"


def test_a_live_run_with_depth_replays_to_the_same_log(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config_path, recording, depth = scene
    run_log, rerecorded, replay_log = (tmp_path / n for n in ("run", "rec.jsonl", "replay"))
    run = ["run", str(config_path), "--replay", str(recording), "--depth", str(depth)]
    options = ["--speed", "50", "--quiet", "--log", str(run_log), "--record", str(rerecorded)]
    assert main([*run, *options]) == 0
    replay = ["replay", str(config_path), str(rerecorded), "--depth", str(depth)]
    assert main([*replay, "--log", str(replay_log)]) == 0
    assert replay_log.read_bytes() == run_log.read_bytes()
    assert b'"kind":"zone"' in replay_log.read_bytes()
    # The recording carries the spots (version 4): no --depth needed to replay it.
    assert read_recording(rerecorded).header.version == 4
    without = tmp_path / "without"
    assert main(["replay", str(config_path), str(rerecorded), "--log", str(without)]) == 0
    assert without.read_bytes() == run_log.read_bytes()


def test_each_visitor_has_their_own_zone_presence_and_hidden_feet_keep_the_place() -> None:
    config = replace(loads(CONFIG), base_dir="")
    metric = MetricFrames(POSE, QVGA)  # a calibration, no depth: the feet
    spots = {"in": (-0.3, NEAR_Y_M), "out": (1.2, NEAR_Y_M), "joins": (0.3, NEAR_Y_M)}
    body = {k: with_heels(scene_and_skeleton(POSE, at)[1], at) for k, at in spots.items()}
    hidden = scene_and_skeleton(POSE, spots["in"])[1]  # no heels: the feet are not seen

    def frame(i: int) -> Frame:
        first = hidden if 20 <= i < 30 else body["in"]
        second = body["joins"] if i >= 30 else body["out"]
        return Frame(i / FPS, i, QVGA.width, QVGA.height, (first, second))

    placed = [metric.frame(frame(i)) for i in range(40)]
    assert spot_of(placed[25].skeletons[0]) is None  # the feet are hidden: no spot
    _, steps = run_pipeline(config, placed)
    zone = [
        (round(e.t_s * FPS), e.name, e.data["visitor"])
        for ev in steps
        for e in ev
        if e.kind == "zone"
    ]
    # present from frame 5 (enter_after_s 0.5); in the zone hold_s later; the one outside
    # enters when they step in at frame 30; nobody leaves while their feet are hidden
    assert [(f, name) for f, name, _ in zone] == [(8, "enter"), (33, "enter")]
    assert zone[0][2] != zone[1][2]


def test_a_corrupt_calibration_stops_before_the_first_frame(
    scene: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = scene[1]
    config = tmp_path / "exhibit.toml"
    config.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "calibration.json").write_text("{broken", encoding="utf-8")
    log = tmp_path / "log.jsonl"
    assert main(["replay", str(config), str(recording), "--log", str(log)]) == 2
    err = capsys.readouterr().err
    assert "calibration.json: corrupt calibration (not valid JSON" in err
    assert "exhibit calibrate floor" in err  # what to do about it
    assert not log.exists()  # nothing ran on a guess


def test_recorded_commands_stay_on_a_placed_frame() -> None:
    body = with_heels(scene_and_skeleton(POSE, (X_M, NEAR_Y_M))[1], (X_M, NEAR_Y_M))
    frame = CommandedFrame(0.5, 5, 320, 240, (body,), controls=(ControlRecord("goto", "close"),))
    placed = MetricFrames(POSE, QVGA).frame(frame)
    assert controls_of(placed) == (ControlRecord("goto", "close"),)
    assert spot_of(placed.skeletons[0]) is not None


# -- approach and retreat in metres -------------------------------------------------------------


def _walking_config(image: float, image_back: float, metres: float) -> str:
    way = "enabled = true\nmin_change = {}\nmin_change_m = {}\n"
    return CONFIG + (
        f"\n[gestures.approach]\n{way.format(image, metres)}"
        f"\n[gestures.retreat]\n{way.format(image_back, metres)}"
    )


def _walks(config: Config, frames: list[Frame]) -> list[tuple[int, str]]:
    _, steps = run_pipeline(config, frames)
    return [(round(e.t_s * FPS), e.name) for ev in steps for e in ev if e.kind == "gesture"]


def test_approach_and_retreat_use_the_floor_distance_when_measured(
    scene: tuple[Path, Path, Path],
) -> None:
    config_path, recording, depth = scene
    frames = list(read_recording(recording).frames())
    step_in = PATH_Y_M.index(NEAR_Y_M)
    step_out = step_in + PATH_Y_M[step_in:].index(FAR_Y_M)
    # The image cue made impossible (9 times larger, 89 % smaller): only metres can fire.
    metric_only = replace(loads(_walking_config(9.0, 0.89, 0.5)), base_dir=str(config_path.parent))
    metric = metric_frames(metric_only, depth)
    assert metric is not None
    placed = list(metric.frames(frames))
    assert _walks(metric_only, placed) == [(step_in, "approach"), (step_out, "retreat")]
    feet = metric_frames(metric_only)  # the calibrated floor alone measures the same step
    assert feet is not None
    assert _walks(metric_only, list(feet.frames(frames))) == [
        (step_in, "approach"),
        (step_out, "retreat"),
    ]
    assert _walks(metric_only, frames) == []  # no spots: the (impossible) image cue
    # The 2 m step is under a 3 m threshold: with spots, nothing; without, the image cue fires.
    image_default = replace(loads(_walking_config(0.25, 0.2, 3.0)), base_dir="")
    assert _walks(image_default, placed) == []
    assert [name for _, name in _walks(image_default, frames)] == ["approach", "retreat"]


def test_a_spot_that_comes_and_goes_never_mixes_metres_with_the_image() -> None:
    from exhibit.config.schema import ApproachConfig, RetreatConfig
    from exhibit.gestures.approach import ApproachDetector
    from exhibit.gestures.features import BodyFrame

    near = with_heels(scene_and_skeleton(POSE, (X_M, NEAR_Y_M))[1], (X_M, NEAR_Y_M))
    placed = MetricFrames(POSE, QVGA).frame(Frame(0.0, 0, 320, 240, (near,))).skeletons[0]
    detector = ApproachDetector(ApproachConfig(enabled=True), RetreatConfig(enabled=True))
    hits = []
    for i in range(40):  # standing still; the feet hidden on every other second
        body = BodyFrame.of(placed if (i // 10) % 2 == 0 else near, 4 / 3)
        assert (body.distance_m is not None) == ((i // 10) % 2 == 0)
        hits += detector.update_body(i / FPS, body)
    assert hits == []  # -2 m and log(0.1) are never compared


# -- [presence] zone ----------------------------------------------------------------------------

ZONED = CONFIG.replace(
    "[calibration]", '[presence]\nzone = "near"\nleave_after_s = 0.5\n\n[calibration]'
)


def test_presence_in_a_zone_counts_only_the_visitors_standing_in_it(
    scene: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config_path, recording, _ = scene
    zoned = replace(loads(ZONED, base_dir=config_path.parent), base_dir=str(config_path.parent))
    assert zoned.presence.zone_polygon_m == zoned.zones.zones["near"].polygon_m
    metric = metric_frames(zoned)  # the feet on the calibrated floor
    assert metric is not None
    frames = list(metric.frames(read_recording(recording).frames()))
    _, steps = run_pipeline(zoned, frames)
    presence = [(round(e.t_s * FPS), e.name) for ev in steps for e in ev if e.kind == "presence"]
    step_in = PATH_Y_M.index(NEAR_Y_M)
    step_out = step_in + PATH_Y_M[step_in:].index(FAR_Y_M)
    # enter_after_s 0.5 after stepping in, leave_after_s 0.5 after stepping out
    assert presence == [(step_in + 5, "enter"), (step_out + 4, "leave")]
    # without the zone the same visitor is present from the start (enter_after_s)
    _, steps = run_pipeline(
        replace(zoned, presence=replace(zoned.presence, zone_polygon_m=())), frames
    )
    assert [(round(e.t_s * FPS), e.name) for ev in steps for e in ev if e.kind == "presence"] == [
        (5, "enter")
    ]
    # no spots (no calibration): nobody is present
    _, steps = run_pipeline(zoned, list(read_recording(recording).frames()))
    assert not [e for ev in steps for e in ev if e.kind == "presence"]


def test_presence_zone_is_checked_against_the_zones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        loads(ZONED.replace('zone = "near"', 'zone = "naer"'))
    assert 'presence.zone: no such zone (got "naer")' in str(info.value)
    assert 'did you mean "near"?' in str(info.value)
    bare = loads(ZONED, base_dir=tmp_path)  # no calibration file there
    assert [w.split(":")[0] for w in bare.warnings] == ["presence.zone"]
    assert "nobody counts as present" in bare.warnings[0]


def _placed(x: float, floor_xy_m: tuple[float, float]) -> Skeleton:
    """A body at image x whose floor spot is known (as depth or the feet would give it)."""
    landmarks = np.full((33, 4), 0.5)
    landmarks[:, 0] = x
    landmarks[:, 3] = 0.9
    return MetricSkeleton(landmarks, None, FloorSpot.of(floor_xy_m, 2.0, 1.7, "feet"))


SPOT_SHOW = """
[presence]
enter_after_s = 0.0
leave_after_s = 1.0
[zones.step_here]
polygon_m = [[-0.4, 1.6], [0.4, 1.6], [0.4, 2.4], [-0.4, 2.4]]
hold_s = 0.0
[show]
visitors = "{mode}"
initial = "attract"
any_state = [{{ on = "presence.leave", to = "attract" }}]
[show.states.attract]
transitions = [{{ on = "presence.enter", to = "welcome" }}]
[show.states.welcome]
transitions = [{{ on = "zone.enter.step_here", to = "explain" }}]
[show.states.explain]
transitions = [{{ on = "zone.leave.step_here", to = "welcome" }}]
"""


@pytest.mark.parametrize(("mode", "moved"), [("one", False), ("several", True)])
def test_a_bystander_on_the_spot_moves_the_show_only_when_everybody_counts(
    mode: str, moved: bool
) -> None:
    pipeline = Pipeline(loads(SPOT_SHOW.format(mode=mode)))
    far, on_spot = (-2.0, 4.0), (0.0, 2.0)
    events = []
    for i in range(10):  # the first visitor stands off the spot
        events += pipeline.step(Frame(i * 0.1, i, 640, 480, (_placed(0.3, far),)))
    for i in range(10, 15):  # a second walks onto it
        bodies = (_placed(0.3, far), _placed(0.7, on_spot))
        events += pipeline.step(Frame(i * 0.1, i, 640, 480, bodies))
    assert any(e.kind == "zone" and e.name == "enter" for e in events)  # logged either way
    assert (pipeline.show.state == "explain") is moved


def test_a_visitor_who_leaves_while_the_camera_is_down_leaves_the_zone_then() -> None:
    pipeline = Pipeline(loads(SPOT_SHOW.format(mode="one")))
    events = []
    for i in range(10):
        events += pipeline.step(Frame(i * 0.1, i, 640, 480, (_placed(0.5, (0.0, 2.0)),)))
    for i in range(10, 60):  # camera unplugged for 5 s: frames from the clock
        events += pipeline.step(Frame(i * 0.1, i, 640, 480, (), camera_ok=False))
    leave = next(e for e in events if e.kind == "zone" and e.name == "leave")
    presence_leave = next(e for e in events if e.kind == "presence" and e.name == "leave")
    assert leave.t_s == presence_leave.t_s  # let out with the visit, not when the camera returns
    assert leave.data["dwell_s"] < 2.5
