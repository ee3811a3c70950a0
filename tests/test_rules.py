"""Rule gestures written in the config: parsing with exact error messages, three-valued
evaluation of every condition kind, scale invariance, speed, hold/refractory timing, and the
rules on the project's own synthetic motion."""

from __future__ import annotations

import math
import timeit
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.checker import Checker
from exhibit.config.schema import FilterConfig
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.gestures.base import BodyFrameDetector, GestureHit
from exhibit.gestures.features import BodyFrame
from exhibit.gestures.rule_eval import (
    MAX_GAP_S,
    RuleDetector,
    compile_condition,
    point_getter,
)
from exhibit.gestures.rule_parse import MAX_DEPTH, parse_custom_gestures
from exhibit.gestures.rules import (
    DERIVED_POINTS,
    POINT_NAMES,
    AllOf,
    Angle,
    AnyOf,
    Condition,
    Distance,
    Inside,
    Not,
    Relation,
    RuleGestureSpec,
    Speed,
)
from exhibit.skeleton import LANDMARK_INDEX as IDX
from exhibit.skeleton import Frame, Skeleton
from exhibit.synth.body import ArmPose, BodyShape, PinholeCamera, Pose, make_skeleton
from exhibit.synth.script import (
    REST_ARM,
    BodyState,
    Segment,
    hands_up_motion,
    idle_motion,
    lerp_arm,
    render,
    sequence,
    smoothstep,
    walk_motion,
    wave_motion,
)

SETTINGS = settings(max_examples=60, deadline=None)
CUSTOM = "gestures.custom"
RESERVED = ("hands_up", "wave")

BRIEF_TOML = """
[gestures.custom.point_at_screen]
all = [
  { above = "right_wrist", of = "right_shoulder" },
  { distance = ["right_wrist", "right_shoulder"], min = 1.2 },   # in body sizes
  { angle = ["right_shoulder", "right_elbow", "right_wrist"], min_deg = 150 },
]
hold_s = 0.5
refractory_s = 2.0
side = "right"

[gestures.custom.arms_flap]
any = [ { speed = "left_wrist", min = 2.0 }, { speed = "right_wrist", min = 2.0 } ]
hold_s = 0.3
"""

POINT_AT_SCREEN = RuleGestureSpec(
    "point_at_screen",
    AllOf(
        (
            Relation("above", "right_wrist", "right_shoulder"),
            Distance(("right_wrist", "right_shoulder"), min_sizes=1.2),
            Angle(("right_shoulder", "right_elbow", "right_wrist"), min_deg=150.0),
        )
    ),
    hold_s=0.5,
    refractory_s=2.0,
    side="right",
)
ARMS_FLAP = RuleGestureSpec(
    "arms_flap",
    AnyOf((Speed("left_wrist", min_sizes_per_s=2.0), Speed("right_wrist", min_sizes_per_s=2.0))),
    hold_s=0.3,
)


def parse(
    text: str, reserved: tuple[str, ...] = RESERVED
) -> tuple[tuple[RuleGestureSpec, ...], Checker]:
    """Parse the ``[gestures.custom]`` table of a TOML snippet, as the loader will."""
    raw = tomllib.loads(text)
    checker = Checker()
    table = raw.get("gestures", {}).get("custom", {})
    return parse_custom_gestures(table, CUSTOM, checker, reserved), checker


def problems(text: str) -> list[str]:
    return parse(text)[1].problems


# --- bodies -----------------------------------------------------------------------------------


def standing(pose: Pose | None = None, aspect: float = 640 / 480) -> BodyFrame:
    """The synthetic adult at 2.5 m, as a BodyFrame."""
    sk = make_skeleton(BodyShape(1.7), pose or Pose(), (0.0, 2.5), PinholeCamera())
    return BodyFrame.of(sk, aspect)


def hand_built(points: dict[str, tuple[float, float]], hidden: tuple[str, ...] = ()) -> BodyFrame:
    """A body from a few named points (aspect 1): shoulders 0.2 apart at y 0.4, hips at y 0.65
    (so size 0.2), everything else at the shoulder centre unless given; ``hidden`` joints have
    visibility 0."""
    lm = np.zeros((33, 4))
    lm[:, :2] = (0.5, 0.4)
    lm[:, 3] = 1.0
    base = {
        "left_shoulder": (0.6, 0.4),
        "right_shoulder": (0.4, 0.4),
        "left_hip": (0.55, 0.65),
        "right_hip": (0.45, 0.65),
    }
    for name, xy in {**base, **points}.items():
        lm[IDX[name], :2] = xy
    for name in hidden:
        lm[IDX[name], 3] = 0.0
    return BodyFrame.of(Skeleton(lm), aspect_ratio=1.0)


def truth(cond: Condition, body: BodyFrame, aspect: float = 1.0) -> bool | None:
    return compile_condition(cond, aspect)(0.0, body)


def run(detector: RuleDetector, frames: list[Frame]) -> list[GestureHit]:
    return [
        h for f in frames for h in detector.update(f.t_s, f.skeletons[0] if f.skeletons else None)
    ]


