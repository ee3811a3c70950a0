"""Gestures taught by demonstration: recognizer, stream spotter, template files, features.

All motion here is made by numpy: a 20-joint body (a Kinect v1's joint count, not MediaPipe's)
whose hand and elbow trace a circle, a zig-zag, a raise-and-lower or a wave, at random sizes,
positions, speeds (±30 %), amplitudes and timing, with sensor noise. Ordinary movement is a
random walk of the hand, a still body, or a trajectory that was never taught.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.gestures.template_features import (
    FEATURE_SPEC,
    JOINT_SET,
    sequence_features,
    skeleton_features,
)
from exhibit.gestures.templates import (
    TemplateError,
    TemplateFileError,
    TemplateRecognizer,
    TemplateSpotter,
    dtw_distance,
    load_templates,
    save_templates,
)
from exhibit.skeleton import LANDMARK_INDEX, Skeleton

FloatArray = npt.NDArray[np.float64]

JOINTS = 20
BASE = np.random.default_rng(12345).normal(0.0, 0.4, (JOINTS, 3))
TAUGHT = ("circle", "zigzag", "raise", "wave")
NOISE = 0.01


def trajectory(name: str, u: FloatArray) -> FloatArray:
    """Hand offset from rest, in body units, at phase ``u`` (0..1)."""
    zero = 0.0 * u
    if name == "circle":
        return np.stack([np.cos(2 * np.pi * u) - 1, np.sin(2 * np.pi * u), zero], 1)
    if name == "zigzag":
        return np.stack([2 * u - 1, 2 * np.abs((3 * u) % 1 - 0.5), zero], 1)
    if name == "raise":
        return np.stack([zero, 1.5 * np.sin(np.pi * u), 0.3 * np.sin(np.pi * u)], 1)
    if name == "wave":
        return np.stack([0.6 * np.sin(4 * np.pi * u), 0.8 + zero, zero], 1)
    if name == "eight":  # never taught
        return np.stack([np.sin(2 * np.pi * u), 0.5 * np.sin(4 * np.pi * u), zero], 1)
    if name == "swipe":  # never taught
        return np.stack([-1.2 * u, -1.2 * u, zero], 1)
    raise KeyError(name)


def motion(rng: np.random.Generator, name: str) -> FloatArray:
    """One performance in body units: 28-52 frames, uneven timing, amplitude ±20 %."""
    n = round(40 * rng.uniform(0.7, 1.3))
    t = np.linspace(0.0, 1.0, n)
    u = t + rng.uniform(-0.08, 0.08) * np.sin(np.pi * t)
    seq = np.repeat((BASE * (1 + rng.normal(0, 0.03, BASE.shape)))[None], n, axis=0)
    hand = 0.5 * rng.uniform(0.8, 1.2) * trajectory(name, u)
    seq[:, 0] += hand
    seq[:, 1] += 0.5 * hand
    return seq


def place(rng: np.random.Generator, seq: FloatArray) -> FloatArray:
    """Puts a body-unit motion somewhere in the room, at some size, with sensor noise."""
    noisy = seq + rng.normal(0.0, NOISE, seq.shape)
    return np.asarray(noisy * rng.uniform(0.5, 2.0) + rng.normal(0.0, 3.0, 3), dtype=np.float64)


def example(rng: np.random.Generator, name: str) -> FloatArray:
    return place(rng, motion(rng, name))


def random_walk(rng: np.random.Generator) -> FloatArray:
    n = int(rng.integers(20, 61))
    seq = np.repeat(BASE[None], n, axis=0)
    walk = np.cumsum(rng.normal(0.0, 0.05, (n, 3)), axis=0)
    seq[:, 0] += walk
    seq[:, 1] += 0.5 * walk
    seq[:, 2] += np.cumsum(rng.normal(0.0, 0.03, (n, 3)), axis=0)
    return place(rng, seq)


def still(rng: np.random.Generator) -> FloatArray:
    n = int(rng.integers(20, 61))
    return place(rng, np.repeat(BASE[None], n, axis=0))


def training_set(
    rng: np.random.Generator, per_label: int = 5
) -> tuple[list[FloatArray], list[str]]:
    sequences = [example(rng, name) for name in TAUGHT for _ in range(per_label)]
    return sequences, [name for name in TAUGHT for _ in range(per_label)]


@pytest.fixture(scope="module")
def recognizer() -> TemplateRecognizer:
    return TemplateRecognizer().fit(*training_set(np.random.default_rng(0)))


# --- recognition ---------------------------------------------------------------------------------


def test_held_out_performances_are_recognized(recognizer: TemplateRecognizer) -> None:
    rng = np.random.default_rng(1)
    truth = [name for name in TAUGHT for _ in range(25)]
    predicted = [recognizer.predict(example(rng, name)) for name in truth]
    accuracy = np.mean([label == name for (label, _), name in zip(predicted, truth, strict=True)])
    assert accuracy >= 0.95
    assert all(0.0 < score <= 1.0 for label, score in predicted if label is not None)
    assert recognizer.frame_shape == (JOINTS, 3)


def test_ordinary_movement_is_rejected(recognizer: TemplateRecognizer) -> None:
    rng = np.random.default_rng(2)
    others = (
        [random_walk(rng) for _ in range(40)]
        + [still(rng) for _ in range(30)]
        + [example(rng, "eight") for _ in range(20)]
        + [example(rng, "swipe") for _ in range(20)]
    )
    results = [recognizer.predict(seq) for seq in others]
    assert np.mean([label is None for label, _ in results]) >= 0.95
    assert all(score == 0.0 for label, score in results if label is None)


def test_position_and_size_do_not_matter(recognizer: TemplateRecognizer) -> None:
    seq = example(np.random.default_rng(3), "circle")
    label, score = recognizer.predict(seq)
    moved_label, moved_score = recognizer.predict(seq * 2.5 + np.array([10.0, -4.0, 7.0]))
    assert label == moved_label == "circle"
    assert moved_score == pytest.approx(score, abs=1e-9)


def test_plain_feature_sequences() -> None:
    """(frames, features) input, e.g. from template_features, with no joint structure."""
    rng = np.random.default_rng(4)

    def curve(kind: int) -> FloatArray:
        n = round(30 * rng.uniform(0.7, 1.3))
        t = np.linspace(0.0, 1.0, n)[:, None]
        freq = np.array([1.0, 2.0, 3.0, 0.5, 1.5, 2.5])
        phase = np.roll(np.linspace(0.0, 2.0, 6), kind)
        wave = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0.0, 0.05, (n, 6))
        return np.asarray(wave, dtype=np.float64)

    rec = TemplateRecognizer().fit(
        [curve(k) for k in range(3) for _ in range(4)], list("aaaabbbbcccc")
    )
    assert rec.frame_shape == (6,)
    found = [rec.predict(curve(k))[0] for k in range(3) for _ in range(10)]
    assert np.mean([f == "abc"[i // 10] for i, f in enumerate(found)]) >= 0.95
    assert rec.predict(rng.normal(0.0, 1.0, (30, 6)))[0] is None


def test_resampling_keeps_recognition(recognizer: TemplateRecognizer) -> None:
    rng = np.random.default_rng(5)
    rec = TemplateRecognizer(resample_to=24).fit(*training_set(rng))
    assert all(len(frames) == 24 for _, frames in rec.templates)
    assert [rec.predict(example(rng, name))[0] for name in TAUGHT] == list(TAUGHT)
    assert rec.predict(still(rng))[0] is None


# --- refusing bad examples -----------------------------------------------------------------------


def test_too_few_examples_says_how_many_more() -> None:
    rng = np.random.default_rng(6)
    seqs = [example(rng, "circle") for _ in range(2)] + [example(rng, "wave") for _ in range(3)]
    with pytest.raises(TemplateError, match=r"'circle' has 2, record 1 more") as err:
        TemplateRecognizer().fit(seqs, ["circle"] * 2 + ["wave"] * 3)
    assert err.value.more_needed == {"circle": 1}


def test_an_example_unlike_the_others_is_refused() -> None:
    rng = np.random.default_rng(7)
    seqs = [example(rng, "circle") for _ in range(3)] + [example(rng, "zigzag")]
    with pytest.raises(TemplateError, match=r"'circle': example\(s\) #4 of 4 do not resemble"):
        TemplateRecognizer().fit(seqs, ["circle"] * 4)
    seqs = [example(rng, "circle") for _ in range(2)] + [example(rng, "zigzag")]
    with pytest.raises(TemplateError, match=r"record 1 more consistent") as err:
        TemplateRecognizer().fit(
            seqs + [example(rng, "wave") for _ in range(3)], ["c"] * 3 + ["w"] * 3
        )
    assert err.value.more_needed == {"c": 1}


def test_gestures_that_cannot_be_told_apart_are_refused() -> None:
    rng = np.random.default_rng(8)
    seqs = [example(rng, "circle") for _ in range(6)]
    with pytest.raises(TemplateError, match=r"cannot be told apart"):
        TemplateRecognizer().fit(seqs, ["a", "b"] * 3)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((30, 19, 3)), r"example #3 .* do not match the others' \(20, 3\)"),
        (np.zeros((2, 20, 3)), r"example #3 .* 2 frame\(s\); at least 3"),
        (np.full((30, 20, 3), np.nan), r"example #3 .* NaN"),
        (np.zeros(30), r"expected \(frames, features\) or \(frames, joints, coords\)"),
    ],
)
def test_malformed_examples_are_named(bad: FloatArray, message: str) -> None:
    rng = np.random.default_rng(9)
    seqs = [example(rng, "circle") for _ in range(3)] + [bad]
    with pytest.raises(TemplateError, match=message):
        TemplateRecognizer().fit(seqs, ["circle"] * 4)


def test_predict_checks_the_frame_shape(recognizer: TemplateRecognizer) -> None:
    with pytest.raises(TemplateError, match=r"do not match the others' \(20, 3\)"):
        recognizer.predict(np.zeros((30, 33, 3)))
    with pytest.raises(TemplateError, match="not been fitted"):
        TemplateRecognizer().predict(np.zeros((30, 4)))


# --- the spotter ---------------------------------------------------------------------------------


def fidget(rng: np.random.Generator, n: int) -> FloatArray:
    """Ordinary movement between gestures: the hand wanders and comes back to rest."""
    seq = np.repeat(BASE[None], n, axis=0)
    walk = np.cumsum(rng.normal(0.0, 0.02, (n, 3)), axis=0)
    walk -= np.linspace(0.0, 1.0, n)[:, None] * walk[-1]
    seq[:, 0] += walk
    seq[:, 1] += 0.5 * walk
    return seq


def stream_with(
    rng: np.random.Generator, parts: list[str | int]
) -> tuple[FloatArray, list[tuple[str, int, int]]]:
    """A visitor's stream: fidgeting (an int: frames) and gestures (a name); returns the frames
    and each gesture's (name, first frame, frame after the last)."""
    pieces, truth, at = [], [], 0
    for part in parts:
        piece = fidget(rng, part) if isinstance(part, int) else motion(rng, part)
        if isinstance(part, str):
            truth.append((part, at, at + len(piece)))
        pieces.append(piece)
        at += len(piece)
    stream = np.vstack(pieces) + rng.normal(0.0, NOISE, (at, JOINTS, 3))
    return stream * rng.uniform(0.5, 2.0) + rng.normal(0.0, 3.0, 3), truth


