"""The session store on a real SQLite file: WAL, migrations, retention, the telemetry
interface, refusing corrupt or newer files untouched, and surviving SIGKILL mid-write."""

from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exhibit.analytics.config import AnalyticsConfig
from exhibit.analytics.sink import SessionSink, live_session_sink
from exhibit.analytics.store import MIGRATIONS, SCHEMA_VERSION, SessionStore, SessionStoreError
from exhibit.config.load import loads
from exhibit.errors import ConfigError
from exhibit.events import Event

ROOT = Path(__file__).resolve().parent.parent
SHOW = '[show]\ninitial = "idle"\n[show.states.idle]\n'


def summary(started_at: float, dwell_s: float = 10.0, **extra: object) -> dict[str, object]:
    return {"started_at": started_at, "dwell_s": dwell_s, "ended": "left", **extra}


def test_a_new_store_is_wal_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sessions.db"  # the folder is made too
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.add(summary(time.time(), exhibit="cell"))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT exhibit, ended FROM sessions").fetchall() == [("cell", "left")]


def test_an_old_schema_is_migrated_keeping_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as db:  # a file as version 1 of the schema left it
        db.executescript(MIGRATIONS[0])
        db.execute(
            "INSERT INTO sessions (started_at, dwell_s, ended, exhibit, summary) "
            "VALUES (?, 12.5, 'left', 'cell', ?)",
            (time.time(), '{"dwell_s":12.5,"ended":"left","started_at":1}'),
        )
        db.execute("PRAGMA user_version = 1")
    db.close()
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        # The migration added "sent": the old session is waiting for the fleet broker.
        assert [(i, s["dwell_s"]) for i, s in store.unsent(10)] == [(1, 12.5)]


def test_a_newer_schema_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with SessionStore(path) as store:
        store.add(summary(time.time()))
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(SessionStoreError) as err:
        SessionStore(path)
    text = str(err.value)
    assert str(path) in text and "newer exhibit" in text and f"version {SCHEMA_VERSION + 5}" in text
    assert "upgrade exhibit" in text and "move" in text
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    before = path.read_bytes()
    with pytest.raises(SessionStoreError, match="not an SQLite database") as err:
        SessionStore(path)
    assert "[analytics] database" in str(err.value)
    assert path.read_bytes() == before


