"""Depth cameras: Intel RealSense (``pyrealsense2``) and Luxonis OAK-D (``depthai``).

Both libraries are optional (``pip install exhibit[depth]``) and imported only when a device
source is opened, so the service and the tests run without them; a missing library is a
:class:`~exhibit.depth.errors.DepthDriverMissingError` that says what to install. Each source
aligns depth to the colour camera on the device, converts it to uint16 mm, and reports the
colour camera's intrinsics and the device serial. Without the hardware only the error paths
are tested; the device code follows each vendor's documented streaming API.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from exhibit.depth.errors import DepthDriverMissingError, DepthError
from exhibit.depth.frame import DepthFrame
from exhibit.depth.intrinsics import Intrinsics

INSTALL_HINT = "install it with: pip install 'exhibit[depth]' (or pip install {package})"


def import_driver(module: str, package: str, camera: str) -> ModuleType:
    """Import a vendor library, or raise an error that names the camera and the fix."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DepthDriverMissingError(
            f"{camera}: the Python package {package!r} is not installed; "
            + INSTALL_HINT.format(package=package)
        ) from exc


def missing_driver(name: str) -> str | None:
    """What to install for depth camera ``name`` when its package is missing (None when it is
    there, or ``name`` is no camera); looks without importing, so ``exhibit check`` stays fast.
    """
    if name not in DRIVERS:
        return None
    module, camera = DRIVERS[name]
    if importlib.util.find_spec(module) is not None:
        return None
    return f"{camera}: the Python package {module!r} is not installed; " + INSTALL_HINT.format(
        package=module
    )


class RealSenseDepth:
    """An Intel RealSense D4xx: depth aligned to colour (``rs.align``), in mm. ``serial``: which
    camera (empty: the first found)."""

    def __init__(
        self, width: int = 640, height: int = 480, fps: int = 30, serial: str = ""
    ) -> None:
        rs: Any = import_driver("pyrealsense2", "pyrealsense2", "RealSense camera")
        self._rs = rs
        self._pipeline = rs.pipeline()
        cfg = rs.config()
        if serial:
            cfg.enable_device(serial)
        cfg.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
        cfg.enable_stream(rs.stream.color, width, height, rs.format.bgr8, fps)
        try:
            profile = self._pipeline.start(cfg)
        except RuntimeError as exc:
            raise DepthError(f"RealSense camera: cannot start ({exc}); is it plugged in?") from exc
        device = profile.get_device()
        self._scale_mm = float(device.first_depth_sensor().get_depth_scale()) * 1000.0
        k = profile.get_stream(rs.stream.color).as_video_stream_profile().get_intrinsics()
        self._intrinsics = Intrinsics(
            fx=float(k.fx),
            fy=float(k.fy),
            cx=float(k.ppx),
            cy=float(k.ppy),
            width=int(k.width),
            height=int(k.height),
            serial=str(device.get_info(rs.camera_info.serial_number)),
        )
        self._align = rs.align(rs.stream.color)

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def frames(self) -> Iterator[DepthFrame]:
        while True:
            frames = self._align.process(self._pipeline.wait_for_frames())
            depth = frames.get_depth_frame()
            if not depth:
                continue
            raw = np.asanyarray(depth.get_data()).astype(np.float64) * self._scale_mm
            mm = np.clip(np.round(raw), 0, 65535).astype(np.uint16)
            yield DepthFrame(float(frames.get_timestamp()) / 1000.0, mm, self._intrinsics)

    def close(self) -> None:
        self._pipeline.stop()


class OakDepth:
    """A Luxonis OAK-D: stereo depth aligned to the colour camera (``setDepthAlign``), in mm.
    ``serial``: the device's MxId (empty: the first found)."""

    def __init__(
        self, width: int = 640, height: int = 400, fps: int = 30, serial: str = ""
    ) -> None:
        dai: Any = import_driver("depthai", "depthai", "OAK-D camera")
        pipeline = dai.Pipeline()
        left = pipeline.create(dai.node.MonoCamera)
        right = pipeline.create(dai.node.MonoCamera)
        left.setBoardSocket(dai.CameraBoardSocket.CAM_B)
        right.setBoardSocket(dai.CameraBoardSocket.CAM_C)
        left.setFps(float(fps))
        right.setFps(float(fps))
        stereo = pipeline.create(dai.node.StereoDepth)
        stereo.setDepthAlign(dai.CameraBoardSocket.CAM_A)
        stereo.setOutputSize(width, height)
        left.out.link(stereo.left)
        right.out.link(stereo.right)
        out = pipeline.create(dai.node.XLinkOut)
        out.setStreamName("depth")
        stereo.depth.link(out.input)
        try:
            if serial:
                self._device = dai.Device(pipeline, dai.DeviceInfo(serial))
            else:
                self._device = dai.Device(pipeline)
        except RuntimeError as exc:
            raise DepthError(f"OAK-D camera: cannot open ({exc}); is it plugged in?") from exc
        m = self._device.readCalibration().getCameraIntrinsics(
            dai.CameraBoardSocket.CAM_A, width, height
        )
        self._intrinsics = Intrinsics(
            fx=float(m[0][0]),
            fy=float(m[1][1]),
            cx=float(m[0][2]),
            cy=float(m[1][2]),
            width=width,
            height=height,
            serial=str(self._device.getMxId()),
        )
        self._queue = self._device.getOutputQueue("depth", maxSize=1, blocking=False)

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def frames(self) -> Iterator[DepthFrame]:
        while True:
            packet = self._queue.get()
            mm = np.asarray(packet.getFrame(), dtype=np.uint16)
            yield DepthFrame(time.monotonic(), mm, self._intrinsics)

    def close(self) -> None:
        self._device.close()


DEVICES: dict[str, Callable[..., RealSenseDepth | OakDepth]] = {
    "realsense": RealSenseDepth,
    "oakd": OakDepth,
}
DRIVERS = {"realsense": ("pyrealsense2", "RealSense camera"), "oakd": ("depthai", "OAK-D camera")}


def open_device(
    name: str, width: int | None = None, height: int | None = None, fps: int = 30, serial: str = ""
) -> RealSenseDepth | OakDepth:
    """``realsense`` or ``oakd`` -> an open source (each camera's own default size when
    ``width``/``height`` are None); unknown names say what is known."""
    if name not in DEVICES:
        raise DepthError(f"unknown depth camera {name!r}; expected one of {', '.join(DEVICES)}")
    size = {} if width is None or height is None else {"width": width, "height": height}
    return DEVICES[name](fps=fps, serial=serial, **size)
