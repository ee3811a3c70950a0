"""``[analytics]`` in the config: whether and where visitor sessions are stored, and how long.

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> parse_analytics({"retention_days": 90, "max_sessions": 10}, "analytics", c)
    AnalyticsConfig(enabled=True, database=None, retention_days=90.0, max_sessions=10)
    >>> parse_analytics({"retention_days": -1}, "analytics", c).retention_days
    365.0
    >>> c.problems[0]
    'analytics.retention_days: out of range (got -1); expected a value >= 0'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exhibit.analytics.store import DEFAULT_MAX_SESSIONS, DEFAULT_RETENTION_DAYS, default_database
from exhibit.config.checker import Checker, join

KEYS = ("enabled", "database", "retention_days", "max_sessions")


@dataclass(frozen=True)
class AnalyticsConfig:
    """``enabled``: store a session per visit (``exhibit run`` and the demo); ``database``: the
    SQLite file (relative to the config's folder; default ``sessions.db`` in the state
    directory); ``retention_days``: sessions older than this are deleted (0: no age limit);
    ``max_sessions``: at most this many are kept, the oldest go first."""

    enabled: bool = True
    database: str | None = None
    retention_days: float = DEFAULT_RETENTION_DAYS
    max_sessions: int = DEFAULT_MAX_SESSIONS

    def database_path(self, base_dir: str | Path = ".") -> Path:
        """The database file: ``database`` (``~`` expanded, relative to ``base_dir``) or the
        default in the state directory."""
        if self.database is None:
            return default_database()
        return Path(base_dir) / Path(self.database).expanduser()

    @property
    def retention(self) -> float | None:
        """``retention_days`` for :class:`SessionStore` (None: no age limit)."""
        return self.retention_days if self.retention_days > 0 else None


def parse_analytics(table: Any, path: str, checker: Checker) -> AnalyticsConfig:
    """Validate the ``[analytics]`` table at ``path``, collecting problems."""
    c = checker
    default = AnalyticsConfig()
    if not isinstance(table, Mapping):
        c.error(path, "not a table", table, f"a [{path}] table")
        return default
    c.unknown_keys(table, path, KEYS)
    enabled = c.boolean(table, path, "enabled", default.enabled)
    database = c.string(table, path, "database", "") or None
    if database is not None and database.endswith(("/", "\\")):
        c.error(
            join(path, "database"),
            "names a folder",
            database,
            'a file path such as "sessions.db" or "/var/lib/exhibit/sessions.db"',
        )
        database = None
    retention = c.number(table, path, "retention_days", default.retention_days, minimum=0.0)
    max_sessions = c.integer(table, path, "max_sessions", default.max_sessions, minimum=1)
    return AnalyticsConfig(enabled, database, retention, max_sessions)