def test_a_damaged_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    with SessionStore(path, retention_days=None) as store:
        store.add_many([summary(1e9 + i, notes="x" * 200) for i in range(400)])
    with sqlite3.connect(path) as db:  # everything in the main file, nothing in the WAL
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page : 6 * page] = bytes(random.Random(2).randrange(256) for _ in range(3 * page))
    path.write_bytes(bytes(data))
    with pytest.raises(SessionStoreError) as err:
        SessionStore(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == bytes(data)


def test_retention_by_age_and_by_rows(tmp_path: Path) -> None:
    now = 2_000_000_000.0
    store = SessionStore(tmp_path / "s.db", retention_days=30, max_sessions=3, clock=lambda: now)
    store.add(summary(now - 40 * 86400))  # too old: deleted by the same write
    assert store.count() == 0
    ids = store.add_many([summary(now - 10 * 86400 + i) for i in range(5)])
    assert [s.id for s in store.sessions()] == ids[-3:]  # the newest three kept
    assert store.prune() == 0
    store.close()


def test_unsent_and_mark_sent_for_the_telemetry(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.db") as store:
        now = time.time()
        ids = store.add_many([summary(now + i, dwell_s=i) for i in range(5)])
        first = store.unsent(2)
        assert [i for i, _ in first] == ids[:2]  # oldest first, at most limit
        assert first[1][1]["dwell_s"] == 1
        store.mark_sent([i for i, _ in first] + [999])  # an id already gone is ignored
        assert [i for i, _ in store.unsent(10)] == ids[2:]
        store.mark_sent([])
        assert store.unsent(0) == []


def test_sessions_by_period(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.db", retention_days=None) as store:
        store.add_many([summary(t) for t in (100.0, 200.0, 300.0)])
        assert [s.started_at for s in store.sessions(since=150.0)] == [200.0, 300.0]
        assert [s.started_at for s in store.sessions(since=150.0, until=300.0)] == [200.0]


def test_the_report_side_does_not_create_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(SessionStoreError, match="no such session database"):
        SessionStore(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_a_full_writer_queue_drops_and_counts_rather_than_grow(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    sink = SessionSink(loads(SHOW), store, queue_size=2)
    with store._lock:  # the card is slow: the writer thread cannot get in
        for i in range(10):
            sink.handle(Event(10.0 * i, "presence", "enter", {"visitor": i}))
            sink.handle(Event(10.0 * i + 5, "presence", "leave", {"visitor": i}))
        time.sleep(0.1)
        # At most a batch in the writer's hands (what it took before the lock: up to three)
        # and two waiting; the rest dropped, never queued.
        assert sink._queue.qsize() <= 2
        assert sink.dropped >= 5
    sink.close()
    assert store.count() == sink.written == 10 - sink.dropped
    store.close()


def test_a_running_exhibit_goes_on_without_sessions_when_the_file_is_bad(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "sessions.db"
    bad.write_bytes(b"not a database at all" * 10)
    with caplog.at_level(logging.ERROR, "exhibit.analytics"):
        assert live_session_sink(loads(SHOW), str(bad)) is None
    assert "not stored" in caplog.text and str(bad) in caplog.text


def test_the_analytics_section_is_validated_with_paths_and_hints() -> None:
    with pytest.raises(ConfigError) as err:
        loads(
            SHOW
            + '[analytics]\nretension_days = 3\nmax_sessions = 0\nenabled = "yes"\n'
            + 'database = "logs/"\n'
        )
    problems = "\n".join(err.value.problems)
    assert "analytics.retension_days: unknown key; expected one of" in problems
    assert 'did you mean "retention_days"?' in problems
    assert "analytics.max_sessions: out of range (got 0); expected a value >= 1" in problems
    assert 'analytics.enabled: not a boolean (got "yes"); expected true or false' in problems
    assert 'analytics.database: names a folder (got "logs/")' in problems


def test_the_database_path_is_relative_to_the_config(tmp_path: Path) -> None:
    config = loads(SHOW + '[analytics]\ndatabase = "data/s.db"\n', base_dir=tmp_path)
    assert config.analytics.database_path(config.base_dir) == tmp_path / "data" / "s.db"
    assert AnalyticsConfig().retention == 365.0
    assert loads(SHOW + "[analytics]\nretention_days = 0\n").analytics.retention is None


WRITER = """
import sys, time
from exhibit.analytics.store import SessionStore
store = SessionStore(sys.argv[1], retention_days=None, max_sessions=300)
print("open", flush=True)
n = 0
while True:
    n += 1
    ids = store.add_many([{"started_at": time.time(), "dwell_s": n, "ended": "left",
                           "notes": "x" * (n % 700)} for _ in range(1 + n % 4)])
    print(" ".join(map(str, ids)), flush=True)
"""


def test_a_process_killed_mid_write_leaves_the_database_intact(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    rng = random.Random(7)
    committed: set[int] = set()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(6):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "open"
        time.sleep(rng.uniform(0.05, 0.4))  # somewhere in a transaction, or between two
        process.send_signal(signal.SIGKILL)
        out, _ = process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL
        lines = out.splitlines()
        for line in lines[:-1]:  # the last line may be cut by the kill
            committed.update(int(i) for i in line.split())
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in db.execute("SELECT id FROM sessions")}
    db.close()
    # Every session reported committed is there, except those retention (300 rows) removed.
    newest = sorted(committed)[-200:]
    assert set(newest) <= ids
    assert len(committed) > 50
    with SessionStore(path) as store:  # and it opens and takes more
        store.add(summary(time.time()))


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(SessionStoreError, match="closed"):
        store.unsent(5)
    with pytest.raises(SessionStoreError, match="closed"):
        store.mark_sent([1])


def test_reading_in_chunks_gives_every_session_once_in_order(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.db", retention_days=None) as store:
        # Ties on started_at across a chunk boundary are kept apart by id.
        store.add_many([summary(100.0 + (i // 3)) for i in range(25)])
        chunked = [s.id for s in store.iter_sessions(since=101.0, chunk=4)]
        assert chunked == [s.id for s in store.sessions(since=101.0)] == list(range(4, 26))


def test_another_programs_sqlite_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE objects (id INTEGER, label TEXT)")
        db.execute("INSERT INTO objects VALUES (1, 'trilobite')")
    db.close()
    before = path.read_bytes()
    with pytest.raises(SessionStoreError, match="an SQLite database of something else"):
        SessionStore(path)
    assert path.read_bytes() == before  # not even switched to WAL


def test_a_full_disk_loses_no_session_and_never_stops_the_writer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite on a full card rolls back by itself; the store says so as a SessionStoreError,
    the writer keeps the visits and stores them once there is room (said once each way)."""
    store = SessionStore(tmp_path / "s.db")
    sink = SessionSink(loads(SHOW), store)

    def visit(i: int) -> None:
        sink.handle(Event(10.0 * i, "presence", "enter", {"visitor": i}))
        sink.handle(Event(10.0 * i + 5, "presence", "leave", {"visitor": i}))

    def settle() -> None:
        deadline = time.monotonic() + 5.0
        while sink._queue.qsize() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)

    with caplog.at_level(logging.WARNING, "exhibit.analytics"):
        with store._lock:  # the card fills up: no page more
            pages = store._db.execute("PRAGMA page_count").fetchone()[0]
            store._db.execute(f"PRAGMA max_page_count = {pages}")
        for i in range(40):
            visit(i)
            settle()
        assert sink._thread.is_alive() and sink.written < 40  # the last free pages, then full
        with store._lock:  # room again
            store._db.execute("PRAGMA max_page_count = 1000000")
        visit(40)
        sink.close()
    assert store.count() == sink.written == 41 and sink.failed == 0
    assert caplog.text.count("not stored, kept to retry") == 1
    assert caplog.text.count("stored again") == 1
    store.close()


def test_a_reader_never_changes_the_file_and_reads_an_older_schema_as_it_is(
    tmp_path: Path,
) -> None:
    """``exhibit report`` from a technician's account opens read-only: no upgrade, no journal
    switch, not one byte changed (it may not even be allowed to write there)."""
    path = tmp_path / "sessions.db"
    db = sqlite3.connect(path)  # a store as the first release wrote it (schema 1)
    db.executescript(MIGRATIONS[0])
    db.execute(
        "INSERT INTO sessions (started_at, dwell_s, ended, exhibit, summary) VALUES (?,?,?,?,?)",
        (1.0e9, 12.0, "left", "x", '{"started_at": 1000000000.0, "dwell_s": 12.0}'),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    before = path.read_bytes()
    with SessionStore(path, readonly=True) as store:
        assert [s.summary["dwell_s"] for s in store.sessions()] == [12.0]
    assert path.read_bytes() == before
    with SessionStore(path) as store:  # the service upgrades it when it next runs
        assert store.schema_version == SCHEMA_VERSION
