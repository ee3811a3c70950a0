"""``exhibit report``: the curator's page and CSV from the session store (docs/analytics.md)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exhibit.analytics.report import parse_since, render_html, render_text, summarize, write_csv
from exhibit.analytics.store import (
    SERVICE_DATABASE,
    SessionStore,
    StoredSession,
    default_database,
)
from exhibit.atomic import write_text_atomic


def _database(args: argparse.Namespace) -> tuple[Path, str | None]:
    """The database to read, and the exhibit to keep (``--exhibit``, else the config's name
    with ``--config``; None: every exhibit that wrote to it)."""
    exhibit: str | None = args.exhibit
    if args.database:
        return Path(args.database), exhibit
    if args.config:
        from exhibit.config.load import load

        config = load(args.config)
        return config.analytics.database_path(config.base_dir), exhibit or config.name
    own = default_database()
    if not own.exists() and SERVICE_DATABASE.exists():
        return SERVICE_DATABASE, exhibit  # a technician's shell on the Pi: the service's
    return own, exhibit


def cmd_report(args: argparse.Namespace) -> int:
    try:
        window_s = parse_since(args.since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    database, exhibit = _database(args)
    until = time.time()
    since = None if window_s is None else until - window_s
    with SessionStore(database, readonly=True) as store:
        summary = summarize(store.iter_sessions(since, exhibit=exhibit))  # a chunk at a time
        sys.stdout.write(render_text(summary, since, until, str(database)))
        if args.html:
            exhibits = ", ".join(sorted(summary.exhibits))
            page = render_html(summary, since, until, exhibits, str(database))
            write_text_atomic(args.html, page)
            print(f"{args.html}: report page ({len(page) // 1024} KiB)")
        if args.csv:
            rows = _write_csv_atomic(Path(args.csv), store.iter_sessions(since, exhibit=exhibit))
            print(f"{args.csv}: {rows} session(s)")
    return 0


def _write_csv_atomic(path: Path, sessions: Iterable[StoredSession]) -> int:
    """The CSV streamed to a temporary file beside ``path``, then renamed over it: whole or
    not at all, and never all in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            rows = write_csv(sessions, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return rows


def add_analytics_commands(sub: Any) -> None:
    """``exhibit report`` (``sub`` is the parser's subparsers object)."""
    p = sub.add_parser(
        "report", help="what visitors did: a page with plots (--html) and a CSV (--csv)"
    )
    p.add_argument(
        "--since", default="7d", help="period up to now: 90m, 36h, 7d, 2w or all (default 7d)"
    )
    p.add_argument(
        "--database",
        help="the session database (default: the state directory's, else the service's "
        "/var/lib/exhibit/sessions.db)",
    )
    p.add_argument(
        "--config", help="take the database from this config's [analytics], and its exhibit"
    )
    p.add_argument(
        "--exhibit", help="only this exhibit's visits (several may share one state folder)"
    )
    p.add_argument("--html", help="write the self-contained report page here")
    p.add_argument("--csv", help="write one row per session here")
    p.set_defaults(func=cmd_report)


def replay_epoch(input_path: str, start: str | None = None) -> float:
    """The wall-clock time of a replayed recording's frame time 0: ``start`` (ISO 8601, local
    time unless it says otherwise), else the input file's modification time in whole seconds,
    so replaying the same file twice stores the same sessions."""
    if start is not None:
        from datetime import datetime

        try:
            return datetime.fromisoformat(start).timestamp()
        except ValueError as exc:
            raise ValueError(
                f"--sessions-start {start!r}: not a date and time; expected ISO 8601 such as "
                "2026-11-25T10:00 or 2026-11-25T10:00+01:00"
            ) from exc
    return float(int(Path(input_path).stat().st_mtime))


def replay_session_sink(config: Any, database: str, input_path: str, start: str | None) -> Any:
    """The sink ``exhibit replay --sessions DB`` adds (stores even if [analytics] is off)."""
    from exhibit.analytics.sink import session_sink
    from exhibit.analytics.store import SessionStoreError

    try:
        epoch_s = replay_epoch(input_path, start)
    except (ValueError, OSError) as exc:
        raise SessionStoreError(str(exc)) from exc
    return session_sink(config, database, epoch_s=epoch_s, force=True, keep_all=True)
