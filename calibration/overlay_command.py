"""``exhibit calibrate overlay CONFIG``: the technician overlay on the exhibit's own screen.

Reads the camera (or ``--video``) through MediaPipe, or a recording (``--replay``: skeletons and
the sensor readings it kept), optionally a recorded depth sequence (``--depth``), projects the
config's ``[zones]`` into the image with the floor calibration (``[calibration] file``,
:func:`calibration.project.project_floor_polygon`), fills the zones someone stands in (their
feet's image point taken down to the floor plane: :func:`feet_on_floor`), reads the live
sensors (unless replaying)
and draws it all with :mod:`exhibit.ui.overlay`. ``--frames N --screenshot OUT.png`` stop after
N frames and keep the last one (what the tests compare, under SDL's dummy video driver).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="exhibit calibrate")
    >>> add_command(parser.add_subparsers(dest="what", required=True))
    >>> args = parser.parse_args(["overlay", "x.toml", "--replay", "r.jsonl", "--frames", "3"])
    >>> args.replay, args.frames, args.size
    ('r.jsonl', 3, '1100x620')
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt
import pygame

from calibration.floor import Calibration
from exhibit.config.schema import Config
from exhibit.sensors.readings import SensorReading
from exhibit.ui.draw import Fonts
from exhibit.ui.overlay import DEFAULT_SIZE, OverlayView, SensorStates, render_overlay


def load_floor(config: Config) -> tuple[Calibration | None, str]:
    """The config's floor calibration (``[calibration] file``), or ``None`` and why not."""
    from calibration.floor import load_calibration
    from exhibit.errors import ExhibitError

    file = Path(config.base_dir) / config.calibration.file
    if not file.exists():
        return None, f"no floor calibration at {file} (exhibit calibrate floor)"
    try:
        return load_calibration(file), f"floor from {file.name}"
    except ExhibitError as exc:
        return None, str(exc)


def zones_in_pixels(
    config: Config, calibration: Calibration, width_px: int, height_px: int
) -> dict[str, list[tuple[float, float]]]:
    """The config's zones as outlines in image pixels (an image of ``width_px`` x
    ``height_px`` with the calibration's field of view)."""
    from calibration.project import project_floor_polygon

    k = calibration.intrinsics
    sx, sy = width_px / k.width, height_px / k.height
    return {
        name: [
            (u * sx, v * sy) for u, v in project_floor_polygon(calibration.pose, k, zone.polygon_m)
        ]
        for name, zone in config.zones.zones.items()
    }


def feet_on_floor(
    calibration: Calibration, landmarks: npt.NDArray[np.float64], min_visibility: float = 0.3
) -> tuple[float, float] | None:
    """Where a body stands on the floor (x, y in metres): the point between its heels (its
    ankles when the heels are not seen) in the image, followed along its camera ray down to the
    floor plane. ``None`` when neither is seen or the ray does not meet the floor ahead.

    Why not depth: the floor plane is known, so one image point is enough, and a foot's depth
    pixel is often a hole or the floor behind it.

    Example:
        >>> from calibration.floor import Calibration, FloorFit
        >>> from calibration.project import project_floor_points
        >>> from exhibit.depth.geometry import FloorPose
        >>> from exhibit.depth.intrinsics import PRIMESENSE as K
        >>> pose = FloorPose.from_angles(2.0, 40.0, 0.0)
        >>> cal = Calibration(FloorFit(pose, 0.0, 1.0, 1.0, 1.0), K, "")
        >>> (u, v), = project_floor_points(pose, K, [(0.3, 2.5)])
        >>> marks = np.zeros((33, 4)); marks[:, 0], marks[:, 1], marks[:, 3] = u / 640, v / 480, 1
        >>> [round(c, 3) for c in feet_on_floor(cal, marks)]
        [0.3, 2.5]
    """
    from exhibit.skeleton import LANDMARK_INDEX

    for names in (("left_heel", "right_heel"), ("left_ankle", "right_ankle")):
        rows = [landmarks[LANDMARK_INDEX[n]] for n in names]
        seen = [r for r in rows if r[3] >= min_visibility]
        if seen:
            x = float(np.mean([r[0] for r in seen]))
            y = float(np.mean([r[1] for r in seen]))
            break
    else:
        return None
    k = calibration.intrinsics
    ray = np.array([(x * k.width - k.cx) / k.fx, (y * k.height - k.cy) / k.fy, 1.0])
    pose = calibration.pose
    towards = float(np.dot(pose.up, ray))
    if towards >= -1e-9:
        return None  # at or above the horizon
    point = ray * (-pose.height_m / towards)
    floor = pose.camera_to_floor(point)[0]
    return float(floor[0]), float(floor[1])


