"""Gestures taught by demonstration: DTW templates, a stream spotter, and their file.

A designer shows a gesture three to five times; the exhibit then recognizes it, in the manner of
Wekinator, the Gesture Recognition Toolkit (GRT) or Kinect Visual Gesture Builder. Everything
here works on any joint set: a demonstration is a float array of shape ``(frames, joints, C)``
(joint coordinates, e.g. a Kinect v1's 20 joints) or ``(frames, features)`` (already
body-normalized features such as :func:`exhibit.gestures.template_features.sequence_features`).

Pipeline, for training examples and for every sequence or frame compared with them:

1. **Body normalization** (joint input only): each frame is centred on its mean joint, and the
   whole sequence is divided by its body size; the result is flattened to
   ``(frames, joints * C)``. Position and size drop out. Body size is the *median* distance of
   the joints to the centroid (averaged over frames), not the RMS: the RMS grows with the
   gesture itself (a circling hand raised it by 12 % in the tests), and the spotter, which never
   sees a whole gesture before it ends, cannot know it; with the RMS a genuine circle in a
   stream scored 0.8-0.9 of the threshold instead of 0.7. The median barely moves when a limb
   does, so the spotter's running mean over recent frames agrees with it.
2. **Resampling** (``resample_to``, optional): linear interpolation to a fixed number of frames.
3. **z-normalization** per feature, with the mean and standard deviation of all training frames.
   A feature that hardly moves in training (a joint held still) would turn pure jitter into unit
   variance, so every standard deviation is floored at ``STD_FLOOR_FRACTION`` of the largest.
4. **Distance**: multivariate dynamic time warping. The cost of matching two frames is the RMS
   difference over features (in training standard deviations). Paths use the slope-limited steps
   ``(1, 1)``, ``(1, 2)``, ``(2, 1)`` weighted by the number of frames they advance (2, 3, 3), so
   every path between an ``n``-frame and an ``m``-frame sequence weighs exactly ``n + m`` and
   dividing by ``n + m`` gives a length-normalized distance (Sakoe & Chiba, 1978). The slopes
   allow one sequence to be up to twice as fast as the other; a Sakoe–Chiba band of ``band`` (a
   fraction of the length, around the diagonal joining both ends) keeps alignments plausible.
   Every step advances both sequences, so the recursion is vectorized over the template frames
   and over all templates at once, and loops only over the query's frames.

Example:
    >>> import numpy as np
    >>> t = np.linspace(0.0, 2.0 * np.pi, 30)[:, None]
    >>> rng = np.random.default_rng(0)
    >>> circle = np.hstack([np.cos(t), np.sin(t)])
    >>> circles = [circle + rng.normal(0, 0.05, (30, 2)) for _ in range(4)]
    >>> lines = [np.hstack([t, -t]) / 6 + rng.normal(0, 0.05, (30, 2)) for _ in range(4)]
    >>> rec = TemplateRecognizer().fit(circles + lines, ["circle"] * 4 + ["line"] * 4)
    >>> rec.predict(np.hstack([np.cos(t), np.sin(t)]))[0]
    'circle'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from exhibit.atomic import AtomicWriteError, write_text_atomic
from exhibit.errors import ExhibitError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FORMAT_NAME = "exhibit-gesture-templates"
FORMAT_VERSION = 1

# Examples per gesture. Two would leave the rejection threshold resting on a single distance, and
# an example that does not resemble the other could not be told from one that does.
MIN_EXAMPLES = 3
# A demonstration shorter than this is not a movement.
MIN_FRAMES = 3
# An example whose nearest same-label distance exceeds this many times the median of the others'
# is "not like the others". Consistent demonstrations stay within 1.6 (largest seen over 320
# synthetic sets of 3 and 5 examples); another gesture slipped in is at 1.5-3 (median 2.4), and
# those below 2 are then usually caught as nearer to another label.
OUTLIER_RATIO = 2.0
# Standard deviations used for z-normalization are at least this fraction of the largest one.
STD_FLOOR_FRACTION = 0.5
# Narrowest band, in frames either side of the diagonal, whatever ``band`` says: the slope-limited
# steps need some room to follow a path whose slope is not exactly 1.
MIN_BAND_FRAMES = 2.0
# Lowest rejection threshold (RMS difference in training standard deviations), for examples that
# are copies of one another: sensor jitter alone is more than this.
MIN_THRESHOLD = 0.05


class TemplateError(ExhibitError):
    """Examples cannot be learned from, or a sequence does not fit the learned templates.

    ``more_needed`` maps a gesture label to how many more consistent examples it needs (empty
    when the problem is not a shortage of examples).
    """

    def __init__(self, message: str, *, more_needed: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.more_needed: dict[str, int] = dict(more_needed or {})


class TemplateFileError(TemplateError):
    """A template file cannot be read, is corrupt, or was made for another joint set."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# --------------------------------------------------------------------------------------------
# Pure functions: preprocessing and DTW