def spot(
    spotter: TemplateSpotter, frames: list[FloatArray | None], rate_hz: float = 30.0
) -> list[tuple[str, float, int, int]]:
    found = []
    for i, frame in enumerate(frames):
        for label, score, start_t_s in spotter.update(i / rate_hz, frame):
            found.append((label, score, round(start_t_s * rate_hz), i))
    return found


def test_spotter_finds_the_gestures_in_a_stream_and_nothing_else(
    recognizer: TemplateRecognizer,
) -> None:
    """Ten visitors fidget for 100 frames, circle, fidget for 120, zig-zag, fidget for 100."""
    found_right, false_reports = 0, 0
    for seed in range(10, 20):
        rng = np.random.default_rng(seed)
        stream, truth = stream_with(rng, [100, "circle", 120, "zigzag", 100])
        found = spot(TemplateSpotter(recognizer), list(stream))
        for label, score, start, reported in found:
            assert 0.0 < score <= 1.0
            if any(
                label == name and abs(start - first) <= 5 and after - 1 <= reported <= after + 10
                for name, first, after in truth
            ):
                found_right += 1
            else:
                false_reports += 1
    assert found_right >= 19  # of 20
    assert false_reports <= 1  # in 4,000 frames of fidgeting


def test_spotter_lost_tracking_resets(recognizer: TemplateRecognizer) -> None:
    rng = np.random.default_rng(14)
    stream, truth = stream_with(rng, [30, "circle", 30, "circle", 30])
    (_, first, after), (_, first2, _) = truth
    frames: list[FloatArray | None] = list(stream)
    frames[(first + after) // 2] = None  # tracking lost half-way through the first circle
    found = spot(TemplateSpotter(recognizer), frames)
    assert [label for label, *_ in found] == ["circle"]
    assert abs(found[0][2] - first2) <= 3


def test_spotter_reports_once_then_is_silent_for_the_refractory_period(
    recognizer: TemplateRecognizer,
) -> None:
    rng = np.random.default_rng(15)
    stream, truth = stream_with(rng, [20, "wave", "wave", 60, "wave", 20])
    found = spot(TemplateSpotter(recognizer, refractory_s=60 / 30), list(stream))
    starts = [start for _, _, start, _ in found]
    assert [label for label, *_ in found] == ["wave", "wave"]
    assert starts == [pytest.approx(truth[0][1], abs=3), pytest.approx(truth[2][1], abs=3)]


def test_spotter_checks_the_frame_shape(recognizer: TemplateRecognizer) -> None:
    with pytest.raises(TemplateError, match=r"expected \(20, 3\)"):
        TemplateSpotter(recognizer).update(0.0, np.zeros((33, 3)))


def spotter_benchmark(
    labels: int = 10, per_label: int = 5, frames: int = 30, features: int = 24
) -> float:
    """Mean seconds per ``update`` with ``labels * per_label`` templates of ``frames`` frames."""
    rng = np.random.default_rng(16)
    t = np.linspace(0.0, 1.0, frames)[:, None]
    shapes = [
        np.sin(2 * np.pi * rng.uniform(0.3, 2.0, features) * t + rng.uniform(0, 6, features))
        for _ in range(labels)
    ]
    seqs = [s + rng.normal(0.0, 0.05, s.shape) for s in shapes for _ in range(per_label)]
    rec = TemplateRecognizer().fit(seqs, [str(k) for k in range(labels) for _ in range(per_label)])
    spotter = TemplateSpotter(rec)
    stream = rng.normal(0.0, 0.5, (600, features))
    for i in range(30):
        spotter.update(i / 30, stream[i])
    start = time.perf_counter()
    for i in range(30, len(stream)):
        spotter.update(i / 30, stream[i])
    return (time.perf_counter() - start) / (len(stream) - 30)


def test_spotter_is_fast_enough_for_the_frame_rate() -> None:
    per_frame_s = spotter_benchmark()
    assert per_frame_s < 5e-3  # target 1 ms on the development machine; slack for loaded CI


# --- template files ------------------------------------------------------------------------------


def test_round_trip_gives_identical_predictions(
    recognizer: TemplateRecognizer, tmp_path: Path
) -> None:
    path = tmp_path / "gestures.json"
    save_templates(path, recognizer, joint_set="kinect-v1-20", feature_spec={"joints": JOINTS})
    loaded = load_templates(path, "kinect-v1-20", expected_feature_spec={"joints": JOINTS})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gestures.json"]  # no temp file left
    assert loaded.thresholds == recognizer.thresholds
    rng = np.random.default_rng(17)
    for seq in [example(rng, name) for name in TAUGHT] + [still(rng)]:
        assert loaded.predict(seq) == recognizer.predict(seq)
        assert loaded.distances(seq) == recognizer.distances(seq)


def saved(recognizer: TemplateRecognizer, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    path = tmp_path / "wave.json"
    save_templates(path, recognizer, joint_set="kinect-v1-20", feature_spec={})
    return path, json.loads(path.read_text())


def test_file_for_another_joint_set_is_refused(
    recognizer: TemplateRecognizer, tmp_path: Path
) -> None:
    path, _ = saved(recognizer, tmp_path)
    with pytest.raises(TemplateFileError) as err:
        load_templates(path, JOINT_SET)
    message = str(err.value)
    assert str(path) in message and "'kinect-v1-20'" in message and f"'{JOINT_SET}'" in message


def test_file_with_other_features_is_refused(
    recognizer: TemplateRecognizer, tmp_path: Path
) -> None:
    path, _ = saved(recognizer, tmp_path)
    with pytest.raises(TemplateFileError, match="features were computed as"):
        load_templates(path, "kinect-v1-20", expected_feature_spec=FEATURE_SPEC)


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (lambda d: "{not json", r"not valid JSON \(line 1"),
        (lambda d: {k: v for k, v in d.items() if k != "thresholds"}, "missing key thresholds"),
        (lambda d: {**d, "format": "something-else"}, "format is 'something-else'"),
        (lambda d: {**d, "version": 99}, "version 99 is not supported"),
        (
            lambda d: {**d, "normalization": {"mean": [0.0], "std": [1.0]}},
            r"normalization.mean: expected 60 values",
        ),
        (
            lambda d: {**d, "templates": [{"label": "circle", "frames": [[0.0] * 59] * 30}]},
            r"templates\[0\].frames: expected 60",
        ),
        (
            lambda d: {**d, "templates": [{"label": "circle", "frames": "oops"}]},
            r"templates\[0\].frames: expected a list of lists",
        ),
        (
            lambda d: {**d, "templates": [{"label": "nope", "frames": [[0.0] * 60] * 30}]},
            "'nope' has no threshold",
        ),
        (lambda d: {**d, "templates": d["templates"][:1]}, r"label\(s\) \[.*\] have no templates"),
        (lambda d: [1, 2], "expected a JSON object"),
    ],
)
def test_corrupt_file_errors_name_the_file_and_the_problem(
    recognizer: TemplateRecognizer, tmp_path: Path, corrupt: object, problem: str
) -> None:
    path, document = saved(recognizer, tmp_path)
    bad = corrupt(document)  # type: ignore[operator]
    path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    with pytest.raises(TemplateFileError, match=problem) as err:
        load_templates(path, "kinect-v1-20")
    assert str(err.value).startswith(str(path))


