"""The bridge's wire format: golden bytes, PROTOCOL.md's examples, and fuzzing of the receiver.

Golden frames: hand-assembled from PROTOCOL.md's tables, their CRCs cross-checked with
``binascii.crc_hqx`` (CRC-CCITT, an independent implementation) and the COBS of the worked
example worked out by hand in PROTOCOL.md; the HELLO and HEARTBEAT are also what the reference
firmware sent under the simulator (``python -m firmware_bridge.sim``, read with pyserial).
"""

from __future__ import annotations

import binascii
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import codec
from firmware_bridge.codec import (
    Ack,
    Command,
    DecodeError,
    Error,
    Event,
    Heartbeat,
    Hello,
    Nack,
    Receiver,
    SensorBatch,
)

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_MD = ROOT / "firmware_bridge" / "PROTOCOL.md"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


GOLDEN = [
    (
        Hello("exhibit-pico", (1, 0, 0), 7, 30, 3, 208, 0x5EED1234),
        "04 10 01 01 01 02 07 02 1e 03 03 d0 01 01 14 34 12 ed 5e 0c"
        " 65 78 68 69 62 69 74 2d 70 69 63 6f 7b 71 00",
    ),
    (Heartbeat(1, 1000), "04 10 02 01 01 01 03 e8 03 01 03 ac 62 00"),
    (
        SensorBatch(5000, [(0, 1, 812), (50, 1, -1)]),
        "05 10 03 88 13 01 02 02 01 04 01 2c 03 01 02 32 08 01 ff ff ff ff bb 9b 00",
    ),
    (Event(12345, codec.EVENT_DOWN, 0), "05 10 04 39 30 01 02 01 03 95 fd 00"),
    (Command(7, codec.OP_LED_FILL, bytes((255, 80, 0))), "04 10 20 07 04 02 ff 50 03 86 89 00"),
    (Ack(7), "04 10 05 07 02 ed 01 00"),
    (Nack(8, codec.NACK_UNKNOWN_OP), "04 10 06 08 04 01 8b 4f 00"),
    (Error(codec.ERR_SENSOR, "no sensor"), "0f 10 07 01 6e 6f 20 73 65 6e 73 6f 72 ca 69 00"),
]


def raw_payload(version: int, kind: int, body: bytes) -> bytes:
    """A payload with a correct CRC, for versions and types the codec would not make."""
    data = bytes((version, kind)) + body
    crc = binascii.crc_hqx(data, 0xFFFF)
    return data + crc.to_bytes(2, "big")


def frame_of(payload: bytes) -> bytes:
    return codec.cobs_encode(payload) + b"\x00"


# -- golden bytes --------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "wire"), GOLDEN, ids=[m.NAME for m, _ in GOLDEN])
def test_golden_frames_encode_and_decode(message: codec.Message, wire: str) -> None:
    assert message.frame() == h(wire)
    assert codec.decode_frame(h(wire)[:-1]) == message
    payload = message.payload()
    assert binascii.crc_hqx(payload[:-2], 0xFFFF) == int.from_bytes(payload[-2:], "big")
    assert codec.crc16(payload) == 0  # the CRC-16/CCITT-FALSE residue


def test_crc16_check_value() -> None:
    assert codec.crc16(b"123456789") == 0x29B1
    assert codec.crc16(b"") == 0xFFFF


# COBS vectors from the COBS literature (Cheshire and Baker's scheme, as commonly tabulated).
COBS_VECTORS = [
    ("00", "01 01"),
    ("00 00", "01 01 01"),
    ("00 11 00", "01 02 11 01"),
    ("11 22 00 33", "03 11 22 02 33"),
    ("11 22 33 44", "05 11 22 33 44"),
    ("11 00 00 00", "02 11 01 01 01"),
    (bytes(range(1, 255)).hex(), "ff " + bytes(range(1, 255)).hex()),
    (bytes(range(0, 255)).hex(), "01 ff " + bytes(range(1, 255)).hex()),
    (bytes(range(1, 256)).hex(), "ff " + bytes(range(1, 255)).hex() + " 02 ff"),
    (bytes(range(2, 256)).hex() + "00", "ff " + bytes(range(2, 256)).hex() + " 01 01"),
    (bytes(range(3, 256)).hex() + "00 01", "fe " + bytes(range(3, 256)).hex() + " 02 01"),
]


@pytest.mark.parametrize(("plain", "encoded"), COBS_VECTORS)
def test_cobs_vectors(plain: str, encoded: str) -> None:
    assert codec.cobs_encode(h(plain)) == h(encoded)
    assert codec.cobs_decode(h(encoded)) == h(plain)


