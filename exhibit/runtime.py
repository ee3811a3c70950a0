"""The loop around the core: frames in, events to the sinks, optional real-time pacing.

This is an edge: it may read the wall clock (to pace a replay in real time) and write to sinks.
The core it drives (``Pipeline``) does neither, so pacing never changes which events happen.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from exhibit.config.schema import Config
from exhibit.cues.osc.sender import OscSender
from exhibit.events import Cue, Event
from exhibit.pipeline import Pipeline
from exhibit.service.writes import WriteHealth, write_all
from exhibit.skeleton import Frame


class Sink(Protocol):
    """Where events go: a log file, OSC targets, the terminal."""

    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...


def cue_sinks(config: Config, *, osc: bool = True) -> list[Sink]:
    """The sinks that carry out a config's cues: OSC to its targets, and on this machine its
    sounds (pygame) and GPIO outputs (gpiozero), where the config has any."""
    sinks: list[Sink] = []
    if osc:
        sinks.append(OscSink(OscSender(config.targets)))
    if config.sounds.sounds:
        from exhibit.cues.sound.player import SoundPlayer, SoundSink

        sinks.append(SoundSink(SoundPlayer(config.sounds)))
    if config.outputs:
        from exhibit.cues.gpio_out import OutputBank, OutputSink

        sinks.append(OutputSink(OutputBank(config.outputs)))
    return sinks


LOG_PENDING_MAX_BYTES = 64 * 1024
"""An event log writes at the end of each frame, or sooner when this much is waiting."""


class LogSink:
    """Writes one canonical JSON line per event (stream events only when asked).

    Whole lines only: a frame's lines leave in one unbuffered write when the frame ends
    (``flush``), so a process killed at any moment leaves whole lines. A write that fails
    (disk full) is cut back to the last whole line, counted in ``health`` and logged once;
    the show goes on, and the log resumes when there is room again.
    """

    def __init__(self, path: str | Path, include_stream: bool = False) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115
        self._include_stream = include_stream
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._size = 0
        self.health = WriteHealth(str(path), "event log")

    def handle(self, event: Event) -> None:
        if event.kind == "stream" and not self._include_stream:
            return
        line = (event.to_json() + "\n").encode("utf-8")
        self._pending.append(line)
        self._pending_bytes += len(line)
        if self._pending_bytes >= LOG_PENDING_MAX_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the lines waiting, whole or not at all."""
        if not self._pending or self._file.closed:
            return
        data, lines = b"".join(self._pending), len(self._pending)
        self._pending, self._pending_bytes = [], 0
        try:
            write_all(self._file, data)
        except OSError as exc:
            with contextlib.suppress(OSError):  # a device such as /dev/full cannot truncate
                self._file.truncate(self._size)
                self._file.seek(self._size)
            self.health.fail(exc, lines)
            return
        self._size += len(data)
        self.health.ok(lines)

    def close(self) -> None:
        self.flush()
        self._file.close()


LOCAL_TARGET_PREFIXES = ("sound:", "output:")
"""Cue targets played on this machine (pygame sound, GPIO outputs), not sent over OSC."""


class OscSink:
    """Sends every cue and stream event's OSC message through an ``OscSender``; cues for this
    machine's own sound and outputs (``sound:NAME``, ``output:NAME``) are left to their sinks."""

    def __init__(self, sender: OscSender) -> None:
        self.sender = sender
        self._pending: list[Cue] = []

    def handle(self, event: Event) -> None:
        cue = event.cue
        if cue is None or cue.target.startswith(LOCAL_TARGET_PREFIXES):
            return
        if cue.bundle:
            self._pending.append(cue)  # sent with the rest of the frame's bundled cues
        else:
            self.flush()
            self.sender.send(cue)

    def flush(self) -> None:
        """Send the bundled cues held back, one OSC bundle per target (in first-seen order)."""
        pending, self._pending = self._pending, []
        by_target: dict[str, list[Cue]] = {}
        for cue in pending:
            by_target.setdefault(cue.target, []).append(cue)
        for target, cues in by_target.items():
            if len(cues) == 1:
                self.sender.send(cues[0])
            else:
                self.sender.send_bundle(target, cues)

    def close(self) -> None:
        self.flush()
        self.sender.close()


