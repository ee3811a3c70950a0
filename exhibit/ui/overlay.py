"""The technician overlay: what the exhibit sees, on the exhibit's own screen.

One pygame view shows the live image (when there is one) with every skeleton MediaPipe found,
the floor zones projected into the image, a depth heat map blended over it when depth frames
are given, and a panel with every sensor's latest state. A technician standing in the "step
here" spot sees at once whether the zone drawn on the floor is where the floor marking is,
whether the depth camera sees them, and whether the PIR noticed them.

Drawing is separate from reading: :class:`OverlayView` holds what to show (numbers and arrays,
nothing live) and :func:`render_overlay` draws it on any surface, so tests compare pixels of an
off-screen surface or of a ``--screenshot`` taken under SDL's dummy video driver. The colour
map of depth (:func:`depth_colours`) is pure numpy: near is red, far is blue, holes (0 mm)
stay transparent.

Zones arrive as polygons in image pixels (``OverlayView.zones_px``): the command
(``exhibit calibrate overlay``, in ``calibration/overlay_command.py``) projects the config's
``[zones]`` with the floor calibration, scaled from the calibration's intrinsics to the image.

Example:
    >>> import numpy as np, pygame
    >>> view = OverlayView(width_px=64, height_px=48,
    ...                    zones_px={"spot": [(10, 10), (50, 10), (50, 40)]})
    >>> surface = pygame.Surface((400, 240))
    >>> render_overlay(view, surface)
    >>> depth_colours(np.array([[0, 500, 5000]], dtype=np.uint16))[0].tolist()
    [[0, 0, 0], [230, 40, 40], [50, 70, 210]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pygame

from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, HELD, SensorReading
from exhibit.ui.draw import (
    BACKGROUND,
    GOOD,
    MUTED,
    TEXT,
    WARN,
    Colour,
    Fonts,
    draw_panel,
    draw_skeleton,
    draw_text,
    name_colour,
)

DEFAULT_SIZE = (1100, 620)
NEAR_MM = 500
FAR_MM = 5000
DEPTH_ALPHA = 0.5
"""How much of the heat map shows over the live image (all of it when there is no image)."""
SKELETON_COLOUR: Colour = (90, 210, 255)
ZONE_WIDTH_PX = 3
ERROR_COLOUR: Colour = (235, 80, 70)

# Near to far: red, orange, yellow, green, cyan, blue (never pure black: black is a hole).
_ANCHORS = np.array(
    [
        (230, 40, 40),
        (245, 140, 40),
        (240, 220, 60),
        (70, 200, 90),
        (40, 190, 220),
        (50, 70, 210),
    ],
    dtype=np.float64,
)
DEPTH_LUT: npt.NDArray[np.uint8] = (
    np.stack(
        [
            np.interp(
                np.linspace(0, len(_ANCHORS) - 1, 256), np.arange(len(_ANCHORS)), _ANCHORS[:, c]
            )
            for c in range(3)
        ],
        axis=1,
    )
    .round()
    .astype(np.uint8)
)
"""256 colours from near (index 0) to far (255)."""

_STATE_WORDS = {
    "motion": ("motion", "quiet"),
    "button": ("pressed", "released"),
    "mat": ("stood on", "free"),
    "light_barrier": ("broken", "clear"),
}


def depth_colours(
    depth_mm: npt.NDArray[np.uint16], near_mm: int = NEAR_MM, far_mm: int = FAR_MM
) -> npt.NDArray[np.uint8]:
    """A ``(H, W, 3)`` RGB heat map of ``depth_mm``: ``near_mm`` and closer red, ``far_mm``
    and beyond blue, holes (0) black."""
    if depth_mm.ndim != 2:
        raise ValueError(f"depth must be a 2-D array in mm, got shape {depth_mm.shape}")
    span = max(1, far_mm - near_mm)
    scaled = (depth_mm.astype(np.float64) - near_mm) * (255.0 / span)
    index = np.clip(np.round(scaled), 0, 255).astype(np.intp)
    rgb: npt.NDArray[np.uint8] = DEPTH_LUT[index]
    rgb[depth_mm == 0] = 0
    return rgb


@dataclass(frozen=True)
class SensorRow:
    """One line of the sensor panel: the sensor, its state in words, and how to colour it
    (``"active"``, ``"idle"`` or ``"error"``)."""

    name: str
    state: str
    mood: str = "idle"


class SensorStates:
    """The latest state of every sensor, from the readings as they come (live or recorded).

    Example:
        >>> states = SensorStates({"door": "motion", "range": "distance"})
        >>> states.apply([SensorReading(1.0, "door", "active", True),
        ...               SensorReading(1.1, "range", "distance", 1.234)])
        >>> [(r.name, r.state, r.mood) for r in states.rows()]
        [('door', 'motion', 'active'), ('range', '1.23 m', 'active')]
    """

    def __init__(self, types: Mapping[str, str]) -> None:
        self._types = dict(types)
        self._rows: dict[str, SensorRow] = {name: SensorRow(name, "-") for name in types}

    def apply(self, readings: Iterable[SensorReading]) -> None:
        for r in readings:
            kind = self._types.get(r.sensor, "")
            if r.kind == ERROR:
                self._rows[r.sensor] = SensorRow(r.sensor, f"error: {r.value}", "error")
            elif r.kind == ACTIVE and isinstance(r.value, bool):
                on, off = _STATE_WORDS.get(kind, ("active", "inactive"))
                self._rows[r.sensor] = SensorRow(
                    r.sensor, on if r.value else off, "active" if r.value else "idle"
                )
            elif r.kind == HELD:
                self._rows[r.sensor] = SensorRow(r.sensor, "held", "active")
            elif r.kind == DISTANCE and isinstance(r.value, float):
                self._rows[r.sensor] = SensorRow(r.sensor, f"{r.value:.2f} m", "active")

    def note(self, name: str, text: str) -> None:
        """A row that is not a sensor reading (a sensor source that could not open)."""
        self._rows[name] = SensorRow(name, text, "error")

    def rows(self) -> list[SensorRow]:
        return list(self._rows.values())


@dataclass(frozen=True)
class OverlayView:
    """What one overlay frame shows. ``image_rgb``: the camera image (H, W, 3) or ``None``;
    ``width_px``/``height_px``: the image size the skeletons and zones refer to;
    ``skeletons``: landmark arrays (33, 4), normalized; ``zones_px``: floor zones as image
    pixel outlines; ``occupied``: zones drawn filled; ``depth_mm``: a depth frame aligned to
    the image, or ``None``; ``sensors``: the panel's rows; ``lines``: status text."""

    width_px: int
    height_px: int
    image_rgb: npt.NDArray[np.uint8] | None = None
    skeletons: tuple[npt.NDArray[np.float64], ...] = ()
    zones_px: Mapping[str, Sequence[tuple[float, float]]] = field(default_factory=dict)
    occupied: frozenset[str] = frozenset()
    depth_mm: npt.NDArray[np.uint16] | None = None
    sensors: tuple[SensorRow, ...] = ()
    lines: tuple[str, ...] = ()
    depth_alpha: float = DEPTH_ALPHA