def frame_body_size(centred: FloatArray) -> float:
    """Body size of one centred frame ``(joints, C)``: the median joint-to-centroid distance."""
    return float(np.median(np.sqrt(np.sum(centred * centred, axis=-1))))


def body_normalize(joints: FloatArray) -> FloatArray:
    """``(frames, joints, C)`` -> ``(frames, joints * C)``: every frame centred on its mean
    joint, all divided by the sequence's body size, the mean over frames of
    :func:`frame_body_size` (unchanged if zero)."""
    centred = joints - joints.mean(axis=1, keepdims=True)
    size = float(np.median(np.sqrt(np.sum(centred * centred, axis=2)), axis=1).mean())
    if size > 1e-12:
        centred = centred / size
    return np.ascontiguousarray(centred.reshape(len(joints), -1), dtype=np.float64)


def resample(sequence: FloatArray, frames: int) -> FloatArray:
    """Linear interpolation of ``(n, F)`` to ``(frames, F)``; both ends are kept exactly."""
    n = len(sequence)
    if n == frames:
        return sequence.copy()
    pos = np.linspace(0.0, n - 1.0, frames)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n - 2)
    frac = (pos - i0)[:, None]
    out = sequence[i0] * (1.0 - frac) + sequence[i0 + 1] * frac
    return np.asarray(out, dtype=np.float64)


def _frame_costs(query: FloatArray, templates: FloatArray) -> FloatArray:
    """RMS feature difference of every query frame and every template frame: ``(K, n, M)``."""
    diff = templates[:, None, :, :] - query[None, :, None, :]
    return np.asarray(np.sqrt(np.mean(diff * diff, axis=3)), dtype=np.float64)


def _band_mask(n: int, lengths: IntArray, width: int, band: float) -> npt.NDArray[np.bool_]:
    """``(K, n, width)``: which cells of each query-template grid are inside the band."""
    i_frac = np.arange(n) / max(n - 1, 1)
    j = np.arange(width)
    j_frac = j[None, :] / np.maximum(lengths - 1, 1)[:, None]
    shortest = np.maximum(np.minimum(lengths, n) - 1, 1)
    half = np.maximum(band, MIN_BAND_FRAMES / shortest) + 1e-9
    inside = np.abs(i_frac[None, :, None] - j_frac[:, None, :]) <= half[:, None, None]
    inside &= j[None, None, :] < lengths[:, None, None]
    return np.asarray(inside, dtype=np.bool_)


def dtw_to_many(
    query: FloatArray, templates: FloatArray, lengths: IntArray, band: float
) -> FloatArray:
    """Length-normalized DTW distance of ``query`` ``(n, F)`` to each padded template
    ``templates[k, :lengths[k]]`` of ``(K, M, F)``; ``inf`` where no path fits the band."""
    n = len(query)
    n_templates, width = templates.shape[:2]
    cost = _frame_costs(query, templates)
    cost[~_band_mask(n, lengths, width, band)] = np.inf
    cost2, cost3 = 2.0 * cost, 3.0 * cost
    prev2 = np.full((n_templates, width), np.inf)
    prev1 = np.full((n_templates, width), np.inf)
    prev1[:, 0] = cost2[:, 0, 0]
    for i in range(1, n):
        row = np.full((n_templates, width), np.inf)
        row[:, 1:] = prev1[:, :-1] + cost2[:, i, 1:]  # step (1, 1)
        np.minimum(row[:, 2:], prev1[:, :-2] + cost3[:, i, 2:], out=row[:, 2:])  # step (1, 2)
        if i >= 2:
            np.minimum(row[:, 1:], prev2[:, :-1] + cost3[:, i, 1:], out=row[:, 1:])  # (2, 1)
        prev2, prev1 = prev1, row
    end = prev1[np.arange(n_templates), lengths - 1]
    return np.asarray(end / (n + lengths), dtype=np.float64)


def dtw_distance(a: FloatArray, b: FloatArray, band: float = 0.2) -> float:
    """Length-normalized DTW distance of two ``(frames, features)`` sequences (no
    normalization applied): 0 for identical sequences, symmetric, ``inf`` if one is more than
    twice as long as the other.

    Example:
        >>> import numpy as np
        >>> a = np.sin(np.linspace(0, 3, 20))[:, None]
        >>> dtw_distance(a, a)
        0.0
    """
    a2 = np.asarray(a, dtype=np.float64)
    b2 = np.asarray(b, dtype=np.float64)
    if a2.ndim != 2 or b2.ndim != 2 or a2.shape[1] != b2.shape[1] or not len(a2) or not len(b2):
        raise TemplateError(f"need two (frames, features) arrays, got {a2.shape} and {b2.shape}")
    lengths = np.array([len(b2)], dtype=np.int64)
    return float(dtw_to_many(a2, b2[None], lengths, band)[0])


# --------------------------------------------------------------------------------------------
# The recognizer


