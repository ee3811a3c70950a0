"""Remote commands on an exhibit's ``.../cmd`` topic, parsed into what the live run applies.

A payload is plain text, as ``mosquitto_pub -m reset`` sends it, or a JSON object, as a
dashboard (Node-RED, Home Assistant) would::

    reset | pause | resume | reload | goto STATE
    {"command": "goto", "state": "welcome"}

The commands are those of the OSC control port (``exhibit.control.osc_in``) plus ``reload``
(read the config file again, as SIGHUP does). Parsing is pure and never raises; what is refused
carries a reason for the ``.../cmd/result`` reply and the log.

Example:
    >>> parse_command(b"goto welcome")
    RemoteCommand(kind='goto', arg='welcome')
    >>> parse_command(b'{"command": "pause"}')
    RemoteCommand(kind='pause', arg=None)
    >>> parse_command(b"rset").reason
    'unknown_command'
    >>> parse_command(b"rset").detail
    "'rset' (expected one of goto, pause, reload, reset, resume); did you mean 'reset'?"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from exhibit.config.checker import suggest

CommandKind = Literal["goto", "reset", "pause", "resume", "reload"]
KINDS: tuple[CommandKind, ...] = ("goto", "reset", "pause", "resume", "reload")
MAX_PAYLOAD_BYTES = 256
MAX_STATE_NAME = 64


@dataclass(frozen=True, slots=True)
class RemoteCommand:
    """One command for the live run, applied between frames (``arg``: the state of a goto)."""

    kind: CommandKind
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A payload that is not acted on: ``reason`` (a counter name) and what it was."""

    reason: str
    detail: str


def _kind(word: str) -> CommandKind | None:
    for kind in KINDS:
        if word == kind:
            return kind
    return None


def _build(word: str, arg: str | None, shown: str) -> RemoteCommand | Refused:
    kind = _kind(word.strip().lower())
    if kind is None:
        hint = suggest(word.strip().lower(), KINDS)
        expected = "expected one of " + ", ".join(sorted(KINDS))
        more = f"; did you mean {hint!r}?" if hint else ""
        return Refused("unknown_command", f"{shown!r} ({expected}){more}")
    if kind == "goto":
        state = (arg or "").strip()
        if not state:
            return Refused("bad_argument", f"{shown!r} (goto needs a state name)")
        if len(state) > MAX_STATE_NAME or not state.isprintable():
            return Refused("bad_argument", f"{shown!r} (not a state name)")
        return RemoteCommand("goto", state)
    if arg is not None and arg.strip():
        return Refused("bad_argument", f"{shown!r} ({kind} takes no argument)")
    return RemoteCommand(kind)


def parse_command(payload: bytes | bytearray) -> RemoteCommand | Refused:
    """What one ``.../cmd`` payload asks for. Pure; never raises for any bytes."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Refused("malformed", f"{len(payload)} bytes (at most {MAX_PAYLOAD_BYTES})")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Refused("malformed", f"{len(payload)} bytes, not UTF-8 text")
    if not text:
        return Refused("malformed", "an empty message")
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            return Refused("malformed", f"{text[:60]!r} is not JSON ({exc})")
        if not isinstance(obj, dict) or not isinstance(obj.get("command"), str):
            return Refused("malformed", f'{text[:60]!r} (expected {{"command": "reset"}})')
        unknown = sorted(set(obj) - {"command", "state"})
        if unknown:
            return Refused("bad_argument", f"{text[:60]!r} (unknown keys: {', '.join(unknown)})")
        state = obj.get("state")
        if state is not None and not isinstance(state, str):
            return Refused("bad_argument", f"{text[:60]!r} (state must be a string)")
        return _build(obj["command"], state, text[:60])
    word, _, rest = text.partition(" ")
    return _build(word, rest if rest else None, text[:60])
