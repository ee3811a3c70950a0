"""Write a recording as it happens: the header, then one flushed line per frame."""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path

from exhibit.closing import Closing
from exhibit.errors import RecordingError
from exhibit.recording.format import (
    SPOT_VERSION,
    RecordingHeader,
    carries_spots,
    encode_frame,
    encode_header,
)
from exhibit.service.writes import write_all
from exhibit.skeleton import Frame

log = logging.getLogger(__name__)


class RecordingWriter(Closing):
    """Append frames to a JSON Lines recording, one flushed line each.

    Why a write per line: a recording made on site must survive the power being cut; at worst
    the last line is cut short (the reader skips such a tail). A write that fails (disk full)
    is cut back to the last whole line and raises ``RecordingError``. ``max_frames`` bounds the
    file: once reached, ``full`` turns True and further frames are not written (``write``
    returns False). Timestamps must not go backwards (``ValueError``), as the reader would
    refuse the file. Parent folders are created.

    Version: the header is written at once (a recording cut after one frame must still read)
    in ``header.version``, normally :data:`~exhibit.recording.format.PLAIN_VERSION` (3). The
    first frame whose bodies carry floor spots (``exhibit run --record`` with depth or a floor
    calibration) needs version 4: just before writing it, the header's version digit is
    overwritten in place (``3`` -> ``4``, the same length, one small write at offset 0), so a
    file with spots always says 4 and a file without them is byte for byte what it was before
    version 4 (media/demo/visitor.jsonl and every older recording). A power cut between the
    two writes leaves a version-4 header over version-3 lines, which reads the same.

    Example:
        >>> from exhibit.skeleton import Frame
        >>> header = RecordingHeader("camera:0", 30.0, 640, 480)
        >>> with RecordingWriter("/tmp/doc.jsonl", header, max_frames=1) as writer:
        ...     writer.write(Frame(0.0, 0, 640, 480))
        ...     writer.full
        True
        True
    """

    def __init__(
        self, path: str | Path, header: RecordingHeader, max_frames: int | None = None
    ) -> None:
        if max_frames is not None and max_frames < 0:
            raise ValueError(f"max_frames must be >= 0 or None, got {max_frames}")
        self.path = Path(path)
        self.header = header
        self.max_frames = max_frames
        self.frames_written = 0
        self._last_t = -math.inf
        header_line = encode_header(header)
        self._size = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb", buffering=0)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write the recording ({exc})") from exc
        try:
            self._append(header_line)
        except RecordingError:
            self._file.close()
            raise

    @property
    def full(self) -> bool:
        """True once ``max_frames`` frames are written: nothing more will be."""
        return self.max_frames is not None and self.frames_written >= self.max_frames

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, frame: Frame) -> bool:
        """Write one frame; False (and nothing written) when full or closed."""
        if self.full or self._file.closed:
            return False
        if frame.t_s < self._last_t:
            raise ValueError(
                f"{self.path}: frame {frame.index} at t={frame.t_s} s is before the previous "
                f"frame's t={self._last_t} s"
            )
        line = encode_frame(frame)
        if self.header.version < SPOT_VERSION and carries_spots(frame):
            self._raise_version(SPOT_VERSION)
        self._append(line)
        self._last_t = frame.t_s
        self.frames_written += 1
        if self.full:
            log.info("%s: reached max_frames=%d; recording stopped", self.path, self.max_frames)
        return True

    def _raise_version(self, version: int) -> None:
        """Rewrite the header line in place with ``version`` (same length; see the class)."""
        old = encode_header(self.header).encode("utf-8")
        header = RecordingHeader(
            self.header.source,
            self.header.fps,
            self.header.width_px,
            self.header.height_px,
            version,
        )
        new = encode_header(header).encode("utf-8")
        if len(new) != len(old):  # pragma: no cover - one digit for one digit
            raise RecordingError(f"{self.path}: cannot raise the header to version {version}")
        try:
            self._file.seek(0)
            write_all(self._file, new)
            self._file.seek(self._size)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write the recording ({exc})") from exc
        self.header = header

    def _append(self, line: str) -> None:
        """One whole line in one unbuffered write. A write that fails or is cut short (disk
        full) is cut back, so the file keeps whole lines only, and raises RecordingError."""
        data = (line + "\n").encode("utf-8")
        try:
            write_all(self._file, data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                self._file.truncate(self._size)
                self._file.seek(self._size)
            raise RecordingError(f"{self.path}: cannot write the recording ({exc})") from exc
        self._size += len(data)

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self._file.close()