def test_missing_file_and_unwritable_folder(recognizer: TemplateRecognizer, tmp_path: Path) -> None:
    with pytest.raises(TemplateFileError, match=r"absent\.json: cannot read"):
        load_templates(tmp_path / "absent.json", JOINT_SET)
    with pytest.raises(TemplateFileError, match="cannot write"):
        save_templates(
            tmp_path / "no" / "such" / "dir.json", recognizer, joint_set=JOINT_SET, feature_spec={}
        )


# --- DTW properties ------------------------------------------------------------------------------

sequences = (
    st.integers(3, 25)
    .flatmap(
        lambda n: st.lists(
            st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3),
            min_size=n,
            max_size=n,
        )
    )
    .map(lambda rows: np.array(rows, dtype=np.float64))
)


@settings(max_examples=60, deadline=None)
@given(sequences)
def test_dtw_of_a_sequence_to_itself_is_zero(a: FloatArray) -> None:
    assert dtw_distance(a, a) == 0.0


@settings(max_examples=60, deadline=None)
@given(sequences, sequences)
def test_dtw_is_symmetric(a: FloatArray, b: FloatArray) -> None:
    ab, ba = dtw_distance(a, b), dtw_distance(b, a)
    assert ab == pytest.approx(ba, rel=1e-9) or (math.isinf(ab) and math.isinf(ba))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1, 1), min_size=4, max_size=4),
    st.integers(20, 60),
    st.floats(0.7, 1.3),
)
def test_dtw_ignores_a_change_of_speed_up_to_resampling_error(
    coefficients: list[float], n: int, stretch: float
) -> None:
    """The same smooth movement (at most one cycle per second, amplitude <= 2) sampled at two
    speeds: the distance stays within the error of aligning frames half a frame apart."""

    def movement(frames: int) -> FloatArray:
        t = np.linspace(0.0, 1.0, frames)
        c = coefficients
        return np.stack(
            [c[0] * np.sin(2 * np.pi * t) + c[1] * np.cos(2 * np.pi * t), c[2] * t + c[3] * t * t],
            1,
        )

    m = max(3, round(n * stretch))
    a, b = movement(n), movement(m)
    slope = 2 * np.pi * 2 + 3  # bound on |d movement / dt|
    assert dtw_distance(a, b) <= slope / min(n, m)


