"""Training and leave-one-subject-out evaluation of the learned wave (numpy and scikit-learn).

Model: the mean of two probabilities, an L2-regularised logistic regression on standardised
features (fitted here by Newton's method) and gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, depth 3, 150 trees, classes weighted equally; exported to
:class:`~exhibit.gestures.wave_model.TreeEnsemble`, which the Pi runs with numpy alone). The
logistic is smooth where data are few; the trees can say "high *and* near the face". Training
needs the ``train`` extra (scikit-learn); running the model does not.

Labels: every window of a clip that expects ``wave`` in which that hand's wrist is above its
elbow (median over the window) is positive; every other window is negative (the other hand of
a wave clip, and all windows of the other clips). The model is fitted on them with
classes weighted equally.

Clip decision, as the live detector does: a clip fires when one hand's probability stays at or
above ``threshold`` for ``min_windows`` consecutive frames (mode ``learned``), or when that or
the rule detector fires (mode ``both``).

The operating point (``threshold``, ``min_windows``, mode) is chosen by an *inner*
leave-one-subject-out on the training subjects only: each training subject's clips are scored
by a model fitted on the other training subjects, and the point with the best F1 (ties: fewer
false triggers, then the higher threshold and longer run) is taken. :func:`leave_one_subject_out`
wraps that in an outer loop, so every subject's figures come from a model and an operating point
that never saw it. The grids are fixed here, before any result was read.

Example:
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1]]); y = np.array([0.0, 0.0, 1.0, 1.0])
    >>> fit = fit_logistic(X, y)
    >>> [round(float(p)) for p in fit.predict(X)]
    [0, 0, 1, 1]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from exhibit.gestures.features import BodyFrame
from exhibit.gestures.wave_features import FEATURE_NAMES, FloatArray
from exhibit.gestures.wave_model import TreeEnsemble, WaveModel, WindowFeaturizer, arm_seen
from exhibit.skeleton import Frame, Skeleton

THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
MIN_WINDOWS = (1, 2, 3, 4)
MODES = ("learned", "both")
L2 = 0.003
# The trees (fixed before the leave-one-subject-out figures were read; see
# docs/gestures-evaluation.md, fourth pass).
TREE_DEPTH = 3
TREE_COUNT = 150
TREE_LEARNING_RATE = 0.1
_SIDES = ("left", "right")
# The window feature that tells whether the hand is raised (median wrist height over elbow).
RAISED = FEATURE_NAMES.index("dy")

__all__ = [
    "FEATURE_NAMES",
    "ClipWindows",
    "LogisticFit",
    "OperatingPoint",
    "SubjectResult",
    "choose_operating_point",
    "clip_windows",
    "fit_logistic",
    "leave_one_subject_out",
    "train_model",
]


@dataclass(frozen=True)
class LogisticFit:
    """Standardisation and weights of a fitted logistic regression."""

    mean: FloatArray
    scale: FloatArray
    weights: FloatArray
    bias: float

    def predict(self, X: FloatArray) -> FloatArray:
        z = ((X - self.mean) / self.scale) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0))), dtype=np.float64)


def fit_logistic(X: FloatArray, y: FloatArray, l2: float = L2, iterations: int = 50) -> LogisticFit:
    """Class-balanced, L2-regularised logistic regression (Newton's method; bias not penalised)."""
    mean = X.mean(axis=0)
    scale = np.maximum(X.std(axis=0), 1e-6)  # a constant feature: weight ~0, no 1/0
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / scale])
    sw = balanced_weights(y) / len(y)
    penalty = np.full(Z.shape[1], l2)
    penalty[0] = 0.0
    b = np.zeros(Z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ b, -60.0, 60.0)))
        grad = Z.T @ (sw * (p - y)) + penalty * b
        hess = (Z * (sw * p * (1.0 - p))[:, None]).T @ Z + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        b -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return LogisticFit(mean, scale, b[1:].copy(), float(b[0]))


class TrainingNeedsScikitLearn(ImportError):
    """``train-wave`` without scikit-learn (the ``train`` extra)."""


