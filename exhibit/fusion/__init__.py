"""Fusion: camera and sensors -> presence, distance, sensor health, and inference gating.

- ``config``: the ``[fusion]`` section (``parse_fusion``).
- ``engine``: ``Fusion``, pure: per frame, ``CameraView`` + readings -> ``FusionUpdate``.
- ``gating``: ``InferenceGate``, pure: per frame, whether pose inference runs.
- ``bench``: the CPU that gating saves on a scripted day.

See docs/sensors-and-fusion.md.
"""

from exhibit.fusion.config import FusionConfig, GatingConfig, parse_fusion
from exhibit.fusion.engine import CameraView, Fusion, FusionUpdate, SourceState
from exhibit.fusion.gating import GateDecision, InferenceGate

__all__ = [
    "CameraView",
    "Fusion",
    "FusionConfig",
    "FusionUpdate",
    "GateDecision",
    "GatingConfig",
    "InferenceGate",
    "SourceState",
    "parse_fusion",
]
