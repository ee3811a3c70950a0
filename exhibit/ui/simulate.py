"""``exhibit simulate CONFIG``: try a mapping with no hardware, in a window.

The real :class:`~exhibit.pipeline.Pipeline` runs on frames from a recording (``.jsonl``) or
from a visitor the designer drives with the keyboard and mouse (the parametric body of
:mod:`exhibit.synth`); the window shows the skeleton (33 landmarks and bones), the presence
interaction area from the config, the show's current state, the recent gestures and the cues
the pipeline emitted. Frames are paced by a ``pygame.time.Clock`` at the camera's fps.

Keys (they act on the keyboard visitor; while a recording plays, its frames win and the
keyboard visitor takes over when it ends):

=========  ===============================================================================
E          a visitor enters (standing, facing the camera) / leaves
W          wave (right hand)           H  both hands up        U  right hand up
T          T-pose                      A / D  swipe left / right (the visitor's own)
L / R      lean left / right           C  crouch               J  jump
arrows     step left / right, closer / farther (0.1 m a press; hold to repeat)
mouse      hold the left button in the camera view: the right hand follows the pointer
P          pause / resume              Esc or Q  quit
=========  ===============================================================================

Logic and drawing are apart: :class:`SimState` holds what the window shows, :func:`press` and
:func:`step` change it (no window needed), :func:`render` draws it on any surface.

Example:
    >>> from exhibit.config.load import loads
    >>> config = loads('[show]\\ninitial = "idle"\\n[show.states.idle]\\n')
    >>> state = SimState.create(config)
    >>> press(state, "e")
    'visitor enters'
    >>> events = [e for _ in range(30) for e in step(state)]
    >>> state.show_state, state.frame is not None and len(state.frame.skeletons)
    ('idle', 1)
"""

from __future__ import annotations

import math
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import numpy as np
import pygame

from exhibit.config.load import load
from exhibit.config.schema import Config
from exhibit.errors import (
    ConfigError,
    ConfigSyntaxError,
    RecordingError,
    RecordingUnreadableError,
)
from exhibit.events import Event
from exhibit.pipeline import Pipeline
from exhibit.recording.controls import apply_controls, controls_of
from exhibit.skeleton import LANDMARK_INDEX, VIS, FloatArray, Frame, Skeleton
from exhibit.synth.body import BodyShape, PinholeCamera, make_skeleton
from exhibit.synth.script import (
    MIN_IN_FRAME,
    Segment,
    crouch_motion,
    hand_up_motion,
    hands_up_motion,
    idle_motion,
    jump_motion,
    lean_motion,
    swipe_motion,
    t_pose_motion,
    wave_motion,
)
from exhibit.ui.draw import (
    ACCENT,
    BACKGROUND,
    GOOD,
    MUTED,
    TEXT,
    WARN,
    Colour,
    Fonts,
    draw_lines,
    draw_skeleton,
    draw_text,
    from_view,
    name_colour,
    shade,
    to_view,
)

DEFAULT_SIZE = (1100, 620)
STEP_M = 0.1
"""How far an arrow key moves the keyboard visitor."""
NEAREST_M, FARTHEST_M = 1.0, 6.0
MOVES: dict[str, tuple[float, float]] = {
    "left": (-STEP_M, 0.0),
    "right": (STEP_M, 0.0),
    "up": (0.0, -STEP_M),  # closer to the camera
    "down": (0.0, STEP_M),
}
"""Arrow keys: (sideways, distance) steps in metres."""
START_POSITION_M = (0.0, 2.5)
LOG_LINES = 40
GESTURE_LINES = 8

SKELETON_COLOUR: Colour = (90, 200, 255)
VIEW_BACKGROUND: Colour = (30, 33, 42)
GRID_COLOUR: Colour = (44, 48, 60)
HAND_TARGET_COLOUR: Colour = (255, 120, 200)
HIGHLIGHT = (LANDMARK_INDEX["left_wrist"], LANDMARK_INDEX["right_wrist"], LANDMARK_INDEX["nose"])