class TemplateRecognizer:
    """Recognizes a whole movement by comparing it with a few demonstrations of each gesture.

    Why: some gestures are easier to show than to describe with thresholds (a flourish, a bow, a
    "draw a circle"). Fit it on three to five examples per label; ``predict`` returns the label
    of the nearest example by DTW distance, or ``None`` when even the nearest is farther than
    that label's **rejection threshold**, learned from the examples themselves:

    * For each example, its *leave-one-out* distance is the DTW distance to the nearest *other*
      example of its label: how far a fresh, genuine performance may fall from the stored ones.
    * ``threshold = rejection_k * max(leave-one-out distances)``, ``rejection_k = 1.5`` by
      default. The maximum, not ``mean + k * std``: with three to five examples a standard
      deviation is itself a guess (with three, two similar distances make it nearly zero), while
      the largest leave-one-out distance is a direct, conservative sample of a genuine
      performance's distance (a new performance is compared with *all* the examples, one more
      than in leave-one-out, so it usually comes closer). The factor 1.5 gives room for the
      visitor who is not the designer; ordinary movement, random or still, lies several times
      farther (see the tests). It is never below ``MIN_THRESHOLD`` (examples that are copies).

    Examples are refused, with a :class:`TemplateError` saying how many more are needed, when a
    label has fewer than ``MIN_EXAMPLES`` (3), when one example does not resemble the others of
    its label (its leave-one-out distance above ``OUTLIER_RATIO`` times the median of the
    others'), or when an example is nearer to another label's examples than to its own (the two
    gestures could not be told apart). Examples are numbered from 1 in the order given, per label.

    ``score`` is ``1 - distance / threshold``: 1 for a perfect copy of an example, 0 at the
    threshold (and 0 for a rejection).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> t = np.linspace(0, 1, 25)[:, None, None]
        >>> base = rng.normal(size=(1, 5, 3))
        >>> up = [base + t * [0, 1, 0] + rng.normal(0, .01, (25, 5, 3)) for _ in range(3)]
        >>> side = [base + t * [1, 0, 0] * (np.arange(5) == 0)[:, None] for _ in range(3)]
        >>> rec = TemplateRecognizer().fit(up + side, ["up"] * 3 + ["side"] * 3)
        >>> label, score = rec.predict(up[0])
        >>> label, 0.0 < score <= 1.0
        ('up', True)
    """

    def __init__(
        self, band: float = 0.2, rejection_k: float = 1.5, resample_to: int | None = None
    ) -> None:
        if not 0.0 < band <= 1.0:
            raise TemplateError(f"band must be a fraction of the length in (0, 1], got {band}")
        if not rejection_k > 0.0:
            raise TemplateError(f"rejection_k must be > 0, got {rejection_k}")
        if resample_to is not None and resample_to < MIN_FRAMES:
            raise TemplateError(f"resample_to must be at least {MIN_FRAMES}, got {resample_to}")
        self.band = float(band)
        self.rejection_k = float(rejection_k)
        self.resample_to = resample_to
        self._frame_shape: tuple[int, ...] | None = None
        self._mean = np.zeros(0)
        self._std = np.ones(0)
        self._raw: list[FloatArray] = []
        self._labels: list[str] = []
        self._thresholds: dict[str, float] = {}
        self._padded = np.zeros((0, 0, 0))
        self._lengths = np.zeros(0, dtype=np.int64)
        self._template_label = np.zeros(0, dtype=np.int64)
        self._label_names: tuple[str, ...] = ()

    # --- what was learned

    @property
    def fitted(self) -> bool:
        return self._frame_shape is not None

    @property
    def labels(self) -> tuple[str, ...]:
        """The learned labels, sorted."""
        return self._label_names

    @property
    def thresholds(self) -> dict[str, float]:
        """Rejection threshold per label (length-normalized DTW distance)."""
        return dict(self._thresholds)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one input frame: ``(features,)`` or ``(joints, C)``."""
        return self._require_fitted()

    @property
    def n_features(self) -> int:
        return int(self._mean.shape[0])

    @property
    def templates(self) -> list[tuple[str, FloatArray]]:
        """``(label, (frames, features))`` per example, body-normalized and resampled but not
        z-normalized (what is stored in a file)."""
        return [(label, raw.copy()) for label, raw in zip(self._labels, self._raw, strict=True)]

    @property
    def normalization(self) -> tuple[FloatArray, FloatArray]:
        """Per-feature ``(mean, std)`` used for z-normalization."""
        return self._mean.copy(), self._std.copy()

    # --- training

    def fit(self, sequences: Sequence[npt.ArrayLike], labels: Sequence[str]) -> TemplateRecognizer:
        """Learns templates, normalization and thresholds; returns ``self``.

        Raises :class:`TemplateError` for mismatched inputs, too few or inconsistent examples.
        """
        if len(sequences) != len(labels):
            raise TemplateError(f"{len(sequences)} sequences but {len(labels)} labels")
        if not sequences:
            raise TemplateError("no examples given")
        for i, label in enumerate(labels):
            if not isinstance(label, str) or not label:
                raise TemplateError(f"label #{i} must be a non-empty string, got {label!r}")
        arrays = [np.asarray(s, dtype=np.float64) for s in sequences]
        frame_shape = arrays[0].shape[1:]
        for i, a in enumerate(arrays):
            self._check_sequence(a, frame_shape, f"example #{i} ({labels[i]!r})")
        self._check_counts(labels)

        raw = [self._preprocess(a) for a in arrays]
        stacked = np.concatenate(raw, axis=0)
        mean = stacked.mean(axis=0)
        std = stacked.std(axis=0)
        std = np.maximum(std, max(STD_FLOOR_FRACTION * float(std.max()), 1e-9))
        self._install(frame_shape, mean, std, raw, list(labels), {})

        distances = self._pairwise()
        self._thresholds = self._learn_thresholds(distances)
        return self

    def _check_sequence(self, a: FloatArray, frame_shape: tuple[int, ...], what: str) -> None:
        if a.ndim not in (2, 3):
            raise TemplateError(
                f"{what}: expected (frames, features) or (frames, joints, coords), got {a.shape}"
            )
        if a.shape[1:] != frame_shape:
            raise TemplateError(
                f"{what}: frames of shape {a.shape[1:]} do not match the others' {frame_shape}"
            )
        if len(a) < MIN_FRAMES:
            raise TemplateError(f"{what}: {len(a)} frame(s); at least {MIN_FRAMES} are needed")
        if not np.all(np.isfinite(a)):
            raise TemplateError(f"{what}: contains NaN or infinite values")

    @staticmethod
    def _check_counts(labels: Sequence[str]) -> None:
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        short = {lab: MIN_EXAMPLES - n for lab, n in sorted(counts.items()) if n < MIN_EXAMPLES}
        if short:
            parts = [
                f"{lab!r} has {counts[lab]}, record {more} more" for lab, more in short.items()
            ]
            raise TemplateError(
                f"too few examples: {'; '.join(parts)} (each gesture needs at least "
                f"{MIN_EXAMPLES}, so that its threshold and odd examples can be learned)",
                more_needed=short,
            )

    def _preprocess(self, a: FloatArray) -> FloatArray:
        flat = body_normalize(a) if a.ndim == 3 else np.ascontiguousarray(a, dtype=np.float64)
        if self.resample_to is not None:
            flat = resample(flat, self.resample_to)
        return flat

    def _install(
        self,
        frame_shape: tuple[int, ...],
        mean: FloatArray,
        std: FloatArray,
        raw: list[FloatArray],
        labels: list[str],
        thresholds: dict[str, float],
    ) -> None:
        """Sets the learned state and builds the padded, z-normalized template batch (sorted by
        label, so that each label's templates are contiguous)."""
        order = sorted(range(len(labels)), key=lambda i: labels[i])
        self._frame_shape = tuple(frame_shape)
        self._mean, self._std = mean, std
        self._raw = [raw[i] for i in order]
        self._labels = [labels[i] for i in order]
        self._label_names = tuple(sorted(set(labels)))
        self._thresholds = dict(thresholds)
        index = {name: k for k, name in enumerate(self._label_names)}
        self._template_label = np.array([index[lab] for lab in self._labels], dtype=np.int64)
        self._lengths = np.array([len(r) for r in self._raw], dtype=np.int64)
        width = int(self._lengths.max())
        self._padded = np.zeros((len(self._raw), width, len(mean)))
        for k, r in enumerate(self._raw):
            self._padded[k, : len(r)] = (r - mean) / std

    def _pairwise(self) -> FloatArray:
        n = len(self._raw)
        out = np.empty((n, n))
        for i in range(n):
            query = self._padded[i, : self._lengths[i]]
            out[i] = dtw_to_many(query, self._padded, self._lengths, self.band)
        return np.asarray(np.minimum(out, out.T), dtype=np.float64)

    def _learn_thresholds(self, distances: FloatArray) -> dict[str, float]:
        labels = np.array(self._labels)
        problems: list[str] = []
        more_needed: dict[str, int] = {}
        thresholds: dict[str, float] = {}
        for name in self._label_names:
            own = np.flatnonzero(labels == name)
            other = np.flatnonzero(labels != name)
            within = distances[np.ix_(own, own)].copy()
            np.fill_diagonal(within, np.inf)
            loo = within.min(axis=1)
            nearest_other = (
                distances[np.ix_(own, other)].min(axis=1)
                if len(other)
                else np.full(len(own), np.inf)
            )
            outliers = []
            for k in range(len(own)):
                rest = np.delete(loo, k)
                if not math.isfinite(loo[k]) or loo[k] > OUTLIER_RATIO * float(np.median(rest)):
                    outliers.append(k)
            confused = [
                k for k in range(len(own)) if k not in outliers and loo[k] >= nearest_other[k]
            ]
            if outliers:
                consistent = len(own) - len(outliers)
                more = max(MIN_EXAMPLES - consistent, 0)
                more_needed[name] = more
                which = ", ".join(f"#{k + 1}" for k in outliers)
                dists = ", ".join(f"{loo[k]:.3g}" for k in outliers)
                typical = float(np.median(np.delete(loo, outliers)))
                advice = (
                    f"drop or re-record them and record {more} more consistent example(s)"
                    if more
                    else f"drop or re-record them (the other {consistent} are enough)"
                )
                problems.append(
                    f"{name!r}: example(s) {which} of {len(own)} do not resemble the others "
                    f"(nearest same-label distance {dists} vs typical {typical:.3g}); {advice}"
                )
            elif confused:
                more_needed[name] = len(confused)
                for k in confused:
                    j = other[int(np.argmin(distances[own[k], other]))]
                    problems.append(
                        f"{name!r}: example #{k + 1} is nearer to an example of {labels[j]!r} "
                        f"({nearest_other[k]:.3g}) than to any other {name!r} example "
                        f"({loo[k]:.3g}); the gestures cannot be told apart: make them more "
                        f"different, or replace it with {len(confused)} consistent example(s)"
                    )
            thresholds[name] = max(self.rejection_k * float(loo.max()), MIN_THRESHOLD)
        if problems:
            raise TemplateError(
                "inconsistent examples:\n" + "\n".join(f"  {p}" for p in problems),
                more_needed=more_needed,
            )
        return thresholds

    # --- recognition

    def _require_fitted(self) -> tuple[int, ...]:
        if self._frame_shape is None:
            raise TemplateError("the recognizer has not been fitted (call fit() or load it)")
        return self._frame_shape

    def prepare(self, sequence: npt.ArrayLike) -> FloatArray:
        """The z-normalized ``(frames, features)`` form of a raw sequence, as DTW compares it."""
        frame_shape = self._require_fitted()
        a = np.asarray(sequence, dtype=np.float64)
        self._check_sequence(a, frame_shape, "sequence")
        return np.asarray((self._preprocess(a) - self._mean) / self._std, dtype=np.float64)

    def distances(self, sequence: npt.ArrayLike) -> dict[str, float]:
        """Nearest length-normalized DTW distance per label (``inf``: no alignment fits)."""
        query = self.prepare(sequence)
        d = dtw_to_many(query, self._padded, self._lengths, self.band)
        return {
            name: float(d[self._template_label == k].min())
            for k, name in enumerate(self._label_names)
        }

    def predict(self, sequence: npt.ArrayLike) -> tuple[str | None, float]:
        """``(label, score)`` of the nearest label, or ``(None, 0.0)`` when it is farther than
        that label's threshold. ``score`` is ``1 - distance / threshold`` (1 = identical)."""
        per_label = self.distances(sequence)
        label = min(per_label, key=lambda name: per_label[name] / self._thresholds[name])
        ratio = per_label[label] / self._thresholds[label]
        if not ratio <= 1.0:
            return None, 0.0
        return label, float(1.0 - ratio)


# --------------------------------------------------------------------------------------------
# The spotter


class TemplateSpotter:
    """Finds taught gestures in a continuous stream of frames, as they end.

    Why: a visitor does not press a button before gesturing; the gesture has to be found inside
    whatever else the body is doing. This is subsequence DTW in its online form, SPRING
    (Sakurai, Faloutsos & Yamamuro, ICDE 2007): every template keeps, per template frame, the
    best warping path ending at the current stream frame, which may start at any earlier frame
    (a path starts afresh at the template's first frame on every frame). The steps, weights and
    normalization are the recognizer's (see the module docstring), so a path's cost divided by
    its weight is directly comparable with the learned thresholds; where several paths reach a
    cell, the one with the lowest normalized cost wins. No band: the slope limit (at most twice
    as fast or slow as the template) bounds the alignment instead.

    A label **reports** ``(label, score, start_t_s)`` when its best template's path ending at
    the template's last frame is under ``threshold_scale`` times the label's threshold and has
    not improved for
    ``settle_frames`` frames (a local minimum, so a gesture is reported once, at its best
    alignment). Its templates then start again and the label stays silent for
    ``refractory_s`` seconds. ``None`` (tracking lost) resets everything. ``score`` is
    ``1 - distance / (threshold_scale * threshold)``.

    Why ``threshold_scale`` (0.8): ``predict`` compares one alignment with the threshold, the
    spotter hundreds per second (every frame starts a new one), and the best of many chance
    alignments of ordinary movement comes closer than any single one. Over 30 synthetic streams
    (13,000 frames of fidgeting, 60 gestures) 0.8 gave 1 false report and 2 missed gestures,
    0.9 gave 19 false reports; genuine performances in a stream mostly score 0.5-0.75 of the
    threshold.

    All templates are batched in one padded ``(templates, frames, features)`` array and every
    step advances the template, so one frame costs a fixed handful of numpy operations whatever
    the number of templates, with no Python loop over templates or template frames.

    Example:
        >>> import numpy as np
        >>> t = np.linspace(0.0, 2.0 * np.pi, 30)[:, None]
        >>> rng = np.random.default_rng(0)
        >>> circle = np.hstack([np.cos(t), np.sin(t)])
        >>> line = np.hstack([t, -t]) / 6
        >>> rec = TemplateRecognizer().fit(
        ...     [x + rng.normal(0, 0.05, x.shape) for x in [circle] * 3 + [line] * 3],
        ...     ["circle"] * 3 + ["line"] * 3)
        >>> spotter = TemplateSpotter(rec)
        >>> stream = np.vstack([np.zeros((20, 2)), circle, np.zeros((20, 2))])
        >>> found = [m for i, f in enumerate(stream) for m in spotter.update(i / 30, f)]
        >>> [(label, round(start_t_s * 30)) for label, _, start_t_s in found]
        [('circle', 20)]
    """

    def __init__(
        self,
        recognizer: TemplateRecognizer,
        *,
        threshold_scale: float = 0.8,
        settle_frames: int = 4,
        refractory_s: float = 1.0,
        body_size_frames: float = 30.0,
    ) -> None:
        self._frame_shape = recognizer.frame_shape
        if settle_frames < 1:
            raise TemplateError(f"settle_frames must be >= 1, got {settle_frames}")
        if not 0.0 < threshold_scale <= 1.0:
            raise TemplateError(f"threshold_scale must be in (0, 1], got {threshold_scale}")
        self.threshold_scale = float(threshold_scale)
        self.settle_frames = settle_frames
        self.refractory_s = float(refractory_s)
        self._alpha_body = 1.0 / max(float(body_size_frames), 1.0)
        self._mean = recognizer._mean
        self._std = recognizer._std
        self._templates = recognizer._padded
        self._lengths = recognizer._lengths
        self._names = recognizer.labels
        n_templates, width = self._templates.shape[:2]
        self._ends = (np.arange(n_templates), self._lengths - 1)
        self._threshold_per_template = (
            np.array([recognizer.thresholds[self._names[k]] for k in recognizer._template_label])
            * self.threshold_scale
        )
        # (labels, most templates of a label): template indices, padded with an index past the
        # end that points at an always-infinite entry.
        label_of = recognizer._template_label
        per_label = [np.flatnonzero(label_of == k) for k in range(len(self._names))]
        depth = max(len(ix) for ix in per_label)
        self._label_templates = np.full((len(self._names), depth), n_templates, dtype=np.int64)
        for k, ix in enumerate(per_label):
            self._label_templates[k, : len(ix)] = ix
        self._template_mask = [label_of == k for k in range(len(self._names))]
        self._shape = (n_templates, width)
        self._refractory_until = np.full(len(self._names), -np.inf)
        self.reset()

    def reset(self) -> None:
        """Forgets every partial match (refractory periods are kept)."""
        shape = self._shape
        self._d1, self._w1, self._s1 = np.full(shape, np.inf), np.ones(shape), np.zeros(shape)
        self._d2, self._w2, self._s2 = np.full(shape, np.inf), np.ones(shape), np.zeros(shape)
        n_labels = len(self._names)
        self._best = np.full(n_labels, np.inf)  # candidate's distance / threshold
        self._best_start = np.zeros(n_labels)
        self._since = np.zeros(n_labels, dtype=np.int64)
        self._body_size: float | None = None

    def _normalize(self, frame: FloatArray) -> FloatArray:
        if frame.ndim == 1:
            flat = frame
        else:  # joints: centre on the mean joint, divide by a running RMS body size
            centred = frame - frame.mean(axis=0)
            size = frame_body_size(centred)
            if self._body_size is None:
                self._body_size = size
            else:
                self._body_size += self._alpha_body * (size - self._body_size)
            size = self._body_size
            flat = (centred / size if size > 1e-12 else centred).reshape(-1)
        return np.asarray((flat - self._mean) / self._std, dtype=np.float64)

    def update(self, t_s: float, features: npt.ArrayLike | None) -> list[tuple[str, float, float]]:
        """Feeds one frame (a ``frame_shape`` array, or ``None`` when tracking is lost); returns
        the gestures that ended and settled: ``(label, score 0..1, start_t_s)``."""
        if features is None:
            self.reset()
            return []
        frame = np.asarray(features, dtype=np.float64)
        if frame.shape != self._frame_shape:
            raise TemplateError(f"frame of shape {frame.shape}; expected {self._frame_shape}")
        if not np.all(np.isfinite(frame)):
            self.reset()
            return []
        x = self._normalize(frame)
        diff = self._templates - x
        cost = np.sqrt(np.einsum("kmf,kmf->km", diff, diff) / len(x))

        d1, w1, s1, d2, w2, s2 = self._d1, self._w1, self._s1, self._d2, self._w2, self._s2
        d = np.empty_like(d1)
        w = np.empty_like(w1)
        s = np.empty_like(s1)
        d[:, 0], w[:, 0], s[:, 0] = 2.0 * cost[:, 0], 2.0, t_s  # a path starts here
        c1 = cost[:, 1:]
        # step (1, 1)
        d[:, 1:] = d1[:, :-1] + 2.0 * c1
        w[:, 1:] = w1[:, :-1] + 2.0
        s[:, 1:] = s1[:, :-1]
        # step (2, 1): the stream advances two frames for one template frame
        dd = d2[:, :-1] + 3.0 * c1
        ww = w2[:, :-1] + 3.0
        better = dd * w[:, 1:] < d[:, 1:] * ww
        d[:, 1:] = np.where(better, dd, d[:, 1:])
        w[:, 1:] = np.where(better, ww, w[:, 1:])
        s[:, 1:] = np.where(better, s2[:, :-1], s[:, 1:])
        # step (1, 2): two template frames for one stream frame
        dd = d1[:, :-2] + 3.0 * cost[:, 2:]
        ww = w1[:, :-2] + 3.0
        better = dd * w[:, 2:] < d[:, 2:] * ww
        d[:, 2:] = np.where(better, dd, d[:, 2:])
        w[:, 2:] = np.where(better, ww, w[:, 2:])
        s[:, 2:] = np.where(better, s1[:, :-2], s[:, 2:])
        self._d2, self._w2, self._s2 = d1, w1, s1
        self._d1, self._w1, self._s1 = d, w, s

        ratio = np.append(d[self._ends] / w[self._ends] / self._threshold_per_template, np.inf)
        starts = np.append(s[self._ends], 0.0)
        grid = ratio[self._label_templates]
        pick = self._label_templates[np.arange(len(grid)), np.argmin(grid, axis=1)]
        now = ratio[pick]
        open_ = (now <= 1.0) & (t_s >= self._refractory_until)
        improved = open_ & (now < self._best)
        self._best = np.where(improved, now, self._best)
        self._best_start = np.where(improved, starts[pick], self._best_start)
        self._since = np.where(improved, 0, self._since + 1)
        due = np.flatnonzero(np.isfinite(self._best) & (self._since >= self.settle_frames))
        found: list[tuple[str, float, float]] = []
        for k in due:
            found.append((self._names[k], float(1.0 - self._best[k]), float(self._best_start[k])))
            mask = self._template_mask[k]
            self._d1[mask] = np.inf
            self._d2[mask] = np.inf
            self._best[k] = np.inf
            self._refractory_until[k] = t_s + self.refractory_s
        return found


# --------------------------------------------------------------------------------------------
# Storage


def save_templates(
    path: str | os.PathLike[str],
    recognizer: TemplateRecognizer,
    *,
    joint_set: str,
    feature_spec: Mapping[str, Any],
) -> None:
    """Writes a fitted recognizer as JSON, atomically (a temporary file in the same folder,
    then ``os.replace``), so a crash never leaves half a file behind; the file it replaces is
    kept as ``FILE.bak``, so a bad teaching session can be undone.

    ``joint_set`` names the skeleton the features come from (``"mediapipe-pose-33"``,
    ``"kinect-v1-20"``); ``feature_spec`` describes how features were computed (e.g.
    :data:`exhibit.gestures.template_features.FEATURE_SPEC`). Both are checked when loading.
    """
    frame_shape = recognizer.frame_shape
    if not isinstance(joint_set, str) or not joint_set:
        raise TemplateError(f"joint_set must be a non-empty string, got {joint_set!r}")
    declared = feature_spec.get("features")
    if isinstance(declared, int) and len(frame_shape) == 1 and declared != frame_shape[0]:
        raise TemplateError(
            f"feature_spec says {declared} features but the recognizer has {frame_shape[0]}"
        )
    mean, std = recognizer.normalization
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "joint_set": joint_set,
        "feature_spec": dict(feature_spec),
        "recognizer": {
            "band": recognizer.band,
            "rejection_k": recognizer.rejection_k,
            "resample_to": recognizer.resample_to,
            "frame_shape": list(frame_shape),
        },
        "normalization": {"mean": mean.tolist(), "std": std.tolist()},
        "thresholds": recognizer.thresholds,
        "templates": [
            {"label": label, "frames": frames.tolist()} for label, frames in recognizer.templates
        ],
    }
    text = json.dumps(document, indent=1)
    target = Path(path)
    try:
        write_text_atomic(target, text, backup=True)
    except AtomicWriteError as exc:
        raise TemplateFileError(target, f"cannot write: {exc.strerror or exc}") from exc