def tree_classifier() -> Any:
    """scikit-learn's classifier for the trees, configured (not fitted); raises
    :class:`TrainingNeedsScikitLearn` without it."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as exc:
        raise TrainingNeedsScikitLearn(
            "training the wave model needs scikit-learn: pip install -c constraints.txt "
            "-e '.[train]' (running a trained model does not)"
        ) from exc
    return HistGradientBoostingClassifier(
        max_depth=TREE_DEPTH,
        max_iter=TREE_COUNT,
        learning_rate=TREE_LEARNING_RATE,
        early_stopping=False,
        random_state=0,
    )


def balanced_weights(y: FloatArray) -> FloatArray:
    """Per window, the weight that gives both classes the same total."""
    pos = max(float(y.mean()), 1e-9)
    out: FloatArray = np.where(y > 0, 0.5 / pos, 0.5 / max(1.0 - pos, 1e-9))
    return out


def fit_trees(X: FloatArray, y: FloatArray) -> TreeEnsemble:
    """Gradient-boosted trees on windows ``X`` with labels ``y`` (classes weighted equally),
    exported for :class:`~exhibit.gestures.wave_model.TreeEnsemble`. Deterministic."""
    model = tree_classifier()
    model.fit(X, y, sample_weight=balanced_weights(y))
    roots: list[int] = []
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        base = len(columns[0])
        roots.append(base)
        for node in nodes:
            leaf = bool(node["is_leaf"])
            columns[0].append(0 if leaf else int(node["feature_idx"]))
            columns[1].append(0.0 if leaf else float(node["num_threshold"]))
            columns[2].append(-1 if leaf else base + int(node["left"]))
            columns[3].append(-1 if leaf else base + int(node["right"]))
            columns[4].append(float(node["value"]) if leaf else 0.0)
            columns[5].append(leaf)
    return TreeEnsemble(
        float(np.asarray(model._baseline_prediction).ravel()[0]),
        tuple(roots),
        *(tuple(c) for c in columns),
    )


@dataclass(frozen=True)
class EnsembleFit:
    """A fitted logistic and trees: P(wave) is the mean of the two (as :class:`WaveModel`)."""

    logistic: LogisticFit
    trees: TreeEnsemble

    def predict(self, X: FloatArray) -> FloatArray:
        p = 0.5 * (self.logistic.predict(X) + self.trees.probabilities(X))
        out: FloatArray = np.where(arm_seen(X), p, 0.0)
        return out


@dataclass
class ClipWindows:
    """One clip's windows: features, which hand (0 left, 1 right), scored-frame number
    (``frame``), label, and whether the rule detector fired on it."""

    name: str
    subject: str
    label: str
    positive: bool
    X: FloatArray
    hand: npt.NDArray[np.int64]
    frame: npt.NDArray[np.int64]
    raised: npt.NDArray[np.bool_]
    rules_fired: bool = False
    _runs: dict[int, FloatArray] = field(default_factory=dict, repr=False)

    def labels(self) -> FloatArray:
        return np.asarray(self.positive & self.raised, dtype=np.float64)


def clip_windows(
    name: str,
    subject: str,
    label: str,
    positive: bool,
    frames: Iterable[tuple[float, Skeleton | None]],
    aspect_ratio: float,
) -> ClipWindows:
    """The windows the live detector would score on ``frames`` ((t_s, skeleton or None))."""
    featurizer = WindowFeaturizer(_SIDES)
    xs: list[FloatArray] = []
    hands: list[int] = []
    idx: list[int] = []
    step = 0  # scored frames: "consecutive windows" counts these
    for t_s, skeleton in frames:
        body = None if skeleton is None else BodyFrame.of(skeleton, aspect_ratio)
        scored = featurizer.update(t_s, body)
        if scored is None:
            continue
        step += 1
        for side, feats in scored:
            xs.append(feats)
            hands.append(_SIDES.index(side))
            idx.append(step)
    n = len(FEATURE_NAMES)
    return ClipWindows(
        name,
        subject,
        label,
        positive,
        np.asarray(xs, dtype=np.float64).reshape(-1, n),
        np.asarray(hands, dtype=np.int64),
        np.asarray(idx, dtype=np.int64),
        np.asarray([x[RAISED] > 0.0 for x in xs], dtype=bool),
    )


SYNTHETIC = ""  # the subject of synthetic clips: always trained on, never scored


def synthetic_clips(views: int = 24, seed: int = 2024) -> list[ClipWindows]:
    """Clips of the project's own synthetic body (``exhibit.synth``) added to every training
    set, never scored: what BIISC lacks. Negatives: one hand raised and held still (with
    0-1 px of tracker noise, the raised hand that ``hand_up`` wants), a slow 0.5 Hz sway of it,
    both hands up and held, standing idle, walking with swinging arms; positives: waves at
    1-3 Hz. ``views`` random views (size, distance, turn, frame rate, noise) from ``seed``."""
    import random

    from exhibit.synth.body import BodyShape
    from exhibit.synth.script import (
        ArmSide,
        hand_up_motion,
        hands_up_motion,
        idle_motion,
        render,
        walk_motion,
        wave_motion,
    )

    rng = random.Random(seed)
    out = []
    for v in range(views):
        where = {
            "position_m": (rng.uniform(-0.4, 0.4), rng.uniform(1.5, 4.0)),
            "yaw_rad": np.radians(rng.uniform(-45.0, 45.0)),
        }
        side = cast(ArmSide, rng.choice(_SIDES))
        fps = rng.choice((10.0, 30.0, 60.0))
        segments = [
            ("still", False, wave_motion(4.0, side=side, amplitude_rad=0.0, **where)),
            ("hand_up", False, hand_up_motion(3.0, side=side, **where)),
            ("sway", False, wave_motion(5.0, side=side, frequency_hz=0.5, **where)),
            ("hands_up", False, hands_up_motion(2.5, **where)),
            ("idle", False, idle_motion(3.0, **where)),
            ("walk", False, walk_motion((-1.0, where["position_m"][1]), (1.0, 3.0))),
            (
                "wave",
                True,
                wave_motion(
                    4.0,
                    side=side,
                    frequency_hz=rng.uniform(1.0, 3.0),
                    amplitude_rad=rng.uniform(0.5, 0.8),
                    **where,
                ),
            ),
        ]
        for label, positive, segment in segments:
            frames = render(
                segment,
                fps=fps,
                shape=BodyShape(rng.uniform(1.1, 1.9)),
                seed=rng.randrange(2**16),
                noise_px=rng.uniform(0.0, 1.0),
            )
            out.append(
                clip_windows(
                    f"synthetic-{v}-{label}",
                    SYNTHETIC,
                    label,
                    positive,
                    frames_of(frames),
                    640 / 480,
                )
            )
    return out


def _best_runs(clip: ClipWindows, p: FloatArray) -> FloatArray:
    """For each ``min_windows`` k, the highest p that k consecutive frames of one hand all
    reach: the clip fires at threshold ``thr`` with run k iff that value >= thr."""
    out = np.zeros(len(MIN_WINDOWS))
    for h in (0, 1):
        sel = clip.hand == h
        ph, fh = p[sel], clip.frame[sel]
        for j, k in enumerate(MIN_WINDOWS):
            for i in range(k - 1, len(ph)):
                if fh[i] - fh[i - k + 1] == k - 1:
                    out[j] = max(out[j], float(ph[i - k + 1 : i + 1].min()))
    return out


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    min_windows: int
    mode: str


def _fires(runs: FloatArray, rules: bool, point: OperatingPoint) -> bool:
    learned = bool(runs[MIN_WINDOWS.index(point.min_windows)] >= point.threshold)
    return learned or (point.mode == "both" and rules)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2.0 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose_operating_point(
    clips: Sequence[ClipWindows], runs: Sequence[FloatArray], modes: Sequence[str] = MODES
) -> tuple[OperatingPoint, float]:
    """The point of the fixed grids with the best clip F1 on ``clips`` (their ``runs`` from
    models that did not see them); ties: fewer false triggers, higher threshold, longer run."""
    best: tuple[tuple[float, int, float, int], OperatingPoint] | None = None
    for mode in modes:
        for thr in THRESHOLDS:
            for k in MIN_WINDOWS:
                point = OperatingPoint(thr, k, mode)
                tp = fp = fn = 0
                for clip, r in zip(clips, runs, strict=True):
                    fired = _fires(r, clip.rules_fired, point)
                    tp += clip.positive and fired
                    fn += clip.positive and not fired
                    fp += not clip.positive and fired
                key = (_f1(tp, fp, fn), -fp, thr, k)
                if best is None or key > best[0]:
                    best = (key, point)
    assert best is not None
    return best[1], best[0][0]


def _fit(clips: Sequence[ClipWindows]) -> EnsembleFit:
    X = np.vstack([c.X for c in clips])
    y = np.concatenate([c.labels() for c in clips])
    return EnsembleFit(fit_logistic(X, y), fit_trees(X, y))


def _inner_point(
    clips: Sequence[ClipWindows], modes: Sequence[str]
) -> tuple[OperatingPoint, float]:
    subjects = sorted({c.subject for c in clips} - {SYNTHETIC})
    runs: dict[str, FloatArray] = {}
    for s in subjects:
        fit = _fit([c for c in clips if c.subject != s])
        for c in clips:
            if c.subject == s:
                runs[c.name] = _best_runs(c, fit.predict(c.X))
    scored = [c for c in clips if c.subject != SYNTHETIC]
    return choose_operating_point(scored, [runs[c.name] for c in scored], modes)


def train_model(
    clips: Sequence[ClipWindows], modes: Sequence[str] = ("learned",)
) -> tuple[WaveModel, OperatingPoint]:
    """The model for all ``clips``, its operating point chosen by leave-one-subject-out on
    them (mode among ``modes``; the model file keeps threshold and run length)."""
    point, inner_f1 = _inner_point(clips, modes)
    fit = _fit(clips)
    info = {
        "clips": sum(c.subject != SYNTHETIC for c in clips),
        "synthetic_clips": sum(c.subject == SYNTHETIC for c in clips),
        "subjects": len({c.subject for c in clips} - {SYNTHETIC}),
        "windows": int(sum(len(c.X) for c in clips)),
        "positive_clips": sum(c.positive for c in clips),
        "loso_f1": round(inner_f1, 4),
        "loso_mode": point.mode,
        "trees": len(fit.trees.roots),
    }
    model = WaveModel(
        tuple(float(v) for v in fit.logistic.mean),
        tuple(float(v) for v in fit.logistic.scale),
        tuple(float(v) for v in fit.logistic.weights),
        fit.logistic.bias,
        point.threshold,
        point.min_windows,
        tuple(sorted(info.items())),
        fit.trees,
    )
    return model, point


@dataclass(frozen=True)
class SubjectResult:
    """One subject's clips scored by a model and operating point chosen without it."""

    subject: str
    point: OperatingPoint
    inner_f1: float
    tp: int
    fn: int
    fp: int
    false_by_label: Mapping[str, int]