def overlay_layout(
    size: tuple[int, int], image_px: tuple[int, int]
) -> tuple[pygame.Rect, pygame.Rect]:
    """The image view (the image's aspect, as large as fits in the left 72 %) and the panel.

    Example:
        >>> overlay_layout((1100, 620), (640, 480))
        (<rect(10, 10, 747, 560)>, <rect(767, 10, 323, 600)>)
    """
    w, h = size
    margin = 10
    # Below the image: two status lines (the source and frame, the visitor's floor position).
    room_w, room_h = round(w * 0.72) - 2 * margin, h - 2 * margin - 40
    iw, ih = max(1, image_px[0]), max(1, image_px[1])
    k = min(room_w / iw, room_h / ih)
    view = pygame.Rect(margin, margin, round(iw * k), round(ih * k))
    panel = pygame.Rect(view.right + margin, margin, w - view.right - 2 * margin, h - 2 * margin)
    return view, panel


def _surface_of(rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> pygame.Surface:
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    surface = pygame.image.frombuffer(image.tobytes(), (image.shape[1], image.shape[0]), "RGB")
    return pygame.transform.scale(surface, size)


def render_overlay(view: OverlayView, surface: pygame.Surface, fonts: Fonts | None = None) -> None:
    """Draw ``view`` on ``surface`` (the window, or any off-screen surface)."""
    fonts = fonts or Fonts()
    surface.fill(BACKGROUND)
    rect, panel = overlay_layout(surface.get_size(), (view.width_px, view.height_px))
    pygame.draw.rect(surface, (0, 0, 0), rect)
    if view.image_rgb is not None:
        surface.blit(_surface_of(view.image_rgb, rect.size), rect.topleft)
    if view.depth_mm is not None:
        heat = _surface_of(depth_colours(view.depth_mm), rect.size)
        heat.set_colorkey((0, 0, 0))  # holes show the image
        if view.image_rgb is not None:
            heat.set_alpha(round(255 * view.depth_alpha))
        surface.blit(heat, rect.topleft)
    small, body = fonts.get(16), fonts.get(19)
    sx, sy = rect.width / max(1, view.width_px), rect.height / max(1, view.height_px)
    for name, outline in view.zones_px.items():
        points = [(rect.left + u * sx, rect.top + v * sy) for u, v in outline]
        if len(points) < 2:
            continue
        colour = name_colour(name)
        if name in view.occupied and len(points) >= 3:
            fill = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
            pygame.draw.polygon(fill, (*colour, 90), points)
            surface.blit(fill, (0, 0))
        clip = surface.get_clip()
        surface.set_clip(rect)
        pygame.draw.lines(surface, colour, True, points, ZONE_WIDTH_PX)
        surface.set_clip(clip)
        top = min(points, key=lambda p: p[1])
        if rect.collidepoint(top):
            draw_text(surface, small, name, (round(top[0]), round(top[1]) - 16), colour)
    clip = surface.get_clip()
    surface.set_clip(rect)  # joints out of the picture are not drawn over the panel
    for landmarks in view.skeletons:
        draw_skeleton(surface, rect, landmarks, SKELETON_COLOUR)
    surface.set_clip(clip)
    for i, line in enumerate(view.lines):
        draw_text(surface, small, line, (rect.left, rect.bottom + 4 + 18 * i), MUTED)

    draw_panel(surface, panel)
    y = panel.top + 10
    draw_text(surface, body, "sensors", (panel.left + 10, y), TEXT)
    y += 28
    if not view.sensors:
        draw_text(surface, small, "none configured", (panel.left + 10, y), MUTED)
    for row in view.sensors:
        colour = {"active": GOOD, "error": ERROR_COLOUR}.get(row.mood, MUTED)
        pygame.draw.circle(surface, colour, (panel.left + 16, y + 8), 6)
        draw_text(surface, small, row.name, (panel.left + 30, y), TEXT)
        draw_text(surface, small, row.state, (panel.left + 30 + panel.width // 2 - 20, y), colour)
        y += 22
    y += 14
    draw_text(surface, body, "zones", (panel.left + 10, y), TEXT)
    y += 28
    if not view.zones_px:
        draw_text(surface, small, "none drawn", (panel.left + 10, y), MUTED)
    for name in view.zones_px:
        colour = name_colour(name)
        pygame.draw.rect(surface, colour, (panel.left + 10, y + 2, 12, 12))
        word = "occupied" if name in view.occupied else ""
        draw_text(surface, small, f"{name} {word}".strip(), (panel.left + 30, y), TEXT)
        y += 22
    if view.depth_mm is not None:
        y += 14
        draw_text(surface, body, "depth", (panel.left + 10, y), TEXT)
        y += 26
        bar = pygame.Rect(panel.left + 10, y, panel.width - 20, 12)
        for x in range(bar.width):
            c = DEPTH_LUT[round(255 * x / max(1, bar.width - 1))]
            pygame.draw.line(
                surface,
                (int(c[0]), int(c[1]), int(c[2])),
                (bar.left + x, y),
                (bar.left + x, y + 11),
            )
        draw_text(surface, small, f"{NEAR_MM / 1000:g} m", (bar.left, bar.bottom + 3), MUTED)
        far = f"{FAR_MM / 1000:g} m"
        draw_text(surface, small, far, (bar.right, bar.bottom + 3), MUTED, anchor="topright")
        seen = float(np.count_nonzero(view.depth_mm)) / max(1, view.depth_mm.size)
        draw_text(
            surface,
            small,
            f"{seen:.0%} of pixels with depth",
            (bar.left, bar.bottom + 22),
            WARN if seen < 0.5 else MUTED,
        )


__all__ = [
    "DEPTH_LUT",
    "OverlayView",
    "SensorRow",
    "SensorStates",
    "depth_colours",
    "overlay_layout",
    "render_overlay",
]
