"""Coverage-guided fuzzing (atheris, libFuzzer) of every parser of outside input.

The same invariant as the hypothesis tests (tests/test_fuzz.py, test_control.py,
test_bridge_codec.py): whatever the bytes, a parser returns a result or raises its own clear
error, nothing else. An uncaught exception is a finding: libFuzzer stops, prints the traceback
and writes the input as ``crash-*`` in the current folder (reproduce with
``python tools/fuzz_atheris.py TARGET crash-...``).

Targets::

    config     exhibit.config.load.loads on any text: a Config, or ConfigError (every problem
               with its key path) / ConfigSyntaxError
    recording  a recording file's lines: decode_header for the first, decode_frame for the rest:
               a value, or ValueError with a message
    serial     the bridge's byte stream: Receiver.feed never raises and stays bounded;
               decode_frame gives a Message or DecodeError with a known reason
    osc        OSC control packets: parse_control_packet never raises and only returns
               commands, status requests or counted reasons

Usage (``pip install -c constraints.txt -e ".[fuzz]"``)::

    python tools/fuzz_atheris.py config -max_total_time=60
    python tools/fuzz_atheris.py all -max_total_time=60      # each target in turn, 60 s each

Every target starts from seeds the project makes (the demo config, the demo recording's first
lines, encoded bridge messages, encoded OSC messages), written to a fresh corpus folder per run
unless a corpus folder is given after the libFuzzer options.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing it

with atheris.instrument_imports(include=["exhibit", "firmware_bridge"]):
    from exhibit.config.load import loads
    from exhibit.control.osc_in import ControlCommand, Ignored, StatusRequest, parse_control_packet
    from exhibit.cues.osc.encode import encode_message
    from exhibit.errors import ConfigError, ConfigSyntaxError
    from exhibit.recording.format import decode_frame, decode_header
    from firmware_bridge import codec

DEMO_DIR = ROOT / "media" / "demo"
Target = Callable[[bytes], None]


# -- the harnesses --------------------------------------------------------------------------


def fuzz_config(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    try:
        loads(text)  # base_dir ".": the demo's sounds are not found, which is one more error
    except ConfigError as exc:
        assert exc.problems, "a ConfigError with no problem"
        for problem in exc.problems:
            assert ": " in problem, f"a problem without its key path: {problem!r}"
    except ConfigSyntaxError as exc:
        assert str(exc)


def fuzz_recording(data: bytes) -> None:
    lines = data.decode("utf-8", errors="replace").splitlines()[:20]
    if not lines:
        return
    try:
        decode_header(lines[0])
    except ValueError as exc:
        assert str(exc), "a header refused without a reason"
    for line in lines[1:]:
        try:
            decode_frame(line, width_px=640, height_px=480)
        except ValueError as exc:
            assert str(exc), "a frame refused without a reason"


def fuzz_serial(data: bytes) -> None:
    for hunting in (False, True):
        receiver = codec.Receiver(hunting=hunting)
        messages = receiver.feed(data[: len(data) // 2]) + receiver.feed(data[len(data) // 2 :])
        assert receiver.counts["frames"] == len(messages)
        assert receiver.buffered() <= codec.MAX_ENCODED
    for piece in data.split(b"\x00")[:8]:
        try:
            message = codec.decode_frame(piece)
        except codec.DecodeError as exc:
            assert exc.kind in codec.FRAME_ERRORS, exc.kind
        else:
            assert isinstance(message, codec.Message)


def fuzz_osc(data: bytes) -> None:
    for item in parse_control_packet(data):
        assert isinstance(item, ControlCommand | StatusRequest | Ignored), item
        if isinstance(item, ControlCommand) and item.kind == "goto":
            assert item.arg and item.arg.isprintable()


# -- seeds --------------------------------------------------------------------------------------


def seeds_config() -> list[bytes]:
    demo = (DEMO_DIR / "exhibit.toml").read_bytes()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```toml\n[exhibit]") + len("```toml\n")
    return [demo, readme[start : readme.index("\n```", start)].encode()]


def seeds_recording() -> list[bytes]:
    with open(DEMO_DIR / "visitor.jsonl", "rb") as file:
        head = [file.readline() for _ in range(4)]
    return [b"".join(head), head[0]]


def seeds_serial() -> list[bytes]:
    messages: list[codec.Message] = [
        codec.Hello("exhibit-bridge", (1, 2, 0), 7, led_count=1, input_count=2, boot_id=42),
        codec.Heartbeat(3, 123456),
        codec.SensorBatch(1000, [(0, 1, 850), (1, 0, 1)]),
        codec.Event(1001, 1, 0),
        codec.Command(5, 1, b"\x01"),
        codec.Ack(5),
        codec.Nack(6, 2),
        codec.Error(3, "sensor 2 silent"),
    ]
    frames = [m.frame() for m in messages]
    return [*frames, b"".join(frames)]


def _bundle(*messages: bytes) -> bytes:
    """An OSC bundle, timetag "immediately"."""
    parts = [len(m).to_bytes(4, "big") + m for m in messages]
    return b"#bundle\x00" + (1).to_bytes(8, "big") + b"".join(parts)


def seeds_osc() -> list[bytes]:
    return [
        encode_message("/exhibit/goto", ["welcome"]),
        encode_message("/exhibit/reset", [1]),
        encode_message("/exhibit/pause", [0.0]),
        encode_message("/exhibit/status", [9001]),
        _bundle(encode_message("/exhibit/resume", []), encode_message("/exhibit/goto", ["a"])),
    ]


TARGETS: dict[str, tuple[Target, Callable[[], list[bytes]]]] = {
    "config": (fuzz_config, seeds_config),
    "recording": (fuzz_recording, seeds_recording),
    "serial": (fuzz_serial, seeds_serial),
    "osc": (fuzz_osc, seeds_osc),
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in (*TARGETS, "all"):
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)},all}} [libFuzzer options] [CORPUS]")
    name, options = argv[1], argv[2:]
    if name == "all":  # libFuzzer runs one target per process: one child each
        failed = 0
        for each in TARGETS:
            print(f"== {each}", flush=True)
            failed |= subprocess.call([sys.executable, argv[0], each, *options]) != 0
        sys.exit(1 if failed else 0)
    harness, seeds = TARGETS[name]
    if not any(not o.startswith("-") for o in options):  # no corpus or crash file given
        corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
        for index, seed in enumerate(seeds()):
            (corpus / f"seed-{index}").write_bytes(seed)
        options = [*options, str(corpus)]
    atheris.Setup([argv[0], *options], harness)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
