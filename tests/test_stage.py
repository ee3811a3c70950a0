"""``exhibit stage``: the projector stand-in. State without a window, pixels on an off-screen
surface, and the real thing: OSC over UDP (python-osc's client) into a running stage, with
SDL's dummy video driver."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from exhibit.ui import pygame  # imported quietly
from exhibit.ui.stage import (
    ENGAGEMENT_COLOUR,
    JOINT_COLOUR,
    LEVEL_COLOURS,
    LOG_LINES,
    TRAIL_POINTS,
    UNKNOWN_LEVEL_COLOUR,
    OscInbox,
    StageAssets,
    StageState,
    render,
    run_stage,
    stage_layout,
)
from tests.peers import LOOPBACK, free_udp_port

SIZE = (960, 540)


@pytest.fixture(autouse=True)
def _dummy_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    """No screen, no sound card: SDL's dummy drivers (restored after each test)."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


@pytest.fixture
def assets() -> StageAssets:
    return StageAssets(images=None)


def draw(state: StageState, assets: StageAssets, size: tuple[int, int] = SIZE) -> pygame.Surface:
    surface = pygame.Surface(size)
    render(state, surface, assets)
    return surface


def pixel(surface: pygame.Surface, x: int, y: int) -> tuple[int, int, int]:
    c = surface.get_at((x, y))
    return (c.r, c.g, c.b)


def centroid_of(surface: pygame.Surface, colour: tuple[int, int, int]) -> tuple[float, float]:
    rgb = pygame.surfarray.array3d(surface)  # indexed [x, y]
    xs, ys = np.nonzero(np.all(rgb == np.array(colour), axis=2))
    assert len(xs) > 0, f"no pixel of colour {colour}"
    return float(xs.mean()), float(ys.mean())


# --- state -----------------------------------------------------------------------------------


def test_messages_set_what_the_stage_shows() -> None:
    s = StageState()
    assert s.apply("/scene", ["welcome"])
    assert s.apply("/title", ["Wave", "to", "start"])
    assert s.apply("/level", ["deep_dive"])
    assert s.apply("/engagement", [0.25])
    assert s.apply("/exhibit/visitor/right_wrist", [0.4, 0.3, -0.1], t_s=2.0)
    assert (s.scene, s.title, s.level, s.engagement) == (
        "welcome",
        "Wave to start",
        "deep_dive",
        0.25,
    )
    assert s.joints["right_wrist"][-1] == (0.4, 0.3, 2.0)
    assert s.received == 5 and s.ignored == 0
    assert s.log[0] == '/scene "welcome"'


def test_any_address_ending_in_a_landmark_name_is_a_joint() -> None:
    s = StageState()
    assert s.apply("/show/hands/left_wrist", [0.1, 0.2])
    assert not s.apply("/exhibit/visitor/elbow", [0.1, 0.2, 0.0])
    assert not s.apply("/exhibit/visitor/nose", ["a", "b"])
    assert not s.apply("/exhibit/visitor/nose", [0.5])
    assert set(s.joints) == {"left_wrist"}


def test_malformed_and_unknown_messages_are_logged_and_ignored() -> None:
    s = StageState()
    assert not s.apply("/scene", [])
    assert not s.apply("/level", [3])
    assert not s.apply("/engagement", ["high"])
    assert not s.apply("/engagement", [True])
    assert not s.apply("/sound/play", ["chime", 0.8])
    assert s.scene is None and s.level is None and s.engagement is None
    assert s.ignored == 5 and len(s.log) == 5
    assert s.log[-1] == '/sound/play "chime" 0.8'


def test_engagement_is_clamped_and_title_can_be_cleared() -> None:
    s = StageState()
    s.apply("/engagement", [-3])
    assert s.engagement == 0.0
    s.apply("/engagement", [7.5])
    assert s.engagement == 1.0
    s.apply("/title", ["Hello"])
    s.apply("/title", [])
    assert s.title == ""


def test_log_and_trails_are_bounded() -> None:
    s = StageState()
    for i in range(200):
        s.apply("/exhibit/visitor/nose", [i / 200, 0.5, 0.0])
    assert len(s.log) == LOG_LINES
    assert len(s.joints["nose"]) == TRAIL_POINTS
    assert s.log[-1].startswith("/exhibit/visitor/nose 0.995")


