"""Drawing helpers shared by the stage and the simulator: colours, fonts, text, panels, bones.

Everything here draws onto a ``pygame.Surface`` it is given; nothing opens a window, so the
helpers work on an off-screen surface as well as on the display.

Example:
    >>> import pygame
    >>> surface = pygame.Surface((200, 100))
    >>> fonts = Fonts()
    >>> draw_text(surface, fonts.get(20), "hello", (10, 10), TEXT).width > 0
    True
"""

from __future__ import annotations

import colorsys
import unicodedata
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pygame

from exhibit.skeleton import LANDMARK_INDEX, NUM_LANDMARKS, VIS, FloatArray

Colour = tuple[int, int, int]

BACKGROUND: Colour = (14, 16, 22)
PANEL: Colour = (0, 0, 0)
TEXT: Colour = (236, 238, 242)
MUTED: Colour = (150, 156, 168)
ACCENT: Colour = (255, 196, 60)
GOOD: Colour = (70, 200, 110)
WARN: Colour = (235, 160, 40)

# MediaPipe Pose's 35 connections, by landmark name (face, arms and hands, torso, legs).
BONE_NAMES: tuple[tuple[str, str], ...] = (
    ("nose", "left_eye_inner"),
    ("left_eye_inner", "left_eye"),
    ("left_eye", "left_eye_outer"),
    ("left_eye_outer", "left_ear"),
    ("nose", "right_eye_inner"),
    ("right_eye_inner", "right_eye"),
    ("right_eye", "right_eye_outer"),
    ("right_eye_outer", "right_ear"),
    ("mouth_left", "mouth_right"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("left_wrist", "left_pinky"),
    ("left_wrist", "left_index"),
    ("left_wrist", "left_thumb"),
    ("left_pinky", "left_index"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("right_wrist", "right_pinky"),
    ("right_wrist", "right_index"),
    ("right_wrist", "right_thumb"),
    ("right_pinky", "right_index"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"),
    ("right_ankle", "right_heel"),
    ("left_heel", "left_foot_index"),
    ("right_heel", "right_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_ankle", "right_foot_index"),
)
BONES: tuple[tuple[int, int], ...] = tuple(
    (LANDMARK_INDEX[a], LANDMARK_INDEX[b]) for a, b in BONE_NAMES
)


class Fonts:
    """pygame's bundled font (freesansbold, so no system font is needed) at the sizes asked
    for, each size loaded once. One instance per window; nothing is shared between windows.

    Example:
        >>> Fonts().get(18).get_height() > 0
        True
    """

    def __init__(self) -> None:
        pygame.font.init()
        self._cache: dict[int, pygame.font.Font] = {}

    def get(self, size_px: int) -> pygame.font.Font:
        size_px = max(6, int(size_px))
        font = self._cache.get(size_px)
        if font is None:
            font = self._cache[size_px] = pygame.font.Font(None, size_px)
        return font


def clean_text(text: object) -> str:
    """``text`` as one printable line: control characters (NUL, newlines) become spaces."""
    raw = str(text)
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in raw)


def fit_text(font: pygame.font.Font, text: str, max_width_px: int) -> str:
    """``text``, cut and ended with '...' if it is wider than ``max_width_px``."""
    text = clean_text(text)
    if max_width_px <= 0 or font.size(text)[0] <= max_width_px:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.size(text[:mid] + "...")[0] <= max_width_px:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "..."


def wrap_text(font: pygame.font.Font, text: str, max_width_px: int) -> list[str]:
    """``text`` broken into lines no wider than ``max_width_px`` (at spaces where it can)."""
    lines: list[str] = []
    line = ""
    for word in clean_text(text).split():
        candidate = f"{line} {word}" if line else word
        if font.size(candidate)[0] <= max_width_px or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return [fit_text(font, one, max_width_px) for one in lines]


def draw_text(
    surface: pygame.Surface,
    font: pygame.font.Font,
    text: str,
    pos: tuple[int, int],
    colour: Colour,
    *,
    max_width_px: int | None = None,
    anchor: str = "topleft",
) -> pygame.Rect:
    """Draw one line of antialiased text; ``anchor`` names the rect point placed at ``pos``
    (``"topleft"``, ``"center"``, ``"topright"``, ...). Returns the rect drawn into."""
    line = fit_text(font, text, max_width_px) if max_width_px else clean_text(text)
    image = font.render(line, True, colour)
    rect = image.get_rect(**{anchor: pos})
    surface.blit(image, rect)
    return rect


def draw_panel(surface: pygame.Surface, rect: pygame.Rect, alpha: int = 150) -> None:
    """A translucent dark box behind text, so it reads on any background."""
    if rect.width <= 0 or rect.height <= 0:
        return
    box = pygame.Surface(rect.size, pygame.SRCALPHA)
    box.fill((*PANEL, alpha))
    surface.blit(box, rect.topleft)


def draw_lines(
    surface: pygame.Surface,
    font: pygame.font.Font,
    lines: Iterable[str],
    rect: pygame.Rect,
    colour: Colour,
    *,
    newest_first: bool = False,
) -> None:
    """As many of ``lines`` as fit in ``rect``, one per text line, cut to its width. With
    ``newest_first`` the last line is drawn at the top; otherwise the last lines fill the box
    from the bottom (a log that scrolls up)."""
    step = font.get_linesize()
    rows = max(0, (rect.height - 4) // step)
    items = list(lines)
    shown = list(reversed(items))[:rows] if newest_first else items[-rows:] if rows else []
    y = rect.top + 2
    for line in shown:
        draw_text(surface, font, line, (rect.left + 6, y), colour, max_width_px=rect.width - 12)
        y += step


def name_colour(name: str, *, saturation: float = 0.55, value: float = 0.85) -> Colour:
    """A colour that is always the same for the same name (a scene, a state).

    Example:
        >>> name_colour("welcome") == name_colour("welcome")
        True
    """
    hue = (zlib.crc32(name.encode("utf-8")) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def shade(colour: Colour, factor: float) -> Colour:
    """``colour`` darkened (``factor`` < 1) or lightened towards white (``factor`` > 1)."""
    if factor <= 1.0:
        return (
            round(colour[0] * factor),
            round(colour[1] * factor),
            round(colour[2] * factor),
        )
    w = min(1.0, factor - 1.0)
    return (
        round(colour[0] + (255 - colour[0]) * w),
        round(colour[1] + (255 - colour[1]) * w),
        round(colour[2] + (255 - colour[2]) * w),
    )


def to_view(view: pygame.Rect, x: float, y: float) -> tuple[int, int]:
    """Normalized image coordinates (0..1, y down) to pixels in ``view``."""
    return (round(view.left + x * view.width), round(view.top + y * view.height))


def from_view(view: pygame.Rect, px: int, py: int) -> tuple[float, float]:
    """Pixels in ``view`` back to normalized image coordinates."""
    return ((px - view.left) / max(1, view.width), (py - view.top) / max(1, view.height))


def draw_skeleton(
    surface: pygame.Surface,
    view: pygame.Rect,
    landmarks: FloatArray,
    colour: Colour,
    *,
    joint_colour: Colour = TEXT,
    min_visibility: float = 0.5,
    joint_radius_px: int = 3,
    highlight: Sequence[int] = (),
) -> None:
    """Bones and the 33 landmarks of one body, in ``view``. Landmarks whose visibility is
    below ``min_visibility`` (and the bones that touch them) are drawn dim. Landmarks listed in
    ``highlight`` are drawn larger."""
    if landmarks.shape != (NUM_LANDMARKS, 4):
        raise ValueError(f"landmarks must be (33, 4), got {landmarks.shape}")
    points = [to_view(view, float(lm[0]), float(lm[1])) for lm in landmarks]
    seen = np.asarray(landmarks[:, VIS] >= min_visibility)
    dim = shade(colour, 0.4)
    width = max(2, view.height // 160)
    for a, b in BONES:
        both = bool(seen[a] and seen[b])
        pygame.draw.line(surface, colour if both else dim, points[a], points[b], width)
    for i, point in enumerate(points):
        radius = joint_radius_px * 2 if i in highlight else joint_radius_px
        pygame.draw.circle(surface, joint_colour if seen[i] else dim, point, radius)
