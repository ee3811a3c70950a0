"""Pinhole intrinsics of the camera the depth is aligned to, and reading them from JSON.

Depth from every source in this package is registered to the colour image, so one set of
intrinsics serves both: a landmark MediaPipe finds at pixel (u, v) has its depth at (u, v).
The JSON forms read here are this project's (``docs/depth-format.md``) and Open3D's
``PinholeCameraIntrinsic`` file (``width``, ``height``, column-major ``intrinsic_matrix``),
which many RGB-D datasets ship.

Example:
    >>> k = Intrinsics.from_mapping({"fx": 525.0, "fy": 525.0, "cx": 319.5, "cy": 239.5,
    ...                              "width": 640, "height": 480}, "intrinsics.json")
    >>> round(k.horizontal_fov_deg(), 1)
    62.7
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from exhibit.depth.errors import IntrinsicsError

REQUIRED_KEYS = ("fx", "fy", "cx", "cy", "width", "height")
FIX = 'write {"fx": 525.0, "fy": 525.0, "cx": 319.5, "cy": 239.5, "width": 640, "height": 480}'


@dataclass(frozen=True)
class Intrinsics:
    """Focal lengths and principal point in pixels, image size in pixels, and the device's
    serial number when it came from a device (kept in calibrations so a swapped camera is
    noticed)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    serial: str | None = None

    def horizontal_fov_deg(self) -> float:
        return math.degrees(2.0 * math.atan2(self.width / 2.0, self.fx))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.serial is None:
            del d["serial"]
        return d

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str) -> Intrinsics:
        """Validate a mapping in this project's or Open3D's form; errors name ``source``."""
        if not isinstance(raw, Mapping):
            raise IntrinsicsError(f"{source}: not a JSON object; {FIX}")
        if "intrinsic_matrix" in raw and "fx" not in raw:
            m = raw["intrinsic_matrix"]
            if not (isinstance(m, list) and len(m) == 9):
                raise IntrinsicsError(
                    f"{source}: intrinsic_matrix is not a list of 9 numbers (column-major 3x3)"
                )
            raw = {**raw, "fx": m[0], "fy": m[4], "cx": m[6], "cy": m[7]}
        missing = [k for k in REQUIRED_KEYS if k not in raw]
        if missing:
            raise IntrinsicsError(f"{source}: missing {', '.join(missing)}; {FIX}")
        values: dict[str, float] = {}
        for key in REQUIRED_KEYS:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise IntrinsicsError(f"{source}: {key} is not a number (got {v!r})")
            if v <= 0:
                raise IntrinsicsError(f"{source}: {key} must be > 0 (got {v!r})")
            values[key] = float(v)
        for key in ("width", "height"):
            if values[key] != int(values[key]):
                raise IntrinsicsError(f"{source}: {key} is not a whole number of pixels")
        serial = raw.get("serial")
        return cls(
            fx=values["fx"],
            fy=values["fy"],
            cx=values["cx"],
            cy=values["cy"],
            width=int(values["width"]),
            height=int(values["height"]),
            serial=str(serial) if serial is not None else None,
        )


# Microsoft Kinect / ASUS PrimeSense at 640x480: the defaults Open3D and the TUM, NYU and SUN
# RGB-D tools use when a dataset ships no calibration of its own.
PRIMESENSE = Intrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480)
PRESETS = {"primesense": PRIMESENSE}


def load_intrinsics(path: str | Path) -> Intrinsics:
    """Read intrinsics from a JSON file, or a preset name (``primesense``)."""
    if str(path) in PRESETS:
        return PRESETS[str(path)]
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise IntrinsicsError(
            f"{file}: no intrinsics file; {FIX} there, or pass --intrinsics primesense"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise IntrinsicsError(f"{file}: cannot be read ({exc})") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntrinsicsError(f"{file}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return Intrinsics.from_mapping(raw, str(file))