def describe(event: Event) -> str:
    """A human line for the timeline: ``  12.30 s  state     welcome  (from attract ...)``."""
    d = event.data
    if event.kind == "state":
        detail = f"(from {d['from']}, because {d['because']})" if "from" in d else "(start)"
        if "level" in d:
            detail += f" level {d['level']}"
    elif event.kind in ("cue", "stream"):
        args = " ".join(repr(a) if isinstance(a, str) else f"{a}" for a in d.get("args", []))
        detail = f"-> {d['target']} {d['address']} {args}".rstrip()
    elif event.kind == "gesture":
        side = f" {d['side']}" if "side" in d else ""
        detail = f"visitor {d['visitor']}{side} score {d['score']}"
    else:
        detail = " ".join(f"{k} {v}" for k, v in sorted(d.items()))
    return f"{event.t_s:8.2f} s  {event.kind:<8} {event.name:<14} {detail}"


class TimelineSink:
    """Prints a readable timeline of presence, gestures, states and cues."""

    def __init__(self, out: IO[str] | None = None, include_stream: bool = False) -> None:
        self._out = out or sys.stdout
        self._include_stream = include_stream

    def handle(self, event: Event) -> None:
        if event.kind == "stream" and not self._include_stream:
            return
        # One write per line: other threads (the demo's stage and monitor) print too.
        self._out.write(describe(event) + "\n")
        self._out.flush()

    def close(self) -> None:
        self._out.flush()


class Pacer:
    """Holds each frame back until its time has come on the wall clock (``speed`` x real time)."""

    def __init__(
        self,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
    ) -> None:
        self._speed = speed
        self._clock = clock
        self._stop = stop or threading.Event()
        self._origin: tuple[float, float] | None = None

    def wait_for(self, t_s: float) -> None:
        if self._origin is None:
            self._origin = (self._clock(), t_s)
        wall0, t0 = self._origin
        delay = wall0 + (t_s - t0) / self._speed - self._clock()
        if delay > 0:
            self._stop.wait(delay)


@dataclass
class RunResult:
    frames: int = 0
    events: int = 0
    stopped_early: bool = False


class Between(Protocol):
    """Called before each frame with the running pipeline; returns the pipeline to use from now
    on (the same, or a reconfigured one) and the events it caused (control commands)."""

    def __call__(self, pipeline: Pipeline) -> tuple[Pipeline, list[Event]]: ...


def run_frames(
    frames: Iterable[Frame],
    pipeline: Pipeline,
    sinks: list[Sink],
    *,
    pacer: Pacer | None = None,
    stop: threading.Event | None = None,
    between: Between | None = None,
) -> RunResult:
    """Drive ``pipeline`` over ``frames``, hand every event to every sink, then send the
    shutdown cues. Stops early (still sending shutdown cues) when ``stop`` is set. ``between``
    runs between frames: control commands and config reloads happen there, never mid-frame."""
    stop = stop or threading.Event()
    result = RunResult()

    def emit(events: list[Event]) -> None:
        for event in events:
            result.events += 1
            for sink in sinks:
                sink.handle(event)
        for sink in sinks:  # the end of a frame: bundled cues leave now
            flush = getattr(sink, "flush", None)
            if callable(flush):
                flush()

    try:
        for frame in frames:
            if stop.is_set():
                result.stopped_early = True
                break
            if pacer is not None:
                pacer.wait_for(frame.t_s)
                if stop.is_set():
                    result.stopped_early = True
                    break
            if between is not None:
                pipeline, events = between(pipeline)
                emit(events)
            emit(pipeline.step(frame))
            result.frames += 1
        emit(pipeline.shutdown())
    finally:
        for sink in sinks:
            sink.close()
    return result
