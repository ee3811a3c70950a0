"""List the video devices a camera could be opened from, for error messages and technicians.

Linux only (V4L2): ``/dev/video*`` nodes, plus the stable names udev makes under
``/dev/v4l/by-id`` (they survive re-plugging into another USB port, so they are the ones to put
in a config). Elsewhere the list is simply empty.

Example:
    >>> isinstance(list_video_devices(), list)
    True
"""

from __future__ import annotations

import re
from pathlib import Path

_VIDEO_NODE = re.compile(r"^video(\d+)$")


def list_video_devices(dev_dir: Path | str = "/dev") -> list[str]:
    """``/dev/videoN`` paths in numeric order, then ``/dev/v4l/by-id/NAME -> /dev/videoN``.

    ``dev_dir`` is there for tests (a folder laid out like ``/dev``).
    """
    root = Path(dev_dir)
    nodes: list[tuple[int, str]] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        entries = []
    for entry in entries:
        match = _VIDEO_NODE.match(entry.name)
        if match:
            nodes.append((int(match.group(1)), str(entry)))
    found = [path for _, path in sorted(nodes)]
    by_id = root / "v4l" / "by-id"
    try:
        links = sorted(by_id.iterdir())
    except OSError:
        links = []
    for link in links:
        try:
            target = link.resolve(strict=False)
            found.append(f"{link} -> {target}" if link.is_symlink() else str(link))
        except OSError:
            found.append(str(link))
    return found


def describe_video_devices(dev_dir: Path | str = "/dev") -> str:
    """One line for an error message: the devices found, or ``no video devices found``."""
    devices = list_video_devices(dev_dir)
    if not devices:
        return "no video devices found"
    return "video devices found: " + ", ".join(devices)
