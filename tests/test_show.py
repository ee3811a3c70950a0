"""The show machine: states, entry/exit cues, event and timer transitions, any-state rules."""

from __future__ import annotations

from exhibit.config.load import loads
from exhibit.show.machine import ShowMachine

CONFIG = """
[targets]
p = { url = "udp://127.0.0.1:9000" }

[cues]
a_in = { target = "p", address = "/a/in" }
a_out = { target = "p", address = "/a/out" }
b_in = { target = "p", address = "/b/in", args = [2] }
bye = { target = "p", address = "/bye" }

[show]
initial = "a"
shutdown = ["bye"]
any_state = [{ on = "presence.leave", to = "a" }]

[show.states.a]
on_enter = ["a_in"]
on_exit = ["a_out"]
transitions = [{ on = "presence.enter", to = "b" }]

[show.states.b]
on_enter = ["b_in"]
transitions = [
  { after = "10s", to = "c" },
  { after = "5s", to = "a" },
  { on = "gesture.wave", to = "c" },
]

[show.states.c]
"""


def machine() -> ShowMachine:
    return ShowMachine(loads(CONFIG).show)


def test_start_enters_initial_with_its_cues() -> None:
    events = machine().start(0.0)
    assert [(e.kind, e.name) for e in events] == [("state", "a"), ("cue", "a_in")]
    assert events[1].data == {"target": "p", "address": "/a/in", "args": []}


def test_event_transition_sends_exit_then_entry_cues() -> None:
    m = machine()
    m.start(0.0)
    events = m.handle(1.0, "presence.enter")
    assert [(e.kind, e.name) for e in events] == [("cue", "a_out"), ("state", "b"), ("cue", "b_in")]
    assert events[1].data == {"from": "a", "because": "presence.enter"}
    assert m.state == "b"


def test_unrelated_event_does_nothing() -> None:
    m = machine()
    m.start(0.0)
    assert m.handle(1.0, "gesture.wave") == []
    assert m.state == "a"


def test_earliest_timer_wins_and_counts_from_entry() -> None:
    m = machine()
    m.start(0.0)
    m.handle(2.0, "presence.enter")
    assert m.tick(6.9) == []
    events = m.tick(7.0)
    assert [(e.kind, e.name) for e in events] == [("state", "a"), ("cue", "a_in")]
    assert events[0].data == {"from": "b", "because": "after 5s"}


def test_any_state_transition_but_not_into_itself() -> None:
    m = machine()
    m.start(0.0)
    assert m.handle(0.5, "presence.leave") == []
    m.handle(1.0, "presence.enter")
    m.handle(1.5, "gesture.wave")
    assert m.state == "c"
    assert [e.name for e in m.handle(2.0, "presence.leave") if e.kind == "state"] == ["a"]


def test_shutdown_cues() -> None:
    m = machine()
    assert [e.name for e in m.shutdown(3.0)] == ["bye"]


def test_same_inputs_same_outputs() -> None:
    def run() -> list[str]:
        m = machine()
        out = m.start(0.0) + m.handle(1.0, "presence.enter") + m.tick(6.0) + m.shutdown(7.0)
        return [e.to_json() for e in out]

    assert run() == run()
