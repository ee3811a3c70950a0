"""``exhibit bench --soak N``: N frames through the whole pipeline, watching for leaks.

An exhibit runs for months; anything that grows per frame (a list never trimmed, a file never
closed, a thread per reconnect) ends as a crash in front of visitors. This replays the demo's
visitor again and again (times shifted so the clock only goes forward) through the pipeline
the event log and the OSC sink, and compares the process's resident memory, open files and threads
after a warm-up with the end. Target: memory growth under 5 MiB, no growth in files or threads.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from exhibit.config.load import load
from exhibit.cues.osc.sender import OscSender
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.runtime import LogSink, OscSink, Sink

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
TARGET_GROWTH_MIB = 5.0


def resident_mib() -> float:
    """Resident set size now (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def run_soak(
    frames_total: int, as_json: bool = False, log_path: str = os.devnull
) -> dict[str, Any]:
    config = load(DEMO_DIR / "exhibit.toml")
    visit = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    period_s = visit[-1].t_s + 1.0 / 30.0
    pipeline = Pipeline(config)
    # The event log and OSC to the demo's targets (nobody listening: the failure path, counted).
    sinks: list[Sink] = [LogSink(log_path, include_stream=True), OscSink(OscSender(config.targets))]
    warmup = min(len(visit) * 3, frames_total // 10)
    before: tuple[float, int, int] | None = None
    start = time.perf_counter()
    events = 0
    try:
        for n in range(frames_total):
            lap, i = divmod(n, len(visit))
            frame = replace(visit[i], t_s=visit[i].t_s + lap * period_s, index=n)
            for event in pipeline.step(frame):
                for sink in sinks:
                    sink.handle(event)
                events += 1
            if n + 1 == warmup:
                before = (resident_mib(), open_files(), threading.active_count())
    finally:
        for sink in sinks:
            sink.close()
    elapsed_s = time.perf_counter() - start
    after = (resident_mib(), open_files(), threading.active_count())
    assert before is not None
    result = {
        "frames": frames_total,
        "events": events,
        "seconds": round(elapsed_s, 1),
        "frames_per_s": round(frames_total / elapsed_s),
        "rss_mib_after_warmup": round(before[0], 1),
        "rss_mib_end": round(after[0], 1),
        "rss_growth_mib": round(after[0] - before[0], 2),
        "open_files": [before[1], after[1]],
        "threads": [before[2], after[2]],
        "target_growth_mib": TARGET_GROWTH_MIB,
    }
    if as_json:
        print(json.dumps(result, indent=1))
    else:
        print(
            f"soak: {frames_total} frames ({events} events) in {elapsed_s:.1f} s, "
            f"{result['frames_per_s']} frames/s"
        )
        print(
            f"memory: {before[0]:.1f} MiB after warm-up -> {after[0]:.1f} MiB at the end "
            f"(growth {after[0] - before[0]:.2f} MiB; target < {TARGET_GROWTH_MIB:g})"
        )
        print(f"open files: {before[1]} -> {after[1]}; threads: {before[2]} -> {after[2]}")
    return result
