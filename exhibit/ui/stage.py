"""``exhibit stage PORT``: a window that stands in for the projector, driven by OSC cues.

It listens for OSC on a UDP port and shows what the cues name, so a designer sees the show
without the media server:

=============================  ==============================================================
``/scene NAME``                full-window background: ``NAME.png`` from the images folder
                               (``media/demo/stage/`` by default), else a colour and pattern
                               made from the name; ``/scene off`` is a black screen
``/title TEXT ...``            a title (all arguments joined by spaces; no argument clears it)
``/level NAME``                the narration level as a badge (``overview``, ``detail``,
                               ``deep_dive``; any other name in grey)
``/engagement VALUE``          a bar, 0..1 (clamped)
``/.../JOINT x y [z]``         a glowing dot and a fading trail where the joint is (normalized
                               image coordinates, as the joint stream sends them); any address
                               whose last part is a MediaPipe landmark name, e.g.
                               ``/exhibit/visitor/right_wrist``
=============================  ==============================================================

Every message received is also listed in a small log (the same layout as ``exhibit monitor``
without the port). Messages the stage does not draw are logged and otherwise ignored.

The state is a plain :class:`StageState` that :meth:`StageState.apply` updates (no window
needed); :func:`render` draws it on any surface; :func:`run_stage` ties them to a UDP listener
(python-osc, on its own thread, handing over through a bounded queue) and a pygame window.

Example:
    >>> state = StageState()
    >>> state.apply("/scene", ["welcome"])
    True
    >>> state.apply("/exhibit/visitor/right_wrist", [0.4, 0.3, 0.0])
    True
    >>> state.scene, state.joints["right_wrist"][-1][:2]
    ('welcome', (0.4, 0.3))
"""

from __future__ import annotations

import json
import math
import queue
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pygame
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_packet import OscPacket, ParseError
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.parsing import osc_types

from exhibit.errors import CueError
from exhibit.skeleton import LANDMARK_INDEX
from exhibit.ui.draw import (
    MUTED,
    TEXT,
    Colour,
    Fonts,
    draw_lines,
    draw_panel,
    draw_text,
    name_colour,
    shade,
    wrap_text,
)

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "media" / "demo" / "stage"
DEFAULT_SIZE = (960, 540)

LEVEL_COLOURS: dict[str, Colour] = {
    "overview": (46, 170, 90),
    "detail": (235, 150, 30),
    "deep_dive": (150, 80, 230),
}
UNKNOWN_LEVEL_COLOUR: Colour = (120, 124, 132)
ENGAGEMENT_COLOUR: Colour = (90, 200, 255)
JOINT_COLOUR: Colour = (255, 255, 255)
JOINT_GLOW: Colour = (120, 220, 255)
OFF_COLOUR: Colour = (0, 0, 0)

LOG_LINES = 12
"""Messages kept for the log area (older ones are dropped)."""
TRAIL_POINTS = 24
"""Positions kept per joint for its trail."""
TRAIL_S = 1.5
"""A trail point fades out over this many seconds."""
JOINT_HOLD_S = 3.0
"""The joint's dot stays this long after its last message (the stream stops when the visitor
leaves), then fades over ``TRAIL_S``."""
QUEUE_SIZE = 1024
"""Messages waiting between the UDP thread and the window; more are dropped and counted."""

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

OscValue = Any
Message = tuple[str, tuple[OscValue, ...]]


def _format_arg(arg: OscValue) -> str:
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if isinstance(arg, str):
        return json.dumps(arg, ensure_ascii=False)
    if isinstance(arg, float):
        return f"{arg:.4g}"
    if arg is None:
        return "nil"
    if isinstance(arg, bytes):
        return f"<blob {len(arg)} bytes>"
    return str(arg)


def format_line(address: str, args: Sequence[OscValue]) -> str:
    """One log line: ``/scene "welcome"``, ``/exhibit/visitor/right_wrist 0.41 0.3 0``."""
    return " ".join([address, *(_format_arg(a) for a in args)])


def _number(arg: OscValue) -> float | None:
    if isinstance(arg, bool) or not isinstance(arg, int | float):
        return None
    value = float(arg)
    return value if math.isfinite(value) else None