def filtered(frames: list[Frame]) -> list[Frame]:
    """The frames through the pipeline's One Euro filter (default settings)."""
    filt = SkeletonFilter(FilterConfig())
    out: list[Frame] = []
    for f in frames:
        sk = filt.update(f.t_s, f.skeletons[0] if f.skeletons else None)
        out.append(replace(f, skeletons=() if sk is None else (sk,)))
    return out


# --- parsing ----------------------------------------------------------------------------------


def test_the_briefs_toml_parses_to_specs() -> None:
    specs, checker = parse(BRIEF_TOML)
    assert checker.problems == [] and checker.warnings == []
    assert specs == (POINT_AT_SCREEN, ARMS_FLAP)


def test_specs_are_values() -> None:
    a, _ = parse(BRIEF_TOML)
    b, _ = parse(BRIEF_TOML)
    assert a == b and hash(a) == hash(b) and len({*a, *b}) == 2


def test_every_kind_and_option_parses() -> None:
    specs, checker = parse(
        """
        [gestures.custom.everything]
        any = [
          { below = "nose", of = "hip_center", margin = -0.2 },
          { left_of = "right_wrist", of = "left_shoulder" },
          { right_of = "left_wrist", of = "right_shoulder", margin = 0.5 },
          { distance = ["left_wrist", "right_wrist"], max = 0.3 },
          { angle = ["left_shoulder", "left_elbow", "left_wrist"], min_deg = 60, max_deg = 120 },
          { speed = "hip_center", min = 1, window_s = 0.5, relative_to = "image" },
          { speed = "left_wrist", max = 0.5, relative_to = "left_elbow" },
          { inside = "right_wrist", zone = [0, 0, 0.5, 0.5] },
          { not = { all = [] } },
        ]
        enabled = false
        hold_s = 0
        refractory_s = 5
        side = "left"
        min_visibility = 0.8

        [gestures.custom.duck]
        below = "head_top"
        of = "shoulder_center"
        """
    )
    assert checker.problems == []
    assert specs == (
        RuleGestureSpec(
            "everything",
            AnyOf(
                (
                    Relation("below", "nose", "hip_center", -0.2),
                    Relation("left_of", "right_wrist", "left_shoulder"),
                    Relation("right_of", "left_wrist", "right_shoulder", 0.5),
                    Distance(("left_wrist", "right_wrist"), max_sizes=0.3),
                    Angle(("left_shoulder", "left_elbow", "left_wrist"), 60.0, 120.0),
                    Speed("hip_center", 1.0, None, 0.5, "image"),
                    Speed("left_wrist", None, 0.5, relative_to="left_elbow"),
                    Inside("right_wrist", (0.0, 0.0, 0.5, 0.5)),
                    Not(AllOf(())),
                )
            ),
            hold_s=0.0,
            refractory_s=5.0,
            side="left",
            enabled=False,
            min_visibility=0.8,
        ),
        RuleGestureSpec("duck", Relation("below", "head_top", "shoulder_center")),
    )


JOINTS = (
    "a MediaPipe landmark name (nose, left_wrist, right_hip, ...) or "
    "shoulder_center, hip_center, head_top"
)
KINDS = "above, below, left_of, right_of, distance, angle, speed, inside, all, any, not"

