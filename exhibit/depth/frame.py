"""One depth image and the interface every depth source offers.

A :class:`DepthFrame` holds depth in millimetres as ``uint16`` (0 = no reading: a hole),
registered to the colour image: pixel (u, v) of the depth is pixel (u, v) of the colour image,
and ``intrinsics`` are the colour camera's. ``t_s`` is the source's clock, as for pose frames.

Example:
    >>> import numpy as np
    >>> from exhibit.depth.intrinsics import PRIMESENSE
    >>> frame = DepthFrame(0.0, np.full((480, 640), 1500, np.uint16), PRIMESENSE)
    >>> frame.valid_fraction()
    1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from exhibit.depth.errors import DepthError
from exhibit.depth.intrinsics import Intrinsics

DepthImage = npt.NDArray[np.uint16]


@dataclass(frozen=True, eq=False)
class DepthFrame:
    """Depth in mm (``uint16``, 0 = hole), aligned to colour, at source time ``t_s``."""

    t_s: float
    depth_mm: DepthImage
    intrinsics: Intrinsics

    def __post_init__(self) -> None:
        d = self.depth_mm
        if d.dtype != np.uint16 or d.ndim != 2:
            raise DepthError(f"depth must be a 2-D uint16 array in mm (got {d.dtype}, {d.shape})")
        k = self.intrinsics
        if d.shape != (k.height, k.width):
            raise DepthError(
                f"depth is {d.shape[1]}x{d.shape[0]} but the intrinsics say "
                f"{k.width}x{k.height}: the intrinsics belong to another resolution"
            )

    def valid_fraction(self) -> float:
        """The fraction of pixels with a depth reading."""
        return float(np.count_nonzero(self.depth_mm)) / float(self.depth_mm.size)


class DepthSource(Protocol):
    """What every depth source offers: its intrinsics, frames in order, and ``close``."""

    @property
    def intrinsics(self) -> Intrinsics: ...

    def frames(self) -> Iterator[DepthFrame]: ...

    def close(self) -> None: ...
