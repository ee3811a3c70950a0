"""The OSC 1.0 wire format for one message, as pure functions.

Each Python type maps to exactly one OSC type tag, so that what the designer writes in the TOML
is what the projector receives:

=========  ====  ==================================================================
Python     tag   notes
=========  ====  ==================================================================
``bool``   T/F   no argument bytes; checked *before* ``int`` (``bool`` is an ``int``)
``int``    i     32-bit signed; outside -2**31 .. 2**31-1 is a ``CueError`` (many
                 receivers understand no ``h``, so we never switch to it silently)
``float``  f     32-bit IEEE 754; a finite value beyond float32 range is a ``CueError``
``str``    s     UTF-8, NUL-terminated and padded to 4 bytes; no NUL inside
=========  ====  ==================================================================

Example:
    >>> type_tags([3, 0.5, "hi", True])
    ',ifsT'
    >>> encode_message("/go", [1]).hex(" ", 4)
    '2f676f00 2c690000 00000001'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pythonosc.osc_message_builder import BuildError, OscMessageBuilder

from exhibit.errors import CueError
from exhibit.events import OscArg

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38

# Characters an OSC address may not contain (OSC 1.0: space and '#' are reserved, ',' starts
# the type tag string); wildcards (* ? [ ] { }) are allowed because addresses are patterns.
_FORBIDDEN_IN_ADDRESS = frozenset(" #,")


def validate_address(address: str) -> None:
    """Raise ``CueError`` unless ``address`` is a sendable OSC address pattern.

    It must start with ``/`` and hold only printable ASCII without space, ``#`` or ``,``.
    """
    if not isinstance(address, str):
        raise CueError(f"OSC address must be a string (got {address!r})")
    if not address.startswith("/"):
        raise CueError(f"OSC address must start with '/' (got {address!r})")
    for char in address:
        if char in _FORBIDDEN_IN_ADDRESS or not (0x21 <= ord(char) <= 0x7E):
            raise CueError(
                f"OSC address {address!r} contains {char!r}; expected printable ASCII "
                "without space, '#' or ','"
            )


def _tag(arg: object) -> str:
    """The OSC type tag of one argument, after checking its value fits that tag."""
    if isinstance(arg, bool):  # before int: bool is a subclass of int
        return "T" if arg else "F"
    if isinstance(arg, int):
        if not INT32_MIN <= arg <= INT32_MAX:
            raise CueError(
                f"OSC int argument {arg} is outside the 32-bit range "
                f"{INT32_MIN}..{INT32_MAX}; send it as a float or a string"
            )
        return "i"
    if isinstance(arg, float):
        if math.isfinite(arg) and abs(arg) > FLOAT32_MAX:
            raise CueError(f"OSC float argument {arg} does not fit a 32-bit float")
        return "f"
    if isinstance(arg, str):
        if "\x00" in arg:
            raise CueError(f"OSC string argument {arg!r} contains a NUL character")
        return "s"
    raise CueError(
        f"OSC argument {arg!r} has type {type(arg).__name__}; expected bool, int, float or str"
    )


def type_tags(args: Sequence[OscArg]) -> str:
    """The OSC type tag string for ``args``, with its leading comma (``",ifsT"``).

    Raises ``CueError`` for an argument that has no tag or does not fit its tag.
    """
    return "," + "".join(_tag(arg) for arg in args)


def encode_message(address: str, args: Sequence[OscArg]) -> bytes:
    """The OSC 1.0 datagram for one message with explicit type tags (see the module table).

    Raises ``CueError`` for a bad address or argument.
    """
    validate_address(address)
    tags = type_tags(args)[1:]
    builder = OscMessageBuilder(address=address)
    for tag, arg in zip(tags, args, strict=True):
        builder.add_arg(arg, tag)
    try:
        return bytes(builder.build().dgram)
    except BuildError as exc:  # e.g. a string with lone surrogates that is not UTF-8
        raise CueError(f"cannot encode OSC message {address} {list(args)!r}: {exc}") from exc
