"""The ``[sounds]`` and ``[audio]`` sections and sound cues, validated completely at load.

Every problem goes to the config ``Checker`` with its key path, and every sound file is decoded
here (in a child process, see ``probe``), so a file that is missing, misspelt or undecodable
stops ``exhibit check``, not the show::

    [sounds]            # files relative to the config's folder
    ambient = { file = "sounds/ambient.wav", volume = 0.4 }
    chime = "sounds/chime.wav"                  # short form: just the file
    narration_overview = { file = "sounds/narration_overview.wav", category = "narration" }

    [audio]
    channels = 8        # sounds that can play at once
    duck_db = -12       # the other sounds, while a narration plays

    [cues]
    chime = { sound = "chime" }                                  # action = "play"
    ambient = { sound = "ambient", action = "loop", fade_ms = 2000 }
    quiet = { sound = "*", action = "fade_out" }                 # "*": every sound

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> sounds = {"chime": SoundConfig("chime", Path("chime.wav"))}
    >>> parse_sound_cue({"sound": "chmie"}, "cues.ding", c, sounds)
    >>> print(c.problems[0].replace("; ", ";\\n"))
    cues.ding.sound: unknown sound (got "chmie");
    expected one of "chime" or "*" (every sound);
    did you mean "chime"?
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

from exhibit.config.checker import Checker, join, suggest
from exhibit.cues.sound.cue import (
    DEFAULT_FADE_MS,
    EVERY_SOUND,
    SOUND_ACTIONS,
    SoundAction,
    SoundCue,
)
from exhibit.cues.sound.probe import SOUND_SUFFIXES, probe_files, sniff

SoundCategory = Literal["effect", "narration"]
SOUND_CATEGORIES: tuple[SoundCategory, ...] = ("effect", "narration")
SOUND_KEYS = ("file", "volume", "category")
AUDIO_KEYS = ("channels", "duck_db", "duck_fade_ms", "frequency_hz", "buffer_samples")
CUE_KEYS = ("sound", "action", "volume", "fade_ms", "to")
FREQUENCIES_HZ = (22050, 44100, 48000)
LONG_SOUND_S = 300.0
"""Sounds longer than this get a warning: pygame holds every sound decoded in memory."""

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_EVERY_SOUND_ACTIONS: tuple[SoundAction, ...] = ("stop", "fade_out", "crossfade")
_NO_VOLUME_ACTIONS: tuple[SoundAction, ...] = ("stop", "fade_out")


@dataclass(frozen=True)
class SoundConfig:
    """One entry of ``[sounds]``: a file (absolute once loaded), its volume (0..1, applied on
    top of each cue's), its category (``narration`` ducks the others while it plays), and its
    length in seconds as measured when the config loaded (0 if it was not decoded)."""

    name: str
    file: Path
    volume: float = 1.0
    category: SoundCategory = "effect"
    length_s: float = 0.0


@dataclass(frozen=True)
class AudioConfig:
    """The ``[audio]`` section: how many sounds can play at once (``channels``), how far the
    others are lowered while a narration plays (``duck_db``, reached over ``duck_fade_ms``),
    and the mixer's output format (``frequency_hz``, ``buffer_samples`` per callback: smaller
    is lower latency, larger is safer against crackle on a busy Pi)."""

    channels: int = 8
    duck_db: float = -12.0
    duck_fade_ms: int = 300
    frequency_hz: int = 44100
    buffer_samples: int = 1024

    @property
    def duck_gain(self) -> float:
        """``duck_db`` as an amplitude factor (-12 dB -> about 0.25)."""
        return float(10.0 ** (self.duck_db / 20.0))


@dataclass(frozen=True)
class SoundsConfig:
    """Every sound by name, and the mixer settings."""

    sounds: dict[str, SoundConfig] = field(default_factory=dict)
    audio: AudioConfig = field(default_factory=AudioConfig)


def parse_audio(table: Mapping[str, Any], path: str, checker: Checker) -> AudioConfig:
    """The ``[audio]`` table at ``path`` (usually ``"audio"``)."""
    c = checker
    d = AudioConfig()
    channels = c.integer(table, path, "channels", d.channels, minimum=1, maximum=64)
    duck_db = c.number(table, path, "duck_db", d.duck_db, minimum=-60, maximum=0, unit="decibels")
    duck_fade_ms = c.integer(table, path, "duck_fade_ms", d.duck_fade_ms, minimum=0, maximum=10000)
    frequency_hz = c.integer(table, path, "frequency_hz", d.frequency_hz)
    if frequency_hz not in FREQUENCIES_HZ:
        c.error(
            join(path, "frequency_hz"),
            "not a supported rate",
            frequency_hz,
            "one of " + ", ".join(str(f) for f in FREQUENCIES_HZ),
        )
        frequency_hz = d.frequency_hz
    buffer_samples = c.integer(
        table, path, "buffer_samples", d.buffer_samples, minimum=256, maximum=8192
    )
    if buffer_samples & (buffer_samples - 1):
        c.error(
            join(path, "buffer_samples"),
            "not a power of two",
            buffer_samples,
            "256, 512, 1024, 2048, 4096 or 8192",
        )
        buffer_samples = d.buffer_samples
    config = AudioConfig(channels, duck_db, duck_fade_ms, frequency_hz, buffer_samples)
    c.unknown_keys(table, path, AUDIO_KEYS)
    return config


def parse_sounds(
    table: Mapping[str, Any],
    path: str,
    checker: Checker,
    base_dir: str | Path,
    audio: AudioConfig | None = None,
    *,
    decode: bool = True,
) -> SoundsConfig:
    """The ``[sounds]`` table at ``path`` (usually ``"sounds"``); files are relative to
    ``base_dir`` (the config file's folder). With ``decode`` (the default) every file that
    exists is decoded, in one child process, and one that cannot be is an error."""
    c = checker
    base = Path(base_dir)
    entries: dict[str, tuple[Path, float, SoundCategory]] = {}
    written: dict[str, str] = {}
    for name, raw in table.items():
        where = join(path, name)
        if not _NAME.match(name):
            c.error(
                where,
                "not a usable sound name",
                name,
                "letters, digits, _ and - only",
                show_got=False,
            )
            continue
        value: Any = {"file": raw} if isinstance(raw, str) else raw
        if not isinstance(value, dict):
            c.error(
                where,
                "not a sound",
                raw,
                'a file name, or a table such as { file = "sounds/chime.wav", volume = 0.8 }',
            )
            continue
        file_text = c.string(value, where, "file")
        volume = c.number(value, where, "volume", 1.0, minimum=0, maximum=1)
        category = cast(
            SoundCategory, c.choice(value, where, "category", "effect", SOUND_CATEGORIES)
        )
        c.unknown_keys(value, where, SOUND_KEYS)
        if file_text is None:
            continue
        file = Path(file_text)
        file = file if file.is_absolute() else base / file
        if not _check_exists(c, join(where, "file"), file_text, file):
            continue
        entries[name] = (file.resolve(), volume, category)
        written[name] = file_text

    lengths: dict[str, float] = {}
    if decode and entries:
        probes = probe_files([entry[0] for entry in entries.values()])
        for name, (file, _, _) in entries.items():
            result = probes[file]
            where = join(join(path, name), "file")
            if not result.ok:
                c.error(
                    where,
                    f"cannot be decoded ({_decode_reason(file, result.error)})",
                    written[name],
                    "a WAV, OGG Vorbis, FLAC or MP3 file",
                )
            elif result.length_s <= 0:
                c.error(where, "contains no audio (0 s)", written[name], "a sound")
            else:
                lengths[name] = result.length_s
                if result.length_s > LONG_SOUND_S:
                    megabytes = result.length_s * 44100 * 4 / 1e6
                    c.warnings.append(
                        f"{where}: {result.length_s:.0f} s long; pygame keeps it decoded in "
                        f"memory (about {megabytes:.0f} MB at 44.1 kHz stereo)"
                    )
    sounds = {
        name: SoundConfig(name, file, volume, category, lengths.get(name, 0.0))
        for name, (file, volume, category) in entries.items()
        if not decode or name in lengths
    }
    return SoundsConfig(sounds=sounds, audio=audio if audio is not None else AudioConfig())


def _check_exists(c: Checker, where: str, file_text: str, file: Path) -> bool:
    try:
        return _look_for(c, where, file_text, file)
    except (OSError, ValueError) as exc:  # a name too long, a NUL in it (found by fuzzing)
        c.error(
            where,
            f"not a usable file name ({getattr(exc, 'strerror', None) or exc})",
            file_text,
            "a sound file, relative to the config's folder",
        )
        return False


def _look_for(c: Checker, where: str, file_text: str, file: Path) -> bool:
    if file.is_file():
        return True
    if file.is_dir():
        c.error(where, "is a folder, not a file", file_text, "a sound file")
        return False
    folder = file.parent
    if not folder.is_dir():
        c.error(
            where,
            f"no such file (there is no folder {folder})",
            file_text,
            "a sound file, relative to the config's folder",
        )
        return False
    candidates = sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SOUND_SUFFIXES
    )
    match = difflib.get_close_matches(file.name, candidates, n=1, cutoff=0.6)
    hint = None
    if match:
        prefix = PurePosixPath(file_text.replace("\\", "/")).parent
        hint = f'"{prefix / match[0]}"' if str(prefix) != "." else f'"{match[0]}"'
    listing = ", ".join(candidates[:8]) + (", ..." if len(candidates) > 8 else "")
    c.error(
        where,
        "no such file",
        file_text,
        f"a sound file in {folder}" + (f" ({listing})" if listing else " (it has none)"),
        hint,
    )
    return False


def _decode_reason(file: Path, error: str | None) -> str:
    kind = sniff(file)
    if kind is None:
        return "not a WAV, OGG, FLAC or MP3 file"
    return f"a damaged or unsupported {kind} file: {error or 'unknown error'}"


def is_sound_cue_table(table: Mapping[str, Any]) -> bool:
    """Whether a cue table from the config is a sound cue: it has a ``sound`` key."""
    return "sound" in table


def parse_sound_cue(
    table: Mapping[str, Any],
    path: str,
    checker: Checker,
    sounds: SoundsConfig | Mapping[str, SoundConfig],
    name: str = "",
) -> SoundCue | None:
    """A sound cue from its table (``{ sound = "chime", action = "play", volume = 0.8 }``) at
    key path ``path``; ``None`` (with the problems in ``checker``) if it is invalid."""
    c = checker
    known: Mapping[str, SoundConfig] = sounds.sounds if isinstance(sounds, SoundsConfig) else sounds
    before = len(c.problems)
    action = cast(SoundAction, c.choice(table, path, "action", "play", SOUND_ACTIONS))
    sound = _sound_name(c, table, path, "sound", known)
    if sound == EVERY_SOUND and action not in _EVERY_SOUND_ACTIONS:
        c.error(
            join(path, "sound"),
            f'"*" (every sound) does not work with action "{action}"',
            show_got=False,
            expected="the name of one sound, or an action among "
            + ", ".join(f'"{a}"' for a in _EVERY_SOUND_ACTIONS),
        )
    to: str | None = None
    if action == "crossfade":
        if "to" not in table:
            c.error(
                join(path, "to"),
                "missing",
                show_got=False,
                expected="the name of the [sounds] entry to crossfade to",
            )
        else:
            to = _sound_name(c, table, path, "to", known, allow_every=False)
            if to is not None and to == sound:
                c.error(join(path, "to"), "is the sound being faded out", to, "another sound")
    elif "to" in table:
        c.error(
            join(path, "to"),
            'only used with action "crossfade"',
            show_got=False,
            expected='action = "crossfade", or no "to"',
        )
    if action in _NO_VOLUME_ACTIONS and "volume" in table:
        c.error(
            join(path, "volume"),
            f'has no effect with action "{action}"',
            table["volume"],
            "no volume (a fade out ends in silence)",
        )
    volume = c.number(table, path, "volume", 1.0, minimum=0, maximum=1)
    fade_ms = c.integer(table, path, "fade_ms", DEFAULT_FADE_MS[action], minimum=0, maximum=600_000)
    c.unknown_keys(table, path, CUE_KEYS)
    if len(c.problems) > before or sound is None:
        return None
    return SoundCue(
        action=action,
        sound=None if sound == EVERY_SOUND else sound,
        volume=volume,
        fade_ms=fade_ms,
        to=to,
        name=name,
    )


def _sound_name(
    c: Checker,
    table: Mapping[str, Any],
    path: str,
    key: str,
    known: Mapping[str, SoundConfig],
    *,
    allow_every: bool = True,
) -> str | None:
    where = join(path, key)
    names = ", ".join(f'"{n}"' for n in sorted(known)) or "none defined in [sounds]"
    if key not in table:
        c.error(where, "missing", show_got=False, expected=f"the name of a sound: {names}")
        return None
    value = table[key]
    if allow_every and value == EVERY_SOUND:
        return EVERY_SOUND
    if not isinstance(value, str) or value not in known:
        hint = suggest(value, known) if isinstance(value, str) else None
        expected = f"one of {names}" + (' or "*" (every sound)' if allow_every else "")
        c.error(where, "unknown sound", value, expected, f'"{hint}"' if hint else None)
        return None
    return value
