"""The learned wave: a logistic model and gradient-boosted trees over 1.2 s windows of one
hand, alone or with the rules.

``[gestures.wave] model`` chooses the wave detector: ``"rules"`` (:mod:`exhibit.gestures.wave`,
hand-made gates and a swing counter), ``"learned"`` (this module) or ``"both"`` (either fires;
one refractory for the two; the default). The learned detector, per hand and per frame with a
body, builds the window features of :mod:`exhibit.gestures.wave_features` (mirrored for the
left hand, so one model serves both), gives them to a logistic regression and to boosted trees
and averages the two probabilities (``wave_model.json`` beside this module, or the config's
``model_file``, made by ``exhibit gestures train-wave``), and fires when that is at least the
model's ``threshold`` for ``min_windows`` consecutive windows; then nothing fires for
``refractory_s``, and the model itself only after its probability has stayed under
``REARM_BELOW`` for ``REARM_WINDOWS`` windows (one wave, one hit; in "both" the rules still
fire again on a long wave). A window whose arm MediaPipe hardly saw (mean visibility of wrist
and elbow under the rules' ``MIN_ARM_VISIBILITY``) or with a non-number in it scores 0.
``hand`` limits it to one hand; ``min_swings``, ``min_amplitude`` and ``window_s`` only concern
the rules.

The model file holds parameters, no data: feature names, their means and scales, weights,
bias, the trees' nodes, the operating point chosen by leave-one-subject-out
(:mod:`exhibit.gestures.wave_train`) and what it was trained on. Running it needs numpy only.
A file that is not such a model, was made for other features, or whose trees are not trees,
raises :class:`WaveModelError` naming it.

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
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from exhibit.atomic import write_text_atomic
from exhibit.config.schema import WaveConfig
from exhibit.errors import ExhibitError
from exhibit.gestures.base import GestureHit
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO, BodyFrame
from exhibit.gestures.wave import MIN_ARM_VISIBILITY, WaveDetector
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
MODEL_VERSION = 2  # 2: logistic + gradient-boosted trees; 1 (logistic alone) is still read
READABLE_VERSIONS = (1, 2)
BUILTIN_MODEL = Path(__file__).with_name("wave_model.json")
# Samples kept per hand beyond the window, so the grid's first point can be interpolated.
HISTORY_SLACK_S = 0.15
# Windows are scored on frames at least this far apart (every frame at 10 fps).
EVAL_STEP_S = 0.075
# After a hit, the model may fire again once its probability has been under REARM_BELOW for
# REARM_WINDOWS scored windows in a row (about 0.3 s): the wave has left its window.
REARM_BELOW = 0.5
REARM_WINDOWS = 3
# A window whose arm (wrist and elbow) MediaPipe hardly sees on average is not a wave, as in
# the rules: its positions are guesses (an arm out of the picture or behind the body).
VIS = FEATURE_NAMES.index("vis")


def arm_seen(X: FloatArray) -> npt.NDArray[np.bool_]:
    """Per window (row of ``X``, or one window), whether its arm was seen well enough to fire,
    and every feature is a number (a NaN landmark must not read as a certain wave)."""
    seen: npt.NDArray[np.bool_] = (X[..., VIS] >= MIN_ARM_VISIBILITY) & np.isfinite(X).all(axis=-1)
    return seen


# Deeper than any tree train-wave makes (3); a file with deeper ones is refused at load.
MAX_TREE_DEPTH = 32
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class WaveModelError(ExhibitError):
    """A wave model file that cannot be used (named in the message, with what to do)."""


@dataclass(frozen=True)
class TreeEnsemble:
    """Gradient-boosted regression trees over :data:`FEATURE_NAMES` (made by scikit-learn's
    ``HistGradientBoostingClassifier`` at training time, run here with numpy alone).

    The nodes of every tree sit in flat arrays; ``roots[k]`` is tree k's first node. A node
    sends a window left when its feature is at most the node's threshold. The log-odds are
    ``baseline`` plus the leaves' values.

    Example:
        >>> t = TreeEnsemble(0.0, (0,), (0, 0, 0), (0.5, 0.0, 0.0), (1, -1, -1), (2, -1, -1),
        ...                  (0.0, -2.0, 2.0), (False, True, True))
        >>> t.probability(np.array([0.2])) < 0.5 < t.probability(np.array([0.9]))
        True
    """

    baseline: float
    roots: tuple[int, ...]
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]
    is_leaf: tuple[bool, ...]

    @cached_property
    def _arrays(
        self,
    ) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray, BoolArray, IntArray]:
        """numpy copies for the walk (the tuples are what is compared and saved)."""
        return (
            np.asarray(self.feature, dtype=np.int64),
            np.asarray(self.threshold, dtype=np.float64),
            np.asarray(self.left, dtype=np.int64),
            np.asarray(self.right, dtype=np.int64),
            np.asarray(self.value, dtype=np.float64),
            np.asarray(self.is_leaf, dtype=bool),
            np.asarray(self.roots, dtype=np.int64),
        )

    def log_odds(self, features: FloatArray) -> float:
        """Baseline plus every tree's leaf for one window (all trees walked at once)."""
        feature, threshold, left, right, value, is_leaf, roots = self._arrays
        node = roots.copy()
        for _ in range(MAX_TREE_DEPTH + 1):  # the depth checked at load
            inner = ~is_leaf[node]
            if not inner.any():
                break
            go_left = features[feature[node]] <= threshold[node]
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        return self.baseline + float(value[node].sum())

    def probability(self, features: FloatArray) -> float:
        return _sigmoid(self.log_odds(features))

    def probabilities(self, X: FloatArray) -> FloatArray:
        """P(wave) of the trees for many windows (rows of ``X``) at once (training)."""
        feature, threshold, left, right, value, is_leaf, roots = self._arrays
        node = np.broadcast_to(roots, (len(X), len(roots))).copy()
        rows = np.arange(len(X))[:, None]
        for _ in range(MAX_TREE_DEPTH + 1):
            inner = ~is_leaf[node]
            if not inner.any():
                break
            go_left = X[rows, feature[node]] <= threshold[node]
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        z = self.baseline + value[node].sum(axis=1)
        out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "roots": list(self.roots),
            "feature": list(self.feature),
            # full precision: a split often sits exactly on a training value
            "threshold": list(self.threshold),
            "left": list(self.left),
            "right": list(self.right),
            "value": list(self.value),
            "is_leaf": [int(v) for v in self.is_leaf],
        }

    @classmethod
    def from_json(cls, data: Any, n_features: int) -> TreeEnsemble:
        """The trees of a model file; ValueError (with what is wrong) when they do not hold:
        each tree must be a tree (every node reached once from its root, no deeper than
        ``MAX_TREE_DEPTH``), every index an integer in range, every number finite."""
        if not isinstance(data, dict):
            raise ValueError("'trees' is not a table")
        try:
            ints = {k: _ints(data[k], k) for k in ("roots", "feature", "left", "right")}
            floats = {k: _floats(data[k], k) for k in ("threshold", "value")}
            leaves = data["is_leaf"]
            baseline = data["baseline"]
        except KeyError as exc:
            raise ValueError(f"'trees' lacks {exc}") from exc
        if not isinstance(leaves, list) or any(v not in (0, 1) or v is None for v in leaves):
            raise ValueError("'trees' is_leaf is not a list of 0 and 1")
        if isinstance(baseline, bool) or not isinstance(baseline, int | float):
            raise ValueError("'trees' baseline is not a number")
        try:
            base = float(baseline)
        except OverflowError as exc:
            raise ValueError("'trees' baseline is not a finite number") from exc
        trees = cls(
            base,
            ints["roots"],
            ints["feature"],
            floats["threshold"],
            ints["left"],
            ints["right"],
            floats["value"],
            tuple(bool(v) for v in leaves),
        )
        n = len(trees.feature)
        columns = (trees.threshold, trees.left, trees.right, trees.value, trees.is_leaf)
        if any(len(c) != n for c in columns):
            raise ValueError("'trees' columns differ in length")
        if not all(math.isfinite(v) for v in (*trees.threshold, *trees.value, trees.baseline)):
            raise ValueError("'trees' has a number that is not finite")
        if not trees.roots or any(not 0 <= f < n_features for f in trees.feature):
            raise ValueError("'trees' has no tree, or a feature out of range")
        trees._check_shape()
        return trees

    def _check_shape(self) -> None:
        """Every tree reached from its root once, within its own nodes and depth."""
        n = len(self.feature)
        ends = (*self.roots[1:], n)
        seen = [False] * n
        for root, end in zip(self.roots, ends, strict=True):
            if not 0 <= root < end <= n:
                raise ValueError("'trees' has a root out of range")
            stack = [(root, 0)]
            while stack:
                node, depth = stack.pop()
                if not root <= node < end or seen[node] or depth > MAX_TREE_DEPTH:
                    raise ValueError(
                        f"'trees' is not a set of trees (node {node}: outside its tree, "
                        f"reached twice, or deeper than {MAX_TREE_DEPTH})"
                    )
                seen[node] = True
                if not self.is_leaf[node]:
                    stack += [(self.left[node], depth + 1), (self.right[node], depth + 1)]


