"""A sound cue, and how it travels through the show as an ordinary ``events.Cue``.

The show machine and the logs already carry ``Cue(target, address, args, name)``. A sound cue
rides in the same shape, so the show, the replay logs and the timeline need no second kind of
cue:

=============  ===================================================================
``target``     ``"sound:"`` + the sound's name, or ``"sound:*"`` for "every sound"
``address``    ``"/"`` + the action: ``/play``, ``/loop``, ``/stop``, ``/fade_in``,
               ``/fade_out``, ``/crossfade``, ``/duck``
``args``       ``(volume, fade_ms)``, then the ``to`` sound for ``/crossfade``
=============  ===================================================================

The timeline then reads ``-> sound:chime /play 0.8 0``. No OSC target may be named with a
``":"`` in it, so the prefix never collides with one (the demo's OSC target called ``sound`` is
fine: it has no colon).

Example:
    >>> cue = SoundCue("crossfade", sound="ambient", to="night", volume=0.5, fade_ms=2000)
    >>> cue.to_cue()
    Cue(target='sound:ambient', address='/crossfade', args=(0.5, 2000, 'night'), name='')
    >>> SoundCue.from_cue(cue.to_cue()) == cue
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from exhibit.errors import CueError
from exhibit.events import Cue

SoundAction = Literal["play", "loop", "stop", "fade_in", "fade_out", "crossfade", "duck"]
SOUND_ACTIONS: tuple[SoundAction, ...] = (
    "play",
    "loop",
    "stop",
    "fade_in",
    "fade_out",
    "crossfade",
    "duck",
)
SOUND_TARGET_PREFIX = "sound:"
"""Targets of sound cues start with this; the rest is the sound's name or ``*``."""
EVERY_SOUND = "*"

DEFAULT_FADE_MS: dict[SoundAction, int] = {
    "play": 0,
    "loop": 0,
    "stop": 0,
    "fade_in": 1000,
    "fade_out": 1000,
    "crossfade": 2000,
    "duck": 0,
}
"""The fade of each action when the cue gives no ``fade_ms``."""


@dataclass(frozen=True, slots=True)
class SoundCue:
    """What to do with a sound (all of them validated when the config loaded).

    - ``play``: a one-shot of ``sound`` at ``volume``, faded in over ``fade_ms``.
    - ``loop``: ``sound`` looping; if it already loops, its volume moves to ``volume`` over
      ``fade_ms`` instead (re-entering a state does not restart its ambience).
    - ``fade_in``: ``loop`` with a default fade of 1 s.
    - ``stop``: ``sound`` (``None``: every sound) stops, after a fade of ``fade_ms`` if given.
    - ``fade_out``: ``stop`` with a default fade of 1 s.
    - ``crossfade``: ``to`` starts looping (or keeps looping) and rises to ``volume`` while
      ``sound`` (``None``: every other loop) falls to silence and stops, both over ``fade_ms``.
    - ``duck``: a one-shot of ``sound`` played as narration: the other sounds are ducked while
      it plays (as any sound of category ``narration`` does).

    ``volume`` (0..1) multiplies the sound's own ``volume`` from ``[sounds]``.
    """

    action: SoundAction
    sound: str | None = None
    volume: float = 1.0
    fade_ms: int = 0
    to: str | None = None
    name: str = ""

    def to_cue(self) -> Cue:
        """The ``events.Cue`` that carries this sound cue through the show and the logs."""
        args: tuple[float | int | str, ...] = (float(self.volume), int(self.fade_ms))
        if self.to is not None:
            args += (self.to,)
        target = SOUND_TARGET_PREFIX + (self.sound if self.sound is not None else EVERY_SOUND)
        return Cue(target=target, address="/" + self.action, args=args, name=self.name)

    @classmethod
    def from_cue(cls, cue: Cue) -> SoundCue | None:
        """The sound cue that ``cue`` carries; ``None`` if it is not a sound cue.

        Raises ``CueError`` when the target says sound but the rest is malformed (a
        programming error: the config loader only builds well-formed ones).
        """
        if not is_sound_cue(cue):
            return None
        sound = cue.target[len(SOUND_TARGET_PREFIX) :]
        action = cue.address[1:] if cue.address.startswith("/") else ""
        args = cue.args
        ok = (
            action in SOUND_ACTIONS
            and sound != ""
            and len(args) in (2, 3)
            and isinstance(args[0], int | float)
            and not isinstance(args[0], bool)
            and isinstance(args[1], int)
            and not isinstance(args[1], bool)
            and (len(args) == 2 or isinstance(args[2], str))
        )
        if not ok:
            raise CueError(
                f"malformed sound cue {cue.name or cue.address!r}: target {cue.target!r}, "
                f"address {cue.address!r}, args {list(args)!r}; expected target "
                '"sound:NAME", address "/ACTION" and args (volume, fade_ms[, to])'
            )
        to = args[2] if len(args) == 3 else None
        return cls(
            action=cast(SoundAction, action),
            sound=None if sound == EVERY_SOUND else sound,
            volume=float(args[0]),
            fade_ms=int(args[1]),
            to=to if isinstance(to, str) else None,
            name=cue.name,
        )


def is_sound_cue(cue: Cue) -> bool:
    """Whether ``cue`` is a sound cue (its target starts with ``"sound:"``)."""
    return cue.target.startswith(SOUND_TARGET_PREFIX)