TYPOS = [
    (
        'all = [{ above = "right_wrist", of = "nose" }, '
        '{ distance = ["rigth_wrist", "right_shoulder"], min = 1.2 }]',
        [
            f'{CUSTOM}.g.all[1].distance[0]: unknown joint (got "rigth_wrist"); expected {JOINTS}; '
            'did you mean "right_wrist"?'
        ],
    ),
    (
        'above = "right_wrist"\nof = "nose"\nhold = 0.5',
        [
            f"{CUSTOM}.g.hold: unknown key; expected one of above, enabled, hold_s, margin, "
            'min_visibility, of, refractory_s, side; did you mean "hold_s"?'
        ],
    ),
    (
        'all = [{ distance = ["left_wrist", "right_wrist"], mni = 1.2 }]',
        [
            f"{CUSTOM}.g.all[0].mni: unknown key; expected one of distance, max, min; "
            'did you mean "min"?',
            f"{CUSTOM}.g.all[0]: needs min or max; expected min = ... and/or max = ... "
            "in body sizes",
        ],
    ),
    (
        'any = [{ abve = "right_wrist", of = "nose" }]',
        [
            f"{CUSTOM}.g.any[0].abve: unknown key; expected one of above, all, angle, any, below, "
            "distance, inside, left_of, margin, max, max_deg, min, min_deg, not, of, "
            'relative_to, right_of, speed, window_s, zone; did you mean "above"?'
        ],
    ),
    (
        'above = "nose"\nof = "hip_center"\nside = "rigth"',
        [
            f'{CUSTOM}.g.side: not one of the choices (got "rigth"); expected one of "left", '
            '"right"; did you mean "right"?'
        ],
    ),
    (
        'speed = "left_wrist"\nmin = 2\nrelative_to = "imag"',
        [
            f'{CUSTOM}.g.relative_to: unknown joint (got "imag"); expected {JOINTS} or "image"; '
            'did you mean "image"?'
        ],
    ),
    (
        'above = "right_wrist"',
        [f"{CUSTOM}.g.of: missing; expected a joint name"],
    ),
    (
        "hold_s = 0.5",
        [f"{CUSTOM}.g: no condition; expected one of the keys {KINDS}"],
    ),
    (
        'above = "nose"\nof = "hip_center"\nbelow = "nose"',
        [
            f"{CUSTOM}.g: more than one condition in one table; expected one of above, below per "
            "table; combine conditions with all = [...] or any = [...]"
        ],
    ),
    (
        'distance = ["nose", "left_hip"]\nmin = 2\nmax = 1',
        [f"{CUSTOM}.g: min (2) is greater than max (1); expected min <= max"],
    ),
    (
        'angle = ["left_shoulder", "left_elbow"]\nmax_deg = 200',
        [
            f'{CUSTOM}.g.angle: not a list of 3 joints (got ["left_shoulder", "left_elbow"]); '
            'expected an array of 3 joint names such as ["right_shoulder", "right_elbow", '
            '"right_wrist"]',
            f"{CUSTOM}.g.max_deg: out of range (got 200); expected a value >= 0 and <= 180",
        ],
    ),
    (
        'inside = "nose"\nzone = [0.6, 0, 0.4, 1]',
        [
            f"{CUSTOM}.g.zone: not a zone (got [0.6, 0, 0.4, 1]); expected [x_min, y_min, x_max, "
            "y_max] in normalized image coordinates (0..1) with x_min < x_max and y_min < y_max"
        ],
    ),
    (
        'all = { above = "nose", of = "left_hip" }',
        [
            f"{CUSTOM}.g.all: not a list of conditions (got a table); expected an array of "
            "tables: all = [...]"
        ],
    ),
    (
        "not = [1]\nhold_s = -1",
        [
            f"{CUSTOM}.g.hold_s: out of range (got -1); expected a value >= 0 and <= 60",
            f"{CUSTOM}.g.not: not a condition (got [1]); expected a table such as "
            '{ above = "right_wrist", of = "head_top" }',
        ],
    ),
    (
        'speed = 3\nmin = "fast"\nwindow_s = 0',
        [
            f"{CUSTOM}.g.speed: not a joint name (got 3); expected {JOINTS}",
            f'{CUSTOM}.g.min: not a number (got "fast"); expected a number of body sizes per '
            "second",
            f"{CUSTOM}.g.window_s: out of range (got 0); expected a value > 0 and <= 2",
        ],
    ),
]


@pytest.mark.parametrize(("body", "expected"), TYPOS)
def test_config_errors_are_exact(body: str, expected: list[str]) -> None:
    specs, checker = parse(f"[gestures.custom.g]\n{body}\n")
    assert checker.problems == expected
    assert specs == ()


def test_names_clash_with_builtins_and_must_be_identifiers() -> None:
    text = """
    [gestures.custom.wave]
    above = "nose"
    of = "left_hip"
    [gestures.custom."point at"]
    above = "nose"
    of = "left_hip"
    [gestures.custom.ok]
    above = "nose"
    of = "left_hip"
    [gestures.custom]
    bad = 3
    """
    specs, checker = parse(text)
    assert checker.problems == [
        f'{CUSTOM}.wave: name already used by a built-in gesture (got "wave"); expected a name '
        'other than "hands_up", "wave"',
        f'{CUSTOM}.point at: not a valid gesture name (got "point at"); expected letters, digits '
        "and underscores, not starting with a digit",
        f"{CUSTOM}.bad: not a gesture (got 3); expected a table such as "
        '{ above = "right_wrist", of = "head_top" } plus hold_s',
    ]
    assert [s.name for s in specs] == ["ok"]


def test_every_problem_is_collected_and_good_rules_survive() -> None:
    specs, checker = parse(
        """
        [gestures.custom.bad]
        all = [
          { above = "rigth_wrist", of = "nose" },
          { distance = ["nose"], min = 1 },
          { angle = ["a", "b", "c"], min_deg = 10 },
          { inside = "nose" },
        ]
        [gestures.custom.good]
        all = [{ above = "right_wrist", of = "nose" }]
        """
    )
    assert [p.split(":")[0] for p in checker.problems] == [
        f"{CUSTOM}.bad.all[0].above",
        f"{CUSTOM}.bad.all[1].distance",
        f"{CUSTOM}.bad.all[2].angle[0]",
        f"{CUSTOM}.bad.all[2].angle[1]",
        f"{CUSTOM}.bad.all[2].angle[2]",
        f"{CUSTOM}.bad.all[3].zone",
    ]
    assert [s.name for s in specs] == ["good"]


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    cond: dict[str, Any] = {"above": "nose", "of": "left_hip"}
    for _ in range(MAX_DEPTH + 5):
        cond = {"not": cond}
    checker = Checker()
    assert parse_custom_gestures({"deep": cond}, CUSTOM, checker) == ()
    assert checker.problems == [
        f"{CUSTOM}.deep"
        + ".not" * (MAX_DEPTH + 1)
        + ": nested too deeply; expected at most 10 levels of all/any/not"
    ]


