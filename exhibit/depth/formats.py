"""Readers for depth images as datasets store them, each turned into uint16 millimetres.

This project records depth as 16-bit PNG in millimetres (``mm``, docs/depth-format.md). Public
RGB-D datasets store it otherwise, and ``exhibit calibrate floor --format`` reads them as they
are:

- ``tum``: TUM RGB-D benchmark, 16-bit PNG, 5000 units per metre (so 1 unit = 0.2 mm).
- ``sun``: SUN RGB-D, 16-bit PNG in mm with the bits rotated right by 3
  (``(v >> 3) | (v << 13)``), as the dataset's own ``depthRead.m`` undoes it.
- ``nyu``: NYU Depth v2 raw Kinect frames, 16-bit PGM whose bytes are swapped against the
  header's big-endian promise, holding Kinect disparity ``d``; metres = ``351.3 / (1092.5 - d)``
  (the conversion Open3D's ``create_from_nyu_format`` uses). Values that give no positive
  depth are holes.

Example:
    >>> import numpy as np
    >>> to_mm(np.array([[5000, 0]], np.uint16), "tum").tolist()
    [[1000, 0]]
    >>> to_mm(np.array([[1500 << 3]], np.uint16), "sun").tolist()
    [[1500]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from exhibit.depth.errors import DepthError

FORMATS = ("mm", "tum", "sun", "nyu")
MAX_DEPTH_MM = 65535


def to_mm(raw: npt.NDArray[np.uint16], fmt: str) -> npt.NDArray[np.uint16]:
    """Raw 16-bit values as a dataset stores them -> uint16 mm (0 = hole)."""
    if fmt == "mm":
        copy: npt.NDArray[np.uint16] = raw.astype(np.uint16, copy=True)
        return copy
    if fmt == "tum":
        tum: npt.NDArray[np.uint16] = np.round(raw.astype(np.float64) / 5.0).astype(np.uint16)
        return tum
    if fmt == "sun":
        v = raw.astype(np.uint32)
        rotated: npt.NDArray[np.uint16] = (((v >> 3) | (v << 13)) & 0xFFFF).astype(np.uint16)
        return rotated
    if fmt == "nyu":
        disparity = raw.byteswap().astype(np.float64)
        with np.errstate(divide="ignore"):
            metres = 351.3 / (1092.5 - disparity)
        mm = np.where((metres > 0) & (metres < MAX_DEPTH_MM / 1000.0), metres * 1000.0, 0.0)
        out: npt.NDArray[np.uint16] = np.round(mm).astype(np.uint16)
        return out
    raise DepthError(f"unknown depth format {fmt!r}; expected one of {', '.join(FORMATS)}")


def guess_format(path: Path) -> str:
    """``nyu`` for a ``.pgm`` file, ``mm`` otherwise (the project's own recordings)."""
    return "nyu" if path.suffix.lower() == ".pgm" else "mm"


def read_depth_image(path: str | Path, fmt: str | None = None) -> npt.NDArray[np.uint16]:
    """Read one depth image file as uint16 mm; errors name the file and what was found."""
    file = Path(path)
    if not file.is_file():
        raise DepthError(f"{file}: no such depth image")
    import cv2  # here, not at import: ``exhibit --help`` should not pay for OpenCV

    raw = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise DepthError(f"{file}: not an image OpenCV can read (PNG or PGM expected)")
    if raw.dtype != np.uint16 or raw.ndim != 2:
        channels = 1 if raw.ndim == 2 else raw.shape[2]
        raise DepthError(
            f"{file}: not a 16-bit single-channel depth image (got {raw.dtype}, "
            f"{channels} channel(s)); depth must be saved as 16-bit PNG in millimetres"
        )
    image = np.asarray(raw, dtype=np.uint16)
    return to_mm(image, fmt or guess_format(file))
