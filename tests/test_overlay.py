"""The technician overlay: pixels of what it draws (off-screen, and a ``--screenshot`` under
SDL's dummy video driver) compared with what should show -- the image, the depth heat map over
it and holes through it, a zone projected from a floor calibration, a skeleton, the sensors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pygame
import pytest

from calibration.floor import Calibration, FloorFit, save_calibration
from calibration.overlay_command import add_command, feet_on_floor
from calibration.project import project_floor_points, project_floor_polygon
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import PRIMESENSE
from exhibit.recording.format import RecordingHeader
from exhibit.recording.writer import RecordingWriter
from exhibit.sensors.readings import SensorReading
from exhibit.skeleton import NUM_LANDMARKS, Frame, Skeleton
from exhibit.ui.draw import BACKGROUND, GOOD, TEXT, name_colour
from exhibit.ui.overlay import (
    DEPTH_ALPHA,
    OverlayView,
    SensorRow,
    SensorStates,
    depth_colours,
    overlay_layout,
    render_overlay,
)

SIZE = (1100, 620)
GREY = (200, 200, 200)
RED = (230, 40, 40)  # the heat map at 0.5 m and nearer
SHOW = '[show]\ninitial = "idle"\n[show.states.idle]\n'


@pytest.fixture(autouse=True)
def dummy_video(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 3) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=False))


def body_at(x: float, y: float) -> npt.NDArray[np.float64]:
    marks = np.zeros((NUM_LANDMARKS, 4))
    marks[:, 0], marks[:, 1], marks[:, 3] = x, y, 1.0
    return marks


def pixel(surface: pygame.Surface, xy: tuple[float, float]) -> tuple[int, int, int]:
    c = surface.get_at((round(xy[0]), round(xy[1])))
    return (c.r, c.g, c.b)


def test_depth_colours_near_far_and_holes() -> None:
    depth = np.array([[0, 300, 500, 2750, 5000, 9000]], dtype=np.uint16)
    rgb = depth_colours(depth)[0]
    assert rgb[0].tolist() == [0, 0, 0]  # a hole
    assert rgb[1].tolist() == rgb[2].tolist() == list(RED)  # at or nearer than 0.5 m
    assert rgb[4].tolist() == rgb[5].tolist() == [50, 70, 210]  # 5 m and beyond
    assert rgb[3].tolist() != rgb[2].tolist() and rgb[3].tolist() != rgb[4].tolist()
    assert all(c.any() for c in rgb[1:])  # nothing with depth is black (black is a hole)


def test_render_overlay_pixels() -> None:
    w, h = 64, 48
    image = np.full((h, w, 3), GREY, dtype=np.uint8)
    depth = np.zeros((h, w), dtype=np.uint16)
    depth[:, : w // 4] = 400  # the left quarter is near; the rest are holes
    zone = [(24.0, 12.0), (56.0, 12.0), (56.0, 40.0), (24.0, 40.0)]
    view = OverlayView(
        width_px=w,
        height_px=h,
        image_rgb=image,
        skeletons=(body_at(0.5, 0.25), body_at(0.5, 1.03)),  # the second: below the picture
        zones_px={"spot": zone},
        depth_mm=depth,
        sensors=(SensorRow("door", "motion", "active"), SensorRow("mat", "free")),
    )
    surface = pygame.Surface(SIZE)
    render_overlay(view, surface)
    rect, panel = overlay_layout(SIZE, (w, h))
    sx, sy = rect.width / w, rect.height / h

    def at(u: float, v: float) -> tuple[int, int, int]:
        return pixel(surface, (rect.left + u * sx, rect.top + v * sy))

    assert at(40, 44) == GREY  # a hole in the depth: the image shows through
    a = DEPTH_ALPHA
    blended = tuple(round(g * (1 - a) + r * a) for g, r in zip(GREY, RED, strict=True))
    assert close(at(6, 30), blended), (at(6, 30), blended)
    assert at(40, 12) == name_colour("spot")  # the zone's top edge
    assert at(56, 30) == name_colour("spot")  # its right edge
    assert at(40, 30) == GREY  # inside, not occupied: not filled
    assert pixel(surface, (rect.left + 0.5 * rect.width, rect.top + 0.25 * rect.height)) == TEXT
    below = (rect.left + 0.5 * rect.width, rect.top + 1.03 * rect.height)
    assert pixel(surface, below) == BACKGROUND  # not drawn outside the picture
    first_row = (panel.left + 16, panel.top + 10 + 28 + 8)
    assert pixel(surface, first_row) == GOOD  # the PIR sees motion: a green dot

    filled = pygame.Surface(SIZE)
    render_overlay(
        OverlayView(w, h, image_rgb=image, zones_px={"spot": zone}, occupied=frozenset({"spot"})),
        filled,
    )
    inside = pixel(filled, (rect.left + 40 * sx, rect.top + 30 * sy))
    assert inside != GREY  # occupied: tinted with the zone's colour

    depth_only = pygame.Surface(SIZE)
    render_overlay(OverlayView(w, h, depth_mm=depth), depth_only)
    assert pixel(depth_only, (rect.left + 6 * sx, rect.top + 30 * sy)) == RED


def test_sensor_states_from_readings() -> None:
    states = SensorStates({"door": "motion", "start": "button", "range": "distance"})
    states.apply(
        [
            SensorReading(0.0, "door", "active", False),
            SensorReading(0.1, "start", "active", True),
            SensorReading(0.2, "range", "error", "no echo for 1 s"),
        ]
    )
    assert [(r.name, r.state, r.mood) for r in states.rows()] == [
        ("door", "quiet", "idle"),
        ("start", "pressed", "active"),
        ("range", "error: no echo for 1 s", "error"),
    ]


def test_the_command_projects_zones_and_saves_a_screenshot(tmp_path: Path) -> None:
    pose = FloorPose.from_angles(2.0, 40.0, 0.0)
    save_calibration(
        tmp_path / "calibration.json",
        Calibration(FloorFit(pose, 0.004, 0.97, 0.6, 0.95), PRIMESENSE, "2026-11-25T15:00:00Z"),
    )
    polygon = [(-0.5, 2.0), (0.5, 2.0), (0.5, 3.0), (-0.5, 3.0)]
    text = SHOW + f"[zones.step_here]\npolygon_m = {json.dumps([list(p) for p in polygon])}\n"
    text += '[sensors.door]\ntype = "motion"\npin = 4\n'
    config_path = tmp_path / "exhibit.toml"
    config_path.write_text(text, encoding="utf-8")

    (u_feet, v_feet), (u_in, v_in) = project_floor_points(
        pose, PRIMESENSE, [(0.3, 2.2), (-0.3, 2.8)]
    )
    recording = tmp_path / "visit.jsonl"
    header = RecordingHeader(source="synth:test", fps=10.0, width_px=640, height_px=480)
    with RecordingWriter(recording, header) as writer:
        for i in range(3):
            sensors = (SensorReading(i / 10, "door", "active", True),) if i == 1 else ()
            skeletons = (Skeleton(body_at(u_feet / 640, v_feet / 480)),)
            writer.write(Frame(i / 10, i, 640, 480, skeletons=skeletons, sensors=sensors))
    depth = tmp_path / "depth"
    depth.mkdir()
    (depth / "intrinsics.json").write_text(
        json.dumps({"fx": 50, "fy": 50, "cx": 31.5, "cy": 23.5, "width": 64, "height": 48}),
        encoding="utf-8",
    )
    frame = np.zeros((48, 64), dtype=np.uint16)
    frame[40:, :] = 450  # the floor near the camera; the rest are holes
    assert cv2.imwrite(str(depth / "0.png"), frame)

    shot = tmp_path / "overlay.png"
    parser = argparse.ArgumentParser(prog="exhibit calibrate")
    add_command(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(
        [
            *("overlay", str(config_path), "--replay", str(recording), "--depth", str(depth)),
            *("--frames", "3", "--screenshot", str(shot)),
        ]
    )
    assert args.func(args) == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == SIZE
    rect, panel = overlay_layout(SIZE, (640, 480))
    outline = project_floor_polygon(pose, PRIMESENSE, polygon)
    near_edge = [p for p in outline if abs(p[1] - max(q[1] for q in outline)) < 0.5]
    u, v = near_edge[len(near_edge) // 2]  # the middle of the zone's near edge, in pixels
    k = rect.width / 640
    assert pixel(image, (rect.left + u * k, rect.top + v * k)) == name_colour("step_here")
    assert pixel(image, (rect.left + u_feet * k, rect.top + v_feet * k)) == TEXT  # the body
    # It stands in the zone (its feet taken down to the floor): the zone is filled, over black.
    tint = tuple(round(c * 90 / 255) for c in name_colour("step_here"))
    assert close(pixel(image, (rect.left + u_in * k, rect.top + v_in * k)), tint, 2)
    assert pixel(image, (rect.left + 5, rect.bottom - 5)) == RED  # depth, nothing under it
    assert pixel(image, (rect.left + 5, rect.top + 5)) == (0, 0, 0)  # a hole, no image
    assert pixel(image, (panel.left + 16, panel.top + 10 + 28 + 8)) == GOOD  # door: motion


@pytest.mark.parametrize(
    ("height_m", "pitch_deg", "roll_deg"), [(1.2, 15.0, 0.0), (2.0, 40.0, 3.0), (2.8, 60.0, -5.0)]
)
def test_feet_are_found_where_they_stand(
    height_m: float, pitch_deg: float, roll_deg: float
) -> None:
    pose = FloorPose.from_angles(height_m, pitch_deg, roll_deg)
    cal = Calibration(FloorFit(pose, 0.0, 1.0, 1.0, 1.0), PRIMESENSE, "")
    for spot in [(0.0, 1.5), (-0.8, 2.5), (0.6, 4.0)]:
        points = project_floor_points(pose, PRIMESENSE, [spot])
        if not points:
            continue
        ((u, v),) = points
        found = feet_on_floor(cal, body_at(u / 640, v / 480))
        assert found is not None
        assert found == pytest.approx(spot, abs=1e-6)
    above = body_at(0.5, 0.0)  # at the top of the picture, above the horizon when level
    level = Calibration(FloorFit(FloorPose.from_angles(1.5, 0.0, 0.0), 0, 1, 1, 1), PRIMESENSE, "")
    assert feet_on_floor(level, above) is None
