"""Gestures taught by demonstration, spotted live in the visitor's skeleton stream.

The designer teaches a gesture with ``exhibit gestures learn`` (see :mod:`exhibit.gestures.learn`);
the templates go to a JSON file beside the config. Here they are turned into a detector with the
same promise as the built-ins: frames in with their own time, :class:`GestureHit` out, no clock,
no I/O. The features are :func:`~exhibit.gestures.template_features.skeleton_features` of the
filtered skeleton, exactly what ``learn`` stored, and the spotting is
:class:`~exhibit.gestures.templates.TemplateSpotter` (online subsequence DTW).

Example:
    >>> from exhibit.gestures.templates import TemplateRecognizer
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 20)[:, None]
    >>> demo = [np.hstack([np.sin(6 * t + k / 10)] * 18) for k in range(3)]
    >>> taught = TaughtGestures(TemplateRecognizer().fit(demo, ["flap"] * 3))
    >>> taught.names()
    ['flap']
"""

from __future__ import annotations

from pathlib import Path

from exhibit.gestures.base import GestureHit
from exhibit.gestures.template_features import FEATURE_SPEC, JOINT_SET, skeleton_features
from exhibit.gestures.templates import TemplateRecognizer, TemplateSpotter, load_templates
from exhibit.skeleton import Skeleton


class TaughtGestures:
    """Spots every gesture of one template file; each label is a gesture name.

    ``threshold_scale`` and ``refractory_s`` are the spotter's (see ``TemplateSpotter``): a
    lower scale asks for a closer match (fewer false hits, more misses).
    """

    name = "taught"

    def __init__(
        self,
        recognizer: TemplateRecognizer,
        *,
        threshold_scale: float = 0.8,
        refractory_s: float = 1.0,
    ) -> None:
        self.recognizer = recognizer
        self._spotter = TemplateSpotter(
            recognizer, threshold_scale=threshold_scale, refractory_s=refractory_s
        )

    @classmethod
    def from_file(
        cls, path: str | Path, *, threshold_scale: float = 0.8, refractory_s: float = 1.0
    ) -> TaughtGestures:
        """Load a template file written by ``exhibit gestures learn``; a file made for another
        joint set or feature layout is refused with ``TemplateFileError`` naming it."""
        recognizer = load_templates(path, JOINT_SET, expected_feature_spec=FEATURE_SPEC)
        return cls(recognizer, threshold_scale=threshold_scale, refractory_s=refractory_s)

    def names(self) -> list[str]:
        """The taught gesture names, sorted."""
        return list(self.recognizer.labels)

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame of the visitor (``None``: not tracked, which restarts matching)."""
        features = None if skeleton is None else skeleton_features(skeleton)
        return [
            GestureHit(label, t_s, round(max(0.0, min(1.0, score)), 3))
            for label, score, _start_t_s in self._spotter.update(t_s, features)
        ]

    def reset(self) -> None:
        """Forget every partial match (the visitor left)."""
        self._spotter.reset()