def test_an_empty_any_is_allowed_with_a_warning() -> None:
    specs, checker = parse("[gestures.custom.never]\nany = []\n")
    assert checker.problems == []
    assert checker.warnings == [f"{CUSTOM}.never.any: empty, so never true"]
    assert specs == (RuleGestureSpec("never", AnyOf(())),)


# --- evaluation -------------------------------------------------------------------------------


def test_relations_with_margins() -> None:
    b = hand_built({"right_wrist": (0.3, 0.3), "nose": (0.5, 0.3)})  # size 0.2
    assert truth(Relation("above", "right_wrist", "right_shoulder"), b) is True
    assert truth(Relation("above", "right_wrist", "right_shoulder", 0.4), b) is True
    assert truth(Relation("above", "right_wrist", "right_shoulder", 0.6), b) is False
    assert truth(Relation("below", "right_shoulder", "right_wrist", 0.4), b) is True
    assert truth(Relation("above", "right_wrist", "nose"), b) is False  # level is not above
    assert truth(Relation("above", "right_wrist", "nose", -0.1), b) is True
    assert truth(Relation("left_of", "right_wrist", "nose", 0.9), b) is True  # image left
    assert truth(Relation("left_of", "right_wrist", "nose", 1.1), b) is False
    assert truth(Relation("right_of", "nose", "right_wrist"), b) is True
    assert truth(Relation("right_of", "right_wrist", "nose"), b) is False


def test_derived_points() -> None:
    b = hand_built({"nose": (0.5, 0.3)})  # size 0.2; head top 0.4 sizes above the nose
    at = {name: point_getter(name)(b) for name in DERIVED_POINTS}
    assert at["shoulder_center"] == pytest.approx((0.5, 0.4))
    assert at["hip_center"] == pytest.approx((0.5, 0.65))
    assert at["head_top"] == pytest.approx((0.5, 0.22))
    assert point_getter("head_top")(hand_built({}, hidden=("nose",))) is None
    assert point_getter("hip_center")(hand_built({}, hidden=("left_hip",))) is None
    assert point_getter("shoulder_center")(hand_built({}, hidden=("right_shoulder",))) is None
    with pytest.raises(ValueError, match="unknown point"):
        point_getter("elbow")


def test_distance_angle_and_zone() -> None:
    b = hand_built({"right_elbow": (0.3, 0.4), "right_wrist": (0.3, 0.3), "left_wrist": (0.8, 0.4)})
    assert truth(Distance(("right_shoulder", "right_wrist"), 0.70, 0.71), b) is True  # √2 / 2
    assert truth(Distance(("right_shoulder", "right_wrist"), max_sizes=0.7), b) is False
    assert truth(Angle(("right_shoulder", "right_elbow", "right_wrist"), 89.9, 90.1), b) is True
    assert truth(Angle(("left_wrist", "left_shoulder", "right_shoulder"), min_deg=179.9), b)
    assert truth(Angle(("right_wrist", "right_wrist", "nose"), min_deg=0), b) is None  # no side
    assert truth(Inside("right_wrist", (0.25, 0.25, 0.35, 0.35)), b) is True
    assert truth(Inside("right_wrist", (0.3, 0.3, 0.4, 0.4)), b) is True  # edges count
    assert truth(Inside("left_wrist", (0.0, 0.0, 0.5, 1.0)), b) is False


def test_zones_are_in_normalized_image_coordinates_whatever_the_aspect() -> None:
    lm = np.zeros((33, 4))
    lm[:, 3] = 1.0
    lm[IDX["left_shoulder"], :2] = (0.6, 0.4)
    lm[IDX["right_shoulder"], :2] = (0.4, 0.4)
    lm[IDX["nose"], :2] = (0.9, 0.3)
    for aspect in (640 / 480, 16 / 9, 1.0, 0.75):
        body = BodyFrame.of(Skeleton(lm), aspect)
        assert truth(Inside("nose", (0.85, 0.25, 0.95, 0.35)), body, aspect) is True
        assert truth(Inside("nose", (0.0, 0.0, 0.85, 1.0)), body, aspect) is False


def test_low_visibility_makes_a_condition_unknown() -> None:
    b = hand_built({"right_wrist": (0.3, 0.3)}, hidden=("right_wrist",))
    above = Relation("above", "right_wrist", "right_shoulder")
    known_false = Relation("below", "right_shoulder", "left_hip")
    assert truth(above, b) is None
    assert truth(Not(above), b) is None
    assert truth(AllOf((above, Not(known_false))), b) is None
    assert truth(AllOf((above, known_false)), b) is False
    assert truth(AnyOf((above, Not(known_false))), b) is True
    assert truth(AnyOf((above, known_false)), b) is None
    assert compile_condition(above, 1.0, min_visibility=0.0)(0.0, b) is True
    for cond in (Distance(("right_wrist", "nose"), 0.0), Speed("right_wrist", 0.0)):
        assert truth(cond, b) is None


