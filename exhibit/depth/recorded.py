"""Recorded depth: a folder of 16-bit PNG frames in millimetres plus ``intrinsics.json``.

The format is in ``docs/depth-format.md``. Frames are taken in the natural order of their
names (``frame_2.png`` before ``frame_10.png``); frame ``i`` is at ``t_s = i / fps``.

Example:
    >>> import tempfile, json, pathlib, numpy as np, cv2
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "intrinsics.json").write_text(json.dumps({"fx": 50, "fy": 50,
    ...     "cx": 15.5, "cy": 11.5, "width": 32, "height": 24, "fps": 10}))
    >>> _ = cv2.imwrite(str(folder / "0.png"), np.full((24, 32), 1200, np.uint16))
    >>> [f.t_s for f in RecordedDepth(folder).frames()]
    [0.0]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from exhibit.depth.errors import DepthError
from exhibit.depth.formats import FORMATS, read_depth_image
from exhibit.depth.frame import DepthFrame
from exhibit.depth.intrinsics import Intrinsics, load_intrinsics

INTRINSICS_FILE = "intrinsics.json"
FRAME_SUFFIXES = (".png", ".pgm")
DEFAULT_FPS = 30.0


def _natural_key(path: Path) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def frame_files(path: Path) -> list[Path]:
    """The depth frames at ``path``: the file itself, or a folder's PNG/PGM files in order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DepthError(f"{path}: no such depth file or folder")
    files = sorted(
        (p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file()),
        key=_natural_key,
    )
    if not files:
        raise DepthError(f"{path}: no .png or .pgm depth frames in this folder")
    return files


class RecordedDepth:
    """A recorded depth sequence (a folder, or one file), replayed as :class:`DepthFrame`\\ s.

    ``intrinsics``: given, or read from ``intrinsics.json`` beside the frames (a missing file
    is an :class:`~exhibit.depth.errors.IntrinsicsError` that says what to write).
    ``fmt``: how the values are stored (``mm`` for this project's recordings; see
    :mod:`exhibit.depth.formats`), else the ``depth_format`` key of ``intrinsics.json``.
    """

    def __init__(
        self,
        path: str | Path,
        intrinsics: Intrinsics | None = None,
        fmt: str | None = None,
        max_frames: int | None = None,
    ) -> None:
        self.path = Path(path)
        self._files = frame_files(self.path)
        if max_frames is not None:
            self._files = self._files[:max_frames]
        folder = self.path if self.path.is_dir() else self.path.parent
        meta = self._meta(folder / INTRINSICS_FILE)  # fps and format, even when given intrinsics
        self._intrinsics = intrinsics or load_intrinsics(folder / INTRINSICS_FILE)
        fps = meta.get("fps", DEFAULT_FPS)
        if isinstance(fps, bool) or not isinstance(fps, int | float) or fps <= 0:
            raise DepthError(f"{folder / INTRINSICS_FILE}: fps must be a number > 0 (got {fps!r})")
        self.fps = float(fps)
        stored = meta.get("depth_format")
        fmt = fmt or (stored if isinstance(stored, str) else None)
        if fmt is not None and fmt not in FORMATS:
            raise DepthError(f"depth format {fmt!r} unknown; expected one of {', '.join(FORMATS)}")
        self.fmt = fmt

    @staticmethod
    def _meta(file: Path) -> dict[str, object]:
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}  # load_intrinsics reports the problem with its fix
        return raw if isinstance(raw, dict) else {}

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def __len__(self) -> int:
        return len(self._files)

    @property
    def files(self) -> list[Path]:
        return list(self._files)

    def frames(self) -> Iterator[DepthFrame]:
        for i, file in enumerate(self._files):
            image = read_depth_image(file, self.fmt)
            try:
                frame = DepthFrame(i / self.fps, image, self._intrinsics)
            except DepthError as exc:
                raise DepthError(f"{file}: {exc}") from exc
            yield frame

    def close(self) -> None:
        """Nothing to release: files are opened one frame at a time."""
