"""The recording wire format as pure functions: one JSON object per line.

Line 1 is the header; every other line is one frame. Floats are rounded (``t`` to 6 decimals,
landmarks to 5) and written with compact separators, so encoding a decoded line gives the
same bytes. Decoding is strict and says exactly what is wrong in a ``ValueError``; the reader
adds the file name and line number. The schema and the versioning policy are in
docs/recording-format.md.

Example:
    >>> from exhibit.skeleton import Frame
    >>> encode_frame(Frame(t_s=0.0333333333, index=1, width_px=640, height_px=480))
    '{"t":0.033333,"i":1,"skeletons":[]}'
    >>> decode_frame('{"t":0.033333,"i":1,"skeletons":[]}').t_s
    0.033333
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from exhibit.depth.spot import FloorSpot, MetricSkeleton
from exhibit.recording.controls import (
    CommandedFrame,
    ControlRecord,
    controls_of,
    decode_control,
    encode_control,
)
from exhibit.sensors.readings import decode_reading, encode_reading
from exhibit.skeleton import NUM_LANDMARKS, Frame, Skeleton

FORMAT_NAME = "exhibit-recording"
FORMAT_VERSION = 4
"""The newest version this exhibit reads and writes."""
PLAIN_VERSION = 3
"""The version a recording is started in: one without floor spots stays in it, byte for byte as
before version 4 (:class:`~exhibit.recording.writer.RecordingWriter` raises the header to
:data:`SPOT_VERSION` when the first spot comes)."""
SPOT_VERSION = 4
LANDMARK_SET = "mediapipe-pose-33"
T_DECIMALS = 6
LANDMARK_DECIMALS = 5

HEADER_KEYS = ("format", "version", "source", "fps", "width", "height", "landmarks")
FRAME_KEYS = frozenset({"t", "i", "skeletons"})
# Sensor readings of the frame (GPIO, serial bridge): written only when there are some, so a
# camera-only recording is unchanged; each is {"t", "s", "k", "v"} (exhibit.sensors.readings).
# Control commands applied just before the frame (version 3; exhibit/recording/controls.py):
# written only when there are some.
OPTIONAL_FRAME_KEYS = frozenset({"sensors", "pose", "camera", "control"})
CONTROL_VERSION = 3
SKELETON_KEYS = frozenset({"lm", "world"})
# Where the body stood (version 4; exhibit/depth/spot.py): written for a body the sources
# measured, null when they measured it but could not place it.
OPTIONAL_SKELETON_KEYS = frozenset({"spot"})
SPOT_KEYS = ("x_m", "y_m", "distance_m", "height_m", "source")
SPOT_SOURCES = ("depth", "feet")

_SEPARATORS = (",", ":")


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    """What a recording says about itself on its first line.

    ``source`` is a short description (``"video:clip.avi"``, ``"camera:0"``); ``fps`` the
    source's nominal rate (0 when unknown); ``width_px``/``height_px`` the image size the
    normalized landmarks refer to; ``version`` the format version it was written in (a new
    recording starts in :data:`PLAIN_VERSION`; see docs/recording-format.md).

    Example:
        >>> encode_header(RecordingHeader("camera:0", 30.0, 640, 480))[:42]
        '{"format":"exhibit-recording","version":3,'
    """

    source: str
    fps: float
    width_px: int
    height_px: int
    version: int = PLAIN_VERSION


def _fail(reason: str) -> NoReturn:
    raise ValueError(reason)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _reject_constant(name: str) -> NoReturn:
    _fail(f"{name} is not a number JSON allows")


def _parse_object(line: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        _fail(f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(value, dict):
        _fail(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _check_keys(
    obj: dict[str, Any], required: frozenset[str], optional: frozenset[str], what: str
) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        _fail(f"{what}: missing key {', '.join(repr(k) for k in missing)}")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        _fail(f"{what}: unknown key {', '.join(repr(k) for k in unknown)}")


# -- header ------------------------------------------------------------------------------


def encode_header(header: RecordingHeader) -> str:
    """The header line (without the newline)."""
    if not math.isfinite(header.fps) or header.fps < 0:
        _fail(f"header fps must be a finite number >= 0, got {header.fps}")
    obj = {
        "format": FORMAT_NAME,
        "version": header.version,
        "source": header.source,
        "fps": float(header.fps),
        "width": int(header.width_px),
        "height": int(header.height_px),
        "landmarks": LANDMARK_SET,
    }
    return json.dumps(obj, separators=_SEPARATORS, ensure_ascii=False, allow_nan=False)


def decode_header(line: str) -> RecordingHeader:
    """Parse and check a header line; ``ValueError`` says what is wrong."""
    obj = _parse_object(line, "header")
    if obj.get("format") != FORMAT_NAME:
        _fail(
            f"not an exhibit recording (format is {obj.get('format')!r}, expected {FORMAT_NAME!r})"
        )
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(f"header version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        _fail(f"made by a newer exhibit, version {version}; this one reads {FORMAT_VERSION}")
    _check_keys(obj, frozenset(HEADER_KEYS), frozenset(), "header")
    if not isinstance(obj["source"], str):
        _fail(f"header source must be a string, got {obj['source']!r}")
    fps = obj["fps"]
    if not _is_number(fps) or not math.isfinite(fps) or fps < 0:
        _fail(f"header fps must be a number >= 0, got {fps!r}")
    for key in ("width", "height"):
        value = obj[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            _fail(f"header {key} must be a positive integer (pixels), got {value!r}")
    if obj["landmarks"] != LANDMARK_SET:
        _fail(f"header landmarks is {obj['landmarks']!r}; this exhibit reads {LANDMARK_SET!r}")
    return RecordingHeader(
        source=obj["source"],
        fps=float(fps),
        width_px=obj["width"],
        height_px=obj["height"],
        version=version,
    )


# -- frames ------------------------------------------------------------------------------


def _rounded_rows(array: npt.NDArray[np.float64], what: str) -> list[list[float]]:
    if not np.all(np.isfinite(array)):
        _fail(f"{what} holds NaN or infinity")
    # + 0.0 turns -0.0 into 0.0, so the text does not depend on the sign of a zero.
    rows: list[list[float]] = (np.round(array, LANDMARK_DECIMALS) + 0.0).tolist()
    return rows


def carries_spots(frame: Frame) -> bool:
    """True when a body of ``frame`` was measured by the sources (its line has ``spot``: a
    version-4 line)."""
    return any(isinstance(s, MetricSkeleton) for s in frame.skeletons)


def encode_spot(spot: FloorSpot | None) -> dict[str, Any] | None:
    """A body's ``spot`` (version 4): its floor numbers, or None (measured, not placed).

    Example:
        >>> encode_spot(FloorSpot.of((0.2, 3.9), 3.9051, 1.7, "depth"))
        {'x_m': 0.2, 'y_m': 3.9, 'distance_m': 3.9051, 'height_m': 1.7, 'source': 'depth'}
    """
    if spot is None:
        return None
    x, y = spot.floor_xy_m
    numbers = (x, y, spot.distance_m, 0.0 if spot.height_m is None else spot.height_m)
    if not all(math.isfinite(n) for n in numbers):
        _fail(f"spot holds NaN or infinity: {spot}")
    return {
        "x_m": x,
        "y_m": y,
        "distance_m": spot.distance_m,
        "height_m": spot.height_m,
        "source": spot.source,
    }


def decode_spot(value: object, what: str) -> FloorSpot | None:
    """Check a skeleton's ``spot``; ``ValueError`` says what is wrong. Numbers are taken as
    written (they were rounded when measured), so encoding gives the same bytes."""
    if value is None:
        return None
    if not isinstance(value, dict):
        _fail(f"{what} must be an object with {', '.join(SPOT_KEYS)} or null, got {value!r:.80}")
    _check_keys(value, frozenset(SPOT_KEYS), frozenset(), what)
    numbers: dict[str, float] = {}
    for key in ("x_m", "y_m", "distance_m", "height_m"):
        number = value[key]
        if key == "height_m" and number is None:
            continue
        if not _is_number(number) or not math.isfinite(number):
            _fail(f"{what} {key} must be a number (metres), got {number!r}")
        numbers[key] = float(number)
    if numbers["distance_m"] < 0:
        _fail(f"{what} distance_m must be >= 0 (metres), got {numbers['distance_m']!r}")
    source = value["source"]
    if source not in SPOT_SOURCES:
        _fail(f"{what} source must be one of {', '.join(SPOT_SOURCES)}, got {source!r}")
    return FloorSpot(
        (numbers["x_m"], numbers["y_m"]),
        numbers["distance_m"],
        numbers.get("height_m"),
        "depth" if source == "depth" else "feet",
    )


def encode_frame(frame: Frame) -> str:
    """One frame line (without the newline). ``ValueError`` on NaN or infinity."""
    if not math.isfinite(frame.t_s):
        _fail(f"frame t must be finite, got {frame.t_s}")
    skeletons = []
    for skeleton in frame.skeletons:
        world = skeleton.world_m
        entry: dict[str, Any] = {
            "lm": _rounded_rows(skeleton.landmarks, "landmarks"),
            "world": None if world is None else _rounded_rows(world, "world landmarks"),
        }
        if isinstance(skeleton, MetricSkeleton):  # measured by the sources: where it stood
            entry["spot"] = encode_spot(skeleton.spot)
        skeletons.append(entry)
    obj: dict[str, Any] = {
        "t": round(frame.t_s, T_DECIMALS) + 0.0,
        "i": int(frame.index),
        "skeletons": skeletons,
    }
    if frame.sensors:
        obj["sensors"] = [encode_reading(r) for r in frame.sensors]
    if not frame.pose_ran:
        obj["pose"] = False
    if not frame.camera_ok:
        obj["camera"] = False
    controls = controls_of(frame)
    if controls:
        obj["control"] = [encode_control(c) for c in controls]
    return json.dumps(obj, separators=_SEPARATORS, ensure_ascii=False, allow_nan=False)


def _decode_rows(value: object, columns: int, what: str) -> npt.NDArray[np.float64]:
    if not isinstance(value, list):
        _fail(f"{what} must be a list of {NUM_LANDMARKS} points, got {type(value).__name__}")
    if len(value) != NUM_LANDMARKS:
        _fail(f"{what} has {len(value)} points, expected {NUM_LANDMARKS}")
    for n, row in enumerate(value):
        if not isinstance(row, list) or len(row) != columns:
            _fail(f"{what} point {n} must be a list of {columns} numbers, got {row!r}")
        for number in row:
            if not _is_number(number):
                _fail(f"{what} point {n} holds {number!r}, not a number")
    array = np.array(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        _fail(f"{what} holds a number too large for a float")
    array.flags.writeable = False
    return array


def decode_frame(
    line: str, *, width_px: int = 0, height_px: int = 0, version: int = FORMAT_VERSION
) -> Frame:
    """Parse and check a frame line; ``ValueError`` says what is wrong.

    The image size is not repeated on every line: pass the header's, and its ``version``
    (a version-1 file's ``sensors`` list is accepted and ignored).
    """
    obj = _parse_object(line, "frame")
    _check_keys(obj, FRAME_KEYS, OPTIONAL_FRAME_KEYS, "frame")
    t = obj["t"]
    if not _is_number(t) or not math.isfinite(t):
        _fail(f"frame t must be a number (seconds), got {t!r}")
    index = obj["i"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        _fail(f"frame i must be an integer >= 0, got {index!r}")
    if "sensors" in obj and not isinstance(obj["sensors"], list):
        _fail(f"frame sensors must be a list, got {type(obj['sensors']).__name__}")
    readings = []
    for n, raw_reading in enumerate(obj.get("sensors", []) if version >= 2 else []):
        try:
            readings.append(decode_reading(raw_reading))
        except ValueError as exc:
            _fail(f"sensor reading {n}: {exc}")
    raw_skeletons = obj["skeletons"]
    if not isinstance(raw_skeletons, list):
        _fail(f"frame skeletons must be a list, got {type(raw_skeletons).__name__}")
    skeletons = []
    for n, raw in enumerate(raw_skeletons):
        what = f"skeleton {n}"
        if not isinstance(raw, dict):
            _fail(f"{what} must be an object, got {type(raw).__name__}")
        _check_keys(raw, SKELETON_KEYS, OPTIONAL_SKELETON_KEYS, what)
        landmarks = _decode_rows(raw["lm"], 4, f"{what} lm")
        world = None if raw["world"] is None else _decode_rows(raw["world"], 3, f"{what} world")
        if "spot" not in raw:
            skeletons.append(Skeleton(landmarks, world))
            continue
        if version < SPOT_VERSION:
            _fail(
                f"{what} spot is not part of version {version} (floor spots came with version "
                f"{SPOT_VERSION}); the header's version is wrong"
            )
        skeletons.append(MetricSkeleton(landmarks, world, decode_spot(raw["spot"], f"{what} spot")))
    controls = _controls(obj, version)
    return (CommandedFrame if controls else Frame)(
        t_s=float(t),
        index=index,
        width_px=width_px,
        height_px=height_px,
        skeletons=tuple(skeletons),
        sensors=tuple(readings),
        pose_ran=_flag(obj, "pose"),
        camera_ok=_flag(obj, "camera"),
        **({"controls": controls} if controls else {}),
    )


def _controls(obj: dict[str, Any], version: int) -> tuple[ControlRecord, ...]:
    """A frame's ``control`` list (version 3 on): the commands applied just before it."""
    if "control" not in obj:
        return ()
    if version < CONTROL_VERSION:
        _fail(
            f"frame control is not part of version {version} (control commands came with "
            f"version {CONTROL_VERSION}); the header's version is wrong"
        )
    raw = obj["control"]
    if not isinstance(raw, list) or not raw:
        _fail(f"frame control must be a non-empty list of commands, got {raw!r:.80}")
    records = []
    for n, entry in enumerate(raw):
        try:
            records.append(decode_control(entry))
        except ValueError as exc:
            _fail(f"control {n}: {exc}")
    return tuple(records)


def _flag(obj: dict[str, Any], key: str) -> bool:
    """An optional frame flag: absent means true; present, it must be false."""
    if key not in obj:
        return True
    if obj[key] is not False:
        _fail(f"frame {key} must be false when present (absent means true), got {obj[key]!r}")
    return False
