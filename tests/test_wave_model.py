"""The learned wave (``[gestures.wave] model = "learned"`` or ``"both"``): the shipped model on
the project's synthetic body, its file's errors, its config key and its training code."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from exhibit.config.schema import GesturesConfig, WaveConfig
from exhibit.gestures import GestureEngine, GestureHit
from exhibit.gestures.features import BodyFrame
from exhibit.gestures.wave_features import FEATURE_NAMES
from exhibit.gestures.wave_model import (
    BUILTIN_MODEL,
    LearnedWaveDetector,
    WaveModel,
    WaveModelError,
    builtin_model,
)
from exhibit.gestures.wave_train import (
    TREE_COUNT,
    ClipWindows,
    OperatingPoint,
    balanced_weights,
    choose_operating_point,
    clip_windows,
    fit_logistic,
    fit_trees,
    frames_of,
    tree_classifier,
)
from exhibit.skeleton import LANDMARK_INDEX as IDX
from exhibit.skeleton import Frame, Skeleton
from exhibit.synth.body import BodyShape, PinholeCamera, Pose, make_skeleton
from exhibit.synth.script import (
    ArmSide,
    hands_up_motion,
    idle_motion,
    render,
    sequence,
    wave_motion,
)
from tests.views import View


def waves(frames: list[Frame], model: str = "learned") -> list[GestureHit]:
    engine = GestureEngine(GesturesConfig(wave=WaveConfig(model=model)))  # type: ignore[arg-type]
    hits = [
        h for f in frames for h in engine.update(f.t_s, f.skeletons[0] if f.skeletons else None)
    ]
    return [h for h in hits if h.name == "wave"]


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(("height_m", "distance_m", "yaw_deg"), [(1.7, 2.5, 0), (1.1, 3.5, 40)])
def test_a_synthetic_wave_fires_the_learned_model_with_its_side(
    fps: float, side: str, height_m: float, distance_m: float, yaw_deg: float
) -> None:
    where = {"position_m": (0.0, distance_m), "yaw_rad": math.radians(yaw_deg)}
    seg = sequence(
        idle_motion(1.0, **where),  # type: ignore[arg-type]
        wave_motion(3.0, side=side, frequency_hz=2.0, **where),  # type: ignore[arg-type]
        idle_motion(1.0, **where),  # type: ignore[arg-type]
    )
    frames = render(seg, fps=fps, shape=BodyShape(height_m), noise_px=0.5, seed=3)
    hits = waves(frames)
    assert hits, "no wave"
    assert {h.side for h in hits} == {side}
    assert all(1.0 < h.t_s < 4.5 for h in hits)
    assert all(b.t_s - a.t_s >= WaveConfig().refractory_s for a, b in pairwise(hits))
    assert all(0.0 <= h.score <= 1.0 for h in hits)


@pytest.mark.parametrize("model", ["learned", "both"])
@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
@pytest.mark.parametrize(
    ("height_m", "distance_m", "yaw_deg", "noise_px"),
    [(1.7, 1.5, 0, 1.0), (1.7, 2.5, 20, 0.5), (1.1, 3.0, -40, 0.5), (1.1, 3.0, -40, 0.0)],
)
def test_a_raised_hand_held_still_does_not_fire_the_learned_model(
    model: str, fps: float, height_m: float, distance_m: float, yaw_deg: float, noise_px: float
) -> None:
    # MediaPipe's own jitter on BIISC's still hands is 0.3 px rms; 1 px of independent noise on
    # a child at 3 m is a tenth of its yardstick and does fire both detectors (see the docs).
    where = {"position_m": (0.0, distance_m), "yaw_rad": math.radians(yaw_deg)}
    still = wave_motion(4.0, amplitude_rad=0.0, **where)  # type: ignore[arg-type]
    frames = render(still, fps=fps, shape=BodyShape(height_m), noise_px=noise_px, seed=5)
    assert waves(frames, model) == []


def test_a_slow_sway_and_both_hands_up_do_not_fire_the_learned_model() -> None:
    slow = render(wave_motion(8.0, frequency_hz=0.5, amplitude_rad=0.7), fps=30.0)
    assert waves(slow) == []
    up = render(hands_up_motion(3.0), fps=30.0, noise_px=0.5, seed=2)
    assert waves(up) == []


def _hand_near_head(
    t_s: float, hand_dx: float, hand_dy: float, swing: float, hz: float
) -> Skeleton:
    """A standing body whose right hand is ``hand_dx`` yardsticks beside and ``hand_dy`` above
    the nose, rubbing back and forth by ``swing`` yardsticks at ``hz`` (scratching the head,
    wiping the face; beside the head, a wave), the elbow a yardstick below it."""
    base = make_skeleton(BodyShape(1.7), Pose(), (0.0, 2.5), PinholeCamera())
    lm = base.landmarks.copy()
    aspect = 640 / 480
    size = BodyFrame.of(base, aspect).size
    nose_x, nose_y = lm[IDX["nose"], 0] * aspect, lm[IDX["nose"], 1]
    phase = math.sin(2 * math.pi * hz * t_s)
    hand_x = nose_x - hand_dx * size + swing * phase * size
    hand_y = nose_y - hand_dy * size
    elbow_x = nose_x - hand_dx * size
    lm[IDX["right_elbow"], :2] = (elbow_x / aspect, hand_y + 1.0 * size)
    lm[IDX["right_elbow"], 3] = 0.99
    for part, up in (("wrist", 0.0), ("index", 0.3), ("pinky", 0.25), ("thumb", 0.15)):
        lm[IDX[f"right_{part}"], :2] = (hand_x / aspect, hand_y - up * size)
        lm[IDX[f"right_{part}"], 3] = 0.99
    return Skeleton(lm)


@pytest.mark.parametrize("fps", [10.0, 30.0])
@pytest.mark.parametrize("model", ["learned", "both"])
@pytest.mark.parametrize(
    ("hand_dx", "hand_dy", "swing", "hz", "what"),
    [
        (0.1, 0.5, 0.12, 3.0, "scratching the top of the head"),
        (0.0, 0.0, 0.12, 3.0, "wiping the face"),
        (0.0, 0.0, 0.25, 2.0, "a hand swinging in front of the face"),
    ],
)
def test_scratching_or_wiping_at_the_head_does_not_fire_the_learned_model(
    fps: float, model: str, hand_dx: float, hand_dy: float, swing: float, hz: float, what: str
) -> None:
    frames = [
        Frame(k / fps, k, 640, 480, (_hand_near_head(k / fps, hand_dx, hand_dy, swing, hz),))
        for k in range(int(4.0 * fps))
    ]
    assert waves(frames, model) == [], what


def test_the_hand_made_body_can_fire_beside_the_head() -> None:
    # The control for the test above: the same body swinging its hand beside the head fires
    # in "both" (through the rules; the learned model alone does not fire on this hand-made
    # skeleton, whose arm is not a real arm: that test is weak evidence for the model, BIISC's
    # SCRA clips in docs/gestures-evaluation.md are the stronger).
    frames = [
        Frame(k / 30, k, 640, 480, (_hand_near_head(k / 30, 1.0, 0.3, 0.25, 2.0),))
        for k in range(120)
    ]
    assert waves(frames, "both")


def test_the_learned_detector_is_deterministic_and_resets() -> None:
    frames = render(sequence(idle_motion(1.0), wave_motion(3.0)), fps=30.0, noise_px=0.5)
    det = LearnedWaveDetector(WaveConfig(model="learned"))
    first = [h for f in frames for h in det.update(f.t_s, f.skeletons[0])]
    det.reset()
    again = [h for f in frames for h in det.update(f.t_s, f.skeletons[0])]
    assert first and first == again
    # Time going backwards (a new recording) starts afresh as well.
    replay = [h for f in frames for h in det.update(f.t_s, f.skeletons[0])]
    assert replay == first


def test_hand_config_limits_the_learned_model_to_one_side() -> None:
    frames = render(sequence(idle_motion(1.0), wave_motion(3.0, side="right")), fps=30.0)
    left = LearnedWaveDetector(WaveConfig(model="learned", hand="left"))
    assert [h for f in frames for h in left.update(f.t_s, f.skeletons[0])] == []


# --- the model file ---------------------------------------------------------------------------


def test_the_shipped_model_is_small_and_loads() -> None:
    assert BUILTIN_MODEL.stat().st_size < 150_000
    model = builtin_model()
    assert len(model.weights) == len(FEATURE_NAMES)
    assert model.trees is not None and len(model.trees.roots) > 10
    assert 0.0 < model.threshold < 1.0 and model.min_windows >= 1
    assert dict(model.info)["subjects"] >= 3


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "wave_model.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _tree_edit(d: dict[str, Any], key: str, i: int, value: object) -> dict[str, Any]:
    column = list(d["trees"][key])
    column[i] = value
    return {**d, "trees": {**d["trees"], key: column}}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: "{ not json", "not a readable wave model"),
        (lambda d: {**d, "format": "something-else"}, "not a wave model"),
        (lambda d: {**d, "version": 99}, "version 99"),
        (lambda d: {**d, "features": ["x", *d["features"][1:]]}, "other window features"),
        (lambda d: {**d, "weights": d["weights"][:-1]}, "weights"),
        (lambda d: {k: v for k, v in d.items() if k != "bias"}, "'bias'"),
        (lambda d: {**d, "threshold": 1.5}, "threshold outside"),
        (lambda d: {**d, "scale": [0.0] * len(d["scale"])}, "scale <= 0"),
        (lambda d: {k: v for k, v in d.items() if k != "trees"}, "'trees' is not a table"),
        (
            lambda d: {**d, "trees": {**d["trees"], "left": [10**6] * len(d["trees"]["left"])}},
            "not a set of trees",
        ),
        # a node pointing to itself, or into the next tree: loads would walk a wrong leaf
        (lambda d: _tree_edit(d, "left", 0, 0), "not a set of trees"),
        (lambda d: _tree_edit(d, "left", 0, d["trees"]["roots"][1]), "not a set of trees"),
        (lambda d: _tree_edit(d, "left", 0, 1.0), "not a list of integers"),
        (lambda d: _tree_edit(d, "is_leaf", 0, "false"), "is_leaf"),
        (lambda d: {**d, "trees": {**d["trees"], "roots": "0"}}, "not a list of integers"),
        (lambda d: {**d, "trees": {**d["trees"], "baseline": 10**400}}, "trees"),
        (lambda d: {**d, "version": True}, "version True"),
        (lambda d: {**d, "bias": 10**400}, "mangles"),
        (
            lambda d: {**d, "trees": {**d["trees"], "feature": [99] * len(d["trees"]["feature"])}},
            "out of range",
        ),
        (
            lambda d: {**d, "trees": {**d["trees"], "value": d["trees"]["value"][:-1]}},
            "differ in length",
        ),
    ],
)
def test_a_corrupt_model_file_is_named_with_the_fix(
    tmp_path: Path, change: object, words: str
) -> None:
    good = json.loads(BUILTIN_MODEL.read_text(encoding="utf-8"))
    path = _write(tmp_path, change(good))  # type: ignore[operator]
    with pytest.raises(WaveModelError) as err:
        WaveModel.load(path)
    assert str(path) in str(err.value)
    assert words in str(err.value)
    assert "train-wave" in str(err.value)


def test_a_leaf_with_a_feature_out_of_range_is_refused_at_load(tmp_path: Path) -> None:
    """A file that loads must never raise later on a frame (the walk reads leaves' features)."""
    data = json.loads(BUILTIN_MODEL.read_text(encoding="utf-8"))
    leaves = data["trees"]["is_leaf"]
    data["trees"]["feature"] = [
        1000 if leaf else f for f, leaf in zip(data["trees"]["feature"], leaves, strict=True)
    ]
    with pytest.raises(WaveModelError, match="feature out of range"):
        WaveModel.load(_write(tmp_path, data))


def test_a_window_with_a_nan_never_fires() -> None:
    """A NaN landmark must not read as a certain wave (the logistic's clamp made it 1.0)."""
    model = builtin_model()
    for k in range(len(FEATURE_NAMES)):
        x = _seen(np.zeros(len(FEATURE_NAMES)))
        x[k] = np.nan
        assert model.probability(x) == 0.0


# Views (tests/views.py) on which one wave used to fire the learned part twice: turned about
# 35-40 degrees, 1.2-1.6 Hz, 35-46 fps (found with 100 random views; 5 did, 0 now).
DOUBLE_FIRED = [
    (View(1.637, 2.54, 0.093, 0.685, 35.8, 0.94, 0.091, (), 35481), "left", 1.391, 0.676),
    (View(1.380, 3.88, 0.285, 0.576, 44.4, 0.55, 0.289, (), 39502), "left", 1.591, 0.654),
    (View(1.606, 3.42, -0.220, -0.687, 38.3, 0.83, 0.264, (), 53348), "right", 1.462, 0.645),
    (View(1.665, 3.30, 0.073, -0.719, 45.8, 0.30, 0.157, (), 9090), "right", 1.241, 0.726),
    (View(1.122, 2.91, -0.168, -0.616, 35.6, 0.93, 0.284, (), 61095), "right", 1.206, 0.731),
]


@pytest.mark.parametrize(("view", "side", "frequency_hz", "amplitude_rad"), DOUBLE_FIRED)
def test_one_wave_that_ends_after_the_refractory_period_gives_one_hit(
    view: View, side: ArmSide, frequency_hz: float, amplitude_rad: float
) -> None:
    """The learned part re-arms only once its window has let go of the wave (a dip under the
    threshold mid-wave used to re-arm it, and the wave's tail fired it again after 2 s)."""
    duration_s = 0.8 + 2.5 / frequency_hz + 0.3
    where = view.where
    wave = wave_motion(
        duration_s, side=side, frequency_hz=frequency_hz, amplitude_rad=amplitude_rad, **where
    )
    frames = view.frames(idle_motion(1.0, **where), wave, idle_motion(1.5, **where))
    hits = waves(frames, "learned")
    assert len(hits) <= 1, hits
    assert all(h.side == side for h in hits)


def test_a_long_wave_fires_again_only_through_the_rules_or_after_a_rest() -> None:
    frames = render(
        sequence(idle_motion(1.0), wave_motion(2.5), idle_motion(2.5), wave_motion(2.5)),
        fps=30.0,
    )
    hits = waves(frames, "learned")
    assert len(hits) == 2  # two waves with a rest between them: two hits
    assert hits[1].t_s > 1.0 + 2.5 + 2.5


def test_a_model_file_in_the_config_is_used_and_checked(tmp_path: Path) -> None:
    from exhibit.config.load import loads
    from exhibit.errors import ConfigError

    data = json.loads(BUILTIN_MODEL.read_text(encoding="utf-8"))
    data["threshold"] = 0.999
    _write(tmp_path, data)
    show = '[show]\ninitial = "a"\n[show.states.a]\n'
    config = loads(show + '[gestures.wave]\nmodel_file = "wave_model.json"\n', base_dir=tmp_path)
    assert Path(config.gestures.wave.model_file) == (tmp_path / "wave_model.json").absolute()
    detector = LearnedWaveDetector(config.gestures.wave)
    assert detector.model.threshold == 0.999
    with pytest.raises(ConfigError) as err:
        loads(show + '[gestures.wave]\nmodel_file = "nope.json"\n', base_dir=tmp_path)
    assert "gestures.wave.model_file" in str(err.value)
    assert "no such wave model file" in str(err.value)


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WaveModelError, match="no such wave model file"):
        WaveModel.load(tmp_path / "nope.json")


