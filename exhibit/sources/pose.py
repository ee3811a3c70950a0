"""MediaPipe Pose behind one small class: an RGB image in, ``Skeleton`` objects out.

This is the only module that imports MediaPipe. It uses the legacy ``solutions.pose`` graph of
mediapipe 0.10.18 because its full model (``model_complexity = 1``) ships inside the package,
so the exhibit runs offline; the lite and heavy models would be downloaded on first use, which
an exhibit must never do, so they are refused unless already present.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from exhibit.closing import Closing
from exhibit.config.schema import PoseConfig
from exhibit.errors import SourceError
from exhibit.skeleton import NUM_LANDMARKS, Skeleton

# Model file each complexity needs, under mediapipe/modules/pose_landmark/.
_MODEL_FILES = {
    0: "pose_landmark_lite.tflite",
    1: "pose_landmark_full.tflite",
    2: "pose_landmark_heavy.tflite",
}
DEFAULT_POSE = PoseConfig()  # frozen: safe to share as a default


def _import_mediapipe() -> ModuleType:
    """Import MediaPipe with its C++ logging turned down, unless the user chose a level.

    Only glog-style messages obey these variables; the few absl warnings MediaPipe prints while
    building its graph ("Feedback manager requires ...") cannot be silenced from Python.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return import_module("mediapipe")
    except ImportError as exc:  # pragma: no cover - mediapipe is a hard dependency
        raise SourceError(f"MediaPipe cannot be imported: {exc}") from exc


def _check_model_is_local(mp: ModuleType, model_complexity: int) -> None:
    if model_complexity not in _MODEL_FILES:
        raise SourceError(f"pose model_complexity must be 0, 1 or 2 (got {model_complexity})")
    package_dir = Path(str(mp.__file__)).resolve().parent
    model = package_dir / "modules" / "pose_landmark" / _MODEL_FILES[model_complexity]
    if not model.is_file():
        raise SourceError(
            f"pose model_complexity {model_complexity} needs {model.name}, which is not "
            f"installed with mediapipe and would be downloaded; use model_complexity = 1 "
            f"(bundled) or copy the model to {model}"
        )


class PoseEstimator(Closing):
    """Find one body's 33 landmarks in an RGB image with MediaPipe Pose.

    Why: the rest of the project speaks ``Skeleton`` (float64 arrays, named joints) and never
    sees MediaPipe's protobuf results; swapping the estimator touches this class only. In
    tracking mode (the default) consecutive calls must be frames of one video; use
    ``static_image_mode=True`` for unrelated photos.

    Example:
        >>> from skimage import data  # doctest: +SKIP
        >>> with PoseEstimator() as pose:  # doctest: +SKIP
        ...     (skeleton,) = pose.estimate(data.astronaut())
        >>> skeleton.point("nose")  # doctest: +SKIP
        array([0.435..., 0.249...])
    """

    def __init__(self, config: PoseConfig = DEFAULT_POSE, static_image_mode: bool = False) -> None:
        mp = _import_mediapipe()
        _check_model_is_local(mp, config.model_complexity)
        self.config = config
        self.static_image_mode = static_image_mode
        try:
            self._pose: Any = mp.solutions.pose.Pose(
                static_image_mode=static_image_mode,
                model_complexity=config.model_complexity,
                smooth_landmarks=True,
                enable_segmentation=False,
                min_detection_confidence=config.min_detection_confidence,
                min_tracking_confidence=config.min_tracking_confidence,
            )
        except (RuntimeError, ValueError) as exc:
            raise SourceError(f"MediaPipe Pose cannot start: {exc}") from exc
        self._closed = False

    def estimate(self, image_rgb: npt.NDArray[np.uint8]) -> tuple[Skeleton, ...]:
        """Skeletons in ``image_rgb`` (uint8, height x width x 3, RGB): ``()`` or one."""
        if self._closed:
            raise SourceError("PoseEstimator.estimate called after close()")
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise ValueError(
                f"image must be uint8 of shape (height, width, 3), "
                f"got {image_rgb.dtype} {image_rgb.shape}"
            )
        try:
            results = self._pose.process(np.ascontiguousarray(image_rgb))
        except (RuntimeError, ValueError) as exc:
            raise SourceError(f"MediaPipe Pose failed on a frame: {exc}") from exc
        if results.pose_landmarks is None:
            return ()
        landmarks = np.array(
            [(p.x, p.y, p.z, p.visibility) for p in results.pose_landmarks.landmark],
            dtype=np.float64,
        )
        world: npt.NDArray[np.float64] | None = None
        if results.pose_world_landmarks is not None:
            world = np.array(
                [(p.x, p.y, p.z) for p in results.pose_world_landmarks.landmark],
                dtype=np.float64,
            )
        if landmarks.shape[0] != NUM_LANDMARKS:  # pragma: no cover - MediaPipe's topology
            raise SourceError(f"MediaPipe returned {landmarks.shape[0]} landmarks, expected 33")
        landmarks.flags.writeable = False
        if world is not None:
            world.flags.writeable = False
        return (Skeleton(landmarks, world),)

    def close(self) -> None:
        """Free the MediaPipe graph; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._pose.close()
