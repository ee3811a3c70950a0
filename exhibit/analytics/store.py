"""Visitor sessions in one SQLite file: WAL mode, a versioned schema, bounded retention.

The file lives in the exhibit's state directory and must survive what happens to an exhibit:
the plug pulled mid-write, a card copied from a newer installation, a file damaged on a bad SD
card. So:

- **WAL mode with ``synchronous = FULL``**: a session is committed in one transaction; a
  process killed (or a power cut) at any moment leaves the previous sessions intact.
- **``PRAGMA user_version``** is the schema version. Opening an older file runs the missing
  migrations in one transaction; a file written by a newer version, or one that is not an
  SQLite database, or fails SQLite's integrity check, is refused with
  :class:`SessionStoreError` naming the file and what to do, and is left byte for byte as it
  was (nothing is written before those checks).
- **Retention**: sessions older than ``retention_days`` and beyond the newest
  ``max_sessions`` are deleted after each write, so the file stays bounded.

One connection serves every thread (the sink's writer thread, the telemetry publisher) behind a
lock; other processes (``exhibit report``) read concurrently, which WAL allows.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sessions.db"
    >>> with SessionStore(path, retention_days=None) as store:
    ...     first = store.add({"started_at": 1.0e9, "dwell_s": 12.0, "ended": "left"})
    ...     [(i, s["dwell_s"]) for i, s in store.unsent(10)]
    [(1, 12.0)]
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from exhibit.closing import Closing
from exhibit.errors import ExhibitError

SQLITE_MAGIC = b"SQLite format 3\x00"
USER_VERSION_OFFSET = 60
DEFAULT_RETENTION_DAYS = 365.0
DEFAULT_MAX_SESSIONS = 500_000
BUSY_TIMEOUT_S = 5.0

MIGRATIONS: tuple[str, ...] = (
    # 1: one row per visit; the summary JSON is the record, the columns index it.
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at REAL NOT NULL,
        dwell_s REAL NOT NULL,
        ended TEXT NOT NULL,
        exhibit TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX sessions_started_at ON sessions (started_at);
    """,
    # 2: telemetry: when a session summary was delivered to the fleet broker.
    """
    ALTER TABLE sessions ADD COLUMN sent_at REAL;
    CREATE INDEX sessions_unsent ON sessions (id) WHERE sent_at IS NULL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SessionStoreError(ExhibitError):
    """The session database cannot be used (corrupt, newer schema, unwritable); the file is
    left as it was."""


@dataclass(frozen=True)
class StoredSession:
    """A session as read back: its row id, wall-clock arrival and the summary."""

    id: int
    started_at: float
    summary: dict[str, Any]


def default_state_dir(env: dict[str, str] | None = None) -> Path:
    """Where the exhibit keeps its state: ``$STATE_DIRECTORY`` (set by systemd's
    ``StateDirectory=``; the first entry if several), else ``$XDG_STATE_HOME/exhibit``, else
    ``~/.local/state/exhibit``.

    Example:
        >>> default_state_dir({"STATE_DIRECTORY": "/var/lib/exhibit"}).as_posix()
        '/var/lib/exhibit'
        >>> default_state_dir({"XDG_STATE_HOME": "/tmp/state"}).as_posix()
        '/tmp/state/exhibit'
    """
    values = os.environ if env is None else env
    state = values.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = values.get("XDG_STATE_HOME")
    if xdg:
        return Path(xdg) / "exhibit"
    return Path.home() / ".local" / "state" / "exhibit"


def default_database(env: dict[str, str] | None = None) -> Path:
    """``sessions.db`` in :func:`default_state_dir`."""
    return default_state_dir(env) / "sessions.db"


SERVICE_DATABASE = Path("/var/lib/exhibit/sessions.db")
"""Where the installed service keeps its sessions (deploy/exhibit.service: ``StateDirectory``);
``exhibit report`` run by a technician's own account looks there when it has none."""


def _fix_hint(path: Path) -> str:
    return (
        f"move {path} aside (it is kept as it is) to start a new database, or point "
        "[analytics] database (or --database) at another file"
    )