# --- pixels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["overview", "detail", "deep_dive", "encore"])
def test_level_badge_has_the_level_colour(level: str, assets: StageAssets) -> None:
    badge = stage_layout(SIZE).badge
    inside = (badge.left + badge.height // 2, badge.centery)
    before = draw(StageState(), assets)
    s = StageState()
    s.apply("/level", [level])
    after = draw(s, assets)
    expected = LEVEL_COLOURS.get(level, UNKNOWN_LEVEL_COLOUR)
    assert pixel(after, *inside) == expected
    assert pixel(before, *inside) != expected


def test_dot_is_drawn_at_the_joint_position(assets: StageAssets) -> None:
    s = StageState()
    s.apply("/exhibit/visitor/right_wrist", [0.3, 0.7, 0.0], t_s=1.0)
    surface = draw(s, assets)
    cx, cy = centroid_of(surface, JOINT_COLOUR)
    assert abs(cx - 0.3 * SIZE[0]) <= 2 and abs(cy - 0.7 * SIZE[1]) <= 2


def test_dot_fades_out_after_the_stream_stops(assets: StageAssets) -> None:
    s = StageState()
    s.apply("/exhibit/visitor/right_wrist", [0.3, 0.7, 0.0], t_s=1.0)
    s.advance(10.0)
    surface = draw(s, assets)
    assert pixel(surface, round(0.3 * SIZE[0]), round(0.7 * SIZE[1])) != JOINT_COLOUR


def test_title_text_is_drawn_in_the_title_box(assets: StageAssets) -> None:
    box = stage_layout(SIZE).title
    s = StageState()
    without = pygame.surfarray.array3d(draw(s, assets).subsurface(box))
    s.apply("/title", ["Wave to look inside a cell"])
    with_title = pygame.surfarray.array3d(draw(s, assets).subsurface(box))
    # antialiased text: count pixels clearly brighter than the dark box behind it
    bright = int(np.sum(with_title.min(axis=2) > 180))
    assert bright > 300
    assert int(np.sum(without.min(axis=2) > 180)) == 0


def test_engagement_bar_fills_to_the_value(assets: StageAssets) -> None:
    bar = stage_layout(SIZE).bar
    s = StageState()
    s.apply("/engagement", [0.5])
    surface = draw(s, assets)
    assert pixel(surface, bar.left + bar.width // 4, bar.centery) == ENGAGEMENT_COLOUR
    assert pixel(surface, bar.left + 3 * bar.width // 4, bar.centery) != ENGAGEMENT_COLOUR


def test_scene_image_from_the_images_folder(tmp_path: Path) -> None:
    image = pygame.Surface((64, 36))
    image.fill((200, 30, 40))
    pygame.image.save(image, str(tmp_path / "red.png"))
    assets = StageAssets(images=tmp_path)
    s = StageState()
    s.apply("/scene", ["red"])
    probe = (SIZE[0] // 2, round(SIZE[1] * 0.45))
    assert pixel(draw(s, assets), *probe) == (200, 30, 40)
    s.apply("/scene", ["blue"])  # no blue.png: a generated background, not the red image
    assert pixel(draw(s, assets), *probe) != (200, 30, 40)
    s.apply("/scene", ["off"])
    assert pixel(draw(s, assets), *probe) == (0, 0, 0)


def test_scene_names_cannot_reach_outside_the_images_folder(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    pygame.image.save(pygame.Surface((4, 4)), str(tmp_path / "secret.png"))
    assets = StageAssets(images=tmp_path / "inside")
    assert assets.image_path("../secret") is None
    assert assets.image_path("/etc/passwd") is None


def test_demo_scenes_have_images() -> None:
    assets = StageAssets()
    for scene in ("attract", "welcome", "explain", "mitosis"):
        assert assets.image_path(scene) is not None, scene
    folder = assets.images
    assert folder is not None
    assert sum(p.stat().st_size for p in folder.glob("*.png")) < 300_000


# --- OSC over UDP ----------------------------------------------------------------------------


@pytest.fixture
def inbox() -> Iterator[OscInbox]:
    box = OscInbox(LOOPBACK, 0, maxsize=3)
    try:
        yield box
    finally:
        box.close()


def wait_until(condition: object, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    assert callable(condition)
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_inbox_hands_over_bundles_and_drops_what_does_not_fit(inbox: OscInbox) -> None:
    with contextlib.closing(SimpleUDPClient(LOOPBACK, inbox.port)) as client:
        send_test_packets(client, inbox.port)
    wait_until(lambda: inbox.queue.qsize() + inbox.dropped >= 5 and inbox.unreadable == 1)
    got = inbox.drain()
    assert got[:2] == [("/scene", ("a",)), ("/scene", ("b",))]
    assert len(got) == 3 and inbox.dropped == 2 and inbox.unreadable == 1


def send_test_packets(client: SimpleUDPClient, port: int) -> None:
    """A bundle of two messages, three messages, and a truncated message (an int tag
    without its four bytes)."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    for name in ("a", "b"):
        msg = OscMessageBuilder("/scene")
        msg.add_arg(name)
        bundle.add_content(msg.build())
    client.send(bundle.build())
    for i in range(3):
        client.send_message("/engagement", i / 10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.sendto(b"/x\x00\x00,i\x00\x00", (LOOPBACK, port))


def run_with_sender(
    port: int, send: object, *, screenshot: Path, frames: int = 300
) -> tuple[int, list[BaseException]]:
    """Run the stage in this (main) thread while ``send(client)`` runs on another once the
    stage listens; the sender sets ``stop`` when it is done (or fails)."""
    stop, ready = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def sender() -> None:
        try:
            assert ready.wait(10.0), "the stage did not start listening"
            assert callable(send)
            with contextlib.closing(SimpleUDPClient(LOOPBACK, port)) as client:
                send(client)
            time.sleep(0.3)  # let the listener thread hand them over
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=sender)
    thread.start()
    code = run_stage(
        port,
        host=LOOPBACK,
        size=SIZE,
        stop=stop,
        frames=frames,
        screenshot=screenshot,
        ready=ready,
    )
    thread.join(5.0)
    return code, failures


def test_stage_shows_osc_cues_sent_over_udp(tmp_path: Path) -> None:
    port = free_udp_port()
    shot = tmp_path / "stage.png"

    def send(client: SimpleUDPClient) -> None:
        client.send_message("/scene", "welcome")
        client.send_message("/title", "Wave to look inside a cell")
        client.send_message("/level", "detail")
        client.send_message("/engagement", 0.75)
        client.send_message("/exhibit/visitor/right_wrist", [0.3, 0.55, 0.0])

    code, failures = run_with_sender(port, send, screenshot=shot)
    assert not failures, failures
    assert code == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == SIZE
    layout = stage_layout(SIZE)
    badge = layout.badge
    assert pixel(image, badge.left + badge.height // 2, badge.centery) == LEVEL_COLOURS["detail"]
    bar = layout.bar
    assert pixel(image, bar.left + bar.width // 2, bar.centery) == ENGAGEMENT_COLOUR
    cx, cy = centroid_of(image, JOINT_COLOUR)
    assert abs(cx - 0.3 * SIZE[0]) <= 2 and abs(cy - 0.55 * SIZE[1]) <= 2
    # the port is free again once the stage has returned
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind((LOOPBACK, port))


def test_stage_renders_n_frames_and_saves_a_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "deep" / "frame.png"
    started = time.monotonic()
    code = run_stage(0, host=LOOPBACK, size=(320, 180), frames=3, screenshot=shot)
    assert code == 0
    assert time.monotonic() - started < 5.0
    assert pygame.image.load(str(shot)).get_size() == (320, 180)


def test_stage_reports_a_port_it_cannot_open(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind((LOOPBACK, 0))
        port = squatter.getsockname()[1]
        code = run_stage(port, host=LOOPBACK, frames=1)
    assert code == 2
    assert f"port {port}" in capsys.readouterr().err


def test_stage_prints_where_it_listens(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    port = free_udp_port()
    assert run_stage(port, host=LOOPBACK, size=(160, 90), frames=1, out=sys.stdout) == 0
    assert f"stage: listening on {LOOPBACK} port {port}" in capsys.readouterr().out
