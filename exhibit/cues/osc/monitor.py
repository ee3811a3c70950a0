"""``exhibit monitor PORT [PORT ...]``: print every OSC message that arrives, one line each.

The technician points the show (or a projector's feedback) at this machine and sees exactly what
is on the wire: the port, the address, the type tag string as received, and the arguments
(strings quoted), e.g. ``[port 9000] /scene/start ,is 3 "welcome"``. Messages inside bundles are
printed one by one, at once (bundle time tags are not waited for).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket, ParseError
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.parsing import osc_types

from exhibit.errors import CueError

_POLL_INTERVAL_S = 0.05


def _format_arg(arg: object, tag: str) -> str:
    """One argument as the technician reads it: strings quoted, float32 without noise."""
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if arg is None:
        return "nil"
    if isinstance(arg, str):
        return json.dumps(arg, ensure_ascii=False)
    if isinstance(arg, float):
        if not math.isfinite(arg):
            return repr(arg)
        # a float32 carries ~7 significant digits; more would print decoding noise (0.3 ->
        # 0.30000001192092896); keep a '.' so a float never reads as an int
        text = f"{arg:.7g}" if tag == "f" else repr(arg)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(arg, bytes):
        return f"<blob {len(arg)} bytes {arg[:16].hex()}{'...' if len(arg) > 16 else ''}>"
    if isinstance(arg, list):
        return "[" + " ".join(_format_arg(item, "") for item in arg) + "]"
    return repr(arg)


def _guess_tag(arg: object) -> str:
    if isinstance(arg, bool):
        return "T" if arg else "F"
    if isinstance(arg, int):
        return "i" if -(2**31) <= arg < 2**31 else "h"
    if isinstance(arg, float):
        return "f"
    if isinstance(arg, str):
        return "s"
    if isinstance(arg, bytes):
        return "b"
    return "N" if arg is None else "?"


def format_message(port: int, address: str, args: Sequence[Any], tags: str | None = None) -> str:
    """One monitor line: ``[port 9000] /scene/start ,is 3 "welcome"``.

    ``tags`` is the type tag string as received (with its comma); when ``None`` it is inferred
    from the Python types of ``args`` (int -> i, float -> f, str -> s, bool -> T/F).

    Example:
        >>> format_message(9000, "/scene/start", [3, "welcome"])
        '[port 9000] /scene/start ,is 3 "welcome"'
    """
    if tags is None:
        tags = "," + "".join(_guess_tag(arg) for arg in args)
    scalar_tags = [t for t in tags.lstrip(",") if t not in "[]"]
    parts = [f"[port {port}]", address, tags]
    for index, arg in enumerate(args):
        parts.append(_format_arg(arg, scalar_tags[index] if index < len(scalar_tags) else ""))
    return " ".join(parts)


def _received_tags(message: OscMessage) -> str:
    """The type tag string of a parsed message, read from its datagram (``","`` when none)."""
    dgram = bytes(message.dgram)
    _, index = osc_types.get_string(dgram, 0)
    if index >= len(dgram):
        return ","
    tags, _ = osc_types.get_string(dgram, index)
    return str(tags)


class _PrintingDispatcher(Dispatcher):
    """Prints every message of every packet (bundles included) instead of dispatching it.

    The stock dispatcher hands handlers the values but not the received type tags, and sleeps
    until a bundle's time tag; the monitor needs the tags and prints at once.
    """

    def __init__(self, port: int, out: TextIO, out_lock: threading.Lock) -> None:
        super().__init__(strict_timing=False)
        self._port = port
        self._out = out
        self._out_lock = out_lock

    def _emit(self, line: str) -> None:
        with self._out_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list[Any]:
        try:
            packet = OscPacket(data)
            for timed in packet.messages:
                message = timed.message
                line = format_message(
                    self._port, message.address, message.params, _received_tags(message)
                )
                self._emit(line)
        except (ParseError, osc_types.ParseError) as exc:
            self._emit(f"[port {self._port}] unreadable packet ({len(data)} bytes): {exc}")
        return []


def run_monitor(
    ports: Sequence[int],
    out: TextIO,
    stop: threading.Event,
    host: str = "127.0.0.1",
    ready: threading.Event | None = None,
) -> None:
    """Listen for OSC over UDP on every port of ``host`` and print each message to ``out``.

    Binds every port first (raising ``CueError`` naming the port if one cannot be bound, with
    nothing left open), then sets ``ready``, then blocks until ``stop`` is set; then shuts every
    server down and joins its thread. A ``KeyboardInterrupt`` while blocked also shuts down
    cleanly and is re-raised, so a CLI may call this in its main thread and catch Ctrl-C.
    Use ``host="0.0.0.0"`` to hear other machines.
    """
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise CueError(f"monitor port must be 1..65535 (got {port!r})")
    out_lock = threading.Lock()
    servers: list[BlockingOSCUDPServer] = []
    threads: list[threading.Thread] = []
    try:
        for port in ports:
            try:
                server = BlockingOSCUDPServer(
                    (host, port), _PrintingDispatcher(port, out, out_lock)
                )
            except OSError as exc:
                raise CueError(f"cannot listen for OSC on {host} port {port}: {exc}") from exc
            servers.append(server)
        for server, port in zip(servers, ports, strict=True):
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL_S},
                name=f"osc-monitor-{port}",
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        if ready is not None:
            ready.set()
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers[: len(threads)]:
            server.shutdown()
        for thread in threads:
            thread.join()
        for server in servers:
            server.server_close()
