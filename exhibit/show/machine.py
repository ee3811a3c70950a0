"""A declarative state machine run from the validated config, with no I/O and no clock.

Time comes in with each call (``t_s``), so the same inputs always give the same states and
cues. Every name in it was checked when the config loaded: a transition here can never point at
a state that does not exist.

Example:
    >>> from exhibit.config.load import loads
    >>> cfg = loads('''
    ... [show]
    ... initial = "attract"
    ... [show.states.attract]
    ... transitions = [{ on = "presence.enter", to = "welcome" }]
    ... [show.states.welcome]
    ... transitions = [{ after = "5s", to = "attract" }]
    ... ''')
    >>> m = ShowMachine(cfg.show)
    >>> [e.name for e in m.start(0.0)]
    ['attract']
    >>> [e.name for e in m.handle(1.0, "presence.enter")]
    ['welcome']
    >>> [e.name for e in m.tick(6.0)]
    ['attract']
"""

from __future__ import annotations

from dataclasses import dataclass

from exhibit.config.schema import CueConfig, GuardConfig, ShowConfig, TransitionConfig
from exhibit.events import Cue, Event, cue_event


def cues_to_events(t_s: float, cues: tuple[CueConfig, ...], *, bundle: bool = False) -> list[Event]:
    return [
        cue_event(
            t_s, Cue(target=c.target, address=c.address, args=c.args, name=c.name, bundle=bundle)
        )
        for c in cues
    ]


@dataclass(frozen=True)
class ShowContext:
    """What guards look at, measured by the pipeline on this frame: the smoothed engagement
    (0..1), the dwell (0 when nobody is here) and the number of visitors present. Whose
    engagement and dwell depends on ``[show] visitors`` (exhibit/show/visitors.py)."""

    engagement: float = 0.0
    dwell_s: float = 0.0
    visitors: int = 0


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


class ShowMachine:
    """Runs ``ShowConfig``: state-specific transitions first, then the ``any_state`` ones; the
    first whose event matches and whose guard holds wins.

    Counters (``[show] counters``) start at 0, go up with a transition's ``count``, back to 0
    with its ``reset``, and all return to 0 whenever the initial state is entered (a new visit
    starts from scratch). While paused (``/exhibit/pause``) events and timers are ignored, and
    timers resume where they stopped.
    """

    def __init__(self, config: ShowConfig) -> None:
        self._config = config
        self.state: str = config.initial
        self.entered_at_s: float = 0.0
        self.started = False
        self.paused = False
        self._paused_at_s = 0.0
        self._next_repeat_s: float | None = None
        self.counters: dict[str, int] = dict.fromkeys(config.counters, 0)

    @property
    def level(self) -> str | None:
        """The narration level of the current state, if it has one."""
        return self._config.states[self.state].level

    def start(self, t_s: float) -> list[Event]:
        """Enter the initial state: its state event and its entry cues."""
        self.started = True
        return self._enter(t_s, self._config.initial, previous=None, because="start")

    def handle(
        self, t_s: float, event_name: str, context: ShowContext | None = None
    ) -> list[Event]:
        """Feed an event such as ``"gesture.wave"``; returns what the show did because of it."""
        if self.paused:
            return []
        ctx = context or ShowContext()
        for transition in self._candidates():
            if transition.on == event_name and self._allowed(transition.when, ctx):
                return self._go(t_s, transition, event_name)
        return []

    def tick(self, t_s: float, context: ShowContext | None = None) -> list[Event]:
        """Fire the state's earliest timer whose time has come (and whose guard holds), or
        repeat the state's entry cues when its ``repeat`` period has passed."""
        if self.paused:
            return []
        ctx = context or ShowContext()
        state = self._config.states[self.state]
        due = [
            tr
            for tr in state.transitions
            if tr.after_s is not None
            and t_s - self.entered_at_s >= tr.after_s
            and self._allowed(tr.when, ctx)
        ]
        if due:
            first = min(due, key=lambda tr: tr.after_s or 0.0)
            return self._go(t_s, first, f"after {first.after_s:g}s")
        if self._next_repeat_s is not None and t_s >= self._next_repeat_s:
            assert state.repeat_s is not None
            self._next_repeat_s += state.repeat_s
            if self._next_repeat_s <= t_s:  # a long gap: stay on a grid from now on
                self._next_repeat_s = t_s + state.repeat_s
            return cues_to_events(t_s, state.on_enter)
        return []

    def goto(self, t_s: float, state: str, because: str = "control.goto") -> list[Event]:
        """Jump to ``state`` (from another controller); unknown states are ignored."""
        if state not in self._config.states:
            return []
        events = cues_to_events(t_s, self._config.states[self.state].on_exit)
        return events + self._enter(t_s, state, previous=self.state, because=because)

    def reset(self, t_s: float) -> list[Event]:
        """Back to the initial state, counters at 0, not paused."""
        self.paused = False
        return self.goto(t_s, self._config.initial, because="control.reset")

    def pause(self, t_s: float) -> None:
        if not self.paused:
            self.paused, self._paused_at_s = True, t_s

    def resume(self, t_s: float) -> None:
        if self.paused:
            self.paused = False
            held = max(0.0, t_s - self._paused_at_s)
            self.entered_at_s += held
            if self._next_repeat_s is not None:
                self._next_repeat_s += held

    def shutdown(self, t_s: float) -> list[Event]:
        """The config's shutdown cues, sent when the service stops."""
        return cues_to_events(t_s, self._config.shutdown)

    def _allowed(self, guard: GuardConfig | None, ctx: ShowContext) -> bool:
        if guard is None:
            return True
        return (
            _within(ctx.engagement, guard.engagement_min, guard.engagement_max)
            and _within(ctx.dwell_s, guard.dwell_min_s, guard.dwell_max_s)
            and _within(ctx.visitors, guard.visitors_min, guard.visitors_max)
            and all(self.counters.get(n, 0) >= v for n, v in guard.counter_min)
            and all(self.counters.get(n, 0) <= v for n, v in guard.counter_max)
        )

    def _candidates(self) -> list[TransitionConfig]:
        own = list(self._config.states[self.state].transitions)
        shared = [tr for tr in self._config.any_state if tr.to != self.state]
        return own + shared

    def _go(self, t_s: float, transition: TransitionConfig, because: str) -> list[Event]:
        for name in transition.count:
            self.counters[name] = self.counters.get(name, 0) + 1
        for name in transition.reset:
            self.counters[name] = 0
        events = cues_to_events(t_s, self._config.states[self.state].on_exit)
        events += self._enter(t_s, transition.to, previous=self.state, because=because)
        return events

    def _enter(self, t_s: float, state: str, previous: str | None, because: str) -> list[Event]:
        self.state = state
        self.entered_at_s = t_s
        config = self._config.states[state]
        if state == self._config.initial:
            self.counters = dict.fromkeys(self.counters, 0)
        self._next_repeat_s = t_s + config.repeat_s if config.repeat_s is not None else None
        data: dict[str, object] = {"because": because}
        if previous is not None:
            data["from"] = previous
        if config.level is not None:
            data["level"] = config.level
        events = [Event(t_s, "state", state, data)]
        events += cues_to_events(t_s, config.on_enter, bundle=config.bundle)
        return events
