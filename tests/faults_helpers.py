"""Programs the fault tests run in a child process, to kill it or to limit its file size.

``python -m tests.faults_helpers churn DIR``: what a running exhibit writes, as fast as it can,
forever: a state file through ``exhibit.atomic`` (with ``.bak``), an event log through
``LogSink`` (one write per frame) and a recording through ``RecordingWriter``. It starts from
the state file it finds (as a restarted exhibit does) and prints ``ready`` once it has written
each file once. ``tests/test_faults.py`` kills it with SIGKILL at random moments.

``python -m tests.faults_helpers fsize-atomic DIR`` and ``fsize-log DIR``: the same writers with
``RLIMIT_FSIZE`` lowered, which is what a full disk looks like to a process that has no
privileges (writes fail with EFBIG instead of ENOSPC); each prints one JSON line of results.
``fsize-exec BYTES PROGRAM ARGS...`` runs a program under that limit.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from exhibit.events import Event

STATE = "state.json"
LOG = "events.jsonl"
RECORDING = "recording.jsonl"
PAYLOAD_ITEMS = 2000
"""A state file of some 10 KB, so that a write takes long enough to be hit by a kill."""


def state_text(version: int) -> str:
    """The state file's whole text at ``version``: every byte follows from the version, so a
    file mixing two versions is caught."""
    return json.dumps({"version": version, "payload": [version] * PAYLOAD_ITEMS}) + "\n"


def log_event(index: int) -> Event:
    """The event log's ``index``-th event, the same on every run."""
    return Event(index / 30.0, "state", f"s{index % 7}", {"visits": index})


def churn(folder: Path) -> None:
    from exhibit.atomic import write_text_atomic
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter
    from exhibit.runtime import LogSink
    from exhibit.skeleton import Frame

    state = folder / STATE
    version = json.loads(state.read_text(encoding="utf-8"))["version"] if state.exists() else 0
    log = LogSink(folder / LOG)
    recording = RecordingWriter(folder / RECORDING, RecordingHeader("churn", 30.0, 640, 480))
    index = 0
    while True:
        version += 1
        write_text_atomic(state, state_text(version), backup=True)
        for event_index in range(3 * index, 3 * index + 3):  # a frame with three events
            log.handle(log_event(event_index))
        log.flush()  # what run_frames does at the end of every frame
        recording.write(Frame(index / 30.0, index, 640, 480))
        index += 1
        if index == 1:
            print("ready", flush=True)


def limit_file_size(size_bytes: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size_bytes, hard))


def fsize_atomic(folder: Path) -> dict[str, Any]:
    """Replace a state file and save taught templates on a "full disk"."""
    from exhibit.atomic import AtomicWriteError, write_text_atomic

    target = folder / STATE
    write_text_atomic(target, state_text(1))
    write_text_atomic(target, state_text(2), backup=True)
    limit_file_size(4096)  # the state file is ~10 KB: it no longer fits
    result: dict[str, Any] = {}
    try:
        write_text_atomic(target, state_text(3), backup=True)
        result["state"] = "written"
    except AtomicWriteError as exc:
        result["state"] = str(exc)
    result["templates"] = save_templates_error(folder / "taught.json")
    return result


def save_templates_error(path: Path) -> str:
    """Save a small taught-gesture file; the error's text, or "written"."""
    import numpy as np

    from exhibit.errors import ExhibitError
    from exhibit.gestures.templates import TemplateRecognizer, save_templates

    rng = np.random.default_rng(0)
    base = {label: rng.normal(size=(20, 6)) for label in ("circle", "zigzag")}
    sequences = [
        base[label] + rng.normal(scale=0.05, size=(20, 6)) for label in base for _ in "abc"
    ]
    labels = [label for label in base for _ in "abc"]
    recognizer = TemplateRecognizer().fit(sequences, labels)
    try:
        save_templates(path, recognizer, joint_set="test-6", feature_spec={"features": 6})
    except ExhibitError as exc:
        return str(exc)
    return "written"


def fsize_log(folder: Path) -> dict[str, Any]:
    """An event log that hits a full disk, then gets room again."""
    from exhibit.runtime import LogSink

    sink = LogSink(folder / LOG)
    limit_file_size(2000)
    for index in range(60):
        if index == 40:  # room again
            limit_file_size(resource.RLIM_INFINITY)
        sink.handle(log_event(index))
        sink.flush()
    sink.close()
    return sink.health.snapshot()


def main(argv: list[str]) -> int:
    command, folder = argv[0], Path(argv[1])
    if command == "fsize-exec":  # fsize-exec BYTES PROGRAM ARGS...: run it on a "full disk"
        limit_file_size(int(argv[1]))
        os.execv(argv[2], argv[2:])
    if command == "churn":
        churn(folder)
    elif command == "fsize-atomic":
        print(json.dumps(fsize_atomic(folder)))
    elif command == "fsize-log":
        print(json.dumps(fsize_log(folder)))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
