"""Typed reads from raw TOML tables that collect problems instead of raising.

Every problem is written as ``path: what is wrong (got X); expected Y; did you mean Z?`` so a
designer can fix a file in one pass. The loader asks for each key once; whatever keys remain in
a table afterwards are unknown and reported with the closest known key.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h)?\s*$")
_DURATION_SCALE_S = {"ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}


def show(value: Any) -> str:
    """A short, TOML-like rendering of a bad value for an error message."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if len(value) > 4 else "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to ``word``, if one is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Checker:
    """Collects problems while reading a config tree.

    Example:
        >>> c = Checker()
        >>> c.number({"hold_s": "x"}, "gestures.hands_up", "hold_s", 0.5, unit="seconds")
        0.5
        >>> c.problems[0]
        'gestures.hands_up.hold_s: not a number (got "x"); expected a number of seconds'
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def error(
        self,
        path: str,
        what: str,
        got: Any = None,
        expected: str | None = None,
        did_you_mean: str | None = None,
        *,
        show_got: bool = True,
    ) -> None:
        text = f"{path}: {what}"
        if show_got:
            text += f" (got {show(got)})"
        if expected:
            text += f"; expected {expected}"
        if did_you_mean:
            text += f"; did you mean {did_you_mean}?"
        self.problems.append(text)

    def unknown_keys(self, table: Mapping[str, Any], path: str, known: Iterable[str]) -> None:
        """Report every key of ``table`` not in ``known``, with the closest known key."""
        known_list = sorted(known)
        for key in table:
            if key not in known_list:
                hint = suggest(key, known_list)
                self.error(
                    join(path, key),
                    "unknown key",
                    show_got=False,
                    expected="one of " + ", ".join(known_list),
                    did_you_mean=f'"{hint}"' if hint else None,
                )

    def table(self, raw: Mapping[str, Any], path: str, key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.error(join(path, key), "not a table", value, f"a [{join(path, key)}] table")
            return {}
        return value

    def number(
        self,
        raw: Mapping[str, Any],
        path: str,
        key: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        unit: str = "",
    ) -> float:
        if key not in raw:
            return default
        value = raw[key]
        where = join(path, key)
        expected = "a number" + (f" of {unit}" if unit else "")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(where, "not a number", value, expected)
            return default
        number = float(value)
        if not math.isfinite(number):
            self.error(where, "not a finite number", value, expected)
            return default
        below = minimum is not None and (
            number <= minimum if exclusive_minimum else number < minimum
        )
        if below or (maximum is not None and number > maximum):
            self.error(
                where, "out of range", value, _range_text(minimum, maximum, exclusive_minimum)
            )
            return default
        return number

    def integer(
        self,
        raw: Mapping[str, Any],
        path: str,
        key: str,
        default: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        if key not in raw:
            return default
        value = raw[key]
        where = join(path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(where, "not an integer", value, "an integer")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(where, "out of range", value, _range_text(minimum, maximum, False))
            return default
        return value

    def boolean(self, raw: Mapping[str, Any], path: str, key: str, default: bool) -> bool:
        if key not in raw:
            return default
        value = raw[key]
        if not isinstance(value, bool):
            self.error(join(path, key), "not a boolean", value, "true or false")
            return default
        return value

    def string(
        self, raw: Mapping[str, Any], path: str, key: str, default: str | None = None
    ) -> str | None:
        """A string value; missing and no default -> a 'missing' problem and None."""
        where = join(path, key)
        if key not in raw:
            if default is None:
                self.error(where, "missing", show_got=False, expected="a string")
            return default
        value = raw[key]
        if not isinstance(value, str) or not value:
            self.error(where, "not a non-empty string", value, "a string")
            return default
        return value

    def choice(
        self, raw: Mapping[str, Any], path: str, key: str, default: str, choices: Iterable[str]
    ) -> str:
        options = list(choices)
        if key not in raw:
            return default
        value = raw[key]
        if not isinstance(value, str) or value not in options:
            hint = suggest(value, options) if isinstance(value, str) else None
            self.error(
                join(path, key),
                "not one of the choices",
                value,
                "one of " + ", ".join(f'"{o}"' for o in options),
                f'"{hint}"' if hint else None,
            )
            return default
        return value

    def duration(self, value: Any, where: str) -> float | None:
        """Seconds from a number or a string such as ``"30s"``, ``"500ms"``, ``"2min"``."""
        expected = 'a duration such as 30, "30s", "500ms" or "2min"'
        if isinstance(value, bool):
            self.error(where, "not a duration", value, expected)
            return None
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := _DURATION.match(value)):
            seconds = float(match.group(1)) * _DURATION_SCALE_S[match.group(2) or "s"]
        else:
            self.error(where, "not a duration", value, expected)
            return None
        if not math.isfinite(seconds) or seconds <= 0:
            self.error(where, "not a positive duration", value, expected)
            return None
        return seconds


def _range_text(minimum: float | None, maximum: float | None, exclusive_minimum: bool) -> str:
    low = ">" if exclusive_minimum else ">="
    if minimum is not None and maximum is not None:
        return f"a value {low} {minimum:g} and <= {maximum:g}"
    if minimum is not None:
        return f"a value {low} {minimum:g}"
    return f"a value <= {maximum:g}"