HELP = (
    "E enter/leave   W wave   H hands up   U hand up   T T-pose   A/D swipe   L/R lean   "
    "C crouch   J jump   arrows move   mouse (hold) right hand   P pause   Esc quit"
)


def gesture_motion(key: str) -> tuple[str, Segment] | None:
    """What a gesture key makes the keyboard visitor do: (description, motion)."""
    builders: dict[str, tuple[str, Callable[[], Segment]]] = {
        "w": ("wave", lambda: wave_motion(2.5, side="right")),
        "h": ("both hands up", lambda: hands_up_motion(1.5)),
        "u": ("right hand up", lambda: hand_up_motion(1.5, side="right")),
        "t": ("T-pose", lambda: t_pose_motion(1.5)),
        "a": ("swipe left", lambda: swipe_motion("left")),
        "d": ("swipe right", lambda: swipe_motion("right")),
        "l": ("lean left", lambda: lean_motion("left")),
        "r": ("lean right", lambda: lean_motion("right")),
        "c": ("crouch", lambda: crouch_motion()),
        "j": ("jump", lambda: jump_motion()),
    }
    found = builders.get(key)
    return None if found is None else (found[0], found[1]())


def camera_for(config: Config) -> PinholeCamera:
    """The synthetic camera with the config's image size (70 degree horizontal field of view,
    like :class:`~exhibit.synth.body.PinholeCamera`'s default)."""
    w, h = config.camera.width_px, config.camera.height_px
    f = (w / 2) / math.tan(math.radians(35.0))
    return PinholeCamera(fx_px=f, fy_px=f, cx_px=w / 2, cy_px=h / 2, width_px=w, height_px=h)


def reach(
    landmarks: FloatArray, side: str, target: tuple[float, float], width_px: int, height_px: int
) -> FloatArray:
    """``landmarks`` with one arm bent so that its wrist is at ``target`` (normalized image
    coordinates), or as near as the arm reaches: a two-bone solution in the image plane, the
    elbow on the lower side, the hand's points moved with the wrist.

    Example:
        >>> from exhibit.synth.body import Pose
        >>> lm = make_skeleton(BodyShape(), Pose(), (0.0, 2.5), PinholeCamera()).landmarks
        >>> out = reach(lm, "right", (0.4, 0.3), 640, 480)
        >>> [round(float(v), 2) for v in out[LANDMARK_INDEX["right_wrist"], :2]]
        [0.4, 0.3]
    """
    out = landmarks.copy()
    scale = np.array([width_px, height_px], dtype=np.float64)
    s_i, e_i, w_i = (LANDMARK_INDEX[f"{side}_{j}"] for j in ("shoulder", "elbow", "wrist"))
    shoulder = out[s_i, :2] * scale
    elbow = out[e_i, :2] * scale
    wrist = out[w_i, :2] * scale
    upper = float(np.hypot(*(elbow - shoulder)))
    fore = float(np.hypot(*(wrist - elbow)))
    if upper <= 1e-6 or fore <= 1e-6:
        return out
    goal = np.array(target, dtype=np.float64) * scale
    offset = goal - shoulder
    distance = float(np.hypot(*offset))
    lo, hi = abs(upper - fore) + 1e-3, upper + fore - 1e-3
    direction = offset / distance if distance > 1e-6 else np.array([0.0, 1.0])
    distance = min(hi, max(lo, distance))
    goal = shoulder + direction * distance
    cos_a = (upper**2 + distance**2 - fore**2) / (2 * upper * distance)
    angle = math.acos(min(1.0, max(-1.0, cos_a)))
    candidates = []
    for sign in (1.0, -1.0):
        c, s = math.cos(sign * angle), math.sin(sign * angle)
        rotated = np.array(
            [c * direction[0] - s * direction[1], s * direction[0] + c * direction[1]]
        )
        candidates.append(shoulder + rotated * upper)
    new_elbow = max(candidates, key=lambda p: float(p[1]))  # the lower elbow looks natural
    delta = goal - wrist
    out[e_i, :2] = new_elbow / scale
    for part in ("wrist", "pinky", "index", "thumb"):
        i = LANDMARK_INDEX[f"{side}_{part}"]
        out[i, :2] = (out[i, :2] * scale + delta) / scale
    for i in (e_i, w_i, *(LANDMARK_INDEX[f"{side}_{p}"] for p in ("pinky", "index", "thumb"))):
        x, y = out[i, 0], out[i, 1]
        out[i, VIS] = 1.0 if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 else 0.1
    return out


