"""The sound edge: ``SoundPlayer`` owns ``pygame.mixer``; ``SoundSink`` feeds it sound cues.

Every fade is this module's own envelope, stepped by ``update()`` (a background thread calls it
every ``poll_s``): SDL_mixer's built-in fades overwrite any volume set while they run, which
would make ducking and crossfades fight. A channel's volume is always

    sound volume x cue volume x fade envelope x duck factor

where the duck factor is ``[audio] duck_db`` (as an amplitude) while a narration plays and 1
otherwise, reached over ``duck_fade_ms``; narrations themselves are never ducked. Each sound
plays on a channel of its own, so ``pygame.mixer.Channel(voice.channel).get_volume()`` is what
a visitor hears of it.

The player never raises into the show: no audio device means one warning and every cue counted
as skipped; no free channel means the cue is counted as dropped (a warning at most once a
minute); a sound that could not be loaded is warned about once when the player starts.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from exhibit.closing import Closing
from exhibit.cues.local import LocalCueSink
from exhibit.cues.sound.config import SoundsConfig
from exhibit.cues.sound.cue import SoundCue

with contextlib.redirect_stdout(io.StringIO()):  # pygame greets on first import
    import pygame

REPORT_INTERVAL_S = 60.0
"""At most one "no free channel" warning in this many seconds."""


@dataclass(frozen=True, slots=True)
class SoundStats:
    """What the player did so far. ``played``: cues carried out; ``skipped``: cues that could
    not be (no audio device, sound not loaded, player closed); ``dropped``: sounds that found
    no free channel. ``available`` is false when the audio device could not be opened, and
    ``last_error`` says why something last failed."""

    available: bool
    played: int = 0
    skipped: int = 0
    dropped: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Voice:
    """A snapshot of one sound playing on one mixer channel. ``level`` is where its envelope
    is heading (sound volume x cue volume, or 0 while fading out); ``volume`` is what its
    channel is set to now (after fades and ducking)."""

    sound: str
    channel: int
    loop: bool
    narration: bool
    level: float
    volume: float
    stopping: bool


class _Ramp:
    """A value moving linearly from ``start`` to ``end`` between ``t0_s`` and ``t1_s``."""

    def __init__(self, value: float, t_s: float) -> None:
        self.start = self.end = value
        self.t0_s = self.t1_s = t_s

    def at(self, t_s: float) -> float:
        if t_s >= self.t1_s or self.t1_s <= self.t0_s:
            return self.end
        if t_s <= self.t0_s:
            return self.start
        return self.start + (self.end - self.start) * (t_s - self.t0_s) / (self.t1_s - self.t0_s)

    def to(self, end: float, t_s: float, duration_s: float) -> None:
        self.start = self.at(t_s)
        self.end = end
        self.t0_s = t_s
        self.t1_s = t_s + max(0.0, duration_s)

    def done(self, t_s: float) -> bool:
        return t_s >= self.t1_s


class _Voice:
    def __init__(
        self, sound: str, channel: pygame.mixer.Channel, index: int, loop: bool, narration: bool
    ) -> None:
        self.sound = sound
        self.channel = channel
        self.index = index
        self.loop = loop
        self.narration = narration
        self.amp = _Ramp(0.0, 0.0)
        self.stopping = False
        self.applied = -1.0


class SoundPlayer(Closing):
    """Plays the config's sounds through ``pygame.mixer``: one-shots, loops, fades,
    crossfades, and ducking under narration.

    It opens the mixer (unless something else already has, in which case it shares it and
    leaves it open on ``close``), sets ``[audio] channels``, and loads every sound. ``clock``
    (seconds) times the fades; ``poll_s`` is how often a background thread steps them (``None``:
    no thread, the caller calls ``update()``, as tests do).

    Example (off the Pi, run with ``SDL_AUDIODRIVER=dummy`` in the environment):
        >>> import tempfile, wave
        >>> from pathlib import Path
        >>> from exhibit.cues.sound.config import SoundConfig, SoundsConfig
        >>> file = Path(tempfile.mkdtemp()) / "beep.wav"
        >>> with wave.open(str(file), "wb") as w:
        ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
        ...     w.writeframes(bytes(2 * 22050))
        >>> config = SoundsConfig({"beep": SoundConfig("beep", file, volume=0.5)})
        >>> with SoundPlayer(config) as player:
        ...     player.apply(SoundCue("loop", "beep"))
        ...     [(v.sound, v.loop, v.level) for v in player.voices()]
        True
        [('beep', True, 0.5)]
    """

    def __init__(
        self,
        config: SoundsConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        poll_s: float | None = 0.02,
    ) -> None:
        self.config = config
        self._clock = clock
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._lock = threading.RLock()
        self._closed = False
        self._owns_mixer = False
        self._available = False
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._voices: list[_Voice] = []
        self._duck = _Ramp(1.0, clock())
        self._played = 0
        self._skipped = 0
        self._dropped = 0
        self._unreported_drops = 0
        self._last_drop_report_s: float | None = None
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        audio = config.audio
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(
                    frequency=audio.frequency_hz,
                    size=-16,
                    channels=2,
                    buffer=audio.buffer_samples,
                )
                self._owns_mixer = True
            pygame.mixer.set_num_channels(audio.channels)
        except pygame.error as exc:
            self._last_error = f"the audio device cannot be opened: {exc}"
            self._log.warning(
                "sound is off: %s; every sound cue will be counted and skipped",
                self._last_error,
            )
            return
        self._available = True
        for name, sound in config.sounds.items():
            try:
                self._sounds[name] = pygame.mixer.Sound(str(sound.file))
            except (pygame.error, OSError) as exc:
                self._last_error = f"sound {name!r} ({sound.file}) cannot be loaded: {exc}"
                self._log.warning("%s; its cues will be skipped", self._last_error)
        if poll_s is not None:
            self._poll_s = poll_s
            self._thread = threading.Thread(target=self._run, name="sound-player", daemon=True)
            self._thread.start()

    # -- cues ------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the audio device is open (false: every cue is a counted no-op)."""
        return self._available

    def apply(self, cue: SoundCue) -> bool:
        """Carry out one sound cue; ``True`` if it took effect. Never raises."""
        with self._lock:
            if self._closed or not self._available:
                self._skipped += 1
                return False
            now = self._clock()
            self._prune()
            try:
                ok = self._apply(cue, now)
            except pygame.error as exc:  # the device went away under us
                self._last_error = f"cue {cue.name or cue.action!r}: {exc}"
                self._log.warning("sound cue failed: %s", self._last_error)
                ok = False
                self._skipped += 1
            else:
                if ok:
                    self._played += 1
            self._refresh(now)
            return ok

    def _apply(self, cue: SoundCue, now: float) -> bool:
        fade_s = cue.fade_ms / 1000.0
        if cue.action in ("stop", "fade_out"):
            self._fade_out(lambda v: cue.sound is None or v.sound == cue.sound, now, fade_s)
            return True
        if cue.action == "crossfade":
            target = cue.to
            if target is None:
                return self._skip(f"crossfade cue {cue.name!r} has no 'to' sound")
            self._fade_out(
                lambda v: (v.sound == cue.sound) if cue.sound else (v.loop and v.sound != target),
                now,
                fade_s,
            )
            return self._start(target, cue.volume, fade_s, now, loop=True)
        if cue.sound is None:
            return self._skip(f"{cue.action} cue {cue.name!r} names no sound")
        loop = cue.action in ("loop", "fade_in")
        return self._start(
            cue.sound, cue.volume, fade_s, now, loop=loop, narration=cue.action == "duck"
        )

    def _skip(self, reason: str) -> bool:
        self._skipped += 1
        self._last_error = reason
        self._log.debug("sound cue skipped: %s", reason)
        return False

    def _start(
        self,
        name: str,
        volume: float,
        fade_s: float,
        now: float,
        *,
        loop: bool,
        narration: bool = False,
    ) -> bool:
        sound = self._sounds.get(name)
        config = self.config.sounds.get(name)
        if sound is None or config is None:
            return self._skip(f"sound {name!r} is not loaded")
        level = config.volume * volume
        narration = narration or config.category == "narration"
        if loop:
            for voice in self._voices:
                if voice.sound == name and voice.loop:
                    voice.stopping = False
                    voice.amp.to(level, now, fade_s)
                    return True
        free = _free_channel()
        if free is None:
            self._no_channel(name, now)
            return False
        index, channel = free
        self._voices = [v for v in self._voices if v.index != index]
        voice = _Voice(name, channel, index, loop, narration)
        voice.amp = _Ramp(0.0 if fade_s > 0 else level, now)
        voice.amp.to(level, now, fade_s)
        start_volume = voice.amp.at(now) * (1.0 if narration else self._duck.at(now))
        channel.set_volume(start_volume)
        voice.applied = start_volume
        channel.play(sound, loops=-1 if loop else 0)
        self._voices.append(voice)
        return True

    def _fade_out(self, which: Callable[[_Voice], bool], now: float, fade_s: float) -> None:
        for voice in list(self._voices):
            if not which(voice):
                continue
            if fade_s <= 0:
                voice.channel.stop()
                self._voices.remove(voice)
            else:
                voice.stopping = True
                voice.amp.to(0.0, now, fade_s)

    def _no_channel(self, name: str, now: float) -> None:
        self._dropped += 1
        self._unreported_drops += 1
        self._last_error = f"no free channel for {name!r} (all {self.config.audio.channels} busy)"
        last = self._last_drop_report_s
        if last is not None and now - last < REPORT_INTERVAL_S:
            return
        self._log.warning(
            "%s; %d sound(s) dropped%s; raise [audio] channels if this is common",
            self._last_error,
            self._unreported_drops,
            "" if last is None else " since the last report",
        )
        self._last_drop_report_s = now
        self._unreported_drops = 0

    # -- time ------------------------------------------------------------------------------

    def update(self) -> None:
        """Step every fade and the ducking to the clock's time; forget finished sounds."""
        with self._lock:
            if self._closed or not self._available:
                return
            now = self._clock()
            self._prune()
            self._refresh(now)

    def _prune(self) -> None:
        self._voices = [v for v in self._voices if v.channel.get_busy()]

    def _refresh(self, now: float) -> None:
        narrating = any(v.narration and not v.stopping for v in self._voices)
        goal = self.config.audio.duck_gain if narrating else 1.0
        if goal != self._duck.end:
            self._duck.to(goal, now, self.config.audio.duck_fade_ms / 1000.0)
        duck = self._duck.at(now)
        for voice in list(self._voices):
            if voice.stopping and voice.amp.done(now):
                voice.channel.stop()
                self._voices.remove(voice)
                continue
            volume = voice.amp.at(now) * (1.0 if voice.narration else duck)
            if abs(volume - voice.applied) > 1e-4:
                voice.channel.set_volume(volume)
                voice.applied = volume

    def _run(self) -> None:
        failed = False
        while not self._stop.wait(self._poll_s):
            try:
                self.update()
            except pygame.error as exc:
                if not failed:
                    self._log.warning("sound updates failed: %s", exc)
                    failed = True

    # -- state and lifetime ----------------------------------------------------------------

    def voices(self) -> list[Voice]:
        """The sounds playing now, one per channel."""
        with self._lock:
            if self._closed or not self._available:
                return []
            now = self._clock()
            self._prune()
            duck = self._duck.at(now)
            return [
                Voice(
                    sound=v.sound,
                    channel=v.index,
                    loop=v.loop,
                    narration=v.narration,
                    level=v.amp.end,
                    volume=v.amp.at(now) * (1.0 if v.narration else duck),
                    stopping=v.stopping,
                )
                for v in self._voices
            ]

    def stats(self) -> SoundStats:
        with self._lock:
            return SoundStats(
                available=self._available,
                played=self._played,
                skipped=self._skipped,
                dropped=self._dropped,
                last_error=self._last_error,
            )

    def close(self) -> None:
        """Stop every sound and the update thread; close the mixer if this player opened it.
        Later cues are counted as skipped. Closing twice is harmless."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._available:
                return
            for voice in self._voices:
                voice.channel.stop()
            self._voices.clear()
            self._sounds.clear()
            if self._owns_mixer:
                pygame.mixer.quit()


def _free_channel() -> tuple[int, pygame.mixer.Channel] | None:
    """The lowest-numbered idle mixer channel and its number (``find_channel`` does not say
    which channel it found), or ``None`` when all are busy."""
    for index in range(pygame.mixer.get_num_channels()):
        channel = pygame.mixer.Channel(index)
        if not channel.get_busy():
            return index, channel
    return None


class SoundSink(LocalCueSink[SoundCue]):
    """The runtime ``Sink`` for sound cues: every event whose cue targets ``sound:...`` goes to
    the player; everything else is ignored. A malformed sound cue is logged and counted, never
    raised. ``close`` closes the player.

    Example:
        >>> from exhibit.events import Cue, cue_event
        >>> class Quiet:
        ...     def apply(self, cue): print(cue.action, cue.sound); return True
        ...     def close(self): pass
        >>> sink = SoundSink(Quiet())  # type: ignore[arg-type]
        >>> sink.handle(cue_event(1.0, SoundCue("play", "chime").to_cue()))
        play chime
        >>> sink.handle(cue_event(1.0, Cue("projector", "/scene", ("attract",))))
    """

    def __init__(self, player: SoundPlayer, logger: logging.Logger | None = None) -> None:
        super().__init__(player, SoundCue.from_cue, logger)
        self.player = player
