"""Gestures taught by demonstration, end to end: recordings of the project's parametric body
flapping its arms like a bird are learned with ``exhibit gestures learn``'s code, then spotted
in new streams by other bodies at other distances; ordinary movement does not match."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from exhibit.config.load import loads
from exhibit.config.schema import Config
from exhibit.gestures.learn import (
    ExampleSource,
    LearnError,
    demonstrations,
    filtered_track,
    learn,
    templates_path,
)
from exhibit.gestures.taught import TaughtGestures
from exhibit.gestures.templates import TemplateError, TemplateFileError, TemplateRecognizer
from exhibit.recording.format import RecordingHeader
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame
from exhibit.synth.body import ArmPose, BodyShape, Pose
from exhibit.synth.script import (
    BodyState,
    Segment,
    hands_up_motion,
    idle_motion,
    render,
    scripted_visitor,
    sequence,
    walk_motion,
    wave_motion,
)

CONFIG_TEXT = '[show]\ninitial = "idle"\n[show.states.idle]\n'


@cache
def config() -> Config:
    return loads(CONFIG_TEXT)


def flap_motion(
    duration_s: float = 2.0,
    *,
    frequency_hz: float = 1.5,
    position_m: tuple[float, float] = (0, 2.5),
) -> Segment:
    """Both arms beat up and down sideways, like a bird's wings (not a built-in gesture)."""

    def motion(t_s: float) -> BodyState:
        w = 0.5 - 0.5 * math.cos(2 * math.pi * frequency_hz * t_s)
        arm = ArmPose(abduction_rad=0.15 + 1.45 * w, elbow_rad=0.2)
        return BodyState(Pose(left_arm=arm, right_arm=arm), position_m)

    return Segment("flap", duration_s, motion)


def write(path: Path, frames: list[Frame]) -> Path:
    header = RecordingHeader(source="synth:test", fps=30.0, width_px=640, height_px=480)
    with RecordingWriter(path, header) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def demo_recording(tmp_path: Path, k: int) -> Path:
    """Demonstration ``k``: idle, flap, idle; each by a different body at another distance."""
    spot = (0.2 * (k - 1), 2.2 + 0.3 * k)
    seg = sequence(
        idle_motion(1.0, position_m=spot),
        flap_motion(2.0, frequency_hz=1.3 + 0.15 * k, position_m=spot),
        idle_motion(1.0, position_m=spot),
    )
    frames = render(seg, fps=30.0, shape=BodyShape(1.55 + 0.1 * k), seed=k, noise_px=0.5)
    return write(tmp_path / f"flap{k}.jsonl", frames)


def spot(taught: TaughtGestures, frames: list[Frame]) -> list[tuple[str, float]]:
    hits: list[tuple[str, float]] = []
    for t_s, skeleton in filtered_track(frames, config()):
        hits += [(h.name, h.t_s) for h in taught.update(t_s, skeleton)]
    return hits


@pytest.fixture(scope="module")
def taught_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("learn")
    sources = [ExampleSource(demo_recording(folder, k)) for k in range(4)]
    result = learn("flap", sources, config(), folder / "taught.json")
    assert result.labels == {"flap": 4}
    for demo in result.examples:
        # Trimmed to the movement (1.0-3.0 s), give or take the margin and the filter's lag.
        assert 0.7 <= demo.start_s <= 1.3, demo.describe()
        assert 2.7 <= demo.end_s <= 3.3, demo.describe()
    return folder / "taught.json"


def test_learned_gesture_is_spotted_on_another_body(taught_file: Path) -> None:
    taught = TaughtGestures.from_file(taught_file)
    assert taught.names() == ["flap"]
    spot_m = (-0.3, 3.0)
    stream = sequence(
        idle_motion(2.0, position_m=spot_m),
        flap_motion(2.5, frequency_hz=1.4, position_m=spot_m),
        idle_motion(2.0, position_m=spot_m),
    )
    frames = render(stream, fps=30.0, shape=BodyShape(1.35), seed=11, noise_px=0.7)
    hits = spot(taught, frames)
    assert [name for name, _ in hits] == ["flap"]
    assert 2.5 < hits[0][1] < 5.5


@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_ordinary_movement_does_not_match(taught_file: Path, fps: float) -> None:
    taught = TaughtGestures.from_file(taught_file)
    assert spot(taught, scripted_visitor(fps=fps)) == []
    other = sequence(
        walk_motion((-2.0, 3.0), (0.0, 2.5), end_yaw_rad=0.0),
        wave_motion(3.0, side="left", position_m=(0.0, 2.5)),
        hands_up_motion(2.0, position_m=(0.0, 2.5)),
        idle_motion(3.0, position_m=(0.0, 2.5)),
    )
    assert spot(taught, render(other, fps=fps, seed=5, noise_px=0.5)) == []


def test_split_cuts_one_recording_into_demonstrations(tmp_path: Path) -> None:
    seg = sequence(
        idle_motion(1.0),
        *[s for _ in range(4) for s in (flap_motion(1.4), idle_motion(1.2))],
    )
    frames = render(seg, fps=30.0, seed=3, noise_px=0.5)
    demos = demonstrations(filtered_track(frames, config()), "one.jsonl", split=True)
    assert len(demos) == 4
    starts = [1.0 + 2.6 * i for i in range(4)]
    for demo, start in zip(demos, starts, strict=True):
        assert abs(demo.start_s - start) < 0.35, demo.describe()