@dataclass
class Puppet:
    """The keyboard's visitor: the parametric body, standing where the arrows put it, doing
    what the gesture keys ask, its right hand following the mouse while that is held.

    Example:
        >>> puppet = Puppet(PinholeCamera())
        >>> len(puppet.frame(0.0, 0).skeletons)
        0
        >>> puppet.toggle(), len(puppet.frame(0.0, 0).skeletons)
        (True, 1)
    """

    camera: PinholeCamera
    shape: BodyShape = field(default_factory=BodyShape)
    present: bool = False
    position_m: tuple[float, float] = START_POSITION_M
    action: tuple[str, Segment, float] | None = None
    """(description, motion, start time) of the gesture being played."""
    hand: tuple[float, float] | None = None
    """Where the mouse holds the right wrist (normalized image coordinates), or None."""
    noise_px: float = 0.5
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def toggle(self) -> bool:
        """Enter (standing at the current position) or leave; returns whether present."""
        self.present = not self.present
        self.action = None
        return self.present

    def move(self, dx_m: float, ddistance_m: float) -> None:
        x, d = self.position_m
        self.position_m = (
            round(x + dx_m, 3),
            round(min(FARTHEST_M, max(NEAREST_M, d + ddistance_m)), 3),
        )

    def play(self, description: str, motion: Segment, t_s: float) -> None:
        self.action = (description, motion, t_s)

    def frame(self, t_s: float, index: int) -> Frame:
        cam = self.camera
        empty = Frame(t_s, index, cam.width_px, cam.height_px)
        if not self.present:
            return empty
        body = None
        if self.action is not None:
            _, motion, start = self.action
            if t_s - start < motion.duration_s:
                body = motion.motion(max(0.0, t_s - start))
            else:
                self.action = None
        if body is None:
            body = idle_motion(math.inf).motion(t_s)
        if body is None:
            return empty
        skeleton = make_skeleton(
            self.shape, body.pose, self.position_m, cam, self._rng, self.noise_px
        )
        if self.hand is not None:
            landmarks = reach(skeleton.landmarks, "right", self.hand, cam.width_px, cam.height_px)
            skeleton = Skeleton(landmarks, skeleton.world_m)
        lm = skeleton.landmarks
        inside = (lm[:, 0] >= 0) & (lm[:, 0] <= 1) & (lm[:, 1] >= 0) & (lm[:, 1] <= 1)
        if float(np.mean(inside)) < MIN_IN_FRAME:
            return empty
        return replace(empty, skeletons=(skeleton,))


@dataclass
class SimState:
    """What the simulator shows; :func:`press` and :func:`step` change it, :func:`render`
    draws it. Every collection in it is bounded."""

    config: Config
    pipeline: Pipeline
    puppet: Puppet
    fps: float
    source: str = "keyboard"
    frame: Frame | None = None
    show_state: str = ""
    state_since_s: float = 0.0
    visitor: int | None = None
    paused: bool = False
    gestures: deque[str] = field(default_factory=lambda: deque(maxlen=GESTURE_LINES))
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    states: deque[str] = field(default_factory=lambda: deque(maxlen=64))
    """The show's states in the order it entered them (the last 64)."""
    counts: Counter[str] = field(default_factory=Counter)
    """How often each ``kind.name`` happened (``presence.enter``, ``gesture.wave``, ...)."""
    stream: dict[str, tuple[object, ...]] = field(default_factory=dict)
    frames: int = 0

    @classmethod
    def create(cls, config: Config, *, fps: float | None = None, seed: int = 0) -> SimState:
        """A fresh simulator for ``config``: nobody in view, the show not started yet."""
        rate = fps if fps and fps > 0 else config.camera.fps
        return cls(config, Pipeline(config), Puppet(camera_for(config), seed=seed), rate)

    @property
    def t_s(self) -> float:
        return self.frame.t_s if self.frame is not None else 0.0

    def next_t_s(self) -> float:
        """Frame time of the next frame the keyboard visitor would make."""
        return 0.0 if self.frame is None else self.frame.t_s + 1.0 / self.fps


