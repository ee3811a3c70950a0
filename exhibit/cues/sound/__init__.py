"""Local sound: the designer's ``[sounds]`` and ``[audio]`` sections, sound cues, and the
player that owns ``pygame.mixer``.

- ``config``: ``parse_sounds``, ``parse_audio`` and ``parse_sound_cue`` validate through the
  config ``Checker`` (key paths, did-you-mean) and decode every file at load time.
- ``cue``: ``SoundCue``, and its encoding as an ordinary ``events.Cue`` with the target
  ``"sound:NAME"`` so that sound cues travel through the show and the logs like OSC cues.
- ``probe``: decodes files in a child process with SDL's dummy audio driver (no device needed,
  no global state touched, a decoder crash cannot take the service down).
- ``player``: ``SoundPlayer`` (one-shots, loops, fades, crossfades, ducking under narration)
  and ``SoundSink`` (the runtime sink for sound cues). It never raises into the show.

See docs/sound-and-lights.md.
"""

from __future__ import annotations

from exhibit.cues.sound.config import (
    AudioConfig,
    SoundConfig,
    SoundsConfig,
    parse_audio,
    parse_sound_cue,
    parse_sounds,
)
from exhibit.cues.sound.cue import SOUND_ACTIONS, SOUND_TARGET_PREFIX, SoundAction, SoundCue
from exhibit.cues.sound.player import SoundPlayer, SoundSink, SoundStats, Voice

__all__ = [
    "SOUND_ACTIONS",
    "SOUND_TARGET_PREFIX",
    "AudioConfig",
    "SoundAction",
    "SoundConfig",
    "SoundCue",
    "SoundPlayer",
    "SoundSink",
    "SoundStats",
    "SoundsConfig",
    "Voice",
    "parse_audio",
    "parse_sound_cue",
    "parse_sounds",
]