# Leaves whose truth on the standing body is known: true, false, unknown (a hidden ear).
LEAVES: dict[str, tuple[Condition, bool | None]] = {
    "T": (Relation("above", "nose", "left_hip"), True),
    "F": (Relation("below", "nose", "left_hip"), False),
    "U": (Relation("above", "left_ear", "left_hip"), None),
}


def kleene(cond: Condition) -> bool | None:
    """Reference three-valued logic."""
    for leaf, value in LEAVES.values():
        if cond == leaf:
            return value
    if isinstance(cond, Not):
        v = kleene(cond.condition)
        return None if v is None else not v
    assert isinstance(cond, AllOf | AnyOf)
    values = [kleene(c) for c in cond.conditions]
    decisive = isinstance(cond, AnyOf)  # the value that settles it
    if decisive in values:
        return decisive
    return None if None in values else not decisive


trees: st.SearchStrategy[Condition] = st.recursive(
    st.sampled_from([leaf for leaf, _ in LEAVES.values()]),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(AllOf, st.lists(inner, max_size=4).map(tuple)),
        st.builds(AnyOf, st.lists(inner, max_size=4).map(tuple)),
    ),
    max_leaves=12,
)


def _body_with_hidden_ear() -> BodyFrame:
    sk = make_skeleton(BodyShape(1.7), Pose(), (0.0, 2.5), PinholeCamera())
    lm = sk.landmarks.copy()
    lm[IDX["left_ear"], 3] = 0.1
    return BodyFrame.of(Skeleton(lm))


HIDDEN_EAR = _body_with_hidden_ear()


@SETTINGS
@given(trees)
def test_combinations_follow_three_valued_logic(cond: Condition) -> None:
    assert truth(cond, HIDDEN_EAR) is kleene(cond)


@SETTINGS
@given(trees)
def test_not_inverts_a_known_condition_and_keeps_unknown(cond: Condition) -> None:
    v = truth(cond, HIDDEN_EAR)
    assert truth(Not(cond), HIDDEN_EAR) is (None if v is None else not v)
    assert truth(Not(Not(cond)), HIDDEN_EAR) is v


def test_empty_combinations() -> None:
    assert truth(AllOf(()), HIDDEN_EAR) is True
    assert truth(AnyOf(()), HIDDEN_EAR) is False
    assert truth(Not(AllOf(())), HIDDEN_EAR) is False


angles = st.floats(0.0, math.pi)
arms = st.builds(ArmPose, angles, st.floats(-0.5, 1.5), st.floats(-1.0, 1.0), st.floats(0, 2.5))
poses = st.builds(Pose, arms, arms, st.floats(-0.3, 0.3), st.floats(-1.0, 1.0))
thresholds = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5])
joints = st.sampled_from(POINT_NAMES)
scale_free: st.SearchStrategy[Condition] = st.one_of(
    st.builds(
        Relation,
        st.sampled_from(["above", "below", "left_of", "right_of"]),
        joints,
        joints,
        st.sampled_from([-0.3, 0.0, 0.2]),
    ),
    st.builds(Distance, st.tuples(joints, joints), thresholds, st.sampled_from([None, 0.8, 2.0])),
    st.builds(
        Angle,
        st.tuples(joints, joints, joints),
        st.sampled_from([None, 30.0, 90.0]),
        st.sampled_from([None, 120.0, 170.0]),
    ),
)


@SETTINGS
@given(poses, st.lists(scale_free, min_size=1, max_size=6), st.sampled_from([0.25, 0.5, 2.0]))
def test_the_same_pose_scaled_in_the_image_gives_the_same_result(
    pose: Pose, conds: list[Condition], scale: float
) -> None:
    sk = make_skeleton(BodyShape(1.7), pose, (0.0, 2.5), PinholeCamera())
    scaled = sk.landmarks.copy()
    scaled[:, :2] *= scale  # a power of two: exact, so the comparison can be too
    big, small = BodyFrame.of(sk), BodyFrame.of(Skeleton(scaled))
    for cond in conds:
        assert truth(cond, big) is truth(cond, small)


def test_a_pose_gives_the_same_result_near_and_far_for_a_child_and_an_adult() -> None:
    pointing = Pose(right_arm=ArmPose(abduction_rad=2.0, elbow_rad=0.05))
    spec = POINT_AT_SCREEN.condition
    results = set()
    for height_m, distance_m in ((1.1, 1.5), (1.1, 3.0), (1.7, 2.5), (1.9, 4.0)):
        for pose, expected in ((pointing, True), (Pose(), False)):
            sk = make_skeleton(BodyShape(height_m), pose, (0.3, distance_m), PinholeCamera())
            results.add((expected, truth(spec, BodyFrame.of(sk), 640 / 480)))
    assert results == {(True, True), (False, False)}


# --- speed ------------------------------------------------------------------------------------


