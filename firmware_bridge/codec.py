"""The wire format of the bridge: COBS frames with a CRC, and the messages inside them.

Pure functions and plain classes, shared by the host (CPython) and the firmware (MicroPython on
the Pico, where this file is copied as ``codec.py``). PROTOCOL.md documents every byte; this
module is its executable form.

MicroPython compatibility (checked against MicroPython 1.27): no ``from __future__`` (MicroPython
ships no ``__future__`` module unless installed), no dataclasses, no ``typing`` import (MicroPython
has none); annotations are written only in signatures and assignments, where MicroPython's
compiler accepts and discards them and CPython evaluates them (so they must be valid CPython
expressions, e.g. ``list[int]``). Every message is a subclass of ``Message``, so no ``Union``
alias is needed at run time.

Example:
    >>> frame = Heartbeat(1, 1000).frame()
    >>> frame.hex(" ")
    '04 10 02 01 01 01 03 e8 03 01 03 ac 62 00'
    >>> rx = Receiver()
    >>> rx.feed(frame)
    [Heartbeat(seq=1, uptime_ms=1000)]
"""

# MicroPython: %-formatting everywhere (its f-strings lack !r), no contextlib.
# ruff: noqa: UP031

import struct

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 0
PROTOCOL_VERSION = (PROTOCOL_MAJOR << 4) | PROTOCOL_MINOR
"""The version byte: major in the high nibble, minor in the low nibble (0x10 is 1.0)."""

DELIMITER = 0x00
HEADER_BYTES = 2  # version, type
CRC_BYTES = 2
MAX_PAYLOAD = 254
"""Most bytes in one decoded payload: header (2) + body + CRC (2)."""
MAX_BODY = MAX_PAYLOAD - HEADER_BYTES - CRC_BYTES  # 250
MAX_ENCODED = 255
"""Most COBS bytes between two delimiters (a 254-byte payload encodes to 255)."""
MAX_FRAME = MAX_ENCODED + 1
"""Most bytes of one frame on the wire, its 0x00 delimiter included."""

# Message types. Device -> host: 0x01..0x1F; host -> device: 0x20..0x3F.
HELLO = 0x01
HEARTBEAT = 0x02
SENSOR_BATCH = 0x03
EVENT = 0x04
ACK = 0x05
NACK = 0x06
ERROR = 0x07
COMMAND = 0x20

# HELLO capability bits.
CAP_DISTANCE = 0x0001
CAP_INPUTS = 0x0002
CAP_LEDS = 0x0004

# Sensor ids in SENSOR_BATCH.
SENSOR_DISTANCE = 0x01
"""Time-of-flight distance in millimetres; NO_TARGET when nothing is in range."""
NO_TARGET = -1

# EVENT kinds.
EVENT_DOWN = 0x01
EVENT_UP = 0x02

# COMMAND ops.
OP_HELLO = 0x01
"""No args. The device answers ACK, then sends HELLO again."""
OP_LED_FILL = 0x02
"""Args: r, g, b (3 bytes). Every pixel of the strip to one colour."""
OP_LED_SET = 0x03
"""Args: first pixel (u16 LE), then r, g, b per pixel. Pixels past the strip's end: NACK."""
OP_SAMPLE_PERIOD = 0x04
"""Args: period_ms (u16 LE, 20..1000). How often the distance sensor is read."""

# NACK reasons.
NACK_UNKNOWN_OP = 0x01
NACK_BAD_ARGS = 0x02
NACK_UNAVAILABLE = 0x03
NACK_BUSY = 0x04

# ERROR codes.
ERR_SENSOR = 0x01
ERR_BAD_FRAME = 0x02
ERR_VERSION = 0x03
ERR_INTERNAL = 0x04
ERR_LEDS = 0x05

MAX_NAME_BYTES = 32
MAX_READINGS = 35
"""Most readings in one SENSOR_BATCH: (MAX_BODY - 5) // 7."""
READING_BYTES = 7


