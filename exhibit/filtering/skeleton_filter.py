"""One Euro smoothing of a whole skeleton, frame by frame, on frame time.

The image landmarks' x, y, z (normalized image units) and the world landmarks (metres) each go
through their own vectorized :class:`~exhibit.filtering.one_euro.OneEuroFilter` over the (33, 3)
array; visibility passes through unfiltered, so a landmark's confidence is never delayed.

The filter starts again (the next skeleton passes through unchanged) when tracking is lost
(``None``), when frames stop for longer than ``reset_after_s``, or when the clock goes backwards
(a recording that loops, a source that restarted). A frame stamped with the same time as the
previous one returns the previous smoothed coordinates with the new visibility.

Example:
    >>> import numpy as np
    >>> from exhibit.config.schema import FilterConfig
    >>> from exhibit.skeleton import Skeleton
    >>> f = SkeletonFilter(FilterConfig())
    >>> first = f.update(0.0, Skeleton(np.full((33, 4), 0.5)))
    >>> float(first.landmarks[0, 0])
    0.5
    >>> moved = f.update(1 / 30, Skeleton(np.full((33, 4), 0.6)))
    >>> bool(0.5 < moved.landmarks[0, 0] < 0.6), float(moved.landmarks[0, 3])
    (True, 0.6)
"""

from __future__ import annotations

import numpy as np

from exhibit.config.schema import FilterConfig
from exhibit.filtering.one_euro import OneEuroFilter
from exhibit.skeleton import Skeleton


class SkeletonFilter:
    """Steadies the landmarks that gestures and the joint stream read, without lagging a wave.

    Why: MediaPipe's landmarks jitter by a few pixels even on a still body, which would make
    thresholds chatter and streamed joints shake; the One Euro filter removes that jitter at rest
    and gets out of the way when the body moves fast. Cheap: a handful of numpy operations on two
    (33, 3) arrays per frame, no loop over landmarks, no wall clock.

    Example:
        >>> import numpy as np
        >>> from exhibit.config.schema import FilterConfig
        >>> from exhibit.skeleton import Skeleton
        >>> f = SkeletonFilter(FilterConfig())
        >>> s = Skeleton(np.full((33, 4), 0.5), np.zeros((33, 3)))
        >>> f.update(0.0, s).world_m.shape
        (33, 3)
        >>> f.update(0.1, None) is None  # tracking lost: the filter starts again
        True
    """

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._image = OneEuroFilter(config.min_cutoff_hz, config.beta, config.d_cutoff_hz)
        self._world = OneEuroFilter(config.min_cutoff_hz, config.beta, config.d_cutoff_hz)
        self._last_t_s: float | None = None

    def reset(self) -> None:
        """Forget the past: the next skeleton passes through unchanged."""
        self._image.reset()
        self._world.reset()
        self._last_t_s = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> Skeleton | None:
        """Smooth ``skeleton`` seen at frame time ``t_s``; ``None`` (nobody) resets and returns
        ``None``. With ``enabled = false`` the input is returned as it is."""
        if not self.config.enabled:
            return skeleton
        if skeleton is None:
            self.reset()
            return None
        last = self._last_t_s
        if last is not None and (t_s - last > self.config.reset_after_s or t_s < last):
            self.reset()
        self._last_t_s = t_s

        landmarks = skeleton.landmarks
        out = np.empty_like(landmarks)
        out[:, :3] = self._image(t_s, landmarks[:, :3])
        out[:, 3] = landmarks[:, 3]

        world = skeleton.world_m
        if world is None:
            self._world.reset()
            world_out = None
        else:
            world_out = self._world(t_s, world)
        return Skeleton(out, world_out)
