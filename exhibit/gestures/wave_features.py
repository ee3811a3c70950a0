"""Window features of one hand for the learned wave (:mod:`exhibit.gestures.wave_model`).

Each frame with a body gives, per hand, a :data:`SAMPLE_SIZE`-long sample (:func:`hand_sample`):
positions in body yardsticks (:class:`~exhibit.gestures.features.BodyFrame`'s ``size``), y up,
and x *mirrored* for the left hand so that one model serves both hands. The last ``WINDOW_S``
(1.2 s) of samples are resampled onto a fixed 10 Hz grid of ``GRID_N`` points (linear
interpolation on the frames' own times: the same features at 10, 30 or 60 fps) and summarised
by :func:`window_features`: levels (how high the hand is, how close to the face, how visible),
the motion's energy in the waving band (1.7-4.2 Hz, the DFT bins 2-5 of 12 points; Nyquist of
the 10 Hz grid is 5 Hz) and below it, amplitude, direction changes, the other hand, and the
trunk's own motion (walking) to discount.

Everything here is plain numpy over a 12 x 14 array: no clock, no I/O.

Example:
    >>> import numpy as np
    >>> t = np.arange(GRID_N) * GRID_DT_S
    >>> g = np.zeros((GRID_N, SAMPLE_SIZE)); g[:, DX] = 0.3 * np.sin(2 * np.pi * 2.5 * t)
    >>> f = window_features(g)
    >>> len(f) == len(FEATURE_NAMES), f[FEATURE_NAMES.index("band_dx")] > 0.15
    (True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from exhibit.gestures.features import (
    L_ELBOW,
    L_SHOULDER,
    L_WRIST,
    NOSE,
    R_ELBOW,
    R_SHOULDER,
    R_WRIST,
    BodyFrame,
)
from exhibit.skeleton import LANDMARK_INDEX

FloatArray = npt.NDArray[np.float64]

WINDOW_S = 1.2
GRID_DT_S = 0.1
GRID_N = 12
# rfft bins of GRID_N points at GRID_DT_S: bin k is k / 1.2 Hz.
BAND_BINS = slice(2, 6)  # 1.67-4.17 Hz: waving
LOW_BINS = slice(1, 2)  # 0.83 Hz: raising, lowering, swaying

L_INDEX = LANDMARK_INDEX["left_index"]
R_INDEX = LANDMARK_INDEX["right_index"]
L_PINKY = LANDMARK_INDEX["left_pinky"]
R_PINKY = LANDMARK_INDEX["right_pinky"]
L_EAR = LANDMARK_INDEX["left_ear"]
R_EAR = LANDMARK_INDEX["right_ear"]

# Sample columns.
DX, DY, HX, HY, ABOVE_NOSE, ABOVE_SHOULDER, FACE, HEAD, VIS = range(9)
OTHER_ABOVE_NOSE, OTHER_DY, BODY_X, BODY_Y, XREL = range(9, 14)
SAMPLE_SIZE = 14
HEAD_CENTRE_ABOVE_NOSE = 0.15

# (wrist, elbow, index, pinky, shoulder, other wrist, other elbow, mirror)
_HANDS = {
    "left": (L_WRIST, L_ELBOW, L_INDEX, L_PINKY, L_SHOULDER, R_WRIST, R_ELBOW, -1.0),
    "right": (R_WRIST, R_ELBOW, R_INDEX, R_PINKY, R_SHOULDER, L_WRIST, L_ELBOW, 1.0),
}

_BAND_SIGNALS = (("dx", DX), ("dy", DY), ("hx", HX), ("hy", HY), ("xrel", XREL))
_LEVELS = [DY, ABOVE_NOSE, ABOVE_SHOULDER, OTHER_ABOVE_NOSE, OTHER_DY, XREL]
FEATURE_NAMES: tuple[str, ...] = (
    "dy",
    "above_nose",
    "above_shoulder",
    "other_above_nose",
    "other_dy",
    "xrel",
    "vis",
    "face_min",
    "face_mean",
    "head_min",
    *(f"band_{n}" for n, _ in _BAND_SIGNALS),
    *(f"low_{n}" for n, _ in _BAND_SIGNALS),
    "range_dx",
    "range_dy",
    "turns_dx",
    "turns_dy",
    "turns_hx",
    "band_ratio",
    "body_speed",
    "body_band",
)


def hand_sample(body: BodyFrame, side: str) -> list[float]:
    """One frame's sample of the ``side`` hand ("left"/"right"), see the module docstring."""
    wi, ei, ii, pi, si, owi, oei, m = _HANDS[side]
    rows = body.rows
    s = body.size
    w, e, i, p = rows[wi], rows[ei], rows[ii], rows[pi]
    nose = rows[NOSE]
    hx = 0.5 * (i[0] + p[0]) - w[0]
    hy = w[1] - 0.5 * (i[1] + p[1])
    norm = math.hypot(hx, hy)
    if norm > 0.0:
        hx, hy = hx / norm, hy / norm
    face = min(
        math.hypot(a[0] - b[0], a[1] - b[1])
        for a in (w, i, p)
        for b in (nose, rows[L_EAR], rows[R_EAR])
    )
    head = math.hypot(w[0] - nose[0], w[1] - nose[1] + HEAD_CENTRE_ABOVE_NOSE * s)
    ow, oe = rows[owi], rows[oei]
    return [
        m * (w[0] - e[0]) / s,
        (e[1] - w[1]) / s,
        m * hx,
        hy,
        (nose[1] - w[1]) / s,
        (rows[si][1] - w[1]) / s,
        face / s,
        head / s,
        min(w[3], e[3]),
        (nose[1] - ow[1]) / s,
        (oe[1] - ow[1]) / s,
        body.cx / s,
        body.cy / s,
        m * (w[0] - body.cx) / s,
    ]


