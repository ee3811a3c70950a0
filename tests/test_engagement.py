"""Engagement on the project's parametric visitor: who stays, faces the exhibit, stands still
and gestures scores high; who turns away, fidgets or stands far scores low; the events that the
show uses to go deeper or wrap up come with hysteresis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.checker import Checker
from exhibit.engagement import (
    COMPONENTS,
    EngagementConfig,
    EngagementTracker,
    EngagementUpdate,
    parse_engagement,
)
from exhibit.skeleton import Frame, Skeleton
from exhibit.synth.body import BodyShape
from exhibit.synth.script import idle_motion, render, scripted_visitor, walk_motion


def run(frames: list[Frame], config: EngagementConfig | None = None) -> list[EngagementUpdate]:
    tracker = EngagementTracker(config or EngagementConfig())
    return [tracker.update(f.t_s, f.skeletons[0] if f.skeletons else None) for f in frames]


def standing(seconds: float, *, distance_m: float = 2.0, yaw_rad: float = 0.0) -> list[Frame]:
    seg = idle_motion(seconds, position_m=(0.0, distance_m), yaw_rad=yaw_rad)
    return render(seg, fps=15.0, noise_px=0.5)


def test_a_listener_close_and_facing_scores_high_and_fires_high_once() -> None:
    updates = run(standing(40.0, distance_m=1.6))
    assert updates[-1].score > 0.75
    events = [(i, e) for i, u in enumerate(updates) for e in u.events]
    assert [e for _, e in events] == ["high"]


def test_far_and_turned_away_scores_lower_than_near_and_facing() -> None:
    near = run(standing(20.0, distance_m=1.6))[-1]
    far = run(standing(20.0, distance_m=4.5))[-1]
    turned = run(standing(20.0, distance_m=1.6, yaw_rad=1.3))[-1]
    assert near.components["proximity"] > far.components["proximity"]
    assert near.components["facing"] > turned.components["facing"] + 0.3
    assert near.score > far.score and near.score > turned.score


def test_walking_past_is_not_still() -> None:
    frames = render(walk_motion((-2.0, 2.5), (2.0, 2.5)), fps=15.0, noise_px=0.5)
    updates = run([f for f in frames if f.skeletons])
    assert max(u.components["stillness"] for u in updates[5:]) < 0.3
    assert not any(u.events for u in updates)


def test_a_gesture_raises_the_score_and_then_fades() -> None:
    frames = standing(30.0, distance_m=3.0)
    tracker = EngagementTracker(EngagementConfig())
    scores = []
    for f in frames:
        if abs(f.t_s - 10.0) < 1e-9:
            tracker.gesture(f.t_s)
        scores.append(tracker.update(f.t_s, f.skeletons[0]).components["gestures"])
    at = {round(f.t_s, 3): s for f, s in zip(frames, scores, strict=True)}
    assert at[9.0] == 0.0
    assert at[10.0] == pytest.approx(1.0)
    assert at[20.0] == pytest.approx(math.exp(-1.0), rel=1e-6)


def test_low_comes_after_high_when_the_visitor_drifts_off() -> None:
    config = EngagementConfig(hold_s=1.0)
    frames = standing(30.0, distance_m=1.6)
    lost = [Frame(30.0 + i / 15.0, i, 640, 480) for i in range(15 * 15)]
    events = [e for u in run(frames + lost, config) for e in u.events]
    assert events == ["high", "low"]


def test_replay_gives_the_same_scores() -> None:
    frames = scripted_visitor(fps=15.0)
    assert [u.score for u in run(frames)] == [u.score for u in run(frames)]


@settings(max_examples=15, deadline=None)
@given(height_m=st.floats(1.1, 1.95))
def test_body_size_does_not_change_facing_or_stillness(height_m: float) -> None:
    seg = idle_motion(8.0, position_m=(0.0, 2.0))
    child_or_adult = run(render(seg, fps=15.0, shape=BodyShape(height_m)))[-1]
    reference = run(render(seg, fps=15.0))[-1]
    for name in ("facing", "stillness", "dwell"):
        assert child_or_adult.components[name] == pytest.approx(
            reference.components[name], abs=0.05
        )


def test_scores_stay_between_0_and_1() -> None:
    for u in run(scripted_visitor(fps=10.0)):
        assert 0.0 <= u.score <= 1.0
        assert set(u.components) == set(COMPONENTS)
        assert all(0.0 <= v <= 1.0 for v in u.components.values())


def test_config_errors_name_their_paths() -> None:
    c = Checker()
    parse_engagement(
        {"wieghts": {}, "weights": {"facing": -1, "dwel": 1}, "low": 0.7, "high": 0.6},
        "engagement",
        c,
    )
    assert c.problems == [
        "engagement.wieghts: unknown key; expected one of dwell_tau_s, enabled, far_m, "
        "far_scale, fidget_speed, gesture_tau_s, high, hold_s, low, near_m, near_scale, "
        'smooth_s, weights; did you mean "weights"?',
        "engagement.weights.dwel: unknown key; expected one of dwell, facing, gestures, "
        'proximity, stillness; did you mean "dwell"?',
        "engagement.weights.facing: out of range (got -1); expected a value >= 0",
        "engagement.low: not below high (got 0.7); expected a value below 0.6",
    ]


def test_metric_distances_are_config_keys() -> None:
    c = Checker()
    cfg = parse_engagement({"near_m": 0.8, "far_m": 2.5}, "engagement", c)
    assert (cfg.near_m, cfg.far_m, c.problems) == (0.8, 2.5, [])
    tracker = EngagementTracker(cfg)
    body = Skeleton(np.full((33, 4), 0.5))
    assert tracker.components(0.0, body, 1.65)["proximity"] == pytest.approx(0.5)
    c = Checker()
    parse_engagement({"near_m": 4.0, "far_m": -1}, "engagement", c)
    assert c.problems == [
        "engagement.far_m: out of range (got -1); expected a value > 0",
        "engagement.near_m: not nearer than far_m (got 4.0); expected a distance below far_m "
        "(3.5 m)",
    ]


def test_defaults_parse_to_the_documented_config() -> None:
    c = Checker()
    assert parse_engagement({}, "engagement", c) == EngagementConfig()
    assert c.problems == []
