"""Recordings: the wire format as pure functions, and files written and read back.

A recording must replay to exactly what was recorded (after the documented rounding) and a
re-encoded line must be byte-identical, or replays would drift from the live run they report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exhibit.depth.spot import FloorSpot, MetricSkeleton, spot_of
from exhibit.errors import RecordingError
from exhibit.recording.format import (
    RecordingHeader,
    decode_frame,
    decode_header,
    encode_frame,
    encode_header,
)
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame, Skeleton

HEADER = RecordingHeader(source="video:clip.avi", fps=30.0, width_px=640, height_px=480)


def _skeleton(seed: int, world: bool = True) -> Skeleton:
    rng = np.random.default_rng(seed)
    landmarks = np.column_stack([rng.uniform(-0.2, 1.2, (33, 3)), rng.uniform(0, 1, 33)])
    return Skeleton(landmarks, rng.uniform(-1, 1, (33, 3)) if world else None)


def _frames() -> list[Frame]:
    return [
        Frame(0.0, 0, 640, 480),
        Frame(1 / 30, 1, 640, 480, (_skeleton(1),)),
        Frame(2 / 30, 2, 640, 480, (_skeleton(2, world=False),)),
        Frame(2 / 30, 3, 640, 480, (_skeleton(3), _skeleton(4, world=False))),
    ]


def _assert_same_after_rounding(got: Frame, want: Frame) -> None:
    assert got.t_s == round(want.t_s, 6)
    assert got.index == want.index
    assert (got.width_px, got.height_px) == (want.width_px, want.height_px)
    assert len(got.skeletons) == len(want.skeletons)
    for g, w in zip(got.skeletons, want.skeletons, strict=True):
        np.testing.assert_array_equal(g.landmarks, np.round(w.landmarks, 5))
        if w.world_m is None:
            assert g.world_m is None
        else:
            assert g.world_m is not None
            np.testing.assert_array_equal(g.world_m, np.round(w.world_m, 5))


# -- format ------------------------------------------------------------------------------


def test_header_line_is_the_documented_one() -> None:
    assert encode_header(HEADER) == (
        '{"format":"exhibit-recording","version":3,"source":"video:clip.avi","fps":30.0,'
        '"width":640,"height":480,"landmarks":"mediapipe-pose-33"}'
    )
    assert decode_header(encode_header(HEADER)) == HEADER


def test_frame_line_is_compact_and_rounded() -> None:
    line = encode_frame(Frame(1 / 30, 1, 640, 480, (_skeleton(1),)))
    obj = json.loads(line)
    assert line.startswith('{"t":0.033333,"i":1,"skeletons":[{"lm":[[')
    assert " " not in line
    assert len(obj["skeletons"][0]["lm"]) == 33
    assert all(len(str(v).split(".")[-1]) <= 5 for row in obj["skeletons"][0]["lm"] for v in row)
    assert encode_frame(Frame(0.0, 0, 1, 1)) == '{"t":0.0,"i":0,"skeletons":[]}'


def test_sensor_readings_round_trip_and_bad_ones_are_named() -> None:
    line = '{"t":1.5,"i":3,"skeletons":[],"sensors":[{"t":1.48,"s":"pir","k":"active","v":true}]}'
    frame = decode_frame(line)
    assert (frame.t_s, frame.index, frame.skeletons) == (1.5, 3, ())
    assert [(r.t_s, r.sensor, r.kind, r.value) for r in frame.sensors] == [
        (1.48, "pir", "active", True)
    ]
    assert encode_frame(frame) == line
    with pytest.raises(ValueError, match="sensor reading 0: "):
        decode_frame('{"t":1.5,"i":3,"skeletons":[],"sensors":[{"pir":true}]}')
    # A version-1 file's sensors list was reserved: accepted, not read.
    old = decode_frame('{"t":1,"i":0,"skeletons":[],"sensors":[{"pir":true}]}', version=1)
    assert old.sensors == ()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"i":0,"skeletons":[]}', "missing key 't'"),
        ('{"t":0,"i":0,"skeletons":[],"extra":1}', "unknown key 'extra'"),
        ('{"t":"0","i":0,"skeletons":[]}', "frame t must be a number"),
        ('{"t":NaN,"i":0,"skeletons":[]}', "NaN is not a number JSON allows"),
        ('{"t":0,"i":-1,"skeletons":[]}', "frame i must be an integer >= 0"),
        ('{"t":0,"i":true,"skeletons":[]}', "frame i must be an integer >= 0"),
        ('{"t":0,"i":0,"skeletons":{}}', "skeletons must be a list"),
        ('{"t":0,"i":0,"skeletons":[],"sensors":3}', "sensors must be a list"),
        (
            '{"t":0,"i":0,"skeletons":[{"lm":[[0,0,0,1]],"world":null}]}',
            "has 1 points, expected 33",
        ),
        ('{"t":0,"i":0,"skeletons":[{"lm":[]}]}', "missing key 'world'"),
    ],
)
def test_bad_frame_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_frame(line)


def test_bad_landmark_rows_say_which_point() -> None:
    rows: list[list[object]] = [[0.5, 0.5, 0.0, 1.0]] * 33
    rows[7] = [0.5, 0.5, 0.0]
    line = json.dumps({"t": 0, "i": 0, "skeletons": [{"lm": rows, "world": None}]})
    with pytest.raises(ValueError, match="skeleton 0 lm point 7 must be a list of 4 numbers"):
        decode_frame(line)
    rows[7] = [0.5, 0.5, 0.0, "x"]
    line = json.dumps({"t": 0, "i": 0, "skeletons": [{"lm": rows, "world": None}]})
    with pytest.raises(ValueError, match="point 7 holds 'x'"):
        decode_frame(line)


def test_nan_is_not_encoded() -> None:
    landmarks = np.zeros((33, 4))
    landmarks[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        encode_frame(Frame(0.0, 0, 1, 1, (Skeleton(landmarks),)))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"format": "other"}, "not an exhibit recording"),
        ({"version": 5}, "made by a newer exhibit, version 5; this one reads 4"),
        ({"version": 0}, "version must be a positive integer"),
        ({"width": 0}, "width must be a positive integer"),
        ({"fps": -1}, "fps must be a number >= 0"),
        ({"landmarks": "coco-17"}, "this exhibit reads 'mediapipe-pose-33'"),
        ({"extra": 1}, "unknown key 'extra'"),
    ],
)
def test_bad_headers_say_why(change: dict[str, object], reason: str) -> None:
    obj = json.loads(encode_header(HEADER)) | change
    with pytest.raises(ValueError, match=reason):
        decode_header(json.dumps(obj))


finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(
    t_s=st.floats(0.0, 1e5, allow_nan=False),
    index=st.integers(0, 2**40),
    landmarks=st.lists(hnp.arrays(np.float64, (33, 4), elements=finite), max_size=3),
    with_world=st.booleans(),
    world=hnp.arrays(np.float64, (33, 3), elements=finite),
)
def test_encode_decode_round_trip(
    t_s: float,
    index: int,
    landmarks: list[npt.NDArray[np.float64]],
    with_world: bool,
    world: npt.NDArray[np.float64],
) -> None:
    skeletons = tuple(Skeleton(lm, world if with_world else None) for lm in landmarks)
    frame = Frame(t_s, index, 640, 480, skeletons)
    line = encode_frame(frame)
    decoded = decode_frame(line, width_px=640, height_px=480)
    _assert_same_after_rounding(decoded, frame)
    assert encode_frame(decoded) == line


# -- files -------------------------------------------------------------------------------


def test_write_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "rec.jsonl"
    frames = _frames()
    with RecordingWriter(path, HEADER) as writer:
        for frame in frames:
            assert writer.write(frame)
        assert not writer.full
    recording = read_recording(path)
    assert recording.header == HEADER
    back = list(recording.frames())
    assert len(back) == len(frames)
    for got, want in zip(back, frames, strict=True):
        _assert_same_after_rounding(got, want)
    # Reading twice gives the same; re-encoding gives the very same bytes.
    assert [encode_frame(f) for f in recording.frames()] == [encode_frame(f) for f in back]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [encode_header(HEADER), *(encode_frame(f) for f in back)]


def test_writer_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, HEADER, max_frames=2) as writer:
        results = [writer.write(f) for f in _frames()]
        assert writer.full
    assert results == [True, True, False, False]
    assert len(list(read_recording(path).frames())) == 2
    assert writer.closed
    assert not writer.write(_frames()[0])


def test_each_line_is_on_disk_at_once(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, HEADER) as writer:
        writer.write(_frames()[1])
        assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_writer_refuses_time_going_backwards(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "rec.jsonl", HEADER) as writer:
        writer.write(Frame(1.0, 0, 1, 1))
        with pytest.raises(ValueError, match="before the previous"):
            writer.write(Frame(0.5, 1, 1, 1))


def _write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    good = [encode_frame(f) for f in _frames()[:2]]
    path = _write_lines(tmp_path / "REC.jsonl", encode_header(HEADER), *good, '{"t":1,"i":2}')
    recording = read_recording(path)
    frames = recording.frames()
    assert next(frames).index == 0
    assert next(frames).index == 1
    with pytest.raises(RecordingError, match=r"REC\.jsonl line 4: frame: missing key 'skeletons'"):
        next(frames)


def test_truncated_last_line(tmp_path: Path) -> None:
    line = encode_frame(_frames()[1])
    path = _write_lines(tmp_path / "cut.jsonl", encode_header(HEADER), line[: len(line) // 2])
    with pytest.raises(RecordingError, match=r"cut\.jsonl line 2: not JSON"):
        list(read_recording(path).frames())


def test_time_going_backwards_names_the_line(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "rec.jsonl",
        encode_header(HEADER),
        encode_frame(Frame(1.0, 0, 1, 1)),
        encode_frame(Frame(1.0, 1, 1, 1)),
        encode_frame(Frame(0.9, 2, 1, 1)),
    )
    with pytest.raises(RecordingError, match=r"line 4: t went backwards \(0\.9 s after 1\.0 s\)"):
        list(read_recording(path).frames())


def test_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    header = json.loads(encode_header(HEADER)) | {"version": 5}
    path = _write_lines(tmp_path / "new.jsonl", json.dumps(header))
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert str(info.value) == (
        f"{path} line 1: made by a newer exhibit, version 5; this one reads 4"
    )


def test_missing_empty_or_not_a_recording(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"gone\.jsonl: no such recording"):
        read_recording(tmp_path / "gone.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(RecordingError, match=r"empty\.jsonl: empty file"):
        read_recording(tmp_path / "empty.jsonl")
    (tmp_path / "log.jsonl").write_text('{"event":"gesture.wave"}\n')
    with pytest.raises(RecordingError, match=r"log\.jsonl line 1: not an exhibit recording"):
        read_recording(tmp_path / "log.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordingError, match=r"bin\.jsonl: not a recording"):
        read_recording(tmp_path / "bin.jsonl")


def test_header_only_recording_has_no_frames(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "rec.jsonl", HEADER):
        pass
    assert list(read_recording(tmp_path / "rec.jsonl").frames()) == []


# -- control commands (version 3) -------------------------------------------------------------


def test_control_commands_round_trip_on_the_frame_they_were_applied_before(
    tmp_path: Path,
) -> None:
    from exhibit.recording.controls import ControlRecord, controls_of, with_controls

    toml = '[show]\ninitial = "a"\n[show.states.a]\n# Grüße\n'
    frame = with_controls(
        Frame(2.0, 60, 640, 480),
        [
            ControlRecord("goto", "explain"),
            ControlRecord("pause"),
            ControlRecord("config", None, toml),
        ],
    )
    line = encode_frame(frame)
    assert line == (
        '{"t":2.0,"i":60,"skeletons":[],"control":[{"k":"goto","a":"explain"},{"k":"pause"},'
        '{"k":"config","toml":"[show]\\ninitial = \\"a\\"\\n[show.states.a]\\n# Grüße\\n"}]}'
    )
    back = decode_frame(line, width_px=640, height_px=480)
    assert controls_of(back) == controls_of(frame)
    assert encode_frame(back) == line
    # Frames without commands are written as before.
    assert "control" not in encode_frame(Frame(2.0, 60, 640, 480))
    path = tmp_path / "r.jsonl"
    with RecordingWriter(path, HEADER) as writer:
        writer.write(Frame(1.9, 59, 640, 480))
        writer.write(frame)
    frames = list(read_recording(path).frames())
    assert [len(controls_of(f)) for f in frames] == [0, 3]


@pytest.mark.parametrize(
    ("control", "reason"),
    [
        ("[]", "frame control must be a non-empty list of commands"),
        ('"reset"', "frame control must be a non-empty list of commands"),
        ('[{"k":""}]', "control 0: k must be the command's name"),
        ('[{"k":"goto","a":7}]', "control 0: a must be a string"),
        ('[{"k":"config"}]', "control 0: a config entry needs toml"),
        ('[{"k":"reset","toml":"x"}]', "control 0: toml belongs to a config entry"),
        ('[{"k":"reset","when":1}]', "control 0: unknown key 'when'"),
    ],
)
def test_bad_control_entries_say_why(control: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_frame(f'{{"t":1,"i":0,"skeletons":[],"control":{control}}}')


def test_control_in_an_older_version_is_refused(tmp_path: Path) -> None:
    header = json.loads(encode_header(HEADER)) | {"version": 2}
    path = _write_lines(
        tmp_path / "v2.jsonl",
        json.dumps(header),
        '{"t":1,"i":0,"skeletons":[],"control":[{"k":"reset"}]}',
    )
    with pytest.raises(RecordingError, match=r"line 2: frame control is not part of version 2"):
        list(read_recording(path).frames())
    # A version-2 file without it reads as it always did.
    path = _write_lines(tmp_path / "v2ok.jsonl", json.dumps(header), '{"t":1,"i":0,"skeletons":[]}')
    assert [f.index for f in read_recording(path).frames()] == [0]


# -- floor spots (version 4) -------------------------------------------------------------------


def _placed(seed: int, spot: FloorSpot | None) -> MetricSkeleton:
    body = _skeleton(seed)
    return MetricSkeleton(body.landmarks, body.world_m, spot)


SPOTS = (
    FloorSpot.of((0.2, 3.91234567), 3.9174, 1.7, "depth"),
    FloorSpot.of((-1.5, 0.0), 1.5, None, "feet"),
)


def test_floor_spots_round_trip_to_the_same_bytes() -> None:
    frame = Frame(0.5, 15, 640, 480, (_placed(1, SPOTS[0]), _placed(2, None), _skeleton(3)))
    line = encode_frame(frame)
    assert (
        '"spot":{"x_m":0.2,"y_m":3.9123,"distance_m":3.9174,"height_m":1.7,"source":"depth"}'
        in (line)
    )
    back = decode_frame(line, width_px=640, height_px=480)
    first, second, third = back.skeletons
    assert isinstance(first, MetricSkeleton) and first.spot == SPOTS[0]
    # measured but not placed: kept as such, so a replay does not measure it again
    assert isinstance(second, MetricSkeleton) and second.spot is None
    assert type(third) is Skeleton and '"spot"' not in encode_frame(Frame(0, 0, 1, 1, (third,)))
    assert encode_frame(back) == line
    feet = decode_frame(encode_frame(Frame(0, 0, 640, 480, (_placed(4, SPOTS[1]),))))
    assert spot_of(feet.skeletons[0]) == SPOTS[1]


def test_a_spot_in_an_older_version_is_refused() -> None:
    line = encode_frame(Frame(0.5, 15, 640, 480, (_placed(1, SPOTS[0]),)))
    with pytest.raises(ValueError, match="skeleton 0 spot is not part of version 3"):
        decode_frame(line, version=3)


@pytest.mark.parametrize(
    ("spot", "reason"),
    [
        ([1, 2], "skeleton 0 spot must be an object with x_m, y_m"),
        ({"x_m": 0, "y_m": 1, "distance_m": 1, "height_m": None}, "missing key 'source'"),
        (
            {"x_m": "1", "y_m": 1, "distance_m": 1, "height_m": None, "source": "feet"},
            "x_m must be a number",
        ),
        (
            {"x_m": 0, "y_m": 1, "distance_m": -1, "height_m": None, "source": "feet"},
            "distance_m must be >= 0",
        ),
        (
            {"x_m": 0, "y_m": 1, "distance_m": 1, "height_m": 1.7, "source": "sonar"},
            "source must be one of depth, feet",
        ),
    ],
)
def test_bad_spots_say_why(spot: object, reason: str) -> None:
    line = json.loads(encode_frame(Frame(0.5, 15, 640, 480, (_skeleton(1),))))
    line["skeletons"][0]["spot"] = spot
    with pytest.raises(ValueError, match=reason):
        decode_frame(json.dumps(line))


def test_the_writer_raises_the_version_only_when_spots_come(tmp_path: Path) -> None:
    plain, placed = tmp_path / "plain.jsonl", tmp_path / "placed.jsonl"
    with RecordingWriter(plain, HEADER) as writer:
        for frame in _frames():
            writer.write(frame)
    assert read_recording(plain).header.version == 3  # no spots: as before version 4
    with RecordingWriter(placed, HEADER) as writer:
        writer.write(Frame(0.0, 0, 640, 480))
        writer.write(Frame(0.1, 1, 640, 480, (_placed(1, SPOTS[0]),)))
        writer.write(Frame(0.2, 2, 640, 480, (_placed(2, SPOTS[1]),)))
    lines = placed.read_text(encoding="utf-8").splitlines()
    assert lines[0] == encode_header(RecordingHeader("video:clip.avi", 30.0, 640, 480, 4))
    assert lines[1] == '{"t":0.0,"i":0,"skeletons":[]}'  # written while the header said 3
    recording = read_recording(placed)
    assert recording.header.version == 4
    assert [spot_of(f.skeletons[0]) for f in recording.frames() if f.skeletons] == list(SPOTS)
