"""The gesture engine: every enabled detector, fed the same frames.

The skeleton is measured once per frame (:class:`~exhibit.gestures.features.BodyFrame`) and
shared by the detectors. Hits come out sorted by name (then side) so that a replay gives the
same event order every time. No clock, no I/O: time is the frames' ``t_s``.

Only the gestures the config enables are built, so a show pays nothing for the others. Pairs of
gestures that are one measurement read two ways share a detector (``swipe_left``/``swipe_right``,
``lean_left``/``lean_right``, ``approach``/``retreat``): one stroke, tilt or scale history, and
one place to keep the two directions from firing on each other's heels.

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
from exhibit.gestures.approach import ApproachDetector
from exhibit.gestures.base import BodyFrameDetector, GestureHit
from exhibit.gestures.crouch import CrouchDetector
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.hand_up import HandUpDetector
from exhibit.gestures.hands_up import HandsUpDetector
from exhibit.gestures.jump import JumpDetector
from exhibit.gestures.lean import LeanDetector
from exhibit.gestures.rule_eval import RuleDetector
from exhibit.gestures.still import StillDetector
from exhibit.gestures.swipe import SwipeDetector
from exhibit.gestures.t_pose import TPoseDetector
from exhibit.gestures.wave import WaveDetector
from exhibit.gestures.wave_model import LearnedWaveDetector
from exhibit.skeleton import Skeleton


def _hit_order(hit: GestureHit) -> tuple[str, str]:
    return hit.name, hit.side or ""


class GestureEngine:
    """Holds the detectors ``config`` enables and runs them on each frame.

    ``aspect_ratio`` is the camera's ``width_px / height_px`` (default 640/480).
    """

    def __init__(self, config: GesturesConfig, aspect_ratio: float = DEFAULT_ASPECT_RATIO) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        c, a = config, aspect_ratio
        detectors: list[BodyFrameDetector] = []
        names: list[str] = []
        if c.hands_up.enabled:
            detectors.append(HandsUpDetector(c.hands_up, a))
        if c.wave.enabled and c.wave.model == "rules":
            detectors.append(WaveDetector(c.wave, a))
        elif c.wave.enabled:
            detectors.append(LearnedWaveDetector(c.wave, a))
        if c.hand_up.enabled:
            detectors.append(HandUpDetector(c.hand_up, a))
        if c.t_pose.enabled:
            detectors.append(TPoseDetector(c.t_pose, a))
        if c.crouch.enabled:
            detectors.append(CrouchDetector(c.crouch, a))
        if c.jump.enabled:
            detectors.append(JumpDetector(c.jump, a))
        if c.still.enabled:
            detectors.append(StillDetector(c.still, a))
        names += [d.name for d in detectors]
        if c.swipe_left.enabled or c.swipe_right.enabled:
            swipe = SwipeDetector(c.swipe_left, c.swipe_right, a)
            detectors.append(swipe)
            names += swipe.names
        if c.lean_left.enabled or c.lean_right.enabled:
            lean = LeanDetector(c.lean_left, c.lean_right, a)
            detectors.append(lean)
            names += lean.names
        if c.approach.enabled or c.retreat.enabled:
            approach = ApproachDetector(c.approach, c.retreat, a)
            detectors.append(approach)
            names += approach.names
        # Rule gestures from the config (docs/rule-gestures.md) read the smoothed skeleton when
        # one is given: their speed conditions sum distances, which raw jitter inflates.
        rules = [RuleDetector(spec, a) for spec in c.custom if spec.enabled]
        names += [r.name for r in rules]
        self._rules = tuple(sorted(rules, key=lambda d: d.name))
        detectors.sort(key=lambda d: d.name)
        self._detectors = tuple(detectors)
        self._names = sorted(names)

    def names(self) -> list[str]:
        """Names of the enabled gestures (the hits' names, ``gesture.NAME`` events), sorted."""
        return list(self._names)

    def update(
        self, t_s: float, skeleton: Skeleton | None, smoothed: Skeleton | None = None
    ) -> list[GestureHit]:
        """Feed one frame of the visitor (``None``: not tracked). Built-ins read ``skeleton``;
        rule gestures read ``smoothed`` when given (the filtered one), else ``skeleton``."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        hits: list[GestureHit] = []
        for detector in self._detectors:
            hits.extend(detector.update_body(t_s, body))
        if self._rules:
            if smoothed is not None and smoothed is not skeleton:
                body = BodyFrame.of(smoothed, self.aspect_ratio)
            for rule in self._rules:
                hits.extend(rule.update_body(t_s, body))
        if len(hits) > 1:
            hits.sort(key=_hit_order)
        return hits

    def reset(self) -> None:
        """Forget every gesture in progress (the visitor left)."""
        for detector in (*self._detectors, *self._rules):
            detector.reset()
