"""Depth frames, intrinsics, recorded sequences, dataset readers, landmark depth, devices."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.depth import (
    DepthDriverMissingError,
    DepthError,
    DepthFrame,
    Intrinsics,
    IntrinsicsError,
    RecordedDepth,
    load_intrinsics,
)
from exhibit.depth.devices import OakDepth, RealSenseDepth, import_driver, open_device
from exhibit.depth.formats import read_depth_image, to_mm
from exhibit.depth.intrinsics import PRIMESENSE
from exhibit.depth.landmarks import back_project, landmark_point_m, window_depth_m

SMALL = {"fx": 60.0, "fy": 60.0, "cx": 31.5, "cy": 23.5, "width": 64, "height": 48}


def write_sequence(folder: Path, frames: int = 3, meta: dict[str, object] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intrinsics.json").write_text(json.dumps({**SMALL, **(meta or {})}))
    for i in range(frames):
        cv2.imwrite(str(folder / f"depth_{i}.png"), np.full((48, 64), 1000 + i, np.uint16))
    return folder


def test_recorded_sequence_in_natural_order_with_time_from_fps(tmp_path: Path) -> None:
    folder = write_sequence(tmp_path / "rec", frames=12, meta={"fps": 15, "serial": "123"})
    source = RecordedDepth(folder)
    frames = list(source.frames())
    assert [int(f.depth_mm[0, 0]) for f in frames] == [1000 + i for i in range(12)]
    assert frames[3].t_s == pytest.approx(3 / 15)
    assert source.intrinsics.serial == "123"
    assert len(RecordedDepth(folder, max_frames=5)) == 5


def test_missing_intrinsics_says_what_to_write(tmp_path: Path) -> None:
    folder = write_sequence(tmp_path / "rec")
    (folder / "intrinsics.json").unlink()
    with pytest.raises(IntrinsicsError, match=r"intrinsics\.json: no intrinsics file; write"):
        RecordedDepth(folder)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"fx": 1}), "missing fy, cx, cy, width, height"),
        (json.dumps({**SMALL, "fx": "big"}), "fx is not a number"),
        (json.dumps({**SMALL, "fy": -5}), "fy must be > 0"),
        (json.dumps({**SMALL, "width": 64.5}), "width is not a whole number"),
        (json.dumps({"width": 64, "height": 48, "intrinsic_matrix": [1, 2]}), "9 numbers"),
    ],
)
def test_bad_intrinsics_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "intrinsics.json"
    file.write_text(text)
    with pytest.raises(IntrinsicsError, match=message) as info:
        load_intrinsics(file)
    assert str(file) in str(info.value)


def test_open3d_intrinsics_file_is_read(tmp_path: Path) -> None:
    file = tmp_path / "camera.json"
    matrix = [525.0, 0, 0, 0, 525.0, 0, 319.5, 239.5, 1]
    file.write_text(json.dumps({"width": 640, "height": 480, "intrinsic_matrix": matrix}))
    assert load_intrinsics(file) == PRIMESENSE
    assert load_intrinsics("primesense") == PRIMESENSE


def test_intrinsics_of_another_resolution_name_the_frame(tmp_path: Path) -> None:
    folder = write_sequence(tmp_path / "rec")
    cv2.imwrite(str(folder / "depth_1.png"), np.full((24, 32), 1000, np.uint16))
    with pytest.raises(DepthError, match=r"depth_1\.png: depth is 32x24 but the intrinsics say"):
        list(RecordedDepth(folder).frames())


def test_an_8_bit_image_is_not_depth(tmp_path: Path) -> None:
    file = tmp_path / "photo.png"
    cv2.imwrite(str(file), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DepthError, match=r"not a 16-bit single-channel depth image"):
        read_depth_image(file)
    bogus = tmp_path / "bogus.png"
    bogus.write_bytes(b"not a png")
    with pytest.raises(DepthError, match="not an image OpenCV can read"):
        read_depth_image(bogus)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DepthError, match=r"no \.png or \.pgm depth frames"):
        RecordedDepth(empty)
    with pytest.raises(DepthError, match="no such depth file or folder"):
        RecordedDepth(tmp_path / "missing")


def test_dataset_formats_convert_to_millimetres(tmp_path: Path) -> None:
    assert to_mm(np.array([[10000]], np.uint16), "tum").tolist() == [[2000]]
    sun = np.array([[((2500 << 3) | (2500 >> 13)) & 0xFFFF]], np.uint16)
    assert to_mm(sun, "sun").tolist() == [[2500]]
    # NYU: Kinect disparity, bytes swapped; 2047 = no reading.
    disparity = np.array([[980, 2047]], np.uint16).byteswap()
    mm = to_mm(disparity, "nyu")
    assert mm[0, 0] == round(351.3 / (1092.5 - 980) * 1000) and mm[0, 1] == 0
    pgm = tmp_path / "nyu.pgm"
    cv2.imwrite(str(pgm), disparity)  # OpenCV writes PGM big-endian
    assert read_depth_image(pgm).tolist() == mm.tolist()
    with pytest.raises(DepthError, match="unknown depth format"):
        to_mm(disparity, "kinect2")


def test_landmark_depth_ignores_holes_and_outliers() -> None:
    depth = np.zeros((48, 64), np.uint16)
    depth[20:27, 28:35] = 2000
    depth[23, 31] = 9000  # a flying pixel at the edge of the arm
    depth[21, 29] = 0  # a hole
    assert window_depth_m(depth, 31, 23) == 2.0
    assert window_depth_m(depth, 5, 5) is None  # all holes: no guess
    assert window_depth_m(depth, -1, 5) is None  # off the image


@settings(max_examples=60, deadline=None)
@given(
    u=st.floats(0, 63),
    v=st.floats(0, 47),
    z=st.floats(0.3, 8.0),
)
def test_back_projection_inverts_projection(u: float, v: float, z: float) -> None:
    k = Intrinsics.from_mapping(SMALL, "test")
    x, y, zz = back_project(k, u, v, z)
    assert zz == z
    assert k.fx * x / z + k.cx == pytest.approx(u)
    assert k.fy * y / z + k.cy == pytest.approx(v)


def test_landmark_in_normalised_coordinates_lands_on_its_pixel() -> None:
    k = Intrinsics.from_mapping(SMALL, "test")
    depth = np.zeros((48, 64), np.uint16)
    depth[10:15, 40:45] = 1500
    frame = DepthFrame(0.0, depth, k)
    point = landmark_point_m(frame, (42 + 0.5) / 64, (12 + 0.5) / 48)
    assert point is not None
    assert point[2] == 1.5
    assert point[0] == pytest.approx((42 - k.cx) * 1.5 / k.fx)
    assert landmark_point_m(frame, 0.1, 0.9) is None


def test_frames_must_be_uint16_millimetres() -> None:
    with pytest.raises(DepthError, match="uint16"):
        DepthFrame(0.0, np.zeros((480, 640), np.float32), PRIMESENSE)


@pytest.mark.parametrize(
    ("cls", "package"), [(RealSenseDepth, "pyrealsense2"), (OakDepth, "depthai")]
)
def test_missing_camera_library_says_what_to_install(cls: type, package: str) -> None:
    try:
        __import__(package)
    except ImportError:
        pass
    else:
        pytest.skip(f"{package} is installed; its error path cannot be shown here")
    with pytest.raises(
        DepthDriverMissingError, match=rf"pip install 'exhibit\[depth\]'.*{package}"
    ):
        cls()


def test_unknown_device_and_module() -> None:
    with pytest.raises(DepthError, match="expected one of realsense, oakd"):
        open_device("kinect")
    with pytest.raises(DepthDriverMissingError, match="not installed"):
        import_driver("no_such_depth_library_xyz", "no-such", "test camera")
