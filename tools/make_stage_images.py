"""Draw the demo's stage backgrounds: ``media/demo/stage/{attract,welcome,explain,mitosis}.png``.

The demo exhibit ("Inside the cell") names four scenes in its ``/scene`` cues; ``exhibit stage``
shows ``NAME.png`` from this folder for ``/scene NAME`` (and a generated background for any
other name). The images are drawn here with pygame, from fixed seeds, so they can be remade and
changed in review like code; they are small (640x360, flat colours, a few tens of KB each) and
the stage scales them to its window.

Run from the repository root::

    SDL_VIDEODRIVER=dummy .venv/bin/python tools/make_stage_images.py [--out media/demo/stage]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exhibit.ui import pygame  # noqa: E402  (imported quietly)

SIZE = (640, 360)
Colour = tuple[int, int, int]


def gradient(surface: pygame.Surface, top: Colour, bottom: Colour) -> None:
    w, h = surface.get_size()
    for y in range(h):
        k = y / (h - 1)
        colour = tuple(round(a + (b - a) * k) for a, b in zip(top, bottom, strict=True))
        pygame.draw.line(surface, colour, (0, y), (w, y))


def blob(
    layer: pygame.Surface,
    centre: tuple[float, float],
    radius: float,
    colour: tuple[int, int, int, int],
    rng: random.Random,
    wobble: float = 0.08,
    phase: list[float] | None = None,
) -> None:
    """A filled, slightly irregular round shape (a cell, a nucleus); the same ``phase`` gives
    the same outline (a membrane around its cytoplasm)."""
    phase = phase or [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    points = []
    for i in range(48):
        a = 2 * math.pi * i / 48
        r = radius * (
            1
            + wobble * math.sin(2 * a + phase[0])
            + wobble * 0.5 * math.sin(3 * a + phase[1])
            + wobble * 0.3 * math.sin(5 * a + phase[2])
        )
        points.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
    pygame.draw.polygon(layer, colour, points)


def cell(
    surface: pygame.Surface,
    centre: tuple[float, float],
    radius: float,
    rng: random.Random,
    *,
    membrane: Colour,
    plasma: Colour,
    nucleus: Colour,
    detail: bool = True,
) -> None:
    layer = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
    outline = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    blob(layer, centre, radius * 1.04, (*membrane, 255), rng, phase=outline)
    blob(layer, centre, radius * 0.97, (*plasma, 255), rng, phase=outline)
    if detail:
        for _ in range(7):  # mitochondria
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(0.5, 0.8) * radius
            x, y = centre[0] + d * math.cos(a), centre[1] + d * math.sin(a)
            rect = pygame.Rect(0, 0, radius * 0.26, radius * 0.12)
            rect.center = (round(x), round(y))
            pygame.draw.ellipse(layer, (235, 130, 90, 255), rect)
            pygame.draw.ellipse(layer, (170, 80, 60, 255), rect, 2)
        for k in range(4):  # endoplasmic reticulum
            r = radius * (0.48 + 0.06 * k)
            start = rng.uniform(0, 2 * math.pi)
            rect = pygame.Rect(0, 0, 2 * r, 2 * r)
            rect.center = (round(centre[0]), round(centre[1]))
            pygame.draw.arc(layer, (*membrane, 200), rect, start, start + 1.4, 2)
    nucleus_centre = (centre[0] - radius * 0.08, centre[1] + radius * 0.05)
    blob(layer, nucleus_centre, radius * 0.36, (*nucleus, 255), rng, 0.05)
    r, g, b = (max(0, c - 60) for c in nucleus)
    blob(layer, nucleus_centre, radius * 0.12, (r, g, b, 255), rng)
    surface.blit(layer, (0, 0))


def attract(surface: pygame.Surface, rng: random.Random) -> None:
    gradient(surface, (12, 30, 70), (4, 8, 24))
    w, h = surface.get_size()
    for _ in range(26):
        r = rng.uniform(10, 46)
        layer = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        centre = (rng.uniform(0, w), rng.uniform(0, h))
        blob(layer, centre, r, (90, 170, 230, rng.randint(40, 110)), rng)
        blob(layer, (centre[0] - r * 0.1, centre[1]), r * 0.35, (40, 90, 170, 140), rng)
        surface.blit(layer, (0, 0))


def welcome(surface: pygame.Surface, rng: random.Random) -> None:
    gradient(surface, (20, 90, 100), (6, 30, 40))
    w, h = surface.get_size()
    cell(
        surface,
        (w * 0.5, h * 0.62),
        h * 0.34,
        rng,
        membrane=(120, 220, 200),
        plasma=(40, 130, 130),
        nucleus=(150, 100, 200),
    )


def explain(surface: pygame.Surface, rng: random.Random) -> None:
    gradient(surface, (40, 30, 80), (10, 8, 30))
    w, h = surface.get_size()
    cell(
        surface,
        (w * 0.42, h * 0.7),
        h * 0.62,
        rng,
        membrane=(170, 150, 240),
        plasma=(70, 55, 130),
        nucleus=(230, 170, 80),
    )


def mitosis(surface: pygame.Surface, rng: random.Random) -> None:
    gradient(surface, (80, 20, 60), (20, 6, 20))
    w, h = surface.get_size()
    for side in (-1, 1):
        centre = (w * 0.5 + side * h * 0.24, h * 0.62)
        cell(
            surface,
            centre,
            h * 0.26,
            rng,
            membrane=(250, 160, 200),
            plasma=(150, 60, 110),
            nucleus=(250, 220, 120),
            detail=False,
        )
        for k in range(4):  # condensed chromosomes
            x = centre[0] + side * h * 0.02 + rng.uniform(-10, 10)
            y = centre[1] - 24 + 14 * k
            pygame.draw.line(surface, (120, 40, 90), (x - 7, y - 5), (x + 7, y + 5), 4)
            pygame.draw.line(surface, (120, 40, 90), (x - 7, y + 5), (x + 7, y - 5), 4)


SCENES: dict[str, Callable[[pygame.Surface, random.Random], None]] = {
    "attract": attract,
    "welcome": welcome,
    "explain": explain,
    "mitosis": mitosis,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "media" / "demo" / "stage")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for seed, (name, draw) in enumerate(SCENES.items()):
        surface = pygame.Surface(SIZE)
        draw(surface, random.Random(seed))
        path = args.out / f"{name}.png"
        pygame.image.save(surface, str(path))
        total += path.stat().st_size
        print(f"{path}: {path.stat().st_size // 1024} KB")
    print(f"{len(SCENES)} images, {total // 1024} KB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