def test_spans_choose_the_demonstrations(tmp_path: Path) -> None:
    path = demo_recording(tmp_path, 1)
    source = ExampleSource.parse(f"{path}:0.5-3.5")
    assert source.spans_s == ((0.5, 3.5),)
    track = filtered_track(list(render(flap_motion(4.0), fps=30.0)), config())
    demos = demonstrations(track, "x", ((0.0, 1.5), (2.0, 3.9)))
    assert len(demos) == 2
    assert demos[0].start_s >= 0.0 and demos[1].end_s <= 3.9


def test_too_few_examples_says_how_many_more(tmp_path: Path) -> None:
    sources = [ExampleSource(demo_recording(tmp_path, k)) for k in range(2)]
    out = tmp_path / "taught.json"
    with pytest.raises(TemplateError) as caught:
        learn("flap", sources, config(), out)
    assert caught.value.more_needed == {"flap": 1}
    assert "flap" in str(caught.value)
    assert not out.exists()


def test_an_example_unlike_the_others_is_named(tmp_path: Path) -> None:
    sources = [ExampleSource(demo_recording(tmp_path, k)) for k in range(3)]
    waving = sequence(idle_motion(1.0), wave_motion(2.5), idle_motion(1.0))
    sources.append(ExampleSource(write(tmp_path / "wave.jsonl", render(waving, seed=9))))
    with pytest.raises(TemplateError) as caught:
        learn("flap", sources, config(), tmp_path / "taught.json")
    message = str(caught.value)
    assert "#4" in message
    assert "wave.jsonl" in message  # the listing says which recording #4 came from


def test_relearning_keeps_the_other_gestures(taught_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "taught.json"
    copy.write_bytes(taught_file.read_bytes())
    sources = []
    for k in range(3):
        seg = sequence(idle_motion(1.0), wave_motion(2.5, frequency_hz=1.6 + 0.2 * k))
        frames = render(seg, fps=30.0, seed=20 + k, shape=BodyShape(1.6 + 0.1 * k))
        sources.append(ExampleSource(write(tmp_path / f"w{k}.jsonl", frames)))
    result = learn("wave_hello", sources, config(), copy)
    assert result.labels == {"flap": 4, "wave_hello": 3}
    assert TaughtGestures.from_file(copy).names() == ["flap", "wave_hello"]


def test_bad_names_spans_and_files(tmp_path: Path) -> None:
    with pytest.raises(LearnError, match="lower case"):
        learn("Flap!", [], config(), tmp_path / "t.json")
    with pytest.raises(LearnError, match="ends before it starts"):
        ExampleSource.parse("rec.jsonl:3-2")
    with pytest.raises(LearnError, match="bad time span"):
        ExampleSource.parse("rec.jsonl:3-")
    empty = write(tmp_path / "empty.jsonl", [Frame(i / 30, i, 640, 480) for i in range(30)])
    with pytest.raises(LearnError, match="needs the person in view"):
        learn("flap", [ExampleSource(empty)] * 3, config(), tmp_path / "t.json")


def test_corrupt_or_foreign_template_file_is_named(taught_file: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(taught_file.read_text()[:500], encoding="utf-8")
    with pytest.raises(TemplateFileError, match=r"corrupt\.json: not valid JSON"):
        TaughtGestures.from_file(corrupt)
    foreign = tmp_path / "kinect.json"
    document = json.loads(taught_file.read_text())
    foreign.write_text(json.dumps(replace_joint_set(document, "kinect-v1-20")), encoding="utf-8")
    with pytest.raises(TemplateFileError, match=r"kinect\.json: .*kinect-v1-20"):
        TaughtGestures.from_file(foreign)


def replace_joint_set(document: dict[str, object], joint_set: str) -> dict[str, object]:
    return {**document, "joint_set": joint_set}


def test_templates_live_beside_the_config(tmp_path: Path) -> None:
    assert templates_path(tmp_path / "exhibit.toml") == tmp_path / "taught_gestures.json"
    assert templates_path(tmp_path / "exhibit.toml", "x.json") == Path("x.json")


def test_learning_again_keeps_the_previous_templates_as_a_backup(tmp_path: Path) -> None:
    """A bad teaching session can be undone: the file it replaced is kept as ``.bak``."""
    from exhibit.atomic import backup_path
    from exhibit.gestures.templates import save_templates

    target = tmp_path / "taught_gestures.json"
    ramps = [np.linspace(0.0, 1.0 + 0.1 * k, 6 + k)[:, None] * [1.0, 2.0] for k in range(3)]
    first = TemplateRecognizer().fit(ramps, ["a"] * 3)
    second = TemplateRecognizer().fit([r[::-1] for r in ramps], ["b"] * 3)
    save_templates(target, first, joint_set="test", feature_spec={})
    before = target.read_bytes()
    save_templates(target, second, joint_set="test", feature_spec={})
    assert backup_path(target).read_bytes() == before
    assert target.read_bytes() != before
