"""One anonymous record per visit, built from the events the core emits.

A designer wants to know what visitors actually did: how long they stayed, how far into the
explanation they went, which gestures they found. Everything needed is already in the event
stream (``presence``, ``state``, ``gesture``, ``engagement``, ``control`` and the ``stream``
engagement score), so the builder is a pure function of those events, like the core itself: a
recording replays to the very same sessions. Time is frame time (``t_s``); the sink that stores
the sessions maps it to the wall clock.

A visit runs from ``presence.enter`` to ``presence.leave`` (the pipeline follows one primary
visitor at a time). It ends as:

- ``left``: the visitor walked away while the show was still with them;
- ``timed_out``: the show had gone back to its initial state on a timer before they left (they
  lingered, but the content was over or gave up on them);
- ``reset``: a technician or show controller reset the show (``/exhibit/reset``, or a
  ``goto`` to the initial state) during the visit;
- ``shutdown``: the service stopped while the visitor was there.

Gestures: the engine reports gestures it recognized, not near-misses, so "tried" is measured
against what the show offered: ``gestures_offered`` lists every gesture some state of the visit
listened for, ``gestures_used`` those recognized while the state listened for them, and
``gestures`` counts every recognition. No skeleton, image or visitor number is kept.

Example:
    >>> from exhibit.config.load import loads
    >>> from exhibit.events import Event
    >>> cfg = loads('''
    ... [show]
    ... initial = "attract"
    ... [show.states.attract]
    ... transitions = [{ on = "presence.enter", to = "welcome" }]
    ... [show.states.welcome]
    ... transitions = [{ on = "gesture.wave", to = "talk" }]
    ... [show.states.talk]
    ... level = "overview"
    ... transitions = [{ on = "presence.leave", to = "attract" }]
    ... ''')
    >>> builder = SessionBuilder(cfg)
    >>> events = [
    ...     Event(0.0, "state", "attract", {"because": "start"}),
    ...     Event(2.0, "presence", "enter", {"visitor": 1}),
    ...     Event(2.0, "state", "welcome", {"because": "presence.enter", "from": "attract"}),
    ...     Event(5.0, "gesture", "wave", {"visitor": 1, "score": 0.9}),
    ...     Event(5.0, "state", "talk", {"because": "gesture.wave", "level": "overview"}),
    ...     Event(20.5, "presence", "leave", {"visitor": 1}),
    ... ]
    >>> done = [s for e in events for s in builder.feed(e)]
    >>> (done[0].dwell_s, done[0].ended, done[0].levels, done[0].gestures_used)
    (18.5, 'left', ('overview',), ('wave',))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from exhibit.config.schema import Config
from exhibit.events import Event

Ending = Literal["left", "timed_out", "reset", "shutdown"]
ENDINGS: tuple[Ending, ...] = ("left", "timed_out", "reset", "shutdown")

ENGAGEMENT_STEP_S = 5.0
"""Width of one point of the engagement series at first; doubled whenever a long visit would
make more than ``MAX_ENGAGEMENT_POINTS`` points, so a record stays small."""
MAX_ENGAGEMENT_POINTS = 60
ENGAGEMENT_STREAM_NAME = "engagement"
"""The stream event that carries the score (``[stream] engagement = true``)."""


@dataclass(frozen=True)
class SessionRecord:
    """One visit, anonymous. Times are frame time in seconds; ``engagement`` is a series of
    ``(seconds since arrival, mean score)`` points, ``engagement_step_s`` apart."""

    exhibit: str
    arrival_s: float
    dwell_s: float
    ended: Ending
    states: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    gestures: dict[str, int] = field(default_factory=dict)
    gestures_offered: tuple[str, ...] = ()
    gestures_used: tuple[str, ...] = ()
    engagement: tuple[tuple[float, float], ...] = ()
    engagement_step_s: float = ENGAGEMENT_STEP_S
    engagement_max: float | None = None
    people: int = 1
    """How many people took part (``presence.arrive`` joins a visit in progress); the visit
    itself runs from the first to arrive to the last to go."""

    def summary(self, started_at: float) -> dict[str, Any]:
        """The JSON-able form stored and published, with the wall-clock arrival
        ``started_at`` (Unix seconds). Keys are sorted when it is serialized."""
        return {
            "exhibit": self.exhibit,
            "started_at": round(started_at, 3),
            "dwell_s": round(self.dwell_s, 3),
            "ended": self.ended,
            "states": list(self.states),
            "levels": list(self.levels),
            "zones": list(self.zones),
            "gestures": dict(sorted(self.gestures.items())),
            "gestures_offered": list(self.gestures_offered),
            "gestures_used": list(self.gestures_used),
            "engagement": [[round(t, 3), round(v, 3)] for t, v in self.engagement],
            "engagement_step_s": self.engagement_step_s,
            "engagement_max": (
                None if self.engagement_max is None else round(self.engagement_max, 3)
            ),
            "people": self.people,
        }


class _Series:
    """Mean score per time bucket since arrival; buckets merge pairwise to stay bounded."""

    def __init__(self) -> None:
        self.step_s = ENGAGEMENT_STEP_S
        self._buckets: dict[int, tuple[float, int]] = {}
        self.maximum: float | None = None

    def add(self, offset_s: float, score: float) -> None:
        self.maximum = score if self.maximum is None else max(self.maximum, score)
        index = int(max(offset_s, 0.0) // self.step_s)
        while index >= MAX_ENGAGEMENT_POINTS:
            self._merge()
            index = int(max(offset_s, 0.0) // self.step_s)
        total, count = self._buckets.get(index, (0.0, 0))
        self._buckets[index] = (total + score, count + 1)

    def _merge(self) -> None:
        merged: dict[int, tuple[float, int]] = {}
        for index, (total, count) in self._buckets.items():
            t, c = merged.get(index // 2, (0.0, 0))
            merged[index // 2] = (t + total, c + count)
        self._buckets = merged
        self.step_s *= 2

    def points(self) -> tuple[tuple[float, float], ...]:
        return tuple(
            (index * self.step_s, total / count)
            for index, (total, count) in sorted(self._buckets.items())
        )


class _Visit:
    """What is known about the visit in progress."""

    def __init__(self, arrival_s: float, state: str, offered: frozenset[str]) -> None:
        self.arrival_s = arrival_s
        self.states: list[str] = [state]
        self.levels: list[str] = []
        self.zones: list[str] = []
        self.gestures: dict[str, int] = {}
        self.offered: set[str] = set(offered)
        self.used: list[str] = []
        self.series = _Series()
        self.timed_out = False
        self.reset = False
        self.people: set[object] = set()


def _ordered_add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


class SessionBuilder:
    """Feed it every event of a run, in order; it returns each visit when it is over.

    Pure: no clock, no I/O. Call :meth:`finish` when the run ends (the visit in progress, if
    any, ends as ``shutdown``).
    """

    def __init__(self, config: Config) -> None:
        self.exhibit = config.name
        show = config.show
        self._initial = show.initial
        self._levels = {name: s.level for name, s in show.states.items()}
        shared = [tr.on for tr in show.any_state if tr.on]
        self._listens: dict[str, frozenset[str]] = {
            name: frozenset(
                on.removeprefix("gesture.")
                for on in [*(tr.on for tr in s.transitions if tr.on), *shared]
                if on.startswith("gesture.")
            )
            for name, s in show.states.items()
        }
        self.state = show.initial
        self.last_t_s = 0.0
        self._visit: _Visit | None = None

    @property
    def in_visit(self) -> bool:
        return self._visit is not None

    def feed(self, event: Event) -> list[SessionRecord]:
        """Take one event; returns the visit it ended, if any."""
        self.last_t_s = event.t_s
        visit = self._visit
        if event.kind == "presence":
            if event.name == "enter" and visit is None:
                visit = self._visit = _Visit(
                    event.t_s, self.state, self._listens.get(self.state, frozenset())
                )
            elif event.name == "leave" and visit is not None:
                return [self._close(event.t_s, "left")]
            if visit is not None and event.name in ("enter", "arrive"):
                visit.people.add(event.data.get("visitor"))  # counted, never stored
            return []
        if event.kind == "state":
            self._enter_state(event, visit)
            return []
        if visit is None:
            return []
        if event.kind == "gesture":
            visit.gestures[event.name] = visit.gestures.get(event.name, 0) + 1
            if event.name in self._listens.get(self.state, frozenset()):
                _ordered_add(visit.used, event.name)
        elif event.kind == "engagement" and isinstance(event.data.get("score"), int | float):
            visit.series.add(event.t_s - visit.arrival_s, float(event.data["score"]))
        elif event.kind == "stream" and event.name == ENGAGEMENT_STREAM_NAME:
            args = event.data.get("args") or []
            if args and isinstance(args[0], int | float) and not isinstance(args[0], bool):
                visit.series.add(event.t_s - visit.arrival_s, float(args[0]))
        elif event.kind == "control" and event.name == "reset":
            visit.reset = True
        zone = event.data.get("zone")
        if isinstance(zone, str):
            _ordered_add(visit.zones, zone)
        return []

    def feed_all(self, events: Iterable[Event]) -> list[SessionRecord]:
        return [record for event in events for record in self.feed(event)]

    def finish(self) -> list[SessionRecord]:
        """The run is over: the visit in progress ends as ``shutdown``."""
        if self._visit is None:
            return []
        return [self._close(self.last_t_s, "shutdown")]

    def _enter_state(self, event: Event, visit: _Visit | None) -> None:
        self.state = event.name
        if visit is None:
            return
        _ordered_add(visit.states, event.name)
        level = self._levels.get(event.name)
        if level is not None:
            _ordered_add(visit.levels, level)
        visit.offered |= self._listens.get(event.name, frozenset())
        because = str(event.data.get("because", ""))
        if event.name == self._initial:
            if because.startswith("after"):
                visit.timed_out = True
            elif because.startswith("control."):
                visit.reset = True

    def _close(self, t_s: float, how: Ending) -> SessionRecord:
        visit = self._visit
        assert visit is not None
        self._visit = None
        ended: Ending = how
        if how == "left":
            ended = "reset" if visit.reset else "timed_out" if visit.timed_out else "left"
        return SessionRecord(
            exhibit=self.exhibit,
            arrival_s=visit.arrival_s,
            dwell_s=max(0.0, t_s - visit.arrival_s),
            ended=ended,
            states=tuple(visit.states),
            levels=tuple(visit.levels),
            zones=tuple(visit.zones),
            gestures=dict(sorted(visit.gestures.items())),
            gestures_offered=tuple(sorted(visit.offered)),
            gestures_used=tuple(visit.used),
            engagement=visit.series.points(),
            engagement_step_s=visit.series.step_s,
            engagement_max=visit.series.maximum,
            people=max(1, len(visit.people)),
        )
