"""``exhibit demo``: the demo exhibit end to end, on this machine, with no camera and no Pi.

It starts ``exhibit stage`` (a window standing in for the projector, when a display is present)
and ``exhibit monitor`` (for the other OSC ports, e.g. the sound server) as separate processes,
replays the scripted visitor in real time through the whole pipeline, sends the cues over UDP,
plays the local sounds, and prints the timeline beside what the stage and the monitor received.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from exhibit.analytics.sink import SessionSink, live_session_sink
from exhibit.config.load import load, loads
from exhibit.config.schema import Config
from exhibit.pipeline import Pipeline
from exhibit.runtime import Pacer, Sink, TimelineSink, cue_sinks, run_frames
from exhibit.sensors.health import HealthConfig
from exhibit.skeleton import Frame

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"


def _forward(
    stream: IO[str], ready: threading.Event, lines: list[str], label: str, marker: str
) -> None:
    for line in stream:
        if line.startswith(marker):
            ready.set()
        else:
            lines.append(line)
        sys.stdout.write(f"{label:>13} | {line.rstrip()}\n")  # one write: no interleaving
        sys.stdout.flush()
    ready.set()


def display_present() -> bool:
    """Whether a window can be shown (X11 or Wayland); SDL's dummy driver counts too."""
    env = os.environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or (
        env.get("SDL_VIDEODRIVER") == "dummy"
    )


class _Helper:
    """A child ``exhibit`` process (stage or monitor) whose output is shown in the timeline."""

    def __init__(self, args: list[str], label: str, marker: str) -> None:
        self.label = label
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exhibit", *args],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.received: list[str] = []
        self.ready = threading.Event()
        assert self.process.stdout is not None
        self._thread = threading.Thread(
            target=_forward,
            args=(self.process.stdout, self.ready, self.received, label, marker),
            daemon=True,
        )
        self._thread.start()

    def started(self) -> bool:
        return self.ready.wait(15.0) and self.process.poll() is None

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(5.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._thread.join(2.0)


def _settle(helpers: list[_Helper], stop: threading.Event, quiet_s: float = 0.5) -> None:
    """Wait (up to 5 s) until the stage and monitor have shown everything sent to them: their
    output has not grown for ``quiet_s``. A busy machine may take a moment to print the last
    cues, and stopping them earlier would lose those lines from the timeline."""
    deadline = time.monotonic() + 5.0
    counts = [-1]
    while time.monotonic() < deadline:
        now = [sum(len(h.received) for h in helpers)]
        if now == counts:
            return
        counts = now
        if stop.wait(quiet_s):
            return


class SensorRig:
    """``exhibit demo --sensors``: the reference firmware simulated behind a pseudo-terminal
    (its distance sensor follows a visitor walking up) and a PIR on a mock GPIO pin that sees
    whoever the recording shows, both fused with the camera as on a real exhibit.

    The simulator runs on the wall clock while the demo may run faster (``--speed``): at 40x a
    reading every 50 ms of wall time is one every 2 s of show time, so a busy machine's hiccup
    of a tenth of a second looked like a bridge silent for 5 s. The silence allowed is scaled
    by the speed, so only a real stall is reported."""

    def __init__(self, config: Config, config_path: Path, speed: float = 1.0) -> None:
        import tempfile

        from gpiozero.pins.mock import MockFactory

        from exhibit.sensors.feed import SensorFeed
        from firmware_bridge.sim import Simulator

        self._folder = tempfile.TemporaryDirectory(prefix="exhibit-demo-")
        self.sim = Simulator(link_path=os.path.join(self._folder.name, "usb-exhibit-pico-if00"))
        device = self.sim.start()
        text = Path(config.base_dir, "exhibit.toml").read_text(encoding="utf-8")
        silent_s = HealthConfig().silent_after_s * max(1.0, speed)
        text += (
            f'\n[bridge]\ndevice = "{device}"\n\n[sensors]\npir = {{ type = "motion", pin = 4 }}\n'
            f"\n[fusion.health]\nsilent_after_s = {silent_s}\n"
        )
        self.config = loads(text, source="demo with sensors", base_dir=config.base_dir)
        self.factory = MockFactory()
        self.feed = SensorFeed(self.config, pin_factory=self.factory)
        if self.feed.link is not None:
            self.feed.link.wait_up(5.0)
        print(f"demo: firmware simulator on {device}; PIR on mock GPIO4", flush=True)

    def attach(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        pir = self.factory.pin(4)

        def driven() -> Iterator[Frame]:
            for frame in frames:
                if frame.skeletons:
                    pir.drive_high()
                else:
                    pir.drive_low()
                yield frame

        return self.feed.attach(driven())

    def close(self) -> None:
        self.feed.close()
        self.sim.close()
        self._folder.cleanup()


def run_demo(
    video: str | None,
    speed: float,
    config_path: str | None = None,
    stage: bool | None = None,
    sensors: bool = False,
    sessions: str | None = None,
) -> int:
    from exhibit.cli import _StopOnSignal, open_frames

    path = Path(config_path or DEMO_DIR / "exhibit.toml")
    config = load(path)
    rig = SensorRig(config, path, speed) if sensors else None
    if rig is not None:
        config = rig.config
    ports = sorted({t.port for t in config.targets.values()})
    projector = config.targets.get("projector")
    use_stage = (display_present() if stage is None else stage) and projector is not None
    monitor_ports = [p for p in ports if not (use_stage and projector and p == projector.port)]
    spec = video or str(DEMO_DIR / "visitor.jsonl")
    shown = f"stage on port {projector.port}, " if use_stage and projector else ""
    print(
        f"demo: {config.name!r} on {spec}; {shown}OSC monitor on port(s) {monitor_ports}",
        flush=True,
    )
    helpers: list[_Helper] = []
    visits: SessionSink | None = None
    if use_stage and projector is not None:
        helpers.append(
            _Helper(["stage", str(projector.port), "--echo"], "stage", "stage: listening")
        )
    if monitor_ports:
        helpers.append(
            _Helper(["monitor", *map(str, monitor_ports)], "monitor", "monitor: listening")
        )
    try:
        for helper in helpers:
            if not helper.started():
                print(f"demo: the {helper.label} did not start (is a port taken?)", file=sys.stderr)
                return 1
        with ExitStack() as stack, _StopOnSignal() as signals:
            stop = signals.stop
            frames = open_frames(spec, config, stack, signals)
            if rig is not None:
                stack.callback(rig.close)
                frames = rig.attach(frames)
            sinks: list[Sink] = [*cue_sinks(config), TimelineSink()]
            visits = live_session_sink(config, sessions)  # for `exhibit report` afterwards
            if visits is not None:
                sinks.append(visits)
            result = run_frames(
                frames, Pipeline(config), sinks, pacer=Pacer(speed=speed, stop=stop), stop=stop
            )
        _settle(helpers, stop)
    finally:
        for helper in helpers:
            helper.stop()
    received = sum(len(h.received) for h in helpers)
    if visits is not None:
        where = f" --database {visits.store.path}" if sessions else ""
        print(
            f"demo: {visits.written} visit(s) stored in {visits.store.path}; "
            f"see them with: exhibit report{where} --html report.html",
            flush=True,
        )
    receivers = " and ".join(h.label for h in helpers) or "no receiver"
    print(
        f"demo: {result.frames} frames, {result.events} events; "
        f"the {receivers} received {received} OSC messages",
        flush=True,
    )
    return 0
