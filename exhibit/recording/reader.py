"""Read a recording back as ``Frame`` objects, streaming, with errors that name file and line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from exhibit.errors import RecordingError, RecordingUnreadableError
from exhibit.recording.format import RecordingHeader, decode_frame, decode_header
from exhibit.skeleton import Frame

log = logging.getLogger(__name__)


class Recording:
    """An opened recording: ``header`` (checked at once) and ``frames()`` (read lazily).

    Why streaming: a long recording can be far bigger than the memory of a Pi, and a replay
    needs one frame at a time. Each call of ``frames()`` reads the file again from the top, so
    a recording can be replayed many times. A bad line raises
    ``RecordingError("REC.jsonl line 17: <reason>")`` when the replay reaches it; so does a
    timestamp that goes backwards. A last line cut short (no newline: the power was cut while
    it was written) ends the frames with a warning instead: what came before is replayed.

    Example:
        >>> recording = read_recording("media/demo/visitor.jsonl")  # doctest: +SKIP
        >>> recording.header.fps, sum(1 for _ in recording.frames())  # doctest: +SKIP
        (30.0, 900)
    """

    def __init__(self, path: Path, header: RecordingHeader) -> None:
        self.path = path
        self.header = header

    def frames(self) -> Iterator[Frame]:
        """Every frame, in file order."""
        width, height = self.header.width_px, self.header.height_px
        last_t: float | None = None
        try:
            with self.path.open("r", encoding="utf-8") as file:
                file.readline()  # the header, checked by read_recording
                for number, line in enumerate(file, start=2):
                    try:
                        frame = decode_frame(
                            line, width_px=width, height_px=height, version=self.header.version
                        )
                    except ValueError as exc:
                        if not line.endswith("\n"):  # the last line, cut short by a power cut
                            log.warning(
                                "%s line %d: cut short (the recording was interrupted); "
                                "replaying the %d frame(s) before it",
                                self.path,
                                number,
                                number - 2,
                            )
                            return
                        raise RecordingError(f"{self.path} line {number}: {exc}") from exc
                    if last_t is not None and frame.t_s < last_t:
                        raise RecordingError(
                            f"{self.path} line {number}: t went backwards "
                            f"({frame.t_s} s after {last_t} s)"
                        )
                    last_t = frame.t_s
                    yield frame
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{self.path}: not UTF-8 text ({exc.reason})") from exc
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot be read ({exc})") from exc


def read_recording(path: str | Path) -> Recording:
    """Open ``path`` and check its header; ``RecordingError`` naming the file if it is missing,
    empty, or not a recording this exhibit can read."""
    path = Path(path)
    try:
        with path.open("r", encoding="utf-8") as file:
            first = file.readline()
    except FileNotFoundError as exc:
        raise RecordingUnreadableError(f"{path}: no such recording") from exc
    except UnicodeDecodeError as exc:
        raise RecordingUnreadableError(f"{path}: not a recording (not UTF-8 text)") from exc
    except OSError as exc:
        raise RecordingUnreadableError(f"{path}: cannot be read ({exc})") from exc
    if not first.strip():
        raise RecordingUnreadableError(
            f"{path}: empty file; expected the exhibit-recording header line"
        )
    try:
        header = decode_header(first)
    except ValueError as exc:
        raise RecordingError(f"{path} line 1: {exc}") from exc
    return Recording(path, header)
