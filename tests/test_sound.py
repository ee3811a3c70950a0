"""Local sound: config validation (with every file decoded at load), sound cues, the player on
real pygame.mixer with SDL's dummy audio driver, and the demo's generated sounds.

The dummy driver really mixes, in real time, without a device: a 0.4 s one-shot keeps its
channel busy for 0.4 s. Fades and ducking run on a clock the test moves by hand
(``poll_s=None`` and ``update()``), so volumes are checked at exact points of each ramp; what
a channel is set to is read back from pygame (``Channel(i).get_volume()``, in steps of 1/128).
"""

from __future__ import annotations

import importlib.util
import logging
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pygame
import pytest

from exhibit.config.checker import Checker
from exhibit.cues.sound import (
    AudioConfig,
    SoundConfig,
    SoundCue,
    SoundPlayer,
    SoundsConfig,
    SoundSink,
    parse_audio,
    parse_sound_cue,
    parse_sounds,
)
from exhibit.cues.sound.config import is_sound_cue_table
from exhibit.cues.sound.probe import probe_files, sniff
from exhibit.errors import CueError
from exhibit.events import Cue, Event, cue_event

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "media" / "demo"
STEP = 1 / 128 + 1e-9  # SDL_mixer keeps channel volumes as integers 0..128


# -- helpers and fixtures -------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self, t_s: float = 100.0) -> None:
        self.t_s = t_s

    def __call__(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        self.t_s += dt_s


def write_tone(path: Path, seconds: float, frequency_hz: float = 440.0) -> Path:
    """A 22 050 Hz mono 16-bit sine tone."""
    n = np.arange(round(seconds * 22050))
    samples = np.rint(np.sin(2 * np.pi * frequency_hz * n / 22050) * 8000).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(samples.tobytes())
    return path


def wait_until(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    """Poll ``condition`` every 10 ms until it holds or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def channel_volume(player: SoundPlayer, sound: str) -> float:
    """What the mixer channel playing ``sound`` is set to (the first one, if several)."""
    voice = next(v for v in player.voices() if v.sound == sound)
    return pygame.mixer.Channel(voice.channel).get_volume()


def channel_of(player: SoundPlayer, sound: str) -> pygame.mixer.Channel:
    voice = next(v for v in player.voices() if v.sound == sound)
    return pygame.mixer.Channel(voice.channel)


@pytest.fixture(autouse=True)
def dummy_audio(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SDL's dummy audio driver, and a closed mixer before and after every test."""
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    if pygame.mixer.get_init():
        pygame.mixer.quit()
    try:
        yield
    finally:
        if pygame.mixer.get_init():
            pygame.mixer.quit()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """An exhibit folder with short sounds in sounds/."""
    write_tone(tmp_path / "sounds" / "chime.wav", 0.4, 880.0)
    write_tone(tmp_path / "sounds" / "ambient.wav", 0.5, 220.0)
    write_tone(tmp_path / "sounds" / "night.wav", 0.5, 330.0)
    write_tone(tmp_path / "sounds" / "narration.wav", 0.5, 150.0)
    return tmp_path


def sounds_config(media: Path, audio: AudioConfig | None = None) -> SoundsConfig:
    def sound(name: str, volume: float = 1.0, narration: bool = False) -> SoundConfig:
        file = media / "sounds" / f"{name}.wav"
        return SoundConfig(name, file, volume, "narration" if narration else "effect")

    return SoundsConfig(
        {
            "chime": sound("chime", 0.5),
            "ambient": sound("ambient", 0.8),
            "night": sound("night"),
            "narration": sound("narration", narration=True),
        },
        audio or AudioConfig(duck_db=-12.0, duck_fade_ms=200),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def player(media: Path, clock: FakeClock) -> Iterator[SoundPlayer]:
    with SoundPlayer(sounds_config(media), clock=clock, poll_s=None) as p:
        assert p.available
        yield p


# -- [sounds] and [audio] -------------------------------------------------------------------


def test_demo_sounds_decode_at_load_with_their_lengths() -> None:
    c = Checker()
    table = {
        "ambient": {"file": "sounds/ambient.wav", "volume": 0.4},
        "chime": "sounds/chime.wav",
        "narration_overview": {"file": "sounds/narration_overview.wav", "category": "narration"},
    }
    config = parse_sounds(table, "sounds", c, DEMO_DIR)
    assert c.problems == []
    assert set(config.sounds) == {"ambient", "chime", "narration_overview"}
    assert config.sounds["ambient"].volume == 0.4
    assert config.sounds["ambient"].length_s == pytest.approx(3.2, abs=0.01)
    assert config.sounds["chime"].length_s == pytest.approx(1.0, abs=0.01)
    assert config.sounds["chime"].file == (DEMO_DIR / "sounds" / "chime.wav").resolve()
    assert config.sounds["narration_overview"].category == "narration"
    assert config.audio == AudioConfig()


def test_random_bytes_named_ogg_is_a_load_error_naming_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "sounds" / "chime.ogg"
    bad.parent.mkdir()
    bad.write_bytes(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    write_tone(tmp_path / "sounds" / "ambient.wav", 0.2)
    c = Checker()
    config = parse_sounds(
        {"chime": {"file": "sounds/chime.ogg"}, "ambient": "sounds/ambient.wav"},
        "sounds",
        c,
        tmp_path,
    )
    assert c.problems == [
        'sounds.chime.file: cannot be decoded (not a WAV, OGG, FLAC or MP3 file) (got "sounds/'
        'chime.ogg"); expected a WAV, OGG Vorbis, FLAC or MP3 file'
    ]
    assert set(config.sounds) == {"ambient"}  # the good one is still checked and kept


def test_damaged_wav_names_the_format_and_the_decoder_error(tmp_path: Path) -> None:
    good = write_tone(tmp_path / "cut.wav", 0.2).read_bytes()
    (tmp_path / "cut.wav").write_bytes(good[:12] + b"\x00" * 40)  # RIFF/WAVE, then garbage
    c = Checker()
    parse_sounds({"cut": "cut.wav"}, "sounds", c, tmp_path)
    assert len(c.problems) == 1
    assert c.problems[0].startswith(
        "sounds.cut.file: cannot be decoded (a damaged or unsupported WAV file: "
    )
    assert '(got "cut.wav")' in c.problems[0]


def test_missing_file_suggests_a_similar_name_in_its_folder(media: Path) -> None:
    c = Checker()
    config = parse_sounds({"chime": {"file": "sounds/chmie.wav"}}, "sounds", c, media)
    folder = media / "sounds"
    assert c.problems == [
        f'sounds.chime.file: no such file (got "sounds/chmie.wav"); expected a sound file in '
        f"{folder} (ambient.wav, chime.wav, narration.wav, night.wav); "
        'did you mean "sounds/chime.wav"?'
    ]
    assert config.sounds == {}


def test_missing_folder_and_a_folder_instead_of_a_file(media: Path) -> None:
    c = Checker()
    parse_sounds({"a": "sound/chime.wav", "b": "sounds"}, "sounds", c, media)
    assert c.problems == [
        f"sounds.a.file: no such file (there is no folder {media / 'sound'}) (got "
        '"sound/chime.wav"); expected a sound file, relative to the config\'s folder',
        'sounds.b.file: is a folder, not a file (got "sounds"); expected a sound file',
    ]


def test_sound_entries_are_checked_key_by_key(media: Path) -> None:
    c = Checker()
    table: dict[str, Any] = {
        "chime": {"file": "sounds/chime.wav", "volum": 0.5},
        "loud": {"file": "sounds/chime.wav", "volume": 1.5},
        "talk": {"file": "sounds/narration.wav", "category": "narattion"},
        "bad name": "sounds/chime.wav",
        "number": 3,
        "nofile": {"volume": 0.5},
    }
    config = parse_sounds(table, "sounds", c, media, decode=False)
    assert c.problems == [
        "sounds.chime.volum: unknown key; expected one of category, file, volume; did you mean "
        '"volume"?',
        "sounds.loud.volume: out of range (got 1.5); expected a value >= 0 and <= 1",
        'sounds.talk.category: not one of the choices (got "narattion"); expected one of '
        '"effect", "narration"; did you mean "narration"?',
        "sounds.bad name: not a usable sound name; expected letters, digits, _ and - only",
        "sounds.number: not a sound (got 3); expected a file name, or a table such as "
        '{ file = "sounds/chime.wav", volume = 0.8 }',
        "sounds.nofile.file: missing; expected a string",
    ]
    assert sorted(config.sounds) == ["chime", "loud", "talk"]  # decode=False keeps what exists


def test_audio_section_defaults_and_errors() -> None:
    c = Checker()
    assert parse_audio({}, "audio", c) == AudioConfig()
    assert AudioConfig(duck_db=-12).duck_gain == pytest.approx(0.2512, abs=1e-4)
    audio = parse_audio(
        {
            "channels": 0,
            "duck_db": 6,
            "frequency_hz": 44000,
            "buffer_samples": 1000,
            "duck_ms": 10,
        },
        "audio",
        c,
    )
    assert audio == AudioConfig()
    assert c.problems == [
        "audio.channels: out of range (got 0); expected a value >= 1 and <= 64",
        "audio.duck_db: out of range (got 6); expected a value >= -60 and <= 0",
        "audio.frequency_hz: not a supported rate (got 44000); expected one of 22050, 44100, 48000",
        "audio.buffer_samples: not a power of two (got 1000); expected 256, 512, 1024, 2048, "
        "4096 or 8192",
        "audio.duck_ms: unknown key; expected one of buffer_samples, channels, duck_db, "
        'duck_fade_ms, frequency_hz; did you mean "duck_fade_ms"?',
    ]


# -- sound cues -----------------------------------------------------------------------------


def parse_cue(table: dict[str, Any], media: Path) -> tuple[SoundCue | None, list[str]]:
    c = Checker()
    cue = parse_sound_cue(table, "cues.x", c, sounds_config(media), name="x")
    return cue, c.problems


def test_sound_cues_parse_with_each_actions_default_fade(media: Path) -> None:
    assert parse_cue({"sound": "chime"}, media) == (SoundCue("play", "chime", name="x"), [])
    assert parse_cue({"sound": "ambient", "action": "fade_in", "volume": 0.5}, media) == (
        SoundCue("fade_in", "ambient", volume=0.5, fade_ms=1000, name="x"),
        [],
    )
    assert parse_cue({"sound": "*", "action": "stop"}, media) == (
        SoundCue("stop", None, name="x"),
        [],
    )
    assert parse_cue({"sound": "ambient", "action": "crossfade", "to": "night"}, media) == (
        SoundCue("crossfade", "ambient", fade_ms=2000, to="night", name="x"),
        [],
    )
    assert is_sound_cue_table({"sound": "chime"})
    assert not is_sound_cue_table({"target": "projector", "address": "/x"})


def test_sound_cue_errors_name_the_key_and_the_likely_fix(media: Path) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"sound": "chmie"},
            'cues.x.sound: unknown sound (got "chmie"); expected one of "ambient", "chime", '
            '"narration", "night" or "*" (every sound); did you mean "chime"?',
        ),
        (
            {"sound": "chime", "action": "crosfade"},
            'cues.x.action: not one of the choices (got "crosfade"); expected one of "play", '
            '"loop", "stop", "fade_in", "fade_out", "crossfade", "duck"; did you mean '
            '"crossfade"?',
        ),
        (
            {"sound": "ambient", "action": "crossfade"},
            "cues.x.to: missing; expected the name of the [sounds] entry to crossfade to",
        ),
        (
            {"sound": "ambient", "action": "crossfade", "to": "nigth"},
            'cues.x.to: unknown sound (got "nigth"); expected one of "ambient", "chime", '
            '"narration", "night"; did you mean "night"?',
        ),
        (
            {"sound": "chime", "to": "night"},
            'cues.x.to: only used with action "crossfade"; expected action = "crossfade", or no '
            '"to"',
        ),
        (
            {"sound": "chime", "action": "stop", "volume": 0.5},
            'cues.x.volume: has no effect with action "stop" (got 0.5); expected no volume (a '
            "fade out ends in silence)",
        ),
        (
            {"sound": "*", "action": "play"},
            'cues.x.sound: "*" (every sound) does not work with action "play"; expected the name '
            'of one sound, or an action among "stop", "fade_out", "crossfade"',
        ),
        (
            {"sound": "chime", "volume": 2},
            "cues.x.volume: out of range (got 2); expected a value >= 0 and <= 1",
        ),
        (
            {"sound": "chime", "fade_ms": -5},
            "cues.x.fade_ms: out of range (got -5); expected a value >= 0 and <= 600000",
        ),
        (
            {"sound": "chime", "fade": 100},
            "cues.x.fade: unknown key; expected one of action, fade_ms, sound, to, volume; did "
            'you mean "fade_ms"?',
        ),
    ]
    for table, problem in cases:
        cue, problems = parse_cue(table, media)
        assert cue is None, table
        assert problems == [problem], table


def test_sound_cues_ride_in_an_ordinary_cue_and_back() -> None:
    cues = [
        SoundCue("play", "chime", volume=0.8, name="ding"),
        SoundCue("loop", "ambient", volume=0.4, fade_ms=2000),
        SoundCue("stop", None),
        SoundCue("crossfade", None, fade_ms=1500, to="night"),
        SoundCue("duck", "narration"),
    ]
    for cue in cues:
        assert SoundCue.from_cue(cue.to_cue()) == cue
    carried = cues[0].to_cue()
    assert carried == Cue("sound:chime", "/play", (0.8, 0), "ding")
    assert cues[2].to_cue().target == "sound:*"
    event = cue_event(2.0, carried)
    assert event.to_json() == (
        '{"t":2.0,"kind":"cue","name":"ding","address":"/play","args":[0.8,0],'
        '"target":"sound:chime"}'
    )
    assert SoundCue.from_cue(Cue("sound", "/sound/play", ("chime", 0.8))) is None  # OSC target
    with pytest.raises(CueError, match="malformed sound cue"):
        SoundCue.from_cue(Cue("sound:chime", "/blast", (1.0, 0)))


def test_a_decoder_crash_is_pinned_on_each_file_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [write_tone(tmp_path / "a.wav", 0.05), write_tone(tmp_path / "b.wav", 0.05)]
    monkeypatch.setattr("exhibit.cues.sound.probe._CHILD", "raise SystemExit(-11)")
    results = probe_files(files)  # the batch dies, then each file alone
    assert {p.name: (r.ok, r.error) for p, r in results.items()} == {
        "a.wav": (False, "the decoder crashed on it"),
        "b.wav": (False, "the decoder crashed on it"),
    }


def test_probe_sniffs_containers(tmp_path: Path) -> None:
    (tmp_path / "x.ogg").write_bytes(b"OggS" + bytes(20))
    (tmp_path / "x.bin").write_bytes(b"\x01\x02\x03")
    assert sniff(write_tone(tmp_path / "x.wav", 0.01)) == "WAV"
    assert sniff(tmp_path / "x.ogg") == "OGG"
    assert sniff(tmp_path / "x.bin") is None
    assert probe_files([]) == {}


# -- the player on real pygame.mixer ----------------------------------------------------------


def test_one_shot_plays_at_its_volume_then_frees_its_channel(player: SoundPlayer) -> None:
    assert player.apply(SoundCue("play", "chime", volume=0.5))
    (voice,) = player.voices()
    channel = pygame.mixer.Channel(voice.channel)
    assert channel.get_busy()
    assert (voice.sound, voice.loop, voice.level) == ("chime", False, 0.25)  # 0.5 x 0.5
    assert channel.get_volume() == pytest.approx(0.25, abs=STEP)
    assert wait_until(lambda: not channel.get_busy())  # 0.4 s of sound, in real time
    player.update()
    assert player.voices() == []
    assert player.stats().played == 1


def test_loop_keeps_playing_and_a_second_loop_cue_only_changes_its_volume(
    player: SoundPlayer, clock: FakeClock
) -> None:
    player.apply(SoundCue("loop", "ambient"))
    channel = channel_of(player, "ambient")
    time.sleep(0.8)  # longer than the 0.5 s file: a one-shot would have ended
    player.update()
    assert channel.get_busy()
    assert channel_volume(player, "ambient") == pytest.approx(0.8, abs=STEP)
    player.apply(SoundCue("loop", "ambient", volume=0.5, fade_ms=1000))
    assert len(player.voices()) == 1  # not restarted on another channel
    clock.advance(0.5)
    player.update()
    assert channel_volume(player, "ambient") == pytest.approx(0.6, abs=STEP)  # 0.8 -> 0.4
    clock.advance(0.5)
    player.update()
    assert channel_volume(player, "ambient") == pytest.approx(0.4, abs=STEP)


def test_crossfade_ends_with_the_new_loop_at_full_and_the_old_stopped(
    player: SoundPlayer, clock: FakeClock
) -> None:
    player.apply(SoundCue("loop", "ambient"))
    old = channel_of(player, "ambient")
    assert player.apply(SoundCue("crossfade", "ambient", fade_ms=1000, to="night"))
    new = channel_of(player, "night")
    assert new.get_volume() == 0.0
    clock.advance(0.5)
    player.update()
    assert old.get_volume() == pytest.approx(0.4, abs=STEP)
    assert new.get_volume() == pytest.approx(0.5, abs=STEP)
    clock.advance(0.5)
    player.update()
    assert not old.get_busy()
    assert new.get_busy()
    assert new.get_volume() == 1.0
    assert [(v.sound, v.loop) for v in player.voices()] == [("night", True)]


def test_crossfade_from_every_loop_leaves_one_shots_alone(
    player: SoundPlayer, clock: FakeClock
) -> None:
    player.apply(SoundCue("loop", "ambient"))
    player.apply(SoundCue("play", "chime"))
    player.apply(SoundCue("crossfade", None, fade_ms=100, to="night"))
    clock.advance(0.1)
    player.update()
    assert sorted(v.sound for v in player.voices()) == ["chime", "night"]


def test_ducking_lowers_the_others_while_a_narration_plays_and_restores_them(
    player: SoundPlayer, clock: FakeClock
) -> None:
    player.apply(SoundCue("loop", "ambient"))  # 0.8
    player.apply(SoundCue("play", "narration"))  # category "narration"
    talk = channel_of(player, "narration")
    clock.advance(0.1)
    player.update()
    ducked = 0.8 * 10 ** (-12 / 20)
    assert channel_volume(player, "ambient") == pytest.approx((0.8 + ducked) / 2, abs=STEP)
    clock.advance(0.1)
    player.update()
    assert channel_volume(player, "ambient") == pytest.approx(ducked, abs=STEP)
    assert talk.get_volume() == 1.0  # the narration itself is never ducked
    assert wait_until(lambda: not talk.get_busy())
    player.update()
    clock.advance(0.2)  # duck_fade_ms back up
    player.update()
    assert channel_volume(player, "ambient") == pytest.approx(0.8, abs=STEP)


def test_duck_action_plays_any_sound_as_narration(player: SoundPlayer, clock: FakeClock) -> None:
    player.apply(SoundCue("loop", "night"))
    player.apply(SoundCue("duck", "chime"))
    clock.advance(0.2)
    player.update()
    assert channel_volume(player, "night") == pytest.approx(10 ** (-12 / 20), abs=STEP)
    assert channel_volume(player, "chime") == pytest.approx(0.5, abs=STEP)


def test_fade_in_rises_and_fade_out_falls_then_stops(player: SoundPlayer, clock: FakeClock) -> None:
    player.apply(SoundCue("fade_in", "night", fade_ms=1000))
    channel = channel_of(player, "night")
    levels = []
    for _ in range(4):
        clock.advance(0.25)
        player.update()
        levels.append(channel.get_volume())
    assert levels == pytest.approx([0.25, 0.5, 0.75, 1.0], abs=STEP)
    player.apply(SoundCue("fade_out", "night", fade_ms=1000))
    clock.advance(0.5)
    player.update()
    assert channel.get_volume() == pytest.approx(0.5, abs=STEP)
    assert player.voices()[0].stopping
    clock.advance(0.5)
    player.update()
    assert not channel.get_busy()
    assert player.voices() == []


def test_stop_every_sound_at_once(player: SoundPlayer) -> None:
    player.apply(SoundCue("loop", "ambient"))
    player.apply(SoundCue("loop", "night"))
    player.apply(SoundCue("play", "chime"))
    assert len(player.voices()) == 3
    player.apply(SoundCue("stop", None))
    assert player.voices() == []
    assert not pygame.mixer.get_busy()


def test_no_free_channel_drops_the_sound_and_warns_once(
    media: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = sounds_config(media, AudioConfig(channels=1))
    with SoundPlayer(config, clock=clock, poll_s=None) as player:
        player.apply(SoundCue("loop", "ambient"))
        with caplog.at_level(logging.WARNING, logger="exhibit.cues.sound.player"):
            assert not player.apply(SoundCue("play", "chime"))
            assert not player.apply(SoundCue("play", "chime"))
        stats = player.stats()
        assert (stats.played, stats.dropped, stats.skipped) == (1, 2, 0)
        assert [r.getMessage() for r in caplog.records] == [
            "no free channel for 'chime' (all 1 busy); 1 sound(s) dropped; raise [audio] "
            "channels if this is common"
        ]
        assert [v.sound for v in player.voices()] == ["ambient"]  # the loop was not stolen


def test_a_missing_audio_device_is_one_warning_and_counted_no_op_cues(
    media: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no_such_driver")
    with caplog.at_level(logging.WARNING, logger="exhibit.cues.sound.player"):
        player = SoundPlayer(sounds_config(media), poll_s=0.01)
        for _ in range(3):
            assert player.apply(SoundCue("play", "chime")) is False
        player.update()
        assert player.voices() == []
        player.close()
    assert not player.available
    stats = player.stats()
    assert (stats.available, stats.played, stats.skipped) == (False, 0, 3)
    assert stats.last_error is not None and "no_such_driver" in stats.last_error
    assert len(caplog.records) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("sound is off: the audio device cannot be opened: ")
    )


def test_a_sound_that_cannot_be_loaded_any_more_is_skipped(
    media: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = sounds_config(media)
    (media / "sounds" / "chime.wav").unlink()  # gone between the check and the start
    with caplog.at_level(logging.WARNING, logger="exhibit.cues.sound.player"):
        player = SoundPlayer(config, clock=clock, poll_s=None)
    with player:
        assert "sound 'chime'" in caplog.text
        assert not player.apply(SoundCue("play", "chime"))
        assert player.apply(SoundCue("play", "night"))
        stats = player.stats()
        assert (stats.played, stats.skipped) == (1, 1)


def test_the_update_thread_steps_fades_on_its_own(media: Path) -> None:
    with SoundPlayer(sounds_config(media), poll_s=0.01) as player:
        player.apply(SoundCue("fade_in", "night", fade_ms=150))
        channel = channel_of(player, "night")
        assert wait_until(lambda: channel.get_volume() == 1.0, timeout_s=2.0)
    assert not pygame.mixer.get_init()  # the player opened the mixer, so it closed it


def test_sound_sink_plays_sound_cues_and_ignores_the_rest(
    player: SoundPlayer, caplog: pytest.LogCaptureFixture
) -> None:
    sink = SoundSink(player)
    sink.handle(cue_event(1.0, SoundCue("loop", "ambient", name="ambient_loop").to_cue()))
    sink.handle(cue_event(1.0, Cue("sound", "/sound/play", ("chime", 0.8))))  # OSC: not ours
    sink.handle(Event(1.0, "gesture", "wave", {"visitor": 1}))
    with caplog.at_level(logging.WARNING, logger="exhibit.cues.sound.player"):
        sink.handle(cue_event(1.0, Cue("sound:chime", "/blast", ())))
    assert [v.sound for v in player.voices()] == ["ambient"]
    assert sink.malformed == 1
    assert "malformed sound cue" in caplog.text
    sink.close()
    assert not pygame.mixer.get_init()
    assert sink.player.apply(SoundCue("play", "chime")) is False  # closed: counted, no raise


# -- the demo's sounds ----------------------------------------------------------------------


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_demo_sounds", ROOT / "tools" / "make_demo_sounds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_sound_generator_is_deterministic_and_matches_the_committed_files(
    tmp_path: Path,
) -> None:
    generator = load_generator()
    first = generator.generate(tmp_path / "a")
    second = generator.generate(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    committed = sorted((DEMO_DIR / "sounds").iterdir())
    assert [p.name for p in committed] == sorted(p.name for p in first)
    for path in first:
        assert (DEMO_DIR / "sounds" / path.name).read_bytes() == path.read_bytes(), (
            f"{path.name} differs from what tools/make_demo_sounds.py writes: run it again"
        )
    assert sum(p.stat().st_size for p in committed) < 600_000


def test_ambient_pad_loops_without_a_seam() -> None:
    generator = load_generator()
    pad = generator.ambient()
    steps = np.abs(np.diff(pad))
    assert abs(pad[-1] - pad[0]) <= steps.max()  # the wrap is no bigger than any other step
    assert np.max(np.abs(pad)) == pytest.approx(0.45)
    # every component completes whole cycles in the loop, so the spectrum over exactly one
    # loop has no leakage: a few hundred bins hold all the energy (a seam would smear it)
    power = np.sort(np.abs(np.fft.rfft(pad)) ** 2)[::-1]
    assert power[:300].sum() / power.sum() > 0.99999
