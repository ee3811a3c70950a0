"""What a running exhibit does between frames: commands from another controller, and config
reloads (on SIGHUP or when the file changes).

This is an edge: it reads the wall clock (to look at the config file once a second) and runs
the OSC control server's thread. The core only ever sees the results, applied between frames:
``Pipeline.control`` for commands, ``Pipeline.reconfigured`` for a new config. An invalid new
config is rejected with its errors and the old one keeps running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from exhibit.config.load import loads
from exhibit.config.schema import Config
from exhibit.cues.osc.sender import TargetStats
from exhibit.errors import ConfigError, ConfigSyntaxError
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.controls import (
    CONFIG_KIND,
    ControlRecord,
    apply_controls,
    controls_of,
    with_controls,
)
from exhibit.runtime import OscSink, Sink, cue_sinks
from exhibit.skeleton import Frame

log = logging.getLogger("exhibit.live")


def cpu_temperature_c(zone: str = "/sys/class/thermal/thermal_zone0/temp") -> float | None:
    """The SoC temperature (a Pi throttles at 80-85 C); None where the kernel does not say."""
    try:
        return int(Path(zone).read_text(encoding="ascii").strip()) / 1000.0
    except (OSError, ValueError):
        return None


def throttled() -> str | None:
    """``vcgencmd get_throttled`` on a Raspberry Pi (0x0: never throttled nor under-voltage);
    None elsewhere."""
    import shutil
    import subprocess

    tool = shutil.which("vcgencmd")
    if tool is None:
        return None
    try:
        done = subprocess.run(
            [tool, "get_throttled"], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip().partition("=")[2] or None


class CueSinks:
    """The config's cue sinks (OSC, sound, outputs) behind one sink, replaceable on reload."""

    def __init__(self, config: Config, make: Callable[[Config], list[Sink]] = cue_sinks) -> None:
        self._make = make
        self._sinks = make(config)

    def replace(self, config: Config) -> None:
        """Swap in ``config``'s sinks (a hot reload, between frames). The old ones are closed
        first: they hold the GPIO pins and the audio mixer the new ones need (built first,
        the new outputs found their pins in use and the old player's close shut the mixer
        under the new one: a reload turned lights and sound off)."""
        old, self._sinks = self._sinks, []
        for sink in old:
            sink.close()
        self._sinks = self._make(config)

    def handle(self, event: Event) -> None:
        for sink in self._sinks:
            sink.handle(event)

    def target_stats(self) -> dict[str, TargetStats]:
        """Each OSC target's counters (sent, failed, last error)."""
        stats: dict[str, TargetStats] = {}
        for sink in self._sinks:
            if isinstance(sink, OscSink):
                stats.update(sink.sender.stats())
        return stats

    def flush(self) -> None:
        for sink in self._sinks:
            flush = getattr(sink, "flush", None)
            if callable(flush):
                flush()

    def close(self) -> None:
        for sink in self._sinks:
            sink.close()


def commanded(frames: Iterable[Frame], live: Callable[[], LiveControls | None]) -> Iterator[Frame]:
    """``live().commanded(frames)``, with ``live`` looked up when the first frame is taken
    (``exhibit run`` builds its :class:`LiveControls` after the chain of frame sources)."""
    controls = live()
    if controls is None:
        yield from frames
    else:
        yield from controls.commanded(frames)