def test_a_model_round_trips_through_its_file(tmp_path: Path) -> None:
    model = builtin_model()
    model.save(tmp_path / "m.json")
    again = WaveModel.load(tmp_path / "m.json")
    x = _seen(np.linspace(-1.0, 1.0, len(FEATURE_NAMES)))
    assert again.probability(x) == pytest.approx(model.probability(x), abs=1e-5)
    assert (again.threshold, again.min_windows) == (model.threshold, model.min_windows)


def _seen(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A feature vector whose arm MediaPipe saw (visibility 1)."""
    x = x.copy()
    x[FEATURE_NAMES.index("vis")] = 1.0
    return x


def test_a_window_whose_arm_was_not_seen_never_fires(tmp_path: Path) -> None:
    model = builtin_model()
    x = _seen(np.zeros(len(FEATURE_NAMES)))
    x[FEATURE_NAMES.index("vis")] = 0.04  # under the rules' MIN_ARM_VISIBILITY too
    assert model.probability(x) == 0.0


def test_a_version_1_model_without_trees_still_runs(tmp_path: Path) -> None:
    """Models trained before the trees (logistic alone) keep working after an update."""
    data = json.loads(BUILTIN_MODEL.read_text(encoding="utf-8"))
    del data["trees"]
    data["version"] = 1
    model = WaveModel.load(_write(tmp_path, data))
    assert model.trees is None
    x = _seen(np.linspace(-1.0, 1.0, len(FEATURE_NAMES)))
    z = float(np.dot((x - np.asarray(model.mean)) / np.asarray(model.scale), model.weights))
    assert model.probability(x) == pytest.approx(1.0 / (1.0 + math.exp(-(z + model.bias))))
    model.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["version"] == 1


# --- training ---------------------------------------------------------------------------------


def test_exported_trees_give_scikit_learns_probabilities() -> None:
    """The Pi walks the exported trees with numpy; they must say what scikit-learn says."""
    rng = np.random.default_rng(1)
    X = rng.normal(0.0, 1.0, (600, 5))
    y = ((X[:, 0] > 0.3) & (X[:, 2] < 0.5) | (X[:, 4] > 1.5)).astype(np.float64)
    trees = fit_trees(X, y)
    reference = tree_classifier().fit(X, y, sample_weight=balanced_weights(y))
    expected = reference.predict_proba(X)[:, 1]
    assert np.allclose(trees.probabilities(X), expected, atol=1e-9)
    assert [trees.probability(x) for x in X[:20]] == pytest.approx(expected[:20], abs=1e-9)
    assert len(trees.roots) == TREE_COUNT
    # Deterministic: the same data give the same file.
    assert fit_trees(X, y).to_json() == trees.to_json()


def test_the_ensemble_is_the_mean_of_logistic_and_trees(tmp_path: Path) -> None:
    model = builtin_model()
    assert model.trees is not None
    x = _seen(np.linspace(-1.0, 1.0, len(FEATURE_NAMES)))
    z = float(np.dot((x - np.asarray(model.mean)) / np.asarray(model.scale), model.weights))
    logistic = 1.0 / (1.0 + math.exp(-(z + model.bias)))
    assert model.probability(x) == pytest.approx(0.5 * (logistic + model.trees.probability(x)))


def test_logistic_fit_separates_and_weights_classes_equally() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0.0, 1.0, (500, 3)), rng.normal(2.0, 1.0, (25, 3))])
    y = np.r_[np.zeros(500), np.ones(25)]
    p = fit_logistic(X, y).predict(X)
    # Balanced classes: the rare positives are mostly above 0.5, the negatives mostly below.
    assert (p[500:] > 0.5).mean() > 0.8
    assert (p[:500] < 0.5).mean() > 0.8


def _clip(name: str, positive: bool, rules: bool = False) -> ClipWindows:
    n = len(FEATURE_NAMES)
    clip = ClipWindows(
        name,
        "S1",
        "WAVE" if positive else "COUG",
        positive,
        np.zeros((0, n)),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=bool),
    )
    clip.rules_fired = rules
    return clip


def test_the_operating_point_is_the_best_f1_with_fewest_false_triggers() -> None:
    clips = [_clip("w1", True), _clip("w2", True), _clip("n1", False, rules=True)]
    # Best run values per min_windows 1..4: the waves reach 0.99 / 0.96, the negative 0.97.
    runs = [np.array([0.99] * 4), np.array([0.96] * 4), np.array([0.97] * 4)]
    point, f1 = choose_operating_point(clips, runs)
    assert point == OperatingPoint(0.95, 4, "learned")
    assert f1 == pytest.approx(0.8)


def test_clip_windows_are_the_live_detectors_windows() -> None:
    frames = render(sequence(idle_motion(1.0), wave_motion(3.0)), fps=30.0)
    clip = clip_windows("x", "S1", "WAVE", True, frames_of(frames), 640 / 480)
    assert clip.X.shape[1] == len(FEATURE_NAMES)
    # Scored about ten times a second, per hand, once the window is two thirds covered.
    assert 2 * 30 <= len(clip.X) <= 2 * 40
    assert clip.labels().sum() > 0  # the raised right hand's windows
