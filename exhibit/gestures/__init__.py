"""Gestures: detectors that turn a visitor's skeletons over time into hits.

``base`` (the hit and the detector protocol), ``features`` (body-normalized measurements),
``hold`` (timing shared by held gestures), one module per built-in gesture or pair of gestures
(``wave``, ``hands_up``, ``hand_up``, ``t_pose``, ``swipe``, ``lean``, ``crouch``, ``jump``,
``approach`` for approach and retreat, ``still``), and ``engine`` (all enabled detectors).
docs/gestures.md describes each.
"""

from __future__ import annotations

from exhibit.gestures.approach import ApproachDetector
from exhibit.gestures.base import GestureDetector, GestureHit
from exhibit.gestures.crouch import CrouchDetector
from exhibit.gestures.engine import GestureEngine
from exhibit.gestures.hand_up import HandUpDetector
from exhibit.gestures.hands_up import HandsUpDetector
from exhibit.gestures.jump import JumpDetector
from exhibit.gestures.lean import LeanDetector
from exhibit.gestures.still import StillDetector
from exhibit.gestures.swipe import SwipeDetector
from exhibit.gestures.t_pose import TPoseDetector
from exhibit.gestures.wave import WaveDetector

__all__ = [
    "ApproachDetector",
    "CrouchDetector",
    "GestureDetector",
    "GestureEngine",
    "GestureHit",
    "HandUpDetector",
    "HandsUpDetector",
    "JumpDetector",
    "LeanDetector",
    "StillDetector",
    "SwipeDetector",
    "TPoseDetector",
    "WaveDetector",
]
