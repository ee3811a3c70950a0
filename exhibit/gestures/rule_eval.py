"""Run rule gestures: compile a condition tree once into closures, then hold and re-arm.

:func:`compile_condition` turns a :mod:`~exhibit.gestures.rules` condition into nested closures
that read a :class:`~exhibit.gestures.features.BodyFrame`'s rows (plain floats, x already in
image heights) and return ``True``, ``False`` or ``None`` (unknown). Joint names become row
indices, thresholds become floats, zones are scaled to image heights, all at compile time, so a
five-condition rule costs a few microseconds per frame and no numpy.

**Unknown.** A point whose landmark(s) are below the rule's ``min_visibility`` makes the
condition that reads it *unknown*, never false and never an error; so does an angle with a
zero-length side and a speed without enough history. ``all``/``any``/``not`` use Kleene's
three-valued logic: ``all`` is false if any part is false, else unknown if any part is, else
true; ``any`` is true if any part is true, else unknown if any part is, else false; ``not``
keeps unknown unknown (a hidden hand is not "not raised").

**Hold and re-arm** (:class:`RuleDetector`, as :mod:`~exhibit.gestures.hands_up`): a true frame
starts or continues the hold; a false frame ends it and re-arms the gesture; an unknown frame, or
one without a body, is skipped, and a hold survives such gaps up to ``MAX_GAP_S`` (0.4 s). The
gesture fires once the hold has lasted ``hold_s``, if armed and at least ``refractory_s`` after
the previous hit; it then waits for a false frame before it can fire again. Time going back (a
new recording fed to the same detector) forgets everything, as :meth:`RuleDetector.reset`.

**Speed** is stateful: each speed condition keeps a short, time-bounded history of its point and
is fed every frame (:meth:`CompiledCondition.observe`) whether or not the rest of the tree
short-circuits, so the value never depends on what else the rule says.

Example:
    >>> from exhibit.gestures.rules import Relation, RuleGestureSpec
    >>> det = RuleDetector(RuleGestureSpec("duck", Relation("below", "nose", "hip_center")))
    >>> det.update(0.0, None)
    []
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import (
    DEFAULT_ASPECT_RATIO,
    HEAD_TOP_ABOVE_NOSE,
    L_HIP,
    L_SHOULDER,
    MIN_VISIBILITY,
    NOSE,
    R_HIP,
    R_SHOULDER,
    BodyFrame,
)
from exhibit.gestures.rules import (
    IMAGE,
    AllOf,
    Angle,
    Condition,
    Distance,
    Inside,
    Not,
    Relation,
    RuleGestureSpec,
    Speed,
)
from exhibit.skeleton import LANDMARK_INDEX, Skeleton

MAX_GAP_S = 0.4
# Longest speed history kept, whatever the frame rate (the window bounds it by time too).
MAX_SPEED_SAMPLES = 512
# A speed needs a baseline of at least this fraction of its window.
MIN_SPEED_BASELINE = 0.5

Truth = bool | None
Evaluate = Callable[[BodyFrame], Truth]
Point = tuple[float, float]
GetPoint = Callable[[BodyFrame], Point | None]

# Relations as (axis, sign): true when sign * (of - joint) along axis > margin * size.
_RELATION_AXES = {"above": (1, 1.0), "below": (1, -1.0), "left_of": (0, 1.0), "right_of": (0, -1.0)}


def point_getter(name: str, min_visibility: float = MIN_VISIBILITY) -> GetPoint:
    """A function from a body to the named point ``(x, y)`` in image heights, or ``None`` when
    a landmark it needs is below ``min_visibility``."""
    mv = min_visibility
    if name in LANDMARK_INDEX:
        i = LANDMARK_INDEX[name]

        def landmark(b: BodyFrame) -> Point | None:
            r = b.rows[i]
            return (r[0], r[1]) if r[3] >= mv else None

        return landmark
    if name == "shoulder_center":

        def shoulder_center(b: BodyFrame) -> Point | None:
            rows = b.rows
            if rows[L_SHOULDER][3] < mv or rows[R_SHOULDER][3] < mv:
                return None
            return (b.cx, b.cy)

        return shoulder_center
    if name == "hip_center":

        def hip_center(b: BodyFrame) -> Point | None:
            lh, rh = b.rows[L_HIP], b.rows[R_HIP]
            if lh[3] < mv or rh[3] < mv:
                return None
            return (0.5 * (lh[0] + rh[0]), 0.5 * (lh[1] + rh[1]))

        return hip_center
    if name == "head_top":

        def head_top(b: BodyFrame) -> Point | None:
            r = b.rows[NOSE]
            return (r[0], r[1] - HEAD_TOP_ABOVE_NOSE * b.size) if r[3] >= mv else None

        return head_top
    raise ValueError(f"unknown point {name!r}")


class _SpeedTracker:
    """Mean speed of one point along its path over the last ``window_s``: the length of the path
    (the sum of frame-to-frame moves) over the time it took; body sizes per second (see
    ``Speed``). The path length, not the net displacement, so a hand flapping back and forth
    keeps its speed through each reversal."""

    __slots__ = ("_get", "_history", "_path", "_ref", "_window_s", "value")

    def __init__(self, spec: Speed, min_visibility: float) -> None:
        self._get = point_getter(spec.joint, min_visibility)
        self._ref = (
            None if spec.relative_to == IMAGE else point_getter(spec.relative_to, min_visibility)
        )
        self._window_s = spec.window_s
        # (t_s, x, y, length of the move from the previous sample); _path sums all but the first.
        self._history: deque[tuple[float, float, float, float]] = deque()
        self._path = 0.0
        self.value: float | None = None

    def reset(self) -> None:
        self._history.clear()
        self._path = 0.0
        self.value = None

    def _restart(self, t_s: float, x: float, y: float) -> None:
        self._history.clear()
        self._history.append((t_s, x, y, 0.0))
        self._path = 0.0

    def observe(self, t_s: float, b: BodyFrame) -> None:
        self.value = None
        p = self._get(b)
        if p is None:
            return
        if self._ref is None:
            x, y = p
        else:
            r = self._ref(b)
            if r is None:
                return
            x, y = (p[0] - r[0]) / b.size, (p[1] - r[1]) / b.size
        h = self._history
        if not h or t_s <= h[-1][0] or len(h) >= MAX_SPEED_SAMPLES:
            # First sample, time went back (a new recording) or stood still, or a flood.
            self._restart(t_s, x, y)
            return
        last = h[-1]
        step = math.hypot(x - last[1], y - last[2])
        h.append((t_s, x, y, step))
        self._path += step
        window_s = self._window_s
        cutoff = t_s - window_s
        while len(h) > 1 and h[1][0] <= cutoff:
            h.popleft()
            self._path -= h[0][3]
        dt = t_s - h[0][0]
        if dt > window_s + MAX_GAP_S:
            self._restart(t_s, x, y)
            return
        if dt < MIN_SPEED_BASELINE * window_s:
            return
        speed = max(0.0, self._path) / dt
        self.value = speed / b.size if self._ref is None else speed


class CompiledCondition:
    """A condition compiled for one camera aspect ratio and visibility threshold.

    Call it with each frame (``cond(t_s, body)``) for its truth: ``True``, ``False`` or
    ``None`` (unknown). :meth:`observe` and :meth:`evaluate` are the two halves of a call.

    Example:
        >>> import numpy as np
        >>> from exhibit.skeleton import Skeleton
        >>> from exhibit.gestures.rules import Relation
        >>> cond = compile_condition(Relation("above", "nose", "left_hip"))
        >>> lm = np.zeros((33, 4)); lm[:, 3] = 1.0; lm[23, 1] = 0.8; lm[0, 1] = 0.2
        >>> cond(0.0, BodyFrame.of(Skeleton(lm)))
        True
    """

    __slots__ = ("_trackers", "evaluate")

    def __init__(self, evaluate: Evaluate, trackers: tuple[_SpeedTracker, ...]) -> None:
        self.evaluate = evaluate
        self._trackers = trackers

    def observe(self, t_s: float, body: BodyFrame) -> None:
        """Feed the stateful parts (speeds) one frame; call once per frame, before evaluate."""
        for tracker in self._trackers:
            tracker.observe(t_s, body)

    def __call__(self, t_s: float, body: BodyFrame) -> Truth:
        for tracker in self._trackers:
            tracker.observe(t_s, body)
        return self.evaluate(body)

    @property
    def speeds(self) -> tuple[float | None, ...]:
        """The last value of each speed condition in the tree, in order, body sizes per second
        (``None``: unknown); for tuning a threshold."""
        return tuple(tracker.value for tracker in self._trackers)

    def reset(self) -> None:
        """Forget every speed history."""
        for tracker in self._trackers:
            tracker.reset()


def compile_condition(
    condition: Condition,
    aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    min_visibility: float = MIN_VISIBILITY,
) -> CompiledCondition:
    """Compile ``condition`` for a camera of ``aspect_ratio`` (``width_px / height_px``)."""
    trackers: list[_SpeedTracker] = []
    evaluate = _compile(condition, aspect_ratio, min_visibility, trackers)
    return CompiledCondition(evaluate, tuple(trackers))


def _compile(cond: Condition, aspect: float, mv: float, trackers: list[_SpeedTracker]) -> Evaluate:
    if isinstance(cond, Relation):
        return _relation(cond, mv)
    if isinstance(cond, Distance):
        return _distance(cond, mv)
    if isinstance(cond, Angle):
        return _angle(cond, mv)
    if isinstance(cond, Speed):
        tracker = _SpeedTracker(cond, mv)
        trackers.append(tracker)
        return _speed(tracker, cond)
    if isinstance(cond, Inside):
        return _inside(cond, aspect, mv)
    if isinstance(cond, Not):
        inner = _compile(cond.condition, aspect, mv, trackers)

        def negate(b: BodyFrame) -> Truth:
            v = inner(b)
            return None if v is None else not v

        return negate
    parts = tuple(_compile(c, aspect, mv, trackers) for c in cond.conditions)
    return _all(parts) if isinstance(cond, AllOf) else _any(parts)


def _all(parts: tuple[Evaluate, ...]) -> Evaluate:
    def all_of(b: BodyFrame) -> Truth:
        unknown = False
        for part in parts:
            v = part(b)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True

    return all_of


def _any(parts: tuple[Evaluate, ...]) -> Evaluate:
    def any_of(b: BodyFrame) -> Truth:
        unknown = False
        for part in parts:
            v = part(b)
            if v:
                return True
            if v is None:
                unknown = True
        return None if unknown else False

    return any_of


def _relation(cond: Relation, mv: float) -> Evaluate:
    axis, sign = _RELATION_AXES[cond.kind]
    margin = cond.margin
    if cond.joint in LANDMARK_INDEX and cond.of in LANDMARK_INDEX:
        i, j = LANDMARK_INDEX[cond.joint], LANDMARK_INDEX[cond.of]

        def relation_landmarks(b: BodyFrame) -> Truth:
            rows = b.rows
            p, q = rows[i], rows[j]
            if p[3] < mv or q[3] < mv:
                return None
            return sign * (q[axis] - p[axis]) > margin * b.size

        return relation_landmarks
    get_p, get_q = point_getter(cond.joint, mv), point_getter(cond.of, mv)

    def relation(b: BodyFrame) -> Truth:
        p, q = get_p(b), get_q(b)
        if p is None or q is None:
            return None
        return sign * (q[axis] - p[axis]) > margin * b.size

    return relation


def _range(lo: float | None, hi: float | None) -> tuple[float, float]:
    return (-math.inf if lo is None else lo, math.inf if hi is None else hi)


def _distance(cond: Distance, mv: float) -> Evaluate:
    get_p, get_q = (point_getter(n, mv) for n in cond.points)
    lo, hi = _range(cond.min_sizes, cond.max_sizes)

    def distance(b: BodyFrame) -> Truth:
        p, q = get_p(b), get_q(b)
        if p is None or q is None:
            return None
        return lo <= math.hypot(p[0] - q[0], p[1] - q[1]) / b.size <= hi

    return distance


def _angle(cond: Angle, mv: float) -> Evaluate:
    get_a, get_b, get_c = (point_getter(n, mv) for n in cond.points)
    lo, hi = _range(cond.min_deg, cond.max_deg)

    def angle(b: BodyFrame) -> Truth:
        a, v, c = get_a(b), get_b(b), get_c(b)
        if a is None or v is None or c is None:
            return None
        ax, ay, cx, cy = a[0] - v[0], a[1] - v[1], c[0] - v[0], c[1] - v[1]
        if (ax == 0.0 and ay == 0.0) or (cx == 0.0 and cy == 0.0):
            return None
        return lo <= math.degrees(math.atan2(abs(ax * cy - ay * cx), ax * cx + ay * cy)) <= hi

    return angle


def _speed(tracker: _SpeedTracker, cond: Speed) -> Evaluate:
    lo, hi = _range(cond.min_sizes_per_s, cond.max_sizes_per_s)

    def speed(b: BodyFrame) -> Truth:
        v = tracker.value
        return None if v is None else lo <= v <= hi

    return speed


def _inside(cond: Inside, aspect: float, mv: float) -> Evaluate:
    get_p = point_getter(cond.joint, mv)
    x0, y0, x1, y1 = cond.zone
    x0, x1 = x0 * aspect, x1 * aspect  # rows hold x in image heights

    def inside(b: BodyFrame) -> Truth:
        p = get_p(b)
        if p is None:
            return None
        return x0 <= p[0] <= x1 and y0 <= p[1] <= y1

    return inside


class RuleDetector:
    """Detects one rule gesture; implements the ``BodyFrameDetector`` protocol of ``base``.

    ``aspect_ratio`` is the camera's ``width_px / height_px``. Hits have score 1.0 (a rule is
    yes or no) and the spec's ``side``.

    Example:
        >>> from exhibit.gestures.rules import AllOf, Relation, RuleGestureSpec
        >>> from exhibit.synth.script import hands_up_motion, idle_motion, render, sequence
        >>> both_up = AllOf((Relation("above", "left_wrist", "head_top"),
        ...                  Relation("above", "right_wrist", "head_top")))
        >>> det = RuleDetector(RuleGestureSpec("cheer", both_up, hold_s=0.5))
        >>> frames = render(sequence(idle_motion(0.5), hands_up_motion(2.0), idle_motion(0.5)))
        >>> [(h.name, round(h.t_s, 2)) for f in frames for h in det.update(f.t_s, f.skeletons[0])]
        [('cheer', 1.37)]
    """

    def __init__(self, spec: RuleGestureSpec, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.spec = spec
        self.name = spec.name
        self.aspect_ratio = aspect_ratio
        self.condition = compile_condition(spec.condition, aspect_ratio, spec.min_visibility)
        self._since_s: float | None = None
        self._last_true_s: float | None = None
        self._armed = True
        self._last_hit_s: float | None = None
        self._last_t_s: float | None = None

    def reset(self) -> None:
        """Forget any hold in progress, the re-arm state, the refractory period and speeds."""
        self._since_s = None
        self._last_true_s = None
        self._armed = True
        self._last_hit_s = None
        self._last_t_s = None
        self.condition.reset()

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a hold completes."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        if self._last_t_s is not None and t_s < self._last_t_s:
            self.reset()  # time went back: a new recording
        self._last_t_s = t_s
        last = self._last_true_s
        if last is not None and t_s - last > MAX_GAP_S:
            self._since_s = None
            self._last_true_s = None
        if body is None:
            return []
        truth = self.condition(t_s, body)
        if truth is None:
            return []
        if not truth:
            self._since_s = None
            self._last_true_s = None
            self._armed = True
            return []
        self._last_true_s = t_s
        if self._since_s is None:
            self._since_s = t_s
        spec = self.spec
        if not self._armed or t_s - self._since_s < spec.hold_s:
            return []
        if self._last_hit_s is not None and t_s - self._last_hit_s < spec.refractory_s:
            return []
        self._armed = False
        self._last_hit_s = t_s
        return [GestureHit(self.name, t_s, 1.0, spec.side)]