class DecodeError(ValueError):
    """One frame cannot be decoded; ``kind`` names the counter it goes to."""

    def __init__(self, kind: str, detail: str, version: int = -1) -> None:
        super().__init__(kind + ": " + detail)
        self.kind = kind
        self.detail = detail
        self.version = version


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _make_crc_table()


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final xor).

    >>> hex(crc16(b"123456789"))
    '0x29b1'
    """
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: ``data`` without any 0x00 byte, one byte longer
    (plus one more per 254 bytes). The delimiter is not added here."""
    out = bytearray(b"\x00")
    code_at = 0
    code = 1
    n = len(data)
    for i in range(n):
        byte = data[i]
        if byte == 0:
            out[code_at] = code
            code_at = len(out)
            out.append(0)
            code = 1
        else:
            out.append(byte)
            code += 1
            if code == 0xFF and i + 1 < n:
                out[code_at] = code
                code_at = len(out)
                out.append(0)
                code = 1
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """The inverse of ``cobs_encode``; raises DecodeError("bad_cobs") on malformed input."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            raise DecodeError("bad_cobs", "block length %d at byte %d of %d" % (code, i, n))
        block = data[i + 1 : end]
        if 0 in block:
            raise DecodeError("bad_cobs", "a 0x00 byte inside a block")
        out.extend(block)
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


def _text(raw: bytes) -> str:
    try:
        return str(raw, "utf-8")
    except ValueError:  # invalid UTF-8 (CPython checks; MicroPython may not)
        return "".join(chr(c) if 32 <= c < 127 else "?" for c in raw)


def _utf8(text: str, limit: int) -> bytes:
    raw = text.encode("utf-8")
    return raw[:limit]


class Message:
    """Base of every message; ``frame()`` gives its bytes on the wire."""

    TYPE = 0
    NAME = "message"

    def body(self) -> bytes:
        raise NotImplementedError

    def fields(self) -> tuple[object, ...]:
        raise NotImplementedError

    def payload(self) -> bytes:
        """Version, type, body and CRC: the bytes that COBS encodes."""
        return encode_payload(self)

    def frame(self) -> bytes:
        """The complete frame on the wire, its 0x00 delimiter included."""
        return encode_frame(self)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and self.TYPE == other.TYPE
            and self.fields() == other.fields()
        )

    def __repr__(self) -> str:
        return self.NAME + "(" + ", ".join(self._parts()) + ")"

    def _parts(self) -> list[str]:
        return []


class Hello(Message):
    """The device introduces itself: at boot, and when asked (OP_HELLO). ``boot_id`` is random
    at each boot, so the host knows a restarted device even when its uptime did not go back."""

    TYPE = HELLO
    NAME = "Hello"

    def __init__(
        self,
        firmware: str,
        version: tuple[int, int, int],
        capabilities: int,
        led_count: int = 0,
        input_count: int = 0,
        uptime_ms: int = 0,
        boot_id: int = 0,
    ) -> None:
        self.firmware = firmware
        self.version = (int(version[0]), int(version[1]), int(version[2]))
        self.capabilities = capabilities
        self.led_count = led_count
        self.input_count = input_count
        self.uptime_ms = uptime_ms
        self.boot_id = boot_id

    def body(self) -> bytes:
        name = _utf8(self.firmware, MAX_NAME_BYTES)
        v = self.version
        head = struct.pack(
            "<BBBHHBII",
            v[0],
            v[1],
            v[2],
            self.capabilities,
            self.led_count,
            self.input_count,
            self.uptime_ms & 0xFFFFFFFF,
            self.boot_id & 0xFFFFFFFF,
        )
        return head + bytes((len(name),)) + name

    def fields(self) -> tuple[object, ...]:
        return (
            self.firmware,
            self.version,
            self.capabilities,
            self.led_count,
            self.input_count,
            self.uptime_ms,
            self.boot_id,
        )

    def _parts(self) -> list[str]:
        return [
            "firmware=%r" % self.firmware,
            "version=%d.%d.%d" % self.version,
            "capabilities=0x%04x" % self.capabilities,
            "led_count=%d" % self.led_count,
            "input_count=%d" % self.input_count,
            "uptime_ms=%d" % self.uptime_ms,
            "boot_id=0x%08x" % self.boot_id,
        ]


class Heartbeat(Message):
    """Sent unprompted at least once a second: a sequence number and the device's uptime."""

    TYPE = HEARTBEAT
    NAME = "Heartbeat"

    def __init__(self, seq: int, uptime_ms: int) -> None:
        self.seq = seq
        self.uptime_ms = uptime_ms

    def body(self) -> bytes:
        return struct.pack("<II", self.seq & 0xFFFFFFFF, self.uptime_ms & 0xFFFFFFFF)

    def fields(self) -> tuple[object, ...]:
        return (self.seq, self.uptime_ms)

    def _parts(self) -> list[str]:
        return ["seq=%d" % self.seq, "uptime_ms=%d" % self.uptime_ms]


