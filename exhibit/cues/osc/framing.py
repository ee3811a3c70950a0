"""OSC packets on a byte stream (TCP): OSC 1.1 SLIP framing and OSC 1.0 length prefixes.

UDP needs no framing (one datagram is one packet). A stream does, and there are two ways:

* **SLIP** (OSC 1.1; RFC 1055), written *double-ended*: ``END packet END`` with ``END`` (0xC0)
  and ``ESC`` (0xDB) inside the packet escaped as ``ESC ESC_END`` / ``ESC ESC_ESC``. QLab speaks
  this on TCP; liblo reads it (and detects it by the leading ``END``); python-osc's TCP server
  reads it in its ``"1.1"`` mode.
* **Length prefix** (OSC 1.0): a big-endian int32 byte count before each packet. liblo sends it
  by default; python-osc's TCP server reads it in its ``"1.0"`` mode; SuperCollider's ``scsynth``
  uses it on its TCP port.

The encoders are pure functions; the decoders keep the bytes of an unfinished packet between
``feed`` calls, and never hold more than ``max_packet_bytes`` of it.

Example:
    >>> slip_encode(bytes([1, 0xC0, 2])).hex(" ")
    'c0 01 db dc 02 c0'
    >>> SlipDecoder().feed(bytes.fromhex("c0 01 db dc 02 c0 c0 03"))
    [b'\\x01\\xc0\\x02']
    >>> length_prefix_encode(b"/go\\x00,\\x00\\x00\\x00").hex(" ", 4)
    '00000008 2f676f00 2c000000'
"""

from __future__ import annotations

import struct
from typing import Literal, Protocol

Framing = Literal["slip", "length"]
FRAMINGS: tuple[Framing, ...] = ("slip", "length")

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD

MAX_PACKET_BYTES = 65536
"""The largest packet a decoder accepts (a UDP datagram holds at most 65507 bytes of it)."""


def slip_encode(packet: bytes) -> bytes:
    """``packet`` as one double-ended SLIP frame: ``END``, the escaped bytes, ``END``."""
    escaped = bytes(packet).replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + escaped + b"\xc0"


def length_prefix_encode(packet: bytes) -> bytes:
    """``packet`` after its size as a big-endian int32 (OSC 1.0 stream framing)."""
    return struct.pack(">I", len(packet)) + bytes(packet)


def encode_frame(packet: bytes, framing: Framing) -> bytes:
    """``packet`` framed for a stream the way ``framing`` says."""
    return slip_encode(packet) if framing == "slip" else length_prefix_encode(packet)


class StreamDecoder(Protocol):
    """Turns stream bytes, as they arrive, into whole packets."""

    errors: int

    def feed(self, data: bytes) -> list[bytes]: ...


class SlipDecoder:
    """Collects SLIP frames from a byte stream.

    Empty frames (the ``END END`` between two double-ended frames) are skipped. A frame with a
    bad escape, or longer than ``max_packet_bytes``, is dropped up to its closing ``END`` and
    counted in ``errors``; the stream goes on with the next frame (SLIP resynchronizes itself).
    """

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.errors = 0
        self._max = max_packet_bytes
        self._buffer = bytearray()
        self._escaped = False
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        """The packets completed by ``data``, in order."""
        packets: list[bytes] = []
        for byte in data:
            if byte == END:
                if self._buffer and not self._discarding and not self._escaped:
                    packets.append(bytes(self._buffer))
                elif self._escaped and not self._discarding:
                    self.errors += 1  # ESC right before END
                self._buffer.clear()
                self._escaped = False
                self._discarding = False
                continue
            if self._discarding:
                continue
            if self._escaped:
                self._escaped = False
                if byte == ESC_END:
                    byte = END
                elif byte == ESC_ESC:
                    byte = ESC
                else:
                    self._drop()
                    continue
            elif byte == ESC:
                self._escaped = True
                continue
            if len(self._buffer) >= self._max:
                self._drop()
                continue
            self._buffer.append(byte)
        return packets

    def _drop(self) -> None:
        self.errors += 1
        self._discarding = True
        self._buffer.clear()


class LengthPrefixDecoder:
    """Collects OSC 1.0 length-prefixed packets from a byte stream.

    A size of 0 is skipped. A size above ``max_packet_bytes`` cannot be skipped safely (the
    stream has lost its framing), so ``feed`` raises ``ValueError``: close the connection.
    """

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.errors = 0
        self._max = max_packet_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The packets completed by ``data``, in order; ``ValueError`` if framing is lost."""
        self._buffer += data
        packets: list[bytes] = []
        while len(self._buffer) >= 4:
            (size,) = struct.unpack_from(">I", self._buffer)
            if size > self._max:
                self.errors += 1
                self._buffer.clear()
                raise ValueError(
                    f"length prefix announces {size} bytes; at most {self._max} are accepted"
                )
            if len(self._buffer) < 4 + size:
                break
            if size:
                packets.append(bytes(self._buffer[4 : 4 + size]))
            del self._buffer[: 4 + size]
        return packets


def make_decoder(framing: Framing, max_packet_bytes: int = MAX_PACKET_BYTES) -> StreamDecoder:
    """A fresh decoder for ``framing``."""
    if framing == "slip":
        return SlipDecoder(max_packet_bytes)
    return LengthPrefixDecoder(max_packet_bytes)


class AutoDecoder:
    """Reads either framing, decided by the stream's first byte (``END`` means SLIP), as liblo
    does on its TCP server. ``framing`` is ``None`` until the first byte arrived."""

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.framing: Framing | None = None
        self._max = max_packet_bytes
        self._inner: StreamDecoder | None = None

    @property
    def errors(self) -> int:
        return self._inner.errors if self._inner is not None else 0

    def feed(self, data: bytes) -> list[bytes]:
        if self._inner is None:
            if not data:
                return []
            self.framing = "slip" if data[0] == END else "length"
            self._inner = make_decoder(self.framing, self._max)
        return self._inner.feed(data)