# --- MediaPipe features --------------------------------------------------------------------------


def skeleton_at(xy: FloatArray) -> Skeleton:
    landmarks = np.zeros((33, 4))
    landmarks[:, :2] = xy
    landmarks[:, 3] = 1.0
    return Skeleton(landmarks)


def upright_body(rng: np.random.Generator) -> FloatArray:
    xy = rng.uniform(0.4, 0.6, (33, 2))
    xy[LANDMARK_INDEX["left_shoulder"]] = [0.6, 0.4]
    xy[LANDMARK_INDEX["right_shoulder"]] = [0.4, 0.4]
    xy[LANDMARK_INDEX["left_hip"]] = [0.57, 0.65]
    xy[LANDMARK_INDEX["right_hip"]] = [0.43, 0.65]
    return xy


def test_skeleton_features_ignore_position_and_distance() -> None:
    xy = upright_body(np.random.default_rng(18))
    near = skeleton_features(skeleton_at(xy))
    far = skeleton_features(skeleton_at(0.4 * xy + [0.1, 0.3]))
    assert near.shape == (FEATURE_SPEC["features"],)
    np.testing.assert_allclose(far, near, atol=1e-12)
    nose = LANDMARK_INDEX["nose"]
    assert near[:2] == pytest.approx((xy[nose] - [0.5, 0.4]) / 0.2)  # shoulder width 0.2


