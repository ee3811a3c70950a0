"""The parametric body: synthetic visitors for tests, tuning and the demo, with no real person.

``body`` holds the articulated model and the camera projection; ``script`` the motions over
time, :func:`~exhibit.synth.script.render` and the demo's :func:`scripted_visitor`.
"""

from __future__ import annotations

from exhibit.synth.body import (
    ArmPose,
    BodyShape,
    PinholeCamera,
    Pose,
    make_skeleton,
    project,
    world_landmarks,
)
from exhibit.synth.script import (
    BodyState,
    Segment,
    empty_motion,
    hands_up_motion,
    idle_motion,
    render,
    scripted_visitor,
    sequence,
    walk_motion,
    wave_motion,
)

__all__ = [
    "ArmPose",
    "BodyShape",
    "BodyState",
    "PinholeCamera",
    "Pose",
    "Segment",
    "empty_motion",
    "hands_up_motion",
    "idle_motion",
    "make_skeleton",
    "project",
    "render",
    "scripted_visitor",
    "sequence",
    "walk_motion",
    "wave_motion",
    "world_landmarks",
]
