"""What every gesture detector promises: frames in (with their time), hits out.

Detectors are small state machines fed one frame at a time with the frame's own timestamp
``t_s``; they never read a clock, sleep or do I/O, so a recording replays to the same hits.
``skeleton = None`` means the visitor was not tracked in that frame (a dropped frame); a
detector bridges short gaps and forgets a gesture in progress after a long one.

Example:
    >>> GestureHit("wave", 3.5, 0.8, side="right").side
    'right'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from exhibit.gestures.features import BodyFrame
from exhibit.skeleton import Skeleton


@dataclass(frozen=True)
class GestureHit:
    """One recognized gesture: ``name``, the frame time ``t_s`` it completed at, a confidence
    ``score`` in 0..1, and the visitor's ``side`` ("left"/"right") for one-handed gestures."""

    name: str
    t_s: float
    score: float
    side: str | None = None


class GestureDetector(Protocol):
    """A detector for one gesture; the engine holds one of each enabled kind."""

    name: str

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame; returns the hits it completed (usually none)."""
        ...

    def reset(self) -> None:
        """Forget everything (the visitor left)."""
        ...


class BodyFrameDetector(GestureDetector, Protocol):
    """A detector that can also take a precomputed :class:`BodyFrame`, so the engine measures
    each skeleton once per frame for all detectors."""

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        ...
