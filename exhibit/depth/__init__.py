"""Depth: frames in millimetres aligned to colour, their sources, and metric landmarks.

- :mod:`~exhibit.depth.frame`: :class:`DepthFrame` and the :class:`DepthSource` protocol.
- :mod:`~exhibit.depth.intrinsics`: pinhole intrinsics and their JSON.
- :mod:`~exhibit.depth.recorded`: recorded sequences (docs/depth-format.md).
- :mod:`~exhibit.depth.formats`: dataset readers (TUM, SUN RGB-D, NYU).
- :mod:`~exhibit.depth.devices`: RealSense and OAK-D, optional and imported lazily.
- :mod:`~exhibit.depth.landmarks`: a landmark's robust depth and back-projection.
- :mod:`~exhibit.depth.geometry`: the camera's pose over the floor (camera <-> floor frame).
- :mod:`~exhibit.depth.visitors`: a visitor in metres (floor position, height, joints).
- :mod:`~exhibit.depth.spot`: a body's floor spot, carried on its skeleton.
- :mod:`~exhibit.depth.pairing`: depth (recorded or live) paired with the pose frames.
- :mod:`~exhibit.depth.live`: a live device's newest frame, read on its own thread.
- :mod:`~exhibit.depth.config`: ``[calibration]`` and ``[depth]`` in the config.
"""

from exhibit.depth.errors import DepthDriverMissingError, DepthError, IntrinsicsError
from exhibit.depth.frame import DepthFrame, DepthSource
from exhibit.depth.intrinsics import Intrinsics, load_intrinsics
from exhibit.depth.recorded import RecordedDepth

__all__ = [
    "DepthDriverMissingError",
    "DepthError",
    "DepthFrame",
    "DepthSource",
    "Intrinsics",
    "IntrinsicsError",
    "RecordedDepth",
    "load_intrinsics",
]
