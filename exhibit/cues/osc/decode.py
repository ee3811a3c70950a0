"""Reading OSC packets (messages and bundles) as pure functions, for replies and control input.

Strict where it matters and tolerant where real senders differ: every size and padding is
checked, and anything that does not parse raises ``ValueError`` naming the offset; arguments of
every OSC 1.0/1.1 type are read (``i f s b h d t S c r m T F N I`` and ``[...]`` arrays), and a
message without a type tag string (pre-1.0 senders) is read as having no arguments. Bundles are
flattened into their messages in order (time tags are not waited for), nested at most
``MAX_DEPTH`` deep.

Example:
    >>> from exhibit.cues.osc.encode import encode_message
    >>> decode_packet(encode_message("/exhibit/goto", ["welcome"]))
    [DecodedMessage(address='/exhibit/goto', args=('welcome',), tags='s')]
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

MAX_DEPTH = 4
"""How deep bundles may nest inside bundles."""

BUNDLE_HEADER = b"#bundle\x00"

DecodedArg = Union[int, float, str, bytes, bool, None, list["DecodedArg"]]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """One received message: its address, its arguments, and its type tags (without comma)."""

    address: str
    args: tuple[DecodedArg, ...]
    tags: str


def _string(data: bytes, index: int, what: str) -> tuple[str, int]:
    end = data.find(b"\x00", index)
    if end == -1:
        raise ValueError(f"{what} at byte {index} has no NUL terminator")
    after = (end + 4) & ~3
    if after > len(data):
        raise ValueError(f"{what} at byte {index} is not padded to 4 bytes")
    if any(data[end:after]):
        raise ValueError(f"{what} at byte {index} has non-NUL padding")
    try:
        text = data[index:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} at byte {index} is not UTF-8") from exc
    return text, after


def _fixed(data: bytes, index: int, size: int, what: str) -> int:
    if index + size > len(data):
        raise ValueError(f"{what} at byte {index} is cut short")
    return index + size


def _args(data: bytes, index: int, tags: str) -> tuple[tuple[DecodedArg, ...], int]:
    stack: list[list[DecodedArg]] = [[]]
    for tag in tags:
        out = stack[-1]
        if tag == "i":
            end = _fixed(data, index, 4, "int32")
            out.append(struct.unpack_from(">i", data, index)[0])
        elif tag == "f":
            end = _fixed(data, index, 4, "float32")
            out.append(struct.unpack_from(">f", data, index)[0])
        elif tag in "sS":
            value, end = _string(data, index, "string argument")
            out.append(value)
        elif tag == "b":
            end = _fixed(data, index, 4, "blob size")
            (size,) = struct.unpack_from(">i", data, index)
            if size < 0:
                raise ValueError(f"blob at byte {index} has a negative size")
            start, stop = end, end + size
            end = _fixed(data, start, (size + 3) & ~3, "blob")
            out.append(bytes(data[start:stop]))
        elif tag == "h":
            end = _fixed(data, index, 8, "int64")
            out.append(struct.unpack_from(">q", data, index)[0])
        elif tag == "t":
            end = _fixed(data, index, 8, "time tag")
            out.append(struct.unpack_from(">Q", data, index)[0])
        elif tag == "d":
            end = _fixed(data, index, 8, "float64")
            out.append(struct.unpack_from(">d", data, index)[0])
        elif tag == "c":
            end = _fixed(data, index, 4, "char")
            code = struct.unpack_from(">I", data, index)[0]
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError(f"char at byte {index} is not a character")
            out.append(chr(code))
        elif tag == "r":
            end = _fixed(data, index, 4, "RGBA color")
            out.append(struct.unpack_from(">I", data, index)[0])
        elif tag == "m":
            end = _fixed(data, index, 4, "MIDI message")
            out.append(bytes(data[index:end]))
        elif tag in "TF":
            end = index
            out.append(tag == "T")
        elif tag in "NI":
            end = index
            out.append(None)
        elif tag == "[":
            end = index
            stack.append([])
        elif tag == "]":
            end = index
            if len(stack) == 1:
                raise ValueError("type tags close an array that was not opened")
            inner = stack.pop()
            stack[-1].append(inner)
        else:
            raise ValueError(f"unknown type tag {tag!r}")
        index = end
    if len(stack) != 1:
        raise ValueError("type tags open an array that is never closed")
    return tuple(stack[0]), index


def decode_message(data: bytes) -> DecodedMessage:
    """One OSC message from ``data`` (the whole datagram); ``ValueError`` if it is not one."""
    if not data.startswith(b"/"):
        raise ValueError("an OSC message must start with '/'")
    if len(data) % 4:
        raise ValueError(f"an OSC packet is a multiple of 4 bytes (got {len(data)})")
    address, index = _string(data, 0, "address")
    if not address.isascii() or not address.isprintable() or " " in address:
        raise ValueError(f"address {address!r} is not printable ASCII without spaces")
    if index == len(data):
        return DecodedMessage(address, (), "")
    if data[index : index + 1] != b",":
        raise ValueError(f"type tag string at byte {index} does not start with ','")
    tags, index = _string(data, index, "type tag string")
    args, index = _args(data, index, tags[1:])
    if index != len(data):
        raise ValueError(f"{len(data) - index} byte(s) after the last argument")
    return DecodedMessage(address, args, tags[1:])


def _bundle(data: bytes, depth: int, out: list[DecodedMessage]) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"bundles nested deeper than {MAX_DEPTH}")
    if len(data) < 16 or len(data) % 4:
        raise ValueError("a bundle needs a header, a time tag and whole 4-byte words")
    index = 16
    while index < len(data):
        _fixed(data, index, 4, "bundle element size")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or size % 4:
            raise ValueError(f"bundle element at byte {index - 4} has size {size}")
        _fixed(data, index, size, "bundle element")
        _packet(bytes(data[index : index + size]), depth + 1, out)
        index += size


def _packet(data: bytes, depth: int, out: list[DecodedMessage]) -> None:
    if data.startswith(BUNDLE_HEADER):
        _bundle(data, depth, out)
    else:
        out.append(decode_message(data))


def decode_packet(data: bytes) -> list[DecodedMessage]:
    """Every message in an OSC packet (a message, or a bundle flattened in order).

    Raises ``ValueError`` naming what is wrong; never anything else for any ``bytes``.
    """
    out: list[DecodedMessage] = []
    _packet(bytes(data), 0, out)
    return out