class LiveControls:
    """Call it between frames (``run_frames(..., between=live)``); pass the frames through
    :meth:`commanded` first so that a recording made of them holds the commands applied.

    ``request_reload`` (from a SIGHUP handler) only sets an event; the file itself is also
    checked every ``check_every_s`` for a new modification time.
    """

    def __init__(
        self,
        config_path: str | Path,
        config: Config,
        cues: CueSinks | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        check_every_s: float = 1.0,
        sessions: Any = None,
    ) -> None:
        """``sessions``: the session store, whose unsent sessions ``[telemetry]`` publishes."""
        self.path = Path(config_path)
        self.config = config
        self.cues = cues
        self.reloads = 0
        self.rejected = 0
        self._clock = clock
        self._check_every_s = check_every_s
        self._next_check_s = clock() + check_every_s
        self._mtime = self._stat()
        self._reload = threading.Event()
        self._started_s = clock()
        self.current: Pipeline | None = None
        self._taken: tuple[ControlRecord, ...] | None = None
        self.fps = 0.0
        self._mean_gap_s: float | None = None
        self.frames = 0
        self._last_frame_s: float | None = None
        self.watch: dict[str, Callable[[], Any]] = {}
        """More health by name, each a snapshot function (``exhibit run`` adds ``camera`` and
        ``files``: the camera's gaps, the event log's and recording's writes)."""
        self.server: Any = None
        if config.control.enabled:
            from exhibit.control.osc_in import OscControlServer

            self.server = OscControlServer(
                config.control, self.status, known_states=lambda: self.config.show.states
            )
            self.server.start()
        self.http: Any = None  # [status]: GET /status and /healthz (exhibit/service/http_status)
        if config.status.enabled:
            from exhibit.service.http_status import HttpStatusServer

            self.http = HttpStatusServer(config.status, self.status)
            try:
                self.http.start()
            except Exception:
                self.close()
                raise
        self.telemetry: Any = None  # [telemetry]: MQTT out, remote commands in (docs/telemetry.md)
        if config.telemetry.enabled:
            from exhibit.telemetry.mqtt import MqttPublisher

            self.telemetry = MqttPublisher(
                config.telemetry,
                config.name,
                self.status,
                sessions=sessions,
                known_states=lambda: self.config.show.states,
            )
            self.watch["telemetry"] = self.telemetry.stats
            self.telemetry.start()  # never waits for the broker

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def request_reload(self) -> None:
        self._reload.set()

    def status(self) -> Mapping[str, Any]:
        """For ``/exhibit/status`` (called on the control server's thread: a snapshot)."""
        pipeline = self.current
        return {
            "state": pipeline.show.state if pipeline is not None else "",
            "visitors": pipeline.visitors if pipeline is not None else 0,
            "fps": round(self.fps, 2),
            "uptime_s": round(self._clock() - self._started_s, 1),
            "health": self.health(),
        }

    def health(self) -> dict[str, Any]:
        """What a technician checks first: frames, reloads, targets, the Pi's temperature."""
        targets: dict[str, Any] = {}
        if self.cues is not None:
            for name, stats in self.cues.target_stats().items():
                targets[name] = {
                    "sent": stats.sent,
                    "failed": stats.failed,
                    "error": stats.last_error,
                }
        last_frame_s, pipeline = self._last_frame_s, self.current
        fusion = pipeline.last_fusion if pipeline is not None else None
        report: dict[str, Any] = {
            "frames": self.frames,
            # /healthz: a main loop that stopped turning (see http_status.judge)
            "last_frame_age_s": (
                None if last_frame_s is None else round(self._clock() - last_frame_s, 3)
            ),
            # each sensor's health word (ok, disconnected, stuck, flapping) when fusion runs
            "sources": {} if fusion is None else {n: s.health for n, s in fusion.states.items()},
            "reloads": self.reloads,
            "rejected_configs": self.rejected,
            "targets": targets,
            "cpu_temp_c": cpu_temperature_c(),
            "throttled": throttled(),
        }
        for name, snapshot in self.watch.items():
            report[name] = snapshot()
        return report

    def __call__(self, pipeline: Pipeline) -> tuple[Pipeline, list[Event]]:
        events: list[Event] = []
        now_s = self._clock()
        if self._last_frame_s is not None:
            # The mean interval, inverted: a mean of 1 / interval is thrown far off by one frame
            # that comes right after a late one (a 30 fps replay once said 400 fps).
            gap_s = max(0.0, now_s - self._last_frame_s)
            mean_s = self._mean_gap_s
            self._mean_gap_s = gap_s if mean_s is None else mean_s + 0.1 * (gap_s - mean_s)
            if self._mean_gap_s > 0.0:
                self.fps = 1.0 / self._mean_gap_s
        self._last_frame_s = now_s
        self.frames += 1
        # Taken with the frame (``commanded``), or now; applied the same way as in a replay.
        taken, self._taken = self._taken, None
        records = taken if taken is not None else self._take()
        pipeline, applied = apply_controls(pipeline, records, self.path.parent)
        events += applied
        self.current = pipeline
        return pipeline, events

    def commanded(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """``frames``, each carrying the commands and config swap applied just before it.

        Why: ``exhibit run --record`` writes a frame when it is taken, before the call between
        frames; taking the commands here, with the frame, puts them in the recording
        (docs/recording-format.md) so that a replay gives the same events. Commands a replayed
        recording already carries are applied too, and kept.
        """
        for frame in frames:
            new = self._take()
            self._taken = controls_of(frame) + new
            yield with_controls(frame, new)

    def _take(self) -> tuple[ControlRecord, ...]:
        """Commands received and a config to swap in (checked once a second, or on SIGHUP)."""
        records: list[ControlRecord] = []
        if self.server is not None:
            records += [ControlRecord(c.kind, c.arg) for c in self.server.poll()]
        if self.telemetry is not None:  # logged as control events, reload included
            for remote in self.telemetry.poll():
                if remote.kind == "reload":
                    self._reload.set()
                records.append(ControlRecord(remote.kind, remote.arg))
        now = self._clock()
        if self._reload.is_set() or now >= self._next_check_s:
            self._next_check_s = now + self._check_every_s
            mtime = self._stat()
            if self._reload.is_set() or (mtime is not None and mtime != self._mtime):
                self._reload.clear()
                self._mtime = mtime
                swap = self._try_reload()
                if swap is not None:
                    records.append(swap)
        return tuple(records)

    def _try_reload(self) -> ControlRecord | None:
        try:
            text = self.path.read_text(encoding="utf-8")
            config = loads(text, source=str(self.path), base_dir=self.path.parent)
        except (OSError, UnicodeDecodeError, ConfigError, ConfigSyntaxError) as exc:
            self.rejected += 1
            log.error("config %s rejected, the old one keeps running:\n%s", self.path, exc)
            return None
        self.reloads += 1
        self.config = config
        if self.cues is not None:
            self.cues.replace(config)
        state = self.current.show.state if self.current is not None else "?"
        log.warning("config %s reloaded (state %s)", self.path, state)
        return ControlRecord(CONFIG_KIND, toml=text, loaded=config)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if getattr(self, "http", None) is not None:
            self.http.close()
        if getattr(self, "telemetry", None) is not None:
            self.telemetry.close()
