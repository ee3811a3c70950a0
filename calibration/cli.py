"""``exhibit calibrate ...``: the technician's commands.

- ``floor DEPTH -o calibration.json``: fit the floor on a recorded depth sequence (or a live
  ``--device``), with progress while capturing; saved atomically, the old file kept as
  ``.bak``. ``--per-frame`` fits every frame on its own and prints the spread.
- ``verify calibration.json DEPTH``: has the camera moved? exit 0 no, 1 yes.
- ``zones NAME --track track.csv`` (or ``--depth DIR --calibration FILE``): a zone from the
  technician standing still at each corner; prints the ``[zones.NAME]`` table.
- ``report calibration.json -o report``: ``report.txt`` and ``report.png`` (top view).
- ``sensors``, ``cues``, ``gestures``, ``overlay``: in ``calibration/sensors_check.py``,
  ``cues_check.py``, ``gestures_capture.py``, ``overlay_command.py`` (registered here when
  present).

Exit codes: 0 success, 1 the check failed (floor not visible, camera moved, too few corners),
2 an input cannot be read (depth, intrinsics, calibration file, config).

Example:
    >>> parser = argparse.ArgumentParser(prog="exhibit")
    >>> add_calibrate_commands(parser.add_subparsers(dest="command", required=True))
    >>> args = parser.parse_args(["calibrate", "floor", "rec/", "-o", "c.json"])
    >>> args.depth, args.output, args.frames
    ('rec/', 'c.json', 30)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from calibration.floor import (
    Calibration,
    CalibrationFileError,
    FitSettings,
    FloorFit,
    fit_floor,
    load_calibration,
    median_depth,
    save_calibration,
)
from exhibit.depth.errors import DepthError, FloorNotVisibleError
from exhibit.depth.formats import FORMATS
from exhibit.depth.frame import DepthFrame
from exhibit.depth.geometry import FloorPose
from exhibit.depth.intrinsics import Intrinsics, load_intrinsics
from exhibit.errors import ConfigError, ConfigSyntaxError, ExhibitError

TECH_MODULES = (
    "calibration.sensors_check",
    "calibration.cues_check",
    "calibration.gestures_capture",
    "calibration.overlay_command",
)


def _err(message: object) -> None:
    print(f"error: {message}", file=sys.stderr)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _origin(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected X,Y in metres (got {text!r})") from exc
    return x, y


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 (got {text!r})")
    return value


def _capture(
    args: argparse.Namespace, fallback: Intrinsics | None = None
) -> tuple[list[DepthFrame], Intrinsics, str]:
    """Read up to ``--frames`` frames from the recording or device, showing progress.
    Intrinsics: ``--intrinsics``, else ``intrinsics.json`` beside the depth, else ``fallback``
    (verify uses the calibration's own)."""
    intrinsics = load_intrinsics(args.intrinsics) if args.intrinsics else None
    if intrinsics is None and fallback is not None and args.depth:
        from exhibit.depth.recorded import INTRINSICS_FILE

        folder = Path(args.depth) if Path(args.depth).is_dir() else Path(args.depth).parent
        if not (folder / INTRINSICS_FILE).exists():
            intrinsics = fallback
    if args.device:
        from exhibit.depth.devices import open_device

        source: Any = open_device(args.device)
        label = f"{args.device} camera"
        wanted = args.frames
    else:
        if not args.depth:
            raise DepthError("give a depth recording (DEPTH) or --device realsense|oakd")
        from exhibit.depth.recorded import RecordedDepth

        source = RecordedDepth(args.depth, intrinsics, args.format, max_frames=args.frames)
        label = str(args.depth)
        wanted = len(source)  # a recording may hold fewer frames than asked for
    frames: list[DepthFrame] = []
    try:
        it: Iterator[DepthFrame] = source.frames()
        for frame in it:
            frames.append(frame)
            _progress(f"capturing {len(frames)}/{wanted}: valid depth {frame.valid_fraction():.0%}")
            if len(frames) >= args.frames:
                break
    finally:
        source.close()
    if not frames:
        raise DepthError(f"{label}: no depth frames")
    return frames, source.intrinsics, label


def _settings(args: argparse.Namespace) -> FitSettings:
    return FitSettings(threshold_m=args.threshold_m, max_tilt_deg=args.max_tilt_deg)


def _fit_line(name: str, fit: FloorFit) -> str:
    return (
        f"{name}: height {fit.height_m:.3f} m, pitch {fit.pitch_deg:.2f} deg, roll "
        f"{fit.roll_deg:.2f} deg, residual {fit.residual_m * 1000:.1f} mm, inliers "
        f"{fit.inlier_fraction:.3f}, floor {fit.floor_fraction:.0%} of the image"
    )


def _fit_record(name: str, fit: FloorFit) -> dict[str, Any]:
    return {
        "frame": name,
        "height_m": round(fit.height_m, 4),
        "pitch_deg": round(fit.pitch_deg, 3),
        "roll_deg": round(fit.roll_deg, 3),
        "residual_m": round(fit.residual_m, 5),
        "inlier_fraction": round(fit.inlier_fraction, 4),
    }


def _spread(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key in ("height_m", "pitch_deg", "roll_deg", "residual_m", "inlier_fraction"):
        values = [float(r[key]) for r in records]
        med = statistics.median(values)
        out[key] = {
            "median": round(med, 4),
            "stdev": round(statistics.pstdev(values), 4),
            "max_dev": round(max(abs(v - med) for v in values), 4),
        }
    return out


def cmd_floor(args: argparse.Namespace) -> int:
    """``exhibit calibrate floor``."""
    out = Path(args.output) if args.output else None
    try:
        if out is not None and out.exists() and not args.per_frame:
            try:
                load_calibration(out)
            except CalibrationFileError as exc:
                if not args.replace_corrupt:
                    _err(
                        f"{exc}\n(refusing to overwrite it: pass --replace-corrupt to keep it "
                        f"as {out.name}.corrupt and write a new one, the .bak untouched)"
                    )
                    return 2
                os.replace(out, out.with_name(out.name + ".corrupt"))
        frames, intrinsics, label = _capture(args)
    except (DepthError, OSError) as exc:
        _err(exc)
        return 2
    settings = _settings(args)
    if args.per_frame:
        return _per_frame(frames, intrinsics, settings, args)
    try:
        fit = fit_floor(median_depth([f.depth_mm for f in frames]), intrinsics, settings)
    except FloorNotVisibleError as exc:
        _err(exc)
        return 1
    pose = FloorPose(fit.pose.height_m, fit.pose.up, args.origin)
    fit = FloorFit(
        pose, fit.residual_m, fit.inlier_fraction, fit.floor_fraction, fit.valid_fraction
    )
    calibration = Calibration(
        fit,
        intrinsics,
        datetime.now(UTC).isoformat(timespec="seconds"),
        source=label,
        frames=len(frames),
    )
    print(_fit_line(f"floor ({len(frames)} frame(s), per-pixel median)", fit))
    if out is not None:
        try:
            save_calibration(out, calibration)
        except OSError as exc:
            _err(exc)
            return 2
        print(f"saved {out} (previous one, if any, kept as {out.name}.bak)")
    return 0


def _per_frame(
    frames: list[DepthFrame], k: Intrinsics, settings: FitSettings, args: argparse.Namespace
) -> int:
    records: list[dict[str, Any]] = []
    failed = 0
    files = _frame_names(args, len(frames))
    for name, frame in zip(files, frames, strict=True):
        try:
            fit = fit_floor(frame.depth_mm, k, settings)
        except FloorNotVisibleError as exc:
            failed += 1
            print(f"{name}: {exc}")
            continue
        records.append(_fit_record(name, fit))
        if not args.json:
            print(_fit_line(name, fit))
    summary = {"frames": len(frames), "failed": failed, **(_spread(records) if records else {})}
    if args.json:
        print(json.dumps({"per_frame": records, "summary": summary}, indent=1))
    else:
        print("spread: " + json.dumps(summary))
    return 1 if failed else 0


def _frame_names(args: argparse.Namespace, n: int) -> list[str]:
    if args.depth:
        from exhibit.depth.recorded import frame_files

        return [p.name for p in frame_files(Path(args.depth))[:n]]
    return [f"frame {i}" for i in range(n)]


def cmd_verify(args: argparse.Namespace) -> int:
    """``exhibit calibrate verify``."""
    from exhibit.depth.config import CalibrationConfig

    tolerances = CalibrationConfig()
    try:
        if args.config:
            from exhibit.config.load import load

            tolerances = load(args.config).calibration
    except (ConfigError, ConfigSyntaxError) as exc:
        _err(exc)
        return 2
    max_angle = args.max_angle_deg or tolerances.max_angle_change_deg
    max_height = args.max_height_m or tolerances.max_height_change_m
    try:
        saved = load_calibration(args.calibration)
        frames, intrinsics, _ = _capture(args, fallback=saved.intrinsics)
    except (CalibrationFileError, DepthError, OSError) as exc:
        _err(exc)
        return 2
    from calibration.verify import compare

    serial_changed = (
        saved.intrinsics.serial is not None
        and intrinsics.serial is not None
        and saved.intrinsics.serial != intrinsics.serial
    )
    groups = [[f] for f in frames] if args.per_frame else [frames]
    moved = 0
    for i, group in enumerate(groups):
        try:
            fit = fit_floor(median_depth([f.depth_mm for f in group]), intrinsics, _settings(args))
        except FloorNotVisibleError as exc:
            _err(exc)
            return 1
        result = compare(saved.pose, fit.pose, max_angle, max_height, serial_changed)
        moved += result.moved
        prefix = f"frame {i}: " if args.per_frame else ""
        print(prefix + result.describe())
    if args.per_frame:
        print(f"{moved} of {len(groups)} frame(s) beyond tolerance")
    return 1 if moved else 0


def cmd_zones(args: argparse.Namespace) -> int:
    """``exhibit calibrate zones``."""
    from calibration.zones_capture import (
        ZoneCaptureError,
        find_stops,
        read_track_csv,
        track_from_depth,
        zone_toml,
    )
    from exhibit.config.checker import Checker
    from exhibit.zones import parse_zones

    try:
        if args.track:
            track = read_track_csv(args.track)
        else:
            if not (args.depth and args.calibration):
                _err("give --track TRACK.csv, or --depth DIR with --calibration FILE")
                return 2
            calib = load_calibration(args.calibration)
            from exhibit.depth.recorded import RecordedDepth

            source = RecordedDepth(args.depth, calib.intrinsics, args.format)
            track = track_from_depth(source.frames(), calib.pose)
        _progress(f"{len(track)} position(s) in the track")
        corners = find_stops(track, args.hold_s, args.radius_m)
        for i, (x, y) in enumerate(corners):
            _progress(f"corner {i + 1}: ({x:g}, {y:g}) m")
        text = zone_toml(args.name, corners)
    except (ZoneCaptureError, CalibrationFileError, DepthError) as exc:
        _err(exc)
        return 1 if isinstance(exc, ZoneCaptureError) else 2
    import tomllib

    checker = Checker()
    parse_zones(tomllib.loads(text)["zones"], "zones", checker)
    if checker.problems:
        _err("the walked corners do not make a zone: " + "; ".join(checker.problems))
        return 1
    if args.output:
        from exhibit.atomic import write_text_atomic

        write_text_atomic(args.output, text, backup=True)
        _progress(f"saved {args.output}")
    print(text, end="")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``exhibit calibrate report``."""
    from calibration.report import summary, write_report

    try:
        calib = load_calibration(args.calibration)
        zones = {}
        if args.config:
            from exhibit.config.load import load

            zones = load(args.config).zones.zones
        depth: npt.NDArray[np.uint16] | None = None
        if args.depth:
            from exhibit.depth.recorded import RecordedDepth

            source = RecordedDepth(args.depth, calib.intrinsics, args.format, max_frames=10)
            depth = median_depth([f.depth_mm for f in source.frames()])
    except (CalibrationFileError, DepthError, ConfigError, ConfigSyntaxError) as exc:
        _err(exc)
        return 2
    base = Path(args.output)
    text_path, png_path = base.with_suffix(".txt"), base.with_suffix(".png")
    write_report(calib, zones, text_path, png_path, depth)
    print(summary(calib, zones), end="")
    print(f"wrote {text_path} and {png_path}")
    return 0


def _add_capture_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--intrinsics", help="intrinsics JSON, or a preset (primesense)")
    p.add_argument("--format", choices=FORMATS, help="how depth values are stored (default mm)")
    p.add_argument("--frames", type=_positive, default=30, help="frames to use (default 30)")
    p.add_argument("--device", choices=("realsense", "oakd"), help="capture from a live camera")
    p.add_argument("--threshold-m", type=float, default=0.03, help="RANSAC inlier band")
    p.add_argument(
        "--max-tilt-deg",
        type=float,
        default=75.0,
        help="largest floor tilt from the camera's down (95 for a camera looking straight down)",
    )
    p.add_argument("--per-frame", action="store_true", help="fit each frame on its own")


def add_calibrate_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``exhibit calibrate`` and its sub-subcommands to the main parser's subparsers."""
    cal = sub.add_parser("calibrate", help="technician tools: floor, verify, zones, report, ...")
    csub = cal.add_subparsers(dest="what", required=True)

    p = csub.add_parser("floor", help="find the floor in depth: camera height, pitch, roll")
    p.add_argument("depth", nargs="?", help="recorded depth: a folder of 16-bit PNGs, or a file")
    p.add_argument("-o", "--output", help="calibration file to write (JSON)")
    p.add_argument(
        "--origin",
        type=_origin,
        default=(0.0, 0.0),
        metavar="X,Y",
        help="floor origin (e.g. the screen's centre), metres from under the camera",
    )
    p.add_argument(
        "--replace-corrupt",
        action="store_true",
        help="move a corrupt existing output aside instead of refusing",
    )
    p.add_argument("--json", action="store_true", help="with --per-frame: JSON output")
    _add_capture_args(p)
    p.set_defaults(func=cmd_floor)

    p = csub.add_parser("verify", help="has the camera moved since calibration?")
    p.add_argument("calibration")
    p.add_argument("depth", nargs="?")
    p.add_argument("--max-angle-deg", type=float, help="default: [calibration] or 1.5")
    p.add_argument("--max-height-m", type=float, help="default: [calibration] or 0.03")
    p.add_argument("--config", help="the exhibit config, for its [calibration] tolerances")
    _add_capture_args(p)
    p.set_defaults(func=cmd_verify)

    p = csub.add_parser("zones", help="a zone from a technician standing at each corner")
    p.add_argument("name")
    p.add_argument("--track", help="CSV of t_s,x_m,y_m floor positions")
    p.add_argument("--depth", help="recorded depth of the technician walking the corners")
    p.add_argument("--calibration", help="the floor calibration (with --depth)")
    p.add_argument("--format", choices=FORMATS, help="how depth values are stored (default mm)")
    p.add_argument("--hold-s", type=float, default=2.0, help="stand still this long per corner")
    p.add_argument(
        "--radius-m", type=float, default=0.15, help="still: within this many metres (0.15)"
    )
    p.add_argument("-o", "--output", help="also write the [zones.NAME] table to this file")
    p.set_defaults(func=cmd_zones)

    p = csub.add_parser("report", help="text summary and a top-view PNG of floor and zones")
    p.add_argument("calibration")
    p.add_argument(
        "-o", "--output", default="calibration-report", help="writes OUTPUT.txt and OUTPUT.png"
    )
    p.add_argument("--config", help="the exhibit config, for its zones")
    p.add_argument("--depth", help="recorded depth, to draw the floor points")
    p.add_argument("--format", choices=FORMATS, help="how depth values are stored (default mm)")
    p.set_defaults(func=cmd_report)

    for name in TECH_MODULES:  # the other technician tools, each in its own module
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).add_command(csub)


def main(argv: list[str] | None = None) -> int:
    """Run ``exhibit calibrate ...`` on its own (``python -m calibration.cli floor ...``)."""
    parser = argparse.ArgumentParser(prog="exhibit")
    add_calibrate_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["calibrate", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args))
    except ExhibitError as exc:
        _err(exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
