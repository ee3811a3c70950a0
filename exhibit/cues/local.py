"""The one sink shape for cues carried out on this machine (sound, GPIO outputs).

A local cue travels as an ordinary :class:`~exhibit.events.Cue` whose target names the device
(``sound:NAME``, ``output:NAME``); its module decodes it back (``from_cue``: ``None`` for other
targets, ``CueError`` for a malformed one). This sink does the common part: pick the cues that
are its own, decode them, hand them to the device, and count and log a malformed one instead of
raising into the show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from exhibit.errors import CueError
from exhibit.events import Cue, Event

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class Device(Protocol[C_contra]):
    """What carries the cues out: a sound player, a bank of GPIO outputs."""

    def apply(self, cue: C_contra) -> bool: ...

    def close(self) -> None: ...


class LocalCueSink(Generic[C]):
    """Runtime ``Sink`` handing this machine's cues of one kind to their device."""

    def __init__(
        self,
        device: Device[C],
        decode: Callable[[Cue], C | None],
        logger: logging.Logger | None = None,
    ) -> None:
        self.device = device
        self._decode = decode
        self.malformed = 0
        self._log = logger if logger is not None else logging.getLogger(__name__)

    def handle(self, event: Event) -> None:
        if event.cue is None:
            return
        try:
            cue = self._decode(event.cue)
        except CueError as exc:
            self.malformed += 1
            self._log.warning("%s", exc)
            return
        if cue is not None:
            self.device.apply(cue)

    def close(self) -> None:
        self.device.close()
