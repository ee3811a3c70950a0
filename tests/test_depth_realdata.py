"""Floor calibration on real depth frames, read where they are (never copied here).

Skipped when ``../shared/realdata/depth`` (or ``$EXHIBIT_REALDATA/depth``) is absent. The
figures these check are the ones in docs/calibration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from calibration.floor import fit_floor
from calibration.verify import compare
from exhibit.depth.errors import FloorNotVisibleError
from exhibit.depth.formats import read_depth_image
from exhibit.depth.intrinsics import PRIMESENSE
from exhibit.depth.recorded import frame_files

ROOT = Path(__file__).resolve().parent.parent
DEPTH = Path(os.environ.get("EXHIBIT_REALDATA", ROOT.parent / "shared" / "realdata")) / "depth"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DEPTH.is_dir(), reason=f"no real depth data at {DEPTH}"),
]


def test_walker_frames_agree_with_the_floor_reference() -> None:
    reference = fit_floor(
        read_depth_image(DEPTH / "walker_floor" / "floor_reference.png"), PRIMESENSE
    )
    assert reference.height_m == pytest.approx(0.898, abs=0.01)
    assert reference.residual_m < 0.01
    frames = frame_files(DEPTH / "walker_floor" / "gait_depth")
    assert len(frames) == 60
    for file in frames[::6]:
        fit = fit_floor(read_depth_image(file), PRIMESENSE)
        check = compare(reference.pose, fit.pose)
        assert not check.moved, (file.name, check.describe())
        assert abs(check.height_change_m) < 0.01


@pytest.mark.parametrize(
    ("name", "fmt", "height_m", "pitch_deg"),
    [
        ("RGBD_other_formats_TUM_depth.png", "tum", 1.79, 29.5),
        ("RGBD_other_formats_SUN_depth.png", "sun", 1.15, 3.9),
        ("RGBD_other_formats_NYU_depth.pgm", "nyu", 1.61, 15.6),
    ],
)
def test_room_frames(name: str, fmt: str, height_m: float, pitch_deg: float) -> None:
    fit = fit_floor(read_depth_image(DEPTH / "rgbd_frames" / name, fmt), PRIMESENSE)
    assert fit.height_m == pytest.approx(height_m, abs=0.05)
    assert fit.pitch_deg == pytest.approx(pitch_deg, abs=1.0)


def test_a_frame_without_floor_is_floor_not_visible() -> None:
    with pytest.raises(FloorNotVisibleError, match="floor not visible"):
        fit_floor(read_depth_image(DEPTH / "rgbd_frames" / "depth.png"), PRIMESENSE)
