"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorized over a numpy array.

A first-order low-pass whose cutoff rises with the (low-passed) speed of the signal: still
landmarks are smoothed hard (little jitter), fast ones lightly (little lag). Every element of the
array has its own speed and cutoff; the array shape is fixed by the first sample.

It follows the paper's Algorithm 1 exactly, with the smoothing factor computed from the actual
interval between calls, so frames may arrive at any rate::

    alpha(dt, fc) = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
    dx      = (x - x_hat_prev) / dt            # speed, from the previous *filtered* value
    dx_hat  = dx_hat_prev + alpha(dt, d_cutoff) (dx - dx_hat_prev)
    cutoff  = min_cutoff + beta |dx_hat|
    x_hat   = x_hat_prev + alpha(dt, cutoff) (x - x_hat_prev)

The first sample passes through unchanged (speed 0). A call whose time is not after the previous
call's (``dt <= 0``: a duplicate or a backwards timestamp) cannot give a speed: it returns the
previous output and leaves the state untouched, so it neither divides by zero nor moves the
filter. The caller decides whether a backwards clock means "start again" (``reset()``); the
skeleton filter does exactly that.

Example:
    >>> import numpy as np
    >>> f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0, d_cutoff_hz=1.0)
    >>> f(0.0, np.array([0.0, 1.0])).tolist()  # first sample passes through
    [0.0, 1.0]
    >>> out = f(0.1, np.array([1.0, 1.0]))      # a step in the first element is smoothed
    >>> bool(0.0 < out[0] < 1.0), float(out[1])
    (True, 1.0)
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TWO_PI = 2.0 * math.pi


def smoothing_factor(dt_s: float | FloatArray, cutoff_hz: float | FloatArray) -> FloatArray:
    """``alpha = 1 / (1 + tau/dt)`` with ``tau = 1/(2 pi cutoff)``, written so a zero cutoff
    gives 0 (hold) rather than a division by zero. Always in ``[0, 1)`` for ``dt > 0``."""
    r = np.multiply(TWO_PI * dt_s, cutoff_hz)
    return np.asarray(r / (r + 1.0), dtype=np.float64)


class OneEuroFilter:
    """Removes jitter from a still signal without adding lag to a fast one.

    Why: a fixed low-pass must trade jitter for lag; the One Euro filter makes the trade per
    sample and per element, from the signal's own speed. Parameters (see docs/filtering.md for
    tuning): ``min_cutoff_hz`` is the cutoff at rest (lower = smoother, more lag), ``beta`` is
    how much the cutoff rises per unit/s of speed (higher = less lag on fast moves; its unit is
    the inverse of the signal's unit, e.g. per normalized image unit), ``d_cutoff_hz`` smooths the
    speed estimate. Time is passed in with every sample (seconds, any monotonic clock).

    Example:
        >>> import numpy as np
        >>> f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.5, d_cutoff_hz=1.0)
        >>> still = np.full((33, 3), 0.5)
        >>> [float(f(t / 30, still)[0, 0]) for t in range(3)]  # a constant stays exact
        [0.5, 0.5, 0.5]
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> None:
        if not min_cutoff_hz > 0:
            raise ValueError(f"min_cutoff_hz must be > 0 (got {min_cutoff_hz})")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0 (got {beta})")
        if not d_cutoff_hz > 0:
            raise ValueError(f"d_cutoff_hz must be > 0 (got {d_cutoff_hz})")
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self._t_s: float | None = None
        self._x_hat: FloatArray | None = None
        self._dx_hat: FloatArray | None = None

    @property
    def started(self) -> bool:
        """True once a sample has been taken since construction or the last ``reset()``."""
        return self._x_hat is not None

    @property
    def last_t_s(self) -> float | None:
        """Time of the last sample that moved the filter, or None before the first."""
        return self._t_s

    def reset(self) -> None:
        """Forget everything: the next sample passes through as if it were the first."""
        self._t_s = None
        self._x_hat = None
        self._dx_hat = None

    def __call__(self, t_s: float, x: npt.ArrayLike) -> FloatArray:
        """Filter sample ``x`` taken at ``t_s`` seconds; returns a new array of ``x``'s shape."""
        xs = np.asarray(x, dtype=np.float64)
        prev = self._x_hat
        if prev is None or self._t_s is None or self._dx_hat is None:
            self._t_s = float(t_s)
            self._x_hat = xs.copy()
            self._dx_hat = np.zeros_like(self._x_hat)
            return xs.copy()
        if xs.shape != prev.shape:
            raise ValueError(
                f"sample shape {xs.shape} differs from the first sample's {prev.shape}"
            )
        dt_s = float(t_s) - self._t_s
        if not dt_s > 0.0:
            return prev.copy()

        delta = xs - prev
        dx_hat = self._dx_hat + smoothing_factor(dt_s, self.d_cutoff_hz) * (
            delta / dt_s - self._dx_hat
        )
        cutoff_hz = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        x_hat = prev + smoothing_factor(dt_s, cutoff_hz) * delta
        # Mathematically x_hat lies between prev and x (alpha is in [0, 1)); the clip only undoes
        # floating-point rounding, so the output can never overshoot or leave the inputs' range.
        np.clip(x_hat, np.minimum(prev, xs), np.maximum(prev, xs), out=x_hat)

        self._t_s = float(t_s)
        self._x_hat = x_hat
        self._dx_hat = dx_hat
        return x_hat.copy()
