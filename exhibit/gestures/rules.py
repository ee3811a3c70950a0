"""Rule gestures: gestures a designer writes in the config as conditions over named joints.

No Python and no ``eval``: a rule is a tree of TOML tables, parsed and validated by
:func:`exhibit.gestures.rule_parse.parse_custom_gestures` into the frozen specs of this module,
and compiled by :class:`exhibit.gestures.rule_eval.RuleDetector` into closures over plain
floats. The specs are values (hashable, comparable), so a config holding them stays a value.

Conditions (one kind per table; see ``docs/rule-gestures.md`` for the grammar):

- :class:`Relation` ``above``/``below``/``left_of``/``right_of``: a point beyond another by more
  than ``margin`` body sizes (image directions: ``left_of`` is towards the image's left).
- :class:`Distance` between two points, in body sizes.
- :class:`Angle` at the middle of three points, degrees (0..180, in the image plane).
- :class:`Speed` of a point (mean along its path), body sizes per second, relative to another
  point or to the image.
- :class:`Inside` a zone of the image (normalized ``[x_min, y_min, x_max, y_max]``).
- :class:`AllOf`, :class:`AnyOf`, :class:`Not`: combinations.

Points are MediaPipe's 33 landmark names plus :data:`DERIVED_POINTS`. Body sizes are the
yardstick of :mod:`exhibit.gestures.features`.

Example:
    >>> spec = RuleGestureSpec("arm_out", Distance(("right_wrist", "right_shoulder"), 1.2))
    >>> spec.hold_s, spec in {spec}
    (0.2, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exhibit.gestures.features import MIN_VISIBILITY
from exhibit.skeleton import LANDMARK_NAMES

# Points computed from landmarks: the shoulder centre, the hip centre, and the top of the head
# (HEAD_TOP_ABOVE_NOSE body sizes above the nose, see ``features``).
DERIVED_POINTS: tuple[str, ...] = ("shoulder_center", "hip_center", "head_top")
POINT_NAMES: tuple[str, ...] = LANDMARK_NAMES + DERIVED_POINTS
# ``Speed.relative_to`` value meaning "not relative to the body: movement in the image".
IMAGE = "image"

RelationKind = Literal["above", "below", "left_of", "right_of"]
RELATION_KINDS: tuple[RelationKind, ...] = ("above", "below", "left_of", "right_of")

DEFAULT_HOLD_S = 0.2
DEFAULT_REFRACTORY_S = 1.0
DEFAULT_SPEED_WINDOW_S = 0.2


@dataclass(frozen=True, slots=True)
class Relation:
    """``joint`` is ``kind`` (above, below, left_of, right_of) ``of`` by more than ``margin``
    body sizes (a negative margin allows that much overlap). Image directions: y down, x right.

    Example:
        >>> Relation("above", "right_wrist", "head_top").margin
        0.0
    """

    kind: RelationKind
    joint: str
    of: str
    margin: float = 0.0


@dataclass(frozen=True, slots=True)
class Distance:
    """Distance between two points in body sizes, within ``[min_sizes, max_sizes]`` (a missing
    bound is ``None``).

    Example:
        >>> Distance(("left_wrist", "right_wrist"), max_sizes=0.3).min_sizes is None
        True
    """

    points: tuple[str, str]
    min_sizes: float | None = None
    max_sizes: float | None = None


@dataclass(frozen=True, slots=True)
class Angle:
    """Angle at ``points[1]`` between the rays to ``points[0]`` and ``points[2]``, degrees
    0..180 in the image plane, within ``[min_deg, max_deg]``.

    Example:
        >>> Angle(("right_shoulder", "right_elbow", "right_wrist"), min_deg=150).max_deg is None
        True
    """

    points: tuple[str, str, str]
    min_deg: float | None = None
    max_deg: float | None = None


@dataclass(frozen=True, slots=True)
class Speed:
    """Mean speed of ``joint`` along its path over the last ``window_s`` (path length over
    time, body sizes per second), relative to the point ``relative_to`` (default the shoulder
    centre, so walking is not waving) or to the image (``relative_to = "image"``), within
    ``[min_sizes_per_s, max_sizes_per_s]``.

    Example:
        >>> Speed("left_wrist", min_sizes_per_s=2.0).relative_to
        'shoulder_center'
    """

    joint: str
    min_sizes_per_s: float | None = None
    max_sizes_per_s: float | None = None
    window_s: float = DEFAULT_SPEED_WINDOW_S
    relative_to: str = "shoulder_center"


@dataclass(frozen=True, slots=True)
class Inside:
    """``joint`` lies in ``zone`` = ``(x_min, y_min, x_max, y_max)``, normalized image
    coordinates (0..1, y down), edges included.

    Example:
        >>> Inside("right_wrist", (0.0, 0.0, 0.5, 0.5)).zone[2]
        0.5
    """

    joint: str
    zone: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every condition is (so ``AllOf(())`` is always true).

    Example:
        >>> AllOf(()).conditions
        ()
    """

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one condition is (so ``AnyOf(())`` is never true).

    Example:
        >>> len(AnyOf((Inside("nose", (0.0, 0.0, 1.0, 1.0)),)).conditions)
        1
    """

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The opposite of ``condition``; an unknown condition stays unknown.

    Example:
        >>> Not(Relation("below", "nose", "hip_center")).condition.kind
        'below'
    """

    condition: Condition


Condition = Relation | Distance | Angle | Speed | Inside | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class RuleGestureSpec:
    """One custom gesture: ``condition`` held continuously for ``hold_s`` fires a hit named
    ``name`` (event ``gesture.NAME``) with ``side``; then nothing until ``refractory_s`` has
    passed *and* the condition has been false. Joints below ``min_visibility`` are unknown.

    Example:
        >>> RuleGestureSpec("duck", Relation("below", "nose", "hip_center"), side="left").side
        'left'
    """

    name: str
    condition: Condition
    hold_s: float = DEFAULT_HOLD_S
    refractory_s: float = DEFAULT_REFRACTORY_S
    side: Literal["left", "right"] | None = None
    enabled: bool = True
    min_visibility: float = MIN_VISIBILITY