@dataclass
class _Source:
    """What the command reads each frame: (image or None, skeleton landmarks, readings,
    width, height)."""

    frames: Iterator[
        tuple[npt.NDArray[np.uint8] | None, tuple[Any, ...], tuple[SensorReading, ...], int, int]
    ]
    describe: str


def _replay_source(path: str) -> _Source:
    from exhibit.recording.reader import read_recording

    def gen() -> Iterator[tuple[None, tuple[Any, ...], tuple[SensorReading, ...], int, int]]:
        for frame in read_recording(path).frames():
            marks = tuple(s.landmarks for s in frame.skeletons)
            yield None, marks, frame.sensors, frame.width_px, frame.height_px

    return _Source(gen(), f"replay {path}")


def _image_source(spec: str, config: Config, stack: ExitStack) -> _Source:
    from exhibit.sources.images import open_image_source
    from exhibit.sources.pose import PoseEstimator

    images = open_image_source(spec, config.camera)
    stack.callback(images.close)
    estimator = stack.enter_context(PoseEstimator(config.pose))

    def gen() -> Iterator[tuple[Any, tuple[Any, ...], tuple[SensorReading, ...], int, int]]:
        for captured in images:
            skeletons = estimator.estimate(captured.image_rgb)
            marks = tuple(s.landmarks for s in skeletons)
            yield captured.image_rgb, marks, (), captured.width_px, captured.height_px

    return _Source(gen(), images.describe())


