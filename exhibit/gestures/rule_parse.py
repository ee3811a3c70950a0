"""Read ``[gestures.custom.NAME]`` tables into :class:`~exhibit.gestures.rules.RuleGestureSpec`.

Validation is complete: every problem in every rule is collected through the
:class:`~exhibit.config.checker.Checker` with its key path, in the project's form
``path: what (got X); expected Y; did you mean Z?``. Nothing in the text is evaluated; each
condition is a table with exactly one kind key (``above``, ``distance``, ``all``, ...) and that
kind's own options. A gesture table is itself a condition table plus the gesture's options.

Example:
    >>> import tomllib
    >>> from exhibit.config.checker import Checker
    >>> raw = tomllib.loads('''
    ... [point]
    ... above = "right_wrist"
    ... of = "rigth_shoulder"
    ... ''')
    >>> c = Checker()
    >>> parse_custom_gestures(raw, "gestures.custom", c)
    ()
    >>> print(c.problems[0])  # doctest: +NORMALIZE_WHITESPACE
    gestures.custom.point.of: unknown joint (got "rigth_shoulder"); expected a MediaPipe landmark
    name (nose, left_wrist, right_hip, ...) or shoulder_center, hip_center, head_top; did you mean
    "right_shoulder"?
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal, cast

from exhibit.config.checker import Checker, join, suggest
from exhibit.gestures.features import MIN_VISIBILITY
from exhibit.gestures.rules import (
    DEFAULT_HOLD_S,
    DEFAULT_REFRACTORY_S,
    DEFAULT_SPEED_WINDOW_S,
    DERIVED_POINTS,
    IMAGE,
    POINT_NAMES,
    RELATION_KINDS,
    AllOf,
    Angle,
    AnyOf,
    Condition,
    Distance,
    Inside,
    Not,
    Relation,
    RelationKind,
    RuleGestureSpec,
    Speed,
)

# Keys each kind of condition table may hold; the kind key comes first.
CONDITION_KEYS: dict[str, tuple[str, ...]] = {
    **{kind: (kind, "of", "margin") for kind in RELATION_KINDS},
    "distance": ("distance", "min", "max"),
    "angle": ("angle", "min_deg", "max_deg"),
    "speed": ("speed", "min", "max", "window_s", "relative_to"),
    "inside": ("inside", "zone"),
    "all": ("all",),
    "any": ("any",),
    "not": ("not",),
}
KINDS: tuple[str, ...] = tuple(CONDITION_KEYS)
GESTURE_KEYS: tuple[str, ...] = ("enabled", "hold_s", "refractory_s", "side", "min_visibility")
ALL_CONDITION_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(k for v in CONDITION_KEYS.values() for k in v)
)
# all/any/not nesting deeper than this is a mistake, and would strain the recursion.
MAX_DEPTH = 10
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_POINT_EXPECTED = "a MediaPipe landmark name (nose, left_wrist, right_hip, ...) or " + ", ".join(
    DERIVED_POINTS
)
_CONDITION_EXAMPLE = 'a table such as { above = "right_wrist", of = "head_top" }'
_KINDS_TEXT = ", ".join(KINDS)


def parse_custom_gestures(
    table: Mapping[str, Any], path: str, checker: Checker, reserved: Collection[str] = ()
) -> tuple[RuleGestureSpec, ...]:
    """Every valid rule gesture in ``table`` (the ``[gestures.custom]`` table, at key path
    ``path``), in file order; every problem goes to ``checker``. ``reserved`` are names taken
    by built-in gestures."""
    specs: list[RuleGestureSpec] = []
    for name, value in table.items():
        where = join(path, name)
        ok = True
        if not NAME_PATTERN.match(name):
            checker.error(
                where,
                "not a valid gesture name",
                name,
                "letters, digits and underscores, not starting with a digit",
            )
            ok = False
        elif name in reserved:
            checker.error(
                where,
                "name already used by a built-in gesture",
                name,
                "a name other than " + ", ".join(f'"{r}"' for r in sorted(reserved)),
            )
            ok = False
        if not isinstance(value, dict):
            checker.error(where, "not a gesture", value, _CONDITION_EXAMPLE + " plus hold_s")
            continue
        spec = _gesture(name, value, where, checker)
        if ok and spec is not None:
            specs.append(spec)
    return tuple(specs)


def _gesture(name: str, t: Mapping[str, Any], path: str, c: Checker) -> RuleGestureSpec | None:
    n_problems = len(c.problems)
    enabled = c.boolean(t, path, "enabled", True)
    hold_s = c.number(t, path, "hold_s", DEFAULT_HOLD_S, minimum=0, maximum=60, unit="seconds")
    refractory_s = c.number(
        t, path, "refractory_s", DEFAULT_REFRACTORY_S, minimum=0, maximum=3600, unit="seconds"
    )
    side: Literal["left", "right"] | None = None
    if "side" in t:
        side = cast(Literal["left", "right"], c.choice(t, path, "side", "left", ("left", "right")))
    min_visibility = c.number(
        t, path, "min_visibility", MIN_VISIBILITY, minimum=0, maximum=1, unit="visibility"
    )
    condition = _condition(t, path, c, 0, GESTURE_KEYS)
    if condition is None or len(c.problems) > n_problems:
        return None
    return RuleGestureSpec(name, condition, hold_s, refractory_s, side, enabled, min_visibility)


def _condition(
    value: Any, path: str, c: Checker, depth: int, extra_keys: tuple[str, ...] = ()
) -> Condition | None:
    """One condition table; ``extra_keys`` are other keys allowed beside it (gesture options)."""
    if not isinstance(value, dict):
        c.error(path, "not a condition", value, _CONDITION_EXAMPLE)
        return None
    if depth > MAX_DEPTH:
        c.error(
            path,
            "nested too deeply",
            show_got=False,
            expected=f"at most {MAX_DEPTH} levels of all/any/not",
        )
        return None
    kinds = [k for k in KINDS if k in value]
    if not kinds:
        known = (*extra_keys, *ALL_CONDITION_KEYS)
        if any(k not in known for k in value):
            c.unknown_keys(value, path, known)
        else:
            c.error(path, "no condition", show_got=False, expected=f"one of the keys {_KINDS_TEXT}")
        return None
    if len(kinds) > 1:
        c.error(
            path,
            "more than one condition in one table",
            show_got=False,
            expected=f"one of {', '.join(kinds)} per table; combine conditions with "
            "all = [...] or any = [...]",
        )
        return None
    kind = kinds[0]
    c.unknown_keys(value, path, (*extra_keys, *CONDITION_KEYS[kind]))
    where = join(path, kind)
    raw = value[kind]
    if kind in RELATION_KINDS:
        return _relation(kind, value, path, c)
    if kind == "distance":
        points = _points(raw, where, c, 2, '["right_wrist", "right_shoulder"]')
        lo, hi = _bounds(value, path, c, "min", "max", "body sizes", None)
        if points is None or lo is hi is None:
            return None
        return Distance((points[0], points[1]), lo, hi)
    if kind == "angle":
        points = _points(raw, where, c, 3, '["right_shoulder", "right_elbow", "right_wrist"]')
        lo, hi = _bounds(value, path, c, "min_deg", "max_deg", "degrees", 180.0)
        if points is None or lo is hi is None:
            return None
        return Angle((points[0], points[1], points[2]), lo, hi)
    if kind == "speed":
        return _speed(value, path, c)
    if kind == "inside":
        return _inside(value, path, c)
    if kind == "not":
        inner = _condition(raw, where, c, depth + 1)
        return None if inner is None else Not(inner)
    return _group(kind, raw, where, c, depth)


def _group(kind: str, raw: Any, where: str, c: Checker, depth: int) -> Condition | None:
    if not isinstance(raw, list):
        c.error(where, "not a list of conditions", raw, f"an array of tables: {kind} = [...]")
        return None
    parts = [_condition(item, join(where, i), c, depth + 1) for i, item in enumerate(raw)]
    if not raw and kind == "any":
        c.warnings.append(f"{where}: empty, so never true")
    good = tuple(p for p in parts if p is not None)
    if len(good) < len(parts):
        return None
    return AllOf(good) if kind == "all" else AnyOf(good)


def _point(value: Any, where: str, c: Checker, extra: tuple[str, ...] = ()) -> str | None:
    if isinstance(value, str) and (value in POINT_NAMES or value in extra):
        return value
    hint = suggest(value, (*POINT_NAMES, *extra)) if isinstance(value, str) else None
    expected = _POINT_EXPECTED + "".join(f' or "{e}"' for e in extra)
    what = "unknown joint" if isinstance(value, str) else "not a joint name"
    c.error(where, what, value, expected, f'"{hint}"' if hint else None)
    return None


def _required_point(t: Mapping[str, Any], path: str, key: str, c: Checker) -> str | None:
    if key not in t:
        c.error(join(path, key), "missing", show_got=False, expected="a joint name")
        return None
    return _point(t[key], join(path, key), c)


def _points(raw: Any, where: str, c: Checker, n: int, example: str) -> list[str] | None:
    if not isinstance(raw, list) or len(raw) != n:
        what = "not a pair of joints" if n == 2 else f"not a list of {n} joints"
        c.error(where, what, raw, f"an array of {n} joint names such as {example}")
        return None
    points = [_point(item, join(where, i), c) for i, item in enumerate(raw)]
    return None if None in points else cast(list[str], points)


def _bounds(
    t: Mapping[str, Any],
    path: str,
    c: Checker,
    lo_key: str,
    hi_key: str,
    unit: str,
    maximum: float | None,
) -> tuple[float | None, float | None]:
    """Optional lower and upper bounds, at least one present, lower <= upper."""
    values: list[float | None] = []
    for key in (lo_key, hi_key):
        if key not in t:
            values.append(None)
            continue
        number = c.number(t, path, key, math.nan, minimum=0, maximum=maximum, unit=unit)
        values.append(None if math.isnan(number) else number)
    lo, hi = values
    if lo_key not in t and hi_key not in t:
        c.error(
            path,
            f"needs {lo_key} or {hi_key}",
            show_got=False,
            expected=f"{lo_key} = ... and/or {hi_key} = ... in {unit}",
        )
    elif lo is not None and hi is not None and lo > hi:
        c.error(
            path,
            f"{lo_key} ({lo:g}) is greater than {hi_key} ({hi:g})",
            show_got=False,
            expected=f"{lo_key} <= {hi_key}",
        )
        return None, None
    if (lo_key in t and lo is None) or (hi_key in t and hi is None):
        return None, None
    return lo, hi


def _relation(kind: RelationKind, t: Mapping[str, Any], path: str, c: Checker) -> Relation | None:
    joint = _point(t[kind], join(path, kind), c)
    of = _required_point(t, path, "of", c)
    n_problems = len(c.problems)
    margin = c.number(t, path, "margin", 0.0, minimum=-5, maximum=5, unit="body sizes")
    if joint is None or of is None or len(c.problems) > n_problems:
        return None
    return Relation(kind, joint, of, margin)


def _speed(t: Mapping[str, Any], path: str, c: Checker) -> Speed | None:
    n_problems = len(c.problems)
    joint = _point(t["speed"], join(path, "speed"), c)
    lo, hi = _bounds(t, path, c, "min", "max", "body sizes per second", None)
    window_s = c.number(
        t,
        path,
        "window_s",
        DEFAULT_SPEED_WINDOW_S,
        minimum=0,
        maximum=2,
        exclusive_minimum=True,
        unit="seconds",
    )
    relative_to = "shoulder_center"
    if "relative_to" in t:
        relative_to = _point(t["relative_to"], join(path, "relative_to"), c, (IMAGE,)) or ""
    if joint is None or len(c.problems) > n_problems:
        return None
    return Speed(joint, lo, hi, window_s, relative_to)


def _inside(t: Mapping[str, Any], path: str, c: Checker) -> Inside | None:
    joint = _point(t["inside"], join(path, "inside"), c)
    where = join(path, "zone")
    expected = "[x_min, y_min, x_max, y_max] in normalized image coordinates (0..1)"
    if "zone" not in t:
        c.error(where, "missing", show_got=False, expected=expected)
        return None
    raw = t["zone"]
    numbers = (
        isinstance(raw, list)
        and len(raw) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
    )
    if not numbers:
        c.error(where, "not a zone", raw, expected)
        return None
    x0, y0, x1, y1 = (float(v) for v in raw)
    if not all(0.0 <= v <= 1.0 for v in (x0, y0, x1, y1)) or x0 >= x1 or y0 >= y1:
        c.error(where, "not a zone", raw, expected + " with x_min < x_max and y_min < y_max")
        return None
    if joint is None:
        return None
    return Inside(joint, (x0, y0, x1, y1))
