"""Events the core emits, and their one-line JSON form for logs.

An event is ``(t_s, kind, name, data)``. Kinds: ``presence`` (enter/leave), ``gesture``,
``state`` (the show entered a state), ``cue`` (a cue was sent: target, address, args), and
``stream`` (continuous joint stream; not written to logs unless asked), ``engagement``
(``high``/``low``), ``sensor`` (``fault``/``ok``), ``control`` (a command from another
controller) and ``zone`` (``enter``/``leave`` a floor zone, ``exhibit/zones.py``). The JSON form is
canonical (fixed key order, no whitespace, times rounded to microseconds) so that two replays of
the same input give byte-identical logs.

Example:
    >>> Event(1.5, "gesture", "wave", {"visitor": 1, "side": "right"}).to_json()
    '{"t":1.5,"kind":"gesture","name":"wave","side":"right","visitor":1}'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "presence", "gesture", "state", "cue", "stream", "engagement", "sensor", "control", "zone"
]

OscArg = int | float | str | bool


@dataclass(frozen=True, slots=True)
class Cue:
    """One OSC message for a named target. ``args`` keep their Python type, which sets the tag.
    ``bundle``: sent together with the cues around it for the same target, as one OSC bundle
    (a state with ``bundle = true``); it does not show in logs."""

    target: str
    address: str
    args: tuple[OscArg, ...] = ()
    name: str = ""
    bundle: bool = field(default=False, repr=False)


@dataclass(frozen=True, slots=True)
class Event:
    t_s: float
    kind: EventKind
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    cue: Cue | None = None

    def to_json(self) -> str:
        head: dict[str, Any] = {"t": round(self.t_s, 6), "kind": self.kind, "name": self.name}
        for key in sorted(self.data):
            head[key] = self.data[key]
        return json.dumps(head, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def cue_event(t_s: float, cue: Cue, kind: EventKind = "cue") -> Event:
    """The event that records ``cue`` being sent; its data carries target, address and args."""
    return Event(
        t_s,
        kind,
        cue.name or cue.address,
        {"target": cue.target, "address": cue.address, "args": list(cue.args)},
        cue,
    )
