"""Visitor sessions built from the core's events: the demo visitor, how visits end, bounded
series, and replay into a real SQLite store giving identical rows."""

from __future__ import annotations

import sqlite3
import time
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import pytest

from exhibit.analytics.sessions import MAX_ENGAGEMENT_POINTS, SessionBuilder
from exhibit.analytics.sink import SessionSink
from exhibit.analytics.store import SessionStore
from exhibit.analytics.synth import synthetic_visits
from exhibit.cli import main
from exhibit.config.load import load, loads
from exhibit.events import Event, EventKind
from exhibit.pipeline import Pipeline
from exhibit.runtime import run_frames
from exhibit.sources.frames import open_frames

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "media" / "demo" / "exhibit.toml"
DEMO_RECORDING = ROOT / "media" / "demo" / "visitor.jsonl"

SHOW = """
[show]
initial = "attract"
any_state = [{ on = "presence.leave", to = "attract" }]
[show.states.attract]
transitions = [{ on = "presence.enter", to = "welcome" }]
[show.states.welcome]
transitions = [{ on = "gesture.wave", to = "talk" }, { after = "10s", to = "attract" }]
[show.states.talk]
level = "overview"
transitions = [{ on = "gesture.hands_up", to = "attract" }]
"""


def demo_events() -> list[Event]:
    """Every event of the demo visitor through the demo config's real pipeline."""
    config = load(DEMO_CONFIG)

    class Collect:
        def __init__(self) -> None:
            self.events: list[Event] = []

        def handle(self, event: Event) -> None:
            self.events.append(event)

        def close(self) -> None:
            pass

    sink = Collect()
    with ExitStack() as stack:
        run_frames(open_frames(str(DEMO_RECORDING), stack), Pipeline(config), [sink])
    return sink.events


def test_the_demo_visitor_makes_one_session_with_what_they_did() -> None:
    builder = SessionBuilder(load(DEMO_CONFIG))
    records = builder.feed_all(demo_events()) + builder.finish()
    assert len(records) == 1
    visit = records[0]
    assert visit.exhibit == "Inside the cell"
    assert visit.arrival_s == pytest.approx(3.833333)
    assert visit.dwell_s == pytest.approx(28.333333 - 3.833333)
    assert visit.ended == "left"
    assert visit.states == ("attract", "welcome", "explain", "explain_detail", "goodbye")
    assert visit.levels == ("overview", "detail")
    assert visit.gestures == {"hands_up": 1, "wave": 1}
    assert visit.gestures_offered == ("hands_up", "wave")
    assert visit.gestures_used == ("wave", "hands_up")
    # The demo streams the engagement score at 2 Hz: one mean per 5 s of the visit.
    assert [t for t, _ in visit.engagement] == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert all(0.0 <= v <= 1.0 for _, v in visit.engagement)
    assert visit.engagement_max is not None and visit.engagement_max >= 0.6  # it went "high"
    # Anonymous: no visitor number, no skeleton in what is stored.
    summary = visit.summary(1.7e9)
    assert "visitor" not in str(summary) and "lm" not in summary


def visit(*events: tuple[float, str, str]) -> list[Event]:
    return [Event(t, cast(EventKind, kind), name, {"visitor": 1}) for t, kind, name in events]


def run_show(config_text: str, inputs: list[tuple[float, str, str]]) -> list[Event]:
    """Drive the real show machine with presence/gesture/control inputs, as the pipeline
    does, and return the events in order."""
    from exhibit.show.machine import ShowMachine

    config = loads(config_text)
    machine = ShowMachine(config.show)
    events = machine.start(0.0)
    for t, kind, name in inputs:
        events += machine.tick(t)
        if kind == "tick":
            continue
        if kind == "control":
            events.append(Event(t, "control", name))
            events += machine.reset(t) if name == "reset" else []
        else:
            events.append(Event(t, cast(EventKind, kind), name, {"visitor": 1}))
            events += machine.handle(t, f"{kind}.{name}")
    return events