def leave_one_subject_out(
    clips: Sequence[ClipWindows], modes: Sequence[str] = MODES
) -> list[SubjectResult]:
    """Per subject: operating point by inner LOSO on the others, model fitted on the others,
    then that subject's clips scored. Nothing about a subject reaches its own figures."""
    rows = []
    for s in sorted({c.subject for c in clips} - {SYNTHETIC}):
        train = [c for c in clips if c.subject != s]
        point, inner_f1 = _inner_point(train, modes)
        fit = _fit(train)
        tp = fn = fp = 0
        false: Counter[str] = Counter()
        for c in clips:
            if c.subject != s:
                continue
            fired = _fires(_best_runs(c, fit.predict(c.X)), c.rules_fired, point)
            tp += c.positive and fired
            fn += c.positive and not fired
            if fired and not c.positive:
                fp += 1
                false[c.label] += 1
        rows.append(SubjectResult(s, point, inner_f1, tp, fn, fp, dict(false)))
    return rows


def format_loso(rows: Sequence[SubjectResult], negative_labels: Sequence[str]) -> str:
    """The per-subject table and the false triggers per negative label."""
    out = [
        "# wave (learned): leave one subject out; model, threshold, run and mode chosen "
        "on the other subjects only",
        f"{'subject':<10}{'mode':>8}{'thr':>7}{'run':>5}{'inner':>7}{'tp':>5}{'pos':>5}"
        f"{'fp':>5}{'f1':>7}  false triggers",
    ]
    for r in rows:
        falses = ", ".join(f"{k} {v}" for k, v in sorted(r.false_by_label.items()))
        out.append(
            f"{r.subject:<10}{r.point.mode:>8}{r.point.threshold:>7}{r.point.min_windows:>5}"
            f"{r.inner_f1:>7.3f}{r.tp:>5}{r.tp + r.fn:>5}{r.fp:>5}"
            f"{_f1(r.tp, r.fp, r.fn):>7.3f}  {falses}"
        )
    tp, fn, fp = (sum(getattr(r, a) for r in rows) for a in ("tp", "fn", "fp"))
    out.append(f"{'[all]':<10}{'':>27}{tp:>5}{tp + fn:>5}{fp:>5}{_f1(tp, fp, fn):>7.3f}")
    total: Counter[str] = Counter()
    for r in rows:
        total.update(r.false_by_label)
    out.append(
        "false triggers by action: "
        + ", ".join(f"{label} {total.get(label, 0)}" for label in sorted(negative_labels))
    )
    return "\n".join(out)


def frames_of(frames: Iterable[Frame]) -> list[tuple[float, Skeleton | None]]:
    """(t_s, first skeleton or None) per frame, as :func:`clip_windows` wants them."""
    from exhibit.gestures.evaluate import _primary

    return [(f.t_s, _primary(f)) for f in frames]
