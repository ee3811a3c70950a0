"""The learned wave: a logistic model over 1.2 s windows of one hand, alone or with the rules.

``[gestures.wave] model`` chooses the wave detector: ``"rules"`` (:mod:`exhibit.gestures.wave`,
hand-made gates and a swing counter), ``"learned"`` (this module) or ``"both"`` (either fires;
one refractory for the two). The learned detector, per hand and per frame with a body, builds the
window features of :mod:`exhibit.gestures.wave_features` (mirrored for the left hand, so one
model serves both), gives them to a logistic regression (weights in ``wave_model.json`` beside
this module, made by ``exhibit gestures train-wave``), and fires when the probability is at least
the model's ``threshold`` for ``min_windows`` consecutive frames; then nothing fires for
``refractory_s``, and the model itself only after its probability has dropped below the
threshold once (one wave, one hit; in "both" the rules still fire again on a long wave).
``hand`` limits it to one hand; ``min_swings``, ``min_amplitude`` and ``window_s`` only concern
the rules.

The model file holds parameters, no data: feature names, their means and scales, weights,
bias, the operating point chosen by leave-one-subject-out (:mod:`exhibit.gestures.wave_train`)
and what it was trained on. Running it needs numpy only. A file that is not such a model, or
was made for other features, raises :class:`WaveModelError` naming it.

Example:
    >>> from exhibit.config.schema import WaveConfig
    >>> det = LearnedWaveDetector(WaveConfig(model="learned"))
    >>> det.update(0.0, None)
    []
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from exhibit.atomic import write_text_atomic
from exhibit.config.schema import WaveConfig
from exhibit.errors import ExhibitError
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.wave import WaveDetector
from exhibit.gestures.wave_features import (
    FEATURE_NAMES,
    WINDOW_S,
    FloatArray,
    hand_sample,
    resample,
    window_features,
)
from exhibit.skeleton import Skeleton

MODEL_FORMAT = "exhibit-wave-model"
MODEL_VERSION = 1
BUILTIN_MODEL = Path(__file__).with_name("wave_model.json")
# Samples kept per hand beyond the window, so the grid's first point can be interpolated.
HISTORY_SLACK_S = 0.15
# Windows are scored on frames at least this far apart (every frame at 10 fps).
EVAL_STEP_S = 0.075


class WaveModelError(ExhibitError):
    """A wave model file that cannot be used (named in the message, with what to do)."""


@dataclass(frozen=True)
class WaveModel:
    """Logistic regression over :data:`FEATURE_NAMES`, with its operating point.

    Example:
        >>> m = WaveModel((0.0,) * len(FEATURE_NAMES), (1.0,) * len(FEATURE_NAMES),
        ...               (0.0,) * len(FEATURE_NAMES), 0.0, threshold=0.9, min_windows=2)
        >>> m.probability(np.zeros(len(FEATURE_NAMES)))
        0.5
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.9
    min_windows: int = 2
    info: tuple[tuple[str, Any], ...] = ()

    def probability(self, features: FloatArray) -> float:
        """P(wave) for one window's features."""
        z = float(np.dot((features - np.asarray(self.mean)) / np.asarray(self.scale), self.weights))
        z += self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "features": list(FEATURE_NAMES),
            "mean": [_short(v) for v in self.mean],
            "scale": [_short(v) for v in self.scale],
            "weights": [_short(v) for v in self.weights],
            "bias": _short(self.bias),
            "threshold": self.threshold,
            "min_windows": self.min_windows,
            "trained_on": dict(self.info),
        }

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (atomically: a power cut leaves the old file or the new)."""
        write_text_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> WaveModel:
        """Read a model file; :class:`WaveModelError` naming it when it is unusable."""
        path = Path(path)
        redo = "make it again with `exhibit gestures train-wave MANIFEST --out FILE`"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise WaveModelError(f"{path}: no such wave model file; {redo}") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise WaveModelError(f"{path}: not a readable wave model ({exc}); {redo}") from exc
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise WaveModelError(f"{path}: not a wave model (no format {MODEL_FORMAT!r}); {redo}")
        if data.get("version") != MODEL_VERSION:
            raise WaveModelError(
                f"{path}: wave model version {data.get('version')!r}, this exhibit reads "
                f"{MODEL_VERSION}; {redo}"
            )
        if data.get("features") != list(FEATURE_NAMES):
            raise WaveModelError(
                f"{path}: made for other window features than this exhibit computes; {redo}"
            )
        n = len(FEATURE_NAMES)
        try:
            vectors = [tuple(float(v) for v in data[k]) for k in ("mean", "scale", "weights")]
            bias = float(data["bias"])
            threshold = float(data["threshold"])
            min_windows = int(data["min_windows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise WaveModelError(f"{path}: wave model lacks or mangles {exc}; {redo}") from exc
        bad = [k for k, v in zip(("mean", "scale", "weights"), vectors, strict=True) if len(v) != n]
        if bad or not all(math.isfinite(x) for v in vectors for x in v):
            raise WaveModelError(
                f"{path}: wave model's {', '.join(bad) or 'numbers'} are not {n} finite "
                f"values; {redo}"
            )
        if any(s <= 0.0 for s in vectors[1]) or not 0.0 < threshold < 1.0 or min_windows < 1:
            raise WaveModelError(
                f"{path}: wave model has a scale <= 0, a threshold outside (0, 1) or "
                f"min_windows < 1; {redo}"
            )
        info = data.get("trained_on", {})
        return cls(
            vectors[0],
            vectors[1],
            vectors[2],
            bias,
            threshold,
            min_windows,
            tuple(sorted(info.items())) if isinstance(info, dict) else (),
        )


def _short(x: float) -> float:
    """Eight significant digits: a small file, and no scale rounded to zero."""
    return float(f"{x:.8g}")


@cache
def builtin_model() -> WaveModel:
    """The model shipped with the exhibit (``exhibit/gestures/wave_model.json``)."""
    return WaveModel.load(BUILTIN_MODEL)


class WindowFeaturizer:
    """Per hand, the window features of the last ``WINDOW_S``, about ten times a second.

    Every frame's samples are kept; the windows are scored on frames at least
    ``EVAL_STEP_S`` apart (each frame at 10 fps, every third at 30 fps), so the cost and the
    meaning of "consecutive windows" do not grow with the frame rate.

    Example:
        >>> WindowFeaturizer(("left", "right")).update(0.0, None)
        []
    """

    def __init__(self, sides: tuple[str, ...]) -> None:
        self.sides = sides
        self._history: dict[str, deque[tuple[float, list[float]]]] = {s: deque() for s in sides}
        self._last_t_s: float | None = None
        self._last_eval_s: float | None = None

    def reset(self) -> None:
        for history in self._history.values():
            history.clear()
        self._last_t_s = None
        self._last_eval_s = None

    def update(self, t_s: float, body: BodyFrame | None) -> list[tuple[str, FloatArray]] | None:
        """``(side, features)`` for each hand whose window is covered well enough; None on a
        frame that is not scored (too soon after the last scored one). A frame without a body
        is scored, with no window."""
        if self._last_t_s is not None and t_s < self._last_t_s:
            self.reset()  # time went backwards: a new recording
        self._last_t_s = t_s
        if body is None:
            self._last_eval_s = None
            return []
        oldest = t_s - WINDOW_S - HISTORY_SLACK_S
        for side in self.sides:
            history = self._history[side]
            history.append((t_s, hand_sample(body, side)))
            while history and history[0][0] < oldest:
                history.popleft()
        if self._last_eval_s is not None and t_s - self._last_eval_s < EVAL_STEP_S:
            return None
        self._last_eval_s = t_s
        out = []
        for side in self.sides:
            history = self._history[side]
            grid = resample([h[0] for h in history], [h[1] for h in history], t_s)
            if grid is not None:
                out.append((side, window_features(grid)))
        return out


class LearnedWaveDetector:
    """The wave from the learned model (``config.model`` "learned"), or from it or the rules
    ("both"). Hits carry the side that waved.

    ``model`` defaults to the shipped one (:func:`builtin_model`).
    """

    name = "wave"

    def __init__(
        self,
        config: WaveConfig,
        aspect_ratio: float = DEFAULT_ASPECT_RATIO,
        model: WaveModel | None = None,
    ) -> None:
        self.config = config
        self.aspect_ratio = aspect_ratio
        self.model = model or builtin_model()
        sides = ("left", "right") if config.hand == "either" else (config.hand,)
        self._features = WindowFeaturizer(sides)
        self._rules = WaveDetector(config, aspect_ratio) if config.model == "both" else None
        self._runs = dict.fromkeys(sides, 0)
        self._armed = dict.fromkeys(sides, True)
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget every hand's windows and the refractory period (the visitor left)."""
        self._features.reset()
        if self._rules is not None:
            self._rules.reset()
        self._runs = dict.fromkeys(self._runs, 0)
        self._armed = dict.fromkeys(self._armed, True)
        self._last_hit_s = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[GestureHit]:
        """Feed one frame (``None``: not tracked); returns ``[hit]`` when a wave is seen."""
        body = None if skeleton is None else BodyFrame.of(skeleton, self.aspect_ratio)
        return self.update_body(t_s, body)

    def update_body(self, t_s: float, body: BodyFrame | None) -> list[GestureHit]:
        """As :meth:`update`, with the skeleton already measured."""
        if self._last_hit_s is not None and t_s < self._last_hit_s:
            self.reset()
        model = self.model
        best: GestureHit | None = None
        if self._rules is not None:
            for hit in self._rules.update_body(t_s, body):
                best = hit
        scored = self._features.update(t_s, body)
        ready = dict(scored or ())
        for side in self._runs if scored is not None else ():
            features = ready.get(side)
            if features is None:
                self._runs[side] = 0
                continue
            p = model.probability(features)
            if p < model.threshold:
                self._runs[side] = 0
                self._armed[side] = True
                continue
            self._runs[side] += 1
            if (
                self._armed[side]
                and self._runs[side] >= model.min_windows
                and (best is None or p > best.score)
            ):
                best = GestureHit(self.name, t_s, p, side)
        if best is None:
            return []
        if self._last_hit_s is not None and t_s - self._last_hit_s < self.config.refractory_s:
            return []
        self._last_hit_s = t_s
        # One wave, one hit: the model fires again only after its probability has dropped
        # below the threshold (the rules count fresh swings after a hit instead).
        self._runs = dict.fromkeys(self._runs, 0)
        self._armed = dict.fromkeys(self._armed, False)
        return [best]
