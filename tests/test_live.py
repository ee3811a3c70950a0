"""Between frames in a running exhibit: a config replaced on disk (broken, then good) and
commands from another controller over real OSC packets."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from exhibit.config.load import load
from exhibit.events import Event
from exhibit.live import LiveControls
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.skeleton import Frame
from tests.peers import free_udp_port

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"


class Clock:
    def __init__(self) -> None:
        self.t_s = 0.0

    def __call__(self) -> float:
        return self.t_s


def demo_copy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "exhibit.toml"
    path.write_text(DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8") + extra)
    if not (tmp_path / "sounds").exists():
        (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    return path


def rewrite(path: Path, text: str, mtime_s: float) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime_s, mtime_s))


def frames() -> list[Frame]:
    return list(read_recording(DEMO_DIR / "visitor.jsonl").frames())


def test_a_broken_config_is_rejected_and_a_good_one_swapped_in(tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    good_text = path.read_text(encoding="utf-8")
    clock = Clock()
    live = LiveControls(path, load(path), clock=clock, check_every_s=1.0)
    pipeline = Pipeline(live.config)
    events: list[Event] = []
    for frame in frames():
        clock.t_s = frame.t_s
        if frame.index == 300:  # 10 s: explaining; the file is replaced by a broken one
            rewrite(path, good_text.replace('initial = "attract"', 'initial = "atract"'), 1e9)
        if frame.index == 420:  # 14 s: fixed, with a new title for the goodbye
            new = good_text.replace("Thank you for visiting!", "See you soon!")
            rewrite(path, new, 1e9 + 10)
        pipeline, more = live(pipeline)
        events += more + pipeline.step(frame)
    assert (live.rejected, live.reloads) == (1, 1)
    states = [e.name for e in events if e.kind == "state"]
    # The visit carried on through both: no restart at "attract" when the config changed.
    assert states == ["attract", "welcome", "explain", "explain_detail", "goodbye", "attract"]
    titles = [e.data["args"][0] for e in events if e.kind == "cue" and e.name == "title_thanks"]
    assert titles == ["See you soon!"]


def test_reload_on_request_even_without_a_new_mtime(tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    clock = Clock()
    live = LiveControls(path, load(path), clock=clock, check_every_s=3600.0)
    pipeline = Pipeline(live.config)
    live.request_reload()  # what SIGHUP does
    pipeline, _ = live(pipeline)
    assert live.reloads == 1


def test_control_commands_arrive_between_frames(tmp_path: Path) -> None:
    port = free_udp_port()
    extra = f'\n[control]\nenabled = true\nlisten = "127.0.0.1:{port}"\n'
    path = demo_copy(tmp_path, extra)
    live = LiveControls(path, load(path))
    client = SimpleUDPClient("127.0.0.1", port)
    try:
        pipeline = Pipeline(live.config)
        recorded = frames()
        events = pipeline.step(recorded[0])
        client.send_message("/exhibit/goto", "goodbye")
        deadline = time.monotonic() + 5.0
        got: list[Event] = []
        while not got and time.monotonic() < deadline:
            pipeline, got = live(pipeline)
            time.sleep(0.01)
        events += got
        assert [(e.kind, e.name) for e in got[:2]] == [("control", "goto"), ("state", "goodbye")]
        client.send_message("/exhibit/pause", [])
        deadline = time.monotonic() + 5.0
        while not pipeline.show.paused and time.monotonic() < deadline:
            pipeline, _ = live(pipeline)
            time.sleep(0.01)
        assert pipeline.show.paused
        # Paused: the goodbye's 30 s timer does not fire.
        for frame in recorded[1:]:
            events += pipeline.step(frame)
        assert [e.name for e in events if e.kind == "state"][-1] == "goodbye"
    finally:
        live.close()
        client._sock.close()


@pytest.mark.parametrize("kind", ["reset"])
def test_reset_goes_back_to_the_initial_state(kind: str) -> None:
    pipeline = Pipeline(load(DEMO_DIR / "exhibit.toml"))
    recorded = frames()
    for frame in recorded[:300]:
        pipeline.step(frame)
    assert pipeline.show.state != "attract"
    events = pipeline.control(kind)
    assert [e.name for e in events if e.kind == "state"] == ["attract"]


def test_exhibit_status_asks_the_running_exhibit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from exhibit.cli import main
    from exhibit.live import CueSinks

    port = free_udp_port()
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{free_udp_port()}")
    text = text.replace("udp://127.0.0.1:9001", f"udp://127.0.0.1:{free_udp_port()}")
    path = tmp_path / "exhibit.toml"
    path.write_text(text + f'\n[control]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    config = load(path)
    cues = CueSinks(config, make=lambda c: [])
    live = LiveControls(path, config, cues)
    try:
        pipeline = Pipeline(config)
        for frame in frames()[:300]:
            pipeline, _ = live(pipeline)
            pipeline.step(frame)
        assert main(["status", str(path)]) == 0
    finally:
        live.close()
        cues.close()
    out = capsys.readouterr().out
    assert f"state      {pipeline.show.state}" in out
    assert "frames     300" in out
    assert "targets" in out and "cpu_temp_c" in out


def test_a_reload_keeps_lights_and_sound_working(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hot reload swaps the cue sinks: the new GPIO outputs get their pins and the new sound
    player its mixer (built before the old were closed, both were lost until a restart)."""
    import pygame
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from exhibit.config.load import loads
    from exhibit.cues.gpio_out import OutputSink
    from exhibit.cues.sound.player import SoundSink
    from exhibit.live import CueSinks

    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.setattr(Device, "pin_factory", MockFactory())
    base = Path(__file__).resolve().parent.parent / "media" / "demo"
    text = (base / "exhibit.toml").read_text(encoding="utf-8") + (
        '\n[outputs.spot]\ntype = "led"\npin = 18\n'
    )
    cues = CueSinks(loads(text, base_dir=base))
    try:
        cues.replace(loads(text, base_dir=base))  # what a hot reload does
        bank = next(s for s in cues._sinks if isinstance(s, OutputSink)).bank
        assert bank.stats()["spot"].open, bank.stats()["spot"].last_error
        assert any(isinstance(s, SoundSink) for s in cues._sinks)
        assert pygame.mixer.get_init() is not None
    finally:
        cues.close()


def test_goto_follows_a_reload_that_adds_a_state(tmp_path: Path) -> None:
    """``/exhibit/goto`` checks the state against the config running now, not the first one."""
    port = free_udp_port()
    extra = f'\n[control]\nenabled = true\nlisten = "127.0.0.1:{port}"\n'
    path = demo_copy(tmp_path, extra)
    live = LiveControls(path, load(path), check_every_s=3600.0)
    client = SimpleUDPClient("127.0.0.1", port)
    try:
        pipeline = Pipeline(live.config)
        pipeline.step(frames()[0])
        rewrite(path, path.read_text(encoding="utf-8") + "\n[show.states.intermission]\n", 1e9)
        live.request_reload()
        pipeline, _ = live(pipeline)
        assert live.reloads == 1
        client.send_message("/exhibit/goto", "intermission")
        deadline = time.monotonic() + 5.0
        while pipeline.show.state != "intermission" and time.monotonic() < deadline:
            pipeline, _ = live(pipeline)
            time.sleep(0.01)
        assert pipeline.show.state == "intermission"
    finally:
        live.close()
        client._sock.close()
