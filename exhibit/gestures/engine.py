"""The gesture engine: every enabled detector, fed the same frames.

The skeleton is measured once per frame (:class:`~exhibit.gestures.features.BodyFrame`) and
shared by the detectors. Hits come out sorted by name (then side) so that a replay gives the
same event order every time. No clock, no I/O: time is the frames' ``t_s``.

Example:
    >>> from exhibit.config.schema import GesturesConfig
    >>> engine = GestureEngine(GesturesConfig())
    >>> engine.names()
    ['hands_up', 'wave']
    >>> engine.update(0.0, None)
    []
"""

from __future__ import annotations

from exhibit.config.schema import GesturesConfig
from exhibit.gestures.base import BodyFrameDetector, GestureHit
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.hands_up import HandsUpDetector
from exhibit.gestures.wave import WaveDetector
from exhibit.skeleton import Skeleton


class GestureEngine:
    """Holds the detectors ``config`` enables and runs them on each frame.

    ``aspect_ratio`` is the camera's ``width_px / height_px`` (default 640/480).
    """

    def __init__(self, config: GesturesConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        detectors: list[BodyFrameDetector] = []
        if config.hands_up.enabled:
            detectors.append(HandsUpDetector(config.hands_up, aspect_ratio))
        if config.wave.enabled:
            detectors.append(WaveDetector(config.wave, aspect_ratio))
        detectors.sort(key=lambda d: d.name)
        self._detectors = tuple(detectors)

    def names(self) -> list[str]:
        """Names of the enabled gestures, sorted."""
        return [d.name for d in self._detectors]

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame of the visitor (``None``: not tracked this frame)."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        hits: list[GestureHit] = []
        for detector in self._detectors:
            hits.extend(detector.update_body(t_s, body))
        if len(hits) > 1:
            hits.sort(key=lambda h: (h.name, h.side or ""))
        return hits

    def reset(self) -> None:
        """Forget every gesture in progress (the visitor left)."""
        for detector in self._detectors:
            detector.reset()