def test_turned_sideways_the_torso_sets_the_scale() -> None:
    xy = upright_body(np.random.default_rng(19))
    xy[LANDMARK_INDEX["left_shoulder"]] = [0.51, 0.4]  # shoulders nearly overlap
    xy[LANDMARK_INDEX["right_shoulder"]] = [0.49, 0.4]
    xy[LANDMARK_INDEX["left_hip"]] = [0.5, 0.65]
    xy[LANDMARK_INDEX["right_hip"]] = [0.5, 0.65]
    nose = LANDMARK_INDEX["nose"]
    features = skeleton_features(skeleton_at(xy))
    assert features[:2] == pytest.approx((xy[nose] - [0.5, 0.4]) / (0.8 * 0.25))
    assert np.all(np.isfinite(skeleton_features(skeleton_at(np.full((33, 2), 0.5)))))


def test_sequence_features_fill_gaps_and_refuse_no_body() -> None:
    rng = np.random.default_rng(20)
    a, b = skeleton_at(upright_body(rng)), skeleton_at(upright_body(rng))
    out = sequence_features([None, a, None, b, None])
    fa, fb = skeleton_features(a), skeleton_features(b)
    np.testing.assert_array_equal(out, np.stack([fa, fa, fa, fb, fb]))
    assert sequence_features([]).shape == (0, FEATURE_SPEC["features"])
    with pytest.raises(TemplateError, match="none of the 2 frames has a skeleton"):
        sequence_features([None, None])


