"""Every exception the project raises, in one hierarchy.

Third-party errors are wrapped at the boundary (``raise SourceError(...) from exc``) so that
callers catch ours, and a technician reads one clear sentence naming the file, device or key.
"""

from __future__ import annotations


class ExhibitError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(ExhibitError):
    """The designer's config is invalid; ``problems`` lists every error, each with its path."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} error(s)\n{lines}")


class ConfigSyntaxError(ExhibitError):
    """The config file cannot be read or parsed (carries line and column when known)."""


class SourceError(ExhibitError):
    """A source (camera, video file, image folder, recording) cannot be opened or read."""


class NoCameraError(SourceError):
    """The configured camera is missing; the message lists the video devices that were found."""


class RecordingError(SourceError):
    """A recording file is malformed; the message names the file and the line number."""


class RecordingUnreadableError(RecordingError):
    """A recording cannot be read at all: missing, unreadable, not text, or empty."""


class CueError(ExhibitError):
    """A cue cannot be built or a cue target is unusable."""
