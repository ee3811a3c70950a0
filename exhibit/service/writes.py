"""The files a running exhibit writes (event log, recording): a full disk is survived.

An SD card fills up (a recording left running, logs of another program); the exhibit must go
on showing. Every writer of a running exhibit reports to a :class:`WriteHealth`: records
written, records lost, the last error. The first failure of a run of failures is logged, and
so is the recovery; failures in between are only counted, so a full disk never floods the
journal (itself on that disk). ``exhibit status`` shows the counts under ``files``.

Example:
    >>> health = WriteHealth("events.jsonl", "event log", clock=lambda: 0.0)
    >>> health.ok(3)
    >>> health.fail(OSError(28, "No space left on device"), 2)
    >>> health.fail(OSError(28, "No space left on device"), 1)
    >>> health.snapshot()["lost"], health.snapshot()["failing"], health.failures
    (3, True, 1)
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from exhibit.errors import RecordingError
from exhibit.skeleton import Frame

log = logging.getLogger("exhibit.files")

LOG_EVERY_S = 60.0
"""At most one "cannot write" line per file per minute, however often the disk fills up."""


class WriteHealth:
    """How the writes to one file go: counted, each run of failures logged once.

    ``what`` says what the file is for the log line ("event log", "recording"); ``clock`` is
    monotonic seconds (for the once-a-minute limit on log lines).
    """

    def __init__(
        self, path: str, what: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.what = what
        self.written = 0
        """Records (lines) written."""
        self.lost = 0
        """Records that could not be written."""
        self.failures = 0
        """Runs of failures (a full disk, then room again, counts one)."""
        self.last_error: str | None = None
        self.stopped = False
        """True once the writer gave up for good (a recording with a gap would not replay)."""
        self._failing = False
        self._run_logged = False  # the failure that began this run was logged
        self._clock = clock
        self._last_logged_s: float | None = None

    def ok(self, records: int = 1) -> None:
        """``records`` were written; a recovery after failures is logged."""
        self.written += records
        if self._failing:
            self._failing = False
            if not self._run_logged:
                return  # its failure was not said (the minute's line was used): nor is this
            log.warning(
                "%s %s: writing again (%d record(s) lost so far)", self.what, self.path, self.lost
            )

    def fail(self, exc: BaseException, records: int = 1, *, stopped: bool = False) -> None:
        """``records`` could not be written because of ``exc``; logged once per run."""
        self.lost += records
        self.last_error = _describe(exc)
        self.stopped = self.stopped or stopped
        if self._failing:
            return
        self._failing = True
        self.failures += 1
        now_s = self._clock()
        self._run_logged = False
        if self._last_logged_s is not None and now_s - self._last_logged_s < LOG_EVERY_S:
            return
        self._run_logged = True
        self._last_logged_s = now_s
        then = "stopped; the show goes on" if stopped else "the show goes on; retrying each frame"
        log.error("%s %s: cannot write (%s); %s", self.what, self.path, self.last_error, then)

    @property
    def failing(self) -> bool:
        return self._failing

    def snapshot(self) -> dict[str, Any]:
        """Plain values for ``exhibit status``."""
        return {
            "what": self.what,
            "written": self.written,
            "lost": self.lost,
            "failures": self.failures,
            "failing": self._failing,
            "stopped": self.stopped,
            "error": self.last_error,
        }


def write_all(file: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` to an unbuffered file, or raise the OSError that stopped it (a
    write cut short by a full disk is followed by one that says why: ENOSPC, EFBIG)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.EIO, f"nothing written of {len(view)} bytes")
        view = view[written:]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def record_alongside(
    frames: Iterator[Frame], path: str | Path, source: str, health: WriteHealth
) -> Iterator[Frame]:
    """Yield ``frames`` and record them to ``path`` (``exhibit run --record``).

    A recording that cannot be written (disk full, card pulled) stops there, reported once in
    ``health``; the frames, and so the show, go on. What was recorded until then stays a
    readable recording: the writer cuts a failed line back, so the file holds whole lines.
    """
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter

    first = next(frames, None)
    if first is None:
        return
    header = RecordingHeader(
        source=source, fps=0.0, width_px=first.width_px, height_px=first.height_px
    )
    writer: RecordingWriter | None = None
    try:
        writer = RecordingWriter(path, header)
    except RecordingError as exc:
        health.fail(exc.__cause__ or exc, 0, stopped=True)
    try:
        frame: Frame | None = first
        while frame is not None:
            if writer is not None:
                try:
                    writer.write(frame)
                    health.ok()
                except (RecordingError, ValueError) as exc:  # ValueError: time went back
                    health.fail(exc.__cause__ or exc, stopped=True)
                    writer.close()
                    writer = None
            elif health.stopped:
                health.lost += 1
            yield frame
            frame = next(frames, None)
    finally:
        if writer is not None:
            writer.close()