@pytest.mark.parametrize(
    ("inputs", "ended", "levels"),
    [
        ([(1, "presence", "enter"), (3, "gesture", "wave"), (9, "presence", "leave")], "left", 1),
        # Nobody waved: the welcome timed out back to attract while they stood there.
        ([(1, "presence", "enter"), (12, "tick", "x"), (20, "presence", "leave")], "timed_out", 0),
        ([(1, "presence", "enter"), (4, "control", "reset"), (6, "presence", "leave")], "reset", 0),
    ],
)
def test_how_a_visit_ended(inputs: list[tuple[float, str, str]], ended: str, levels: int) -> None:
    cfg = loads(SHOW)
    events = run_show(SHOW, inputs)
    builder = SessionBuilder(cfg)
    records = builder.feed_all(events)
    assert [r.ended for r in records] == [ended]
    assert len(records[0].levels) == levels
    assert records[0].dwell_s == pytest.approx(inputs[-1][0] - 1)


def test_a_visit_in_progress_when_the_service_stops_ends_as_shutdown() -> None:
    builder = SessionBuilder(loads(SHOW))
    assert builder.feed_all(visit((1.0, "presence", "enter"), (5.0, "gesture", "wave"))) == []
    (record,) = builder.finish()
    assert (record.ended, record.dwell_s) == ("shutdown", 4.0)
    # A gesture the show did not listen for in that state counts as recognized, not used.
    assert record.gestures == {"wave": 1} and record.gestures_used == ()
    assert builder.finish() == []


def test_events_outside_a_visit_make_no_session() -> None:
    builder = SessionBuilder(loads(SHOW))
    events = visit((1.0, "gesture", "wave"), (2.0, "presence", "leave"))
    assert builder.feed_all(events) + builder.finish() == []


def test_the_engagement_series_of_a_very_long_visit_stays_bounded() -> None:
    builder = SessionBuilder(loads(SHOW))
    events = [Event(0.0, "presence", "enter", {"visitor": 1})]
    events += [
        Event(t * 0.5, "stream", "engagement", {"args": [0.5], "target": "p"})
        for t in range(2 * 3600 * 2)  # two hours at 2 Hz
    ]
    events.append(Event(7200.0, "presence", "leave", {"visitor": 1}))
    (record,) = builder.feed_all(events)
    assert len(record.engagement) <= MAX_ENGAGEMENT_POINTS
    assert record.engagement_step_s * MAX_ENGAGEMENT_POINTS >= 7200.0
    assert all(v == pytest.approx(0.5) for _, v in record.engagement)


def test_a_day_of_synthetic_visitors_gives_one_session_each(tmp_path: Path) -> None:
    config = load(DEMO_CONFIG)
    events = synthetic_visits(config, visits=200, seed=3)
    builder = SessionBuilder(config)
    records = builder.feed_all(events) + builder.finish()
    assert len(records) == 200
    assert {r.ended for r in records} <= {"left", "timed_out"}
    assert any(r.levels for r in records) and any(not r.levels for r in records)
    # The same seed, the same visits: synthetic data is as deterministic as the core.
    again = SessionBuilder(config)
    assert again.feed_all(synthetic_visits(config, visits=200, seed=3)) == records


def test_the_sink_writes_on_its_own_thread_and_maps_frame_time_to_the_clock(
    tmp_path: Path,
) -> None:
    config = load(DEMO_CONFIG)
    store = SessionStore(tmp_path / "s.db", retention_days=None)
    sink = SessionSink(config, store, clock=lambda: 1_000_000.0)
    for event in synthetic_visits(config, visits=20, seed=5):
        sink.handle(event)
    sink.close()
    rows = store.sessions()
    assert len(rows) == sink.written == 20 and sink.dropped == 0
    # The clock was read at the first event (frame time 0): arrivals are opening hours after.
    assert all(1_000_000.0 + 9 * 3600 <= r.started_at <= 1_000_000.0 + 19 * 3600 for r in rows)
    store.close()


def rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT id, started_at, dwell_s, ended, exhibit, summary FROM sessions ORDER BY id"
        ).fetchall()


