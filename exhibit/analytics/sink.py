"""The sink that turns a run's events into stored sessions, off the per-frame path.

On the frame loop's thread it only feeds the (pure, cheap) :class:`SessionBuilder`; a finished
visit goes onto a bounded queue, and a writer thread commits it to the :class:`SessionStore`.
SQLite's fsync never holds up a frame. If the writer falls behind by ``queue_size`` visits
(a card so slow that hundreds of visits wait), new ones are dropped and counted rather than
let the queue grow: bounded everything.

Frame time becomes wall-clock time here, at the edge: ``epoch_s`` is the Unix time of frame
time 0. Given (a replay: the recording's date), the stored sessions are the same on every run;
left out (a live camera, the demo), it is taken from the clock at the first event.

Example:
    >>> import tempfile, pathlib
    >>> from exhibit.config.load import loads
    >>> from exhibit.events import Event
    >>> cfg = loads('[show]\\ninitial = "idle"\\n[show.states.idle]\\n')
    >>> store = SessionStore(pathlib.Path(tempfile.mkdtemp()) / "s.db", retention_days=None)
    >>> sink = SessionSink(cfg, store, epoch_s=1.7e9)
    >>> for e in [Event(1.0, "presence", "enter", {"visitor": 1}),
    ...           Event(9.0, "presence", "leave", {"visitor": 1})]:
    ...     sink.handle(e)
    >>> sink.close()
    >>> [(s.started_at, s.summary["dwell_s"]) for s in store.sessions()]
    [(1700000001.0, 8.0)]
    >>> store.close()
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from exhibit.analytics.sessions import SessionBuilder, SessionRecord
from exhibit.analytics.store import SessionStore, SessionStoreError
from exhibit.config.schema import Config
from exhibit.events import Event

RETRY_SESSIONS = 1000
"""Sessions kept in memory for another try while the database cannot be written."""

log = logging.getLogger("exhibit.analytics")

DEFAULT_QUEUE_SIZE = 256
CLOSE_TIMEOUT_S = 10.0


class SessionSink:
    """Builds sessions from events and has them written on its own thread.

    ``owns_store``: close the store too when the sink closes.
    """

    def __init__(
        self,
        config: Config,
        store: SessionStore,
        *,
        epoch_s: float | None = None,
        clock: Callable[[], float] = time.time,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        owns_store: bool = False,
    ) -> None:
        self.builder = SessionBuilder(config)
        self.store = store
        self._epoch_s = epoch_s
        self._clock = clock
        self._owns_store = owns_store
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.written = 0
        self.failed = 0
        self.failing = False  # the last write failed (logged once until one succeeds)
        self._closed = False
        self._thread = threading.Thread(target=self._write, name="session-writer", daemon=True)
        self._thread.start()

    def handle(self, event: Event) -> None:
        if self._epoch_s is None:
            self._epoch_s = self._clock() - event.t_s
        for record in self.builder.feed(event):
            self._put(record)

    def _put(self, record: SessionRecord) -> None:
        assert self._epoch_s is not None
        summary = record.summary(self._epoch_s + record.arrival_s)
        try:
            self._queue.put_nowait(summary)
        except queue.Full:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # 1, 2, 4, 8...: a bounded log
                log.warning(
                    "sessions: the writer is behind; %d session(s) dropped so far (%s)",
                    self.dropped,
                    self.store.path,
                )

    def _write(self) -> None:
        retry: list[dict[str, Any]] = []
        while True:
            item = self._queue.get()
            batch: list[dict[str, Any]] = []
            done = item is None
            if item is not None:
                batch.append(item)
            while not done:  # whatever else is waiting goes in the same transaction
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            batch = retry + batch
            retry = []
            if batch:
                try:
                    self.store.add_many(batch)
                    self.written += len(batch)
                    if self.failing:
                        log.warning("sessions: stored again (%d waited)", len(batch))
                        self.failing = False
                except Exception as exc:  # a full disk, an odd summary: never kill the writer
                    # Kept for the next batch (a full card may get room again), up to a bound.
                    retry = batch[-RETRY_SESSIONS:]
                    self.failed += len(batch) - len(retry)
                    if not self.failing:
                        log.error("sessions: not stored, kept to retry: %s", exc)
                        self.failing = True
            if done:
                self.failed += len(retry)
                return

    def close(self) -> None:
        """End the visit in progress (as ``shutdown``), write what is queued, stop."""
        if self._closed:
            return
        self._closed = True
        if self._epoch_s is not None:
            for record in self.builder.finish():
                self._put(record)
        try:
            self._queue.put(None, timeout=CLOSE_TIMEOUT_S)
        except queue.Full:
            log.error("sessions: the writer did not drain its queue; stopping anyway")
        self._thread.join(CLOSE_TIMEOUT_S)
        if self._owns_store:
            self.store.close()


def session_sink(
    config: Config,
    database: str | None = None,
    *,
    epoch_s: float | None = None,
    force: bool = False,
    keep_all: bool = False,
    owns_store: bool = True,
) -> SessionSink | None:
    """The sink for ``config``'s ``[analytics]`` (None when it is disabled and not
    ``force``d), writing to ``database`` or the configured/default file; ``keep_all``: no
    age limit (a replay of an old recording keeps its visits). Raises SessionStoreError when
    the file cannot be used."""
    analytics = config.analytics
    if not (analytics.enabled or force or database is not None):
        return None
    path = database if database is not None else analytics.database_path(config.base_dir)
    store = SessionStore(
        path,
        retention_days=None if keep_all else analytics.retention,
        max_sessions=analytics.max_sessions,
    )
    return SessionSink(config, store, epoch_s=epoch_s, owns_store=owns_store)


def live_session_sink(
    config: Config, database: str | None = None, *, owns_store: bool = True
) -> SessionSink | None:
    """:func:`session_sink` for a running exhibit: a database that cannot be used is logged
    (with its fix) and the show goes on without sessions (degrade, don't die). Without
    ``owns_store`` the caller closes ``sink.store`` (after others sharing it are done)."""
    try:
        return session_sink(config, database, owns_store=owns_store)
    except SessionStoreError as exc:
        log.error("visitor sessions are not stored: %s", exc)
        return None