def _ints(values: Any, key: str) -> tuple[int, ...]:
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in values
    ):
        raise ValueError(f"'trees' {key} is not a list of integers")
    return tuple(values)


def _floats(values: Any, key: str) -> tuple[float, ...]:
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not isinstance(v, int | float) for v in values
    ):
        raise ValueError(f"'trees' {key} is not a list of numbers")
    return tuple(float(v) for v in values)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class WaveModel:
    """Logistic regression over :data:`FEATURE_NAMES`, and (version 2) gradient-boosted trees
    whose probability is averaged with it, with the operating point.

    Example:
        >>> m = WaveModel((0.0,) * len(FEATURE_NAMES), (1.0,) * len(FEATURE_NAMES),
        ...               (0.0,) * len(FEATURE_NAMES), 0.0, threshold=0.9, min_windows=2)
        >>> m.probability(np.ones(len(FEATURE_NAMES)))
        0.5
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.9
    min_windows: int = 2
    info: tuple[tuple[str, Any], ...] = ()
    trees: TreeEnsemble | None = None

    def probability(self, features: FloatArray) -> float:
        """P(wave) for one window's features: the logistic's, or its mean with the trees';
        0 when the arm was hardly seen (:func:`arm_seen`)."""
        if not arm_seen(features):
            return 0.0
        z = float(np.dot((features - np.asarray(self.mean)) / np.asarray(self.scale), self.weights))
        p = _sigmoid(z + self.bias)
        if self.trees is None:
            return p
        return 0.5 * (p + self.trees.probability(features))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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
        if self.trees is not None:
            data["trees"] = self.trees.to_json()
        else:
            data["version"] = 1
        return data

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (atomically: a power cut leaves the old file or the new)."""
        write_text_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> WaveModel:
        """Read a model file; :class:`WaveModelError` naming it when it is unusable."""
        path = Path(path)
        redo = (
            "make it again with `exhibit gestures train-wave MANIFEST --config CONFIG --out "
            "FILE`, or for the shipped model reinstall the exhibit"
        )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise WaveModelError(f"{path}: no such wave model file; {redo}") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise WaveModelError(f"{path}: not a readable wave model ({exc}); {redo}") from exc
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise WaveModelError(f"{path}: not a wave model (no format {MODEL_FORMAT!r}); {redo}")
        version = data.get("version")
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            raise WaveModelError(
                f"{path}: wave model version {data.get('version')!r}, this exhibit reads "
                f"{' and '.join(map(str, READABLE_VERSIONS))}; {redo}"
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
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
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
        trees = None
        if data["version"] >= 2:
            try:
                trees = TreeEnsemble.from_json(data.get("trees"), n)
            except (ValueError, OverflowError) as exc:
                raise WaveModelError(f"{path}: wave model's {exc}; {redo}") from exc
        info = data.get("trained_on", {})
        return cls(
            vectors[0],
            vectors[1],
            vectors[2],
            bias,
            threshold,
            min_windows,
            tuple(sorted(info.items())) if isinstance(info, dict) else (),
            trees,
        )


def _short(x: float) -> float:
    """Eight significant digits: a small file, and no scale rounded to zero."""
    return float(f"{x:.8g}")


@cache
def builtin_model() -> WaveModel:
    """The model shipped with the exhibit (``exhibit/gestures/wave_model.json``)."""
    return WaveModel.load(BUILTIN_MODEL)


def load_model(path: str) -> WaveModel:
    """The model in ``path`` (``[gestures.wave] model_file``; "" = :func:`builtin_model`),
    read once per version of the file: every visitor's detector shares it, and a retrained
    file is picked up by the next config reload."""
    if not path:
        return builtin_model()
    stat = Path(path).stat() if Path(path).exists() else None
    key = (stat.st_mtime_ns, stat.st_size) if stat else None
    return _load_model(path, key)


@lru_cache(maxsize=8)
def _load_model(path: str, _version: tuple[int, int] | None) -> WaveModel:
    return WaveModel.load(path)


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
        self.model = model or load_model(config.model_file)
        sides = ("left", "right") if config.hand == "either" else (config.hand,)
        self._features = WindowFeaturizer(sides)
        self._rules = WaveDetector(config, aspect_ratio) if config.model == "both" else None
        self._runs = dict.fromkeys(sides, 0)
        self._armed = dict.fromkeys(sides, True)
        self._low = dict.fromkeys(sides, 0)
        self._last_hit_s: float | None = None

    def reset(self) -> None:
        """Forget every hand's windows and the refractory period (the visitor left)."""
        self._features.reset()
        if self._rules is not None:
            self._rules.reset()
        self._runs = dict.fromkeys(self._runs, 0)
        self._armed = dict.fromkeys(self._armed, True)
        self._low = dict.fromkeys(self._low, 0)
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
            self._low[side] = self._low[side] + 1 if p < REARM_BELOW else 0
            if self._low[side] >= REARM_WINDOWS:
                self._armed[side] = True
            if p < model.threshold:
                self._runs[side] = 0
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
        # One wave, one hit: the model fires again only after its probability has stayed
        # clearly low for a while (its window no longer holds the wave; a dip just under the
        # threshold mid-wave is not an end). The rules count fresh swings after a hit instead.
        self._runs = dict.fromkeys(self._runs, 0)
        self._armed = dict.fromkeys(self._armed, False)
        self._low = dict.fromkeys(self._low, 0)
        return [best]