def press(state: SimState, key: str, t_s: float | None = None) -> str | None:
    """Act on one key (pygame's key names: ``"e"``, ``"left"``; case does not matter) at
    frame time ``t_s`` (default: the next frame's). Returns what it did, or None for a key
    that means nothing here. Also ``"mouse X Y"`` (hold the right hand at normalized image
    coordinates) and ``"mouse off"``, for scripts."""
    key = key.strip().lower()
    t = state.next_t_s() if t_s is None else t_s
    puppet = state.puppet
    did: str | None = None
    if key == "e":
        did = "visitor enters" if puppet.toggle() else "visitor leaves"
    elif key == "p":
        state.paused = not state.paused
        did = "paused" if state.paused else "resumed"
    elif key in MOVES:
        puppet.move(*MOVES[key])
        x, d = puppet.position_m
        did = f"visitor at x {x:+.1f} m, {d:.1f} m away"
    elif key.startswith("mouse"):
        parts = key.split()
        if parts[1:] == ["off"]:
            puppet.hand = None
            did = "hand released"
        elif len(parts) == 3:
            try:
                puppet.hand = (float(parts[1]), float(parts[2]))
            except ValueError:
                return None
            did = None  # too frequent to log
    elif (gesture := gesture_motion(key)) is not None:
        description, motion = gesture
        if puppet.present:
            puppet.play(description, motion, t)
            did = description
        else:
            did = f"{description}: nobody there (press E)"
    if did is not None:
        state.log.append(f"{t:7.2f}  key {key.upper()}: {did}")
    return did


def _args(args: Sequence[object]) -> str:
    return " ".join(
        repr(a) if isinstance(a, str) else f"{a:.3g}" if isinstance(a, float) else str(a)
        for a in args
    )


def _note(state: SimState, event: Event) -> None:
    d = event.data
    t = f"{event.t_s:7.2f}"
    state.counts[f"{event.kind}.{event.name}"] += 1
    if event.kind == "stream":
        state.stream[event.name] = tuple(d.get("args", ()))
        return
    if event.kind == "state":
        state.show_state = event.name
        state.state_since_s = event.t_s
        state.states.append(event.name)
        because = f" ({d['because']})" if "because" in d else ""
        state.log.append(f"{t}  state {event.name}{because}")
    elif event.kind == "presence":
        state.visitor = d.get("visitor") if event.name == "enter" else None
        state.log.append(f"{t}  presence {event.name} visitor {d.get('visitor')}")
    elif event.kind == "gesture":
        side = f" {d['side']}" if "side" in d else ""
        line = f"{t}  {event.name}{side} {d.get('score', '')}"
        state.gestures.append(line)
        state.log.append(f"{t}  gesture {event.name}{side}")
    elif event.kind == "cue":
        args = _args(d.get("args", []))
        state.log.append(f"{t}  cue {event.name} -> {d.get('target')} {d.get('address')} {args}")
    else:
        extra = " ".join(f"{k} {v}" for k, v in sorted(d.items()))
        state.log.append(f"{t}  {event.kind} {event.name} {extra}".rstrip())


def step(state: SimState, frame: Frame | None = None, keys: Sequence[str] = ()) -> list[Event]:
    """One frame: act on ``keys``, then run the pipeline on ``frame`` (from a recording) or,
    when None, on a frame of the keyboard visitor at the next frame time. Returns the events
    the pipeline emitted (none while paused). A recorded frame's control commands and config
    swaps (a live run's, docs/recording-format.md) are applied first, as a replay does."""
    for key in keys:
        press(state, key)
    if state.paused:
        return []
    if frame is None:
        frame = state.puppet.frame(state.next_t_s(), state.frames)
    state.frame = frame
    state.frames += 1
    state.pipeline, events = apply_controls(
        state.pipeline, controls_of(frame), state.pipeline.config.base_dir
    )
    events += state.pipeline.step(frame)
    for event in events:
        _note(state, event)
    return events