def test_protocol_md_worked_example_bytes() -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    payload = re.search(r"^payload:\s*([0-9a-f ]+)$", section, re.M)
    frame = re.search(r"^frame:\s*([0-9a-f ]+)$", section, re.M)
    assert payload is not None and frame is not None
    batch = SensorBatch(5000, [(0, codec.SENSOR_DISTANCE, 812), (50, codec.SENSOR_DISTANCE, -1)])
    assert batch.payload() == h(payload.group(1))
    assert batch.frame() == h(frame.group(1))
    # the byte-by-byte table: every row's bytes, in order, make the payload
    rows = re.findall(r"^\| `([0-9a-f ]+)` \|", section, re.M)
    assert h(" ".join(rows)) == batch.payload()


def test_protocol_md_every_message_line() -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    section = text.split("## Every message once", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if " => " in ln]
    assert len(lines) == 8
    names: dict[str, object] = {"bytes": bytes}
    for cls in (Hello, Heartbeat, SensorBatch, Event, Command, Ack, Nack, Error):
        names[cls.__name__] = cls
    for line in lines:
        expr, wire = line.split(" => ")
        message = eval(expr, {"__builtins__": {}}, names)  # our own doc, our own names
        assert message.frame() == h(wire), expr
        assert any(message == m for m, _ in GOLDEN), expr


# -- decoding errors, one per counter -------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "kind"),
    [
        (h("05 10 02"), "bad_cobs"),  # the block claims 4 bytes, 2 follow
        (codec.cobs_encode(h("10 02 ff")), "too_short"),
        (codec.cobs_encode(Heartbeat(1, 1000).payload()[:-1] + b"\x00"), "bad_crc"),
        (codec.cobs_encode(raw_payload(0x20, codec.HEARTBEAT, bytes(8))), "newer_version"),
        (codec.cobs_encode(raw_payload(0x00, codec.HEARTBEAT, bytes(8))), "older_version"),
        (codec.cobs_encode(raw_payload(0x10, 0x1E, b"")), "unknown_type"),
        (codec.cobs_encode(raw_payload(0x10, codec.HEARTBEAT, bytes(7))), "bad_body"),
        (codec.cobs_encode(raw_payload(0x10, codec.HEARTBEAT, bytes(9))), "bad_body"),
        (codec.cobs_encode(raw_payload(0x10, codec.SENSOR_BATCH, h("00000000 24"))), "bad_body"),
        (codec.cobs_encode(raw_payload(0x10, codec.HELLO, bytes(16) + b"\x21")), "bad_body"),
        (b"\x01" * 256, "oversize"),
    ],
)
def test_decode_errors_name_their_counter(encoded: bytes, kind: str) -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode_frame(encoded)
    assert info.value.kind == kind
    rx = Receiver()
    assert rx.feed(encoded + b"\x00" + Heartbeat(2, 5).frame()) == [Heartbeat(2, 5)]
    assert rx.counts[kind] == 1
    assert rx.bad_frames() == 1


def test_newer_major_version_is_named_not_parsed() -> None:
    rx = Receiver()
    assert rx.feed(frame_of(raw_payload(0x21, codec.HELLO, b"anything at all"))) == []
    assert rx.counts["newer_version"] == 1
    assert rx.last_error is not None
    assert rx.last_error.version == 0x21
    assert "protocol 2.1; this side speaks 1.0" in rx.last_error.detail


def test_newer_minor_version_appends_fields() -> None:
    body = Heartbeat(3, 4000).body() + b"\xaa\xbb"  # a 1.3 device appends a field
    assert codec.decode_payload(raw_payload(0x13, codec.HEARTBEAT, body)) == Heartbeat(3, 4000)
    with pytest.raises(DecodeError, match="bad_body"):
        codec.decode_payload(raw_payload(0x10, codec.HEARTBEAT, body))


def test_limits() -> None:
    full = SensorBatch(0, [(i, 1, -(2**31)) for i in range(codec.MAX_READINGS)])
    assert len(full.payload()) == codec.MAX_PAYLOAD  # 35 readings fill the payload
    assert len(full.frame()) <= codec.MAX_FRAME
    assert codec.decode_frame(full.frame()[:-1]) == full
    with pytest.raises(ValueError, match="at most 35"):
        SensorBatch(0, [(0, 1, 0)] * 36).frame()
    with pytest.raises(ValueError):
        Command(1, 2, bytes(248)).frame()
    longest = Command(1, 2, b"\x01" * 247)
    assert len(longest.frame()) == codec.MAX_FRAME
    assert Receiver().feed(longest.frame()) == [longest]
    hello = codec.decode_frame(Hello("x" * 40, (1, 2, 3), 0).frame()[:-1])
    assert isinstance(hello, Hello)
    assert hello.firmware == "x" * 32  # names are cut to 32 bytes


def test_invalid_utf8_text_is_shown_not_fatal() -> None:
    message = codec.decode_payload(raw_payload(0x10, codec.ERROR, b"\x01bad \xff\xfe"))
    assert message == Error(1, "bad ??")