def moving(
    t_s: float, velocity: tuple[float, float], hand_velocity: tuple[float, float] = (0.0, 0.0)
) -> BodyFrame:
    """The hand-built body translated by ``velocity * t``, its right wrist moving by an extra
    ``hand_velocity * t`` (image heights per second; size 0.2)."""
    dx, dy = velocity[0] * t_s, velocity[1] * t_s
    lm = np.zeros((33, 4))
    lm[:, 3] = 1.0
    lm[:, :2] = (0.5 + dx, 0.5 + dy)
    lm[IDX["left_shoulder"], :2] = (0.6 + dx, 0.4 + dy)
    lm[IDX["right_shoulder"], :2] = (0.4 + dx, 0.4 + dy)
    lm[IDX["left_hip"], :2] = (0.55 + dx, 0.65 + dy)
    lm[IDX["right_hip"], :2] = (0.45 + dx, 0.65 + dy)
    lm[IDX["right_wrist"], :2] = (
        0.3 + dx + hand_velocity[0] * t_s,
        0.6 + dy + hand_velocity[1] * t_s,
    )
    return BodyFrame.of(Skeleton(lm), aspect_ratio=1.0)


def speeds(cond: Speed, bodies: Sequence[tuple[float, BodyFrame | None]]) -> list[float | None]:
    """The speed the condition measured at each frame (``None`` for frames without a body)."""
    compiled = compile_condition(cond, 1.0)
    out: list[float | None] = []
    for t_s, body in bodies:
        if body is not None:
            compiled.observe(t_s, body)
        out.append(compiled.speeds[0] if body is not None else None)
    return out


@SETTINGS
@given(
    st.sampled_from([10.0, 25.0, 30.0, 60.0]),
    st.floats(0.05, 1.0),
    st.sampled_from(["right_wrist", "nose", "hip_center", "head_top"]),
    st.sampled_from(["shoulder_center", "image", "left_hip"]),
)
def test_the_speed_of_a_still_joint_is_zero(
    fps: float, window_s: float, joint: str, relative_to: str
) -> None:
    body = hand_built({"right_wrist": (0.3, 0.5)})
    values = speeds(
        Speed(joint, 0.0, None, window_s, relative_to), [(i / fps, body) for i in range(40)]
    )
    assert values[0] is None  # one sample is not a speed
    assert set(values[-10:]) == {0.0}


@pytest.mark.parametrize("fps", [15.0, 30.0, 60.0])
def test_speed_is_in_body_sizes_per_second_and_relative_to_the_body_by_default(fps: float) -> None:
    walking = [(i / fps, moving(i / fps, (0.3, 0.0))) for i in range(30)]  # 1.5 sizes/s
    assert speeds(Speed("right_wrist", 0.0), walking)[-1] == pytest.approx(0.0, abs=1e-9)
    assert speeds(Speed("right_wrist", 0.0, relative_to="image"), walking)[-1] == pytest.approx(1.5)
    waving = [(i / fps, moving(i / fps, (0.3, 0.0), (0.0, -0.4))) for i in range(30)]
    assert speeds(Speed("right_wrist", 0.0), waving)[-1] == pytest.approx(2.0)
    assert speeds(Speed("right_wrist", 0.0, relative_to="right_shoulder"), waving)[
        -1
    ] == pytest.approx(2.0)


def test_speed_needs_history_and_forgets_it_after_a_long_gap() -> None:
    cond = Speed("right_wrist", 0.0, window_s=0.2, relative_to="image")
    frames: list[tuple[float, BodyFrame | None]] = [
        (t, moving(t, (0.2, 0.0))) for t in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)
    ]
    frames += [(0.3, None), (0.45, moving(0.45, (0.2, 0.0)))]  # a short gap: bridged
    frames += [(1.2, moving(1.2, (0.2, 0.0))), (1.25, moving(1.25, (0.2, 0.0)))]  # a long one
    frames += [(1.35, moving(1.35, (0.2, 0.0)))]
    got = speeds(cond, frames)
    assert got[:2] == [None, None]  # baseline shorter than half the window
    assert got[2:6] == [pytest.approx(1.0)] * 4
    assert got[6:8] == [None, pytest.approx(1.0)]
    assert got[8:] == [None, None, pytest.approx(1.0)]
    assert 0.45 + 0.2 + MAX_GAP_S < 1.2


def test_speed_starts_again_when_time_goes_back() -> None:
    frames: list[tuple[float, BodyFrame | None]] = [
        (t, moving(t, (0.2, 0.0))) for t in (0.0, 0.1, 0.2, 0.3)
    ]
    frames += [(0.0, moving(5.0, (0.2, 0.0))), (0.1, moving(5.1, (0.2, 0.0)))]
    got = speeds(Speed("right_wrist", 0.0, relative_to="image"), frames)
    assert got[3] == pytest.approx(1.0) and got[4] is None and got[5] == pytest.approx(1.0)


