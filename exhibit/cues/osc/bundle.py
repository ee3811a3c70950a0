"""OSC bundles: several messages that a receiver must handle together, as pure functions.

A bundle is ``#bundle\\0``, a 64-bit NTP time tag, then each element as an int32 size and the
element's bytes. Our bundles carry messages only and use the time tag ``IMMEDIATELY`` (1): the
receiver handles them on arrival, all together. The bytes are those python-osc's
``OscBundleBuilder(IMMEDIATELY)`` and liblo's ``lo_bundle`` (with ``LO_TT_IMMEDIATE``) produce.

Example:
    >>> encode_bundle([("/a", [1]), ("/b", [])]).hex(" ", 4)
    '2362756e 646c6500 00000000 00000001 0000000c 2f610000 2c690000 00000001 00000008 2f620000 2c000000'
"""  # noqa: E501

from __future__ import annotations

import struct
from collections.abc import Sequence

from exhibit.cues.osc.encode import encode_message
from exhibit.errors import CueError
from exhibit.events import Cue, OscArg

IMMEDIATELY = 1
"""The OSC time tag that means "now" (seconds 0, fraction 1)."""

BUNDLE_HEADER = b"#bundle\x00"


def encode_bundle(
    messages: Sequence[tuple[str, Sequence[OscArg]]], timetag: int = IMMEDIATELY
) -> bytes:
    """One bundle holding every ``(address, args)`` message in order.

    Raises ``CueError`` for an empty list, a bad address or argument, or a time tag that does
    not fit 64 bits.
    """
    if not messages:
        raise CueError("an OSC bundle needs at least one message")
    if not 0 <= timetag < 2**64:
        raise CueError(f"OSC time tag {timetag} does not fit 64 bits")
    parts = [BUNDLE_HEADER, struct.pack(">Q", timetag)]
    for address, args in messages:
        element = encode_message(address, args)
        parts.append(struct.pack(">i", len(element)))
        parts.append(element)
    return b"".join(parts)


def encode_cue_bundle(cues: Sequence[Cue], timetag: int = IMMEDIATELY) -> bytes:
    """One bundle holding every cue's message, in order (their targets are not checked here)."""
    return encode_bundle([(cue.address, cue.args) for cue in cues], timetag)