def check_file(path: Path) -> None:
    """Refuse, without writing anything, a file that is not an SQLite database or whose
    header says it has a newer schema than this version reads."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SessionStoreError(f"{path}: cannot be read ({exc})") from exc
    if not head:
        return  # an empty file is an empty database
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise SessionStoreError(
            f"{path}: not an SQLite database (corrupt or another kind of file); {_fix_hint(path)}"
        )
    version = int.from_bytes(head[USER_VERSION_OFFSET : USER_VERSION_OFFSET + 4], "big")
    _check_version(path, version)


def _check_version(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SessionStoreError(
            f"{path}: written by a newer exhibit (schema version {version}; this one reads up "
            f"to {SCHEMA_VERSION}); upgrade exhibit, or {_fix_hint(path)}"
        )


class SessionStore(Closing):
    """The session database at ``path`` (created with its folder when missing)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention_days: float | None = DEFAULT_RETENTION_DAYS,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
    ) -> None:
        """``readonly``: for readers such as the report; a missing file is an error rather
        than created."""
        self.path = Path(path)
        self.retention_days = retention_days
        self.max_sessions = max_sessions
        self._clock = clock
        self._lock = threading.Lock()
        check_file(self.path)
        if readonly and not self.path.exists():
            raise SessionStoreError(
                f"{self.path}: no such session database (run the exhibit or the demo first, "
                "or give --database)"
            )
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SessionStoreError(f"{self.path}: cannot create its folder ({exc})") from exc
        self._closed = False
        self._readonly = readonly
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        path = self.path
        try:
            # A reader opens read-only: the report run by a technician (not the service's user)
            # must neither need write access nor change the file (no upgrade, no WAL switch).
            db = sqlite3.connect(
                f"file:{path.resolve()}?mode=ro" if self._readonly else path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,  # transactions are explicit below
                check_same_thread=False,
                uri=self._readonly,
            )
        except sqlite3.Error as exc:
            raise SessionStoreError(f"{path}: cannot be opened ({exc})") from exc
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            _check_version(path, version)
            if version == 0:  # ours before its first migration is empty; anything else is not
                tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
                if tables:
                    raise SessionStoreError(
                        f"{path}: an SQLite database of something else (it holds "
                        f"{', '.join(sorted(tables)[:5])}); {_fix_hint(path)}"
                    )
            else:
                problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise SessionStoreError(
                        f"{path}: damaged ({'; '.join(problems)}); {_fix_hint(path)}"
                    )
            if not self._readonly:  # an older file is read as it is (same columns for reports)
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = FULL")
                self._migrate(db, version)
        except sqlite3.DatabaseError as exc:
            db.close()
            if self._readonly and isinstance(exc, sqlite3.OperationalError):
                # readonly / cannot open: this user may not read it (or its WAL files), which
                # says nothing about the file itself: no advice to move it aside
                raise SessionStoreError(
                    f"{path}: cannot be read by this user ({exc}); run as the service's user "
                    "(sudo -u exhibit ...) or join its group (sudo adduser $USER exhibit)"
                ) from exc
            raise SessionStoreError(
                f"{path}: not a usable SQLite database ({exc}); {_fix_hint(path)}"
            ) from exc
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated meanwhile: read the version again, locked.
            current = int(db.execute("PRAGMA user_version").fetchone()[0])
            if current >= SCHEMA_VERSION:
                db.execute("COMMIT")
                return
            for number in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            self._check_open()
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def add(self, summary: dict[str, Any]) -> int:
        """Store one session summary (it must carry ``started_at``, ``dwell_s`` and
        ``ended``); returns its id."""
        return self.add_many([summary])[0]

    def add_many(self, summaries: Iterable[dict[str, Any]]) -> list[int]:
        """Store sessions in one transaction, then apply retention; returns their ids."""
        rows = [
            (
                float(s["started_at"]),
                float(s["dwell_s"]),
                str(s["ended"]),
                str(s.get("exhibit", "")),
                json.dumps(s, sort_keys=True, separators=(",", ":"), allow_nan=False),
            )
            for s in summaries
        ]
        ids: list[int] = []
        with self._lock, self._transaction():
            for row in rows:
                cursor = self._db.execute(
                    "INSERT INTO sessions (started_at, dwell_s, ended, exhibit, summary) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
            self._prune_locked()
        return ids

    def prune(self) -> int:
        """Apply retention now; returns how many sessions were deleted."""
        with self._lock, self._transaction():
            return self._prune_locked()

    def _prune_locked(self) -> int:
        deleted = 0
        if self.retention_days is not None:
            cutoff = self._clock() - self.retention_days * 86400.0
            deleted += self._db.execute(
                "DELETE FROM sessions WHERE started_at < ?", (cutoff,)
            ).rowcount
        if self.max_sessions is not None:
            # Ids only grow (AUTOINCREMENT), so the newest N have ids above MAX(id) - N: one
            # index lookup, where counting or OFFSET would walk the whole table on every write.
            deleted += self._db.execute(
                "DELETE FROM sessions WHERE id <= (SELECT MAX(id) FROM sessions) - ?",
                (self.max_sessions,),
            ).rowcount
        return deleted

    def sessions(
        self, since: float | None = None, until: float | None = None, exhibit: str | None = None
    ) -> list[StoredSession]:
        """Sessions that started in ``[since, until)`` (Unix seconds), oldest first; only
        ``exhibit``'s when given (several exhibits may share one state folder)."""
        return list(self.iter_sessions(since, until, exhibit=exhibit))

    def iter_sessions(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        exhibit: str | None = None,
        chunk: int = 1000,
    ) -> Iterator[StoredSession]:
        """:meth:`sessions` a chunk at a time, so a year of them is never all in memory."""
        after: tuple[float, int] = (since if since is not None else float("-inf"), -1)
        end = until if until is not None else float("inf")
        only = "" if exhibit is None else "AND exhibit = ? "
        while True:
            with self._lock:
                self._check_open()
                rows = self._db.execute(
                    "SELECT id, started_at, summary FROM sessions "
                    "WHERE (started_at > ? OR (started_at = ? AND id > ?)) AND started_at < ? "
                    + only
                    + "ORDER BY started_at, id LIMIT ?",
                    (
                        after[0],
                        after[0],
                        after[1],
                        end,
                        *(() if exhibit is None else (exhibit,)),
                        chunk,
                    ),
                ).fetchall()
            for i, t, s in rows:
                yield StoredSession(int(i), float(t), json.loads(s))
            if len(rows) < chunk:
                return
            after = (float(rows[-1][1]), int(rows[-1][0]))

    def count(self) -> int:
        with self._lock:
            self._check_open()
            return int(self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    def unsent(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` sessions not yet delivered to the fleet broker, oldest first, as
        ``(id, summary)``."""
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT id, summary FROM sessions WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                (max(0, int(limit)),),
            ).fetchall()
        return [(int(i), json.loads(s)) for i, s in rows]

    def mark_sent(self, ids: Sequence[int]) -> None:
        """Record that these sessions were delivered (ids already gone are ignored)."""
        if not ids:
            return
        now = self._clock()
        with self._lock, self._transaction():
            self._db.executemany(
                "UPDATE sessions SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                [(now, int(i)) for i in ids],
            )

    def _transaction(self) -> _Transaction:
        self._check_open()
        return _Transaction(self._db, self.path)

    def close(self) -> None:
        """Close the file (again: nothing); later calls raise SessionStoreError."""
        with self._lock:
            self._closed = True
            self._db.close()

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError(f"{self.path}: the session store is closed")


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error; SQLite errors become
    :class:`SessionStoreError` naming the file."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise SessionStoreError(f"{self._path}: cannot write ({exc})") from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as err:
                _rollback(self._db)
                raise SessionStoreError(f"{self._path}: cannot write ({err})") from err
        _rollback(self._db)
        if isinstance(exc, sqlite3.Error):
            raise SessionStoreError(f"{self._path}: cannot write ({exc})") from exc


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back what is open. On a full disk or an I/O error SQLite has already rolled the
    transaction back itself, and a second ROLLBACK would raise a plain ``sqlite3`` error that
    hides the real one (and killed the session writer)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