def test_speed_is_measured_every_frame_even_when_the_rule_short_circuits() -> None:
    fast = Speed("right_wrist", min_sizes_per_s=1.0)
    rule = AnyOf((Relation("above", "nose", "left_hip"), fast))  # first part always true
    compiled = compile_condition(rule, 1.0)
    for i in range(10):
        compiled.observe(i / 30, moving(i / 30, (0.0, 0.0), (0.0, -0.4)))
    assert compile_condition(fast, 1.0)(1.0, moving(1.0, (0, 0))) is None  # fresh: no history
    assert len(compiled.speeds) == 1 and compiled.speeds[0] == pytest.approx(2.0)


# --- hold, refractory, re-arm -----------------------------------------------------------------

UP = hand_built({"right_wrist": (0.3, 0.2)})
DOWN = hand_built({"right_wrist": (0.3, 0.6)})
HIDDEN = hand_built({"right_wrist": (0.3, 0.2)}, hidden=("right_wrist",))
RAISED = Relation("above", "right_wrist", "right_shoulder")


def feed(
    spec: RuleGestureSpec, script: Sequence[tuple[float, float, BodyFrame | None]]
) -> list[float]:
    """Hit times for a script of (from_s, to_s, body) at 10 fps."""
    det = RuleDetector(spec, aspect_ratio=1.0)
    times: list[float] = []
    for start, end, body in script:
        for i in range(round((end - start) * 10)):
            t = round(start + i / 10, 6)
            times += [h.t_s for h in det.update_body(t, body)]
    return times


def test_fires_once_after_the_hold_and_not_again_while_held() -> None:
    spec = RuleGestureSpec("raise", RAISED, hold_s=0.5, refractory_s=1.0)
    assert feed(spec, [(0, 1, DOWN), (1, 5, UP)]) == [1.5]


def test_needs_the_condition_to_go_false_and_the_refractory_period() -> None:
    spec = RuleGestureSpec("raise", RAISED, hold_s=0.2, refractory_s=2.0)
    script = [(0, 1, UP), (1, 1.3, DOWN), (1.3, 4, UP), (4, 4.5, DOWN), (4.5, 6, UP)]
    # 0.2; re-armed at 1.0 but refractory until 2.2; held since 1.3, so fires at 2.2; re-armed at
    # 4.0, held from 4.5, fires at 4.7.
    assert feed(spec, script) == [0.2, 2.2, 4.7]


def test_hold_zero_fires_on_the_first_true_frame() -> None:
    assert feed(RuleGestureSpec("raise", RAISED, hold_s=0.0), [(0, 0.5, DOWN), (0.5, 1, UP)]) == [
        0.5
    ]


def test_unknown_frames_and_short_gaps_are_bridged_long_ones_restart_the_hold() -> None:
    spec = RuleGestureSpec("raise", RAISED, hold_s=0.6, refractory_s=0.0)
    bridged = [(0, 0.3, UP), (0.3, 0.5, HIDDEN), (0.5, 0.6, None), (0.6, 2, UP)]
    assert feed(spec, bridged) == [0.6]
    restarted = [(0, 0.3, UP), (0.3, 0.9, None), (0.9, 2, UP)]
    assert feed(spec, restarted) == [1.5]
    # Unknown is not false: it does not re-arm.
    assert feed(spec, [(0, 1, UP), (1, 2, HIDDEN), (2, 4, UP)]) == [0.6]


def test_side_score_name_and_reset() -> None:
    spec = RuleGestureSpec("point", RAISED, hold_s=0.0, refractory_s=10.0, side="right")
    det: BodyFrameDetector = RuleDetector(spec, aspect_ratio=1.0)
    assert det.name == "point"
    assert det.update_body(0.0, UP) == [GestureHit("point", 0.0, 1.0, "right")]
    assert det.update_body(0.1, DOWN) == [] and det.update_body(0.2, UP) == []  # refractory
    det.reset()
    assert det.update_body(0.3, UP) == [GestureHit("point", 0.3, 1.0, "right")]


def test_a_replay_from_time_zero_starts_afresh() -> None:
    spec = RuleGestureSpec("raise", RAISED, hold_s=0.2, refractory_s=30.0)
    assert feed(spec, [(0, 1, UP), (0, 1, UP)]) == [0.2, 0.2]  # no false frame needed


def test_update_with_a_skeleton_equals_update_body() -> None:
    frames = render(sequence(idle_motion(0.5), hands_up_motion(1.0), idle_motion(0.5)), fps=15)
    spec = RuleGestureSpec("up", Relation("above", "left_wrist", "head_top"))
    a, b = RuleDetector(spec), RuleDetector(spec)
    by_skeleton = run(a, frames)
    by_body = [h for f in frames for h in b.update_body(f.t_s, BodyFrame.of(f.skeletons[0]))]
    assert by_skeleton == by_body and len(by_body) == 1


# --- on the project's synthetic motion ----------------------------------------------------------

POINT_ARM = ArmPose(abduction_rad=2.0, elbow_rad=0.05)


def point_motion(
    duration_s: float, position_m: tuple[float, float], raise_s: float = 0.4
) -> Segment:
    """Raise the right arm up and out, straight, hold it, lower it."""

    def motion(t_s: float) -> BodyState:
        w = smoothstep(min(t_s, duration_s - t_s) / raise_s)
        return BodyState(Pose(right_arm=lerp_arm(REST_ARM, POINT_ARM, w)), position_m)

    return Segment("point", duration_s, motion)


