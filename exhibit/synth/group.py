"""Several synthetic visitors in one camera view: recordings with more than one skeleton.

MediaPipe's legacy pose solution reports one body per frame; a multi-person estimator, a
recording made with one, and the tests of ``[show] visitors = "several"`` need frames with
several. :func:`render_group` renders one :class:`~exhibit.synth.script.Segment` per visitor
through the same camera, and lists each frame's bodies in an order that changes from frame to
frame (seeded), as a detector gives them, so nothing downstream may rely on the order.

Example:
    >>> from exhibit.synth.script import empty_motion, idle_motion, sequence
    >>> a = idle_motion(1.0, position_m=(-0.6, 2.5))
    >>> b = sequence(empty_motion(0.5), idle_motion(0.5, position_m=(0.6, 2.5)))
    >>> frames = render_group([a, b], fps=10.0)
    >>> [len(f.skeletons) for f in frames]
    [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exhibit.skeleton import Frame, Skeleton
from exhibit.synth.body import BodyShape, PinholeCamera, make_skeleton
from exhibit.synth.script import (
    MIN_IN_FRAME,
    Segment,
    empty_motion,
    idle_motion,
    sequence,
    walk_motion,
    wave_motion,
)


def render_group(
    segments: Sequence[Segment],
    *,
    fps: float = 30.0,
    shapes: Sequence[BodyShape] | None = None,
    camera: PinholeCamera | None = None,
    seed: int = 0,
    noise_px: float = 0.0,
    shuffle: bool = True,
) -> list[Frame]:
    """Frames of several visitors, one ``segment`` each (the longest sets the length).

    ``shapes`` gives each visitor a body (default: all ``BodyShape()``); ``noise_px`` is
    Gaussian landmark noise; with ``shuffle`` the bodies of a frame come in a seeded random
    order. A visitor whose segment has ended, or who is mostly out of the image, is not
    reported. Deterministic for a given seed; ``t_s = index / fps``.
    """
    bodies = list(shapes) if shapes is not None else [BodyShape()] * len(segments)
    if len(bodies) != len(segments):
        raise ValueError(f"{len(segments)} segments but {len(bodies)} shapes")
    camera = camera if camera is not None else PinholeCamera()
    rng = np.random.default_rng(seed)
    n = round(max((s.duration_s for s in segments), default=0.0) * fps)
    frames: list[Frame] = []
    for i in range(n):
        t_s = i / fps
        skeletons: list[Skeleton] = []
        for segment, shape in zip(segments, bodies, strict=True):
            state = segment.motion(t_s) if t_s < segment.duration_s else None
            if state is None:
                continue
            sk = make_skeleton(shape, state.pose, state.position_m, camera, rng, noise_px)
            lm = sk.landmarks
            inside = (lm[:, 0] >= 0) & (lm[:, 0] <= 1) & (lm[:, 1] >= 0) & (lm[:, 1] <= 1)
            if float(np.mean(inside)) >= MIN_IN_FRAME:
                skeletons.append(sk)
        if shuffle and len(skeletons) > 1:
            skeletons = [skeletons[k] for k in rng.permutation(len(skeletons))]
        frames.append(Frame(t_s, i, camera.width_px, camera.height_px, tuple(skeletons)))
    return frames


A_SPOT_M, B_SPOT_M = (-0.6, 2.5), (0.6, 2.5)


def two_visitors(fps: float = 30.0, seed: int = 0) -> list[Frame]:
    """Two scripted visitors, ~30 s, 640x480, for trying ``[show] visitors`` (``exhibit synth
    --two``) and for its tests.

    A walks in from the image's left to stand at x = -0.6 m, 2.5 m from the camera, waves with
    the right hand at ~4 s, stays, and walks out at ~16 s. B walks in from the right at ~5 s to
    stand at x = +0.6 m, waves with the *left* hand at ~10 s (while A is there), with the right
    hand at ~20 s (after A left), and walks out at ~26 s. Landmarks carry 0.5 px of noise; each
    frame lists the bodies in a shuffled order.
    """
    a = sequence(
        walk_motion((-2.8, 2.5), A_SPOT_M, end_yaw_rad=0.0),
        idle_motion(2.0, position_m=A_SPOT_M),
        wave_motion(2.5, side="right", position_m=A_SPOT_M),
        idle_motion(10.0, position_m=A_SPOT_M, phase_rad=1.0),
        walk_motion(A_SPOT_M, (-2.8, 2.5), start_yaw_rad=0.0),
    )
    b = sequence(
        empty_motion(5.0),
        walk_motion((2.8, 2.5), B_SPOT_M, end_yaw_rad=0.0),
        idle_motion(3.0, position_m=B_SPOT_M),
        wave_motion(2.5, side="left", position_m=B_SPOT_M),
        idle_motion(8.0, position_m=B_SPOT_M, phase_rad=2.0),
        wave_motion(2.5, side="right", position_m=B_SPOT_M),
        idle_motion(3.0, position_m=B_SPOT_M, phase_rad=0.5),
        walk_motion(B_SPOT_M, (2.8, 2.5), start_yaw_rad=0.0),
        empty_motion(2.0),
    )
    return render_group([a, b], fps=fps, seed=seed, noise_px=0.5)