def test_receiver_garbage_between_frames_and_hunting() -> None:
    rx = Receiver(hunting=True)
    beat = Heartbeat(9, 9000)
    stream = b"\x12\x34tail of an old frame\x00" + beat.frame() + b"noise\x00\x00" + beat.frame()
    assert rx.feed(stream) == [beat, beat]
    assert rx.counts["frames"] == 2
    assert rx.bad_frames() == 1  # "noise"; the tail before the first delimiter is not counted
    assert rx.counts["garbage_bytes"] == len(b"\x12\x34tail of an old frame") + len(b"noise")


def test_receiver_hunting_keeps_a_whole_first_frame() -> None:
    rx = Receiver(hunting=True)
    assert rx.feed(Ack(1).frame() + Ack(2).frame()) == [Ack(1), Ack(2)]


def test_receiver_memory_is_bounded_without_delimiters() -> None:
    rx = Receiver()
    for _ in range(100):
        rx.feed(b"\x55" * 1000)
        assert rx.buffered() <= codec.MAX_ENCODED
    assert rx.counts["oversize"] == 1
    assert rx.feed(b"\x00" + Ack(3).frame()) == [Ack(3)]
    assert rx.counts["garbage_bytes"] == 100_000


# -- fuzzing ---------------------------------------------------------------------------------