@pytest.mark.parametrize(
    ("height_m", "distance_m"), [(1.1, 1.5), (1.1, 3.0), (1.7, 2.5), (1.9, 4.0)]
)
def test_point_at_screen_fires_once_for_children_and_adults_near_and_far(
    height_m: float, distance_m: float
) -> None:
    spot = (0.2, distance_m)
    seg = sequence(
        idle_motion(1.0, position_m=spot),
        point_motion(2.0, spot),
        idle_motion(1.0, position_m=spot),
    )
    frames = filtered(render(seg, shape=BodyShape(height_m), noise_px=0.5, seed=3))
    hits = run(RuleDetector(POINT_AT_SCREEN), frames)
    assert [(h.name, h.side) for h in hits] == [("point_at_screen", "right")]
    assert 1.4 < hits[0].t_s < 2.6


def test_point_at_screen_ignores_other_movement_but_a_rule_means_what_it_says() -> None:
    seg = sequence(
        walk_motion((-2.5, 2.5), (0.0, 2.5), end_yaw_rad=0.0),
        idle_motion(1.0),
        wave_motion(2.5, side="right"),
        idle_motion(1.0),
    )
    assert run(RuleDetector(POINT_AT_SCREEN), filtered(render(seg, noise_px=0.5))) == []
    # Both arms straight up also has the right arm up, straight and long: add a `not`.
    hands_up = filtered(render(sequence(idle_motion(1.0), hands_up_motion(2.0)), noise_px=0.5))
    assert len(run(RuleDetector(POINT_AT_SCREEN), hands_up)) == 1
    assert isinstance(POINT_AT_SCREEN.condition, AllOf)
    only_right = AllOf(
        (
            *POINT_AT_SCREEN.condition.conditions,
            Not(Relation("above", "left_wrist", "left_shoulder")),
        )
    )
    assert run(RuleDetector(replace(POINT_AT_SCREEN, condition=only_right)), hands_up) == []


def flap_motion(
    duration_s: float, frequency_hz: float = 1.5, amplitude_rad: float = 0.5
) -> Segment:
    """Both arms flapping up and down about horizontal-ish."""

    def motion(t_s: float) -> BodyState:
        a = 1.0 + amplitude_rad * math.sin(2 * math.pi * frequency_hz * t_s)
        arm = ArmPose(abduction_rad=a, elbow_rad=0.1)
        return BodyState(Pose(left_arm=arm, right_arm=arm), (0.0, 2.5))

    return Segment("flap", duration_s, motion)


FLAP = RuleGestureSpec(
    "flap",
    AllOf((Speed("left_wrist", min_sizes_per_s=2.0), Speed("right_wrist", min_sizes_per_s=2.0))),
    hold_s=0.3,
    refractory_s=5.0,
)


def test_speed_rules_on_synthetic_motion() -> None:
    flap = filtered(render(sequence(idle_motion(1.0), flap_motion(3.0)), noise_px=0.5))
    assert [h.name for h in run(RuleDetector(FLAP), flap)] == ["flap"]
    wave = filtered(render(sequence(idle_motion(1.0), wave_motion(2.5)), noise_px=0.5))
    hits = run(RuleDetector(ARMS_FLAP), wave)  # a 1.7 s wave: refractory 1 s, so twice
    assert len(hits) == 2 and all(1.0 < h.t_s < 3.5 for h in hits)
    for seg in (idle_motion(4.0), walk_motion((-2.5, 3.0), (2.5, 3.0)), wave_motion(2.5)):
        assert run(RuleDetector(FLAP), filtered(render(seg, noise_px=0.5))) == []


# --- performance ------------------------------------------------------------------------------

FIVE = AllOf(
    (
        Relation("above", "right_wrist", "head_top", 0.1),
        Distance(("right_wrist", "right_shoulder"), min_sizes=1.2),
        Angle(("right_shoulder", "right_elbow", "right_wrist"), min_deg=150.0),
        Speed("right_wrist", max_sizes_per_s=2.0),
        Inside("nose", (0.2, 0.0, 0.8, 1.0)),
    )
)


def test_a_five_condition_rule_costs_microseconds_per_frame() -> None:
    frames = render(hands_up_motion(2.0), noise_px=0.5)[20:60]  # arms up: all five evaluated
    bodies = [BodyFrame.of(f.skeletons[0]) for f in frames]
    det = RuleDetector(RuleGestureSpec("five", FIVE, hold_s=10.0))
    assert [det.condition(i / 30, b) for i, b in enumerate(bodies)][5:] == [True] * 35

    def feed_all() -> None:
        for i, b in enumerate(bodies):
            det.update_body(i / 30, b)

    per_frame_s = min(timeit.repeat(feed_all, number=20, repeat=3)) / (20 * len(bodies))
    assert per_frame_s < 50e-6  # ~3 µs measured; generous for slow CI machines