class SensorBatch(Message):
    """Readings taken since the last batch. ``readings`` holds ``(dt_ms, sensor_id, value)``:
    each was taken at ``t_ms + dt_ms`` on the device's clock."""

    TYPE = SENSOR_BATCH
    NAME = "SensorBatch"

    def __init__(self, t_ms: int, readings: list[tuple[int, int, int]]) -> None:
        self.t_ms = t_ms
        self.readings = readings

    def body(self) -> bytes:
        if len(self.readings) > MAX_READINGS:
            raise ValueError("at most %d readings in one batch" % MAX_READINGS)
        out = bytearray(struct.pack("<IB", self.t_ms & 0xFFFFFFFF, len(self.readings)))
        for dt_ms, sensor_id, value in self.readings:
            out.extend(struct.pack("<HBi", dt_ms, sensor_id, value))
        return bytes(out)

    def samples(self) -> list[tuple[int, int, int]]:
        """``(t_ms, sensor_id, value)`` with each reading's own device time (mod 2**32)."""
        base = self.t_ms
        return [((base + dt) & 0xFFFFFFFF, sid, value) for dt, sid, value in self.readings]

    def fields(self) -> tuple[object, ...]:
        return (self.t_ms, [tuple(r) for r in self.readings])

    def _parts(self) -> list[str]:
        return ["t_ms=%d" % self.t_ms, "readings=%r" % (self.readings,)]


class Event(Message):
    """Something happened to an input (a button or touch pad) at ``t_ms`` on the device."""

    TYPE = EVENT
    NAME = "Event"

    def __init__(self, t_ms: int, kind: int, input_id: int) -> None:
        self.t_ms = t_ms
        self.kind = kind
        self.input_id = input_id

    def body(self) -> bytes:
        return struct.pack("<IBB", self.t_ms & 0xFFFFFFFF, self.kind, self.input_id)

    def fields(self) -> tuple[object, ...]:
        return (self.t_ms, self.kind, self.input_id)

    def _parts(self) -> list[str]:
        return ["t_ms=%d" % self.t_ms, "kind=%d" % self.kind, "input_id=%d" % self.input_id]


class Command(Message):
    """Host -> device: do ``op`` with ``args``; answered by ACK or NACK with the same ``seq``."""

    TYPE = COMMAND
    NAME = "Command"

    def __init__(self, seq: int, op: int, args: bytes = b"") -> None:
        self.seq = seq
        self.op = op
        self.args = bytes(args)

    def body(self) -> bytes:
        if len(self.args) > MAX_BODY - 3:
            raise ValueError("command args longer than %d bytes" % (MAX_BODY - 3))
        return struct.pack("<HB", self.seq & 0xFFFF, self.op) + self.args

    def fields(self) -> tuple[object, ...]:
        return (self.seq, self.op, self.args)

    def _parts(self) -> list[str]:
        return ["seq=%d" % self.seq, "op=%d" % self.op, "args=%r" % (self.args,)]


class Ack(Message):
    """The command ``seq`` was done."""

    TYPE = ACK
    NAME = "Ack"

    def __init__(self, seq: int) -> None:
        self.seq = seq

    def body(self) -> bytes:
        return struct.pack("<H", self.seq & 0xFFFF)

    def fields(self) -> tuple[object, ...]:
        return (self.seq,)

    def _parts(self) -> list[str]:
        return ["seq=%d" % self.seq]


class Nack(Message):
    """The command ``seq`` was refused, for ``reason`` (a NACK_* code)."""

    TYPE = NACK
    NAME = "Nack"

    def __init__(self, seq: int, reason: int) -> None:
        self.seq = seq
        self.reason = reason

    def body(self) -> bytes:
        return struct.pack("<HB", self.seq & 0xFFFF, self.reason)

    def fields(self) -> tuple[object, ...]:
        return (self.seq, self.reason)

    def _parts(self) -> list[str]:
        return ["seq=%d" % self.seq, "reason=%d" % self.reason]