def _number_matrix(value: Any, where: str, columns: int | None) -> FloatArray:
    """A finite 2-D float matrix from JSON lists, or a ``ValueError`` saying what is wrong."""
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise ValueError(f"{where}: expected a list of lists of numbers")
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) for row in value for v in row
    ):
        raise ValueError(f"{where}: expected numbers only")
    widths = {len(row) for row in value}
    if len(widths) > 1:
        raise ValueError(f"{where}: rows of different lengths {sorted(widths)}")
    a = np.array(value, dtype=np.float64).reshape(len(value), -1 if value else 0)
    if columns is not None and a.shape[1] != columns:
        raise ValueError(f"{where}: expected {columns} values per row, got {a.shape[1]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{where}: contains a non-finite number")
    return a


def _field(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"missing key {where + '.' if where else ''}{key}")
    return obj[key]


def _parse(document: Any, expected_joint_set: str) -> TemplateRecognizer:
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object at the top level")
    if _field(document, "format", "") != FORMAT_NAME:
        raise ValueError(f"format is {document['format']!r}, expected {FORMAT_NAME!r}")
    version = _field(document, "version", "")
    if version != FORMAT_VERSION:
        raise ValueError(f"version {version!r} is not supported (this program reads version 1)")
    joint_set = _field(document, "joint_set", "")
    if joint_set != expected_joint_set:
        raise ValueError(
            f"made for joint set {joint_set!r}, but this exhibit uses {expected_joint_set!r}"
        )
    if not isinstance(_field(document, "feature_spec", ""), dict):
        raise ValueError("feature_spec: expected an object")
    params = _field(document, "recognizer", "")
    if not isinstance(params, dict):
        raise ValueError("recognizer: expected an object")
    frame_shape = _field(params, "frame_shape", "recognizer")
    if (
        not isinstance(frame_shape, list)
        or len(frame_shape) not in (1, 2)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in frame_shape)
    ):
        raise ValueError(
            f"recognizer.frame_shape: expected 1 or 2 positive integers, got {frame_shape!r}"
        )
    resample_to = _field(params, "resample_to", "recognizer")
    if resample_to is not None and (
        isinstance(resample_to, bool) or not isinstance(resample_to, int)
    ):
        raise ValueError(
            f"recognizer.resample_to: expected an integer or null, got {resample_to!r}"
        )
    band = _field(params, "band", "recognizer")
    k = _field(params, "rejection_k", "recognizer")
    for name, v in (("band", band), ("rejection_k", k)):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"recognizer.{name}: expected a number, got {v!r}")
    try:
        recognizer = TemplateRecognizer(float(band), float(k), resample_to)
    except TemplateError as exc:
        raise ValueError(f"recognizer: {exc}") from exc
    n_features = math.prod(frame_shape)

    norm = _field(document, "normalization", "")
    if not isinstance(norm, dict):
        raise ValueError("normalization: expected an object")
    mean = _number_matrix(
        [_field(norm, "mean", "normalization")], "normalization.mean", n_features
    )[0]
    std = _number_matrix([_field(norm, "std", "normalization")], "normalization.std", n_features)[0]
    if not np.all(std > 0):
        raise ValueError("normalization.std: every value must be > 0")

    thresholds = _field(document, "thresholds", "")
    if not isinstance(thresholds, dict) or not thresholds:
        raise ValueError("thresholds: expected a non-empty object of label: number")
    for label, v in thresholds.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
            raise ValueError(f"thresholds.{label}: expected a positive number, got {v!r}")

    templates = _field(document, "templates", "")
    if not isinstance(templates, list) or not templates:
        raise ValueError("templates: expected a non-empty list")
    raw: list[FloatArray] = []
    labels: list[str] = []
    for i, entry in enumerate(templates):
        where = f"templates[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object")
        label = _field(entry, "label", where)
        if label not in thresholds:
            raise ValueError(f"{where}.label: {label!r} has no threshold")
        frames = _number_matrix(_field(entry, "frames", where), f"{where}.frames", n_features)
        expected_frames = resample_to if resample_to is not None else None
        if len(frames) < MIN_FRAMES or (expected_frames and len(frames) != expected_frames):
            raise ValueError(f"{where}.frames: {len(frames)} frames is not a valid template")
        raw.append(frames)
        labels.append(label)
    missing = sorted(set(thresholds) - set(labels))
    if missing:
        raise ValueError(f"thresholds: label(s) {missing} have no templates")
    recognizer._install(
        tuple(frame_shape), mean, std, raw, labels, {lab: float(v) for lab, v in thresholds.items()}
    )
    return recognizer


def load_templates(
    path: str | os.PathLike[str],
    expected_joint_set: str,
    *,
    expected_feature_spec: Mapping[str, Any] | None = None,
) -> TemplateRecognizer:
    """Reads a file written by :func:`save_templates`.

    Raises :class:`TemplateFileError` (its message starts with the file's path) when the file
    cannot be read, is not JSON, lacks a key, holds arrays of the wrong shape, was made for
    another joint set than ``expected_joint_set``, or, when ``expected_feature_spec`` is given,
    with features computed another way.
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TemplateFileError(target, f"cannot read: {reason}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateFileError(
            target, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    try:
        recognizer = _parse(document, expected_joint_set)
    except ValueError as exc:
        raise TemplateFileError(target, str(exc)) from exc
    if expected_feature_spec is not None and document["feature_spec"] != dict(
        expected_feature_spec
    ):
        raise TemplateFileError(
            target,
            f"features were computed as {document['feature_spec']!r}, "
            f"but this exhibit computes {dict(expected_feature_spec)!r}",
        )
    return recognizer
