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

from exhibit.config.schema import CueConfig, ShowConfig, TransitionConfig
from exhibit.events import Cue, Event, cue_event


def cues_to_events(t_s: float, cues: tuple[CueConfig, ...]) -> list[Event]:
    return [
        cue_event(t_s, Cue(target=c.target, address=c.address, args=c.args, name=c.name))
        for c in cues
    ]


class ShowMachine:
    """Runs ``ShowConfig``: state-specific transitions first, then the ``any_state`` ones."""

    def __init__(self, config: ShowConfig) -> None:
        self._config = config
        self.state: str = config.initial
        self.entered_at_s: float = 0.0
        self.started = False

    def start(self, t_s: float) -> list[Event]:
        """Enter the initial state: its state event and its entry cues."""
        self.started = True
        return self._enter(t_s, self._config.initial, previous=None, because="start")

    def handle(self, t_s: float, event_name: str) -> list[Event]:
        """Feed an event such as ``"gesture.wave"``; returns what the show did because of it."""
        for transition in self._candidates():
            if transition.on == event_name:
                return self._go(t_s, transition, event_name)
        return []

    def tick(self, t_s: float) -> list[Event]:
        """Fire the state's earliest timer whose time has come."""
        due = [
            tr
            for tr in self._config.states[self.state].transitions
            if tr.after_s is not None and t_s - self.entered_at_s >= tr.after_s
        ]
        if not due:
            return []
        first = min(due, key=lambda tr: tr.after_s or 0.0)
        return self._go(t_s, first, f"after {first.after_s:g}s")

    def shutdown(self, t_s: float) -> list[Event]:
        """The config's shutdown cues, sent when the service stops."""
        return cues_to_events(t_s, self._config.shutdown)

    def _candidates(self) -> list[TransitionConfig]:
        own = list(self._config.states[self.state].transitions)
        shared = [tr for tr in self._config.any_state if tr.to != self.state]
        return own + shared

    def _go(self, t_s: float, transition: TransitionConfig, because: str) -> list[Event]:
        events = cues_to_events(t_s, self._config.states[self.state].on_exit)
        events += self._enter(t_s, transition.to, previous=self.state, because=because)
        return events

    def _enter(self, t_s: float, state: str, previous: str | None, because: str) -> list[Event]:
        self.state = state
        self.entered_at_s = t_s
        data: dict[str, object] = {"because": because}
        if previous is not None:
            data["from"] = previous
        events = [Event(t_s, "state", state, data)]
        events += cues_to_events(t_s, self._config.states[state].on_enter)
        return events