class Error(Message):
    """The device reports a problem: an ERR_* code and a short text."""

    TYPE = ERROR
    NAME = "Error"

    def __init__(self, code: int, text: str = "") -> None:
        self.code = code
        self.text = text

    def body(self) -> bytes:
        return bytes((self.code,)) + _utf8(self.text, MAX_BODY - 1)

    def fields(self) -> tuple[object, ...]:
        return (self.code, self.text)

    def _parts(self) -> list[str]:
        return ["code=%d" % self.code, "text=%r" % self.text]


def encode_payload(message: Message) -> bytes:
    """``version, type, body..., crc_hi, crc_lo`` for ``message``."""
    body = message.body()
    if len(body) > MAX_BODY:
        raise ValueError("body of %d bytes exceeds %d" % (len(body), MAX_BODY))
    data = bytes((PROTOCOL_VERSION, message.TYPE)) + body
    crc = crc16(data)
    return data + bytes((crc >> 8, crc & 0xFF))


def encode_frame(message: Message) -> bytes:
    """COBS-encoded payload followed by the 0x00 delimiter."""
    return cobs_encode(encode_payload(message)) + b"\x00"


def _need(body: bytes, size: int, name: str) -> None:
    if len(body) < size:
        raise DecodeError("bad_body", "%s body of %d bytes, needs %d" % (name, len(body), size))


def _exact(body: bytes, size: int, name: str, strict: bool) -> None:
    _need(body, size, name)
    if strict and len(body) != size:
        raise DecodeError("bad_body", "%s body of %d bytes, expected %d" % (name, len(body), size))


def _decode_body(kind: int, body: bytes, strict: bool) -> Message:
    if kind == HEARTBEAT:
        _exact(body, 8, "HEARTBEAT", strict)
        seq, uptime = struct.unpack_from("<II", body, 0)
        return Heartbeat(seq, uptime)
    if kind == SENSOR_BATCH:
        _need(body, 5, "SENSOR_BATCH")
        t_ms, count = struct.unpack_from("<IB", body, 0)
        if count > MAX_READINGS:
            raise DecodeError("bad_body", "SENSOR_BATCH of %d readings" % count)
        _exact(body, 5 + count * READING_BYTES, "SENSOR_BATCH", strict)
        readings = []
        for i in range(count):
            dt_ms, sensor_id, value = struct.unpack_from("<HBi", body, 5 + i * READING_BYTES)
            readings.append((dt_ms, sensor_id, value))
        return SensorBatch(t_ms, readings)
    if kind == EVENT:
        _exact(body, 6, "EVENT", strict)
        t_ms, ev, input_id = struct.unpack_from("<IBB", body, 0)
        return Event(t_ms, ev, input_id)
    if kind == ACK:
        _exact(body, 2, "ACK", strict)
        return Ack(struct.unpack_from("<H", body, 0)[0])
    if kind == NACK:
        _exact(body, 3, "NACK", strict)
        seq, reason = struct.unpack_from("<HB", body, 0)
        return Nack(seq, reason)
    if kind == ERROR:
        _need(body, 1, "ERROR")
        return Error(body[0], _text(body[1:]))
    if kind == COMMAND:
        _need(body, 3, "COMMAND")
        seq, op = struct.unpack_from("<HB", body, 0)
        return Command(seq, op, body[3:])
    if kind == HELLO:
        _need(body, 17, "HELLO")
        major, minor, patch, caps, leds, inputs, uptime, boot_id = struct.unpack_from(
            "<BBBHHBII", body, 0
        )
        size = body[16]
        if size > MAX_NAME_BYTES:
            raise DecodeError("bad_body", "HELLO name of %d bytes" % size)
        _exact(body, 17 + size, "HELLO", strict)
        name = _text(body[17 : 17 + size])
        return Hello(name, (major, minor, patch), caps, leds, inputs, uptime, boot_id)
    raise DecodeError("unknown_type", "message type 0x%02x" % kind)