def shutdown(state: SimState) -> list[Event]:
    """The config's shutdown cues (as ``exhibit run`` sends when it stops)."""
    events = state.pipeline.shutdown()
    for event in events:
        _note(state, event)
    return events


def camera_px(state: SimState) -> tuple[int, int]:
    """The image size of what the view shows: the last frame's, else the camera's."""
    if state.frame is not None:
        return (state.frame.width_px, state.frame.height_px)
    return (state.puppet.camera.width_px, state.puppet.camera.height_px)


@dataclass(frozen=True)
class SimLayout:
    """Where each part is drawn: the camera view, the side panel, the key help."""

    view: pygame.Rect
    status: pygame.Rect
    panel: pygame.Rect
    help: pygame.Rect


def sim_layout(size: tuple[int, int], camera_px: tuple[int, int]) -> SimLayout:
    """The layout for a window of ``size``, with the camera view keeping the camera's aspect.

    Example:
        >>> sim_layout((1100, 620), (640, 480)).view.size
        (684, 513)
    """
    w, h = size
    m = 10
    help_h = max(18, round(h * 0.035))
    status_h = max(18, round(h * 0.04))
    help_rect = pygame.Rect(m, h - m - help_h, w - 2 * m, help_h)
    room_w, room_h = round(w * 0.64) - 2 * m, help_rect.top - status_h - 2 * m
    cw, ch = camera_px
    k = min(room_w / cw, room_h / ch)
    view = pygame.Rect(m, m + status_h, round(cw * k), round(ch * k))
    status = pygame.Rect(m, m, view.width, status_h)
    panel = pygame.Rect(view.right + 2 * m, m, w - view.right - 3 * m, help_rect.top - 2 * m)
    return SimLayout(view, status, panel, help_rect)


def _draw_view(surface: pygame.Surface, state: SimState, view: pygame.Rect, fonts: Fonts) -> None:
    pygame.draw.rect(surface, VIEW_BACKGROUND, view)
    for k in range(1, 10):
        x, _ = to_view(view, k / 10, 0.0)
        _, y = to_view(view, 0.0, k / 10)
        pygame.draw.line(surface, GRID_COLOUR, (x, view.top), (x, view.bottom - 1))
        pygame.draw.line(surface, GRID_COLOUR, (view.left, y), (view.right - 1, y))
    x0, y0, x1, y1 = state.config.presence.area
    a, b = to_view(view, x0, y0), to_view(view, x1, y1)
    area = pygame.Rect(a, (b[0] - a[0], b[1] - a[1])).clip(view)
    colour = GOOD if state.visitor is not None else WARN
    pygame.draw.rect(surface, colour, area, 2)
    draw_text(surface, fonts.get(16), "interaction area", (area.left + 6, area.top + 6), colour)
    frame = state.frame
    if frame is not None:
        min_vis = state.config.presence.min_visibility
        for skeleton in frame.skeletons:
            draw_skeleton(
                surface,
                view,
                skeleton.landmarks,
                SKELETON_COLOUR,
                min_visibility=min_vis,
                highlight=HIGHLIGHT,
            )
    if state.puppet.hand is not None:
        cx, cy = to_view(view, *state.puppet.hand)
        pygame.draw.circle(surface, HAND_TARGET_COLOUR, (cx, cy), 9, 2)
        pygame.draw.line(surface, HAND_TARGET_COLOUR, (cx - 13, cy), (cx + 13, cy))
        pygame.draw.line(surface, HAND_TARGET_COLOUR, (cx, cy - 13), (cx, cy + 13))
    if state.paused:
        draw_text(surface, fonts.get(40), "PAUSED", view.center, ACCENT, anchor="center")


