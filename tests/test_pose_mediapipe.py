"""Real MediaPipe Pose on a real photo (scikit-image's astronaut): what comes out is a body.

The astronaut (Eileen Collins) faces the camera, upper body in frame; we check anatomy that any
correct estimate must satisfy, not MediaPipe's exact numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from exhibit.config.schema import PoseConfig
from exhibit.errors import SourceError
from exhibit.skeleton import NUM_LANDMARKS, VIS, Skeleton
from exhibit.sources.pose import PoseEstimator


@pytest.fixture(scope="module")
def astronaut() -> npt.NDArray[np.uint8]:
    return cast(Callable[[], npt.NDArray[np.uint8]], data.astronaut)()


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator(static_image_mode=True) as pose:
        yield pose


@pytest.fixture(scope="module")
def skeleton(estimator: PoseEstimator, astronaut: npt.NDArray[np.uint8]) -> Skeleton:
    skeletons = estimator.estimate(astronaut)
    assert len(skeletons) == 1
    return skeletons[0]


def test_one_pose_with_33_landmarks(skeleton: Skeleton) -> None:
    assert skeleton.landmarks.shape == (NUM_LANDMARKS, 4)
    assert skeleton.landmarks.dtype == np.float64
    assert skeleton.visibility("nose") > 0.9


def test_nose_above_shoulders_above_hips(skeleton: Skeleton) -> None:
    nose_y = skeleton.point("nose")[1]
    shoulders_y = max(skeleton.point("left_shoulder")[1], skeleton.point("right_shoulder")[1])
    hips_y = min(skeleton.point("left_hip")[1], skeleton.point("right_hip")[1])
    assert nose_y < shoulders_y < hips_y


def test_landmarks_normalized_in_frame_where_visible(skeleton: Skeleton) -> None:
    visible = skeleton.landmarks[skeleton.landmarks[:, VIS] > 0.9]
    assert len(visible) >= 10
    assert np.all((visible[:, :2] > -0.05) & (visible[:, :2] < 1.05))


def test_world_landmarks_in_metres(skeleton: Skeleton) -> None:
    world = skeleton.world_m
    assert world is not None
    assert world.shape == (NUM_LANDMARKS, 3)
    assert np.all(np.abs(world) < 2.0)  # origin between the hips; a body is ~2 m at most
    left = world[11]
    right = world[12]
    shoulder_width_m = float(np.linalg.norm(left - right))
    assert 0.2 < shoulder_width_m < 0.6


def test_no_pose_in_a_blank_image(estimator: PoseEstimator) -> None:
    assert estimator.estimate(np.zeros((240, 320, 3), dtype=np.uint8)) == ()


def test_wrong_image_is_refused(estimator: PoseEstimator) -> None:
    with pytest.raises(ValueError, match="uint8"):
        estimator.estimate(np.zeros((240, 320), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        estimator.estimate(np.zeros((240, 320, 3), dtype=np.float32))


def test_tracking_mode_follows_a_video(astronaut: npt.NDArray[np.uint8]) -> None:
    with PoseEstimator(PoseConfig()) as pose:
        found = [len(pose.estimate(astronaut)) for _ in range(3)]
    assert found == [1, 1, 1]


def test_closed_estimator_refuses(astronaut: npt.NDArray[np.uint8]) -> None:
    pose = PoseEstimator()
    pose.close()
    pose.close()
    with pytest.raises(SourceError, match="after close"):
        pose.estimate(astronaut)


def test_a_model_that_would_be_downloaded_is_refused() -> None:
    # The lite model is not in the mediapipe wheel; loading it would mean a download.
    import mediapipe

    lite = Path(str(mediapipe.__file__)).parent / "modules/pose_landmark/pose_landmark_lite.tflite"
    if lite.exists():
        pytest.skip("the lite model has been installed by hand here")
    with pytest.raises(SourceError, match="model_complexity 0"):
        PoseEstimator(PoseConfig(model_complexity=0))