def decode_payload(payload: bytes) -> Message:
    """The message in a COBS-decoded payload; raises DecodeError naming what is wrong.

    Checks in this order: length, CRC, major version, type, body. A payload from a newer
    *minor* version is read, ignoring fields appended after the ones this version knows.
    """
    n = len(payload)
    if n < HEADER_BYTES + CRC_BYTES:
        raise DecodeError("too_short", "payload of %d bytes" % n)
    if n > MAX_PAYLOAD:
        raise DecodeError("oversize", "payload of %d bytes" % n)
    if crc16(payload) != 0:
        want = crc16(payload[:-2])
        got = (payload[-2] << 8) | payload[-1]
        raise DecodeError("bad_crc", "crc 0x%04x, computed 0x%04x" % (got, want))
    version = payload[0]
    major = version >> 4
    if major > PROTOCOL_MAJOR:
        raise DecodeError(
            "newer_version",
            "protocol %d.%d; this side speaks %d.%d"
            % (major, version & 0x0F, PROTOCOL_MAJOR, PROTOCOL_MINOR),
            version,
        )
    if major < PROTOCOL_MAJOR:
        raise DecodeError(
            "older_version",
            "protocol %d.%d; this side speaks %d.%d"
            % (major, version & 0x0F, PROTOCOL_MAJOR, PROTOCOL_MINOR),
            version,
        )
    strict = (version & 0x0F) <= PROTOCOL_MINOR
    return _decode_body(payload[1], payload[2:-2], strict)


def decode_frame(encoded: bytes) -> Message:
    """The message in one frame's COBS bytes (without the delimiter)."""
    if len(encoded) > MAX_ENCODED:
        raise DecodeError("oversize", "frame of %d bytes" % len(encoded))
    return decode_payload(cobs_decode(encoded))


FRAME_ERRORS = (
    "bad_cobs",
    "too_short",
    "bad_crc",
    "newer_version",
    "older_version",
    "unknown_type",
    "bad_body",
    "oversize",
)
"""Counters of bad frames: each bad frame adds one to exactly one of these."""


class Receiver:
    """Splits a byte stream into frames and decodes them; never raises.

    ``feed(data)`` returns the messages completed by ``data``. ``counts`` holds ``frames``
    (good ones), one counter per kind of bad frame (FRAME_ERRORS) and ``garbage_bytes`` (bytes
    that were not part of a good frame). Memory is bounded: at most MAX_ENCODED bytes are kept
    between delimiters; a longer run is dropped as one ``oversize`` frame.

    With ``hunting=True`` the bytes before the first delimiter are a frame only if they decode
    as one; otherwise they are skipped as garbage without counting a bad frame: a port opened
    in the middle of a stream starts mid-frame.
    """

    def __init__(self, hunting: bool = False, max_encoded: int = MAX_ENCODED) -> None:
        self.max_encoded = max_encoded
        self.hunting = hunting
        self.counts = {"frames": 0, "garbage_bytes": 0}
        for name in FRAME_ERRORS:
            self.counts[name] = 0
        self.last_error: DecodeError | None = None
        self._buf = bytearray()
        self._dropping = False

    def reset(self, hunting: bool = True) -> None:
        """Forget a partial frame (after a reconnect); counters are kept."""
        self._buf = bytearray()
        self._dropping = False
        self.hunting = hunting

    def bad_frames(self) -> int:
        counts = self.counts
        return sum(counts[name] for name in FRAME_ERRORS)

    def buffered(self) -> int:
        """Bytes held for a frame not yet complete (never more than ``max_encoded``)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        out: list[Message] = []
        data = bytes(data)
        start = 0
        n = len(data)
        while start < n:
            end = data.find(b"\x00", start)
            if end < 0:
                self._extend(data[start:])
                break
            self._extend(data[start:end])
            self._end_frame(out)
            start = end + 1
        return out

    def _extend(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._dropping:
            self.counts["garbage_bytes"] += len(chunk)
            return
        if len(self._buf) + len(chunk) > self.max_encoded:
            self.counts["garbage_bytes"] += len(self._buf) + len(chunk)
            self._buf = bytearray()
            self._dropping = True
            if not self.hunting:
                self._fail(DecodeError("oversize", "more than %d bytes" % self.max_encoded))
            return
        self._buf.extend(chunk)

    def _end_frame(self, out: list[Message]) -> None:
        hunting = self.hunting
        self.hunting = False
        if self._dropping:
            self._dropping = False
            return
        encoded = bytes(self._buf)
        self._buf = bytearray()
        if not encoded:
            return  # an empty frame (0x00 0x00) is padding, not an error
        try:
            message = decode_frame(encoded)
        except DecodeError as exc:
            self.counts["garbage_bytes"] += len(encoded)
            if not hunting:  # the tail of a frame begun before we listened is no error
                self._fail(exc)
            return
        self.counts["frames"] += 1
        out.append(message)

    def _fail(self, exc: DecodeError) -> None:
        self.counts[exc.kind] += 1
        self.last_error = exc