def test_mediapipe_features_train_and_store(tmp_path: Path) -> None:
    """End to end on MediaPipe skeletons: raise the left or the right wrist, saved and loaded."""
    rng = np.random.default_rng(21)

    def raise_wrist(side: str) -> FloatArray:
        n = round(30 * rng.uniform(0.7, 1.3))
        body = upright_body(rng)
        lift = 0.4 * np.sin(np.pi * np.linspace(0.0, 1.0, n))
        frames = []
        for h in lift:
            xy = body.copy()
            xy[LANDMARK_INDEX[f"{side}_wrist"], 1] -= h
            xy[LANDMARK_INDEX[f"{side}_elbow"], 1] -= h / 2
            frames.append(skeleton_at(xy + rng.normal(0.0, 0.003, xy.shape)))
        return sequence_features(frames)

    sides = ["left"] * 4 + ["right"] * 4
    rec = TemplateRecognizer().fit([raise_wrist(side) for side in sides], sides)
    path = tmp_path / "raise.json"
    save_templates(path, rec, joint_set=JOINT_SET, feature_spec=FEATURE_SPEC)
    loaded = load_templates(path, JOINT_SET, expected_feature_spec=FEATURE_SPEC)
    assert [loaded.predict(raise_wrist(side))[0] for side in ("left", "right")] == ["left", "right"]