@dataclass
class StageState:
    """What the stage shows, updated by OSC messages; ``now_s`` is the stage's clock (seconds
    since it started), used to fade joint trails.

    Example:
        >>> s = StageState()
        >>> s.apply("/level", ["detail"]), s.level
        (True, 'detail')
        >>> s.apply("/engagement", [1.7]), s.engagement
        (True, 1.0)
        >>> s.apply("/sound/play", ["chime", 0.8]), s.log[-1]
        (False, '/sound/play "chime" 0.8')
    """

    scene: str | None = None
    title: str = ""
    level: str | None = None
    engagement: float | None = None
    joints: dict[str, deque[tuple[float, float, float]]] = field(default_factory=dict)
    """Per landmark name: recent (x, y, t_s received), oldest first."""
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    received: int = 0
    ignored: int = 0
    dropped: int = 0
    unreadable: int = 0
    now_s: float = 0.0
    source: str = ""
    """Where the messages come from, for the status line (``udp 127.0.0.1:9000``)."""
    show_log: bool = True

    def advance(self, t_s: float) -> None:
        """Move the stage's clock to ``t_s`` (never backwards)."""
        self.now_s = max(self.now_s, t_s)

    def apply(self, address: str, args: Sequence[OscValue], t_s: float | None = None) -> bool:
        """Take one OSC message; True if the stage draws something for it. Every message is
        logged; a malformed one (``/scene`` without a name) is logged with ``(ignored)``."""
        if t_s is not None:
            self.advance(t_s)
        self.received += 1
        line = format_line(address, args)
        handled = self._handle(address, tuple(args))
        if not handled:
            self.ignored += 1
        self.log.append(line)
        return handled

    def _handle(self, address: str, args: tuple[OscValue, ...]) -> bool:
        if address == "/scene":
            if len(args) >= 1 and isinstance(args[0], str) and args[0]:
                self.scene = args[0]
                return True
            return False
        if address == "/title":
            self.title = " ".join(_format_arg(a) if not isinstance(a, str) else a for a in args)
            return True
        if address == "/level":
            if len(args) >= 1 and isinstance(args[0], str) and args[0]:
                self.level = args[0]
                return True
            return False
        if address == "/engagement":
            value = _number(args[0]) if args else None
            if value is None:
                return False
            self.engagement = min(1.0, max(0.0, value))
            return True
        joint = address.rsplit("/", 1)[-1]
        if joint in LANDMARK_INDEX and address.startswith("/") and len(args) in (2, 3):
            x, y = _number(args[0]), _number(args[1])
            if x is None or y is None:
                return False
            trail = self.joints.setdefault(joint, deque(maxlen=TRAIL_POINTS))
            trail.append((x, y, self.now_s))
            return True
        return False


@dataclass(frozen=True)
class StageLayout:
    """Where each part of the stage is drawn for a window size (tests look here too)."""

    size: tuple[int, int]
    status: pygame.Rect
    title: pygame.Rect
    badge: pygame.Rect
    bar: pygame.Rect
    log: pygame.Rect


def stage_layout(size: tuple[int, int]) -> StageLayout:
    """The layout for a window of ``size`` pixels; everything scales with it.

    Example:
        >>> stage_layout((960, 540)).badge.right <= 960
        True
    """
    w, h = size
    m = max(4, round(h * 0.03))
    badge = pygame.Rect(0, 0, round(w * 0.18), round(h * 0.065))
    badge.topright = (w - m, m)
    status = pygame.Rect(m, m, badge.left - 2 * m, round(h * 0.045))
    title = pygame.Rect(round(w * 0.08), round(h * 0.14), round(w * 0.84), round(h * 0.2))
    bar = pygame.Rect(m, h - m - round(h * 0.035), round(w * 0.3), round(h * 0.035))
    log = pygame.Rect(round(w * 0.52), round(h * 0.6), w - round(w * 0.52) - m, 0)
    log.height = h - m - log.top
    return StageLayout(size, status, title, badge, bar, log)


