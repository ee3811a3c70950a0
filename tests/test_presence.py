"""Presence: who counts, enter/leave hysteresis on frame time, ids, and the primary body."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.schema import PresenceConfig
from exhibit.presence import PresenceChange, PresenceTracker, PresenceUpdate
from exhibit.skeleton import LANDMARK_INDEX, NUM_LANDMARKS, Skeleton

CFG = PresenceConfig(enter_after_s=0.5, leave_after_s=2.0, min_visibility=0.5)
FPS = 10  # frame i at t = i / 10, so the times in the assertions are exact


def body(
    x: float = 0.5,
    y: float = 0.6,
    *,
    vis: float = 0.9,
    hips_vis: float | None = None,
    hips_y: float | None = None,
    width: float = 0.12,
) -> Skeleton:
    """Torso with the hip centre at (x, y) (or ``hips_y``) and shoulders 0.25 above it.

    Other landmarks sit at the hip centre with visibility 0, as MediaPipe reports unseen points.
    """
    lm = np.zeros((NUM_LANDMARKS, 4))
    lm[:, 0], lm[:, 1] = x, y
    hy = y if hips_y is None else hips_y
    hv = vis if hips_vis is None else hips_vis
    for name, px, py, v in (
        ("left_shoulder", x + width / 2, y - 0.25, vis),
        ("right_shoulder", x - width / 2, y - 0.25, vis),
        ("left_hip", x + width / 3, hy, hv),
        ("right_hip", x - width / 3, hy, hv),
    ):
        lm[LANDMARK_INDEX[name]] = (px, py, 0.0, v)
    return Skeleton(lm, None)


def feed(
    tracker: PresenceTracker, frames: Iterable[tuple[float, list[Skeleton]]]
) -> list[PresenceUpdate]:
    return [tracker.update(t, bodies) for t, bodies in frames]


def frames(start: int, stop: int, bodies: list[Skeleton]) -> list[tuple[float, list[Skeleton]]]:
    return [(i / FPS, bodies) for i in range(start, stop)]


def changes(updates: Iterable[PresenceUpdate]) -> list[PresenceChange]:
    return [c for u in updates for c in u.changes]


def test_enter_fires_after_enter_after_s_and_not_before() -> None:
    p = PresenceTracker(CFG)
    before = feed(p, frames(0, 5, [body()]))  # t = 0.0 .. 0.4
    assert changes(before) == []
    assert all(u.visitor is None and u.primary is None for u in before)
    u = p.update(0.5, [body()])
    assert u.changes == (PresenceChange("enter", 1, 0.5),)
    assert u.visitor == 1 and u.primary is not None


def test_enter_time_is_the_frame_at_which_it_fires() -> None:
    p = PresenceTracker(CFG)
    ups = feed(p, [(10.0, [body()]), (10.3, [body()]), (10.7, [body()])])
    assert changes(ups) == [PresenceChange("enter", 1, 10.7)]


def test_short_flicker_does_not_enter() -> None:
    p = PresenceTracker(CFG)
    ups = feed(p, frames(0, 4, [body()]) + frames(4, 5, []) + frames(5, 9, [body()]))
    assert changes(ups) == []
    ups = feed(p, frames(9, 30, []))
    assert changes(ups) == []


def test_dropout_shorter_than_leave_after_s_keeps_the_visit() -> None:
    p = PresenceTracker(CFG)
    feed(p, frames(0, 6, [body()]))
    dropout = feed(p, frames(6, 25, []))  # 1.9 s without anyone
    assert changes(dropout) == []
    assert all(u.visitor == 1 and u.primary is None for u in dropout)
    back = p.update(2.5, [body()])
    assert back.changes == () and back.visitor == 1 and back.primary is not None


def test_leave_fires_after_leave_after_s() -> None:
    p = PresenceTracker(CFG)
    feed(p, frames(0, 10, [body()]))  # last seen at 0.9
    gone = feed(p, frames(10, 29, []))  # up to 2.8: 1.9 s gone
    assert changes(gone) == []
    u = p.update(2.9, [])
    assert u.changes == (PresenceChange("leave", 1, 2.9),)
    assert u.visitor is None and u.primary is None


def test_outside_the_area_does_not_count() -> None:
    cfg = PresenceConfig(area=(0.25, 0.0, 0.75, 1.0), enter_after_s=0.0)
    p = PresenceTracker(cfg)
    assert changes(feed(p, frames(0, 10, [body(x=0.9)]))) == []
    assert not p.counts(body(x=0.9))
    assert p.counts(body(x=0.5))
    assert p.update(1.0, [body(x=0.5)]).visitor == 1


def test_low_visibility_does_not_count() -> None:
    p = PresenceTracker(CFG)
    assert changes(feed(p, frames(0, 20, [body(vis=0.3)]))) == []
    assert not p.counts(body(vis=0.3))
    assert not p.counts(body(vis=0.4))
    # Hips seen but shoulders barely: the torso mean (0.45) is too low.
    assert not p.counts(body(vis=0.3, hips_vis=0.6))


def test_hips_off_frame_falls_back_to_the_shoulders() -> None:
    p = PresenceTracker(PresenceConfig(area=(0.0, 0.0, 1.0, 0.9)))
    # A visitor close to the camera: hips below the frame (y 1.1), shoulders at y 0.85.
    assert p.counts(body(y=1.1, hips_vis=0.05))
    # Hips below the frame even if MediaPipe still gives them some visibility.
    assert p.counts(body(y=1.1, hips_vis=0.6))
    # Shoulders poorly seen too: nothing to go on.
    assert not p.counts(body(y=1.1, vis=0.3, hips_vis=0.05))


def test_visible_hips_are_the_anchor() -> None:
    p = PresenceTracker(PresenceConfig(area=(0.0, 0.0, 1.0, 0.5)))
    # Shoulders (y = 0.45) inside the area, hips (y = 0.7) visible and outside it.
    assert not p.counts(body(y=0.7))
    assert p.counts(body(y=0.45))


def test_primary_is_the_widest_counting_body() -> None:
    cfg = PresenceConfig(area=(0.0, 0.0, 0.6, 1.0), enter_after_s=0.0)
    p = PresenceTracker(cfg)
    near = body(x=0.3, width=0.2)
    far = body(x=0.5, width=0.1)
    outside_nearer = body(x=0.9, width=0.4)
    dim_nearer = body(x=0.2, width=0.3, vis=0.2)
    u = p.update(0.0, [far, outside_nearer, near, dim_nearer])
    assert u.primary is near


def test_ids_count_up_and_reset_forgets_the_visit() -> None:
    p = PresenceTracker(CFG)
    ups = feed(p, frames(0, 10, [body()]) + frames(10, 40, []) + frames(40, 50, [body()]))
    assert changes(ups) == [
        PresenceChange("enter", 1, 0.5),
        PresenceChange("leave", 1, 2.9),
        PresenceChange("enter", 2, 4.5),
    ]
    p.reset()
    assert p.visitor is None
    assert p.update(5.0, []).changes == ()
    ups = feed(p, frames(50, 60, [body()]))
    assert changes(ups) == [PresenceChange("enter", 3, 5.5)]


def test_zero_delays_react_on_the_same_frame() -> None:
    p = PresenceTracker(PresenceConfig(enter_after_s=0.0, leave_after_s=0.0))
    assert p.update(0.0, [body()]).changes == (PresenceChange("enter", 1, 0.0),)
    assert p.update(0.1, []).changes == (PresenceChange("leave", 1, 0.1),)


def test_backwards_clock_restarts_the_timers() -> None:
    p = PresenceTracker(CFG)
    feed(p, frames(0, 10, [body()]))
    # The source restarted at 0: the visit goes on, and leave is timed on the new clock.
    assert p.update(0.0, []).visitor == 1
    assert p.update(1.9, []).changes == ()
    assert p.update(2.0, []).changes == (PresenceChange("leave", 1, 2.0),)


@settings(max_examples=80, deadline=None)
@given(
    enter_after_s=st.floats(0.0, 1.0),
    leave_after_s=st.floats(0.0, 3.0),
    steps=st.lists(
        st.tuples(
            st.floats(0.0, 0.5),  # dt (0: duplicate frame time)
            st.sampled_from(["none", "in", "out", "dim", "two"]),
        ),
        max_size=120,
    ),
)
def test_enters_and_leaves_alternate(
    enter_after_s: float, leave_after_s: float, steps: list[tuple[float, str]]
) -> None:
    cfg = PresenceConfig(
        area=(0.0, 0.0, 0.6, 1.0), enter_after_s=enter_after_s, leave_after_s=leave_after_s
    )
    scenes = {
        "none": [],
        "in": [body(x=0.3)],
        "out": [body(x=0.9)],
        "dim": [body(x=0.3, vis=0.1)],
        "two": [body(x=0.9, width=0.3), body(x=0.3)],
    }
    p = PresenceTracker(cfg)
    t = 0.0
    present: int | None = None
    last_id = 0
    for dt, scene in steps:
        t += dt
        u = p.update(t, scenes[scene])
        assert len(u.changes) <= 1
        for c in u.changes:
            assert c.t_s == t
            if c.kind == "enter":
                assert present is None
                assert c.visitor == last_id + 1
                present = last_id = c.visitor
            else:
                assert present is not None and c.visitor == present
                present = None
        assert u.visitor == present
        if u.primary is not None:
            assert u.visitor is not None and p.counts(u.primary)
        if scene in ("in", "two") and present is not None:
            assert u.primary is scenes[scene][-1]