def resample(
    times_s: Sequence[float], samples: Sequence[Sequence[float]], end_s: float
) -> FloatArray | None:
    """The samples of the last ``WINDOW_S`` before ``end_s`` on the ``GRID_N``-point grid, or
    None when they cover less than two thirds of the window."""
    t = np.asarray(times_s, dtype=np.float64)
    start = end_s - (GRID_N - 1) * GRID_DT_S
    if t.size < 2 or t[-1] - max(t[0], start - GRID_DT_S) < (2.0 / 3.0) * WINDOW_S:
        return None
    grid = start + np.arange(GRID_N) * GRID_DT_S
    x = np.asarray(samples, dtype=np.float64)
    # Linear interpolation of every column at once (np.interp's rule: clamp at both ends).
    hi = np.clip(np.searchsorted(t, grid), 1, t.size - 1)
    lo = hi - 1
    span = t[hi] - t[lo]
    w = np.clip((grid - t[lo]) / np.where(span > 0.0, span, 1.0), 0.0, 1.0)[:, None]
    out: FloatArray = x[lo] * (1.0 - w) + x[hi] * w
    return out


def _turns(u: FloatArray) -> float:
    d = np.diff(u)
    d = d[np.abs(d) > 0.02]
    return float(np.count_nonzero(np.signbit(d[1:]) != np.signbit(d[:-1])))


def window_features(g: FloatArray) -> FloatArray:
    """The :data:`FEATURE_NAMES` of one resampled window ``g`` (``GRID_N`` x ``SAMPLE_SIZE``)."""
    centred = g - g.mean(axis=0)
    spec = np.abs(np.fft.rfft(centred, axis=0)) * (2.0 / GRID_N)
    band = np.sqrt((spec[BAND_BINS] ** 2).sum(axis=0))
    low = np.sqrt((spec[LOW_BINS] ** 2).sum(axis=0))
    idx = [k for _, k in _BAND_SIGNALS]
    body_v = np.hypot(np.diff(g[:, BODY_X]), np.diff(g[:, BODY_Y])) / GRID_DT_S
    band_sum = band[DX] + band[DY] + 0.3 * (band[HX] + band[HY])
    low_sum = low[DX] + low[DY] + 0.3 * (low[HX] + low[HY])
    levels = np.median(g[:, _LEVELS], axis=0)
    feats = [
        *(float(v) for v in levels),
        float(g[:, VIS].mean()),
        float(g[:, FACE].min()),
        float(g[:, FACE].mean()),
        float(g[:, HEAD].min()),
        *(float(v) for v in band[idx]),
        *(float(v) for v in low[idx]),
        float(np.ptp(g[:, DX])),
        float(np.ptp(g[:, DY])),
        _turns(g[:, DX]),
        _turns(g[:, DY]),
        _turns(g[:, HX]),
        float(band_sum / (band_sum + low_sum + 0.05)),
        float(np.median(body_v)),
        float(band[BODY_X] + band[BODY_Y]),
    ]
    return np.asarray(feats, dtype=np.float64)
