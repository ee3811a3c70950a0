"""Synthetic visitors at the event level, for tests and for sizing the session store.

A day of visits is generated from a seed: arrivals over opening hours (busier around midday),
dwell times from a log-normal (most people stop briefly, a few stay minutes), and for each visit
the presence, gesture and engagement events a visitor would cause. They drive the config's
real :class:`ShowMachine`, so the state events are the ones the show would emit. Nothing here
reads the clock; the same seed gives the same events.

Example:
    >>> from exhibit.config.load import loads
    >>> cfg = loads('[show]\\ninitial = "idle"\\n[show.states.idle]\\n')
    >>> events = synthetic_visits(cfg, visits=3, seed=1)
    >>> sum(e.kind == "presence" and e.name == "enter" for e in events)
    3
"""

from __future__ import annotations

import math
import random

from exhibit.config.schema import Config
from exhibit.events import Event
from exhibit.show.machine import ShowContext, ShowMachine

OPENING_S = (9 * 3600.0, 18 * 3600.0)
TICK_S = 1.0


def synthetic_visits(config: Config, visits: int, seed: int = 0) -> list[Event]:
    """Events for ``visits`` visits spread over one day (frame time = seconds since
    midnight), through ``config``'s show."""
    rng = random.Random(seed)
    open_s, close_s = OPENING_S
    midday_s = (open_s + close_s) / 2
    arrivals = sorted(
        min(close_s, max(open_s, rng.gauss(midday_s, (close_s - open_s) / 4)))
        for _ in range(visits)
    )
    gestures = sorted(
        {
            tr.on.removeprefix("gesture.")
            for state in config.show.states.values()
            for tr in (*state.transitions, *config.show.any_state)
            if tr.on and tr.on.startswith("gesture.")
        }
    )
    machine = ShowMachine(config.show)
    events = machine.start(0.0)
    t_prev = 0.0
    for number, arrival in enumerate(arrivals, start=1):
        t0 = max(arrival, t_prev + 2.0)  # one visitor at a time, as the pipeline follows one
        for t in _ticks(t_prev, t0):
            events += machine.tick(t)
        dwell_s = min(900.0, rng.lognormvariate(math.log(25.0), 0.9))
        events.append(Event(t0, "presence", "enter", {"visitor": number}))
        events += machine.handle(t0, "presence.enter", ShowContext(0.0, 0.0, 1))
        keen = rng.random()
        score, high = 0.2, False
        next_gesture_s = t0 + rng.uniform(2.0, 8.0)
        for t in _ticks(t0, t0 + dwell_s):
            score += 0.25 * (keen - score) * TICK_S / 5.0 + rng.gauss(0.0, 0.03)
            score = min(1.0, max(0.0, score))
            ctx = ShowContext(score, t - t0, 1)
            events.append(
                Event(t, "stream", "engagement", {"args": [round(score, 4)], "target": "x"})
            )
            if not high and score > 0.6:
                high = True
                events.append(Event(t, "engagement", "high", {"visitor": number, "score": score}))
                events += machine.handle(t, "engagement.high", ctx)
            elif high and score < 0.35:
                high = False
                events.append(Event(t, "engagement", "low", {"visitor": number, "score": score}))
                events += machine.handle(t, "engagement.low", ctx)
            if gestures and t >= next_gesture_s and rng.random() < keen:
                name = rng.choice(gestures)
                events.append(Event(t, "gesture", name, {"visitor": number, "score": 0.9}))
                events += machine.handle(t, f"gesture.{name}", ctx)
                next_gesture_s = t + rng.uniform(3.0, 15.0)
            events += machine.tick(t, ctx)
        t_prev = t0 + dwell_s
        events.append(Event(t_prev, "presence", "leave", {"visitor": number}))
        events += machine.handle(t_prev, "presence.leave", ShowContext())
    return events


def _ticks(start_s: float, end_s: float) -> list[float]:
    count = int((end_s - start_s) // TICK_S)
    return [start_s + TICK_S * (i + 1) for i in range(count)]