class StageAssets:
    """Fonts and backgrounds for one window: scene images loaded from ``images`` (scaled to the
    window, once per size), generated backgrounds for scenes without one.

    Only names of letters, digits, ``_``, ``-`` and ``.`` are looked up as files, so a cue
    cannot point the stage at a path outside the folder.
    """

    def __init__(self, images: Path | None = DEFAULT_IMAGES) -> None:
        self.fonts = Fonts()
        self.images = images
        self._backgrounds: dict[tuple[str, tuple[int, int]], pygame.Surface] = {}
        self.problems: list[str] = []

    def image_path(self, scene: str) -> Path | None:
        """The PNG that shows ``scene``, if there is one."""
        if self.images is None or not _SAFE_NAME.match(scene) or scene.startswith("."):
            return None
        path = self.images / f"{scene}.png"
        return path if path.is_file() else None

    def background(self, scene: str, size: tuple[int, int]) -> pygame.Surface:
        key = (scene, size)
        surface = self._backgrounds.get(key)
        if surface is None:
            surface = self._load(scene, size) or self._generate(scene, size)
            if len(self._backgrounds) > 64:
                self._backgrounds.clear()
            self._backgrounds[key] = surface
        return surface

    def _load(self, scene: str, size: tuple[int, int]) -> pygame.Surface | None:
        path = self.image_path(scene)
        if path is None:
            return None
        try:
            image = pygame.image.load(str(path))
        except (pygame.error, OSError) as exc:
            self.problems.append(f"{path}: cannot be loaded ({exc})")
            return None
        if image.get_size() == size:
            return image
        try:
            return pygame.transform.smoothscale(image, size)
        except ValueError:  # smoothscale takes 24- and 32-bit images only
            return pygame.transform.scale(image, size)

    def _generate(self, scene: str, size: tuple[int, int]) -> pygame.Surface:
        """A vertical gradient in the scene's own colour, diagonal stripes, and its name."""
        w, h = size
        surface = pygame.Surface(size)
        base = name_colour(scene, saturation=0.6, value=0.6)
        top, bottom = shade(base, 0.9), shade(base, 0.25)
        for y in range(h):
            k = y / max(1, h - 1)
            colour = tuple(round(a + (b - a) * k) for a, b in zip(top, bottom, strict=True))
            pygame.draw.line(surface, colour, (0, y), (w, y))
        stripes = pygame.Surface(size, pygame.SRCALPHA)
        step = max(12, h // 12)
        for x in range(-h, w, step):
            pygame.draw.line(stripes, (255, 255, 255, 18), (x, h), (x + h, 0), max(2, step // 3))
        surface.blit(stripes, (0, 0))
        font = self.fonts.get(round(h * 0.16))
        draw_text(
            surface, font, scene, (w // 2, round(h * 0.55)), shade(base, 1.35), anchor="center"
        )
        return surface


def _draw_joints(surface: pygame.Surface, state: StageState) -> None:
    """Each joint's trail and glowing dot, drawn on one translucent layer; only the part of the
    layer that was drawn on is blended (a full-HD blend per frame is slow on a Pi)."""
    w, h = surface.get_size()
    radius = max(4, round(h * 0.018))
    glow: pygame.Surface | None = None
    drawn: list[pygame.Rect] = []

    def circle(colour: tuple[int, int, int, int], centre: tuple[int, int], r: int) -> None:
        nonlocal glow
        if glow is None:
            glow = pygame.Surface((w, h), pygame.SRCALPHA)
        drawn.append(pygame.draw.circle(glow, colour, centre, r))

    for trail in state.joints.values():
        if not trail:
            continue
        for x, y, t in trail:
            age = state.now_s - t
            if age > TRAIL_S:
                continue
            alpha = round(160 * (1.0 - age / TRAIL_S))
            circle((*JOINT_GLOW, alpha), (round(x * w), round(y * h)), round(radius * 0.8))
        x, y, t = trail[-1]
        age = state.now_s - t
        fade = 1.0 if age <= JOINT_HOLD_S else 1.0 - (age - JOINT_HOLD_S) / TRAIL_S
        if fade <= 0.0:
            continue
        centre = (round(x * w), round(y * h))
        for k, a in ((3.0, 40), (2.0, 70)):
            circle((*JOINT_GLOW, round(a * fade)), centre, round(radius * k))
        circle((*JOINT_COLOUR, round(255 * fade)), centre, radius)
    if glow is not None and drawn:
        area = drawn[0].unionall(drawn[1:])
        surface.blit(glow, area.topleft, area)


def render(state: StageState, surface: pygame.Surface, assets: StageAssets | None = None) -> None:
    """Draw ``state`` on ``surface`` (the window, or any surface: tests use an off-screen one).
    ``assets`` caches fonts and backgrounds between frames; one is made when it is None."""
    assets = assets or StageAssets()
    size = surface.get_size()
    w, h = size
    layout = stage_layout(size)
    fonts = assets.fonts

    if state.scene is None:
        surface.fill((20, 22, 28))
        draw_text(
            surface,
            fonts.get(round(h * 0.05)),
            "waiting for /scene ...",
            (w // 2, h // 2),
            MUTED,
            anchor="center",
        )
    elif state.scene == "off":
        surface.fill(OFF_COLOUR)
    else:
        surface.blit(assets.background(state.scene, size), (0, 0))

    if state.title:
        font = fonts.get(round(h * 0.075))
        lines = wrap_text(font, state.title, layout.title.width - 24)[:2]
        step = font.get_linesize()
        box = pygame.Rect(0, 0, layout.title.width, step * len(lines) + 20)
        box.midtop = layout.title.midtop
        draw_panel(surface, box, 120)
        for i, line in enumerate(lines):
            centre = (box.centerx, box.top + 10 + step * i + step // 2)
            draw_text(surface, font, line, centre, TEXT, anchor="center")

    _draw_joints(surface, state)

    if state.level is not None:
        colour = LEVEL_COLOURS.get(state.level, UNKNOWN_LEVEL_COLOUR)
        radius = layout.badge.height // 2
        pygame.draw.rect(surface, colour, layout.badge, border_radius=radius)
        font = fonts.get(round(layout.badge.height * 0.6))
        label = state.level.replace("_", " ")
        draw_text(
            surface,
            font,
            label,
            layout.badge.center,
            TEXT,
            anchor="center",
            max_width_px=layout.badge.width - radius,
        )

    if state.engagement is not None:
        bar = layout.bar
        draw_panel(surface, bar.inflate(8, 8), 150)
        filled = bar.copy()
        filled.width = round(bar.width * state.engagement)
        if filled.width > 0:
            pygame.draw.rect(surface, ENGAGEMENT_COLOUR, filled)
        pygame.draw.rect(surface, TEXT, bar, 1)
        label = f"engagement {state.engagement:.2f}"
        draw_text(
            surface,
            fonts.get(round(h * 0.032)),
            label,
            (bar.left, bar.top - 6),
            TEXT,
            anchor="bottomleft",
        )

    status_font = fonts.get(round(h * 0.032))
    status = f"{state.source}  {state.received} msgs" if state.source else f"{state.received} msgs"
    if state.scene is not None:
        status += f"  scene {state.scene}"
    if state.dropped or state.unreadable:
        status += f"  ({state.dropped} dropped, {state.unreadable} unreadable)"
    draw_panel(surface, layout.status, 110)
    draw_text(
        surface,
        status_font,
        status,
        (layout.status.left + 6, layout.status.centery),
        MUTED,
        anchor="midleft",
        max_width_px=layout.status.width - 12,
    )

    if state.show_log and state.log:
        draw_panel(surface, layout.log, 140)
        draw_lines(surface, fonts.get(round(h * 0.03)), state.log, layout.log, TEXT)


class _QueueingDispatcher(Dispatcher):
    """Puts every message of every packet (bundles included, at once) on a bounded queue."""

    def __init__(self, inbox: OscInbox) -> None:
        super().__init__(strict_timing=False)
        self._inbox = inbox

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list[Any]:
        try:
            packet = OscPacket(data)
        except (ParseError, osc_types.ParseError):
            self._inbox.unreadable += 1
            return []
        for timed in packet.messages:
            message = timed.message
            try:
                self._inbox.queue.put_nowait((message.address, tuple(message.params)))
            except queue.Full:
                self._inbox.dropped += 1
        return []


class OscInbox:
    """OSC over UDP received on its own thread; :meth:`drain` hands the messages over.

    Binding happens in the constructor (``CueError`` naming host and port if it fails);
    ``port=0`` takes any free port (``self.port`` says which). The queue is bounded: when the
    window falls behind, new messages are dropped and counted (``dropped``).

    Example:
        >>> inbox = OscInbox("127.0.0.1", 0)
        >>> inbox.port > 0, inbox.drain()
        (True, [])
        >>> inbox.close()
    """

    def __init__(self, host: str, port: int, maxsize: int = QUEUE_SIZE) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise CueError(f"stage port must be 0..65535 (got {port!r})")
        self.host = host
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self.unreadable = 0
        try:
            self._server = BlockingOSCUDPServer((host, port), _QueueingDispatcher(self))
        except OSError as exc:
            raise CueError(f"cannot listen for OSC on {host} port {port}: {exc}") from exc
        self.port: int = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"stage-osc-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def drain(self) -> list[Message]:
        """Every message received since the last call, oldest first."""
        messages: list[Message] = []
        while True:
            try:
                messages.append(self.queue.get_nowait())
            except queue.Empty:
                return messages

    def close(self) -> None:
        """Stop the thread and free the port."""
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def _open_window(size: tuple[int, int], fullscreen: bool, caption: str) -> pygame.Surface:
    pygame.display.init()
    if fullscreen:
        screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        screen = pygame.display.set_mode(size)
        pygame.mouse.set_visible(True)
    pygame.display.set_caption(caption)
    return screen


def run_stage(
    port: int,
    *,
    host: str = "127.0.0.1",
    size: tuple[int, int] = DEFAULT_SIZE,
    fullscreen: bool = False,
    stop: threading.Event | None = None,
    frames: int | None = None,
    screenshot: Path | None = None,
    images: Path | None = DEFAULT_IMAGES,
    fps: float = 30.0,
    ready: threading.Event | None = None,
    out: TextIO | None = None,
    echo: bool = False,
    err: TextIO | None = None,
) -> int:
    """Open the stage window and show the OSC messages arriving on ``host``:``port`` (UDP).

    Runs until the window is closed (or Esc), ``stop`` is set, or ``frames`` frames have been
    drawn (paced at ``fps``). Then it drains what is left, draws a last frame, saves it as a
    PNG to ``screenshot`` if given, frees the port and closes the window. Keys: Esc or Q close,
    F toggles full screen, L hides/shows the message log.

    Once listening it prints ``stage: listening on HOST port N`` to ``out`` (if given) and sets
    ``ready``. Returns 0, or 2 (with the reason on ``err``) if the port or the window cannot be
    opened.
    Call it from the main thread of its process (pygame draws there); the demo runs it as a
    separate process, like ``exhibit monitor``. Nothing is global: every call has its own
    window, listener and state, and ``pygame.display`` is shut when it returns.
    """
    err = err or sys.stderr
    stop = stop or threading.Event()
    try:
        inbox = OscInbox(host, port)
    except CueError as exc:
        print(f"stage: {exc}", file=err, flush=True)
        return 2
    state = StageState(source=f"udp {host}:{inbox.port}")
    try:
        screen = _open_window(size, fullscreen, f"exhibit stage - udp {host}:{inbox.port}")
        assets = StageAssets(images)
        if out is not None:
            print(
                f"stage: listening on {host} port {inbox.port}; Esc or close the window to stop",
                file=out,
                flush=True,
            )
        if ready is not None:
            ready.set()
        clock = pygame.time.Clock()
        start = time.monotonic()
        drawn = 0
        is_fullscreen = fullscreen

        def update() -> None:
            state.advance(time.monotonic() - start)
            for address, args in inbox.drain():
                state.apply(address, args)
                if echo and out is not None:
                    shown = " ".join(
                        f'"{a}"'
                        if isinstance(a, str)
                        else f"{a:g}"
                        if isinstance(a, float)
                        else str(a)
                        for a in args
                    )
                    print(f"{address} {shown}".rstrip(), file=out, flush=True)
            state.dropped, state.unreadable = inbox.dropped, inbox.unreadable

        while not stop.is_set() and (frames is None or drawn < frames):
            closing = False
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    closing = True
                elif event.type == pygame.KEYDOWN:
                    if event.key in (pygame.K_ESCAPE, pygame.K_q):
                        closing = True
                    elif event.key == pygame.K_f:
                        is_fullscreen = not is_fullscreen
                        screen = _open_window(size, is_fullscreen, pygame.display.get_caption()[0])
                    elif event.key == pygame.K_l:
                        state.show_log = not state.show_log
            if closing:
                break
            update()
            render(state, screen, assets)
            pygame.display.flip()
            drawn += 1
            clock.tick(fps)
        update()
        render(state, screen, assets)
        pygame.display.flip()
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(screen, str(screenshot))
        for problem in assets.problems:
            print(f"stage: {problem}", file=err, flush=True)
    except pygame.error as exc:
        print(f"stage: cannot open a window ({exc})", file=err, flush=True)
        return 2
    finally:
        inbox.close()
        pygame.display.quit()
    return 0