def run_overlay(
    config: Config,
    *,
    video: str | None = None,
    replay: str | None = None,
    depth: str | None = None,
    frames: int | None = None,
    screenshot: Path | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    fullscreen: bool = False,
    fps: float = 30.0,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
    pin_factory: Any = None,
) -> int:
    """``exhibit calibrate overlay``: open the window and show the overlay until Esc/Q, the
    window is closed, ``stop`` is set, the source ends or ``frames`` frames were drawn; save the
    last one to ``screenshot``. Live sensors are read (``SensorFeed``) unless ``replay`` is
    given, whose recorded readings are shown instead. Returns 0, or 2 when nothing could be
    opened (the reason on stderr)."""
    from exhibit.errors import ExhibitError

    out = out or sys.stdout
    stop = stop or threading.Event()
    with ExitStack() as stack:
        try:
            if replay is not None:
                source = _replay_source(replay)
            else:
                spec = video if video is not None else str(config.camera.device)
                source = _image_source(spec, config, stack)
            depth_frames: Iterator[Any] | None = None
            if depth is not None:
                from exhibit.depth.recorded import RecordedDepth

                depth_frames = RecordedDepth(depth).frames()
        except (ExhibitError, OSError) as exc:
            print(f"overlay: {exc}", file=sys.stderr)
            return 2
        states = SensorStates(config.sensor_types())
        feed = None
        if replay is None and config.sensor_types():
            from exhibit.sensors.feed import SensorFeed

            try:
                feed = SensorFeed(config, pin_factory=pin_factory)
                stack.callback(feed.close)
            except ExhibitError as exc:
                states.note("sensors", str(exc))
        pygame.display.init()
        stack.callback(pygame.display.quit)
        if fullscreen:
            screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        else:
            screen = pygame.display.set_mode(size)
        pygame.display.set_caption(f"exhibit overlay - {config.name}")
        fonts = Fonts()
        clock = pygame.time.Clock()
        drawn = 0
        zones: dict[str, list[tuple[float, float]]] | None = None
        calibration, floor_note = load_floor(config)
        note = ""
        depth_mm = None
        started = time.monotonic()
        for image, marks, readings, width_px, height_px in source.frames:
            if zones is None:
                zones, note = {}, "no [zones] in the config"
                if calibration is None and config.zones.zones:
                    note = f"zones not drawn: {floor_note}"
                elif calibration is not None:
                    zones = zones_in_pixels(config, calibration, width_px, height_px)
                    note = f"zones projected with the {floor_note}" if zones else floor_note
                print(f"overlay: {source.describe}; {note}", file=out, flush=True)
            states.apply(readings)
            if feed is not None:
                states.apply(feed.poll())
            if depth_frames is not None:
                frame = next(depth_frames, None)
                if frame is None:
                    depth_frames = None  # the last depth frame stays on screen
                else:
                    depth_mm = frame.depth_mm
            spots = [] if calibration is None else [feet_on_floor(calibration, m) for m in marks]
            standing = [p for p in spots if p is not None]
            occupied = frozenset(
                name
                for name, zone in config.zones.zones.items()
                if any(zone.contains(p) for p in standing)
            )
            where = "   ".join(f"visitor at ({x:.2f}, {y:.2f}) m" for x, y in standing)
            view = OverlayView(
                width_px=width_px,
                height_px=height_px,
                image_rgb=image,
                skeletons=marks,
                zones_px=zones,
                occupied=occupied,
                depth_mm=depth_mm,
                sensors=tuple(states.rows()),
                lines=(f"{source.describe}   frame {drawn + 1}   {note}", where),
            )
            render_overlay(view, screen, fonts)
            pygame.display.flip()
            drawn += 1
            closing = False
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (
                    event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
                ):
                    closing = True
            if closing or stop.is_set() or (frames is not None and drawn >= frames):
                break
            clock.tick(fps)
        if screenshot is not None and drawn:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(screen, str(screenshot))
            print(f"overlay: saved {screenshot}", file=out, flush=True)
        elapsed = time.monotonic() - started
        print(f"overlay: {drawn} frame(s) in {elapsed:.1f} s", file=out, flush=True)
    return 0


def add_command(calibrate_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``overlay`` to ``exhibit calibrate``'s subcommands."""
    p = calibrate_sub.add_parser(
        "overlay",
        help="the technician overlay: image, skeletons, zones on the floor, depth, sensors",
    )
    p.add_argument("config")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--video", help="a video file or image folder instead of the camera")
    src.add_argument("--replay", help="a recording (.jsonl): skeletons and sensor readings")
    p.add_argument("--depth", help="recorded depth (16-bit PNG folder with intrinsics.json)")
    p.add_argument("--frames", type=int, help="stop after this many frames")
    p.add_argument("--screenshot", help="save the last frame as PNG here")
    p.add_argument("--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", help="window WxH")
    p.add_argument("--fullscreen", action="store_true")
    p.set_defaults(func=cmd_overlay)


def cmd_overlay(args: argparse.Namespace) -> int:
    """``exhibit calibrate overlay CONFIG``: exit 0, or 2 when the source cannot be opened."""
    from exhibit.config.load import load

    config = load(args.config)
    width, _, height = str(args.size).partition("x")
    return run_overlay(
        config,
        video=args.video,
        replay=args.replay,
        depth=args.depth,
        frames=args.frames,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        size=(int(width), int(height)),
        fullscreen=args.fullscreen,
    )


__all__ = [
    "add_command",
    "cmd_overlay",
    "feet_on_floor",
    "load_floor",
    "run_overlay",
    "zones_in_pixels",
]