messages = st.one_of(
    st.builds(
        Hello,
        st.text(max_size=10),
        st.tuples(*(st.integers(0, 255),) * 3),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
    ),
    st.builds(Heartbeat, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(
        SensorBatch,
        st.integers(0, 2**32 - 1),
        st.lists(
            st.tuples(
                st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(-(2**31), 2**31 - 1)
            ),
            max_size=codec.MAX_READINGS,
        ),
    ),
    st.builds(Event, st.integers(0, 2**32 - 1), st.integers(0, 255), st.integers(0, 255)),
    st.builds(Command, st.integers(0, 0xFFFF), st.integers(0, 255), st.binary(max_size=247)),
    st.builds(Ack, st.integers(0, 0xFFFF)),
    st.builds(Nack, st.integers(0, 0xFFFF), st.integers(0, 255)),
    st.builds(Error, st.integers(0, 255), st.text(max_size=20)),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(message=messages)
def test_round_trip(message: codec.Message) -> None:
    frame = message.frame()
    assert len(frame) <= codec.MAX_FRAME
    assert frame.count(0) == 1 and frame[-1] == 0
    assert codec.decode_frame(frame[:-1]) == message


@FUZZ
@given(data=st.binary(max_size=2000), hunting=st.booleans())
def test_random_bytes_never_raise(data: bytes, hunting: bool) -> None:
    rx = Receiver(hunting=hunting)
    out = rx.feed(data)
    pieces = [p for p in data.split(b"\x00")[:-1] if p]  # the complete frames in the stream
    assert rx.counts["frames"] == len(out)
    assert len(out) + rx.bad_frames() <= len(pieces) + 1
    assert rx.buffered() <= codec.MAX_ENCODED


@FUZZ
@given(stream=st.lists(messages, max_size=8), cuts=st.lists(st.integers(0, 4000), max_size=10))
def test_any_split_of_the_stream_decodes_the_same(
    stream: list[codec.Message], cuts: list[int]
) -> None:
    data = b"".join(m.frame() for m in stream)
    rx = Receiver()
    out: list[codec.Message] = []
    last = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += rx.feed(data[last:cut])
        last = cut
    assert out == stream
    assert rx.bad_frames() == 0 and rx.counts["garbage_bytes"] == 0


@FUZZ
@given(
    items=st.lists(st.tuples(st.binary(max_size=300), messages), min_size=1, max_size=6),
)
def test_garbage_between_frames_is_counted_and_resynchronized(
    items: list[tuple[bytes, codec.Message]],
) -> None:
    rx = Receiver()
    data = b"".join(garbage + b"\x00" + message.frame() for garbage, message in items)
    out = rx.feed(data)
    assert out == [message for _, message in items]
    bad = sum(1 for garbage, _ in items for piece in garbage.split(b"\x00") if piece)
    assert rx.bad_frames() == bad
    assert rx.counts["garbage_bytes"] == sum(len(g) - g.count(0) for g, _ in items)


@FUZZ
@given(
    stream=st.lists(messages, min_size=2, max_size=6),
    which=st.integers(0, 100),
    position=st.integers(0, 1000),
    bit=st.integers(0, 7),
)
def test_a_corrupted_frame_is_dropped_and_counted(
    stream: list[codec.Message], which: int, position: int, bit: int
) -> None:
    i = which % len(stream)
    frames = [m.frame() for m in stream]
    bad = bytearray(frames[i])
    k = position % (len(bad) - 1)  # not the delimiter
    bad[k] ^= 1 << bit
    frames[i] = bytes(bad)
    rx = Receiver()
    out = rx.feed(b"".join(frames))
    assert out == stream[:i] + stream[i + 1 :]
    assert rx.bad_frames() >= 1


@FUZZ
@given(
    stream=st.lists(messages, min_size=3, max_size=6),
    which=st.integers(0, 100),
    start=st.integers(0, 1000),
    length=st.integers(1, 1000),
)
def test_lost_bytes_cost_at_most_two_frames(
    stream: list[codec.Message], which: int, start: int, length: int
) -> None:
    i = which % (len(stream) - 1)
    frames = [m.frame() for m in stream]
    f = frames[i]
    a = start % len(f)
    frames[i] = f[:a] + f[a + length :]  # bytes lost on the line, maybe the delimiter too
    rx = Receiver()
    out = rx.feed(b"".join(frames))
    left = frames[i]
    if left in (b"", b"\x00"):  # the whole frame lost (or all but its delimiter)
        kept, bad = stream[:i] + stream[i + 1 :], 0
    elif left.endswith(b"\x00"):  # a truncated frame
        kept, bad = stream[:i] + stream[i + 1 :], 1
    else:  # its delimiter lost: it runs into the next frame, and both are lost
        kept, bad = stream[:i] + stream[i + 2 :], 1
    assert out == kept
    assert rx.bad_frames() == bad


# -- the same codec and firmware on MicroPython (opt-in) -------------------------------------

MICROPYTHON_CHECK = r"""
import codec
import main as fw_main

class Hal:
    input_count = 2
    led_count = 4
    has_distance = True
    boot_id = 0x5EED
    def __init__(self):
        self.t = 0; self.inbox = bytearray(); self.out = bytearray(); self.levels = 0
    def ticks_ms(self): return self.t
    def read(self):
        d = bytes(self.inbox); self.inbox = bytearray(); return d
    def write(self, data): self.out.extend(data)
    def distance_mm(self): return 1500
    def inputs(self): return self.levels
    def show_leds(self, rgb): self.shown = rgb
    def idle(self, ms): pass

GOLDEN = %s
for expr, wire in GOLDEN:
    m = eval(expr, codec.__dict__)
    assert m.frame() == bytes.fromhex(wire), expr
    assert codec.decode_frame(bytes.fromhex(wire)[:-1]) == m, expr
hal = Hal()
fw = fw_main.Firmware(hal)
fw.start()
hal.inbox.extend(b"\x00" + codec.Command(7, codec.OP_LED_FILL, b"\x01\x02\x03").frame())
for i in range(60):
    hal.t += 10
    hal.levels = 1 if 20 <= i < 40 else 0
    fw.step()
names = [m.NAME for m in codec.Receiver().feed(bytes(hal.out))]
assert "Hello" in names and "Ack" in names and names.count("Event") == 2, names
assert names.count("Heartbeat") >= 2 and "SensorBatch" in names, names
print("MICROPYTHON OK")
"""

NODE_RUNNER = r"""
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { readFileSync } from "fs";
const [script, ...files] = process.argv.slice(2);
const mp = await loadMicroPython({stdout: (l) => console.log(l), stderr: (l) => console.error(l)});
for (const f of files) mp.FS.writeFile("/" + f.split("/").pop(), readFileSync(f));
try { mp.runPython("import sys\nsys.path.insert(0, '/')\n" + readFileSync(script, "utf8")); }
catch (e) { console.error("MicroPython: " + e.message); process.exit(1); }
"""


@pytest.mark.skipif(
    not os.environ.get("EXHIBIT_MICROPYTHON_WASM") or shutil.which("node") is None,
    reason="set EXHIBIT_MICROPYTHON_WASM to a folder with "
    "@micropython/micropython-webassembly-pyscript installed (and have node)",
)
def test_codec_and_firmware_run_on_micropython(tmp_path: Path) -> None:
    folder = Path(os.environ["EXHIBIT_MICROPYTHON_WASM"])
    pairs = [(repr(m).split("(")[0] + _args(m), wire) for m, wire in GOLDEN]
    script = tmp_path / "check.py"
    script.write_text(MICROPYTHON_CHECK % (repr(pairs),), encoding="utf-8")
    runner = folder / "exhibit_check.mjs"
    runner.write_text(NODE_RUNNER, encoding="utf-8")
    files = [ROOT / "firmware_bridge" / "codec.py", ROOT / "firmware_bridge/firmware/main.py"]
    done = subprocess.run(
        ["node", str(runner), str(script), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        check=False,
    )
    assert "MICROPYTHON OK" in done.stdout, (done.stdout + done.stderr)[-3000:]


def _args(message: codec.Message) -> str:
    return "(" + ", ".join(repr(f) for f in message.fields()) + ")"
