"""Gestures: detectors that turn a visitor's skeletons over time into hits.

``base`` (the hit and the detector protocol), ``features`` (body-normalized measurements),
one module per gesture (``wave``, ``hands_up``), and ``engine`` (all enabled detectors).
"""

from __future__ import annotations

from exhibit.gestures.base import GestureDetector, GestureHit
from exhibit.gestures.engine import GestureEngine
from exhibit.gestures.hands_up import HandsUpDetector
from exhibit.gestures.wave import WaveDetector

__all__ = ["GestureDetector", "GestureEngine", "GestureHit", "HandsUpDetector", "WaveDetector"]