def render(state: SimState, surface: pygame.Surface, fonts: Fonts | None = None) -> None:
    """Draw ``state`` on ``surface`` (the window or any off-screen surface)."""
    fonts = fonts or Fonts()
    surface.fill(BACKGROUND)
    layout = sim_layout(surface.get_size(), camera_px(state))
    _draw_view(surface, state, layout.view, fonts)

    small, body, big = fonts.get(17), fonts.get(19), fonts.get(40)
    status = f"t {state.t_s:.2f} s   frame {state.frames}   {state.fps:g} fps   {state.source}"
    draw_text(
        surface,
        small,
        status,
        layout.status.midleft,
        MUTED,
        anchor="midleft",
        max_width_px=layout.status.width,
    )

    p = layout.panel
    y = p.top
    draw_text(surface, small, f"{state.config.name}: show state", (p.left, y), MUTED)
    y += small.get_linesize() + 2
    box = pygame.Rect(p.left, y, p.width, big.get_linesize() + 10)
    colour = name_colour(state.show_state) if state.show_state else MUTED
    pygame.draw.rect(surface, shade(colour, 0.45), box, border_radius=6)
    pygame.draw.rect(surface, colour, box, 2, border_radius=6)
    draw_text(
        surface,
        big,
        state.show_state or "-",
        (box.left + 12, box.centery),
        TEXT,
        anchor="midleft",
        max_width_px=box.width - 120,
    )
    since = f"{state.t_s - state.state_since_s:5.1f} s" if state.show_state else ""
    draw_text(surface, body, since, (box.right - 10, box.centery), TEXT, anchor="midright")
    y = box.bottom + 8
    who = f"visitor {state.visitor} present" if state.visitor is not None else "nobody present"
    draw_text(surface, body, who, (p.left, y), GOOD if state.visitor is not None else WARN)
    y += body.get_linesize()
    names = ", ".join(state.pipeline.gestures.names()) or "none"
    draw_text(surface, small, f"detecting: {names}", (p.left, y), MUTED, max_width_px=p.width)
    y += small.get_linesize()
    if state.stream:
        joint, args = next(reversed(state.stream.items()))
        draw_text(
            surface,
            small,
            f"stream {joint} {_args(args)}",
            (p.left, y),
            MUTED,
            max_width_px=p.width,
        )
    y += small.get_linesize() + 6

    draw_text(surface, small, "recent gestures", (p.left, y), MUTED)
    y += small.get_linesize()
    rows = GESTURE_LINES // 2
    gestures_rect = pygame.Rect(p.left, y, p.width, body.get_linesize() * rows + 4)
    pygame.draw.rect(surface, (22, 24, 32), gestures_rect)
    draw_lines(surface, body, state.gestures, gestures_rect, ACCENT, newest_first=True)
    y = gestures_rect.bottom + 8

    draw_text(surface, small, "events and cues", (p.left, y), MUTED)
    y += small.get_linesize()
    log_rect = pygame.Rect(p.left, y, p.width, p.bottom - y)
    pygame.draw.rect(surface, (22, 24, 32), log_rect)
    draw_lines(surface, small, state.log, log_rect, TEXT)

    draw_text(
        surface,
        small,
        HELP,
        layout.help.midleft,
        MUTED,
        anchor="midleft",
        max_width_px=layout.help.width,
    )


def _key_name(event: pygame.event.Event) -> str:
    return str(pygame.key.name(event.key)).lower()