def test_replaying_twice_fills_two_stores_with_identical_rows(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for db in (a, b):
        args = ["replay", str(DEMO_CONFIG), str(DEMO_RECORDING), "--log", str(tmp_path / "l")]
        assert main([*args, "--sessions", str(db)]) == 0
    assert rows(a) == rows(b)
    assert len(rows(a)) == 1
    # The recording's date is the default start: the visit is stamped 3.83 s after it.
    assert rows(a)[0][1] == pytest.approx(int(DEMO_RECORDING.stat().st_mtime) + 3.833, abs=1e-3)


def test_replay_to_compare_two_configs_on_the_same_visitor(tmp_path: Path) -> None:
    """A designer's comparison: the same visitor, the explanation reached with another
    gesture; the stores say which config took the visitor further."""
    slower = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        '{ on = "engagement.high", to = "explain_detail" },', ""
    )
    other = tmp_path / "slower.toml"
    other.write_text(slower, encoding="utf-8")
    (tmp_path / "sounds").symlink_to(DEMO_CONFIG.parent / "sounds")
    start = ["--sessions-start", "2026-11-25T10:00:00"]
    log = ["--log", str(tmp_path / "l")]
    for name, config in (("a.db", DEMO_CONFIG), ("b.db", other)):
        db = str(tmp_path / name)
        assert (
            main(["replay", str(config), str(DEMO_RECORDING), *log, "--sessions", db, *start]) == 0
        )
    (a,), (b,) = rows(tmp_path / "a.db"), rows(tmp_path / "b.db")
    assert a[1] == b[1]  # same visitor, same arrival
    assert '"levels":["overview","detail"]' in str(a[5])
    assert '"levels":["overview"]' in str(b[5])


def test_a_bad_sessions_start_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["replay", str(DEMO_CONFIG), str(DEMO_RECORDING), "--log", str(tmp_path / "l")]
    code = main([*args, "--sessions", str(tmp_path / "a.db"), "--sessions-start", "yesterday"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--sessions-start 'yesterday'" in err and "ISO 8601" in err


def test_zones_visited_are_kept_in_order_once_each() -> None:
    builder = SessionBuilder(loads(SHOW))
    zone: EventKind = "zone"  # zone events: exhibit/zones.py
    events = [
        Event(0.5, zone, "enter", {"zone": "door", "visitor": 1}),  # before the visit: not it
        Event(1.0, "presence", "enter", {"visitor": 1}),
        Event(2.0, zone, "enter", {"zone": "table", "visitor": 1}),
        Event(3.0, zone, "leave", {"zone": "table", "visitor": 1}),
        Event(4.0, zone, "enter", {"zone": "screen", "visitor": 1}),
        Event(5.0, zone, "enter", {"zone": "table", "visitor": 1}),
        Event(6.0, "presence", "leave", {"visitor": 1}),
    ]
    (record,) = builder.feed_all(events)
    assert record.zones == ("table", "screen")


def test_exhibit_run_stores_its_visits_where_the_config_says(tmp_path: Path) -> None:
    from tests.peers import free_udp_port
    from tests.test_cli import config_with_ports

    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    text = config.read_text(encoding="utf-8")
    args = ["run", str(config), "--replay", str(DEMO_RECORDING), "--speed", "100", "--quiet"]

    config.write_text(text + '\n[analytics]\ndatabase = "data/visits.db"\n', encoding="utf-8")
    assert main(args) == 0
    with SessionStore(tmp_path / "data" / "visits.db") as store:
        (stored,) = store.sessions()
    assert stored.summary["levels"] == ["overview", "detail"]
    assert stored.summary["ended"] == "left"
    assert abs(stored.started_at - time.time()) < 120  # a live run: stamped by the clock

    off = '\n[analytics]\nenabled = false\ndatabase = "data/off.db"\n'
    config.write_text(text + off, encoding="utf-8")
    assert main(args) == 0
    assert not (tmp_path / "data" / "off.db").exists()


def test_a_group_is_one_visit_that_counts_its_people() -> None:
    builder = SessionBuilder(loads(SHOW))
    events = [
        Event(1.0, "presence", "enter", {"visitor": 4}),
        Event(1.0, "presence", "arrive", {"visitor": 4}),
        Event(3.0, "presence", "arrive", {"visitor": 5}),
        Event(6.0, "presence", "depart", {"visitor": 4}),
        Event(9.0, "presence", "leave", {"visitor": 5}),
    ]
    (record,) = builder.feed_all(events)
    assert (record.people, record.dwell_s) == (2, 8.0)
    summary = record.summary(0.0)
    assert summary["people"] == 2 and "visitor" not in str(summary)  # a count, no numbers
