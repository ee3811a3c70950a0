"""``exhibit demo``: the demo exhibit end to end, on this machine, with no camera and no Pi.

It starts ``exhibit monitor`` as a separate process on the demo's OSC ports (a stand-in for the
projector and the sound server), replays the scripted visitor in real time through the whole
pipeline, sends the cues over UDP, and prints the timeline beside what the monitor received.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from exhibit.config.load import load
from exhibit.cues.osc.sender import OscSender
from exhibit.pipeline import Pipeline
from exhibit.runtime import OscSink, Pacer, Sink, TimelineSink, run_frames

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"


def _forward(stream: IO[str], ready: threading.Event, lines: list[str]) -> None:
    for line in stream:
        if line.startswith("monitor: listening"):
            ready.set()
        else:
            lines.append(line)
        print(f"      monitor | {line.rstrip()}", flush=True)
    ready.set()


def run_demo(video: str | None, speed: float, config_path: str | None = None) -> int:
    from exhibit.cli import _StopOnSignal, open_frames

    config = load(config_path or DEMO_DIR / "exhibit.toml")
    ports = sorted({t.port for t in config.targets.values()})
    spec = video or str(DEMO_DIR / "visitor.jsonl")
    print(f"demo: {config.name!r} on {spec}; OSC to a local monitor on port(s) {ports}", flush=True)
    monitor = subprocess.Popen(
        [sys.executable, "-m", "exhibit", "monitor", *map(str, ports)],
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    received: list[str] = []
    ready = threading.Event()
    assert monitor.stdout is not None
    forwarder = threading.Thread(
        target=_forward, args=(monitor.stdout, ready, received), daemon=True
    )
    forwarder.start()
    try:
        if not ready.wait(10.0) or monitor.poll() is not None:
            print("demo: the OSC monitor did not start (is a port taken?)", file=sys.stderr)
            return 1
        with ExitStack() as stack, _StopOnSignal() as signals:
            stop = signals.stop
            frames = open_frames(spec, config, stack, signals)
            sinks: list[Sink] = [OscSink(OscSender(config.targets)), TimelineSink()]
            result = run_frames(
                frames, Pipeline(config), sinks, pacer=Pacer(speed=speed, stop=stop), stop=stop
            )
        stop.wait(0.5)
    finally:
        monitor.send_signal(2)
        try:
            monitor.wait(5.0)
        except subprocess.TimeoutExpired:
            monitor.kill()
        forwarder.join(2.0)
    print(
        f"demo: {result.frames} frames, {result.events} events; "
        f"the monitor received {len(received)} OSC messages",
        flush=True,
    )
    return 0