def run_simulate(
    config_path: str | Path,
    *,
    recording: str | Path | None = None,
    frames: int | None = None,
    screenshot: Path | None = None,
    script: Sequence[tuple[float, str]] | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    speed: float | None = 1.0,
    send: bool = False,
    log: str | Path | None = None,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Open the simulator window on the config at ``config_path``.

    Frames come from ``recording`` (a ``.jsonl`` recording, played at its fps) and then from
    the keyboard visitor (at the camera's fps), paced by ``pygame.time.Clock`` at ``speed``
    times real time (``None``: as fast as it can). ``script`` presses keys at frame times:
    ``[(0.5, "e"), (2.0, "w")]`` (see :func:`press` for the names), so tests and demos can
    drive it. ``send`` also sends every cue to the config's OSC targets (point a target at
    ``exhibit stage`` to see the show); ``log`` writes the event log as ``exhibit run --log``.

    Runs until the window is closed (Esc, Q), ``stop`` is set, or ``frames`` frames have been
    drawn; then saves the last frame to ``screenshot`` (if given) and emits the config's
    shutdown cues (to the log and, with ``send``, to the targets).
    Returns 0; 1 for an invalid config or recording, 2 for one that cannot be read or a window
    that cannot be opened (with the reason on ``err``). Call it from the main thread of its process.
    """
    from exhibit.cues.osc.sender import OscSender
    from exhibit.recording.reader import read_recording
    from exhibit.runtime import LogSink, OscSink, Sink

    err = err or sys.stderr
    stop = stop or threading.Event()
    try:
        config = load(config_path)
    except ConfigSyntaxError as exc:
        print(exc, file=err, flush=True)
        return 2
    except ConfigError as exc:
        print(exc, file=err, flush=True)
        return 1
    source: Iterator[Frame] | None = None
    fps = config.camera.fps
    try:
        if recording is not None:
            opened = read_recording(recording)
            source = opened.frames()
            fps = opened.header.fps if opened.header.fps > 0 else fps
    except RecordingUnreadableError as exc:
        print(exc, file=err, flush=True)
        return 2
    except RecordingError as exc:
        print(exc, file=err, flush=True)
        return 1

    state = SimState.create(config, fps=fps)
    if recording is not None:
        state.source = f"recording {Path(recording).name}"
    pending = list(sorted(script or [], key=lambda item: item[0]))
    sinks: list[Sink] = []
    events_total = 0
    try:
        if log is not None:
            sinks.append(LogSink(log))
        if send:
            sinks.append(OscSink(OscSender(config.targets)))
        pygame.display.init()
        screen = pygame.display.set_mode(size)
        pygame.display.set_caption(f"exhibit simulate - {config.name}")
        pygame.key.set_repeat(300, 80)
        fonts = Fonts()
        clock = pygame.time.Clock()
        upcoming = next(source, None) if source is not None else None
        drawn = 0
        mouse_down = False

        def emit(events: list[Event]) -> None:
            nonlocal events_total
            events_total += len(events)
            for event in events:
                for sink in sinks:
                    sink.handle(event)

        while not stop.is_set() and (frames is None or drawn < frames):
            keys: list[str] = []
            closing = False
            layout = sim_layout(size, camera_px(state))
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    closing = True
                elif event.type == pygame.KEYDOWN:
                    name = _key_name(event)
                    if name in ("escape", "q"):
                        closing = True
                    else:
                        keys.append(name)
                elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                    mouse_down = layout.view.collidepoint(event.pos)
                elif event.type == pygame.MOUSEBUTTONUP and event.button == 1 and mouse_down:
                    mouse_down = False
                    keys.append("mouse off")
                if mouse_down and event.type in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION):
                    x, y = from_view(layout.view, *event.pos)
                    keys.append(f"mouse {x:.4f} {y:.4f}")
            if closing:
                break
            t_next = upcoming.t_s if upcoming is not None else state.next_t_s()
            while pending and pending[0][0] <= t_next + 1e-9:
                keys.append(pending.pop(0)[1])
            for key in keys:
                press(state, key, t_next)
            if not state.paused:
                frame = upcoming
                if frame is not None and source is not None:
                    upcoming = next(source, None)
                    if upcoming is None:
                        state.source = "keyboard (recording ended)"
                        state.log.append(f"{frame.t_s:7.2f}  recording ended; keys drive now")
                emit(step(state, frame))
            render(state, screen, fonts)
            pygame.display.flip()
            drawn += 1
            if speed is not None and speed > 0:
                clock.tick(fps * speed)
        render(state, screen, fonts)
        pygame.display.flip()
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(screen, str(screenshot))
        emit(shutdown(state))
    except RecordingError as exc:
        print(exc, file=err, flush=True)
        return 1
    except pygame.error as exc:
        print(f"simulate: cannot open a window ({exc})", file=err, flush=True)
        return 2
    finally:
        for sink in sinks:
            sink.close()
        pygame.display.quit()
    if out is not None:
        print(f"simulate: {state.frames} frames, {events_total} events", file=out, flush=True)
    return 0
